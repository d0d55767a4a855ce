#!/usr/bin/python3
"""Runs the help patches headless and plays every example in them.

usage: tests/pd/help.py [--pd CMD] [--installed] ROOT OUTDIR [onyx~-help.pd] [onyx-help.pd]
       (exit status 1 if a check fails)

ROOT/help/ holds the help patches and ROOT the externals and models/ they find
with their [declare -path ..]. With --installed ROOT is an installed onyx/
folder (make install, or a deken package unzipped): the help patches, the
externals and models/ side by side, and ROOT is the only folder on Pd's path
(-nostdpath -path ROOT), as in a Pd where onyx was installed. --pd gives
the Pd command, split at spaces (default `pd`; tests/pd/arm.sh passes
Debian's ARM Pd under qemu). With ONYX_PD_EMULATED set (arm.sh does) the
threaded [onyx~] may not keep up with real time (overruns play silence), so
the overdrive's level on the steady tone is checked at its peak, not at its
lowest.

For each help patch a wrapper patch opens it with `pd open`, then adds, by
dynamic patching, [r onyxtest-N] objects wired to the boxes a user would
click (message boxes, toggles, sliders, radios, bangs) and taps ([print],
[env~] -> [print]) on the outlets to check. The help patches themselves stay
as they are: the boxes are found here by their text, in the subpatch of
their example ([pd overdrive], [pd sound-classifier], [pd presets],
[pd gesture], [pd flags]; the wrapper reaches them as pd-NAME). The wrapper turns DSP
on, "clicks" through a timed script (load, every message, the sources, the
sliders, a few seconds of running) and quits. The test fails on any error
line in Pd's stderr, and when the examples do not do what they show (the
classifier names its test sources, the overdrive and the synth make sound,
the presets MLP gives its corner presets, the gesture walks). The
voice-activity example ([pd voice-activity]) needs the Silero VAD, which
the user fetches: with ONYX_VAD_DIR set to a folder holding
silero_vad_v5.onnx that folder joins Pd's path and the example must load it
and give a speech probability every 32 ms: low while -nosound's microphone
is silent, and high while a sentence spoken by espeak-ng (when installed)
plays from a [readsf~] added beside the microphone; without it the example
must say, without an error, where to get it.
"""
import math
import os
import re
import shutil
import subprocess
import sys
import wave

ERROR_RE = re.compile(r"^error|couldn't create|\.\.\. couldn't|connection failed|bad arguments|"
                      r"no method|^expr|stack overflow|not found|DSP loop|fail", re.I)


# ------------------------------------------------------------ the patch file

class Canvas:
    def __init__(self, name):
        self.name, self.boxes, self.conns = name, [], []


def unescape(s):
    return s.replace("\\$", "$").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")


def parse(path):
    """Canvases by name ('top', or the subpatch name): boxes as (kind, text)."""
    text = open(path).read()
    records = re.split(r"(?<!\\);\s*\n", text)
    canvases, stack = {}, []
    for rec in records:
        rec = " ".join(rec.split())
        if not rec:
            continue
        if rec.startswith("#N canvas"):
            parts = rec.split()
            name = "top" if not stack else parts[6] if len(parts) > 7 else "(subpatch)"
            c = Canvas(name)
            stack.append(c)
            canvases.setdefault(name, c)
            continue
        if not rec.startswith("#X "):
            continue
        parts = rec.split(" ", 4)
        kind = parts[1]
        if kind == "restore":
            stack.pop()
            stack[-1].boxes.append(("obj", parts[4] if len(parts) > 4 else ""))
        elif kind in ("obj", "msg", "text", "floatatom", "symbolatom", "listbox"):
            body = parts[4] if len(parts) > 4 else ""
            body = re.sub(r"(?<!\\), f \d+$", "", body)
            stack[-1].boxes.append((kind, unescape(body)))
        elif kind == "connect":
            a, ao, b, bi = map(int, rec.split()[2:6])
            stack[-1].conns.append((a, ao, b, bi))
    return canvases


