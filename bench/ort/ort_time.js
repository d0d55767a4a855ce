// bench/ort/ort_time.js - ONNX Runtime's time per call, one thread:
//
//   node ort_time.js RUNS MODEL NAME=FILE.npy... [-- MODEL2 NAME=FILE.npy...]...
//
// For each model: a session with one intra-op thread (ORT_THREADS=N in the
// environment: N) and one inter-op thread and all graph optimisations, 50 warm-up calls, then RUNS timed calls of
// session.run on the same inputs (the binding's whole cost: tensors in,
// native run, tensors out). Prints one JSON line per model: median and
// mean microseconds per call.
'use strict';
const path = require('path');
const { ort, readNpy } = require('../../tests/thirdparty/npy.js');

(async () => {
  const [runsArg, ...rest] = process.argv.slice(2);
  const runs = Number(runsArg);
  const jobs = [[]];
  for (const a of rest) {
    if (a === '--') jobs.push([]);
    else jobs[jobs.length - 1].push(a);
  }
  for (const [model, ...ins] of jobs) {
    const s = await ort.InferenceSession.create(model, {
      intraOpNumThreads: Number(process.env.ORT_THREADS || 1),
      interOpNumThreads: 1,
      executionMode: 'sequential', graphOptimizationLevel: 'all',
    });
    const feeds = {};
    for (const kv of ins) {
      const i = kv.indexOf('=');
      feeds[kv.slice(0, i)] = readNpy(kv.slice(i + 1));
    }
    for (let k = 0; k < 50; k++) await s.run(feeds);
    const t = new Float64Array(runs);
    for (let k = 0; k < runs; k++) {
      const t0 = process.hrtime.bigint();
      await s.run(feeds);
      t[k] = Number(process.hrtime.bigint() - t0) / 1e3;
    }
    const sorted = Array.from(t).sort((a, b) => a - b);
    const mean = sorted.reduce((a, b) => a + b, 0) / runs;
    console.log(JSON.stringify({ model: path.basename(model), runs,
      median_us: sorted[runs >> 1], mean_us: mean }));
  }
})().catch((e) => { console.error('ort_time.js: ' + e.message); process.exit(1); });
