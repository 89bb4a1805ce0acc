// Bad input: each call fails with a typed error (ShapeError / ValueError / StateError) whose message names the
// problem, and leaves the model as it was: the same weights bit for bit, the same step count, and a good call
// afterwards works. A run whose loss stops being finite stops with an error naming the epoch and the batch.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { flatWeights, rejectsError, sameBits, throwsError, uniform } from './helpers';

const { layers, train, ShapeError, ValueError, StateError } = nn;

const N = 5;
const goodX = () => nn.tensor2d(uniform(N * 3, 81), [N, 3]);
const goodLabels = () => [0, 1, 1, 0, 1];

/** A compiled classifier 3 -> 4 -> 2 (sparse labels), trained for one step so that it has optimiser state. */
async function classifier(): Promise<nn.Sequential> {
  const m = nn.sequential({ seed: 12, layers: [layers.dense({ inputShape: [3], units: 4, activation: 'relu' }), layers.dense({ units: 2, activation: 'softmax' })] });
  m.compile({ optimizer: train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  await m.fit(goodX(), goodLabels(), { epochs: 1, batchSize: N });
  return m;
}

/** A compiled regression 3 -> 2 (dense targets). */
function regression(): nn.Sequential {
  const m = nn.sequential({ seed: 13, layers: [layers.dense({ inputShape: [3], units: 2 })] });
  m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  return m;
}
const goodTargets = () => nn.tensor2d(uniform(N * 2, 82), [N, 2]);

interface State {
  weights: Float32Array;
  iterations: number;
}
const stateOf = (m: nn.Sequential): State => ({ weights: flatWeights(m), iterations: m.iterations });

/** The model is as it was, and a good fit still works afterwards (and changes the weights). */
async function unchanged(m: nn.Sequential, before: State, y: unknown = goodLabels()): Promise<void> {
  sameBits(flatWeights(m), before.weights, 'weights after the failed call');
  assert.is(m.iterations, before.iterations, 'optimiser steps after the failed call');
  const h = await m.fit(goodX(), y, { epochs: 1, batchSize: 2 });
  assert.ok(Number.isFinite(h.history.loss[0]), 'a good fit afterwards gives a finite loss');
  assert.is(m.iterations, before.iterations + 3);
  assert.ok(flatWeights(m).some((v, i) => v !== before.weights[i]), 'the good fit trained');
}

const errors = suite('errors: bad input leaves the model unchanged');
errors.before(async () => {
  await nn.ready();
});

errors('wrong input width in fit, evaluate and predict: ShapeError naming both shapes', async () => {
  const m = await classifier();
  const before = stateOf(m);
  const wide = nn.tensor2d(uniform(N * 4, 1), [N, 4]);
  const re = /x must have shape \[n, 3\] for this model's input, got \[5, 4\]/;
  await rejectsError(() => m.fit(wide, goodLabels()), ShapeError, re);
  throwsError(() => m.evaluate(wide, goodLabels()), ShapeError, re);
  throwsError(() => m.predict(wide), ShapeError, re);
  throwsError(() => m.predict(uniform(6, 1)), ShapeError, /got \[6\]/); // a flat array is not a batch
  await rejectsError(() => m.fit(goodX(), goodLabels(), { validationData: [wide, goodLabels()] }), ShapeError, /validationData x must have shape \[n, 3\]/);
  await unchanged(m, before);
  m.dispose();
});

errors('x and y of different lengths: ShapeError with both counts', async () => {
  const m = await classifier();
  const before = stateOf(m);
  await rejectsError(() => m.fit(goodX(), [0, 1, 1, 0]), ShapeError, /x has 5 samples but y has 4 labels/);
  throwsError(() => m.evaluate(goodX(), [0, 1, 1, 0, 1, 1]), ShapeError, /x has 5 samples but y has 6 labels/);
  await unchanged(m, before);
  m.dispose();

  const r = regression();
  const rb = stateOf(r);
  await rejectsError(() => r.fit(goodX(), nn.tensor2d(uniform(8, 2), [4, 2])), ShapeError, /x has 5 samples but y has 4/);
  await rejectsError(() => r.fit(goodX(), nn.tensor2d(uniform(15, 2), [5, 3])), ShapeError, /y must have shape \[5, 2\] to match the model's output, got \[5, 3\]/);
  await unchanged(r, rb, goodTargets());
  r.dispose();
});

errors('label out of range, negative or fractional: ValueError naming the index and the value', async () => {
  const m = await classifier();
  const before = stateOf(m);
  await rejectsError(() => m.fit(goodX(), [0, 1, 2, 0, 1]), ValueError, /y\[2\] = 2 is not a class index in \[0, 2\)/);
  await rejectsError(() => m.fit(goodX(), Int32Array.from([0, -1, 1, 0, 1])), ValueError, /y\[1\] = -1 is not a class index/);
  throwsError(() => m.evaluate(goodX(), [0, 1, 1, 0.5, 1]), ValueError, /y\[3\] = 0.5 is not a class index/);
  await rejectsError(() => m.fit(goodX(), goodLabels(), { validationData: [goodX(), [0, 0, 0, 0, 7]] }), ValueError, /validationData y\[4\] = 7/);
  await unchanged(m, before);
  m.dispose();
});

errors('NaN and Infinity in x: ValueError naming the sample and the feature', async () => {
  const m = await classifier();
  const before = stateOf(m);
  for (const [bad, name] of [[NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity']] as const) {
    const x = goodX();
    x.data[1 * 3 + 2] = bad;
    const re = new RegExp(`x holds ${name} at sample 1, feature 2`);
    await rejectsError(() => m.fit(x, goodLabels()), ValueError, re);
    throwsError(() => m.evaluate(x, goodLabels()), ValueError, re);
    throwsError(() => m.predict(x), ValueError, re);
  }
  await unchanged(m, before);
  m.dispose();
});

errors('fit scans big inputs block by block: a NaN far in names its sample, in x and in validationData x', async () => {
  const m = await classifier();
  const before = stateOf(m);
  const n = 30000; // 90,000 floats: the scan's later blocks
  const x = nn.tensor2d(uniform(n * 3, 5), [n, 3]);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  x.data[25000 * 3 + 1] = NaN;
  await rejectsError(() => m.fit(x, labels, { batchSize: 1000 }), ValueError, /x holds NaN at sample 25000, feature 1/);
  const clean = nn.tensor2d(uniform(n * 3, 6), [n, 3]);
  await rejectsError(() => m.fit(clean, labels, { batchSize: 1000, validationData: [x, labels] }), ValueError,
    /validationData x holds NaN at sample 25000, feature 1/);
  x.data[n * 3 - 1] = -Infinity; // the very last value, after the first NaN is gone
  x.data[25000 * 3 + 1] = 0;
  await rejectsError(() => m.fit(x, labels, { batchSize: 1000 }), ValueError, /x holds -Infinity at sample 29999, feature 2/);
  await unchanged(m, before);
  m.dispose();
});

errors('NaN and Infinity in y: ValueError naming the sample and the output', async () => {
  const r = regression();
  const before = stateOf(r);
  for (const [bad, name] of [[NaN, 'NaN'], [Infinity, 'Infinity']] as const) {
    const y = goodTargets();
    y.data[3 * 2 + 1] = bad;
    const re = new RegExp(`y holds ${name} at sample 3, feature 1`);
    await rejectsError(() => r.fit(goodX(), y), ValueError, re);
    throwsError(() => r.evaluate(goodX(), y), ValueError, re);
  }
  await unchanged(r, before, goodTargets());
  r.dispose();
});

errors('batch size 0, negative or fractional: ValueError', async () => {
  const m = await classifier();
  const before = stateOf(m);
  for (const bs of [0, -3, 2.5]) {
    const re = new RegExp(`batchSize must be a whole number >= 1, got ${bs}`);
    await rejectsError(() => m.fit(goodX(), goodLabels(), { batchSize: bs }), ValueError, re);
    throwsError(() => m.evaluate(goodX(), goodLabels(), { batchSize: bs }), ValueError, re);
    throwsError(() => m.predict(goodX(), { batchSize: bs }), ValueError, re);
  }
  await unchanged(m, before);
  m.dispose();
});

errors('other bad fit options: epochs, validationSplit, classWeight', async () => {
  const m = await classifier();
  const before = stateOf(m);
  await rejectsError(() => m.fit(goodX(), goodLabels(), { epochs: -1 }), ValueError, /epochs must be a whole number >= 0, got -1/);
  await rejectsError(() => m.fit(goodX(), goodLabels(), { validationSplit: 1 }), ValueError, /validationSplit must be in \[0, 1\), got 1/);
  await rejectsError(() => m.fit(goodX(), goodLabels(), { classWeight: { 5: 1 } }), ValueError, /classWeight names class 5/);
  await unchanged(m, before);
  m.dispose();
});

errors('unknown activation: ValueError listing the known ones', () => {
  throwsError(() => layers.dense({ inputShape: [3], units: 2, activation: 'swish' }), ValueError, /unknown activation 'swish'; known: .*relu/);
  throwsError(() => layers.activation({ activation: 'relu6' }), ValueError, /unknown activation 'relu6'/);
});

errors('unknown loss and optimizer names: ValueError; the previous compile stays in force', async () => {
  const m = await classifier();
  const before = stateOf(m);
  throwsError(() => m.compile({ optimizer: 'sgd', loss: 'crossEntropyy' }), ValueError, /unknown loss 'crossEntropyy'; known: .*sparseCategoricalCrossentropy/);
  throwsError(() => m.compile({ optimizer: 'adamx', loss: 'meanSquaredError' }), ValueError, /unknown optimizer 'adamx'; known: .*adam/);
  throwsError(() => m.compile({ optimizer: 'sgd', loss: 'meanSquaredError', metrics: ['acuracy'] }), ValueError, /unknown metric 'acuracy'/);
  assert.is(m.compiledWith.loss.name, 'sparseCategoricalCrossentropy');
  assert.is(m.compiledWith.optimizer.name, 'adam');
  await unchanged(m, before);
  m.dispose();
});

errors('fit or evaluate before compile: StateError saying to compile', async () => {
  const m = nn.sequential({ seed: 12, layers: [layers.dense({ inputShape: [3], units: 2, activation: 'softmax' })] });
  const weights = flatWeights(m);
  await rejectsError(() => m.fit(goodX(), goodLabels()), StateError, /must be compiled before fit or evaluate/);
  throwsError(() => m.evaluate(goodX(), goodLabels()), StateError, /must be compiled/);
  sameBits(flatWeights(m), weights, 'weights');
  assert.equal(m.predict(goodX()).shape, [N, 2], 'predict needs no compile');
  m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  await unchanged(m, { weights, iterations: 0 });
  m.dispose();
});

errors('a disposed model: StateError on predict, fit, evaluate and getWeights', async () => {
  const m = await classifier();
  m.dispose();
  assert.is(m.isDisposed, true);
  throwsError(() => m.predict(goodX()), StateError, /was disposed/);
  await rejectsError(() => m.fit(goodX(), goodLabels()), StateError, /was disposed/);
  throwsError(() => m.evaluate(goodX(), goodLabels()), StateError, /was disposed/);
  throwsError(() => m.getWeights(), StateError, /was disposed/);
  m.dispose(); // twice is harmless
  // other models are not affected
  const other = await classifier();
  assert.equal(other.predict(goodX()).shape, [N, 2]);
  other.dispose();
});

errors('setWeights with a wrong shape, count or value: checked completely before anything is written', async () => {
  const m = await classifier();
  const before = stateOf(m);
  const w = m.getWeights();
  assert.equal(w.map((t) => t.shape), [[3, 4], [4], [4, 2], [2]]);
  const zeros = (shape: number[]) => nn.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  // the first tensors are valid (zeros): a partial write would show
  throwsError(() => m.setWeights([zeros([3, 4]), zeros([4]), zeros([2, 4]), zeros([2])]), ShapeError, /weight 2 \(dense_\d+\/kernel\) must have shape \[4,2\], got \[2,4\]/);
  throwsError(() => m.setWeights([zeros([3, 4]), zeros([4]), zeros([4, 2])]), ShapeError, /setWeights expects 4 tensors, got 3/);
  const nan = zeros([2]);
  nan.data[1] = NaN;
  throwsError(() => m.setWeights([zeros([3, 4]), zeros([4]), zeros([4, 2]), nan]), ValueError, /weight 3 \(dense_\d+\/bias\) holds NaN at index 1/);
  await unchanged(m, before);
  m.dispose();
});

errors('a loss that stops being finite stops training with an error naming the epoch and the batch', async () => {
  // a linear regression with inputs in ±100 and SGD at 1: every step multiplies the error by about a thousand
  const x = nn.tensor2d(uniform(40 * 3, 91, -100, 100), [40, 3]);
  const y = nn.tensor2d(uniform(40 * 2, 92), [40, 2]);
  const r = regression();
  r.compile({ optimizer: train.sgd(1), loss: 'meanSquaredError' });
  // where training was: the epoch from onEpochBegin, the last batch that finished in it (-1: none yet)
  let epoch = -1, batch = -1;
  const seen: number[] = [];
  const where = {
    onEpochBegin: (e: number) => void ((epoch = e), (batch = -1)),
    onBatchEnd: (b: number, logs?: nn.Logs) => void ((batch = b), seen.push(logs!.loss)),
  };
  let message = '';
  await rejectsError(async () => {
    try {
      await r.fit(x, y, { epochs: 10, batchSize: 8, callbacks: where });
    } catch (e) {
      message = (e as Error).message;
      throw e;
    }
  }, ValueError, /the loss became (NaN|Infinity) at epoch \d+, batch \d+/);
  // the failing batch is the one after the last that finished; the message counts from 1
  assert.match(message, `at epoch ${epoch + 1}, batch ${batch + 2}:`);
  assert.ok(seen.length >= 2 && seen.every(Number.isFinite), 'the batches before it were finite and reported');
  assert.ok(seen[seen.length - 1] > 1e30, `the loss was exploding: ${seen[seen.length - 1]}`);
  r.dispose();
});

// ---- sequences ----

const T = 6;
/** A compiled sequence classifier: token ids [n, 6] in [0, 9) -> embedding -> lstm -> softmax, trained one step. */
async function sequenceClassifier(): Promise<nn.Sequential> {
  const m = nn.sequential({ seed: 14, layers: [layers.embedding({ inputShape: [T], inputDim: 9, outputDim: 3 }), layers.lstm({ units: 4 }), layers.dense({ units: 2, activation: 'softmax' })] });
  m.compile({ optimizer: train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  await m.fit(goodIds(), goodLabels(), { epochs: 1, batchSize: N });
  return m;
}
const goodIds = () => nn.tensor2d(Float32Array.from({ length: N * T }, (_, i) => (i * 5) % 9), [N, T]);
const withId = (at: number, v: number) => {
  const x = goodIds();
  x.data[at] = v;
  return x;
};

errors('a token id >= inputDim, negative or fractional: ValueError naming the sample and the step', async () => {
  const m = await sequenceClassifier();
  const before = stateOf(m);
  // sample 4 is in the second batch of 2: fit checks every id before its first step
  for (const [v, why] of [[9, '>= inputDim 9'], [-1, 'negative'], [2.5, 'not a whole number']] as const) {
    const re = new RegExp(`token id ${v} at sample 4, step 3 is ${why}`);
    await rejectsError(() => m.fit(withId(4 * T + 3, v), goodLabels(), { epochs: 1, batchSize: 2 }), ValueError, re);
    throwsError(() => m.predict(withId(4 * T + 3, v)), ValueError, re);
    throwsError(() => m.evaluate(withId(4 * T + 3, v), goodLabels()), ValueError, re);
    throwsError(() => nn.generate(m, { prompt: [1, v], length: 2 }), ValueError, /prompt\[1\]/);
  }
  sameBits(flatWeights(m), before.weights, 'weights after the failed calls');
  assert.is(m.iterations, before.iterations);
  await m.fit(goodIds(), goodLabels(), { epochs: 1, batchSize: 2 });
  assert.ok(flatWeights(m).some((v, i) => v !== before.weights[i]), 'a good fit afterwards trains');
  m.dispose();
});

errors('a recurrent layer given a flat input, or fed by one without returnSequences: ShapeError naming the fix', () => {
  const flat = nn.sequential({ layers: [layers.lstm({ inputShape: [5], units: 3 })] });
  throwsError(() => flat.compile({ optimizer: 'sgd', loss: 'meanSquaredError' }), ShapeError, /expects a sequence \[steps, features\] per sample, got \[5\]/);
  const stacked = nn.sequential({ layers: [layers.gru({ inputShape: [5, 2], units: 3 }), layers.simpleRNN({ units: 2 })] });
  throwsError(() => stacked.compile({ optimizer: 'sgd', loss: 'meanSquaredError' }), ShapeError, /returnSequences: true/);
  const ok = nn.sequential({ layers: [layers.gru({ inputShape: [5, 2], units: 3, returnSequences: true }), layers.simpleRNN({ units: 2 })] });
  ok.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  ok.dispose();
});

errors('ragged sequences without padding: ValueError naming the ragged row; padSequences makes them a batch', async () => {
  const m = await sequenceClassifier();
  const before = stateOf(m);
  const ragged = [[1, 2, 3, 4, 5, 6], [1, 2, 3], [4, 5, 6, 7, 8, 1], [1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2]];
  await rejectsError(() => m.fit(ragged as never, goodLabels()), ValueError, /ragged: expected 6 entries at depth 1, got 3/);
  throwsError(() => m.predict(ragged as never), ValueError, /ragged/);
  sameBits(flatWeights(m), before.weights, 'weights after the failed calls');
  const padded = nn.data.padSequences(ragged, { maxlen: T });
  assert.equal(m.predict(nn.tensor(padded.data, padded.shape)).shape, [N, 2]); // int32 ids, as the tokenizer makes them
  m.dispose();
});

errors('bad recurrent and generation options: ValueError naming the option', () => {
  throwsError(() => layers.lstm({ units: 0 }), ValueError, /units/);
  throwsError(() => layers.gru({ units: 2, dropout: 1 }), ValueError, /dropout must be in \[0, 1\)/);
  throwsError(() => layers.simpleRNN({ units: 2, activation: 'softmax' }), ValueError, /softmax/);
  throwsError(() => layers.bidirectional({ layer: layers.dense({ units: 2 }) }), ValueError, /recurrent layer/);
  throwsError(() => layers.bidirectional({ layer: layers.lstm({ units: 2 }), mergeMode: 'max' as never }), ValueError, /mergeMode/);
  throwsError(() => layers.embedding({ inputDim: 0, outputDim: 2 }), ValueError, /inputDim/);
  const m = nn.sequential({ seed: 1, layers: [layers.embedding({ inputShape: [4], inputDim: 5, outputDim: 2 }), layers.gru({ units: 3 }), layers.dense({ units: 5, activation: 'softmax' })] });
  for (const [opts, re] of [
    [{ prompt: [], length: 2 }, /prompt/], [{ prompt: [1], length: -1 }, /length/], [{ prompt: [1], length: 2, temperature: 0 }, /temperature/],
    [{ prompt: [1], length: 2, topP: 0 }, /topP/], [{ prompt: [1], length: 2, topK: 0 }, /topK/], [{ prompt: [1.5], length: 2 }, /whole/],
  ] as const) throwsError(() => nn.generate(m, opts as never), ValueError, re);
  const notText = nn.sequential({ layers: [layers.dense({ inputShape: [3], units: 2, activation: 'softmax' })] });
  throwsError(() => nn.generate(notText, { prompt: [1], length: 2 }), ValueError, /cannot be stepped/);
  m.dispose();
  notText.dispose();
});

errors.run();
