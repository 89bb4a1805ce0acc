// One table-driven finite-difference check of every layer, activation, loss and regulariser: the gradients the
// network's backward pass writes (parameters, and the input) against central differences of the training
// objective J = loss + penalty, evaluated through the same planned forward pass.
//
// The input gradient: backward() does not compute dLoss/dx for the first layer (nobody needs it), so every row's
// model starts with activation('linear'), which copies its input. Its output gradient plan.grads[0] is then exactly
// dJ/dx, and it is written by the next layer's backward: the layer under test always sits second, so its input
// gradient is checked too. Central differences are taken on plan.input itself.
//
// Dropout draws a new mask on every training forward pass; the check saves the model's training random stream
// (16 bytes of module memory) once and restores it before every pass, so all passes see the same mask.
//
// Each row runs twice: in a plan made for exactly its rows, and in a plan with 3 spare rows filled with junk (big
// inputs, out-of-range labels), as fit's last, shorter batch is: nothing may read past `rows`.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { uniform } from './helpers';

const { layers, regularizers } = nn;

interface Row {
  name: string;
  build: () => nn.Sequential;
  loss: string | nn.losses.Loss;
  x: Float32Array;
  /** Class indices for the sparse loss, else targets of the output's size per sample. */
  y: Float32Array | Int32Array;
  /** Central-difference step (default 5e-3). */
  eps?: number;
}

const ROWS = 5; // samples per batch: not a multiple of 4, so the kernels' tails are exercised
const IN = 3;
const HIDDEN = 5;
const OUT = 3;

const x = (n = IN, seed = 11) => uniform(ROWS * n, seed, -1.5, 1.5);
const targets = (n = OUT, seed = 12) => uniform(ROWS * n, seed, -1, 1);
const probabilities = (n = OUT, seed = 13) => uniform(ROWS * n, seed, 0.05, 0.95); // soft 0..1 targets for BCE
const oneHot = (labels: Int32Array, n = OUT) => {
  const out = new Float32Array(labels.length * n);
  labels.forEach((c, i) => (out[i * n + c] = 1));
  return out;
};
const LABELS = Int32Array.from([2, 0, 1, 2, 1]);

/** activation('linear') first (see above), then the layers under test. */
const model = (rest: nn.layers.Layer[], inputShape = [IN]) =>
  nn.sequential({ seed: 7, layers: [layers.activation({ activation: 'linear', inputShape }), ...rest] });
// biases start at small random values, not zeros, so no relu sits exactly at its kink and every bias matters
const biasInitializer = nn.initializers.randomUniform({ minval: -0.3, maxval: 0.3 });
const dense = (units: number, activation = 'linear', extra: Partial<Parameters<typeof layers.dense>[0]> = {}) =>
  layers.dense({ units, activation, biasInitializer, ...extra });

// step is left out: its derivative is 0 wherever it exists (the perceptron trains it by its own rule; see
// training.test.ts). The kinked ones are safe here: with these seeds no pre-activation lies within eps of 0, and
// the data are the same bits in every runtime.
const SMOOTH = ['linear', 'elu', 'sigmoid', 'tanh', 'softplus', 'gelu', 'geluTanh', 'softmax'];
const KINKED = ['relu', 'leakyRelu', 'hardSigmoid'];