class Finder:
    def __init__(self, path):
        self.canvases = parse(path)

    def find(self, text, kind="msg", canvas="top", to=None, label=None, text_prefix=None):
        """Index of the box with this text (or GUI of this kind and label);
        with `to`, the one connected (directly or through a [t a]) to a box
        whose text contains `to`."""
        c = self.canvases[canvas]
        hits = []
        for i, (k, t) in enumerate(c.boxes):
            if label is not None:
                f = t.split()
                if kind == "floatatom":
                    if k == "floatatom" and len(f) > 4 and f[4] == label:
                        hits.append(i)
                    continue
                pos = {"hsl": 9, "tgl": 5, "bng": 7}[kind]
                if k == "obj" and f and f[0] == kind and len(f) > pos and f[pos] == label:
                    hits.append(i)
            elif kind == "hradio":
                if k == "obj" and t.split()[0] == "hradio":
                    hits.append(i)
            elif k == kind and (t == text if text_prefix is None else t.startswith(text_prefix)):
                hits.append(i)
        if to is not None:
            def targets(i):
                out = [b for a, _, b, _ in c.conns if a == i]
                for b in list(out):
                    if c.boxes[b][1] == "t a":
                        out += [d for a, _, d, _ in c.conns if a == b]
                return out
            hits = [i for i in hits if any(to in c.boxes[b][1] for b in targets(i))]
        if len(hits) != 1:
            raise SystemExit("help.py: %s %r (label %r, to %r) in %s: %d matches" %
                             (kind, text, label, to, canvas, len(hits)))
        return hits[0]

    def count(self, canvas):
        return len(self.canvases[canvas].boxes)


# ------------------------------------------------------------ the wrapper

class Wrapper:
    def __init__(self, help_name, help_dir, finder):
        self.name, self.dir, self.f = help_name, help_dir, finder
        self.added = {}          # canvas -> objects added so far
        self.setup, self.events, self.n = [], [], 0

    def _canvas_sym(self, canvas):
        return "pd-" + self.name if canvas == "top" else "pd-" + canvas

    def _add(self, canvas, text):
        idx = self.f.count(canvas) + self.added.get(canvas, 0)
        self.added[canvas] = self.added.get(canvas, 0) + 1
        self.setup.append("%s obj 0 0 %s" % (self._canvas_sym(canvas), text))
        return idx

    def _connect(self, canvas, a, ao, b, bi):
        self.setup.append("%s connect %d %d %d %d" % (self._canvas_sym(canvas), a, ao, b, bi))

    def hook(self, idx, canvas="top"):
        """A receive name that 'clicks' box idx."""
        self.n += 1
        name = "onyxtest-%d" % self.n
        r = self._add(canvas, "r " + name)
        self._connect(canvas, r, 0, idx, 0)
        return name

    def tap(self, idx, outlet, label, canvas="top", signal=False):
        src = idx
        if signal:
            src = self._add(canvas, "env~ 4096")
            self._connect(canvas, idx, outlet, src, 0)
            outlet = 0
        p = self._add(canvas, "print " + label)
        self._connect(canvas, src, outlet, p, 0)

    def at(self, ms, recv, msg="bang"):
        self.events.append((ms, "%s %s" % (recv, msg)))

    def mark(self, ms, label):
        self.events.append((ms, "onyxtest-mark %s" % label))

    def write(self, path, end_ms):
        lines = ["#N canvas 0 0 400 300 12;", "#X obj 10 10 loadbang;", "#X obj 200 10 r onyxtest-mark;",
                 "#X obj 200 40 print mark;"]
        setup = "\\; pd open %s %s \\; " % (self.name, self.dir) + " \\; ".join(self.setup)
        lines.append("#X msg 10 40 %s;" % setup)
        conns = ["#X connect 0 0 3 0;", "#X connect 1 0 2 0;"]
        n = 4
        events = self.events + [(end_ms, "pd dsp 0"), (end_ms + 50, "pd quit")]
        for ms, m in events:
            lines.append("#X obj 10 %d delay %d;" % (70 + n, ms))
            lines.append("#X msg 10 %d \\; %s;" % (100 + n, m.replace("$", "\\$").replace(";", "\\;")))
            conns += ["#X connect 0 0 %d 0;" % n, "#X connect %d 0 %d 0;" % (n, n + 1)]
            n += 2
        with open(path, "w") as f:
            f.write("\n".join(lines + conns) + "\n")


