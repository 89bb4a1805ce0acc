// Agreement with TF.js itself: its cpu backend runs live inside the suite, in every runtime the suite runs in.
//
// Training: for every optimiser, an MLP and a small CNN (conv2d, max pool, flatten, dense softmax) start from the
// same weights (written into both) and fit the same 10 batches (no shuffle); afterwards every weight w of wasmnn
// and t of TF.js must satisfy |w − t| <= 1e-3·max(|t|, 1) (relative 1e-3, with an absolute floor of 1e-3).
// TF.js has no AdamW: there TF.js computes the gradients and a small optimiser written here applies PyTorch's AdamW
// formula to them in f64. Each optimiser's worst |w − t|/max(|t|, 1) is printed as `[report] agreement_<name>=`.
//
// Forward: every layer kind that both libraries have (dense, the activations, conv1d/2d, pooling 1d/2d/global,
// batch and layer normalisation, dropout at inference, flatten, reshape, rescaling), alone in a model with the same
// seeded weights, predicts the same inputs: |w − t| <= 1e-5·max(|t|, 1); the worst is `[report] agreement_forward=`.
//
// Sequences: an embedding (token ids) under an LSTM, a SimpleRNN under a GRU (TF.js's form: the reset gate before
// the recurrent product, hardSigmoid gates), an LSTM over 50 steps, and bidirectional LSTM and GRU layers (concat, ave)
// under a dense softmax
// predict alike before training (1e-5 as above) and have the same weights after 10 SGD and 10 Adam steps (1e-3);
// the worst is `[report] agreement_rnn=`.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import * as nn from 'wasmnn';
import { flatWeights, lcg, uniform } from './helpers';

const TRAIN_TOL = 1e-3;
const FORWARD_TOL = 1e-5;

/** max over i of |a_i − b_i| / max(|b_i|, 1): the scaled difference the tolerances above bound. */
function worstDiff(a: ArrayLike<number>, b: ArrayLike<number>, what: string): number {
  assert.is(a.length, b.length, `${what}: sizes`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1);
    if (!(d <= worst)) worst = d; // NaN sticks
  }
  return worst;
}

/** All of a TF.js model's weights in one array (getWeights order). */
const tfWeights = (m: tf.LayersModel) => Float32Array.from(m.getWeights().flatMap((w) => Array.from(w.dataSync())));

/**
 * Writes the same seeded values into both models, weight by weight (the two list them in the same order, Keras');
 * a moving variance gets values in [0.5, 1.5), everything else uniform(−scale, scale) with scale √(3/fan-in)-ish.
 */
function sameWeights(t: tf.LayersModel, m: nn.Sequential, seed: number): void {
  const mine = m.getWeights();
  const theirs = t.weights;
  assert.is(mine.length, theirs.length, 'number of weights');
  const values = theirs.map((w, i) => {
    assert.is(mine[i].size, w.shape.reduce((a: number, d) => a * (d ?? 1), 1), `weight ${i} (${w.name}) size`);
    const n = mine[i].size;
    if (/variance/.test(w.name)) return uniform(n, seed + i, 0.5, 1.5);
    const fanIn = w.shape.length > 1 ? n / w.shape[w.shape.length - 1]! : 4;
    const scale = Math.sqrt(3 / fanIn);
    return uniform(n, seed + i, -scale, scale);
  });
  t.setWeights(values.map((v, i) => tf.tensor(v, theirs[i].shape as number[])));
  m.setWeights(values.map((v, i) => nn.tensor(v, mine[i].shape)));
}

// ---------------------------------------------------------------------------------------------------------------------
const test = suite('agreement with TF.js (cpu backend)');
let started = 0;
test.before(async () => {
  started = performance.now();
  await nn.ready();
  await tf.setBackend('cpu');
  await tf.ready();
});

// ---- training ----

const N = 80;
const BATCH = 8; // 10 steps
const CLASSES = 3;

interface Net {
  name: string;
  inputShape: number[];
  /** Token ids in [0, ids) as the input (an embedding first), instead of uniforms. */
  ids?: number;
  tfLayers: () => tf.layers.Layer[];
  nnLayers: () => nn.layers.Layer[];
}