const table: Row[] = [
  // every activation inside a dense layer (hidden, so its dx is checked through a second dense)
  ...[...SMOOTH, ...KINKED].map((act): Row => ({
    name: `dense ${act} -> dense linear, mse`,
    build: () => model([dense(HIDDEN, act), dense(OUT)]),
    loss: 'meanSquaredError', x: x(), y: targets(),
  })),
  // every activation as its own layer
  ...[...SMOOTH, ...KINKED].map((act): Row => ({
    name: `activation(${act}) after dense, mse`,
    build: () => model([dense(HIDDEN), layers.activation({ activation: act }), dense(OUT)]),
    loss: 'meanSquaredError', x: x(), y: targets(),
  })),
  { name: 'leakyRelu alpha 0.1 and elu alpha 0.5', loss: 'meanSquaredError', x: x(), y: targets(),
    build: () => model([dense(HIDDEN, 'leakyRelu', { alpha: 0.1 }), layers.activation({ activation: 'elu', alpha: 0.5 }), dense(OUT)]) },
  { name: 'dense without bias', loss: 'meanSquaredError', x: x(), y: targets(),
    build: () => model([dense(HIDDEN, 'tanh', { useBias: false }), dense(OUT)]) },
  // dropout in training, with one fixed mask
  { name: 'dropout 0.4 between dense layers', loss: 'meanSquaredError', x: x(), y: targets(),
    build: () => model([dense(HIDDEN, 'tanh'), layers.dropout({ rate: 0.4 }), dense(OUT)]) },
  { name: 'dropout 0.5 on the input', loss: 'meanSquaredError', x: x(), y: targets(),
    build: () => model([layers.dropout({ rate: 0.5 }), dense(OUT, 'sigmoid')]) },
  // shapes: flatten and reshape (pass-through), softmax over the last axis of a 2-D activation
  { name: 'flatten [2, 3] -> dense', loss: 'meanSquaredError', x: x(6), y: targets(),
    build: () => model([layers.flatten(), dense(OUT, 'tanh')], [2, 3]) },
  { name: 'dense -> reshape [3, 2] -> softmax over the last axis -> flatten -> dense', loss: 'meanSquaredError', x: x(), y: targets(),
    build: () => model([dense(6), layers.reshape({ targetShape: [3, 2] }), layers.activation({ activation: 'softmax' }), layers.flatten(), dense(OUT)]) },
  // every loss
  { name: 'meanAbsoluteError', loss: 'meanAbsoluteError', x: x(), y: targets(), eps: 1e-3,
    build: () => model([dense(HIDDEN, 'tanh'), dense(OUT)]) },
  { name: 'huber (both branches: residuals around delta 1)', loss: 'huber', x: x(), y: uniform(ROWS * OUT, 14, -3, 3),
    build: () => model([dense(HIDDEN, 'tanh'), dense(OUT)]) },
  { name: 'huber delta 0.3', loss: nn.losses.huber({ delta: 0.3 }), x: x(), y: targets(),
    build: () => model([dense(HIDDEN, 'tanh'), dense(OUT)]) },
  { name: 'binaryCrossentropy fused with sigmoid', loss: 'binaryCrossentropy', x: x(), y: probabilities(),
    build: () => model([dense(HIDDEN, 'tanh'), dense(OUT, 'sigmoid')]) },
  { name: 'binaryCrossentropy fused, activation(sigmoid) last', loss: 'binaryCrossentropy', x: x(), y: probabilities(),
    build: () => model([dense(HIDDEN, 'tanh'), dense(OUT), layers.activation({ activation: 'sigmoid' })]) },
  { name: 'binaryCrossentropy unfused (sigmoid then a linear activation layer)', loss: 'binaryCrossentropy', x: x(), y: probabilities(),
    build: () => model([dense(HIDDEN, 'tanh'), dense(OUT, 'sigmoid'), layers.activation({ activation: 'linear' })]) },
  { name: 'binaryCrossentropy unfused on a softmax output', loss: 'binaryCrossentropy', x: x(), y: probabilities(),
    build: () => model([dense(HIDDEN, 'tanh'), dense(OUT, 'softmax'), layers.activation({ activation: 'linear' })]) },
  { name: 'categoricalCrossentropy fused with softmax', loss: 'categoricalCrossentropy', x: x(), y: oneHot(LABELS),
    build: () => model([dense(HIDDEN, 'tanh'), dense(OUT, 'softmax')]) },
  { name: 'categoricalCrossentropy fused, soft targets', loss: 'categoricalCrossentropy', x: x(), y: uniform(ROWS * OUT, 15, 0, 1),
    build: () => model([dense(HIDDEN, 'gelu'), dense(OUT), layers.activation({ activation: 'softmax' })]) },
  { name: 'categoricalCrossentropy unfused (softmax then a linear activation layer)', loss: 'categoricalCrossentropy', x: x(), y: oneHot(LABELS),
    build: () => model([dense(HIDDEN, 'tanh'), dense(OUT, 'softmax'), layers.activation({ activation: 'linear' })]) },
  { name: 'categoricalCrossentropy unfused on sigmoid outputs (renormalised rows)', loss: 'categoricalCrossentropy', x: x(), y: oneHot(LABELS),
    build: () => model([dense(HIDDEN, 'tanh'), dense(OUT, 'sigmoid')]) },
  { name: 'sparseCategoricalCrossentropy fused with softmax', loss: 'sparseCategoricalCrossentropy', x: x(), y: LABELS,
    build: () => model([dense(HIDDEN, 'relu'), dense(OUT, 'softmax')]) },
  { name: 'sparseCategoricalCrossentropy unfused (softmax then a linear activation layer)', loss: 'sparseCategoricalCrossentropy', x: x(), y: LABELS,
    build: () => model([dense(HIDDEN, 'tanh'), dense(OUT, 'softmax'), layers.activation({ activation: 'linear' })]) },
  { name: 'sparseCategoricalCrossentropy unfused on sigmoid outputs', loss: 'sparseCategoricalCrossentropy', x: x(), y: LABELS,
    build: () => model([dense(HIDDEN, 'tanh'), dense(OUT, 'sigmoid')]) },
  // regularisers (their penalty is part of J; the gradients include theirs)
  { name: 'kernel l2', loss: 'meanSquaredError', x: x(), y: targets(),
    build: () => model([dense(HIDDEN, 'tanh', { kernelRegularizer: regularizers.l2({ l2: 0.05 }) }), dense(OUT, 'linear', { kernelRegularizer: 'l2' })]) },
  { name: 'kernel l1', loss: 'meanSquaredError', x: x(), y: targets(), eps: 1e-3,
    build: () => model([dense(HIDDEN, 'tanh', { kernelRegularizer: regularizers.l1({ l1: 0.05 }) }), dense(OUT)]) },
  { name: 'kernel l1l2 and bias l2', loss: 'sparseCategoricalCrossentropy', x: x(), y: LABELS, eps: 1e-3,
    build: () => model([dense(HIDDEN, 'elu', { kernelRegularizer: regularizers.l1l2({ l1: 0.02, l2: 0.03 }), biasRegularizer: regularizers.l2({ l2: 0.1 }) }), dense(OUT, 'softmax')]) },
  { name: 'bias l1', loss: 'meanSquaredError', x: x(), y: targets(), eps: 1e-3,
    build: () => model([dense(HIDDEN, 'sigmoid', { biasRegularizer: regularizers.l1({ l1: 0.1 }) }), dense(OUT)]) },
];

