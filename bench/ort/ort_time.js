// bench/ort/ort_time.js - ONNX Runtime's time per call, one thread:
//
//   node ort_time.js RUNS MODEL NAME=FILE.npy... [-- MODEL2 NAME=FILE.npy...]...
//
// For each model: a session with one intra-op and one inter-op thread and
// all graph optimisations, 50 warm-up calls, then RUNS timed calls of
// session.run on the same inputs (the binding's whole cost: tensors in,
// native run, tensors out). Prints one JSON line per model: median and
// mean microseconds per call.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '../../build/thirdparty/node_modules/onnxruntime-node'));

function readNpy(file) { // float32 and int64, C order (as ort_seq.js)
  const b = fs.readFileSync(file);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const h = b.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(h)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(h)[1].split(',')
    .map((s) => s.trim()).filter((s) => s.length).map(Number);
  const copy = new Uint8Array(b.subarray(hstart + hlen)).buffer;
  if (descr === '<f4') return new ort.Tensor('float32', new Float32Array(copy), shape);
  if (descr === '<i8') return new ort.Tensor('int64', new BigInt64Array(copy), shape);
  throw new Error(file + ': dtype ' + descr + ' not handled');
}

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
      intraOpNumThreads: 1, interOpNumThreads: 1,
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