PD_CMD = ["pd"]
PD_PATH = []  # --installed: ["-nostdpath", "-path", ROOT]
EMULATED = bool(os.environ.get("ONYX_PD_EMULATED"))


def help_dir(root):
    return root if PD_PATH else os.path.join(root, "help")


def run_pd(wrapper_path, log_path):
    vad = ["-path", os.environ["ONYX_VAD_DIR"]] if os.environ.get("ONYX_VAD_DIR") else []
    cmd = ["timeout", "120"] + PD_CMD + PD_PATH + vad + ["-noprefs", "-nosound", "-nogui", "-sleepgrain", "1",
                                                   "-stderr", "-open", wrapper_path]
    # no -path in the repository: the help patches' [declare -path ..] must
    # find the objects
    with open(log_path, "w") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd="/").returncode
    return rc, open(log_path).read().splitlines()


def values(log, label):
    out = []
    for line in log:
        if line.startswith(label + ": "):
            try:
                out.append([float(v) for v in line[len(label) + 2:].split()])
            except ValueError:
                out.append(line[len(label) + 2:].split())
    return out


def phases(log, label, prefix=""):
    """Lines with this label, grouped by the last 'mark: NAME' before them;
    with a prefix only marks whose names start with it count, without one
    only the others (the voice-activity example has a time line of its own)."""
    cur, out = None, {}
    for line in log:
        if line.startswith("mark: "):
            name = line[6:].strip()
            if (not name.startswith(prefix)) if prefix else name.startswith("vad-"):
                continue
            cur = name
            out.setdefault(cur, [])
        elif line.startswith(label + ": ") and cur is not None:
            out[cur].append(line[len(label) + 2:].split())
    return out


class Result:
    def __init__(self, name):
        self.name, self.bad = name, []

    def check(self, ok, what):
        print("   %s %s" % ("ok  " if ok else "BAD ", what))
        if not ok:
            self.bad.append(what)


# ------------------------------------------------------------ onyx~-help.pd

