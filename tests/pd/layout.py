#!/usr/bin/python3
"""Checks the help patches' layout: no two boxes overlap, every window fits.

usage: tests/pd/layout.py PATCH.pd...   (exit status 1 on any problem)

Each box's extent is estimated from the patch file alone, as Pd 0.53 draws
it with its default font (DejaVu Sans Mono): a character is 7 px wide and a
line 16 px high at font size 12, 6 x 13 at 10 (s_main.c's sys_fontspec),
plus 4 px of horizontal and 5 px of vertical margin (g_rtext.c's LMARGIN +
RMARGIN, TMARGIN + BMARGIN). Text wraps at its width setting (", f N") or at
60 characters, a ';' ends a line. GUI boxes take their size from their
arguments and their labels count too; a graph-on-parent canvas (an array)
its coords' size, and the names of its arrays above it. Every canvas, subpatches included, is checked on its own:
no two boxes may overlap, every box must lie inside the canvas' window, and
the window must be at most 900 x 650 (a laptop screen with room to spare).
"""
import re
import sys

FONTS = {8: (5, 11), 10: (6, 13), 12: (7, 16), 16: (10, 19), 24: (14, 29), 36: (22, 44)}
MARGIN_W, MARGIN_H = 4, 5
WRAP = 60
MAX_W, MAX_H = 900, 650


def font(size):
    """Pd's sys_findfont: the largest font not above the size asked for."""
    best = 8
    for s in sorted(FONTS):
        if size >= s:
            best = s
    return FONTS[best]


def unescape(w):
    return w.replace("\\$", "$").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")


def lines_of(words, width):
    """The lines Pd shows for these words, wrapped at width characters."""
    lines, line = [], ""
    for w in words:
        w = unescape(w)
        joined = w if not line else line + ("" if w in (",", ";") else " ") + w
        if line and len(joined) > width:
            lines.append(line)
            line = w
        else:
            line = joined
        while len(line) > width:  # a word longer than a line breaks where it must
            lines.append(line[:width])
            line = line[width:]
        if w == ";":
            lines.append(line)
            line = ""
    if line or not lines:
        lines.append(line)
    return lines


class Box:
    def __init__(self, kind, x, y, w, h, text):
        self.kind, self.x, self.y, self.w, self.h, self.text = kind, x, y, w, h, text

    def overlaps(self, o):
        return self.x < o.x + o.w and o.x < self.x + self.w and self.y < o.y + o.h and o.y < self.y + self.h

    def __str__(self):
        t = self.text if len(self.text) < 40 else self.text[:37] + "..."
        return "%s [%s] at %d %d (%dx%d)" % (self.kind, t, self.x, self.y, self.w, self.h)


def text_box(kind, x, y, words, width, fsize):
    cw, lh = font(fsize)
    lines = lines_of(words, width or WRAP)
    cols = width or max(len(l) for l in lines)
    w = cols * cw + MARGIN_W + (4 if kind == "msg" else 0)  # a message box's flag
    return Box(kind, x, y, w, len(lines) * lh + MARGIN_H, " ".join(unescape(v) for v in words))


def num(v, default=0):
    try:
        return int(float(v))
    except ValueError:
        return default


