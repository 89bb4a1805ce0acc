// Memory that all comes back: a model gives back every byte of module memory it took, whatever it was used for
// (every layer class the loader knows, every training, inference and I/O path, failed calls in the middle); a
// model too big for the module is a MemoryError that leaves nothing behind; one fit() at a time.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import * as infer from 'wasmnn/infer';
import { BATCH, MODELS } from './fixtures/tfjs-models';
import { rejectsError, throwsError, tokenIds, uniform } from './helpers';

const test = suite('memory');
test.before(async () => {
  await nn.ready();
  await infer.ready();
});

const L = nn.layers;
const CLASSES = 3;

/** One small model per registered layer class: the layers that lead to it (the first with the input shape). */
const CASES: Record<string, () => nn.layers.Layer[]> = {
  Dense: () => [L.dense({ inputShape: [6], units: 5, activation: 'tanh', kernelRegularizer: 'l2' })],
  Activation: () => [L.dense({ inputShape: [6], units: 5 }), L.activation({ activation: 'gelu' })],
  Dropout: () => [L.dense({ inputShape: [6], units: 5, activation: 'relu' }), L.dropout({ rate: 0.5 })],
  Flatten: () => [L.conv2d({ inputShape: [4, 4, 2], filters: 2, kernelSize: 3 }), L.flatten()],
  Reshape: () => [L.reshape({ inputShape: [6], targetShape: [2, 3] }), L.conv1d({ filters: 2, kernelSize: 1 })],
  Rescaling: () => [L.rescaling({ inputShape: [6], scale: 0.5, offset: 0.1 }), L.dense({ units: 4 })],
  Conv1D: () => [L.conv1d({ inputShape: [8, 2], filters: 3, kernelSize: 3, padding: 'causal', activation: 'relu' })],
  Conv2D: () => [L.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, padding: 'same', activation: 'sigmoid' })],
  MaxPooling1D: () => [L.conv1d({ inputShape: [8, 2], filters: 2, kernelSize: 1 }), L.maxPooling1d({ poolSize: 2 })],
  // a 'valid' relu conv of 8 filters and a 2x2 max pooling run as one pair
  MaxPooling2D: () => [L.conv2d({ inputShape: [6, 6, 1], filters: 8, kernelSize: 3, activation: 'relu' }), L.maxPooling2d({ poolSize: 2 })],
  AveragePooling1D: () => [L.conv1d({ inputShape: [8, 2], filters: 2, kernelSize: 1 }), L.averagePooling1d({ poolSize: 2 })],
  AveragePooling2D: () => [L.conv2d({ inputShape: [6, 6, 2], filters: 2, kernelSize: 1 }), L.averagePooling2d({ poolSize: 2 })],
  GlobalAveragePooling1D: () => [L.conv1d({ inputShape: [8, 2], filters: 3, kernelSize: 2 }), L.globalAveragePooling1d({})],
  GlobalAveragePooling2D: () => [L.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 2 }), L.globalAveragePooling2d({})],
  GlobalMaxPooling1D: () => [L.conv1d({ inputShape: [8, 2], filters: 3, kernelSize: 2 }), L.globalMaxPooling1d({})],
  GlobalMaxPooling2D: () => [L.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 2 }), L.globalMaxPooling2d({})],
  BatchNormalization: () => [L.dense({ inputShape: [6], units: 5 }), L.batchNormalization({})],
  LayerNormalization: () => [L.dense({ inputShape: [6], units: 5 }), L.layerNormalization({})],
  RMSNormalization: () => [L.dense({ inputShape: [6], units: 5 }), L.rmsNormalization({})],
  Residual: () => [
    L.conv2d({ inputShape: [6, 6, 2], filters: 4, kernelSize: 1 }),
    L.residual({ layers: [L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }), L.layerNormalization({})] }),
    L.residual({ layers: [L.conv2d({ filters: 6, kernelSize: 1, strides: 2 })], projection: true }),
  ],
  RandomAugment: () => [L.randomAugment({ inputShape: [6, 6, 2], shift: 1, flip: true }), L.conv2d({ filters: 2, kernelSize: 3 })],
  // token ids in (samples() draws ids for an embedding first)
  Embedding: () => [L.embedding({ inputShape: [6], inputDim: 7, outputDim: 4, maskZero: true })],
  SimpleRNN: () => [L.simpleRNN({ inputShape: [5, 3], units: 4, returnSequences: true, dropout: 0.2, recurrentDropout: 0.3 })],
  LSTM: () => [L.embedding({ inputShape: [6], inputDim: 7, outputDim: 3, maskZero: true }), L.lstm({ units: 4, returnSequences: true }), L.lstm({ units: 3 })],
  GRU: () => [L.gru({ inputShape: [5, 3], units: 4, resetAfter: false, goBackwards: true, returnSequences: true }), L.gru({ units: 3 })],
  Bidirectional: () => [L.embedding({ inputShape: [6], inputDim: 7, outputDim: 3, maskZero: true }), L.bidirectional({ layer: L.lstm({ units: 3, returnSequences: true }) }),
    L.bidirectional({ layer: L.gru({ units: 2, recurrentDropout: 0.2 }), mergeMode: 'mul' })],
  TimeDistributed: () => [L.timeDistributed({ inputShape: [5, 3], layer: L.dense({ units: 4, activation: 'relu' }) })],
};

