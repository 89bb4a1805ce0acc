// ONNX import: PyTorch's exports (scripts/make-onnx-fixtures.py: torch 1.13, opsets 11, 13 and 17; the recurrent
// models, nn.LSTM, nn.GRU, nn.RNN and nn.Embedding with their readings of y and h_n, at 13 and 17) predict what
// PyTorch predicted; the protobuf spellings writers differ in all read the same (tests/runtime/fixtures/onnx-writer.ts
// writes them); imported models fine-tune, save and load; bad graphs are typed errors naming the node; and 10,000
// mutated files are each a model or a typed error.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import * as infer from 'wasmnn/infer';
import { BATCH, MODELS, type OnnxFixture } from './fixtures/onnx-models';
import { onnxModel, varint, type ModelSpec, type Style } from './fixtures/onnx-writer';
import { lcg, rejectsError, sameBits, throwsError, uniform } from './helpers';

const test = suite('onnx import');
let heap: { bytesInUse: number };
test.before(async () => {
  heap = (await nn.ready()).heap;
  await infer.ready();
});

const RTOL = 1e-4;

function bytes(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
}

/** The fixture's inputs as the imported model takes them: NCHW images turned NHWC; sequences (and ids) as they are. */
function input(f: OnnxFixture): nn.Tensor {
  const data = Float32Array.from(f.input);
  return f.inputShape.length > 1 && !f.sequence ? nn.nchwToNhwc(data, [BATCH, ...f.inputShape]) : nn.tensor(data, [BATCH, ...f.inputShape]);
}

/** Worst error relative to each value (or to 1% of the output's scale, for values near zero). */
function worstError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1e-2 * scale));
  return worst;
}

for (const [name, f] of Object.entries(MODELS)) {
  test(`${name}: predictions match PyTorch's`, () => {
    const model = nn.loadOnnxModel(bytes(f.onnx));
    const y = model.predict(input(f));
    assert.equal(y.shape, [BATCH, ...f.outputShape], `${name}: output shape`);
    const worst = worstError(y.data, f.output);
    assert.ok(worst <= RTOL, `${name}: worst relative error ${worst.toExponential(2)} > ${RTOL}`);
    model.dispose();
  });
}

