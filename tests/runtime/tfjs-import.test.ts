// TF.js layers-format import: every fixture model (made and predicted by TF.js itself, see
// scripts/make-tfjs-fixtures.mjs) gives TF.js' predictions in wasmnn, and bad models give typed errors naming the
// layer or weight at fault.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { BATCH, MODELS, type TfjsFixture } from './fixtures/tfjs-models';
import { throwsError } from './helpers';

const test = suite('tfjs import');
let heap: { bytesInUse: number };
test.before(async () => {
  heap = (await nn.ready()).heap;
});

/** Conv and batch norm sum in a different order than TF.js' cpu backend: 1e-4 relative to the output's scale. */
const RTOL = 1e-4;

function bytes(base64: string): Uint8Array {
  const text = atob(base64);
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

/** A deep copy of a fixture's model.json to break on purpose. */
function json(f: TfjsFixture) {
  return JSON.parse(JSON.stringify(f.modelJson));
}

function manifest(modelJson: { weightsManifest: { weights: { name: string; shape: number[]; dtype: string }[] }[] }) {
  return modelJson.weightsManifest[0].weights;
}

function checkPredictions(model: nn.Sequential, f: Pick<TfjsFixture, 'input' | 'inputShape' | 'output' | 'outputShape'>, name: string): void {
  const y = model.predict(nn.tensor(Float32Array.from(f.input), [BATCH, ...f.inputShape]));
  assert.equal(y.shape, [BATCH, ...f.outputShape], `${name}: output shape`);
  const scale = f.output.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
  let worst = 0;
  f.output.forEach((want, i) => {
    const err = Math.abs(y.data[i] - want) / Math.max(Math.abs(want), 1e-2 * scale);
    worst = Math.max(worst, err);
  });
  assert.ok(worst <= RTOL, `${name}: worst relative error ${worst.toExponential(2)} > ${RTOL}`);
}

const supported = Object.entries(MODELS).filter(([name]) => name !== 'upsampling');

test('the fixtures cover every layer the issue names', () => {
  const classes = new Set(supported.flatMap(([, f]) => f.modelJson.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name)));
  for (const c of ['Dense', 'Conv2D', 'Conv1D', 'MaxPooling2D', 'AveragePooling2D', 'MaxPooling1D', 'AveragePooling1D', 'Flatten',
    'Dropout', 'BatchNormalization', 'Activation', 'LayerNormalization', 'Embedding', 'LSTM', 'GRU', 'SimpleRNN', 'Bidirectional', 'TimeDistributed']) {
    assert.ok(classes.has(c), `no fixture has a ${c}`);
  }
});

for (const [name, f] of supported) {
  test(`${name}: predictions match TF.js`, () => {
    const model = nn.loadTfjsModel(f.modelJson, bytes(f.weights));
    const layers = f.modelJson.modelTopology.config.layers.filter((l: { class_name: string }) => l.class_name !== 'InputLayer');
    assert.equal(model.layers.map((l) => l.name), layers.map((l: { config: { name: string } }) => l.config.name));
    checkPredictions(model, f, name);
    model.dispose();
  });
}

test('a model saved with its steps open (batch_input_shape [null, null]) takes any number of steps, as in TF.js', () => {
  const f = MODELS.openSteps;
  assert.equal(f.modelJson.modelTopology.config.layers[0].config.batch_input_shape, [null, null]);
  const model = nn.loadTfjsModel(f.modelJson, bytes(f.weights));
  assert.equal(model.layers[0].getConfig().inputShape, [null]);
  assert.ok(model.network.variableSteps, 'the imported model does not take any number of steps');
  // the fixture's own run (above, at its steps), then another number of steps, then the first again
  checkPredictions(model, f.other!, 'openSteps at other steps');
  assert.is.not(f.other!.inputShape[0], f.inputShape[0]);
  checkPredictions(model, f, 'openSteps at its steps again');
  // what the library makes of inputShape [null] itself: the same layers, the same predictions once the weights are copied
  const L = nn.layers;
  const own = nn.sequential({ layers: [L.embedding({ inputShape: [null], inputDim: 11, outputDim: 4, maskZero: true }),
    L.lstm({ units: 6, returnSequences: true, recurrentActivation: 'hardSigmoid' }),
    L.gru({ units: 5, returnSequences: true, recurrentActivation: 'hardSigmoid', resetAfter: false }), L.dense({ units: 11, activation: 'softmax' })] });
  own.setWeights(model.getWeights());
  checkPredictions(own, f.other!, 'nn.sequential with inputShape [null]');
  own.dispose();
  // saved as wasmnn's checkpoint (what `wasmnn import` writes), it keeps its steps open
  const again = nn.loadModel(model.save());
  checkPredictions(again, f, 'openSteps saved and loaded');
  checkPredictions(again, f.other!, 'openSteps saved and loaded, other steps');
  again.dispose();
  model.dispose();
});

