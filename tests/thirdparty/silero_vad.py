#!/usr/bin/python3
"""tests/thirdparty/silero_vad.py ONYX [OUT] - the Silero VAD (legacy, v5,
v6 from @ricky0123/vad-web) against ONNX Runtime, chunk by chunk.

Each model runs 12 chunks of a synthetic recording (silence, a voiced
harmonic burst in noise, silence) at 16 kHz (512-sample chunks) and at
8 kHz (256), its recurrent state fed back: ONNX Runtime runs the sequence
(ort_seq.js), then `onyx run` runs every chunk on the very inputs ORT saw,
and every output must agree within 1e-4. The models branch on the sample
rate and on input shapes (If): onyx inlines the branch taken.

Then the streaming runner: `onyx process --shape --state --set sr=...`
streams the recording as [onyx~] would (the sample rate a control, so the
If is decided at run time) and writes the speech probability of every
512-sample block with --controls' CSV: it must match ORT's sequence; set
to 8 kHz with 512-sample blocks (a branch that cannot run) it must fail
with one clear error."""
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(ROOT, 'build', 'thirdparty', 'vad-web', 'dist')
STEPS = 12
TOL = 1e-4


def recording(sr, n):
    t = np.arange(n) / sr
    rng = np.random.default_rng(7)
    x = 0.003 * rng.standard_normal(n)
    on = (t > 0.1) & (t < 0.28)
    f0 = 140 + 20 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    x[on] += 0.3 * voiced[on] * np.hanning(on.sum())
    return x.astype(np.float32)


def main():
    onyx = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, 'build', 'silero')
    if not os.path.isdir(MODELS):
        sys.exit('silero_vad.py: %s missing: run sh tests/thirdparty/fetch.sh'
                 % MODELS)
    bad = 0
    for name, state in (('silero_vad_legacy', {'h': (2, 1, 64), 'c': (2, 1, 64)}),
                        ('silero_vad_v5', {'state': (2, 1, 128)}),
                        ('silero_vad_v6', {'state': (2, 1, 128)})):
        model = os.path.join(MODELS, name + '.onnx')
        feed = ({'hn': 'h', 'cn': 'c'} if 'h' in state else {'stateN': 'state'})
        for sr, chunk in ((16000, 512), (8000, 256)):
            d = os.path.join(out, '%s-%d' % (name, sr))
            os.makedirs(os.path.join(d, 'init'), exist_ok=True)
            for k, shape in state.items():
                np.save(os.path.join(d, 'init', k + '.npy'),
                        np.zeros(shape, np.float32))
            x = recording(sr, STEPS * chunk)
            for i in range(STEPS):
                os.makedirs(os.path.join(d, str(i)), exist_ok=True)
                np.save(os.path.join(d, str(i), 'input.npy'),
                        x[i * chunk:(i + 1) * chunk][None, :])
                np.save(os.path.join(d, str(i), 'sr.npy'), np.array(sr, np.int64))
            subprocess.run(['node', os.path.join(HERE, 'ort_seq.js'), model, d,
                            str(STEPS)] + ['%s=%s' % kv for kv in feed.items()],
                           check=True)
            worst, probs = 0.0, []
            for i in range(STEPS):
                s = os.path.join(d, str(i))
                ins = ['input', 'sr'] + list(state)
                cmd = [onyx, 'run', model, '-o', os.path.join(s, 'onyx')]
                for k in ins:
                    cmd += ['-i', '%s=%s' % (k, os.path.join(s, k + '.npy'))]
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    print('FAIL %s sr %d chunk %d: %s' % (name, sr, i, r.stderr.strip()))
                    bad += 1
                    break
                for o in ['output'] + list(feed):
                    want = np.load(os.path.join(s, 'ort_%s.npy' % o))
                    got = np.load(os.path.join(s, 'onyx', o + '.npy'))
                    if got.shape != want.shape:
                        print('FAIL %s sr %d chunk %d: %s has shape %s, ORT %s'
                              % (name, sr, i, o, got.shape, want.shape))
                        bad += 1
                        continue
                    worst = max(worst, float(np.max(np.abs(got - want))))
                probs.append(float(
                    np.load(os.path.join(s, 'ort_output.npy')).ravel()[0]))
            ok = worst <= TOL
            bad += not ok
            print('%s %s sr %d: %d chunks, max |onyx - ORT| %.2g, '
                  'speech probability %.3f..%.3f'
                  % ('PASS' if ok else 'FAIL', name, sr, STEPS, worst,
                     min(probs), max(probs)))
    bad += stream_check(onyx, out)
    bad += stream_error_check(onyx, out)
    bad += pd_check(out)
    sys.exit(1 if bad else 0)


