// Sequences, what the layers mean (the gradient checks show they are differentiated right, the agreement test that
// they compute what TF.js does): padded steps change nothing, pooling skips them, generation carries the state
// (one step per token gives the full forward pass's bits), and an LSTM keeps what a SimpleRNN of its size loses.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import * as infer from 'wasmnn/infer';
import { lcg, sameBits, throwsError } from './helpers';

const L = nn.layers;
const test = suite('sequences');
test.before(async () => {
  await nn.ready();
});

/** The outputs of `make()` (seeded alike) for ids [n, steps]. */
function outputs(make: () => nn.layers.Layer[], ids: number[][], seed = 3): Float32Array {
  const m = nn.sequential({ seed, layers: make() });
  const y = m.predict(nn.tensor(ids)).data;
  m.dispose();
  return y;
}

test('maskZero: padding at the end or the start leaves every cell and pooling as on the sequence alone', () => {
  const real = [3, 1, 4, 1, 5];
  const cells = [
    (o: object) => L.simpleRNN({ units: 4, ...o }), (o: object) => L.lstm({ units: 4, ...o }),
    (o: object) => L.gru({ units: 4, ...o }), (o: object) => L.gru({ units: 4, resetAfter: false, ...o }),
  ];
  for (const cell of cells) {
    for (const goBackwards of [false, true]) {
      const alone = outputs(() => [L.embedding({ inputShape: [5], inputDim: 7, outputDim: 3, maskZero: true }), cell({ goBackwards })], [real]);
      for (const padded of [[...real, 0, 0, 0], [0, 0, 0, ...real]]) {
        const y = outputs(() => [L.embedding({ inputShape: [8], inputDim: 7, outputDim: 3, maskZero: true }), cell({ goBackwards })], [padded]);
        sameBits(y, alone, `${cell({}).className} goBackwards ${goBackwards}, padded ${padded}`);
      }
    }
    // a sequence output, pooled over the real steps
    for (const pool of ['globalAveragePooling1d', 'globalMaxPooling1d'] as const) {
      const make = (T: number) => () => [L.embedding({ inputShape: [T], inputDim: 7, outputDim: 3, maskZero: true }), cell({ returnSequences: true }), L[pool]()];
      const alone = outputs(make(5), [real]);
      const y = outputs(make(8), [[...real, 0, 0, 0]]);
      assert.equal(Array.from(y).map((v) => v.toFixed(6)), Array.from(alone).map((v) => v.toFixed(6)), `${pool} over ${cell({}).className}'s real steps`);
    }
  }
});

test('generate: feeding the prompt one step at a time gives the full forward pass (same bits), and ids follow the seed', () => {
  const m = nn.sequential({ seed: 8, layers: [
    L.embedding({ inputShape: [6], inputDim: 9, outputDim: 5 }), L.lstm({ units: 6, returnSequences: true }),
    L.gru({ units: 5, returnSequences: true }), L.simpleRNN({ units: 4, returnSequences: true }), L.dense({ units: 9, activation: 'softmax' })] });
  const prompt = [2, 7, 1, 8, 2, 8];
  const probs = m.predict(nn.tensor([prompt])).data.subarray(5 * 9, 6 * 9);
  // the first generated id, drawn with topK 1, is the most likely one after the whole prompt
  const best = probs.indexOf(Math.max(...probs));
  assert.is(nn.generate(m, { prompt, length: 1, topK: 1 })[0], best);
  // greedy generation continued: each id is the argmax of the full forward pass over prompt + ids so far
  const greedy = Array.from(nn.generate(m, { prompt: prompt.slice(0, 3), length: 3, topK: 1 }));
  const seqs = [prompt.slice(0, 3)];
  for (let i = 0; i < 3; i++) {
    const ids = [...seqs[0], ...greedy.slice(0, i)];
    const padded = [...ids, ...new Array(6 - ids.length).fill(0)];
    const p = m.predict(nn.tensor([padded])).data.subarray((ids.length - 1) * 9, ids.length * 9);
    assert.is(greedy[i], p.indexOf(Math.max(...p)), `greedy id ${i}`);
  }
  // timeDistributed(dense) on top steps as the dense does
  const td = nn.sequential({ seed: 8, layers: [L.embedding({ inputShape: [6], inputDim: 9, outputDim: 5 }), L.gru({ units: 6, returnSequences: true }), L.timeDistributed({ layer: L.dense({ units: 9, activation: 'softmax' }) })] });
  const tdProbs = td.predict(nn.tensor([prompt])).data.subarray(5 * 9, 6 * 9);
  assert.is(nn.generate(td, { prompt, length: 1, topK: 1 })[0], tdProbs.indexOf(Math.max(...tdProbs)));
  td.dispose();
  const a = nn.generate(m, { prompt, length: 30, seed: 4, temperature: 1.5 });
  sameBits(Float32Array.from(nn.generate(m, { prompt, length: 30, seed: 4, temperature: 1.5 })), Float32Array.from(a), 'the same seed');
  assert.ok(Array.from(nn.generate(m, { prompt, length: 30, seed: 5, temperature: 1.5 })).some((v, i) => v !== a[i]), 'another seed');
  m.dispose();
});

