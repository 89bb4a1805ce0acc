// ONNX LSTM and GRU beyond PyTorch's exports (those are in onnx-import.test.ts' fixtures): the forms PyTorch does not
// write (GRU with linear_before_reset 0, direction reverse, layout 1) against the ONNX equations computed here in
// doubles, and every form wasmnn does not have refused with a typed error naming the node, the op and the attribute.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { onnxModel, type Attr, type ModelSpec, type NodeSpec } from './fixtures/onnx-writer';
import { throwsError, uniform } from './helpers';

const test = suite('onnx recurrent');
test.before(async () => {
  await nn.ready();
});

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

interface Rnn {
  op: 'LSTM' | 'GRU';
  x: Float32Array; // [batch, steps, in]
  batch: number; steps: number; input: number; hidden: number;
  W: Float32Array; R: Float32Array; B: Float32Array; // one direction: [G·h, in], [G·h, h], [2·G·h]
  reverse?: boolean;
  linearBeforeReset?: boolean;
}

/** ONNX's LSTM (gates i, o, f, c) and GRU (z, r, h) in doubles: Y [steps][batch][hidden] in time order, and Y_h. */
function reference(m: Rnn): { y: number[][][]; last: number[][] } {
  const { hidden: u, input: n } = m;
  const G = m.op === 'LSTM' ? 4 : 3;
  const y: number[][][] = Array.from({ length: m.steps }, () => []);
  const last: number[][] = [];
  for (let b = 0; b < m.batch; b++) {
    let h = new Array<number>(u).fill(0), c = new Array<number>(u).fill(0);
    for (let s = 0; s < m.steps; s++) {
      const t = m.reverse ? m.steps - 1 - s : s;
      const xw = (g: number, j: number) => m.B[g * u + j] + Array.from({ length: n }, (_, i) => m.W[(g * u + j) * n + i] * m.x[(b * m.steps + t) * n + i]).reduce((a, v) => a + v, 0);
      const rh = (g: number, j: number, state: number[]) => Array.from({ length: u }, (_, i) => m.R[(g * u + j) * u + i] * state[i]).reduce((a, v) => a + v, 0);
      const rb = (g: number, j: number) => m.B[G * u + g * u + j];
      if (m.op === 'LSTM') {
        const gate = (g: number, j: number) => xw(g, j) + rh(g, j, h) + rb(g, j);
        const next = h.map((_, j) => {
          const i = sigmoid(gate(0, j)), o = sigmoid(gate(1, j)), f = sigmoid(gate(2, j)), cand = Math.tanh(gate(3, j));
          c[j] = f * c[j] + i * cand;
          return o * Math.tanh(c[j]);
        });
        h = next;
      } else {
        const z = h.map((_, j) => sigmoid(xw(0, j) + rh(0, j, h) + rb(0, j)));
        const r = h.map((_, j) => sigmoid(xw(1, j) + rh(1, j, h) + rb(1, j)));
        const rhState = h.map((v, i) => r[i] * v);
        const cand = h.map((_, j) => Math.tanh(xw(2, j) + (m.linearBeforeReset ? r[j] * (rh(2, j, h) + rb(2, j)) : rh(2, j, rhState) + rb(2, j))));
        h = h.map((v, j) => (1 - z[j]) * cand[j] + z[j] * v);
      }
      y[t][b] = h.slice();
    }
    last.push(h);
  }
  return { y, last };
}

function rnn(op: 'LSTM' | 'GRU', seed: number, extra: Partial<Rnn> = {}): Rnn {
  const batch = 2, steps = 5, input = 3, hidden = 4, G = op === 'LSTM' ? 4 : 3;
  return {
    op, batch, steps, input, hidden, x: uniform(batch * steps * input, seed),
    W: uniform(G * hidden * input, seed + 1, -0.7, 0.7), R: uniform(G * hidden * hidden, seed + 2, -0.7, 0.7), B: uniform(2 * G * hidden, seed + 3, -0.5, 0.5),
    ...extra,
  };
}