/** The case's layers with a softmax classifier on top. */
function classifier(name: string, seed: number): nn.Sequential {
  return nn.sequential({ seed, name, layers: [...CASES[name](), L.flatten(), L.dense({ units: CLASSES, activation: 'softmax' })] });
}

function samples(model: nn.Sequential, n: number, seed: number): { x: nn.Tensor; y: Int32Array } {
  const shape = model.inputShape;
  const size = shape.reduce((a, b) => a * b, 1);
  const ids = model.layers[0] instanceof nn.layers.Embedding;
  return { x: nn.tensor(ids ? tokenIds(n * size, 7, seed, size, true) : uniform(n * size, seed), [n, ...shape]), y: Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % CLASSES) };
}

function withNaN(x: nn.Tensor): nn.Tensor {
  const data = Float32Array.from(x.data);
  data[data.length - 1] = NaN;
  return nn.tensor(data, x.shape);
}

/** A callback class that awaits between batches and reads the weights at each epoch's end. */
class Watcher extends nn.Callback {
  epochs = 0;
  override async onBatchEnd(): Promise<void> {
    await Promise.resolve();
  }
  override onEpochEnd(): void {
    this.epochs++;
    this.model!.snapshotWeights();
  }
}

/** Everything a model can be used for, with failed calls in between. */
type Path = (model: nn.Sequential, x: nn.Tensor, y: Int32Array) => Promise<void> | void;
const PATHS: Record<string, Path> = {
  'fit with validationData': async (m, x, y) => {
    const n = x.shape[0], half = Math.floor(n / 2);
    const vx = nn.tensor(x.data.slice(0, half * (x.size / n)), [half, ...x.shape.slice(1)]);
    await m.fit(x, y, { epochs: 2, batchSize: 8, validationData: [vx, y.slice(0, half)] });
  },
  'fit with validationSplit, no shuffling': async (m, x, y) => {
    await m.fit(x, y, { epochs: 2, batchSize: 8, validationSplit: 0.25, shuffle: false });
  },
  'fit with callbacks (a Callback and hooks that await)': async (m, x, y) => {
    const watcher = new Watcher();
    await m.fit(x, y, { epochs: 2, batchSize: 8, callbacks: [watcher, { onBatchBegin: async () => { await Promise.resolve(); } }] });
    assert.is(watcher.epochs, 2);
  },
  'earlyStopping with restoreBestWeights': async (m, x, y) => {
    await m.fit(x, y, { epochs: 4, batchSize: 8, validationSplit: 0.25, callbacks: [nn.callbacks.earlyStopping({ monitor: 'loss', patience: 0, minDelta: 10, restoreBestWeights: true })] });
  },
  'class weights': async (m, x, y) => {
    await m.fit(x, y, { epochs: 1, batchSize: 8, classWeight: { 0: 2, 1: 1 } });
  },
  evaluate: (m, x, y) => {
    const logs = m.evaluate(x, y, { batchSize: 6 });
    assert.ok(Number.isFinite(logs.loss));
  },
  'predict in blocks smaller than n': (m, x) => {
    assert.equal(m.predict(x, { batchSize: 3 }).shape, [x.shape[0], CLASSES]);
  },
  'predict in batches larger than the inference block': (m, x) => {
    assert.equal(m.predict(x, { batchSize: 100_000 }).shape, [x.shape[0], CLASSES]);
  },
  'compile again with other optimisers': (m) => {
    for (const optimizer of ['sgd', 'rmsprop', 'adam', 'momentum']) m.compile({ optimizer, loss: 'sparseCategoricalCrossentropy' });
  },
  'save (f32, f16, int8, without the optimiser)': (m) => {
    m.save();
    m.save({ weights: 'f16' });
    m.save({ weights: 'int8', includeOptimizer: false });
  },
  'load (nn.loadModel), fit and predict the loaded model': async (m, x, y) => {
    const loaded = nn.loadModel(m.save());
    await loaded.fit(x, y, { epochs: 1, batchSize: 8 });
    loaded.predict(x);
    loaded.dispose();
  },
  'wasmnn/infer loads and predicts (its own module)': async (m, x) => {
    const { heap } = await infer.ready();
    const before = heap.bytesInUse;
    const model = infer.loadModel(m.save());
    model.predict(infer.tensor(x.data, x.shape), { batchSize: 3 }); // the edge build's own Tensor class
    model.dispose();
    assert.is(heap.bytesInUse, before, 'wasmnn/infer: module memory not given back');
  },
  'failed calls (NaN in x, a wrong shape, a bad label)': async (m, x, y) => {
    await rejectsError(() => m.fit(withNaN(x), y, { epochs: 1, batchSize: 8 }), nn.ValueError, /NaN/);
    await rejectsError(() => m.fit(x, y, { epochs: 1, batchSize: 8, validationData: [withNaN(x), y] }), nn.ValueError, /NaN/);
    throwsError(() => m.predict(withNaN(x)), nn.ValueError, /NaN/);
    throwsError(() => m.predict(nn.tensor(new Float32Array(7), [7, 1])), nn.ShapeError, /shape|features|size/i);
    throwsError(() => m.evaluate(x, y.map(() => CLASSES)), nn.ValueError, /class|label|index/i);
    await m.fit(x, y, { epochs: 1, batchSize: 8 }); // and it still trains
  },
};