interface Mismatch {
  what: string;
  analytic: number;
  numeric: number;
}

/**
 * Checks one row: analytic gradients of every parameter and every input value against central differences.
 * Returns the coordinates that disagree beyond |a − n| <= 5e-4 + 5e-3·max(|a|, |n|); a wrong term of the
 * gradient (a missing factor 2, a sign, a dropped bias) lands far outside that.
 */
function gradcheck(row: Row, spare: number): Mismatch[] {
  const m = row.build();
  m.compile({ optimizer: 'sgd', loss: row.loss });
  const { loss, fused } = m.compiledWith;
  const net = m.network;
  net.inputGradients = true; // the input gradient is checked too
  const heap = net.env.heap;
  const rows = row.x.length / net.layers[0].inputSize;
  const plan = net.plan(rows + spare, true);
  const inSize = net.layers[0].inputSize, outSize = net.outputLayer.outputSize;
  heap.f32.fill(1e3, (plan.input >> 2) + rows * inSize, (plan.input >> 2) + (rows + spare) * inSize);
  heap.i32.fill(99, (plan.labels >> 2) + rows, (plan.labels >> 2) + rows + spare);
  heap.f32.fill(-1e3, (plan.targets >> 2) + rows * outSize, (plan.targets >> 2) + (rows + spare) * outSize);
  heap.f32.set(row.x, plan.input >> 2);
  if (loss.targets === 'sparse') heap.i32.set(row.y, plan.labels >> 2);
  else heap.f32.set(row.y, plan.targets >> 2);
  const rngState = heap.u8.slice(net.env.rng, net.env.rng + 16);

  const objective = (): number => {
    heap.u8.set(rngState, net.env.rng); // the same dropout mask on every pass
    net.forward(plan, rows, true, fused);
    return net.loss(plan, loss, rows, fused, false) + net.penalty();
  };
  // analytic: one training pass
  heap.u8.set(rngState, net.env.rng);
  net.forward(plan, rows, true, fused);
  net.loss(plan, loss, rows, fused, false);
  net.backward(plan, rows);
  net.regularize();
  const n = net.block.n;
  const paramGrads = heap.f32.slice(net.block.grads >> 2, (net.block.grads >> 2) + n);
  const inputGrads = heap.f32.slice(plan.grads[0] >> 2, (plan.grads[0] >> 2) + row.x.length);

  const eps = row.eps ?? 5e-3;
  const bad: Mismatch[] = [];
  const probe = (address: number, analytic: number, what: string) => {
    const f32 = heap.f32;
    const i = address >> 2;
    const saved = f32[i];
    f32[i] = saved + eps;
    const up = f32[i];
    const jUp = objective();
    f32[i] = saved - eps;
    const down = f32[i];
    const jDown = objective();
    f32[i] = saved;
    const numeric = (jUp - jDown) / (up - down); // the f32 steps actually taken
    if (!(Math.abs(analytic - numeric) <= 5e-4 + 5e-3 * Math.max(Math.abs(analytic), Math.abs(numeric)))) {
      bad.push({ what, analytic, numeric });
    }
  };
  let offset = 0;
  for (const layer of net.layers) {
    for (const p of layer.params) {
      for (let j = 0; j < p.size; j++) probe(p.ptr + 4 * j, paramGrads[offset + j], `${layer.className}/${p.name}[${j}]`);
      offset += p.size;
    }
  }
  assert.is(offset, n, `${row.name}: the parameters fill the block`);
  for (let j = 0; j < row.x.length; j++) probe(plan.input + 4 * j, inputGrads[j], `input[${j}]`);
  // the check must not pass by looking at nothing: some gradients are far from zero
  const largest = Math.max(...Array.from(paramGrads, Math.abs), ...Array.from(inputGrads, Math.abs));
  assert.ok(largest > 1e-2, `${row.name}: all gradients are ~0 (${largest}); the row checks nothing`);
  m.dispose();
  return bad;
}