const NETS: Net[] = [
  {
    name: 'mlp',
    inputShape: [8],
    tfLayers: () => [
      tf.layers.dense({ units: 12, activation: 'relu', inputShape: [8] }),
      tf.layers.dense({ units: 8, activation: 'tanh' }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax' }),
    ],
    nnLayers: () => [
      nn.layers.dense({ units: 12, activation: 'relu', inputShape: [8] }),
      nn.layers.dense({ units: 8, activation: 'tanh' }),
      nn.layers.dense({ units: CLASSES, activation: 'softmax' }),
    ],
  },
  {
    name: 'cnn',
    inputShape: [8, 8, 2],
    tfLayers: () => [
      tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 2] }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: CLASSES, activation: 'softmax' }),
    ],
    nnLayers: () => [
      nn.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 2] }),
      nn.layers.maxPooling2d({ poolSize: 2 }),
      nn.layers.flatten(),
      nn.layers.dense({ units: CLASSES, activation: 'softmax' }),
    ],
  },
];

/** The data of one net: N seeded samples and one-hot labels of a seeded class. */
function dataFor(net: Net): { x: Float32Array; y: Float32Array } {
  const size = net.inputShape.reduce((a, d) => a * d, 1);
  const next = lcg(77);
  const y = new Float32Array(N * CLASSES);
  for (let i = 0; i < N; i++) y[i * CLASSES + Math.floor(next() * CLASSES)] = 1;
  const x = net.ids ? Float32Array.from(uniform(N * size, 78, 0, net.ids), Math.floor) : uniform(N * size, 78, -1, 1);
  return { x, y };
}

/**
 * PyTorch's AdamW, in f64, as a TF.js optimiser (TF.js has none): p −= lr·wd·p; m = β1·m + (1 − β1)·g;
 * v = β2·v + (1 − β2)·g²; p −= lr·m̂/(√v̂ + ε). The parameters live here in f64; TF.js' variables get their f32 value.
 * `keras` puts ε where Keras does, p −= lr·m̂/(√v̂ + ε/√(1 − β2^t)) (ε added to √v before the correction): the
 * control that shows the comparison can tell the two apart.
 */
class AdamWF64 extends tf.Optimizer {
  static className = 'AdamWF64';
  #t = 0;
  #state = new Map<string, { p: Float64Array; m: Float64Array; v: Float64Array }>();
  constructor(readonly lr: number, readonly weightDecay: number, readonly eps = 1e-7, readonly keras = false, readonly beta1 = 0.9, readonly beta2 = 0.999) {
    super();
  }
  applyGradients(grads: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const list = Array.isArray(grads) ? grads : Object.entries(grads).map(([name, tensor]) => ({ name, tensor }));
    this.#t++;
    const { lr, weightDecay: wd, beta1: b1, beta2: b2, eps } = this;
    const c1 = 1 - b1 ** this.#t, c2 = 1 - b2 ** this.#t;
    const epsHat = this.keras ? eps / Math.sqrt(c2) : eps;
    for (const { name, tensor } of list) {
      const variable = tf.engine().registeredVariables[name];
      let s = this.#state.get(name);
      if (!s) {
        const p = Float64Array.from(variable.dataSync());
        s = { p, m: new Float64Array(p.length), v: new Float64Array(p.length) };
        this.#state.set(name, s);
      }
      const g = tensor.dataSync();
      const { p, m, v } = s;
      for (let i = 0; i < p.length; i++) {
        p[i] -= lr * wd * p[i];
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        p[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + epsHat);
      }
      tf.tidy(() => variable.assign(tf.tensor(Float32Array.from(p), variable.shape)));
    }
  }
  getConfig() {
    return { lr: this.lr, weightDecay: this.weightDecay };
  }
}

