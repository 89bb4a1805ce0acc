// Builds small TF.js layers models with seeded weights, saves each as TF.js would (model.json + one weights file,
// captured in memory by tf.io.withSaveHandler), predicts fixed inputs with TF.js' cpu backend and writes them all
// to tests/runtime/fixtures/tfjs-models.ts, which tests/runtime/tfjs-import.test.ts checks wasmnn against.
// Some models are also saved with quantized weights (QUANTIZED: uint8 / uint16 codes with a scale and min per weight,
// or float16, as tensorflowjs_converter's --quantize_* options write them); their predictions are TF.js' own after
// it loads the quantized files back (tf.io.fromMemory), so they check the importer's dequantization too.
//   node scripts/make-tfjs-fixtures.mjs
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';

const OUT = 'tests/runtime/fixtures/tfjs-models.ts';
const BATCH = 3;

/** A seeded stream of uniforms in [0, 1) (32-bit LCG), so the fixtures are the same on every run. */
function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const L = tf.layers;
/** name -> the layers of a sequential model (the first one carries the input shape). */
const MODELS = {
  mlp: () => [
    L.dense({ units: 16, activation: 'relu', inputShape: [8] }),
    L.dropout({ rate: 0.25 }),
    L.dense({ units: 8, activation: 'tanh', useBias: false }),
    L.leakyReLU({ alpha: 0.2 }),
    L.dense({ units: 4, activation: 'softmax' }),
  ],
  cnn2d: () => [
    L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [9, 10, 2] }),
    L.batchNormalization({ momentum: 0.9, epsilon: 1e-3 }),
    L.maxPooling2d({ poolSize: 2 }),
    L.conv2d({ filters: 18, kernelSize: [3, 2], strides: [1, 2], padding: 'same', activation: 'elu' }),
    L.conv2d({ filters: 6, kernelSize: 2, padding: 'valid', activation: 'sigmoid' }),
    L.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
    L.flatten(),
    L.dense({ units: 5 }),
  ],
  dilated: () => [
    L.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, activation: 'tanh', inputShape: [8, 8, 3] }),
    L.maxPooling2d({ poolSize: [3, 2], strides: [1, 2], padding: 'same' }),
    L.activation({ activation: 'softplus' }),
    L.flatten(),
    L.dense({ units: 3, activation: 'softmax' }),
  ],
  cnn1d: () => [
    L.conv1d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [12, 3] }),
    L.maxPooling1d({ poolSize: 2 }),
    L.conv1d({ filters: 20, kernelSize: 2, strides: 2, padding: 'same' }),
    L.averagePooling1d({ poolSize: 2, padding: 'same' }),
    L.flatten(),
    L.dense({ units: 2, activation: 'sigmoid' }),
  ],
  norms: () => [
    L.dense({ units: 12, inputShape: [6] }),
    L.reshape({ targetShape: [4, 3] }),
    L.layerNormalization({ epsilon: 1e-5 }),
    L.conv1d({ filters: 4, kernelSize: 2 }),
    L.batchNormalization({ epsilon: 0.01 }),
    L.activation({ activation: 'relu' }),
    L.flatten(),
    L.dense({ units: 5, activation: 'softmax' }),
  ],
  // sequences: token ids in (padded with 0, masked), TF.js's own recurrent defaults (hardSigmoid gates, a GRU that
  // resets before the recurrent product)
  rnn: () => [
    L.embedding({ inputDim: 9, outputDim: 4, maskZero: true, inputShape: [7] }),
    L.lstm({ units: 5, returnSequences: true }),
    L.gru({ units: 4, returnSequences: true, goBackwards: true }),
    L.simpleRNN({ units: 3 }),
    L.dense({ units: 2, activation: 'softmax' }),
  ],
  birnn: () => [
    L.bidirectional({ layer: L.lstm({ units: 3, returnSequences: true }), mergeMode: 'concat', inputShape: [5, 2] }),
    L.timeDistributed({ layer: L.dense({ units: 4, activation: 'tanh' }) }),
    L.bidirectional({ layer: L.gru({ units: 2, returnSequences: true }), mergeMode: 'sum' }),
    L.bidirectional({ layer: L.simpleRNN({ units: 2 }), mergeMode: 'ave' }),
  ],
  // an unsupported layer: the loader must name it
  upsampling: () => [L.upSampling2d({ size: [2, 2], inputShape: [3, 2, 1] }), L.flatten(), L.dense({ units: 1 })],
  // a functional model whose layers form one chain (made by chain() below; the loader orders it from its graph)
  chain: 'functional',
  // a character model with its steps left open (inputShape [null]: TF.js saves batch_input_shape [null, null]),
  // predicting the next character at every step; predicted at STEPS and at OTHER_STEPS steps (see main)
  openSteps: () => [
    L.embedding({ inputDim: 11, outputDim: 4, maskZero: true, inputShape: [null] }),
    L.lstm({ units: 6, returnSequences: true }),
    L.gru({ units: 5, returnSequences: true }),
    L.dense({ units: 11, activation: 'softmax' }),
  ],
};