const test = suite('gradcheck');
test.before(async () => {
  await nn.ready();
});

for (const row of table) {
  test(row.name, () => {
    for (const spare of [0, 3]) {
      const bad = gradcheck(row, spare);
      if (bad.length) {
        const shown = bad.slice(0, 6).map((b) => `${b.what}: analytic ${b.analytic.toPrecision(6)}, numeric ${b.numeric.toPrecision(6)}`);
        assert.unreachable(`${spare ? `with ${spare} spare rows in the plan: ` : ''}${bad.length} gradient(s) disagree:\n  ${shown.join('\n  ')}`);
      }
    }
  });
}

test('the table covers every activation and every loss', () => {
  const acts = new Set([...SMOOTH, ...KINKED]);
  for (const name of nn.ACTIVATION_NAMES) if (name !== 'step') assert.ok(acts.has(name), `no row for activation ${name}`);
  const losses = new Set(table.map((r) => (typeof r.loss === 'string' ? r.loss : r.loss.name)));
  for (const name of ['meanSquaredError', 'meanAbsoluteError', 'huber', 'binaryCrossentropy', 'categoricalCrossentropy', 'sparseCategoricalCrossentropy']) {
    assert.ok(losses.has(name), `no row for loss ${name}`);
  }
});

test.run();