test('the fixtures cover the layers and activations the ops become', () => {
  const classes = new Set<string>(), acts = new Set<string>();
  const walk = (layers: nn.layers.Layer[]) => layers.forEach((l) => {
    classes.add(l.className);
    if (l.activation) acts.add(l.activation.name);
    if (l instanceof nn.layers.Residual || l instanceof nn.layers.Bidirectional) walk(l.inner);
  });
  for (const f of Object.values(MODELS)) {
    const model = nn.loadOnnxModel(bytes(f.onnx));
    walk(model.network.layers);
    model.dispose();
  }
  for (const c of ['Dense', 'Conv2D', 'Conv1D', 'MaxPooling1D', 'BatchNormalization', 'Residual', 'MaxPooling2D', 'AveragePooling2D',     'GlobalAveragePooling2D', 'Flatten', 'LogSoftmax', 'Activation', 'LSTM', 'GRU', 'SimpleRNN', 'Bidirectional', 'Embedding']) {
    assert.ok(classes.has(c), `no fixture becomes a ${c}`);
  }
  for (const a of ['relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'gelu', 'softmax']) assert.ok(acts.has(a), `no fixture has ${a}`);
});

test('a path or URL loads through the checkpoint places (a data: URL here)', async () => {
  const f = MODELS.mlp_opset13;
  const model = await nn.loadOnnxModel(`data:application/octet-stream;base64,${f.onnx}`);
  assert.ok(worstError(model.predict(input(f)).data, f.output) <= RTOL);
  model.dispose();
});

test('an imported model fine-tunes with fit, and saves and loads as .wnn', async () => {
  for (const name of ['res_cnn_opset17', 'gelu_mlp_opset13', 'char_gru_opset17', 'bilstm_opset13', 'stacked_lstm_opset17']) {
    const f = MODELS[name];
    const model = nn.loadOnnxModel(bytes(f.onnx));
    const x = input(f);
    const out = f.outputShape.reduce((a, d) => a * d, 1);
    const target = nn.tensor(uniform(BATCH * out, 5, -1, 0), [BATCH, ...f.outputShape]);
    model.compile({ optimizer: nn.train.adam(0.01), loss: 'mse' });
    const history = await model.fit(x, target, { epochs: 8, batchSize: BATCH, shuffle: false });
    const losses = history.history.loss as number[];
    assert.ok(losses[losses.length - 1] < losses[0], `${name}: the loss falls (${losses[0]} -> ${losses[losses.length - 1]})`);
    const tuned = model.predict(x);
    assert.ok(worstError(tuned.data, f.output) > RTOL, `${name}: fit changed the weights`);
    const loaded = nn.loadModel(model.save());
    assert.equal(Array.from(loaded.predict(x).data), Array.from(tuned.data), `${name}: the saved model predicts the same bits`);
    model.dispose();
    loaded.dispose();
  }
});

test('every imported fixture, saved as .wnn, predicts the same bits in wasmnn/infer', () => {
  for (const [name, f] of Object.entries(MODELS)) {
    const model = nn.loadOnnxModel(bytes(f.onnx));
    const x = input(f);
    const edge = infer.loadModel(model.save());
    sameBits(edge.predict(infer.tensor(x.data, x.shape)).data, model.predict(x).data as Float32Array, name);
    edge.dispose();
    model.dispose();
  }
});

// ------------------------------------------------------------------------------------------------ spellings

/** A two-layer MLP written by hand: Gemm (transB) Relu Gemm (alpha, beta, no transB) Softmax(axis -1). */
function smallMlp(opset = 13): ModelSpec {
  const w1 = [0.5, -0.25, 0.125, 1, -1, 0.75, 0.25, -0.5, 0.0625, 0.5, -0.75, 0.25]; // [3, 4] (transB)
  const w2 = [1, -0.5, 0.25, 0.5, -1, 0.125]; // [3, 2]
  return {
    opset,
    input: { name: 'x', shape: ['batch', 4] },
    output: 'y',
    initializers: [
      { name: 'w1', dims: [3, 4], values: w1 }, { name: 'b1', dims: [3], values: [0.25, -0.125, 0.5] },
      { name: 'w2', dims: [3, 2], values: w2 }, { name: 'b2', dims: [1, 2], values: [0.5, -0.25] },
    ],
    nodes: [
      { op: 'Gemm', inputs: ['x', 'w1', 'b1'], outputs: ['h'], attrs: { transB: 1 } },
      { op: 'Relu', inputs: ['h'], outputs: ['r'] },
      { op: 'Gemm', inputs: ['r', 'w2', 'b2'], outputs: ['z'], attrs: { alpha: { f: 0.5 }, beta: { f: 2 } } },
      { op: 'Softmax', inputs: ['z'], outputs: ['y'], attrs: { axis: -1 } },
    ],
  };
}

/** smallMlp's outputs computed here, in doubles. */
function smallMlpReference(x: Float32Array): number[] {
  const m = smallMlp();
  const [w1, b1, w2, b2] = m.initializers.map((t) => t.values);
  const out: number[] = [];
  for (let r = 0; r < x.length / 4; r++) {
    const h = [0, 1, 2].map((o) => Math.max(0, b1[o] + [0, 1, 2, 3].reduce((a, i) => a + x[r * 4 + i] * w1[o * 4 + i], 0)));
    const z = [0, 1].map((o) => 0.5 * h.reduce((a, v, i) => a + v * w2[i * 2 + o], 0) + 2 * b2[o]);
    const e = z.map((v) => Math.exp(v - Math.max(...z)));
    out.push(...e.map((v) => v / (e[0] + e[1])));
  }
  return out;
}

test('every spelling of the same model reads the same: packed or not, raw or listed, float16, unknown fields, weights as inputs', () => {
  const x = nn.tensor(uniform(12, 3), [3, 4]);
  const want = smallMlpReference(x.data as Float32Array);
  const styles: [string, Style, boolean?][] = [
    ['raw float32', {}], ['float_data unpacked', { floats: 'list' }], ['float_data packed, ints packed', { floats: 'list', packed: true }],
    ['float16 raw_data', { floats: 'f16' }], ['float16 in int32_data', { floats: 'f16list' }], ['float16 packed', { floats: 'f16list', packed: true }],
    ['unknown fields of every wire type', { noise: true, packed: true }], ['initializers listed as inputs', {}, true],
  ];
  for (const [what, style, asInputs] of styles) {
    const model = nn.loadOnnxModel(onnxModel({ ...smallMlp(), initializersAsInputs: asInputs }, style));
    const worst = worstError(model.predict(x).data, want);
    assert.ok(worst < 1e-5, `${what}: worst relative error ${worst}`);
    model.dispose();
  }
});

test('negative int64s (10-byte varints) and the opset-13 change of softmax axis', () => {
  assert.equal(varint(-1).length, 10);
  // opset 11: axis 1 of [batch, features] is the features too
  const m11 = smallMlp(11);
  m11.nodes[3].attrs = { axis: 1 };
  const a = nn.loadOnnxModel(onnxModel(m11));
  const x = nn.tensor(uniform(8, 4), [2, 4]);
  assert.ok(worstError(a.predict(x).data, smallMlpReference(x.data as Float32Array)) < 1e-5);
  a.dispose();
  // an image: opset 13's axis 1 is the channels (wasmnn's last axis); opset 11's axis 1 spans C·H·W, refused
  const image = (opset: number): ModelSpec => ({
    opset, input: { name: 'x', shape: [1, 2, 3, 3] }, output: 'y', initializers: [],
    nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: 1 } }],
  });
  const s = nn.loadOnnxModel(onnxModel(image(13)));
  const img = nn.tensor(uniform(18, 5), [1, 3, 3, 2]);
  const y = s.predict(img).data;
  for (let p = 0; p < 9; p++) {
    const e = [0, 1].map((c) => Math.exp(img.data[p * 2 + c]));
    assert.ok(Math.abs(y[p * 2] - e[0] / (e[0] + e[1])) < 1e-6, 'softmax over the channels');
  }
  s.dispose();
  throwsError(() => nn.loadOnnxModel(onnxModel(image(11))), nn.ValueError, /node 'Softmax_0' \(Softmax\): axis 1 at opset 11/);
});

