// tests/thirdparty/ort_seq.js - ONNX Runtime as the oracle: runs MODEL on a
// sequence of steps, feeding outputs back as inputs between steps, one
// thread, all graph optimisations.
//
//   node ort_seq.js MODEL DIR STEPS [OUT=IN]...
//
// Step i reads DIR/i/<input>.npy for every model input not fed back; a fed
// back input is read from DIR/init/<input>.npy at step 0 and is output OUT of
// the step before afterwards. Each step writes every input it used to
// DIR/i/<input>.npy and every output to DIR/i/ort_<output>.npy.
// .npy: float32 ('<f4') and int64 ('<i8'), C order.
'use strict';
const path = require('path');
const { ort, readNpy, writeNpy } = require('./npy.js');

(async () => {
  const [model, dir, stepsArg, ...pairs] = process.argv.slice(2);
  const feed = {}; // input name -> output name
  for (const p of pairs) {
    const [o, i] = p.split('=');
    feed[i] = o;
  }
  const s = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  let prev = null;
  for (let i = 0; i < Number(stepsArg); i++) {
    const d = path.join(dir, String(i));
    const inputs = {};
    for (const name of s.inputNames) {
      if (feed[name] !== undefined)
        inputs[name] = prev ? prev[feed[name]] : readNpy(path.join(dir, 'init', name + '.npy'));
      else inputs[name] = readNpy(path.join(d, name + '.npy'));
      writeNpy(path.join(d, name + '.npy'), inputs[name]);
    }
    const out = await s.run(inputs);
    for (const name of s.outputNames) writeNpy(path.join(d, 'ort_' + name + '.npy'), out[name]);
    prev = out;
  }
})().catch((e) => { console.error('ort_seq.js: ' + e.message); process.exit(1); });
