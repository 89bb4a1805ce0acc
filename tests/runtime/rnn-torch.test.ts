// Agreement with PyTorch's nn.LSTM and nn.GRU (GRU as Keras's resetAfter=true, which is PyTorch's form), from the
// fixtures scripts/make-rnn-fixtures.py writes with Debian's python3-torch (the suite itself needs no Python).
// Each case: recurrent(units, returnSequences) -> dense softmax on float inputs [batch, steps, features], started from
// PyTorch's weights in Keras's layout. Checked: the recurrent layer's output and the model's softmax, then the
// weights after 10 full-batch steps of SGD and of Adam on sparse categorical cross-entropy; every value w of wasmnn
// and t of PyTorch must satisfy |w − t| <= 1e-3·max(|t|, 1). The worst is reported as `[report] torch_rnn_<case>=`.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { ADAM_EPS, ADAM_LR, CASES, SGD_LR, TRAIN_STEPS, type RnnTorchCase, type Weight } from './fixtures/rnn-torch';

const TOL = 1e-3;

/** max over i of |a_i − b_i| / max(|b_i|, 1). */
function worstDiff(a: ArrayLike<number>, b: ArrayLike<number>, what: string): number {
  assert.is(a.length, b.length, `${what}: sizes`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1);
    if (!(d <= worst)) worst = d; // NaN sticks
  }
  return worst;
}

function recurrentLayer(c: RnnTorchCase, inputShape?: number[]): nn.layers.Layer {
  const args = { units: c.units, returnSequences: c.returnSequences, ...(inputShape ? { inputShape } : {}) };
  return c.cell === 'lstm' ? nn.layers.lstm(args) : nn.layers.gru({ ...args, resetAfter: true });
}

function model(c: RnnTorchCase): nn.Sequential {
  return nn.sequential({
    seed: 1,
    layers: [recurrentLayer(c, [c.steps, c.features]), nn.layers.dense({ units: c.classes, activation: 'softmax' })],
  });
}

const asTensors = (ws: Weight[]) => ws.map((w) => nn.tensor(Float32Array.from(w.data), w.shape));

function checkShapes(m: nn.Sequential, ws: Weight[], name: string): void {
  const mine = m.getWeights();
  assert.is(mine.length, ws.length, `${name}: number of weights`);
  mine.forEach((w, i) => assert.equal([...w.shape], ws[i].shape, `${name}: weight ${i} shape (Keras's layout)`));
}

const test = suite('agreement with PyTorch (nn.LSTM, nn.GRU)');
test.before(async () => {
  await nn.ready();
});

for (const [name, c] of Object.entries(CASES)) {
  const x = () => nn.tensor(Float32Array.from(c.x), [c.batch, c.steps, c.features]);

  test(`${name}: forward, the recurrent layer alone and the model`, () => {
    const alone = nn.sequential({ seed: 1, layers: [recurrentLayer(c, [c.steps, c.features])] });
    alone.setWeights(asTensors(c.initial.slice(0, 3)));
    const h = alone.predict(x());
    assert.equal([...h.shape], c.recurrent.shape, 'recurrent output shape');
    const dh = worstDiff(h.data, c.recurrent.data, 'recurrent output');
    alone.dispose();

    const m = model(c);
    checkShapes(m, c.initial, name);
    m.setWeights(asTensors(c.initial));
    const p = m.predict(x());
    assert.equal([...p.shape], c.output.shape, 'softmax output shape');
    const dp = worstDiff(p.data, c.output.data, 'softmax output');
    m.dispose();
    console.log(`[report] torch_rnn_${name}_forward=${Math.max(dh, dp).toExponential(2)}`);
    assert.ok(dh <= TOL, `${name}: recurrent output differs from PyTorch's by ${dh}`);
    assert.ok(dp <= TOL, `${name}: softmax output differs from PyTorch's by ${dp}`);
  });

  const optimizers: [string, () => nn.Optimizer, Weight[]][] = [
    ['sgd', () => nn.train.sgd(SGD_LR), c.afterSgd],
    ['adam', () => nn.train.adam(ADAM_LR, 0.9, 0.999, ADAM_EPS), c.afterAdam],
  ];
  for (const [opt, make, expected] of optimizers) {
    test(`${name}: weights after ${TRAIN_STEPS} ${opt} steps`, async () => {
      const m = model(c);
      m.setWeights(asTensors(c.initial));
      m.compile({ optimizer: make(), loss: 'sparseCategoricalCrossentropy' });
      const labels = nn.tensor(Float32Array.from(c.y), c.returnSequences ? [c.batch, c.steps] : [c.batch]);
      // one full batch per epoch: TRAIN_STEPS steps on the same batch, as the script trains
      await m.fit(x(), labels, { epochs: TRAIN_STEPS, batchSize: c.batch, shuffle: false, verbose: 0 });
      const mine = m.getWeights();
      const start = c.initial.flatMap((w) => w.data);
      const want = expected.flatMap((w) => w.data);
      // the comparison says something only when training moved the weights well past the tolerance
      assert.ok(worstDiff(start, want, 'moved') > 20 * TOL, `${name}: PyTorch's weights hardly moved`);
      let worst = 0;
      mine.forEach((w, i) => {
        worst = Math.max(worst, worstDiff(w.data, expected[i].data, `${name} ${opt} weight ${i}`));
      });
      m.dispose();
      console.log(`[report] torch_rnn_${name}_${opt}=${worst.toExponential(2)}`);
      assert.ok(worst <= TOL, `${name}: weights after ${opt} differ from PyTorch's by ${worst}`);
    });
  }
}

test.run();