/** Conv [2 -> 3, 3x3] NCHW as PyTorch defines it, for the reference: x [c, h, w], w [f, c, 3, 3], stride, pad. */
function convReference(x: Float32Array, c: number, h: number, w: number, k: number[], f: number, stride: number, pad: number): { y: number[]; oh: number; ow: number } {
  const oh = Math.floor((h + 2 * pad - 3) / stride) + 1, ow = Math.floor((w + 2 * pad - 3) / stride) + 1;
  const y: number[] = [];
  for (let o = 0; o < f; o++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let s = 0;
        for (let ci = 0; ci < c; ci++) {
          for (let a = 0; a < 3; a++) {
            for (let b = 0; b < 3; b++) {
              const yy = i * stride - pad + a, xx = j * stride - pad + b;
              if (yy >= 0 && yy < h && xx >= 0 && xx < w) s += x[(ci * h + yy) * w + xx] * k[((o * c + ci) * 3 + a) * 3 + b];
            }
          }
        }
        y.push(s);
      }
    }
  }
  return { y, oh, ow };
}

test('Conv with auto_pad SAME_UPPER and a stride of 2, Gelu (opset 20), Dropout, Identity, MatMul + Add, LogSoftmax', () => {
  const k = Array.from(uniform(54, 6));
  const wm = Array.from(uniform(48 * 4, 7, -0.2, 0.2));
  const spec: ModelSpec = {
    opset: 20, input: { name: 'x', shape: ['n', 2, 7, 7] }, output: 'y',
    initializers: [
      { name: 'k', dims: [3, 2, 3, 3], values: k }, { name: 'wm', dims: [48, 4], values: wm },
      { name: 'bm', dims: [4], values: [0.1, -0.2, 0.3, 0] }, { name: 'ratio', dims: [], values: [0.3] },
    ],
    nodes: [
      { op: 'Conv', inputs: ['x', 'k'], outputs: ['c'], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2], kernel_shape: [3, 3] } },
      { op: 'Gelu', inputs: ['c'], outputs: ['g'] },
      { op: 'Dropout', inputs: ['g', 'ratio'], outputs: ['d'] },
      { op: 'Identity', inputs: ['d'], outputs: ['i'] },
      { op: 'Flatten', inputs: ['i'], outputs: ['f'], attrs: { axis: 1 } },
      { op: 'MatMul', inputs: ['f', 'wm'], outputs: ['m'] },
      { op: 'Add', inputs: ['m', 'bm'], outputs: ['a'] },
      { op: 'LogSoftmax', inputs: ['a'], outputs: ['y'], attrs: { axis: 1 } },
    ],
  };
  const model = nn.loadOnnxModel(onnxModel(spec));
  assert.equal(model.network.layers.map((l) => l.className), ['Conv2D', 'Dropout', 'Flatten', 'Dense', 'LogSoftmax']);
  const x = uniform(98, 8);
  const { y: conv, oh, ow } = convReference(x, 2, 7, 7, k, 3, 2, 1);
  assert.equal([oh, ow], [4, 4]);
  const erf = (v: number) => { // erf by the midpoint rule on exp(-t²): an independent reference, accurate to 1e-7
    let s = 0;
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const t = ((i + 0.5) * v) / n;
      s += Math.exp(-t * t);
    }
    return (2 / Math.sqrt(Math.PI)) * s * (v / n);
  };
  const g = conv.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
  const z = [0, 1, 2, 3].map((o) => spec.initializers[2].values[o] + g.reduce((a, v, i) => a + v * wm[i * 4 + o], 0));
  const lse = Math.log(z.reduce((a, v) => a + Math.exp(v), 0));
  const want = z.map((v) => v - lse);
  const got = model.predict(nn.nchwToNhwc(x, [1, 2, 7, 7])).data;
  assert.ok(worstError(got, want) < 1e-4, `worst relative error ${worstError(got, want)}`);
  model.dispose();
});

