// tests/thirdparty/npy.js - .npy files as ONNX Runtime tensors, for the
// node scripts that run ORT (ort_seq.js, bench/ort/ort_time.js): float32
// ('<f4') and int64 ('<i8'), C order.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '../../build/thirdparty/node_modules/onnxruntime-node'));

function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(file + ': not .npy');
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const h = b.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(h)[1];
  if (/'fortran_order':\s*True/.test(h)) throw new Error(file + ': Fortran order');
  const shape = /'shape':\s*\(([^)]*)\)/.exec(h)[1].split(',')
    .map((s) => s.trim()).filter((s) => s.length).map(Number);
  const data = b.subarray(hstart + hlen);
  const copy = new Uint8Array(data).buffer;
  if (descr === '<f4') return new ort.Tensor('float32', new Float32Array(copy), shape);
  if (descr === '<i8') return new ort.Tensor('int64', new BigInt64Array(copy), shape);
  throw new Error(file + ': dtype ' + descr + ' not handled');
}

function writeNpy(file, t) {
  const descr = t.type === 'float32' ? '<f4' : t.type === 'int64' ? '<i8' : null;
  if (!descr) throw new Error('output dtype ' + t.type + ' not handled');
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  while ((10 + h.length + 1) % 64) h += ' ';
  h += '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(h.length, 8);
  const d = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(h, 'latin1'), d]));
}

module.exports = { ort, readNpy, writeNpy };