/** The steps an open-steps model is predicted at: its fixture's input, then one more run (`other`). */
const STEPS = 7;
const OTHER_STEPS = 3;

/** The functional chain: input -> conv1d -> flatten -> dense -> dense, built with layer.apply(). */
function chain() {
  const input = tf.input({ shape: [6, 2], name: 'chain_input' });
  let x = L.conv1d({ filters: 3, kernelSize: 2, activation: 'relu' }).apply(input);
  x = L.flatten().apply(x);
  x = L.dense({ units: 5, activation: 'tanh' }).apply(x);
  x = L.dense({ units: 2, activation: 'softmax' }).apply(x);
  return tf.model({ inputs: input, outputs: x, name: 'chain' });
}

/** Model name -> the quantization of its `<name>_<dtype>` variant. */
const QUANTIZED = { mlp: 'uint8', cnn2d: 'uint16', norms: 'float16' };

/** IEEE half of a float32 value, rounded to nearest even (the values here are small and normal or zero). */
function toHalf(v) {
  const u = new Uint32Array(new Float32Array([v]).buffer)[0];
  const sign = (u >>> 16) & 0x8000, e = ((u >>> 23) & 0xff) - 127 + 15, mant = u & 0x7fffff;
  if (e <= 0) return sign; // below half's normal range: zero (no fixture weight is that small)
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** The weight specs and data of `artifacts` quantized to dtype, per weight: codes = round((w - min) / scale). */
function quantize(artifacts, dtype) {
  const data = new Float32Array(artifacts.weightData);
  const specs = [], parts = [];
  let at = 0;
  for (const spec of artifacts.weightSpecs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const w = data.subarray(at, at + n);
    at += n;
    if (dtype === 'float16') {
      parts.push(new Uint8Array(Uint16Array.from(w, toHalf).buffer));
      specs.push({ ...spec, quantization: { dtype } });
      continue;
    }
    const levels = dtype === 'uint8' ? 255 : 65535;
    const min = Math.min(...w), max = Math.max(...w);
    const scale = max > min ? (max - min) / levels : 1;
    const codes = Array.from(w, (v) => Math.min(levels, Math.max(0, Math.round((v - min) / scale))));
    parts.push(new Uint8Array((dtype === 'uint8' ? Uint8Array.from(codes) : Uint16Array.from(codes)).buffer));
    specs.push({ ...spec, quantization: { dtype, min, scale } });
  }
  const bytes = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return { ...artifacts, weightSpecs: specs, weightData: bytes.buffer };
}

/** Seeded weights: kernels small and centred, batch-norm variances positive. */
function seedWeights(model, seed) {
  const next = lcg(seed);
  model.setWeights(model.weights.map((w) => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const variance = /moving_variance/.test(w.originalName ?? w.name);
    const values = Float32Array.from({ length: n }, () => (variance ? 0.5 + next() : next() * 1.6 - 0.8));
    return tf.tensor(values, w.shape);
  }));
}