def test_tilde(root, out):
    name = "onyx~-help.pd"
    f = Finder(os.path.join(help_dir(root), name))
    w = Wrapper(name, help_dir(root), f)
    OD, CL = "overdrive", "sound-classifier"  # the examples' subpatches
    od = f.find("onyx~ models/trained/overdrive.onnx", "obj", canvas=OD)
    cls = f.find("onyx~ models/trained/sound_classes.onnx", "obj", canvas=CL)
    w.tap(od, 0, "tap-od", canvas=OD, signal=True)
    w.tap(od, 1, "tap-od-info", canvas=OD)
    w.tap(cls, 0, "tap-cls", canvas=CL)
    w.tap(f.find(None, "obj", canvas=CL, to="sel 0 1 2 3", text_prefix="expr if("), 0, "tap-argmax", canvas=CL)
    src = w.hook(f.find(None, "hradio", canvas=OD, to="t f f"), canvas=OD)
    csrc = w.hook(f.find(None, "hradio", canvas=CL, to="expr $f1==0"), canvas=CL)
    vol = w.hook(f.find(None, "hsl", canvas=OD, label="volume"), canvas=OD)
    lvl = w.hook(f.find(None, "hsl", canvas=OD, label="level"), canvas=OD)
    hz = w.hook(f.find(None, "floatatom", canvas=OD, label="Hz", to="osc~ 220"), canvas=OD)
    msgs = {m: w.hook(f.find(m, canvas=OD, to="onyx~ models/trained/overdrive.onnx"), canvas=OD)
            for m in ["load models/trained/overdrive.onnx", "reset", "info", "stats", "print", "profile",
                      "profile 0", "threads 2"]}
    cinfo = w.hook(f.find("info", canvas=CL, to="sound_classes"), canvas=CL)
    cstats = w.hook(f.find("stats", canvas=CL, to="sound_classes"), canvas=CL)
    ptgl = w.hook(f.find(None, "tgl", canvas=CL, label="print_probs"), canvas=CL)
    flags = []
    fl = f.canvases["flags"]
    for i, (k, t) in enumerate(fl.boxes):
        if k == "msg" and t == "info":
            flags.append(w.hook(i, canvas="flags"))

    w.at(100, "pd", "dsp 1")
    w.at(120, vol, "0.3")
    w.at(130, lvl, "0.8")
    w.at(140, hz, "330")
    w.mark(150, "tone")
    w.mark(1000, "tone-end")
    w.at(1010, src, "1")
    w.mark(1100, "noise")
    w.mark(1900, "noise-end")
    w.at(1910, src, "0")
    for k, m in enumerate(["info", "stats", "print", "profile", "reset", "threads 2"]):
        w.at(2000 + 40 * k, msgs[m])
    w.at(2400, msgs["profile"])
    w.at(2450, msgs["profile 0"])
    tg = w.hook(f.find(None, "tgl", canvas=OD, label="empty", to="enable $1"), canvas=OD)
    w.at(2500, tg, "0")
    w.at(2600, tg, "1")
    w.at(2700, msgs["load models/trained/overdrive.onnx"])
    # classifier: each source for 500 ms
    for k, s in enumerate(["sine", "square", "saw", "noise"]):
        w.at(3000 + 600 * k, csrc, str(k))
        w.mark(3300 + 600 * k, "cls-" + s)
    w.mark(5400, "cls-end")
    w.at(5450, ptgl, "1")
    w.at(5550, ptgl, "0")
    w.at(5600, cinfo)
    w.at(5650, cstats)
    for k, h in enumerate(flags):
        w.at(5700 + 20 * k, h)
    w.at(5900, msgs["stats"])
    wp = os.path.join(out, "help_tilde.pd")
    w.write(wp, 6000)
    rc, log = run_pd(wp, os.path.join(out, "help_tilde.log"))

    r = Result(name)
    errs = [l for l in log if ERROR_RE.search(l)]
    r.check(not errs, "no error in the console%s" % ("" if not errs else ": " + " | ".join(errs[:5])))
    r.check(rc == 0, "pd exited with 0 (got %d)" % rc)
    env = phases(log, "tap-od")
    tone = [float(v[0]) for v in env.get("tone", [])][5:]
    noise = [float(v[0]) for v in env.get("noise", [])]
    if EMULATED:  # late blocks play silence (overruns): the level is not steady
        r.check(tone and max(tone) > 70, "overdrive on the tone: peak %s dB" % (max(tone) if tone else None))
    else:
        r.check(tone and min(tone) > 70, "overdrive on the tone: level %s dB" % (min(tone) if tone else None))
    r.check(noise and max(noise) > 70, "overdrive on noise bursts: peak %s dB" % (max(noise) if noise else None))
    got = phases(log, "tap-cls")
    for k, s in enumerate(["sine", "square", "saw", "noise"]):
        p = [list(map(float, v[1:])) for v in got.get("cls-" + s, []) if v and v[0] == "probs"]
        last = p[0] if p else None  # the first block after the mark (300 ms after the switch)
        r.check(last is not None and len(last) == 4 and last.index(max(last)) == k,
                "classifier on the %s: probs %s" % (s, last))
    r.check(any(l.startswith("probs: ") for l in log), "the print_probs toggle prints probs")
    am = phases(log, "tap-argmax")
    seen = [(am.get("cls-" + s) or [["?"]])[0][0] for s in ["sine", "square", "saw", "noise"]]
    r.check(seen == ["0", "1", "2", "3"], "the most likely class shown: %s" % seen)
    info = {v[0]: v[1:] for v in values(log, "tap-od-info") if isinstance(v, list) and v and isinstance(v[0], str)}
    r.check(info.get("model", [""])[0].endswith("overdrive.onnx") and info.get("latency") == ["128"],
            "overdrive info: model %s, latency %s" % (info.get("model"), info.get("latency")))
    r.check(str(info.get("loaded", [""])[0]).endswith("overdrive.onnx"),
            "the load message: the right outlet says loaded %s" % info.get("loaded"))
    st = {v[0]: v[1:] for v in values(log, "tap-od-info") if v and isinstance(v[0], str)}
    r.check(st.get("inferences") and float(st["inferences"][0]) > 100,
            "overdrive stats: inferences %s overruns %s" % (st.get("inferences"), st.get("overruns")))
    lat = {k: dict((v[0], v[1:]) for v in values(log, "flags-%d" % k) if v and isinstance(v[0], str))
           for k in range(1, 6)}
    r.check(lat[1].get("latency") == ["0"] and lat[2].get("latency") == ["512"] and
            all(lat[k].get("model") for k in range(1, 6)),
            "flags: -sync latency %s, -block 256 latency %s, every flag object has a model" %
            (lat[1].get("latency"), lat[2].get("latency")))
    r.check(any("profile over" in l for l in log), "profile prints its table")
    return r