def label_box(x, y, text, dx, dy, lsize):
    """An IEM GUI's label: its left end at (dx, dy), centred on dy."""
    if text in ("empty", "") or text.startswith("$"):
        return None
    cw, lh = font(lsize)
    return Box("label", x + dx, y + dy - lh // 2, len(text) * cw, lh, text)


def gui_boxes(name, a, x, y, fsize):
    """An IEM GUI (or None for an ordinary object), with its label."""
    if name in ("tgl", "bng"):
        s = num(a[0], 15)
        lab = {"tgl": (4, 5, 6, 8), "bng": (6, 7, 8, 10)}[name]
        return [Box(name, x, y, s, s, name)] + [b for b in [
            label_box(x, y, a[lab[0]], num(a[lab[1]]), num(a[lab[2]]), num(a[lab[3]], 10))] if b]
    if name in ("hsl", "vsl"):
        return [Box(name, x, y, num(a[0]), num(a[1]), name)] + [b for b in [
            label_box(x, y, a[8], num(a[9]), num(a[10]), num(a[12], 10))] if b]
    if name in ("hradio", "vradio"):
        s, n = num(a[0], 15), num(a[3], 8)
        w, h = (s * n, s) if name == "hradio" else (s, s * n)
        return [Box(name, x, y, w, h, name)] + [b for b in [
            label_box(x, y, a[6], num(a[7]), num(a[8]), num(a[10], 10))] if b]
    if name == "cnv":
        return [Box("cnv", x, y, num(a[1]), num(a[2]), "cnv")] + [b for b in [
            label_box(x, y, a[5], num(a[6]), num(a[7]), num(a[9], 10))] if b]
    return None


def atom_boxes(kind, x, y, a, fsize):
    cw, lh = font(fsize)
    width = num(a[0]) or (5 if kind == "floatatom" else 10)
    box = Box(kind, x, y, width * cw + MARGIN_W, lh + MARGIN_H, kind)
    out = [box]
    label = unescape(a[4]) if len(a) > 4 else "-"
    if label not in ("-", "empty", ""):
        pos, lw = num(a[3]), len(label) * cw
        if pos == 0:    # left
            out.append(Box("label", x - lw - 3, y, lw, lh, label))
        elif pos == 1:  # right
            out.append(Box("label", x + box.w + 3, y, lw, lh, label))
        elif pos == 2:  # above
            out.append(Box("label", x, y - lh - 1, lw, lh, label))
        else:           # below
            out.append(Box("label", x, y + box.h + 1, lw, lh, label))
    return out


class Canvas:
    def __init__(self, name, w, h):
        self.name, self.w, self.h, self.boxes, self.gop, self.names = name, w, h, [], None, 0


def parse(path):
    text = open(path).read()
    records = re.split(r"(?<!\\);\s*\n", text)
    done, stack, fsize = [], [], 12
    for rec in records:
        words = rec.split()
        if len(words) < 2:
            continue
        if words[0] == "#N" and words[1] == "canvas":
            if not stack:
                fsize = num(words[6], 12)
                name = "main window"
            else:
                name = "pd " + words[6]
            stack.append(Canvas(name, num(words[4]), num(words[5])))
            continue
        if words[0] != "#X":
            continue
        kind = words[1]
        c = stack[-1]
        width = 0
        if len(words) > 3 and words[-2] == "f" and words[-3].endswith(","):
            width = num(words[-1])
            words = words[:-2]
            words[-1] = words[-1][:-1]
            if not words[-1]:
                words = words[:-1]
        if kind == "array" and not num(words[5]) & 8:
            c.names += 1  # its name shows above the graph (flag 8 hides it)
        elif kind == "coords" and len(words) > 8 and num(words[8]) & 1:
            c.gop = (num(words[6]), num(words[7]))
        elif kind == "restore":
            sub = stack.pop()
            done.append(sub)
            x, y = num(words[2]), num(words[3])
            if sub.gop:
                lh = font(fsize)[1] * sub.names
                stack[-1].boxes.append(Box("graph", x, y - lh, sub.gop[0], sub.gop[1] + lh, sub.name))
            else:
                stack[-1].boxes.append(text_box("obj", x, y, words[4:], width, fsize))
        elif kind in ("obj", "msg", "text"):
            x, y, rest = num(words[2]), num(words[3]), words[4:]
            gui = gui_boxes(rest[0], rest[1:], x, y, fsize) if kind == "obj" and rest else None
            c.boxes += gui or [text_box(kind, x, y, rest, width, fsize)]
        elif kind in ("floatatom", "symbolatom", "listbox"):
            c.boxes += atom_boxes(kind, num(words[2]), num(words[3]), words[4:], fsize)
    done += stack
    return done


def check(path):
    bad = []
    canvases = parse(path)
    for c in canvases:
        if c.w > MAX_W or c.h > MAX_H:
            bad.append("%s: %s is %dx%d, more than %dx%d" % (path, c.name, c.w, c.h, MAX_W, MAX_H))
        for i, a in enumerate(c.boxes):
            if a.x < 0 or a.y < 0 or a.x + a.w > c.w or a.y + a.h > c.h:
                bad.append("%s: %s (%dx%d): outside the window: %s" % (path, c.name, c.w, c.h, a))
            for b in c.boxes[i + 1:]:
                if a.overlaps(b):
                    bad.append("%s: %s: %s overlaps %s" % (path, c.name, a, b))
    return canvases, bad


def main(argv):
    if len(argv) < 2:
        print(__doc__.split("\n\n")[1])
        return 2
    fails = 0
    for path in argv[1:]:
        canvases, bad = check(path)
        for b in bad:
            print("   " + b)
        n = sum(len(c.boxes) for c in canvases)
        print("%s %s: %d canvases, %d boxes, %d problems" % ("ok  " if not bad else "BAD ", path,
                                                             len(canvases), n, len(bad)))
        fails += bool(bad)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