const SEQ_NETS: Net[] = [
  {
    name: 'embedding -> lstm',
    inputShape: [6],
    ids: 10,
    tfLayers: () => [
      tf.layers.embedding({ inputDim: 10, outputDim: 4, inputShape: [6] }),
      tf.layers.lstm({ units: 5, recurrentActivation: 'sigmoid' }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax' }),
    ],
    nnLayers: () => [
      nn.layers.embedding({ inputDim: 10, outputDim: 4, inputShape: [6] }),
      nn.layers.lstm({ units: 5 }),
      nn.layers.dense({ units: CLASSES, activation: 'softmax' }),
    ],
  },
  {
    name: 'simpleRNN -> gru (reset before, hardSigmoid)',
    inputShape: [6, 3],
    tfLayers: () => [
      tf.layers.simpleRNN({ units: 4, returnSequences: true, inputShape: [6, 3] }),
      tf.layers.gru({ units: 5 }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax' }),
    ],
    nnLayers: () => [
      nn.layers.simpleRNN({ units: 4, returnSequences: true, inputShape: [6, 3] }),
      nn.layers.gru({ units: 5, resetAfter: false, recurrentActivation: 'hardSigmoid' }),
      nn.layers.dense({ units: CLASSES, activation: 'softmax' }),
    ],
  },
  {
    // backpropagation through a long sequence
    name: 'lstm over 50 steps',
    inputShape: [50, 2],
    tfLayers: () => [tf.layers.lstm({ units: 6, recurrentActivation: 'sigmoid', inputShape: [50, 2] }), tf.layers.dense({ units: CLASSES, activation: 'softmax' })],
    nnLayers: () => [nn.layers.lstm({ units: 6, inputShape: [50, 2] }), nn.layers.dense({ units: CLASSES, activation: 'softmax' })],
  },
  {
    name: 'bidirectional lstm (concat) -> bidirectional gru (ave)',
    inputShape: [5, 3],
    tfLayers: () => [
      tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3, returnSequences: true, recurrentActivation: 'sigmoid' }) as tf.RNN, mergeMode: 'concat', inputShape: [5, 3] }),
      tf.layers.bidirectional({ layer: tf.layers.gru({ units: 3, recurrentActivation: 'sigmoid' }) as tf.RNN, mergeMode: 'ave' }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax' }),
    ],
    nnLayers: () => [
      nn.layers.bidirectional({ layer: nn.layers.lstm({ units: 3, returnSequences: true }), mergeMode: 'concat', inputShape: [5, 3] }),
      nn.layers.bidirectional({ layer: nn.layers.gru({ units: 3, resetAfter: false }), mergeMode: 'ave' }),
      nn.layers.dense({ units: CLASSES, activation: 'softmax' }),
    ],
  },
];

/** [report name, wasmnn's optimiser, TF.js' optimiser (or the f64 AdamW above)]: TF.js' defaults where it has them. */
const OPTIMIZERS: [string, () => nn.Optimizer, () => tf.Optimizer][] = [
  ['sgd', () => nn.train.sgd(0.1), () => tf.train.sgd(0.1)],
  ['momentum', () => nn.train.momentum(0.05, 0.9), () => tf.train.momentum(0.05, 0.9)],
  ['nesterov', () => nn.train.momentum(0.05, 0.9, true), () => tf.train.momentum(0.05, 0.9, true)],
  ['rmsprop', () => nn.train.rmsprop(0.01), () => tf.train.rmsprop(0.01)],
  ['rmsprop', () => nn.train.rmsprop(0.01, 0.8, 0.5), () => tf.train.rmsprop(0.01, 0.8, 0.5)],
  ['adagrad', () => nn.train.adagrad(0.1), () => tf.train.adagrad(0.1)],
  ['adam', () => nn.train.adam(0.01), () => tf.train.adam(0.01)],
  // a large ε, where its place (before or after the bias correction) moves every weight
  ['adam', () => nn.train.adam(0.01, 0.9, 0.999, 1e-3), () => tf.train.adam(0.01, 0.9, 0.999, 1e-3)],
  ['adamw', () => nn.train.adamw(0.01, 0.1), () => new AdamWF64(0.01, 0.1)],
];

/** Trains both copies of `net` for 10 steps and returns the worst scaled difference of their weights. */
async function trainBoth(net: Net, makeNn: () => nn.Optimizer, makeTf: () => tf.Optimizer): Promise<number> {
  const { x, y } = dataFor(net);
  const theirs = tf.sequential({ layers: net.tfLayers() });
  const mine = nn.sequential({ seed: 1, layers: net.nnLayers() });
  sameWeights(theirs, mine, 500);
  const before = flatWeights(mine);
  theirs.compile({ optimizer: makeTf(), loss: 'categoricalCrossentropy' });
  mine.compile({ optimizer: makeNn(), loss: 'categoricalCrossentropy' });
  const tx = tf.tensor(x, [N, ...net.inputShape]), ty = tf.tensor(y, [N, CLASSES]);
  await theirs.fit(tx, ty, { batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0 });
  await mine.fit(nn.tensor(x, [N, ...net.inputShape]), nn.tensor(y, [N, CLASSES]), { batchSize: BATCH, epochs: 1, shuffle: false });
  const a = flatWeights(mine), b = tfWeights(theirs);
  // the comparison says something only when training moved the weights well past the tolerance
  assert.ok(worstDiff(before, b, 'moved') > 20 * TRAIN_TOL, `${net.name}: TF.js' weights hardly moved`);
  tf.dispose([tx, ty]);
  theirs.dispose();
  mine.dispose();
  return worstDiff(a, b, net.name);
}

