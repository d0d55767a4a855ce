#!/usr/bin/python3
"""Instructions executed per function, from insn_plugin.so's prof=FILE output
and the symbols of a non-PIE binary (make bench-arm builds
build/<board>/insn_run-nopie for this):

  qemu-arm -plugin build/bench/insn_plugin.so,prof=/tmp/p.txt -L / \\
      build/bela/insn_run-nopie MODEL RUNS [NAME=DIMS...]
  bench/arm/insn_prof.py arm-linux-gnueabihf-nm build/bela/insn_run-nopie /tmp/p.txt [RUNS]

Blocks outside the binary (libc, the loader) are summed as "(shared libraries)".
With fp=on as well (insn_plugin.so,fp=on,prof=FILE) the last two columns are
the float arithmetic instructions executed as 4-float vectors and as scalars.
With RUNS, counts are divided by it (instructions per inference, start-up
included: subtract a second profile of fewer runs for exact figures)."""
import bisect
import subprocess
import sys


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    nm, binary, prof = argv[:3]
    runs = float(argv[3]) if len(argv) > 3 else 1.0
    syms = []
    out = subprocess.run([nm, "-n", "-S", "--defined-only", binary], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[2] in "tTwW":
            syms.append((int(f[0], 16), int(f[1], 16), f[3]))
    syms.sort()
    starts = [s[0] for s in syms]
    per = {}
    fp = {}
    total = 0
    with open(prof) as fh:
        for line in fh:
            f = line.split()
            a, n, r = int(f[0], 16) & ~1, int(f[1]), int(f[2])  # thumb bit
            v, sc = (int(f[3]), int(f[4])) if len(f) > 4 else (0, 0)
            i = bisect.bisect_right(starts, a) - 1
            name = "(shared libraries)"
            if i >= 0 and a < syms[i][0] + max(syms[i][1], 1):
                name = syms[i][2]
            per[name] = per.get(name, 0) + n * r
            fv = fp.setdefault(name, [0, 0])
            fv[0] += v * r
            fv[1] += sc * r
            total += n * r
    print("%12s %6s  %10s %10s  %s" % ("insns", "share", "fp vector", "fp scalar", "function"))
    for name, c in sorted(per.items(), key=lambda kv: -kv[1])[:40]:
        print("%12.1f %5.1f%%  %10.1f %10.1f  %s" % (c / runs, 100.0 * c / total,
                                                   fp[name][0] / runs, fp[name][1] / runs, name))
    print("%12.1f         %10.1f %10.1f  total" % (total / runs, sum(v[0] for v in fp.values()) / runs,
                                                 sum(v[1] for v in fp.values()) / runs))


if __name__ == "__main__":
    main(sys.argv[1:])
