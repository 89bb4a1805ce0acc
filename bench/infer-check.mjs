// Checks that wasmnn/infer (dist/infer.js + dist/wasmnn-infer.wasm) predicts the same bits as the full library
// (dist/index.js + dist/wasmnn.wasm): the CLI's saved MLP and CNN (paths as arguments, optional), and a model of
// every layer type the inference build loads. Usage: node bench/infer-check.mjs [/tmp/m.wnn /tmp/c.wnn]
import { readFileSync } from 'node:fs';
import * as nn from '../dist/index.js';
import * as infer from '../dist/infer.js';

await nn.ready();
await infer.ready();
const L = nn.layers;
let failures = 0;

function inputs(shape, n, seed) {
  let s = seed >>> 0; // a small LCG: the inputs only need to be varied and reproducible
  const size = shape.reduce((a, b) => a * b, 1);
  return nn.tensor(Float32Array.from({ length: n * size }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31) - 1), [n, ...shape]);
}

function compare(what, bytes, n = 37) {
  const full = nn.loadModel(bytes);
  const edge = infer.loadModel(bytes);
  const x = inputs(full.inputShape, n, 7);
  const a = full.predict(x).data, b = edge.predict(infer.tensor(x.data, x.shape)).data;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let diff = ua.length === ub.length ? 0 : Infinity;
  if (!b.every(Number.isFinite) || b.every((v) => v === b[0])) diff = Infinity; // a constant or NaN output proves nothing
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) diff++;
  // one sample alone (the few-rows gemm path) must give the same bits as in the batch
  const one = edge.predict(infer.tensor(x.data.slice(0, x.size / n), [1, ...full.inputShape])).data;
  for (let i = 0; i < one.length; i++) if (Object.is(one[i], b[i]) === false) diff++;
  console.log(`${diff === 0 ? 'same bits' : `DIFFERENT (${diff} values)`}  ${what}: ${n} samples x ${b.length / n} outputs`);
  if (diff) failures++;
  full.dispose();
  edge.dispose();
}

for (const path of process.argv.slice(2)) compare(path, readFileSync(path));

const models = {
  'dense, dropout, batch norm, layer norm, rms norm, activations': () => nn.sequential({ seed: 3, layers: [
    L.dense({ inputShape: [20], units: 33, activation: 'gelu' }), L.dropout({ rate: 0.3 }),
    L.batchNormalization(), L.dense({ units: 17, activation: 'tanh' }), L.layerNormalization(),
    L.dense({ units: 9, activation: 'elu' }), L.rmsNormalization(), L.activation({ activation: 'sigmoid' }),
    L.dense({ units: 5, activation: 'softmax' }),
  ] }),
  'conv2d (im2col and direct), pooling, residual, rescaling, reshape, augment': () => nn.sequential({ seed: 4, layers: [
    L.rescaling({ inputShape: [12, 12, 3], scale: 0.5, offset: 0.1 }), L.randomAugment({ flip: true }),
    L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
    L.residual({ layers: [L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }), L.batchNormalization()] }),
    L.maxPooling2d({ poolSize: 2 }), L.conv2d({ filters: 5, kernelSize: 1 }), L.averagePooling2d({ poolSize: 2 }),
    L.reshape({ targetShape: [9, 5] }), L.conv1d({ filters: 4, kernelSize: 3 }), L.maxPooling1d({ poolSize: 2 }),
    L.globalAveragePooling1d(), L.dense({ units: 3 }),
  ] }),
  'global pooling 2d, conv1d, average pooling 1d': () => nn.sequential({ seed: 5, layers: [
    L.conv2d({ inputShape: [7, 9, 2], filters: 6, kernelSize: [3, 2], strides: 2, activation: 'leakyRelu' }),
    L.globalMaxPooling2d(), L.reshape({ targetShape: [6, 1] }), L.conv1d({ filters: 3, kernelSize: 2 }),
    L.averagePooling1d({ poolSize: 2 }), L.flatten(), L.dense({ units: 4, activation: 'softplus' }),
  ] }),
};
for (const [what, make] of Object.entries(models)) {
  const model = make();
  model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
  const x = inputs(model.inputShape, 64, 1);
  const y = inputs(model.outputShape, 64, 2);
  await model.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 }); // trained, so batch-norm statistics are not the defaults
  compare(what, model.save());
  compare(`${what} (f16 weights)`, model.save({ weights: 'f16' }));
  model.dispose();
}
console.log(failures ? `${failures} models differ` : 'all the same');
process.exit(failures ? 1 : 0);
