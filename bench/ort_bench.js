// bench/ort_bench.js - ONNX Runtime's column of `make bench`: a node process
// that bench/compare.py keeps open for the whole run and drives by JSON
// lines on stdin, one reply line on stdout per request.
//
//   {"op": "load", "key": K, "model": PATH,
//    "inputs": [{"name": N, "file": RAW, "dtype": "float32", "shape": [..]}],
//    "state": {"h": "h_out"}}
//       -> {"ok": true, "outputs": [...]}     (a session, kept under K)
//   {"op": "time", "key": K, "seconds": S}
//       -> {"ok": true, "median_us": X, "runs": N}
//
// RAW files hold the input's elements, little-endian, C order. A session runs
// on one thread (intra- and inter-op), sequentially, with every graph
// optimisation, as the issue asks. "time" warms up for a tenth of S (at
// least 5 calls), then times single awaited session.run calls for S seconds
// (at least 5) and answers their median; a stateful model gets each state
// output back as its input after every call. The binding's own cost per call
// is what an Identity model of one element takes through the same path
// (compare.py loads one and times it every round).
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const ORT_DIR = path.join(__dirname, '../build/thirdparty/node_modules/onnxruntime-node');
let ort;
try {
  ort = require(ORT_DIR);
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: 'onnxruntime-node not found in ' +
    path.dirname(ORT_DIR) + ' (sh tests/thirdparty/fetch.sh): ' + e.message }) + '\n');
  process.exit(1);
}

const ARRAYS = { float32: Float32Array, int64: BigInt64Array, int32: Int32Array };
const sessions = new Map();

function readRaw(spec) {
  const T = ARRAYS[spec.dtype];
  if (!T) throw new Error(spec.name + ': dtype ' + spec.dtype + ' not handled');
  const b = fs.readFileSync(spec.file);
  const n = spec.shape.reduce((a, d) => a * d, 1);
  if (b.length !== n * T.BYTES_PER_ELEMENT)
    throw new Error(spec.file + ': ' + b.length + ' bytes, want ' + n * T.BYTES_PER_ELEMENT);
  const data = new T(new Uint8Array(b).buffer);
  return new ort.Tensor(spec.dtype, data, spec.shape);
}

async function load(req) {
  const s = await ort.InferenceSession.create(req.model, {
    intraOpNumThreads: 1, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const feeds = {};
  for (const spec of req.inputs) feeds[spec.name] = readRaw(spec);
  for (const name of s.inputNames)
    if (!feeds[name]) throw new Error(req.model + ': no data for input ' + name);
  const state = req.state || {};
  for (const [i, o] of Object.entries(state))
    if (!s.outputNames.includes(o)) throw new Error(req.model + ': no output ' + o + ' for ' + i);
  sessions.set(req.key, { s, feeds, state });
  return { ok: true, outputs: s.outputNames };
}

async function time(req) {
  const j = sessions.get(req.key);
  if (!j) throw new Error('no session ' + req.key);
  const { s, feeds, state } = j;
  const pairs = Object.entries(state);
  const call = async () => {
    const out = await s.run(feeds);
    for (const [i, o] of pairs) feeds[i] = out[o];
  };
  const seconds = Number(req.seconds);
  const now = () => Number(process.hrtime.bigint()) / 1e3;
  let t0 = now();
  for (let i = 0; i < 5 || now() - t0 < seconds * 1e5; i++) await call();
  const times = [];
  const end = now() + seconds * 1e6;
  while (times.length < 5 || now() < end) {
    const a = now();
    await call();
    times.push(now() - a);
  }
  times.sort((a, b) => a - b);
  const m = times.length >> 1;
  const median = times.length % 2 ? times[m] : (times[m - 1] + times[m]) / 2;
  return { ok: true, median_us: median, runs: times.length };
}

const rl = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
rl.on('line', (line) => {
  queue = queue.then(async () => {
    let reply;
    try {
      const req = JSON.parse(line);
      if (req.op === 'load') reply = await load(req);
      else if (req.op === 'time') reply = await time(req);
      else throw new Error('unknown op ' + req.op);
    } catch (e) {
      reply = { ok: false, error: e.message };
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
  });
});
