// Loss weights on sequence outputs ([n, steps, classes] against per-step labels): classWeight weighs each step by
// that step's label, sampleWeight each sample's steps ([n]) or each step ([n, steps], Keras's temporal weights), and
// padded (masked) steps stay out whatever their weight: the loss is Σ w·m·l / Σ m. Checked against sums done here
// from predict's probabilities, against each other (classWeight is the per-step sampleWeight of the labels' classes),
// and the gradient fit takes against central differences of the weighted loss.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { close, flatWeights, lcg, rejectsError, sameBits, throwsError, tokenIds, uniform } from './helpers';

const test = suite('sequence loss weights');
test.before(async () => {
  await nn.ready();
});

const L = nn.layers;
const V = 7, T = 6, N = 5;

/** embedding (ids 0 padded) -> simpleRNN over every step -> dense softmax per step. */
function model(seed = 3): nn.Sequential {
  const m = nn.sequential({ seed, layers: [
    L.embedding({ inputShape: [T], inputDim: V, outputDim: 4, maskZero: true }),
    L.simpleRNN({ units: 5, returnSequences: true }),
    L.dense({ units: V, activation: 'softmax' })] });
  m.compile({ optimizer: nn.train.sgd(1), loss: 'sparseCategoricalCrossentropy' });
  return m;
}

/** Ids with the last 0, 1 or 2 steps of each sample padded; labels at every step, padded ones included (not 0). */
function data(seed = 4) {
  const x = tokenIds(N * T, V, seed, T, true);
  const next = lcg(seed + 1);
  const labels = Int32Array.from({ length: N * T }, () => Math.floor(next() * V));
  const real = Array.from(x, (v) => v !== 0);
  assert.ok(real.some((r) => !r) && real.some((r) => r), 'the data has padded and real steps');
  return { x: nn.tensor(x, [N, T]), labels, real };
}

/** Σ over real steps of w·(−log p[label]) / (real steps), in doubles, from predict's probabilities. */
function byHand(m: nn.Sequential, d: ReturnType<typeof data>, w: (i: number, t: number) => number): number {
  const p = m.predict(d.x).data;
  let sum = 0, count = 0;
  for (let i = 0; i < N; i++) for (let t = 0; t < T; t++) {
    if (!d.real[i * T + t]) continue;
    const prob = Math.min(Math.max(p[(i * T + t) * V + d.labels[i * T + t]], 1e-7), 1 - 1e-7);
    sum += w(i, t) * -Math.log(prob);
    count++;
  }
  return sum / count;
}

test('evaluate: sampleWeight per sample [n] and per step [n, steps] give the weighted mean over the real steps', () => {
  const m = model(), d = data();
  const perSample = [0.5, 2, 0, 1.25, 3];
  const perStep = uniform(N * T, 6, 0, 2);
  const nested = Array.from({ length: N }, (_, i) => Array.from(perStep.subarray(i * T, (i + 1) * T)));
  close(m.evaluate(d.x, d.labels, { sampleWeight: perSample }).loss, byHand(m, d, (i) => perSample[i]), 'per sample', 1e-5);
  const want = byHand(m, d, (i, t) => perStep[i * T + t]);
  close(m.evaluate(d.x, d.labels, { sampleWeight: nested }).loss, want, 'per step, nested arrays', 1e-5);
  close(m.evaluate(d.x, d.labels, { sampleWeight: nn.tensor(perStep, [N, T]) }).loss, want, 'per step, a tensor', 1e-5);
  close(m.evaluate(d.x, d.labels, { sampleWeight: perStep }).loss, want, 'per step, flat', 1e-5);
  // weights of 1 are no weights; a padded step's weight changes nothing, however large
  assert.is(m.evaluate(d.x, d.labels, { sampleWeight: new Float32Array(N * T).fill(1) }).loss, m.evaluate(d.x, d.labels).loss);
  const loud = perStep.map((w, i) => (d.real[i] ? w : 1e6));
  assert.is(m.evaluate(d.x, d.labels, { sampleWeight: loud }).loss, m.evaluate(d.x, d.labels, { sampleWeight: perStep }).loss);
  // in batches of 2 the mean of the batches' masked means (as without weights)
  const inBatches = m.evaluate(d.x, d.labels, { sampleWeight: perStep, batchSize: 2 }).loss;
  assert.ok(Number.isFinite(inBatches) && inBatches > 0);
  m.dispose();
});