# ------------------------------------------------------------ onyx-help.pd

CORNER_10 = [0.85, 0.60, 0.01, 0.10, 0.20, 0.10, 0.02, 0.90]


def test_ctl(root, out):
    name = "onyx-help.pd"
    f = Finder(os.path.join(help_dir(root), name))
    w = Wrapper(name, help_dir(root), f)
    PR, GE = "presets", "gesture"  # the examples' subpatches
    pre = f.find("onyx models/trained/presets.onnx", "obj", canvas=PR)
    md = f.find("onyx models/trained/gesture.onnx", "obj", canvas=GE)
    syn = f.find("pd synth", "obj", canvas=PR)
    w.tap(pre, 0, "tap-params", canvas=PR)
    w.tap(pre, 1, "tap-presets-info", canvas=PR)
    w.tap(syn, 0, "tap-synth", canvas=PR, signal=True)
    w.tap(md, 3, "tap-gesture-info", canvas=GE)
    w.tap(f.find("pack f f", "obj", canvas=GE, to="t l l l"), 0, "tap-point", canvas=GE)
    hx = w.hook(f.find(None, "hsl", canvas=PR, label="x"), canvas=PR)
    hy = w.hook(f.find(None, "hsl", canvas=PR, label="y"), canvas=PR)
    play = w.hook(f.find(None, "tgl", canvas=PR, label="play"), canvas=PR)
    vol = w.hook(f.find(None, "hsl", canvas=PR, label="volume"), canvas=PR)
    run = w.hook(f.find(None, "tgl", canvas=GE, label="run"), canvas=GE)
    step = w.hook(f.find(None, "bng", canvas=GE, label="step"), canvas=GE)
    rst = w.hook(f.find(None, "bng", canvas=GE, label="reset"), canvas=GE)
    temp = w.hook(f.find(None, "hsl", canvas=GE, label="temperature"), canvas=GE)
    pm = {m: w.hook(f.find(m, canvas=PR, to="presets.onnx"), canvas=PR)
          for m in ["set xy 0.5 0.5", "bang", "info", "stats", "print", "reset", "threads 1",
                    "load models/trained/presets.onnx"]}
    VA = "voice-activity"
    vad = f.find(None, "obj", canvas=VA, text_prefix="onyx -shape input 1 512")
    w.tap(vad, 0, "tap-vad", canvas=VA)
    vstats = w.hook(f.find("stats", canvas=VA, to="onyx -shape"), canvas=VA)
    speech = make_speech(out) if os.environ.get("ONYX_VAD_DIR") else None
    if speech:  # a sentence into the microphone's filter, from 1 s on
        sf = w._add(VA, "readsf~")
        w._connect(VA, sf, 0, f.find("lop~ 7000", "obj", canvas=VA, to="lop~ 7000"), 0)
        sfh = w.hook(sf, canvas=VA)
        w.at(1000, sfh, "open " + speech[0])
        w.at(1001, sfh, "start")
        w.mark(200, "vad-quiet")
        w.mark(1000, "vad-speech")
        w.mark(1000 + speech[1] + 300, "vad-after")
    mi = w.hook(f.find("info", canvas=GE, to="gesture.onnx"), canvas=GE)
    ms = w.hook(f.find("stats", canvas=GE, to="gesture.onnx"), canvas=GE)
    fl = f.canvases["flags"]
    fmsg = [(i, t) for i, (k, t) in enumerate(fl.boxes) if k == "msg"]
    fh = [(w.hook(i, canvas="flags"), t) for i, t in fmsg]

    w.at(100, "pd", "dsp 1")
    w.at(120, vol, "0.3")
    w.at(140, play, "1")
    w.mark(150, "xy")
    w.at(200, hx, "1")
    w.at(220, hy, "0")
    w.mark(300, "xy-end")
    w.mark(400, "synth")
    w.at(600, hx, "0.2")
    w.at(800, hy, "0.9")
    w.mark(1600, "synth-end")
    for k, m in enumerate(["set xy 0.5 0.5", "bang", "info", "stats", "print", "reset", "threads 1",
                           "load models/trained/presets.onnx"]):
        w.at(1700 + 40 * k, pm[m])
    w.at(2100, play, "0")
    w.mark(2200, "gesture")
    w.at(2200, temp, "0.5")
    w.at(2210, run, "1")
    w.at(3200, run, "0")
    w.mark(3250, "gesture-end")
    w.at(3300, step)
    w.at(3350, rst)
    w.mark(3360, "after-reset")
    w.at(3400, step)
    w.at(3450, mi)
    w.at(3500, ms)
    w.at(3550, temp, "0")
    w.mark(3560, "t0")
    w.at(3600, step)
    w.at(3650, step)
    w.at(3680, vstats)
    w.mark(3700, "flags")
    t = 3700
    for h, text in fh:
        if text == "0 0":
            t += 300  # after the load of -out 3
        w.at(t, h)
        t += 30
    w.mark(t + 300, "end")
    wp = os.path.join(out, "help_ctl.pd")
    w.write(wp, t + 400)
    rc, log = run_pd(wp, os.path.join(out, "help_ctl.log"))

    r = Result(name)
    errs = [l for l in log if ERROR_RE.search(l)]
    r.check(not errs, "no error in the console%s" % ("" if not errs else ": " + " | ".join(errs[:5])))
    r.check(rc == 0, "pd exited with 0 (got %d)" % rc)
    ph = phases(log, "tap-params")
    corner = [list(map(float, v)) for v in ph.get("xy", [])]
    last = corner[-1] if corner else None
    r.check(last is not None and len(last) == 8 and max(abs(a - b) for a, b in zip(last, CORNER_10)) < 0.02,
            "presets at x=1 y=0 give the bright pluck preset: %s" % last)
    env = [float(v[0]) for v in phases(log, "tap-synth").get("synth", [])]
    r.check(env and max(env) > 60, "the synth plays: peak %s dB" % (max(env) if env else None))
    pts = [list(map(float, v)) for v in phases(log, "tap-point").get("gesture", [])]
    ok = len(pts) >= 15 and all(len(p) == 2 and all(math.isfinite(x) for x in p) for p in pts)
    spread = max(p[0] for p in pts) - min(p[0] for p in pts) if pts else 0
    r.check(ok and spread > 0.05, "gesture model: %d points, x spread %.3f" % (len(pts), spread))
    t0 = [list(map(float, v)) for v in phases(log, "tap-point").get("t0", [])]
    r.check(len(t0) == 2, "temperature 0: the most likely mean, %s" % t0)
    mdi = {v[0]: v[1:] for v in values(log, "tap-gesture-info") if v and isinstance(v[0], str)}
    r.check(mdi.get("states") == ["2"] and mdi.get("inferences"),
            "gesture info/stats: states %s, inferences %s" % (mdi.get("states"), mdi.get("inferences")))
    vad_dir = os.environ.get("ONYX_VAD_DIR")
    probs = [v[0] for v in values(log, "tap-vad") if v and isinstance(v[0], float)]
    if vad_dir:
        vst = dict((v[1], v[2:]) for v in values(log, "voice-activity") if len(v) > 2 and v[0] == "stats")
        loaded = any(l.startswith("onyx: loaded ") and l.endswith("silero_vad_v5.onnx") for l in log)
        # DSP runs about 3.6 s: 112 windows of 32 ms; allow for a slow start
        r.check(loaded and len(probs) >= 60 and all(0 <= p <= 1 for p in probs),
                "voice activity: loaded %s, %d probabilities in [0, 1]" % (loaded, len(probs)))
        ph = phases(log, "tap-vad", "vad-")
        quiet = [float(v[0]) for v in ph.get("vad-quiet", [])]
        r.check(quiet and max(quiet) < 0.5, "voice activity, silence: max %s (< 0.5)" %
                (max(quiet) if quiet else None))
        if speech:
            talk = [float(v[0]) for v in ph.get("vad-speech", [])]
            high = sum(p > 0.5 for p in talk)
            r.check(talk and max(talk) > 0.9 and high > len(talk) / 2,
                    "voice activity, a spoken sentence: max %s, %d of %d windows > 0.5" %
                    (max(talk) if talk else None, high, len(talk)))
        else:
            print("   (espeak-ng is not installed: no spoken sentence)")
    else:
        hint = any("voice-activity: silero_vad_v5.onnx is not there yet" in l for l in log)
        r.check(hint and not probs, "voice activity without the model: says where to get it")
    fo = [values(log, "flags-%d" % k) for k in range(1, 5)]
    r.check(all(fo), "flags subpatch: every object answers (%s)" % [len(v) for v in fo])
    return r