test('arithmetic with one number is a rescaling layer: x / 255, x - 0.5, 2·x, 1 - x, x + 3', () => {
  const num = (name: string, v: number) => ({ name, dims: [], values: [v] });
  const spec: ModelSpec = {
    opset: 13, input: { name: 'x', shape: ['n', 3] }, output: 'y',
    initializers: [num('c255', 255), num('half', 0.5), num('two', 2), num('one', 1), num('three', 3)],
    nodes: [
      { op: 'Div', inputs: ['x', 'c255'], outputs: ['a'] }, { op: 'Sub', inputs: ['a', 'half'], outputs: ['b'] },
      { op: 'Mul', inputs: ['two', 'b'], outputs: ['c'] }, { op: 'Sub', inputs: ['one', 'c'], outputs: ['d'] },
      { op: 'Add', inputs: ['d', 'three'], outputs: ['y'] },
    ],
  };
  const model = nn.loadOnnxModel(onnxModel(spec));
  assert.equal(model.network.layers.map((l) => l.className), ['Rescaling', 'Rescaling', 'Rescaling', 'Rescaling', 'Rescaling']);
  const x = Float32Array.of(0, 51, 255, 127, 200, 13);
  const want = Array.from(x, (v) => 1 - 2 * (v / 255 - 0.5) + 3);
  assert.ok(worstError(model.predict(nn.tensor(x, [2, 3])).data, want) < 1e-6);
  model.dispose();
  spec.initializers[0] = { name: 'c255', dims: [3], values: [255, 255, 1] };
  throwsError(() => nn.loadOnnxModel(onnxModel(spec)), nn.ValueError, /node 'Div_0' \(Div\): only Div with one number is supported; this constant has shape \[3\]/);
});