test("fit: classWeight weighs each step by its label: the first batch's loss by hand, the same bits as that sampleWeight", async () => {
  const d = data(7);
  const classWeight = { 0: 2, 3: 0.25, 5: 4 } as Record<number, number>;
  const cw = (c: number) => classWeight[c] ?? 1;
  const a = model(8);
  const want = byHand(a, d, (i, t) => cw(d.labels[i * T + t]));
  const first: number[] = [];
  await a.fit(d.x, d.labels, { epochs: 3, batchSize: N, shuffle: false, classWeight, callbacks: { onBatchEnd: (_b, l) => void first.push(l!.loss) } });
  close(first[0], want, 'the first batch (initial weights)', 1e-5);
  const plain = byHand(model(8), d, () => 1);
  assert.ok(Math.abs(want - plain) > 1e-2, `the class weights change the loss: ${want} vs ${plain}`);
  // the same training as the per-step weights of the labels' classes, and both weights multiply
  const b = model(8);
  await b.fit(d.x, d.labels, { epochs: 3, batchSize: N, shuffle: false, sampleWeight: Float32Array.from(d.labels, cw) });
  sameBits(flatWeights(b), flatWeights(a), 'classWeight against its sampleWeight');
  const extra = uniform(N * T, 9, 0.5, 1.5);
  const c = model(8), e = model(8);
  await c.fit(d.x, d.labels, { epochs: 2, batchSize: 2, shuffle: true, classWeight, sampleWeight: extra });
  await e.fit(d.x, d.labels, { epochs: 2, batchSize: 2, shuffle: true, sampleWeight: Float32Array.from(extra, (w, i) => w * cw(d.labels[i])) });
  sameBits(flatWeights(c), flatWeights(e), 'classWeight times sampleWeight');
  for (const m of [a, b, c, e]) m.dispose();
});

test('fit: one-hot sequence targets take classWeight by the argmax of each step', async () => {
  const d = data(10);
  const onehot = new Float32Array(N * T * V);
  d.labels.forEach((c, i) => (onehot[i * V + c] = 1));
  const y = nn.tensor(onehot, [N, T, V]);
  const make = () => {
    const m = model(11);
    m.compile({ optimizer: nn.train.sgd(0.5), loss: 'categoricalCrossentropy' });
    return m;
  };
  const classWeight = { 1: 3, 6: 0 };
  const a = make(), b = make();
  await a.fit(d.x, y, { epochs: 2, batchSize: 3, shuffle: false, classWeight });
  await b.fit(d.x, y, { epochs: 2, batchSize: 3, shuffle: false, sampleWeight: Float32Array.from(d.labels, (c) => (c === 1 ? 3 : c === 6 ? 0 : 1)) });
  sameBits(flatWeights(a), flatWeights(b), 'one-hot classWeight against its sampleWeight');
  a.dispose();
  b.dispose();
});

test('fit: the gradient of the per-step weighted, masked loss matches central differences of evaluate', async () => {
  const d = data(12);
  const sampleWeight = uniform(N * T, 13, 0, 2);
  const m = model(14);
  const before = m.getWeights();
  // one SGD step over the whole batch with rate 1: the weights move by exactly minus the gradient (to an ulp)
  await m.fit(d.x, d.labels, { epochs: 1, batchSize: N, shuffle: false, sampleWeight });
  const after = m.getWeights();
  const probe = model(14); // the same model, its weights set per probe
  const J = (w: nn.Tensor[]) => {
    probe.setWeights(w);
    return probe.evaluate(d.x, d.labels, { sampleWeight }).loss;
  };
  const h = 5e-3;
  let checked = 0;
  before.forEach((w, k) => {
    const next = lcg(100 + k);
    for (let probeIndex = 0; probeIndex < 6; probeIndex++) {
      const j = Math.floor(next() * w.size);
      const analytic = w.data[j] - after[k].data[j];
      const shifted = (delta: number) => before.map((t, q) => (q === k ? nn.tensor(t.data.map((v, i) => (i === j ? v + delta : v)), t.shape) : t));
      const numeric = (J(shifted(h)) - J(shifted(-h))) / (2 * h);
      const allowed = 5e-4 + 5e-3 * Math.max(Math.abs(analytic), Math.abs(numeric));
      assert.ok(Math.abs(analytic - numeric) <= allowed, `weight ${k} [${j}]: gradient ${analytic} vs central difference ${numeric}`);
      if (Math.abs(analytic) > 1e-3) checked++;
    }
  });
  assert.ok(checked >= 8, `only ${checked} probed gradients were not ~0`);
  probe.dispose();
  m.dispose();
});