def make_speech(out):
    """A spoken sentence at Pd's default 44.1 kHz (espeak-ng speaks at
    22.05 kHz; linear interpolation doubles it): (path, milliseconds), or
    None without espeak-ng."""
    if not shutil.which("espeak-ng"):
        return None
    import numpy as np
    raw = os.path.join(out, "speech-22k.wav")
    subprocess.run(["espeak-ng", "-w", raw, "Hello, this is onyx, listening."], check=True)
    with wave.open(raw) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
        rate = w.getframerate()
    n = int(len(x) * 44100 / rate)
    y = np.interp(np.arange(n) * rate / 44100, np.arange(len(x)), x)
    path = os.path.join(out, "speech.wav")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(y.astype(np.int16).tobytes())
    return path, int(1000 * n / 44100)


TESTS = {"onyx~-help.pd": test_tilde, "onyx-help.pd": test_ctl}


def main(argv):
    global PD_CMD, PD_PATH
    if len(argv) > 2 and argv[1] == "--pd":
        PD_CMD = argv[2].split()
        argv = argv[:1] + argv[3:]
    installed = len(argv) > 1 and argv[1] == "--installed"
    if installed:
        argv = argv[:1] + argv[2:]
    if len(argv) < 3:
        print(__doc__.split("\n\n")[1])
        return 2
    root, out = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    if installed:
        PD_PATH = ["-nostdpath", "-path", root]
    os.makedirs(out, exist_ok=True)
    fails = 0
    for name in argv[3:] or list(TESTS):
        r = TESTS[name](root, out)
        fails += bool(r.bad)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