async function artifactsOf(model) {
  let artifacts;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  if (!(artifacts.weightData instanceof ArrayBuffer)) artifacts.weightData = await new Blob(artifacts.weightData).arrayBuffer();
  return artifacts;
}

async function saved(artifacts) {
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
  };
  const data = artifacts.weightData instanceof ArrayBuffer ? artifacts.weightData : await new Blob(artifacts.weightData).arrayBuffer();
  return { modelJson, weights: Buffer.from(data).toString('base64') };
}

async function main() {
  await tf.setBackend('cpu');
  const out = {};
  let seed = 1;
  for (const [name, make] of Object.entries(MODELS)) {
    const model = make === 'functional' ? chain() : tf.sequential({ name, layers: make() });
    seedWeights(model, seed++);
    const open = model.inputs[0].shape[1] === null;
    const inputShape = open ? [STEPS, ...model.inputs[0].shape.slice(2)] : model.inputs[0].shape.slice(1);
    const next = lcg(1000 + seed);
    const ids = model.layers[0].getClassName() === 'Embedding';
    /** A batch of inputs of `shape`: token ids for an embedding (the last steps of some samples padded with 0),
     *  else uniforms in [-2, 2). */
    const inputsOf = (shape) => {
      const size = BATCH * shape.reduce((a, b) => a * b, 1), T = shape[0];
      return ids
        ? Array.from({ length: size }, (_, i) => (i % T >= T - (Math.floor(i / T) % 3) ? 0 : 1 + Math.floor(next() * (model.layers[0].inputDim - 1))))
        : Array.from({ length: size }, () => Math.round((next() * 4 - 2) * 1e4) / 1e4);
    };
    const input = inputsOf(inputShape);
    const y = model.predict(tf.tensor(input, [BATCH, ...inputShape]));
    let other;
    if (open) {
      const shape = [OTHER_STEPS, ...inputShape.slice(1)], x = inputsOf(shape);
      const yo = model.predict(tf.tensor(x, [BATCH, ...shape]));
      other = { inputShape: shape, input: x, outputShape: yo.shape.slice(1), output: Array.from(await yo.data()) };
    }
    const artifacts = await artifactsOf(model);
    out[name] = { ...(await saved(artifacts)), inputShape, input, outputShape: y.shape.slice(1), output: Array.from(await y.data()), ...(other ? { other } : {}) };
    const dtype = QUANTIZED[name];
    if (dtype) {
      const q = quantize(artifacts, dtype);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(q));
      const yq = loaded.predict(tf.tensor(input, [BATCH, ...inputShape]));
      out[`${name}_${dtype}`] = { ...(await saved(q)), inputShape, input, outputShape: yq.shape.slice(1), output: Array.from(await yq.data()) };
    }
  }
  const text = [
    '// Generated by scripts/make-tfjs-fixtures.mjs with @tensorflow/tfjs ' + tf.version.tfjs + ' (cpu backend): do not edit.',
    '// Per model: model.json as TF.js saves it, its weights file in base64, a batch of inputs and TF.js\' predictions.',
    '/* eslint-disable */',
    'export interface TfjsFixture {',
    '  modelJson: any;',
    '  weights: string;',
    '  inputShape: number[];',
    '  input: number[];',
    '  outputShape: number[];',
    '  output: number[];',
    '  /** A model whose steps are open: a run at another number of steps. */',
    '  other?: { inputShape: number[]; input: number[]; outputShape: number[]; output: number[] };',
    '}',
    '',
    `export const BATCH = ${BATCH};`,
    `export const MODELS: Record<string, TfjsFixture> = ${JSON.stringify(out)};`,
    '',
  ].join('\n');
  mkdirSync('tests/runtime/fixtures', { recursive: true });
  writeFileSync(OUT, text);
  console.log(`${OUT}: ${Object.keys(out).join(', ')}; ${(text.length / 1024).toFixed(1)} KB`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
