#!/usr/bin/python3
"""The rates test of tests/pd/run.sh: block size and sample rate changes
while [onyx~] runs.

    rates.py qlist OUT   the [qlist] script for rates.pd.in
    rates.py check LOG   Pd's log -> exit status

In rates.pd.in's [pd sub], an impulse train goes through
[onyx~ -block 64 ident.onnx] (threaded) and [onyx~ -sync -block 64 ...] into
two tables. Each phase changes the subpatch's block size or upsampling
([block~ N 1 U], DSP restarted) or the sample rate (audio-dialog, DSP left
running), plays and records the train, then measures the latency in the
tables and asks the objects for info and print. Expected, for model block
B = 64 and host block n (onyx_stream.h): threaded 2 * ceil(max(n, 64 U) / B)
* B (at U = 2 perform runs twice per tick, back to back: a job spans both
calls), sync 0 when n is a multiple of B else B; print's budget is
B / (sr * U) seconds. The threaded object may overrun in at most 5% of
its jobs (a loaded machine's hiccups).
"""
import re
import sys

B = 64
# phase: block~ N, upsampling U, sample rate, how long the recording takes
PHASES = [(64, 1, 44100, 1200), (128, 1, 44100, 1200), (32, 1, 44100, 1200),
          (64, 2, 44100, 700), (64, 1, 48000, 1200), (256, 1, 48000, 1200)]


def expected(n, up, sr):
    burst = 64 * up  # frames of the back-to-back perform calls in a tick
    j = -(-max(n, burst) // B)
    return 2 * j * B, 0 if n % B == 0 else B, 1e6 * B / (sr * up)


def make_qlist(out):
    L, sr = [], 44100
    for k, (n, up, rate, ms) in enumerate(PHASES, 1):
        L.append('step %d;' % k)
        L.append('blk set %d 1 %d;' % (n, up))
        L.append('pd dsp 0;')
        L.append('pd dsp 1;')
        if rate != sr:  # while running: no DSP restart of our own
            L.append('pd audio-dialog 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 %d 50 0 64;' % rate)
            sr = rate
        L.append('go bang;')
        L.append('%d measure bang;' % ms)
        L.append('rt info, stats, print;')
        L.append('rs info, print;')
    L.append('100 pd-sub clear;')  # frees the objects: their threads joined
    L.append('100 pd quit;')
    with open(out, 'w') as f:
        f.write('\n'.join(L) + '\n')


def check(log_path):
    log = open(log_path).read().splitlines()
    phases, cur = {}, None
    for line in log:
        if line.startswith('step: '):
            cur = phases.setdefault(int(line[6:]), {'budget': {}})
        elif cur is None:
            continue
        elif ': ' in line and not line.startswith(' '):
            name, v = line.split(': ', 1)
            cur[name] = v
        m = re.search(r'latency (\d+) samples, (threaded|sync).*budget ([\d.]+) us', line)
        if m and cur is not None:
            cur['budget'][m.group(2)] = (int(m.group(1)), float(m.group(3)))
    ok = not any(l.startswith('error') for l in log)
    for k, (n, up, sr, ms) in enumerate(PHASES, 1):
        lt, ls, budget = expected(n, up, sr)
        p = phases.get(k, {'budget': {}})
        got = (p.get('info_latency_threaded'), p.get('measured_latency_threaded'),
               p.get('info_latency_sync'), p.get('measured_latency_sync'))
        # a shared machine's scheduler hiccups cost a few overruns; a job
        # shorter than the calls' burst loses every other one
        jobs = ms / 1000 * sr * up / lt * 2
        ovr = float(p.get('overruns_threaded', 'inf'))
        good = got == (str(lt), str(lt), str(ls), str(ls)) and ovr <= 0.05 * jobs and \
            all(abs(p['budget'].get(mode, (0, 0))[1] - budget) < 0.1
                for mode in ('threaded', 'sync'))
        ok &= good
        print('   block~ %d 1 %d at %d Hz: latency threaded info %s measured %s (want %d), '
              'sync info %s measured %s (want %d), overruns %s, budget %s us (want %.1f)%s'
              % (n, up, sr, got[0], got[1], lt, got[2], got[3], ls,
                 p.get('overruns_threaded'),
                 p['budget'].get('threaded', (0, '?'))[1], budget, '' if good else '  FAIL'))
    for l in [l for l in log if l.startswith('error')][:5]:
        print('   console: ' + l)
    return ok


if __name__ == '__main__':
    if sys.argv[1] == 'qlist':
        make_qlist(sys.argv[2])
    else:
        sys.exit(0 if check(sys.argv[2]) else 1)