test('model.json as text, weights as an ArrayBuffer or as several files', () => {
  const f = MODELS.cnn2d;
  const w = bytes(f.weights);
  const a = nn.loadTfjsModel(JSON.stringify(f.modelJson), w.slice().buffer);
  checkPredictions(a, f, 'text + ArrayBuffer');
  a.dispose();
  // the split falls inside a weight: the files are one byte stream
  const b = nn.loadTfjsModel(f.modelJson, [w.subarray(0, 101), w.subarray(101, 250), w.subarray(250)]);
  checkPredictions(b, f, 'three files');
  b.dispose();
});

test('loadTfjsModelFrom fetches model.json and its weight files (data: URLs)', async () => {
  const f = MODELS.mlp;
  const w = bytes(f.weights);
  const m = json(f);
  // two weight files, named by absolute URLs (relative names are resolved against model.json's URL)
  m.weightsManifest[0].paths = [100, w.length].map((end, i) => {
    const part = w.subarray(i === 0 ? 0 : 100, end);
    return `data:application/octet-stream;base64,${btoa(String.fromCharCode(...part))}`;
  });
  const model = await nn.loadTfjsModelFrom(`data:application/json;base64,${btoa(JSON.stringify(m))}`);
  checkPredictions(model, f, 'fetched');
  model.dispose();
});

test('an unsupported layer is a NotFoundError naming its class and name', () => {
  const f = MODELS.upsampling;
  throwsError(() => nn.loadTfjsModel(f.modelJson, bytes(f.weights)), nn.NotFoundError, /up_sampling2d_UpSampling2D\d+.*UpSampling2D/);
});

test('a missing weight is a NotFoundError naming it, and the half-built model is freed', () => {
  const f = MODELS.norms;
  const m = json(f);
  const entry = manifest(m).find((w) => w.name.endsWith('/moving_variance'))!;
  const wanted = entry.name;
  entry.name = 'something_else/moving_variance';
  const before = heap.bytesInUse;
  throwsError(() => nn.loadTfjsModel(m, bytes(f.weights)), nn.NotFoundError, new RegExp(`'${wanted}'`));
  assert.is(heap.bytesInUse, before, 'module memory was not freed');
});

test('a weight of the wrong size is a ShapeError naming it', () => {
  const f = MODELS.mlp;
  const m = json(f);
  const w = bytes(f.weights);
  const kernel = manifest(m)[0];
  assert.equal(kernel.shape, [8, 16]);
  kernel.shape = [8, 15]; // 8 floats fewer: cut them from the end of the kernel's bytes
  const cut = new Uint8Array(w.length - 32);
  cut.set(w.subarray(0, 8 * 15 * 4));
  cut.set(w.subarray(8 * 16 * 4), 8 * 15 * 4);
  throwsError(() => nn.loadTfjsModel(m, cut), nn.ShapeError, new RegExp(`'${kernel.name}' has shape \\[8,15\\].*\\[8,16\\]`));
  // the manifest and the bytes disagree
  throwsError(() => nn.loadTfjsModel(f.modelJson, w.subarray(0, w.length - 4)), nn.ShapeError, /describes \d+ bytes.*has \d+/);
});