/** A graph around one recurrent node as PyTorch writes it: Transpose to [steps, batch, in], the op, then `after`. */
function graph(m: Rnn, attrs: Record<string, Attr>, outputs: string[], after: NodeSpec[], opset = 13, layout0 = true): ModelSpec {
  const G = m.op === 'LSTM' ? 4 : 3;
  return {
    opset, input: { name: 'x', shape: ['n', m.steps, m.input] }, output: 'y',
    initializers: [
      { name: 'W', dims: [1, G * m.hidden, m.input], values: Array.from(m.W) }, { name: 'R', dims: [1, G * m.hidden, m.hidden], values: Array.from(m.R) },
      { name: 'B', dims: [1, 2 * G * m.hidden], values: Array.from(m.B) },
      { name: 'ax0', dims: [1], values: [0], ints: true }, { name: 'ax1', dims: [1], values: [1], ints: true },
      { name: 'flat', dims: [3], values: [0, 0, -1], ints: true },
    ],
    nodes: [
      ...(layout0 ? [{ op: 'Transpose', inputs: ['x'], outputs: ['xt'], attrs: { perm: [1, 0, 2] } }] : []),
      { op: m.op, name: 'rnn', inputs: [layout0 ? 'xt' : 'x', 'W', 'R', 'B'], outputs, attrs: { hidden_size: m.hidden, ...attrs } },
      ...after,
    ],
  };
}

function worst(got: ArrayLike<number>, want: number[]): number {
  let w = 0;
  for (let i = 0; i < want.length; i++) w = Math.max(w, Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1e-3));
  return w;
}

test('GRU with linear_before_reset 0 (reset before the recurrent product) and 1, every step, against the ONNX equations', () => {
  for (const lbr of [0, 1]) {
    const m = rnn('GRU', 10 + lbr, { linearBeforeReset: lbr === 1 });
    const spec = graph(m, { linear_before_reset: lbr }, ['ys'], [
      { op: 'Squeeze', inputs: ['ys', 'ax1'], outputs: ['sq'] },
      { op: 'Transpose', inputs: ['sq'], outputs: ['y'], attrs: { perm: [1, 0, 2] } },
    ]);
    const model = nn.loadOnnxModel(onnxModel(spec));
    const gru = model.network.layers[0] as nn.layers.GRU;
    assert.is(gru.resetAfter, lbr === 1, 'linear_before_reset is resetAfter');
    const got = model.predict(nn.tensor(m.x, [m.batch, m.steps, m.input]));
    assert.equal(got.shape, [m.batch, m.steps, m.hidden]);
    const { y } = reference(m);
    const want = Array.from({ length: m.batch }, (_, b) => y.flatMap((step) => step[b])).flat();
    assert.ok(worst(got.data, want) < 1e-5, `linear_before_reset ${lbr}: worst relative error ${worst(got.data, want)}`);
    model.dispose();
  }
});

test('LSTM of direction reverse, its final state Y_h (Squeeze of the directions axis)', () => {
  const m = rnn('LSTM', 20, { reverse: true });
  const spec = graph(m, { direction: 'reverse' }, ['', 'yh'], [{ op: 'Squeeze', inputs: ['yh', 'ax0'], outputs: ['y'] }]);
  const model = nn.loadOnnxModel(onnxModel(spec));
  const lstm = model.network.layers[0] as nn.layers.LSTM;
  assert.ok(lstm.goBackwards && !lstm.returnSequences);
  const got = model.predict(nn.tensor(m.x, [m.batch, m.steps, m.input]));
  const want = reference(m).last.flat();
  assert.ok(worst(got.data, want) < 1e-5, `worst relative error ${worst(got.data, want)}`);
  model.dispose();
});

test('an elementwise op between an LSTM and its last step (tanh(y)[:, -1]) still reads the last state', () => {
  const m = rnn('LSTM', 25);
  const spec = graph(m, {}, ['ys'], [
    { op: 'Squeeze', inputs: ['ys', 'ax1'], outputs: ['sq'] },
    { op: 'Transpose', inputs: ['sq'], outputs: ['bt'], attrs: { perm: [1, 0, 2] } },
    { op: 'Tanh', inputs: ['bt'], outputs: ['th'] },
    { op: 'Gather', inputs: ['th', 'minus1'], outputs: ['y'], attrs: { axis: 1 } },
  ]);
  spec.initializers.push({ name: 'minus1', dims: [], values: [-1], ints: true });
  const model = nn.loadOnnxModel(onnxModel(spec));
  assert.equal(model.network.layers.map((l) => l.className), ['LSTM', 'Activation']);
  const got = model.predict(nn.tensor(m.x, [m.batch, m.steps, m.input]));
  assert.equal(got.shape, [m.batch, m.hidden]);
  const want = reference(m).last.flat().map(Math.tanh);
  assert.ok(worst(got.data, want) < 1e-5, `worst relative error ${worst(got.data, want)}`);
  model.dispose();
});