PATCH = """#N canvas 0 0 600 400 12;
#X obj 10 10 loadbang;
#X obj 10 40 t b b b;
#X msg 200 70 set sr 16000;
#X msg 10 70 \\; pd dsp 1;
#X obj 100 100 tabplay~ rec;
#X obj 100 140 onyx~ -sync -shape input=1 \\, 512 -shape state 2 1 128 -state state:stateN %(model)s;
#X obj 300 180 print vad;
#X array rec %(n)d float 0;
#X obj 300 10 soundfiler;
#X msg 300 40 read -resize %(wav)s rec;
#X obj 10 200 delay 1000;
#X msg 10 230 \\; pd quit;
#X obj 400 10 loadbang;
#X connect 0 0 1 0;
#X connect 1 0 10 0;
#X connect 1 1 4 0;
#X connect 1 1 3 0;
#X connect 1 2 2 0;
#X connect 2 0 5 0;
#X connect 4 0 5 0;
#X connect 5 0 6 0;
#X connect 9 0 8 0;
#X connect 10 0 11 0;
#X connect 12 0 9 0;
"""


def pd_check(out):
    """[onyx~] in headless Pd, as a musician would create it: -shape with
    the comma Pd's object box makes, the state pair named, the sample rate
    set by message; its speech probabilities must be ORT's."""
    import shutil
    name = 'silero_vad_v5'
    d = os.path.join(out, name + '-stream')
    wav = os.path.join(out, name + '-stream.wav')
    if not shutil.which('pd'):
        print('FAIL [onyx~]: pd not found')
        return 1
    want = [float(np.load(os.path.join(d, str(i), 'ort_output.npy')).ravel()[0])
            for i in range(STEPS)]
    patch = os.path.join(out, 'silero.pd')
    with open(patch, 'w') as f:
        f.write(PATCH % {'model': os.path.join(MODELS, name + '.onnx'),
                         'wav': os.path.abspath(wav), 'n': STEPS * 512})
    r = subprocess.run(['pd', '-batch', '-nrt', '-noprefs', '-nosound',
                        '-stderr', '-path', ROOT, patch],
                       capture_output=True, text=True, timeout=120)
    log = r.stdout + r.stderr
    got = [float(l.split()[-1]) for l in log.splitlines()
           if l.startswith('vad: output')]
    errors = [l for l in log.splitlines() if 'error' in l.lower()]
    ok = (not errors and len(got) >= STEPS and
          max(abs(p - q) for p, q in zip(got, want)) <= TOL)
    print('%s [onyx~ -sync -shape input=1, 512 ...] in Pd: %s' % (
        'PASS' if ok else 'FAIL',
        '; '.join(errors[:3]) if errors else
        '%d probabilities, max |onyx~ - ORT| %.2g' % (
            len(got), max(abs(p - q) for p, q in zip(got, want))
            if len(got) >= STEPS else float('nan'))))
    return 0 if ok else 1