test('quantized weights (uint8 and uint16 codes, float16) are expanded as TF.js expands them', () => {
  // the predictions themselves are checked with every fixture above; here: the fixtures do hold quantized weights
  for (const dtype of ['uint8', 'uint16', 'float16']) {
    const f = MODELS[supported.find(([name]) => name.endsWith(`_${dtype}`))?.[0] ?? ''];
    assert.ok(f, `no fixture quantized to ${dtype}`);
    const weights = manifest(f.modelJson) as { quantization?: { dtype: string } }[];
    assert.ok(weights.every((w) => w.quantization?.dtype === dtype), `not every weight of the ${dtype} fixture is quantized`);
  }
  const f = MODELS.mlp_uint8;
  const bad = json(f);
  (manifest(bad)[0] as Record<string, unknown>).quantization = { dtype: 'int4', min: 0, scale: 1 };
  throwsError(() => nn.loadTfjsModel(bad, bytes(f.weights)), nn.ValueError, /dense_Dense\d+\/kernel.*quantization dtype "int4"/);
  const noScale = json(f);
  delete (manifest(noScale)[0] as { quantization?: { scale?: number } }).quantization!.scale;
  throwsError(() => nn.loadTfjsModel(noScale, bytes(f.weights)), nn.ValueError, /dense_Dense\d+\/kernel.*uint8 without a finite scale and min/);
});

test('a functional model is imported when its layers form one chain, else a ValueError says why', () => {
  const f = MODELS.chain;
  assert.is(f.modelJson.modelTopology.class_name, 'Model');
  // the same chain with its layers listed in another order is still the chain
  const shuffled = json(f);
  shuffled.modelTopology.config.layers.reverse();
  const model = nn.loadTfjsModel(shuffled, bytes(f.weights));
  checkPredictions(model, f, 'chain, layers listed in reverse');
  model.dispose();
  const branch = json(f); // the last dense also reads the flatten's output: a fork, not a chain
  const layers = branch.modelTopology.config.layers;
  layers[layers.length - 1].inbound_nodes = layers[layers.length - 2].inbound_nodes;
  throwsError(() => nn.loadTfjsModel(branch, bytes(f.weights)), nn.ValueError, /one chain.*feeds more than one layer/);
  const twoOut = json(f);
  twoOut.modelTopology.config.output_layers.push(twoOut.modelTopology.config.output_layers[0]);
  throwsError(() => nn.loadTfjsModel(twoOut, bytes(f.weights)), nn.ValueError, /one chain.*it has 2 outputs/);
});

test('weights other than float32, other models and bad JSON are ValueErrors', () => {
  const f = MODELS.mlp;
  const m = json(f);
  manifest(m)[1].dtype = 'int32';
  throwsError(() => nn.loadTfjsModel(m, bytes(f.weights)), nn.ValueError, /dense_Dense\d+\/bias.*int32.*float32 weights only/);
  const q = json(f);
  (manifest(q)[0] as Record<string, unknown>).quantization = { dtype: 'uint8', min: -1, scale: 0.01 };
  throwsError(() => nn.loadTfjsModel(q, bytes(f.weights)), nn.ShapeError, /describes \d+ bytes/); // a uint8 kernel is 4x smaller
  const other = json(f);
  other.modelTopology.class_name = 'Subclassed';
  throwsError(() => nn.loadTfjsModel(other, bytes(f.weights)), nn.ValueError, /only Sequential models and functional.*Subclassed/);
  throwsError(() => nn.loadTfjsModel('{"modelTopology":', bytes(f.weights)), nn.ValueError, /not valid JSON/);
  const first = json(f);
  first.modelTopology.config.layers[0].config.batch_input_shape = [null, 8, null];
  throwsError(() => nn.loadTfjsModel(first, bytes(f.weights)), nn.ShapeError, /dense_Dense\d+.*every dimension known but the batch and a sequence's steps/);
  // open steps are taken, but a dense layer's weights need its features: the input's only dimension here
  const open = json(f);
  open.modelTopology.config.layers[0].config.batch_input_shape = [null, null];
  throwsError(() => nn.loadTfjsModel(open, bytes(f.weights)), nn.ShapeError, /dense_Dense\d+/);
  const act = json(f);
  act.modelTopology.config.layers[0].config.activation = 'selu';
  throwsError(() => nn.loadTfjsModel(act, bytes(f.weights)), nn.ValueError, /layer 'dense_Dense\d+' \(Dense\): unknown activation 'selu'/);
});

test.run();