test('Reshape to [batch, -1] computed from Shape (opset 15\'s start and end) and Concat, then Gemm in NCHW order', () => {
  const w = Array.from(uniform(2 * 18, 11));
  const spec: ModelSpec = {
    opset: 15, input: { name: 'x', shape: ['n', 2, 3, 3] }, output: 'y',
    initializers: [{ name: 'rest', dims: [1], values: [-1], ints: true }, { name: 'w', dims: [2, 18], values: w }],
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'], attrs: { start: 0, end: -3 } },
      { op: 'Concat', inputs: ['s', 'rest'], outputs: ['shape'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'w'], outputs: ['y'], attrs: { transB: 1 } },
    ],
  };
  const model = nn.loadOnnxModel(onnxModel(spec));
  const x = uniform(36, 12);
  const want = [0, 1].flatMap((s) => [0, 1].map((o) => w.slice(o * 18, o * 18 + 18).reduce((a, v, i) => a + v * x[s * 18 + i], 0)));
  assert.ok(worstError(model.predict(nn.nchwToNhwc(x, [2, 2, 3, 3])).data, want) < 1e-5);
  model.dispose();
});

// ------------------------------------------------------------------------------------------------ errors

test('an unsupported op names the op, the node and the opset', () => {
  const m = smallMlp();
  m.nodes[1] = { op: 'Cos', inputs: ['h'], outputs: ['r'], name: 'my_cos' };
  throwsError(() => nn.loadOnnxModel(onnxModel(m)), nn.ValueError, /node 'my_cos' \(Cos\) at opset 13 is an op wasmnn cannot import; it imports Gemm, MatMul/);
  m.nodes[1] = { op: 'Relu', inputs: ['h'], outputs: ['r'], name: 'ms_relu', domain: 'com.microsoft' };
  throwsError(() => nn.loadOnnxModel(onnxModel(m)), nn.ValueError, /node 'ms_relu' \(Relu\) in domain 'com.microsoft'/);
});

