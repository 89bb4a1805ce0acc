// Training end to end: the textbook's classics (perceptron, XOR, logistic regression, sin(x)), what fit does with its
// options (dropout, early stopping, validation, class weights, callbacks, initialEpoch, clipping), and the model's
// weights, summary and predict.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { close, flatWeights, lcg, rejectsError, sameBits, uniform } from './helpers';

const { layers, train } = nn;

const XOR_X = [[0, 0], [0, 1], [1, 0], [1, 1]];

// ---------------------------------------------------------------------------------------------------------------------
const classics = suite('training: classics');
classics.before(async () => {
  await nn.ready();
});

for (const [gate, x, y] of [
  ['AND', XOR_X, [0, 0, 0, 1]],
  ['OR', XOR_X, [0, 1, 1, 1]],
  ['NOT', [[0], [1]], [1, 0]],
] as const) {
  classics(`perceptron learns ${gate}`, async () => {
    const p = new nn.Perceptron({ inputs: x[0].length, maxEpochs: 50 });
    const result = await p.fit(x.map((r) => r.slice()), y.slice());
    assert.is(result.converged, true, `${gate}: ${JSON.stringify(result)}`);
    assert.is(result.mistakes[result.mistakes.length - 1], 0);
    assert.ok(result.mistakes[0] > 0, 'it had something to learn (weights start at zero)');
    assert.equal(Array.from(p.predict(x.map((r) => r.slice()))), y.slice());
    p.dispose();
  });
}

classics('perceptron does not converge on XOR, and says so', async () => {
  const p = new nn.Perceptron({ inputs: 2, maxEpochs: 30 });
  const result = await p.fit(XOR_X.map((r) => r.slice()), [0, 1, 1, 0]);
  assert.is(result.converged, false);
  assert.is(result.epochs, 30);
  assert.is(result.mistakes.length, 30);
  assert.ok(result.mistakes.every((m) => m > 0), `every epoch has mistakes: ${result.mistakes}`);
  p.dispose();
});