test('LSTM of layout 1 (batch first, opset 14): Y [batch, steps, 1, hidden] reshaped by (0, 0, -1)', () => {
  const m = rnn('LSTM', 30);
  const spec = graph(m, { layout: 1 }, ['ys'], [{ op: 'Reshape', inputs: ['ys', 'flat'], outputs: ['y'] }], 14, false);
  const model = nn.loadOnnxModel(onnxModel(spec));
  const got = model.predict(nn.tensor(m.x, [m.batch, m.steps, m.input]));
  assert.equal(got.shape, [m.batch, m.steps, m.hidden]);
  const { y } = reference(m);
  const want = Array.from({ length: m.batch }, (_, b) => y.flatMap((step) => step[b])).flat();
  assert.ok(worst(got.data, want) < 1e-5, `worst relative error ${worst(got.data, want)}`);
  model.dispose();
});

test('what wasmnn\'s LSTM and GRU do not have is a ValueError naming the node, the op and the attribute or input', () => {
  const m = rnn('LSTM', 40);
  const last: NodeSpec[] = [
    { op: 'Squeeze', inputs: ['ys', 'ax1'], outputs: ['sq'] },
    { op: 'Transpose', inputs: ['sq'], outputs: ['y'], attrs: { perm: [1, 0, 2] } },
  ];
  const load = (spec: ModelSpec) => () => nn.loadOnnxModel(onnxModel(spec));
  throwsError(load(graph(m, { clip: { f: 3 } }, ['ys'], last)), nn.ValueError, /node 'rnn' \(LSTM\): the attribute 'clip' is not supported/);
  throwsError(load(graph(m, { input_forget: 1 }, ['ys'], last)), nn.ValueError, /node 'rnn' \(LSTM\): the attribute 'input_forget' = 1/);
  throwsError(load(graph(m, { activations: { strings: ['Sigmoid', 'Relu', 'Tanh'] } }, ['ys'], last)), nn.ValueError, /node 'rnn' \(LSTM\): the attribute 'activations' \[Sigmoid, Relu, Tanh\] is not LSTM's default/);
  // the defaults, spelled out, are fine
  nn.loadOnnxModel(onnxModel(graph(m, { activations: { strings: ['Sigmoid', 'Tanh', 'Tanh'] } }, ['ys'], last))).dispose();
  throwsError(load(graph(m, { direction: 'sideways' }, ['ys'], last)), nn.ValueError, /node 'rnn' \(LSTM\): direction 'sideways'/);
  throwsError(load(graph(rnn('GRU', 41), { linear_before_reset: 2 }, ['ys'], last)), nn.ValueError, /node 'rnn' \(GRU\): linear_before_reset 2/);
  // a non-zero initial state, sequence lengths of their own, the cell state as the output
  const h0 = graph(m, {}, ['ys'], last);
  h0.initializers.push({ name: 'h0', dims: [1, 1, 4], values: [0, 0.5, 0, 0] }, { name: 'lens', dims: [1], values: [3], ints: true });
  h0.nodes[1].inputs.push('', 'h0');
  throwsError(load(h0), nn.ValueError, /node 'rnn' \(LSTM\): its initial_h \(input 5 'h0'\) must be zeros/);
  h0.nodes[1].inputs[4] = 'lens';
  throwsError(load(h0), nn.ValueError, /node 'rnn' \(LSTM\): sequence_lens \[3\] are not all the 5 steps/);
  throwsError(load(graph(m, {}, ['', '', 'yc'], [{ op: 'Squeeze', inputs: ['yc', 'ax0'], outputs: ['y'] }])), nn.ValueError, /node 'rnn' \(LSTM\): the chain goes on from Y_c/);
  // time-major input (nn.LSTM without batch_first): the graph's first axis is the batch, the LSTM reads it as the steps
  throwsError(load(graph(m, {}, ['ys'], last.slice(0, 1).map((n) => ({ ...n, outputs: ['y'] })), 13, false)), nn.ValueError, /node 'rnn' \(LSTM\): its input X is \[batch, 5, 3\]; .*batch_first=True/);
  // a Transpose that reorders a sample's axes
  const swap = graph(m, {}, ['ys'], last);
  swap.nodes[0].attrs = { perm: [0, 2, 1] };
  throwsError(load(swap), nn.ValueError, /node 'Transpose_0' \(Transpose\): perm \[0,2,1\] of \[batch, 5, 3\] reorders the axes of a sample/);
});

test('torch.cat((h_n[-2], h_n[-1]), 1) of a bidirectional GRU: its two final states side by side', () => {
  const m = rnn('GRU', 60, { linearBeforeReset: true });
  const G = 3, u = m.hidden;
  const spec = graph(m, { direction: 'bidirectional', linear_before_reset: 1 }, ['', 'yh'], [
    { op: 'Gather', inputs: ['yh', 'minus2'], outputs: ['fwd'], attrs: { axis: 0 } },
    { op: 'Gather', inputs: ['yh', 'minus1'], outputs: ['bwd'], attrs: { axis: 0 } },
    { op: 'Concat', name: 'cat', inputs: ['fwd', 'bwd'], outputs: ['y'], attrs: { axis: 1 } },
  ]);
  const both = (v: Float32Array) => [...v, ...v];
  spec.initializers[0] = { name: 'W', dims: [2, G * u, m.input], values: both(m.W) };
  spec.initializers[1] = { name: 'R', dims: [2, G * u, u], values: both(m.R) };
  spec.initializers[2] = { name: 'B', dims: [2, 2 * G * u], values: both(m.B) };
  spec.initializers.push({ name: 'minus1', dims: [], values: [-1], ints: true }, { name: 'minus2', dims: [], values: [-2], ints: true });
  const model = nn.loadOnnxModel(onnxModel(spec));
  assert.equal(model.network.layers.map((l) => l.className), ['Bidirectional']);
  const got = model.predict(nn.tensor(m.x, [m.batch, m.steps, m.input]));
  const fwd = reference(m).last, bwd = reference({ ...m, reverse: true }).last;
  const want = fwd.flatMap((h, b) => [...h, ...bwd[b]]);
  assert.ok(worst(got.data, want) < 1e-5, `worst relative error ${worst(got.data, want)}`);
  model.dispose();
  // the other order (h_n[-1] first) is not what a bidirectional layer outputs: refused (by the chain's walk) at the Concat
  spec.nodes[spec.nodes.length - 1].inputs = ['bwd', 'fwd'];
  throwsError(() => nn.loadOnnxModel(onnxModel(spec)), nn.ValueError, /node 'cat' \(Concat\)/);
});

test('the last step of a bidirectional LSTM (not its final state) and of anything but a recurrent output are refused by name', () => {
  const m = rnn('LSTM', 50);
  const G = 4, u = m.hidden;
  const spec = graph(m, { direction: 'bidirectional' }, ['ys'], [
    { op: 'Transpose', inputs: ['ys'], outputs: ['t1'], attrs: { perm: [0, 2, 1, 3] } },
    { op: 'Reshape', inputs: ['t1', 'flat'], outputs: ['r'] },
    { op: 'Transpose', inputs: ['r'], outputs: ['t2'], attrs: { perm: [1, 0, 2] } },
    { op: 'Gather', name: 'last', inputs: ['t2', 'minus1'], outputs: ['y'], attrs: { axis: 1 } },
  ]);
  const both = (v: Float32Array) => [...v, ...v];
  spec.initializers[0] = { name: 'W', dims: [2, G * u, m.input], values: both(m.W) };
  spec.initializers[1] = { name: 'R', dims: [2, G * u, u], values: both(m.R) };
  spec.initializers[2] = { name: 'B', dims: [2, 2 * G * u], values: both(m.B) };
  spec.initializers.push({ name: 'minus1', dims: [], values: [-1], ints: true });
  throwsError(() => nn.loadOnnxModel(onnxModel(spec)), nn.ValueError, /node 'last' \(Gather\): the last step of rnn's output is not a state wasmnn keeps/);
  // every step is fine: [batch, steps, 2·hidden]
  spec.nodes.pop();
  spec.nodes[spec.nodes.length - 1].outputs = ['y'];
  const model = nn.loadOnnxModel(onnxModel(spec));
  assert.equal(model.predict(nn.tensor(m.x, [m.batch, m.steps, m.input])).shape, [m.batch, m.steps, 2 * u]);
  assert.is(model.network.layers[0].className, 'Bidirectional');
  model.dispose();
  // the first step of a one-way LSTM's sequence
  const first = graph(m, {}, ['ys'], [
    { op: 'Squeeze', inputs: ['ys', 'ax1'], outputs: ['sq'] },
    { op: 'Gather', name: 'first', inputs: ['sq', 'zero'], outputs: ['y'], attrs: { axis: 0 } },
  ]);
  first.initializers.push({ name: 'zero', dims: [], values: [0], ints: true });
  throwsError(() => nn.loadOnnxModel(onnxModel(first)), nn.ValueError, /node 'first' \(Gather\): index 0 of axis 0 of \[5, batch, 4\]: wasmnn imports only the last step/);
});

test.run();
