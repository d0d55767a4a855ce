#!/usr/bin/python3
"""The lifecycle test of tests/pd/run.sh (also its ThreadSanitizer and
valgrind runs): objects freed while their worker infers or loads, several
loads in one message, DSP switched on and off while loading.

    lifecycle.py qlist MODELS OUT [CYCLES]   the [qlist] script for lifecycle.pd.in
    lifecycle.py check LOG MLP_REF           Pd's log -> exit status

Phases (each starts with `step N` in the log):
  1. CYCLES times: in [pd cyc], create [onyx~ -threads 2 slow.onnx]
     (threaded, fed by an [osc~] so that DSP runs it: the slow model keeps
     the worker and its pool busy), an [onyx -async -threads 2 -block 64
     slow.onnx] that gets a bang (one inference in its worker) and an [onyx~ ident.onnx] that gets `load slow.onnx`; then
     clear the subpatch 30 ms later: freed while inferring and loading.
  2. Several loads in one message (one logical time): the last one wins;
     `threads 2` first, so that the loads get a pool.
  3. DSP off and on every 6 ms, 40 times, while both [onyx~] load models.
  4. Checks: each object has the model it was last sent and plays it (an
     identity model: a full-scale 220 Hz sine, 96.99 dB by env~, less a
     little for the overruns a loaded machine causes); [onyx]
     still gives PyTorch's answer; then every object is freed and Pd quits.
No console error is allowed anywhere.
"""
import sys


def make_qlist(models, out, cycles=30):
    m = lambda name: '%s/%s.onnx' % (models, name)
    L = []
    say = L.append
    say('step 1;')
    for _ in range(int(cycles)):
        say('pd-cyc obj 10 10 osc~ 220;')                        # 0
        say('pd-cyc obj 10 40 onyx~ -threads 2 %s;' % m('slow'))  # 1
        say('pd-cyc connect 0 0 1 0;')  # a signal connection: DSP is rebuilt
        say('pd-cyc obj 150 40 onyx -async -threads 2 -block 64 %s;'
            % m('slow'))                                         # 2
        say('pd-cyc obj 150 10 r cyc_a;')                        # 3
        say('pd-cyc connect 3 0 2 0;')
        say('pd-cyc obj 300 40 onyx~ %s;' % m('ident'))          # 4
        say('pd-cyc obj 300 10 r cyc_b;')                        # 5
        say('pd-cyc connect 5 0 4 0;')
        say('pd-cyc connect 0 0 4 0;')
        say('cyc_a bang;')
        say('cyc_b load %s;' % m('slow'))
        say('30 pd-cyc clear;')
    say('100 step 2;')
    say('lt threads 2;')
    say('lt load %s;' % m('gru'))
    say('ls load %s;' % m('gru'))
    say('lc load %s;' % m('count'))
    say('200 lt load %s, load %s, load %s;' % (m('slow'), m('ctl'), m('gru')))
    say('ls load %s, load %s;' % (m('slow'), m('ident')))
    say('lc load %s, load %s;' % (m('tick'), m('mlp')))
    say('la load %s, load %s;' % (m('tick'), m('count')))
    say('200 step 3;')
    seq = ['gru', 'slow', 'ident', 'ctl']
    for k in range(40):
        say('6 pd dsp 0;')
        say('lt load %s;' % m(seq[k % 4]))
        say('6 pd dsp 1;')
        say('ls load %s;' % m(seq[(k + 1) % 4]))
    say('lt load %s, load %s;' % (m('slow'), m('ident')))
    say('ls load %s;' % m('ident'))
    say('1000 step 4;')
    say('level bang;')
    say('lt info;')
    say('lt stats;')
    say('ls info;')
    say('lc info;')
    say('lc 0.25 -0.5;')
    say('la 1;')
    say('200 pd-cyc clear;')
    say('pd-keep clear;')
    say('done bang;')
    say('100 pd quit;')
    with open(out, 'w') as f:
        f.write('\n'.join(L) + '\n')


def check(log_path, mlp_ref):
    log = open(log_path).read().splitlines()

    def last(name):
        vals = [l[len(name) + 2:] for l in log if l.startswith(name + ': ')]
        return vals[-1] if vals else None

    fails = ['console: ' + l for l in log if l.startswith('error')][:10]
    steps = [l for l in log if l.startswith('step: ')]
    if len(steps) != 4:
        fails.append('phases reached: %d of 4' % len(steps))
    for name in ('level_threaded', 'level_sync'):
        v = last(name)
        if v is None or abs(float(v) - 96.99) > 1.5:  # a few overruns: a bit less
            fails.append('%s %s (want 96.99 dB: the identity model plays)' % (name, v))
    for name, model in (('lt_model', 'ident.onnx'), ('ls_model', 'ident.onnx'),
                        ('lc_model', 'mlp.onnx')):
        v = last(name)
        if not v or not v.endswith(model):
            fails.append('%s %s (want %s)' % (name, v, model))
    ref = [list(map(float, l.split())) for l in open(mlp_ref)]
    out = last('lc_out')
    if not out or max(abs(a - b) for a, b in zip(map(float, out.split()), ref[0])) > 1e-5:
        fails.append('lc_out %s (want %s)' % (out, ref[0]))
    if last('la_y') != '1':
        fails.append('la_y %s (want 1: a fresh count.onnx)' % last('la_y'))
    inf = last('lt_inferences')
    if not inf or float(inf) < 50:
        fails.append('lt_inferences %s (want > 50 in the last second)' % inf)
    if last('done') is None and 'done: bang' not in log:
        fails.append('did not reach the end')
    loads = sum(': loaded ' in l for l in log)
    print('   phases %d, swaps %d, final: threaded %s dB, sync %s dB, %s inferences; %s'
          % (len(steps), loads, last('level_threaded'), last('level_sync'), inf,
             'ok' if not fails else 'FAILED'))
    for f in fails:
        print('   ' + f)
    return not fails


if __name__ == '__main__':
    if sys.argv[1] == 'qlist':
        make_qlist(*sys.argv[2:])
    else:
        sys.exit(0 if check(*sys.argv[2:4]) else 1)