/** Runs `use` on a fresh model and checks that module bytes and blocks in use are what they were before it. */
async function givesBack(what: string, make: () => nn.Sequential, use: Path): Promise<void> {
  const before = nn.memory();
  const model = make();
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const { x, y } = samples(model, 20, 3);
  await use(model, x, y);
  assert.ok(nn.memory().bytesInUse > before.bytesInUse, `${what}: the live model holds module memory`);
  model.dispose();
  const after = nn.memory();
  assert.is(after.bytesInUse, before.bytesInUse, `${what}: ${after.bytesInUse - before.bytesInUse} bytes of module memory not given back`);
  assert.is(after.blocksInUse, before.blocksInUse, `${what}: ${after.blocksInUse - before.blocksInUse} blocks not given back`);
}

test('nn.memory() reports the module: bytes and blocks in use, its size', () => {
  const m = nn.memory();
  assert.ok(m.bytesInUse >= 0 && m.blocksInUse >= 0 && m.bytesInUse % 16 === 0);
  assert.ok(m.moduleBytes > m.bytesInUse && m.moduleBytes % 65536 === 0, `module ${m.moduleBytes} bytes`);
  const model = nn.sequential({ layers: [L.dense({ inputShape: [10], units: 10 })] });
  model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  // weights and gradients (110 floats each, 448 bytes rounded), two random streams, the state block (16 bytes each),
  // the optimiser's settings block (8 words)
  assert.is(nn.memory().bytesInUse - m.bytesInUse, 2 * 448 + 3 * 16 + 32);
  model.dispose();
  assert.is(nn.memory().bytesInUse, m.bytesInUse);
});