classics('a two-layer MLP learns XOR to 100%', async () => {
  // the four points repeated 8 times: 8 steps per epoch, so few epochs
  const x = nn.tensor2d(Array.from({ length: 32 }, (_, i) => XOR_X[i % 4].slice()));
  const y = nn.tensor2d(Array.from({ length: 32 }, (_, i) => [[0, 1, 1, 0][i % 4]]));
  const m = nn.sequential({ seed: 3, layers: [layers.dense({ inputShape: [2], units: 8, activation: 'tanh' }), layers.dense({ units: 1, activation: 'sigmoid' })] });
  m.compile({ optimizer: train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  await m.fit(x, y, { epochs: 25, batchSize: 4 });
  const { accuracy, loss } = m.evaluate(x, y);
  assert.is(accuracy, 1, `accuracy ${accuracy}, loss ${loss}`);
  const p = m.predict(nn.tensor2d(XOR_X.map((r) => r.slice()))).data;
  assert.equal(Array.from(p, (v) => (v > 0.5 ? 1 : 0)), [0, 1, 1, 0]);
  assert.ok(loss < 0.1, `confident, not just right: loss ${loss}`);
  m.dispose();
});

classics('logistic regression separates a linearly separable 2-D set (100%)', async () => {
  // points in [-1, 1]² labelled by x1 + 2·x2 > 0.3, keeping only those at least 0.1 away from the line
  const next = lcg(21);
  const xs: number[][] = [], ys: number[] = [];
  while (xs.length < 200) {
    const a = 2 * next() - 1, b = 2 * next() - 1;
    const d = (a + 2 * b - 0.3) / Math.sqrt(5);
    if (Math.abs(d) < 0.1) continue;
    xs.push([a, b]);
    ys.push(d > 0 ? 1 : 0);
  }
  const m = nn.sequential({ seed: 4, layers: [layers.dense({ inputShape: [2], units: 1, activation: 'sigmoid' })] });
  m.compile({ optimizer: train.adam(0.1), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  await m.fit(nn.tensor2d(xs), ys, { epochs: 30, batchSize: 20 });
  assert.is(m.evaluate(nn.tensor2d(xs), ys).accuracy, 1);
  // the boundary found is the true one, up to scale: w ∝ (1, 2), b/w1 ≈ −0.3
  const [w, b] = m.getWeights();
  close(w.data[1] / w.data[0], 2, 'w2/w1', 0.25);
  close(b.data[0] / w.data[0], -0.3, 'b/w1', 0, 0.1);
  m.dispose();
});

classics('an MSE regression fits sin(x) on [−π, π]: held-out MSE < 5e-4, max error < 0.06', async () => {
  const n = 128;
  const x = new Float32Array(n), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = -Math.PI + (2 * Math.PI * i) / (n - 1);
    y[i] = Math.sin(x[i]);
  }
  // 16 tanh units, spread over the interval at the start (biases in ±3) so each can take a piece of the curve
  const m = nn.sequential({ seed: 1, layers: [
    layers.dense({ inputShape: [1], units: 16, activation: 'tanh', kernelInitializer: nn.initializers.randomUniform({ minval: -2, maxval: 2 }),
      biasInitializer: nn.initializers.randomUniform({ minval: -3, maxval: 3 }) }),
    layers.dense({ units: 1 })] });
  const epochs = 60, batchSize = 8;
  m.compile({ optimizer: train.adam(nn.schedules.cosineDecay({ initialLearningRate: 0.02, decaySteps: (epochs * n) / batchSize, alpha: 0.05 })), loss: 'meanSquaredError' });
  await m.fit(nn.tensor2d(x, [n, 1]), nn.tensor2d(y, [n, 1]), { epochs, batchSize });
  // held out: the midpoints of a different grid
  const t = 101;
  const tx = Float32Array.from({ length: t }, (_, i) => -Math.PI + (2 * Math.PI * (i + 0.5)) / t);
  const p = m.predict(nn.tensor2d(tx, [t, 1])).data;
  let mse = 0, worst = 0;
  for (let i = 0; i < t; i++) {
    const d = p[i] - Math.sin(tx[i]);
    mse += (d * d) / t;
    worst = Math.max(worst, Math.abs(d));
  }
  assert.ok(mse < 5e-4, `held-out MSE ${mse}`);
  assert.ok(worst < 0.06, `max |error| ${worst}`);
  m.dispose();
});

// ---------------------------------------------------------------------------------------------------------------------
const fitting = suite('training: fit options');
fitting.before(async () => {
  await nn.ready();
});

/** A small 3-class problem: the class is which of three integer-made features is largest. */
function threeClasses(n: number, seed: number) {
  const x = uniform(n * 4, seed);
  const labels = Int32Array.from({ length: n }, (_, i) => {
    const r = x.subarray(i * 4, i * 4 + 3);
    return r[0] > r[1] ? (r[0] > r[2] ? 0 : 2) : r[1] > r[2] ? 1 : 2;
  });
  return { x: nn.tensor2d(x, [n, 4]), labels };
}
const classifier = (seed = 1, extra: nn.layers.Layer[] = []) =>
  nn.sequential({ seed, layers: [layers.dense({ inputShape: [4], units: 8, activation: 'relu' }), ...extra, layers.dense({ units: 3, activation: 'softmax' })] });

fitting('dropout is off in predict and evaluate, on (inverted, scaled by 1/(1 − rate)) in training', async () => {
  // output = Σ of the 100 inputs after dropout: all ones, so predict gives 100, and training sees 2·(kept count)
  const m = nn.sequential({ seed: 9, layers: [
    layers.dropout({ inputShape: [100], rate: 0.5 }),
    layers.dense({ units: 1, useBias: false, kernelInitializer: 'ones' })] });
  m.compile({ optimizer: train.sgd(1e-12), loss: 'meanSquaredError' }); // steps far below f32 resolution
  const x = nn.tensor2d(new Float32Array(100).fill(1), [1, 100]);
  const y = nn.tensor2d([[100]]);
  const a = m.predict(x).data, b = m.predict(x).data;
  assert.equal(Array.from(a), [100]);
  assert.equal(Array.from(b), [100]);
  assert.is(m.evaluate(x, y).loss, 0);
  const losses: number[] = [];
  await m.fit(x, y, { epochs: 6, batchSize: 1, callbacks: { onBatchEnd: (_b, logs) => void losses.push(logs!.loss) } });
  for (const loss of losses) {
    const off = Math.sqrt(loss); // |2·kept − 100|: an even whole number
    assert.ok(Number.isInteger(off) && off % 2 === 0, `training output differs from 100 by ${off}, not by an even number`);
  }
  assert.ok(losses.some((l) => l > 0), `dropout changed nothing in training: ${losses}`);
  assert.ok(new Set(losses).size > 1, `a new mask every step: ${losses}`);
  assert.equal(Array.from(m.predict(x).data), [100]);
  m.dispose();
});

fitting('earlyStopping stops, and restoreBestWeights restores the best epoch\'s weights', async () => {
  // y = x to train on, y = 0.5·x to validate on: the slope walks from 0 to 1, so val_loss falls until it passes 0.5,
  // then rises; the best epoch is in the middle
  const x = nn.tensor2d(uniform(64, 31), [64, 1]);
  const vx = nn.tensor2d(uniform(32, 32), [32, 1]);
  const vy = nn.tensor2d(vx.data.map((v) => 0.5 * v), [32, 1]);
  const m = nn.sequential({ seed: 2, layers: [layers.dense({ inputShape: [1], units: 1, kernelInitializer: 'zeros' })] });
  m.compile({ optimizer: train.sgd(0.02), loss: 'meanSquaredError' });
  const snapshots: Float32Array[] = [];
  const valLoss: number[] = [];
  const recorder = { onEpochEnd: (_e: number, logs?: nn.Logs) => {
    snapshots.push(flatWeights(m)); // before earlyStopping's hook (it comes later in the list)
    valLoss.push(logs!.val_loss);
  } };
  const stopper = nn.callbacks.earlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true });
  const h = await m.fit(x, x, { epochs: 100, batchSize: 8, shuffle: false, validationData: [vx, vy], callbacks: [recorder, stopper] });
  const best = valLoss.indexOf(Math.min(...valLoss));
  assert.ok(h.epoch.length < 100, 'stopped early');
  assert.is(h.epoch.length, best + 3, 'stops after patience (2) epochs without improvement');
  assert.ok(best > 0, `the best epoch is not the first (${best}): the test needs a fall then a rise`);
  assert.is(stopper.bestEpoch, best);
  assert.is(stopper.stoppedEpoch, h.epoch[h.epoch.length - 1]);
  sameBits(flatWeights(m), snapshots[best], 'weights after fit vs the best epoch\'s');
  assert.not.equal(Array.from(snapshots[snapshots.length - 1]), Array.from(snapshots[best]), 'the last epoch\'s weights were different');
  m.dispose();
});

fitting('earlyStopping without restoreBestWeights keeps the last weights', async () => {
  const x = nn.tensor2d(uniform(64, 31), [64, 1]);
  const vx = nn.tensor2d(uniform(32, 32), [32, 1]);
  const vy = nn.tensor2d(vx.data.map((v) => 0.5 * v), [32, 1]);
  const m = nn.sequential({ seed: 2, layers: [layers.dense({ inputShape: [1], units: 1, kernelInitializer: 'zeros' })] });
  m.compile({ optimizer: train.sgd(0.02), loss: 'meanSquaredError' });
  let last: Float32Array = new Float32Array(0);
  const h = await m.fit(x, x, { epochs: 100, batchSize: 8, shuffle: false, validationData: [vx, vy],
    callbacks: [{ onEpochEnd: () => void (last = flatWeights(m)) }, nn.callbacks.earlyStopping({ patience: 2 })] });
  assert.ok(h.epoch.length < 100);
  sameBits(flatWeights(m), last, 'weights after fit vs the last epoch\'s');
  m.dispose();
});

fitting('validationSplit holds out the last samples; validationData is evaluated; both log val_ metrics', async () => {
  const { x, labels } = threeClasses(80, 41);
  const m = classifier();
  m.compile({ optimizer: train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const h = await m.fit(x, labels, { epochs: 3, batchSize: 16, validationSplit: 0.25 });
  assert.equal(Object.keys(h.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
  assert.is(h.history.val_loss.length, 3);
  assert.is(h.params.samples, 60);
  // the last epoch's val_ values are the final model on the last 20 samples
  const held = m.evaluate(nn.tensor2d(x.data.subarray(60 * 4), [20, 4]), labels.subarray(60));
  close(h.history.val_loss[2], held.loss, 'val_loss vs evaluate on the last 20', 1e-6);
  assert.is(h.history.val_accuracy[2], held.accuracy);

  const v = threeClasses(30, 42);
  const h2 = await m.fit(x, labels, { epochs: 2, batchSize: 16, validationData: [v.x, v.labels] });
  assert.is(h2.params.samples, 80, 'validationData leaves all samples for training');
  const ev = m.evaluate(v.x, v.labels);
  close(h2.history.val_loss[1], ev.loss, 'val_loss vs evaluate on validationData', 1e-6);
  assert.is(h2.history.val_accuracy[1], ev.accuracy);
  m.dispose();
});

fitting('classWeight weights each sample\'s loss by its class', async () => {
  const { x, labels } = threeClasses(40, 43);
  const m = classifier(5);
  m.compile({ optimizer: train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
  const classWeight = { 0: 1, 1: 3, 2: 0.5 };
  const expected = m.evaluate(x, labels, { sampleWeight: Array.from(labels, (c) => classWeight[c as 0 | 1 | 2]) }).loss;
  const plain = m.evaluate(x, labels).loss;
  // one batch of all samples: its loss is computed from the initial weights
  const first: number[] = [];
  await m.fit(x, labels, { epochs: 1, batchSize: 40, shuffle: false, classWeight, callbacks: { onBatchEnd: (_b, l) => void first.push(l!.loss) } });
  close(first[0], expected, 'weighted batch loss', 1e-6);
  assert.ok(Math.abs(first[0] - plain) > 1e-3, `classWeight changed nothing: ${first[0]} vs ${plain}`);
  m.dispose();
});

fitting('callbacks are called in order with the right epoch and batch numbers; initialEpoch', async () => {
  const { x, labels } = threeClasses(10, 44);
  const m = classifier();
  m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const events: string[] = [];
  const first = {
    onTrainBegin: () => void events.push('trainBegin'),
    onEpochBegin: (e: number) => void events.push(`epochBegin ${e}`),
    onBatchEnd: (b: number, logs?: nn.Logs) => void events.push(`batchEnd ${b} size ${logs!.size}`),
    // an async hook is awaited before the next one runs
    onEpochEnd: async (e: number, logs?: nn.Logs) => {
      await new Promise((r) => setTimeout(r, 1));
      events.push(`epochEnd ${e} ${Object.keys(logs!).sort().join(',')}`);
    },
    onTrainEnd: () => void events.push('trainEnd'),
  };
  const second = { onEpochEnd: (e: number) => void events.push(`second epochEnd ${e}`) };
  const h = await m.fit(x, labels, { epochs: 3, initialEpoch: 1, batchSize: 4, shuffle: false, callbacks: [first, second] });
  const epoch = (e: number) => [`epochBegin ${e}`, 'batchEnd 0 size 4', 'batchEnd 1 size 4', 'batchEnd 2 size 2', `epochEnd ${e} accuracy,loss`, `second epochEnd ${e}`];
  assert.equal(events, ['trainBegin', ...epoch(1), ...epoch(2), 'trainEnd']);
  assert.equal(h.epoch, [1, 2]);
  assert.is(h.history.loss.length, 2);
  m.dispose();
});

fitting('clipnorm and clipvalue keep finite a run that diverges without them', async () => {
  // y = 3x with x in [-10, 10]: the loss' curvature 2·E[x²] ≈ 67 makes SGD at 0.1 unstable
  const x = nn.tensor2d(uniform(64, 51, -10, 10), [64, 1]);
  const y = nn.tensor2d(x.data.map((v) => 3 * v), [64, 1]);
  const make = (opt: nn.Optimizer) => {
    const m = nn.sequential({ seed: 3, layers: [layers.dense({ inputShape: [1], units: 1 })] });
    m.compile({ optimizer: opt, loss: 'meanSquaredError' });
    return m;
  };
  const plain = make(train.sgd(0.1));
  await rejectsError(() => plain.fit(x, y, { epochs: 20, batchSize: 8 }), nn.ValueError, /loss became .* at epoch \d+, batch \d+/);
  for (const clip of [{ clipnorm: 1 }, { clipvalue: 0.5 }]) {
    const m = make(train.sgd(0.1, clip));
    const before = m.evaluate(x, y).loss;
    const h = await m.fit(x, y, { epochs: 20, batchSize: 8 });
    const after = h.history.loss[h.history.loss.length - 1];
    assert.ok(Number.isFinite(after) && after < before, `${JSON.stringify(clip)}: loss ${before} -> ${after}`);
    assert.ok(flatWeights(m).every(Number.isFinite));
    m.dispose();
  }
  plain.dispose();
});

// ---------------------------------------------------------------------------------------------------------------------
const model = suite('training: weights, summary, predict');
model.before(async () => {
  await nn.ready();
});

model('getWeights / setWeights round trip in Keras layout (kernel [in, units], then bias)', () => {
  const m = nn.sequential({ seed: 6, layers: [layers.dense({ inputShape: [3], units: 2 }), layers.dense({ units: 4, activation: 'relu' })] });
  const w = m.getWeights();
  assert.equal(w.map((t) => t.shape), [[3, 2], [2], [2, 4], [4]]);
  // replace with known values and check predict against x·W + b computed here with that layout
  const mine = w.map((t, i) => nn.tensor(uniform(t.size, 60 + i), t.shape.slice()));
  m.setWeights(mine);
  const back = m.getWeights();
  back.forEach((t, i) => sameBits(t.data, mine[i].data, `weight ${i}`));
  assert.ok(back[0].data !== mine[0].data, 'getWeights returns copies');
  const x = [0.5, -1, 2];
  const layer = (input: number[], W: Float32Array, b: Float32Array, units: number) =>
    Array.from({ length: units }, (_, j) => input.reduce((s, v, i) => s + v * W[i * units + j], b[j]));
  const h = layer(x, mine[0].data, mine[1].data, 2);
  const out = layer(h, mine[2].data, mine[3].data, 4).map((v) => Math.max(0, v));
  const p = m.predict(nn.tensor2d([x])).data;
  out.forEach((v, j) => close(p[j], v, `output ${j}`, 1e-6, 1e-6));
  // getWeights of a copy set from them gives the same predictions
  const twin = nn.sequential({ seed: 99, layers: [layers.dense({ inputShape: [3], units: 2 }), layers.dense({ units: 4, activation: 'relu' })] });
  twin.setWeights(m.getWeights());
  sameBits(twin.predict(nn.tensor2d([x])).data, p, 'twin prediction');
  m.dispose();
  twin.dispose();
});

model('summary(): the layer table and "Total params: N"', () => {
  const m = nn.sequential({ name: 'mnist_mlp', seed: 1, layers: [
    layers.dense({ name: 'hidden', inputShape: [784], units: 256, activation: 'relu' }),
    layers.dropout({ name: 'drop', rate: 0.2 }),
    layers.dense({ name: 'out', units: 10, activation: 'softmax' })] });
  const printed: string[] = [];
  const text = m.summary((line) => printed.push(line));
  assert.equal(printed, [text]);
  assert.match(text, /Model: "mnist_mlp"/);
  assert.match(text, /Layer \(type\)\s+Output shape\s+Param #/);
  assert.match(text, /hidden \(Dense\)\s+\[null,256\]\s+200960/);
  assert.match(text, /drop \(Dropout\)\s+\[null,256\]\s+0/);
  assert.match(text, /out \(Dense\)\s+\[null,10\]\s+2570/);
  const total = 784 * 256 + 256 + 256 * 10 + 10;
  assert.is(total, 203530);
  assert.match(text, /Total params: 203,530\n/);
  assert.match(text, /Trainable params: 203,530\n/);
  assert.match(text, /Non-trainable params: 0\n/);
  assert.is(m.countParams(), total);
  m.dispose();
});

model('predict: shape [n, units], the same rows whatever the batch size', () => {
  const { x } = threeClasses(37, 71);
  const m = classifier(8);
  const p = m.predict(x);
  assert.equal(p.shape, [37, 3]);
  for (let i = 0; i < 37; i++) close(p.data[i * 3] + p.data[i * 3 + 1] + p.data[i * 3 + 2], 1, `softmax row ${i}`, 1e-6);
  const q = m.predict(x, { batchSize: 5 });
  assert.equal(q.shape, [37, 3]);
  for (let i = 0; i < p.size; i++) close(q.data[i], p.data[i], `batch 5 vs 256 at ${i}`, 1e-6, 1e-7);
  assert.equal(m.predict(nn.tensor2d(new Float32Array(0), [0, 4])).shape, [0, 3]);
  m.dispose();
});

classics.run();
fitting.run();
model('a sample predicted alone has the same bits as in a batch (the few-rows matmul path sums in the same order)', () => {
  const m = nn.sequential({ seed: 4, layers: [nn.layers.dense({ inputShape: [37], units: 40, activation: 'relu' }), nn.layers.dense({ units: 10, activation: 'softmax' })] });
  const x = uniform(9 * 37, 11);
  const batch = m.predict(nn.tensor2d(x, [9, 37])).data;
  for (let r = 0; r < 9; r++) {
    const one = m.predict(nn.tensor2d(x.subarray(r * 37, (r + 1) * 37), [1, 37])).data;
    sameBits(one, batch.subarray(r * 10, (r + 1) * 10), `sample ${r}`);
  }
  const pair = m.predict(nn.tensor2d(x.subarray(0, 2 * 37), [2, 37])).data;
  sameBits(pair, batch.subarray(0, 20), 'two samples');
  m.dispose();
});

model.run();