const worst: Record<string, number> = {};
for (const [name, makeNn, makeTf] of OPTIMIZERS) {
  for (const net of NETS) {
    test(`${name} (${JSON.stringify(makeNn().getConfig()).slice(0, 120)}): ${net.name} weights after 10 steps`, async () => {
      const d = await trainBoth(net, makeNn, makeTf);
      worst[name] = Math.max(worst[name] ?? 0, d);
      assert.ok(d <= TRAIN_TOL, `${name}, ${net.name}: worst |w − t|/max(|t|, 1) ${d.toExponential(2)} > ${TRAIN_TOL}`);
    });
  }
}

let rnnWorst = 0;
for (const net of SEQ_NETS) {
  test(`sequences, forward: ${net.name}`, () => {
    const { x } = dataFor(net);
    const theirs = tf.sequential({ layers: net.tfLayers() });
    const mine = nn.sequential({ seed: 1, layers: net.nnLayers() });
    sameWeights(theirs, mine, 700);
    const tx = tf.tensor(x, [N, ...net.inputShape]);
    const ty = theirs.predict(tx) as tf.Tensor;
    const d = worstDiff(mine.predict(nn.tensor(x, [N, ...net.inputShape])).data, ty.dataSync(), net.name);
    tf.dispose([tx, ty]);
    theirs.dispose();
    mine.dispose();
    rnnWorst = Math.max(rnnWorst, d);
    assert.ok(d <= FORWARD_TOL, `${net.name}: worst |w − t|/max(|t|, 1) ${d.toExponential(2)} > ${FORWARD_TOL}`);
  });
  for (const [name, makeNn, makeTf] of OPTIMIZERS.filter(([n]) => n === 'sgd' || n === 'adam')) {
    test(`sequences, ${name} (${JSON.stringify(makeNn().getConfig()).slice(0, 80)}): ${net.name} weights after 10 steps`, async () => {
      const d = await trainBoth(net, makeNn, makeTf);
      rnnWorst = Math.max(rnnWorst, d);
      assert.ok(d <= TRAIN_TOL, `${name}, ${net.name}: worst |w − t|/max(|t|, 1) ${d.toExponential(2)} > ${TRAIN_TOL}`);
    });
  }
}

test('the worst difference of the sequence models', () => {
  console.log(`\n[report] agreement_rnn=${rnnWorst.toExponential(2)}`);
});

test("the control: Adam with Keras' place of ε is told apart (TF.js' gradients, that update in f64)", async () => {
  for (const net of NETS) {
    const d = await trainBoth(net, () => nn.train.adam(0.01, 0.9, 0.999, 1e-3), () => new AdamWF64(0.01, 0, 1e-3, true));
    assert.ok(d > 10 * TRAIN_TOL, `${net.name}: Keras' Adam is only ${d.toExponential(2)} away`);
    const same = await trainBoth(net, () => nn.train.adam(0.01, 0.9, 0.999, 1e-3), () => new AdamWF64(0.01, 0, 1e-3));
    assert.ok(same <= TRAIN_TOL, `${net.name}: Adam in f64 is ${same.toExponential(2)} away`);
  }
});

test('the worst difference of each optimiser', () => {
  for (const name of new Set(OPTIMIZERS.map(([n]) => n))) {
    assert.ok(name in worst, `${name} was not compared`);
    console.log(`\n[report] agreement_${name}=${worst[name].toExponential(2)}`);
  }
});

// ---- forward ----

/** [name, input shape, TF.js layer, wasmnn layer, input range]. */
type Case = [string, number[], () => tf.layers.Layer, () => nn.layers.Layer, number?];

const ACTIVATIONS: [string, string][] = [
  ['linear', 'linear'], ['relu', 'relu'], ['elu', 'elu'], ['sigmoid', 'sigmoid'], ['tanh', 'tanh'],
  ['softplus', 'softplus'], ['softmax', 'softmax'], ['gelu', 'gelu'], ['gelu_new', 'geluTanh'],
];

/** The same configuration for both libraries' factory of one name (their argument names are TF.js'). */
function same(kind: string, config: Record<string, unknown>, inputShape: number[]): [() => tf.layers.Layer, () => nn.layers.Layer] {
  const tfMake = (tf.layers as unknown as Record<string, (c: unknown) => tf.layers.Layer>)[kind];
  const nnMake = (nn.layers as unknown as Record<string, (c: unknown) => nn.layers.Layer>)[kind];
  assert.type(tfMake, 'function', `TF.js has no layer ${kind}`);
  assert.type(nnMake, 'function', `wasmnn has no layer ${kind}`);
  return [() => tfMake({ ...config, inputShape }), () => nnMake({ ...config, inputShape })];
}

