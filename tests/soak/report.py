#!/usr/bin/python3
"""The soak test's verdict (tests/soak/soak.sh): one paragraph, exit 1 on a
crash, a hang, a console error or a leak.

    report.py SOAK_LOG PROC_TXT SECONDS PD_EXIT HUNG ELAPSED LEAK_MB VG_LOG VG_EXIT
"""
import re
import statistics
import sys


def main():
    log_path, proc_path = sys.argv[1], sys.argv[2]
    secs, rc, hung, elapsed = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == '1', int(sys.argv[6])
    leak_mb, vg_log, vg_rc = float(sys.argv[7]), sys.argv[8], sys.argv[9]
    log = open(log_path, errors='replace').read().splitlines()

    def seg(name):
        return [float(l.split(': ')[1]) for l in log if l.startswith('seg_%s: ' % name)]

    inf, ovr, err, pct = seg('inferences'), seg('overruns'), seg('errors'), seg('mean_percent')
    loads = sum('onyx~: loaded ' in l for l in log)
    console = [l for l in log if l.startswith('error')]
    ended = any(l.startswith('soak_end') for l in log)
    # the output level at every load, the first (before any output) left out
    levels = [float(l.split(': ')[1]) for l in log if l.startswith('level: ')][1:]
    n_inf, n_ovr = sum(inf), sum(ovr)
    mean_pct = sum(p * n for p, n in zip(pct, inf)) / n_inf if n_inf else 0
    jobs = n_inf + n_ovr  # block 64 = the model's block: one inference a job

    rows = [list(map(int, l.split())) for l in open(proc_path) if len(l.split()) == 5]
    first = [r for r in rows if 20 <= r[0] <= 60] or rows[:1]
    last = [r for r in rows if secs - 30 <= r[0] <= secs - 2] or rows[-1:]
    med = lambda rs, k: statistics.median(r[k] for r in rs) if rs else 0
    rss0, rss1 = med(first, 1) / 1024, med(last, 1) / 1024
    thr0, thr1, fd0, fd1 = med(first, 2), med(last, 2), med(first, 3), med(last, 3)
    max_maps = max((r[4] for r in rows), default=0)

    vg = 'skipped'
    if vg_rc != 'skipped':
        text = open(vg_log, errors='replace').read()
        lost = re.findall(r'(definitely|indirectly) lost: ([\d,]+) bytes', text)
        vg = '%s (exit %s)' % (', '.join('%s lost %s bytes' % m for m in lost) or 'no leak summary', vg_rc)

    crash = rc != 0 or hung or not ended
    leak = (rss1 - rss0 > leak_mb or max_maps > 3 or thr1 != thr0 or fd1 != fd0 or
            (vg_rc not in ('skipped', '0')))
    verdict = 'FAIL' if crash or leak or console else 'PASS'
    print('soak %s: [onyx~ -block 64] threaded at real-time pace for %d s (%d s wall), '
          'Pd exit %d%s%s; %d models loaded (%d console errors, %d inference errors); '
          '%d inferences, %d overruns (%.3f%% of %d jobs), mean %.1f%% of the budget, '
          'output level %.1f-%.1f dB; resident size %.1f MB after the first minute, '
          '%.1f MB at the end (%+.1f MB, limit %g), threads %d -> %d, open files %d -> %d, '
          'at most %d model mappings at once; valgrind of a %s run: %s.'
          % (verdict, secs, elapsed, rc, ' (HUNG, killed)' if hung else '',
             '' if ended else ' (never reached the end)', loads, len(console), sum(err),
             n_inf, n_ovr, 100 * n_ovr / jobs if jobs else 0, jobs, mean_pct,
             min(levels, default=0), max(levels, default=0), rss0, rss1, rss1 - rss0,
             leak_mb, thr0, thr1, fd0, fd1, max_maps, 'short', vg))
    for l in console[:5]:
        print('   ' + l)
    sys.exit(1 if verdict == 'FAIL' else 0)


if __name__ == '__main__':
    main()