def stream_error_check(onyx, out):
    """sr = 8000 with 512-sample blocks chooses a branch that cannot run
    (its LSTM gets the wrong rank): `onyx process` must say so, once, and
    exit 1, not write zeros."""
    name = 'silero_vad_v5'
    wav = os.path.join(out, name + '-stream.wav')
    csv = os.path.join(out, name + '-error.csv')
    r = subprocess.run([onyx, 'process', os.path.join(MODELS, name + '.onnx'),
                        wav, csv, '--shape', 'input=1,512', '--shape',
                        'state=2,1,128', '--state', 'state:stateN', '--set',
                        'sr=8000'], capture_output=True, text=True)
    lines = r.stderr.strip().splitlines()
    ok = (r.returncode == 1 and len(lines) == 1 and
          'inferences failed' in lines[0] and
          'the condition chose the else branch' in lines[0])
    print('%s %s at sr 8000 with 512-sample blocks (onyx process): exit %d, %s'
          % ('PASS' if ok else 'FAIL', name, r.returncode,
             lines[0][:120] + '...' if len(lines) == 1 else
             '%d lines on stderr' % len(lines)))
    return 0 if ok else 1


def stream_check(onyx, out):
    import wave
    bad = 0
    for name, state, pairs in (
            ('silero_vad_v5', ['state=2,1,128'], ['state:stateN']),
            ('silero_vad_legacy', ['h=2,1,64', 'c=2,1,64'], ['h:hn', 'c:cn'])):
        sr, chunk = 16000, 512
        x = recording(sr, STEPS * chunk)
        wav = os.path.join(out, name + '-stream.wav')
        with wave.open(wav, 'wb') as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sr)
            w.writeframes((np.clip(x, -1, 1) * 32767).astype('<i2').tobytes())
        # the 16-bit file is what both engines hear
        with wave.open(wav, 'rb') as w:
            heard = np.frombuffer(w.readframes(STEPS * chunk), '<i2') / 32768.0
        d = os.path.join(out, name + '-stream')
        os.makedirs(os.path.join(d, 'init'), exist_ok=True)
        for k in state:
            nm, dims = k.split('=')
            np.save(os.path.join(d, 'init', nm + '.npy'),
                    np.zeros([int(v) for v in dims.split(',')], np.float32))
        for i in range(STEPS):
            os.makedirs(os.path.join(d, str(i)), exist_ok=True)
            np.save(os.path.join(d, str(i), 'input.npy'),
                    heard[i * chunk:(i + 1) * chunk][None, :].astype(np.float32))
            np.save(os.path.join(d, str(i), 'sr.npy'), np.array(sr, np.int64))
        subprocess.run(['node', os.path.join(HERE, 'ort_seq.js'),
                        os.path.join(MODELS, name + '.onnx'), d, str(STEPS)]
                       + [p.split(':')[1] + '=' + p.split(':')[0] for p in pairs],
                       check=True)
        want = [float(np.load(os.path.join(d, str(i), 'ort_output.npy')).ravel()[0])
                for i in range(STEPS)]
        csv = os.path.join(out, name + '-stream.csv')
        cmd = [onyx, 'process', os.path.join(MODELS, name + '.onnx'), wav, csv,
               '--shape', 'input=1,%d' % chunk, '--set', 'sr=%d' % sr]
        for k in state:
            cmd += ['--shape', k]
        for p in pairs:
            cmd += ['--state', p]
        r = subprocess.run(cmd, capture_output=True, text=True)
        rows = []
        if r.returncode == 0:
            lines = open(csv).read().split()
            rows = [tuple(float(v) for v in l.split(',')) for l in lines[1:]]
        ok = (r.returncode == 0 and lines[0] == 'time,output' and
              len(rows) == STEPS and
              all(abs(t - i * chunk / sr) < 1e-6 for i, (t, _) in enumerate(rows)) and
              max(abs(p - q) for (_, p), q in zip(rows, want)) <= TOL)
        bad += not ok
        print('%s %s streamed (onyx process --controls): %s' % (
            'PASS' if ok else 'FAIL', name,
            r.stderr.strip() if r.returncode else '%d rows, max |onyx - ORT| %.2g'
            % (len(rows), max(abs(p - q) for (_, p), q in zip(rows, want))
               if len(rows) == STEPS else float('nan'))))
    return bad


if __name__ == '__main__':
    main()