test('sequence outputs train per step: a model learns to output the next id of a cycle', async () => {
  const V = 7, T = 8, n = 42;
  const x = new Float32Array(n * T), y = new Int32Array(n * T);
  for (let i = 0; i < n; i++) for (let t = 0; t < T; t++) {
    x[i * T + t] = (i + t) % V;
    y[i * T + t] = (i + t + 1) % V;
  }
  const m = nn.sequential({ seed: 2, layers: [L.embedding({ inputShape: [T], inputDim: V, outputDim: 4 }), L.gru({ units: 12, returnSequences: true }), L.timeDistributed({ layer: L.dense({ units: V, activation: 'softmax' }) })] });
  m.compile({ optimizer: nn.train.adam(0.03), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const h = await m.fit(nn.tensor(x, [n, T]), y, { epochs: 30, batchSize: 14 });
  assert.ok(h.history.accuracy.at(-1)! === 1, `per-step accuracy ${h.history.accuracy.at(-1)}`);
  assert.equal(m.evaluate(nn.tensor(x, [n, T]), y).accuracy, 1);
  m.dispose();
});

test('accuracy per step skips padded steps, as the loss does (sparse and binary, in fit and evaluate)', async () => {
  const V = 6, T = 8, lengths = [8, 5, 3, 6, 2, 7], n = lengths.length;
  const next = lcg(21);
  const x = new Float32Array(n * T);
  for (let i = 0; i < n; i++) for (let t = 0; t < lengths[i]; t++) x[i * T + t] = 1 + Math.floor(next() * (V - 1));
  const real = (i: number, t: number) => t < lengths[i];
  for (const binary of [false, true]) {
    const m = nn.sequential({ seed: 5, layers: [L.embedding({ inputShape: [T], inputDim: V, outputDim: 3, maskZero: true }),
      L.gru({ units: 5, returnSequences: true }), L.dense({ units: binary ? 1 : V, activation: binary ? 'sigmoid' : 'softmax' })] });
    m.compile({ optimizer: nn.train.sgd(0.1), loss: binary ? 'binaryCrossentropy' : 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const p = m.predict(nn.tensor(x, [n, T])).data;
    const predicted = (r: number) => binary ? (p[r] > 0.5 ? 1 : 0) : Array.from(p.subarray(r * V, (r + 1) * V)).indexOf(Math.max(...p.subarray(r * V, (r + 1) * V)));
    // real steps: seeded labels; padded steps: the predicted class, so counting them would raise the accuracy
    const labels = Array.from({ length: n * T }, (_, r) => real(Math.floor(r / T), r % T) ? Math.floor(next() * (binary ? 2 : V)) : predicted(r));
    let right = 0, realSteps = 0;
    for (let r = 0; r < n * T; r++) if (real(Math.floor(r / T), r % T)) {
      realSteps++;
      if (predicted(r) === labels[r]) right++;
    }
    const expected = right / realSteps;
    const withPadding = (right + n * T - realSteps) / (n * T);
    assert.ok(expected < withPadding && expected > 0, `${binary ? 'binary' : 'sparse'}: the case tells the two apart (${expected} vs ${withPadding})`);
    const y = binary ? nn.tensor(Float32Array.from(labels), [n, T, 1]) : Int32Array.from(labels);
    assert.is(m.evaluate(nn.tensor(x, [n, T]), y).accuracy, expected, `${binary ? 'binary' : 'sparse'} evaluate`);
    // one batch: the epoch's accuracy is that of the weights before the step
    const h = await m.fit(nn.tensor(x, [n, T]), y, { epochs: 1, batchSize: n, shuffle: false });
    assert.is(h.history.accuracy[0], expected, `${binary ? 'binary' : 'sparse'} fit`);
    m.dispose();
  }
});

/**
 * The adding problem (Hochreiter & Schmidhuber 1997): T steps of (value in [0, 1), marker); two steps are marked, one
 * in each half, and the target is the sum of their values. Predicting the mean sum scores 1/6 (its variance).
 */
function addingProblem(n: number, T: number, seed: number): [nn.Tensor, nn.Tensor] {
  const next = lcg(seed);
  const x = new Float32Array(n * T * 2), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < T; t++) x[(i * T + t) * 2] = next();
    const a = Math.floor(next() * (T / 2)), b = T / 2 + Math.floor(next() * (T / 2));
    x[(i * T + a) * 2 + 1] = 1;
    x[(i * T + b) * 2 + 1] = 1;
    y[i] = x[(i * T + a) * 2] + x[(i * T + b) * 2];
  }
  return [nn.tensor(x, [n, T, 2]), nn.tensor(y, [n, 1])];
}

test('long range: over 50 steps an LSTM learns the adding problem, a SimpleRNN of the same units stays at the mean', async () => {
  // measured offline over seeds 1-20 with these settings: every LSTM reached a held-out MSE <= 0.005, every
  // SimpleRNN stayed >= 0.14 (the mean's is 0.167), as did one of 18 units (more weights than the LSTM; seeds 1-5);
  // with half the data the LSTM failed 3 seeds in 10
  const T = 50, [x, y] = addingProblem(2048, T, 3), [xTest, yTest] = addingProblem(512, T, 103);
  const mse: Record<string, number> = {};
  for (const cell of ['simpleRNN', 'lstm'] as const) {
    const m = nn.sequential({ seed: 3, layers: [L[cell]({ inputShape: [T, 2], units: 8 }), L.dense({ units: 1 })] });
    m.compile({ optimizer: nn.train.adam(0.01), loss: 'meanSquaredError' });
    await m.fit(x, y, { epochs: 20, batchSize: 32 });
    mse[cell] = m.evaluate(xTest, yTest).loss;
    m.dispose();
  }
  assert.ok(mse.lstm < 0.01, `the LSTM learned the sum: held-out MSE ${mse.lstm}`);
  assert.ok(mse.simpleRNN > 0.1, `the SimpleRNN did not get far from the mean (1/6): held-out MSE ${mse.simpleRNN}`);
});

test('inputShape [null]: any number of steps, the same bits as a model built for them, plans made as a call needs', async () => {
  const before = nn.memory().bytesInUse;
  const layers = (T: number | null) => [L.embedding({ inputShape: [T], inputDim: 9, outputDim: 4, maskZero: true }),
    L.bidirectional({ layer: L.lstm({ units: 5, returnSequences: true }) }), L.gru({ units: 4, returnSequences: true }), L.dense({ units: 9, activation: 'softmax' })];
  const open = nn.sequential({ seed: 6, layers: layers(null) });
  open.compile({ optimizer: nn.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const ids = (n: number, T: number) => nn.tensor(Float32Array.from({ length: n * T }, (_, i) => 1 + ((i * 5 + Math.floor(i / T)) % 8)), [n, T]);
  const next = (x: nn.Tensor) => Int32Array.from(x.data, (v) => (v % 8) + 1);
  // trains on 10 steps, then on 4 (a smaller plan serves), then predicts 25 (a new plan) and 10 again
  for (const T of [10, 4]) {
    const x = ids(12, T);
    await open.fit(x, next(x), { epochs: 1, batchSize: 6 });
  }
  for (const T of [25, 10, 3]) {
    const fixed = nn.sequential({ seed: 6, layers: layers(T) });
    fixed.setWeights(open.getWeights());
    const x = ids(3, T);
    const y = open.predict(x);
    assert.equal(y.shape, [3, T, 9]);
    sameBits(y.data, fixed.predict(x).data, `${T} steps`);
    fixed.dispose();
  }
  throwsError(() => open.predict(nn.tensor(new Float32Array(6), [1, 2, 3])), nn.ShapeError, /\[n, steps\]/);
  // saved and loaded (full library and wasmnn/infer's loader share the topology): still open
  const loaded = nn.loadModel(open.save());
  sameBits(loaded.predict(ids(2, 13)).data, open.predict(ids(2, 13)).data, 'loaded, 13 steps');
  loaded.dispose();
  await infer.ready();
  const edge = infer.loadModel(open.save());
  sameBits(edge.predict(infer.tensor(ids(2, 17).data, [2, 17])).data, open.predict(ids(2, 17)).data, 'wasmnn/infer, 17 steps');
  edge.dispose();
  // a layer whose weights depend on the steps cannot leave them open
  const flat = nn.sequential({ layers: [L.embedding({ inputShape: [null], inputDim: 5, outputDim: 2 }), L.flatten(), L.dense({ units: 2 })] });
  const one = flat.predict(ids(1, 1)).data;
  throwsError(() => flat.predict(ids(1, 3)), nn.ShapeError, /depend on the number of steps/);
  sameBits(flat.predict(ids(1, 1)).data, one, 'the refused call left the model as it was');
  flat.dispose();
  open.dispose();
  assert.is(nn.memory().bytesInUse, before, 'every plan given back');
});

test.run();