test('every registered layer class has a case here', () => {
  const missing = nn.registeredLayers().filter((c) => !(c in CASES));
  assert.equal(missing, [], `no memory case for ${missing.join(', ')}: add one to CASES`);
});

for (const name of Object.keys(CASES)) {
  test(`${name}: a model gives back all its module memory after every path`, async () => {
    await givesBack(name, () => classifier(name, 7), async (m, x, y) => {
      for (const path of Object.values(PATHS)) await path(m, x, y);
    });
  });
}

// A wide input (2,048 features) makes the inference block about 120 rows, so 300 samples predict in three blocks.
const wide = () => nn.sequential({ seed: 5, layers: [L.dense({ inputShape: [2048], units: 16, activation: 'relu' }), L.dense({ units: CLASSES, activation: 'softmax' })] });

for (const [path, use] of Object.entries(PATHS)) {
  test(`${path}: gives back all its module memory`, async () => {
    await givesBack(path, () => classifier('Dense', 11), use);
  });
}

test('predict over several inference blocks gives back all its module memory', async () => {
  await givesBack('wide predict', wide, (m) => {
    const x = nn.tensor(uniform(300 * 2048, 9), [300, 2048]);
    assert.equal(m.predict(x, { batchSize: 1000 }).shape, [300, CLASSES]);
    assert.equal(m.predict(x, { batchSize: 50 }).shape, [300, CLASSES]);
  });
});

test('generation (its one-step plan and sampling buffers) gives back all its module memory', async () => {
  const make = () => nn.sequential({ seed: 4, layers: [L.embedding({ inputShape: [8], inputDim: 7, outputDim: 4 }), L.lstm({ units: 5, returnSequences: true }),
    L.gru({ units: 4 }), L.dense({ units: 7, activation: 'softmax' })] });
  await givesBack('generate', make, (m) => {
    const before = nn.memory().bytesInUse;
    assert.is(nn.generate(m, { prompt: [1, 2, 3], length: 20, seed: 5, topK: 3 }).length, 20);
    assert.is(nn.memory().bytesInUse, before, 'generate keeps no module memory after it returns');
    throwsError(() => nn.generate(m, { prompt: [1, 9], length: 3 }), nn.ValueError, /prompt\[1\] = 9/);
    throwsError(() => nn.generate(m, { prompt: [1], length: 3, topP: 1.5 }), nn.ValueError, /topP/);
    assert.is(nn.memory().bytesInUse, before, 'a refused generate keeps no module memory');
  });
});

test('TF.js imports give back all their module memory', () => {
  for (const [name, f] of Object.entries(MODELS).filter(([n]) => n !== 'upsampling')) {
    const before = nn.memory();
    const model = nn.loadTfjsModel(f.modelJson, Uint8Array.from(atob(f.weights), (c) => c.charCodeAt(0)));
    model.predict(nn.tensor(Float32Array.from(f.input), [BATCH, ...f.inputShape]));
    model.dispose();
    assert.is(nn.memory().bytesInUse, before.bytesInUse, `${name}: module memory not given back`);
  }
});