test('a graph that is not a chain names the node where it breaks', () => {
  const m = smallMlp();
  // x -> Relu and x -> Sigmoid, joined by Mul: a fork that no Add closes
  m.nodes = [
    { op: 'Relu', inputs: ['x'], outputs: ['a'], name: 'left' },
    { op: 'Sigmoid', inputs: ['x'], outputs: ['b'], name: 'right' },
    { op: 'Mul', inputs: ['a', 'b'], outputs: ['y'], name: 'join' },
  ];
  throwsError(() => nn.loadOnnxModel(onnxModel(m)), nn.ValueError, /not a chain at node '(left|right|join)'/);
  // a second data input
  const two = smallMlp();
  two.nodes = [{ op: 'Add', inputs: ['x', 'x2'], outputs: ['y'] }];
  throwsError(() => nn.loadOnnxModel(onnxModel({ ...two, extraInputs: ['x2'] })), nn.ValueError, /the graph must have one input \(besides its weights\), it has 2: 'x', 'x2'/);
  // a node reading a tensor nothing makes
  const dangling = smallMlp();
  dangling.nodes[1].inputs = ['nowhere'];
  throwsError(() => nn.loadOnnxModel(onnxModel(dangling)), nn.ValueError, /node 'Relu_1' \(Relu\) reads 'nowhere'/);
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

test('PyTorch\'s padding 1 with stride 2: TF\'s \'same\' on an odd size, a stride-1 conv subsampled on an even one', () => {
  const k = Array.from(uniform(9, 9));
  for (const size of [7, 8]) {
    const spec: ModelSpec = {
      opset: 13, input: { name: 'x', shape: [1, 1, size, size] }, output: 'y',
      initializers: [{ name: 'k', dims: [1, 1, 3, 3], values: k }],
      nodes: [{ op: 'Conv', inputs: ['x', 'k'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } }, { op: 'Relu', inputs: ['c'], outputs: ['y'] }],
    };
    const model = nn.loadOnnxModel(onnxModel(spec));
    assert.equal(model.network.layers.map((l) => l.className), size === 7 ? ['Conv2D'] : ['Conv2D', 'MaxPooling2D'], `${size}: layers`);
    const x = uniform(size * size, 10);
    const want = convReference(x, 1, size, size, k, 1, 2, 1).y.map((v) => Math.max(v, 0));
    const got = model.predict(nn.tensor(x, [1, size, size, 1])).data;
    assert.ok(worstError(got, want) < 1e-5, `${size}: worst relative error ${worstError(got, want)}`);
    model.dispose();
  }
});

test('padding wasmnn cannot express, count_include_pad, and a flattened image as the output are refused by name', () => {
  const conv = (attrs: Record<string, number | number[] | string>, size = 8): ModelSpec => ({
    opset: 13, input: { name: 'x', shape: [1, 1, size, size] }, output: 'y',
    initializers: [{ name: 'k', dims: [1, 1, 3, 3], values: new Array(9).fill(0.1) }],
    nodes: [{ op: 'Conv', inputs: ['x', 'k'], outputs: ['y'], name: 'c', attrs }],
  });
  // pads only after the input: neither 'valid', 'same' nor centred windows
  throwsError(() => nn.loadOnnxModel(onnxModel(conv({ pads: [0, 0, 1, 1] }))), nn.ValueError, /node 'c' \(Conv\): its padding \(pads \[0,0,1,1\].* neither 'valid' nor TF's 'same'/);
  throwsError(() => nn.loadOnnxModel(onnxModel(conv({ group: 2 }))), nn.ValueError, /group 2/);
  const avg: ModelSpec = {
    opset: 13, input: { name: 'x', shape: [1, 1, 4, 4] }, output: 'y', initializers: [],
    nodes: [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], name: 'p', attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1 } }],
  };
  throwsError(() => nn.loadOnnxModel(onnxModel(avg)), nn.ValueError, /node 'p' \(AveragePool\): count_include_pad = 1/);
  const flat: ModelSpec = {
    opset: 13, input: { name: 'x', shape: [1, 2, 3, 3] }, output: 'y', initializers: [],
    nodes: [{ op: 'Flatten', inputs: ['x'], outputs: ['y'] }],
  };
  throwsError(() => nn.loadOnnxModel(onnxModel(flat)), nn.ValueError, /NHWC order/);
  // sizes from the file are bounded before anything is allocated for them
  throwsError(() => nn.loadOnnxModel(onnxModel({ ...flat, input: { name: 'x', shape: [1, 4, 16384, 16384] } })), nn.ShapeError, /more values per sample than wasm32 memory holds/);
  throwsError(() => nn.loadOnnxModel(onnxModel({ ...flat, input: { name: 'x', shape: [1, 4, 4096, 8192] } })), nn.ValueError, /flattens \[4,4096,8192\] into more than 67108864 features/);
});

test('truncated, empty and foreign bytes are ValueErrors naming the message and the byte', async () => {
  const good = bytes(MODELS.bn_cnn_opset13.onnx);
  for (const cut of [1, 7, 100, good.length >> 1, good.length - 1]) {
    throwsError(() => nn.loadOnnxModel(good.subarray(0, cut)), nn.ValueError, /onnx: malformed \w+ at byte \d+|onnx: /);
  }
  throwsError(() => nn.loadOnnxModel(new Uint8Array(0)), nn.ValueError, /holds no graph/);
  throwsError(() => nn.loadOnnxModel(new TextEncoder().encode('WNN1 not an onnx file')), nn.ValueError, /onnx: malformed ModelProto at byte \d+/);
  throwsError(() => nn.loadOnnxModel(Uint8Array.of(0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f)), nn.ValueError, /runs past the end/);
  throwsError(() => nn.loadOnnxModel(Uint8Array.of(0x08, ...new Array(11).fill(0xff))), nn.ValueError, /longer than 10 bytes/);
  throwsError(() => nn.loadOnnxModel(onnxModel({ ...smallMlp(), opset: 5 })), nn.ValueError, /opset 5 of the ONNX domain; wasmnn imports opsets 9 to 21/);
  await rejectsError(() => nn.loadOnnxModel(''), nn.ValueError, /path or URL/);
  await rejectsError(() => nn.loadOnnxModel('/no/such/model.onnx'), nn.NotFoundError, /no checkpoint at \/no\/such\/model.onnx|could not fetch .*\/no\/such\/model.onnx: HTTP 404/); // a file, or in a browser a URL
  throwsError(() => nn.loadOnnxModel(42 as never), nn.ValueError, /bytes/);
});

test('onnxInfo says what a file is without converting it: opset, producer, ops, weight types; bad bytes are ValueErrors', () => {
  const info = nn.onnxInfo(bytes(MODELS.char_gru_opset17.onnx));
  assert.equal([info.opset, info.irVersion, info.producer, info.producerVersion, info.graph], [17, 8, 'pytorch', '1.13.0', 'torch_jit']);
  assert.ok(['Gather', 'GRU', 'Gemm', 'LogSoftmax'].every((op) => info.ops.includes(op)), `ops: ${info.ops}`);
  assert.equal(new Set(info.ops).size, info.ops.length);
  assert.equal(info.weightTypes, ['float32']);
  // a file wasmnn would refuse to import is still described
  const old = nn.onnxInfo(onnxModel({ ...smallMlp(), opset: 5 }, { floats: 'f16' }));
  assert.equal([old.opset, old.weightTypes], [5, ['float16']]);
  throwsError(() => nn.onnxInfo(bytes(MODELS.mlp_opset13.onnx).subarray(0, 100)), nn.ValueError, /onnx: malformed \w+ at byte \d+/);
  throwsError(() => nn.onnxInfo('model.onnx' as never), nn.ValueError, /onnxInfo takes the .onnx file's bytes/);
});

// ------------------------------------------------------------------------------------------------ fuzz

test('fuzz: 10,000 mutated ONNX files are each a model or a typed error', () => {
  const bases = ['mlp_opset13', 'gelu_mlp_opset17', 'bn_cnn_opset11', 'res_cnn_opset13', 'char_gru_opset13', 'bilstm_opset17'].map((n) => bytes(MODELS[n].onnx));
  bases.push(onnxModel(smallMlp(), { noise: true, packed: true, floats: 'list' }));
  const before = heap.bytesInUse;
  const next = lcg(20261207);
  const pick = (n: number) => Math.floor(next() * n);
  const counts: Record<string, number> = { model: 0 };
  const started = Date.now();
  for (let i = 0; i < 10_000; i++) {
    const base = bases[pick(bases.length)];
    let b: Uint8Array = base.slice();
    switch (pick(4)) {
      case 0: // flip bits
        for (let k = 1 + pick(3); k > 0; k--) b[pick(b.length)] ^= 1 << pick(8);
        break;
      case 1: // truncate
        b = b.slice(0, pick(b.length));
        break;
      case 2: { // insert a varint (a plausible key, length or value) somewhere
        const v = varint(pick(4) === 0 ? -1 - pick(1000) : pick(1 << (1 + pick(31))));
        const at = pick(b.length);
        b = concat(concat(b.subarray(0, at), Uint8Array.from(v)), b.subarray(at));
        break;
      }
      default: // overwrite a few bytes
        for (let k = 1 + pick(3); k > 0; k--) b[pick(b.length)] = pick(256);
    }
    try {
      const model = nn.loadOnnxModel(b);
      const size = model.inputShape.reduce((a, d) => a * d, 1);
      if (size <= 4096) model.predict(nn.tensor(new Float32Array(size), [1, ...model.inputShape]));
      model.dispose();
      counts.model++;
    } catch (e) {
      if (!(e instanceof nn.WasmnnError)) assert.unreachable(`mutation ${i}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
      counts[(e as Error).name] = (counts[(e as Error).name] ?? 0) + 1;
    }
  }
  const total = Object.values(counts).reduce((a, v) => a + v, 0);
  assert.is(total, 10_000);
  assert.ok(counts.model > 100 && counts.ValueError > 1000, `both outcomes happen: ${JSON.stringify(counts)}`);
  assert.is(heap.bytesInUse, before, 'no memory left behind');
  console.log(`\n[report] onnx_fuzz=${Object.entries(counts).map(([k, v]) => `${k}:${v}`).join(',')}`);
  console.log(`\n[report] onnx_fuzz_ms=${Date.now() - started}`);
});

test.run();
