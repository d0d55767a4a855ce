#!/usr/bin/python3
"""Vector and scalar floating-point instructions per function of ARM object
files, from objdump: shows which loops run as NEON and which as scalar code.

  fpstat.py OBJDUMP OBJECT... [--check FUNCTION...]

Prints one line per function that has floating-point arithmetic: vector ops
(NEON on 4 floats: armv7 q registers, aarch64 .4s), scalar ops (armv7 VFP s
registers, aarch64 s registers). With --check, exits 1 when a named function
(GCC's clones such as foo.part.0 and foo.constprop.0 count for foo) is
missing or has no vector operation: its loops are not NEON code. (Static
counts: a function's scalar operations are mostly its tails and rare paths;
the executed share of vector operations is what make bench-arm reports.)
"""
import re
import subprocess
import sys

OPS = r"(?:add|sub|mul|mla|mls|fma|fms|fmla|fmls|max|min|maxnm|minnm|abs|neg|div|sqrt|recpe|recps|rsqrte|rsqrts|cvt\w*)"
# armv7: vadd.f32 q0, q1, q2 (NEON) / vadd.f32 s0, s1, s2 (VFP); fused and
# lane forms too. aarch64: fadd v0.4s, ... / fmla v0.4s, v1.4s, v2.s[1] (SIMD)
# and fadd s0, s1, s2 (scalar).
V7_VEC = re.compile(r"\sv" + OPS + r"\.f32\s+q\d")
V7_SCA = re.compile(r"\sv" + OPS + r"\.f32\s+s\d")
A64_VEC = re.compile(r"\sf" + OPS + r"\s+v\d+\.4s")
A64_SCA = re.compile(r"\sf" + OPS + r"\s+s\d+,")
FUNC = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")


def stats(objdump, objects):
    out = {}
    for obj in objects:
        text = subprocess.run([objdump, "-d", "--no-show-raw-insn", obj],
                              capture_output=True, text=True, check=True).stdout
        fn = None
        for line in text.splitlines():
            m = FUNC.match(line)
            if m:
                fn = m.group(1)
                out.setdefault(fn, [0, 0, obj])
                continue
            if fn is None:
                continue
            if V7_VEC.search(line) or A64_VEC.search(line):
                out[fn][0] += 1
            elif V7_SCA.search(line) or A64_SCA.search(line):
                out[fn][1] += 1
    return out


def main(argv):
    if "--check" in argv:
        i = argv.index("--check")
        args, checks = argv[:i], argv[i + 1:]
    else:
        args, checks = argv, []
    if len(args) < 2:
        sys.exit(__doc__)
    st = stats(args[0], args[1:])
    for fn, (v, s, obj) in sorted(st.items(), key=lambda kv: kv[0]):
        if v or s:
            print("%6d vector %6d scalar  %s  (%s)" % (v, s, fn, obj))
    bad = 0
    for name in checks:
        hits = [(fn, vs) for fn, vs in st.items()
                if fn == name or fn.startswith(name + ".")]
        if not hits:
            print("CHECK FAIL %s: no such function" % name)
            bad += 1
            continue
        v = sum(vs[0] for _, vs in hits)
        s = sum(vs[1] for _, vs in hits)
        ok = v > 0
        print("CHECK %s %s: %d vector, %d scalar" % ("ok  " if ok else "FAIL", name, v, s))
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