test('a model too big for the module is a MemoryError with the figures; nothing is left behind and a small model trains', async () => {
  const before = nn.memory();
  const big = nn.sequential({ layers: [L.dense({ inputShape: [100000], units: 100000 })] });
  // 10,000,100,000 weights and as many gradients (4 bytes each), two random streams and an empty state block
  const needed = 2 * 4 * 10_000_100_000 + 3 * 16;
  let error: nn.MemoryError | undefined;
  try {
    big.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  } catch (e) {
    error = e as nn.MemoryError;
  }
  assert.instance(error, nn.MemoryError, `expected a MemoryError, got ${error}`);
  assert.instance(error, nn.WasmnnError);
  assert.is(error!.name, 'MemoryError');
  assert.is(error!.bytesNeeded, needed);
  assert.is(error!.bytesLimit, 2 ** 32);
  assert.is(error!.moduleBytes, before.moduleBytes);
  assert.is(error!.bytesInUse, before.bytesInUse);
  assert.match(error!.message, /cannot allocate the model's weights and gradients \(10,000,100,000 parameters\): 80,000,800,048 bytes \(74\.5 GiB\) of module memory, more than a wasm32 module can hold \(4 GiB\); the module holds [\d,]+ bytes/);
  assert.is(nn.memory().bytesInUse, before.bytesInUse, 'the failed build left memory behind');
  assert.is(nn.memory().moduleBytes, before.moduleBytes, 'the module grew for nothing');
  assert.not.ok(big.isCompiled, 'the model is as it was: not compiled');
  throwsError(() => big.countParams(), nn.MemoryError, /80,000,800,048 bytes/);
  big.dispose();
  // a plan too big: a 1x1 conv of 1,024 filters over a 1,024 x 1,024 image needs 4 GiB for one sample's output
  const conv = nn.sequential({ seed: 1, layers: [L.conv2d({ inputShape: [1024, 1024, 1], filters: 1024, kernelSize: 1 })] });
  conv.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  const built = nn.memory().bytesInUse;
  throwsError(() => conv.predict(nn.tensor(new Float32Array(1024 * 1024), [1, 1024, 1024, 1])), nn.MemoryError, /cannot allocate the inference plan for batches of 1: [\d,]+ bytes .*4 GiB/);
  assert.is(nn.memory().bytesInUse, built, 'the failed plan left memory behind');
  assert.is(conv.getWeights().length, 2);
  conv.dispose();
  assert.is(nn.memory().bytesInUse, before.bytesInUse);
  const small = classifier('Dense', 1);
  small.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const { x, y } = samples(small, 16, 2);
  const history = await small.fit(x, y, { epochs: 2, batchSize: 8 });
  assert.ok(history.history.loss.every(Number.isFinite));
  small.dispose();
  assert.is(nn.memory().bytesInUse, before.bytesInUse);
});

test('one fit() at a time: a second fit, compile, setWeights and dispose during a fit are StateErrors', async () => {
  const model = classifier('Dense', 3);
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const { x, y } = samples(model, 16, 4);
  let enter!: () => void, release!: () => void;
  const entered = new Promise<void>((r) => (enter = r));
  const gate = new Promise<void>((r) => (release = r));
  let batches = 0;
  const first = model.fit(x, y, { epochs: 2, batchSize: 8, callbacks: { onBatchEnd: async () => {
    batches++;
    if (batches === 1) {
      enter();
      await gate;
    }
  } } });
  await entered;
  const weights = model.getWeights();
  await rejectsError(() => model.fit(x, y, { epochs: 1 }), nn.StateError, /cannot start training .* another fit\(\) call is ongoing/);
  throwsError(() => model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' }), nn.StateError, /compile\(\) .* while its fit\(\) is running: it would replace the optimiser/);
  throwsError(() => model.setWeights(weights), nn.StateError, /setWeights\(\) .* while its fit\(\) is running/);
  throwsError(() => model.dispose(), nn.StateError, /dispose\(\) .* while its fit\(\) is running/);
  // reading is fine while the first fit waits between batches
  assert.equal(model.predict(x).shape, [16, CLASSES]);
  release();
  const history = await first;
  assert.is(batches, 4, 'the first fit ran all its batches alone');
  assert.is(history.epoch.length, 2);
  // once it is done, all of them work again; a failed fit does not leave the model busy
  await rejectsError(() => model.fit(withNaN(x), y), nn.ValueError, /NaN/);
  await model.fit(x, y, { epochs: 1, batchSize: 8 });
  model.setWeights(weights);
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  model.dispose();
  await rejectsError(() => model.fit(x, y), nn.StateError, /disposed/);
});

test.run();