test('fit: validationSplit keeps the weights of its samples for val_loss', async () => {
  const d = data(15);
  const sampleWeight = uniform(N * T, 16, 0, 2);
  const m = model(17);
  const h = await m.fit(d.x, d.labels, { epochs: 1, batchSize: N, validationSplit: 0.4, sampleWeight });
  // the last 2 samples are held out
  const tail = nn.tensor(d.x.data.subarray((N - 2) * T), [2, T]);
  const ev = m.evaluate(tail, d.labels.subarray((N - 2) * T), { sampleWeight: sampleWeight.subarray((N - 2) * T) });
  close(h.history.val_loss[0], ev.loss, 'val_loss against evaluate of the held-out samples with their weights', 1e-6);
  m.dispose();
});

test('bad weights: ShapeError or ValueError naming the shape or the value, the model unchanged', async () => {
  const m = model(18), d = data(19);
  const before = flatWeights(m);
  for (const sw of [new Array(N + 1).fill(1), new Float32Array(N * (T + 1)), nn.tensor(new Float32Array(N * T), [N, T, 1]), [[1, 2], [3, 4]]]) {
    const re = new RegExp(`sampleWeight must have shape \\[${N}\\] \\(one per sample\\) or \\[${N}, ${T}\\] \\(one per step of the output\\)`);
    throwsError(() => m.evaluate(d.x, d.labels, { sampleWeight: sw as never }), nn.ShapeError, re);
    await rejectsError(() => m.fit(d.x, d.labels, { sampleWeight: sw as never }), nn.ShapeError, re);
  }
  const nan = new Float32Array(N * T).fill(1);
  nan[1 * T + 2] = NaN;
  throwsError(() => m.evaluate(d.x, d.labels, { sampleWeight: nan }), nn.ValueError, /sampleWeight\[1\]\[2\] = NaN: weights must be finite numbers >= 0/);
  await rejectsError(() => m.fit(d.x, d.labels, { sampleWeight: [1, 1, 1, -1, 1] }), nn.ValueError, /sampleWeight\[3\] = -1/);
  await rejectsError(() => m.fit(d.x, d.labels, { sampleWeight: 'heavy' as never }), nn.ValueError, /sampleWeight must be numbers, one per sample or one per step, got string/);
  await rejectsError(() => m.fit(d.x, d.labels, { classWeight: { [V]: 2 } }), nn.ValueError, new RegExp(`classWeight names class ${V}, which the output \\(${V} units\\)`));
  sameBits(flatWeights(m), before, 'weights after the refused calls');
  assert.is(m.iterations, 0);
  // an output that is no sequence takes one weight per sample only
  const flat = nn.sequential({ layers: [L.dense({ inputShape: [3], units: 2, activation: 'softmax' })] });
  flat.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  throwsError(() => flat.evaluate(nn.tensor(uniform(6, 20), [2, 3]), [0, 1], { sampleWeight: [[1, 2], [3, 4]] }), nn.ShapeError, /must have shape \[2\] \(one per sample\), got \[2, 2\]/);
  close(flat.evaluate(nn.tensor(uniform(6, 20), [2, 3]), [0, 1], { sampleWeight: [[1], [1]] }).loss, flat.evaluate(nn.tensor(uniform(6, 20), [2, 3]), [0, 1]).loss, '[n, 1] is [n]', 0);
  flat.dispose();
  m.dispose();
});

test.run();