function layerCase(kind: string, config: Record<string, unknown>, inputShape: number[], range?: number): Case {
  return [`${kind} ${JSON.stringify(config)}`, inputShape, ...same(kind, config, inputShape), range];
}

const CASES: Case[] = [
  layerCase('dense', { units: 5 }, [7]),
  layerCase('dense', { units: 6, activation: 'relu', useBias: false }, [9]),
  ...ACTIVATIONS.map(([theirs, mine]): Case => [`activation ${theirs}`, [11],
    () => tf.layers.activation({ activation: theirs as 'relu', inputShape: [11] }),
    () => nn.layers.activation({ activation: mine, inputShape: [11] }), 4]),
  ['leakyReLU 0.2 / activation leakyRelu', [11], () => tf.layers.leakyReLU({ alpha: 0.2, inputShape: [11] }),
    () => nn.layers.activation({ activation: 'leakyRelu', alpha: 0.2, inputShape: [11] }), 4],
  layerCase('conv1d', { filters: 4, kernelSize: 3, padding: 'same' }, [10, 3]),
  // (TF.js' conv1d has no 'causal' padding: "not implemented yet")
  layerCase('conv1d', { filters: 3, kernelSize: 2, dilationRate: 2, strides: 1, activation: 'tanh' }, [9, 2]),
  layerCase('conv2d', { filters: 5, kernelSize: 3, padding: 'same', activation: 'relu' }, [7, 6, 3]),
  layerCase('conv2d', { filters: 4, kernelSize: [2, 3], strides: 2 }, [7, 8, 2]),
  layerCase('conv2d', { filters: 3, kernelSize: 3, dilationRate: 2, activation: 'sigmoid' }, [8, 8, 2]),
  layerCase('maxPooling1d', { poolSize: 2 }, [9, 4]),
  layerCase('averagePooling1d', { poolSize: 3, strides: 2, padding: 'same' }, [9, 4]),
  layerCase('maxPooling2d', { poolSize: 2 }, [7, 8, 3]),
  layerCase('maxPooling2d', { poolSize: 3, strides: 2, padding: 'same' }, [7, 8, 3]),
  layerCase('averagePooling2d', { poolSize: [2, 3], strides: 1, padding: 'same' }, [5, 6, 2]),
  layerCase('globalAveragePooling1d', {}, [9, 4]),
  layerCase('globalMaxPooling1d', {}, [9, 4]),
  layerCase('globalAveragePooling2d', {}, [5, 6, 3]),
  layerCase('globalMaxPooling2d', {}, [5, 6, 3]),
  layerCase('batchNormalization', { epsilon: 1e-3 }, [6]),
  layerCase('batchNormalization', { epsilon: 1e-3 }, [4, 5, 3]),
  layerCase('layerNormalization', { epsilon: 1e-3 }, [7]),
  layerCase('layerNormalization', { epsilon: 1e-3 }, [3, 5]),
  layerCase('dropout', { rate: 0.4 }, [10]),
  layerCase('flatten', {}, [3, 4, 2]),
  layerCase('reshape', { targetShape: [4, 6] }, [24]),
  layerCase('rescaling', { scale: 1 / 255, offset: -0.5 }, [6]),
];

let forwardWorst = 0;
for (const [name, inputShape, makeTf, makeNn, range = 2] of CASES) {
  test(`forward: ${name}`, () => {
    const theirs = tf.sequential({ layers: [makeTf()] });
    const mine = nn.sequential({ seed: 3, layers: [makeNn()] });
    sameWeights(theirs, mine, 900);
    const rows = 3;
    const x = uniform(rows * inputShape.reduce((a, d) => a * d, 1), 901, -range, range);
    const tx = tf.tensor(x, [rows, ...inputShape]);
    const ty = theirs.predict(tx) as tf.Tensor;
    const y = mine.predict(nn.tensor(x, [rows, ...inputShape]));
    assert.equal(y.shape, ty.shape, `${name}: output shape`);
    const d = worstDiff(y.data, ty.dataSync(), name);
    forwardWorst = Math.max(forwardWorst, d);
    tf.dispose([tx, ty]);
    theirs.dispose();
    mine.dispose();
    assert.ok(d <= FORWARD_TOL, `${name}: worst |w − t|/max(|t|, 1) ${d.toExponential(2)} > ${FORWARD_TOL}`);
  });
}

test('the worst forward difference', () => {
  console.log(`\n[report] agreement_forward=${forwardWorst.toExponential(2)}`);
  console.log(`\n[report] agreement_seconds=${((performance.now() - started) / 1000).toFixed(1)}`);
});

test.run();
