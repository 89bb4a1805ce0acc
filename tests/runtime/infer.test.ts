// wasmnn/infer, the edge build: its own small module (the forward kernels only, from the same sources) must load
// a checkpoint saved by the full library and predict the same bits, and reject what the library rejects.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import * as infer from 'wasmnn/infer';
import { generate } from 'wasmnn/infer/generate';
import { HEADER, lcg, sameBits, tokenIds, uniform, withJson, fixCrc } from './helpers';

const test = suite('infer: the edge build');
test.before(async () => {
  await nn.ready();
  await infer.ready();
});

test('an MLP and two CNNs saved by the full library predict the same bits in wasmnn/infer', () => {
  const L = nn.layers;
  const models = [
    nn.sequential({ seed: 3, layers: [L.dense({ inputShape: [12], units: 16, activation: 'gelu' }), L.dropout({ rate: 0.2 }), L.dense({ units: 4, activation: 'softmax' })] }),
    nn.sequential({ seed: 4, layers: [
      L.rescaling({ inputShape: [8, 8, 1], scale: 0.5 }), L.conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }),
      L.batchNormalization({}), L.maxPooling2d({ poolSize: 2 }), L.conv2d({ filters: 5, kernelSize: 2, padding: 'same', activation: 'tanh' }),
      L.flatten(), L.dense({ units: 3, activation: 'softmax' })] }),
    // conv → max pool pairs (conv2d_forward_maxpool in both modules)
    nn.sequential({ seed: 5, layers: [
      L.conv2d({ inputShape: [12, 12, 1], filters: 8, kernelSize: 3, activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }),
      L.conv2d({ filters: 16, kernelSize: 3 }), L.maxPooling2d({ poolSize: 2 }), L.flatten(), L.dense({ units: 3, activation: 'softmax' })] }),
  ];
  for (const m of models) {
    const inSize = m.inputShape.reduce((a, b) => a * b, 1);
    const x = nn.tensor(uniform(7 * inSize, 5), [7, ...m.inputShape]);
    const want = m.predict(x).data;
    const edge = infer.loadModel(m.save());
    assert.equal(edge.outputShape, m.outputShape);
    sameBits(edge.predict(infer.tensor(x.data, x.shape)).data, want, `${m.name} batch`);
    const one = infer.tensor(x.data.subarray(0, inSize), [1, ...m.inputShape]);
    sameBits(edge.predict(one).data, want.subarray(0, want.length / 7), `${m.name} one sample`);
    edge.dispose();
    m.dispose();
  }
});

test("each build takes the other's tensors: wasmnn/infer's predict a library Tensor, the library's an infer Tensor", () => {
  const L = nn.layers;
  const m = nn.sequential({ seed: 13, layers: [L.dense({ inputShape: [5], units: 3, activation: 'tanh' })] });
  const edge = infer.loadModel(m.save());
  const lib = nn.tensor(uniform(4 * 5, 14), [4, 5]);
  const own = infer.tensor(lib.data, lib.shape);
  // two classes (each build bundles its own), one brand
  assert.ok((nn.Tensor as unknown) !== (infer.Tensor as unknown), 'the builds share their Tensor class: the test proves nothing');
  assert.ok(lib instanceof infer.Tensor && own instanceof nn.Tensor);
  assert.not.ok({ data: lib.data, shape: lib.shape } instanceof nn.Tensor, 'a plain object is not a tensor');
  const want = m.predict(lib).data;
  sameBits(edge.predict(lib).data, want, 'wasmnn/infer given a library tensor');
  sameBits(m.predict(own).data, want, 'the library given a wasmnn/infer tensor');
  sameBits(edge.predict(own).data, want, 'wasmnn/infer given its own tensor');
  // a shape that does not fit is the same typed error whichever build made the tensor
  assert.throws(() => edge.predict(nn.tensor(uniform(4 * 6, 15), [4, 6])), (e: Error) => e instanceof infer.ShapeError && /\[n, 5\].*\[4, 6\]/.test(e.message));
  edge.dispose();
  m.dispose();
});

/** Class names of a model's layers and of the layers inside them (residual blocks). */
function classesOf(m: nn.Sequential): Set<string> {
  const seen = new Set<string>();
  const visit = (entries: { className: string; config: Record<string, unknown> }[]) => entries.forEach((l) => {
    seen.add(l.className);
    if (Array.isArray(l.config.layers)) visit(l.config.layers as never);
  });
  visit(m.layers.map((l) => ({ className: l.className, config: l.getConfig() })));
  return seen;
}

test('every layer of the catalog predicts the same bits in wasmnn/infer, which exports exactly the kernels they (and wasmnn/infer/generate) call', async () => {
  const L = nn.layers;
  // trained a little first, so batch norm's running statistics and every weight are not their initial values
  const models = [
    nn.sequential({ seed: 6, layers: [
      L.dense({ inputShape: [10], units: 12, activation: 'elu' }), L.dropout({ rate: 0.3 }), L.batchNormalization(),
      L.layerNormalization(), L.rmsNormalization(), L.activation({ activation: 'tanh' }), L.dense({ units: 3, activation: 'softmax' })] }),
    nn.sequential({ seed: 7, layers: [
      L.rescaling({ inputShape: [8, 8, 16], scale: 0.5, offset: -0.1 }), L.randomAugment({ flip: true, shift: 1 }),
      // C·F = 512: the im2col path; then the direct kernel, paired with the max pooling above it
      L.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
      // a pass-through layer inside a block runs as a copy (vec_copy)
      L.residual({ layers: [L.conv2d({ filters: 8, kernelSize: 1, activation: 'relu' }), L.dropout({ rate: 0.1 }), L.batchNormalization()], projection: true }),
      L.conv2d({ filters: 8, kernelSize: 1, activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }),
      L.averagePooling2d({ poolSize: 2, padding: 'same' }), L.reshape({ targetShape: [4, 8] }),
      L.conv1d({ filters: 6, kernelSize: 2, padding: 'causal', activation: 'gelu' }), L.maxPooling1d({ poolSize: 2 }),
      L.averagePooling1d({ poolSize: 1 }), L.globalMaxPooling1d(), L.dense({ units: 2 })] }),
    nn.sequential({ seed: 8, layers: [
      L.conv2d({ inputShape: [5, 5, 2], filters: 3, kernelSize: 2 }), L.globalAveragePooling2d(), L.reshape({ targetShape: [3, 1] }),
      L.globalAveragePooling1d(), L.flatten()] }),
    nn.sequential({ seed: 9, layers: [L.globalMaxPooling2d({ inputShape: [3, 3, 2] }), L.dense({ units: 2, activation: 'relu' }), L.logSoftmax()] }),
    // token ids in (idsOf below): the sequence layers
    nn.sequential({ seed: 10, layers: [
      L.tokenAndPositionEmbedding({ inputShape: [6], vocabularySize: 9, sequenceLength: 8, embeddingDim: 4 }), L.sinePositionEncoding(),
      L.positionEmbedding({ sequenceLength: 6 }), L.multiHeadAttention({ numHeads: 2, keyDim: 3, useCausalMask: true, dropout: 0.1 }),
      L.transformerEncoder({ intermediateDim: 5, numHeads: 2, dropout: 0.1 }),
      L.transformerDecoder({ intermediateDim: 6, numHeads: 1, normalizeFirst: true, activation: 'gelu' }), L.flatten(), L.dense({ units: 2 })] }),
    // token ids in (tokenIds below), padded steps masked
    nn.sequential({ seed: 10, layers: [
      L.embedding({ inputShape: [7], inputDim: 9, outputDim: 5, maskZero: true }), L.lstm({ units: 6, returnSequences: true, recurrentDropout: 0.2 }),
      L.gru({ units: 5, returnSequences: true, resetAfter: false, dropout: 0.1 }), L.gru({ units: 4, returnSequences: true, goBackwards: true }),
      L.simpleRNN({ units: 3 }), L.dense({ units: 3, activation: 'softmax' })] }),
    nn.sequential({ seed: 11, layers: [L.simpleRNN({ inputShape: [4, 3], units: 5, returnSequences: true, activation: 'relu' }), L.dense({ units: 2 })] }),
    nn.sequential({ seed: 12, layers: [L.embedding({ inputShape: [6], inputDim: 9, outputDim: 3, maskZero: true }),
      L.bidirectional({ layer: L.lstm({ units: 3, returnSequences: true }), mergeMode: 'ave' }), L.timeDistributed({ layer: L.dense({ units: 4, activation: 'tanh' }) }),
      L.bidirectional({ layer: L.gru({ units: 2 }), mergeMode: 'mul' })] }),
  ];
  /** Token ids (whole numbers in [0, 9)) for a model that starts from them, else the uniforms as they are. */
  const idsOf = (m: nn.Sequential, u: Float32Array) => (m.layers[0] instanceof L.TokenAndPositionEmbedding ? u.map((v) => Math.floor((v + 1) * 4.5)) : u);
  const covered = new Set(models.flatMap((m) => [...classesOf(m)]));
  const missing = nn.registeredLayers().filter((c) => !covered.has(c));
  assert.equal(missing.map((c) => `${c}: in the catalog but in no model of this test (add it to one)`), []);

  const backend = await infer.ready();
  const exported = Object.keys(backend.kernels).filter((name) => typeof (backend.kernels as never)[name] === 'function' && name !== 'heap_base');
  const called = new Set<string>();
  const kernels = backend.kernels;
  backend.kernels = new Proxy(kernels, {
    get(target, name: string) {
      const value = (target as never)[name];
      if (typeof value === 'function') called.add(name);
      return value;
    },
  });
  try {
    for (const m of models) {
      const inSize = m.inputShape.reduce((a, b) => a * b, 1);
      const ids = m.layers[0] instanceof nn.layers.Embedding;
      const x = nn.tensor(ids ? tokenIds(5 * inSize, 9, 11, inSize, true) : idsOf(m, uniform(5 * inSize, 11)), [5, ...m.inputShape]);
      const labels = nn.tensor(uniform(5 * m.outputShape.reduce((a, b) => a * b, 1), 12), [5, ...m.outputShape]);
      m.compile({ optimizer: nn.train.sgd(0.01), loss: 'meanSquaredError' });
      await m.fit(x, labels, { epochs: 1, batchSize: 5 });
      const want = m.predict(x).data;
      const layers = [...classesOf(m)].join(', ');
      let got: Float32Array;
      try {
        const edge = infer.loadModel(m.save());
        got = edge.predict(infer.tensor(x.data, x.shape)).data;
        edge.dispose();
      } catch (e) {
        throw new Error(`a model of ${layers} does not predict in wasmnn/infer: ${(e as Error).message}`);
      }
      sameBits(got, want, `a model of ${layers}`);
      m.dispose();
    }
    // wasmnn/infer/generate's one-step kernels and its draws, for every cell (its own test checks the ids)
    const text = nn.sequential({ seed: 14, layers: [L.embedding({ inputShape: [4], inputDim: 9, outputDim: 3 }),
      L.simpleRNN({ units: 3, returnSequences: true }), L.lstm({ units: 3, returnSequences: true }), L.gru({ units: 3 }), L.dense({ units: 9, activation: 'softmax' })] });
    const edge = infer.loadModel(text.save());
    assert.equal(Array.from(generate(edge, { prompt: [1, 2], length: 5, seed: 3 })), Array.from(nn.generate(text, { prompt: [1, 2], length: 5, seed: 3 })));
    edge.dispose();
    text.dispose();
    // and a GPT's KV-cache kernels: a decoder block's step, a causal attention layer's, the cache filled by the prompt
    const gpt = nn.sequential({ seed: 15, layers: [L.tokenAndPositionEmbedding({ inputShape: [4], vocabularySize: 9, sequenceLength: 4, embeddingDim: 4 }),
      L.transformerDecoder({ intermediateDim: 6, numHeads: 2 }), L.multiHeadAttention({ numHeads: 1, keyDim: 3, useCausalMask: true }),
      L.dense({ units: 9, activation: 'softmax' })] });
    const gptEdge = infer.loadModel(gpt.save());
    assert.equal(Array.from(generate(gptEdge, { prompt: [1, 2], length: 5, seed: 3 })), Array.from(nn.generate(gpt, { prompt: [1, 2], length: 5, seed: 3 })));
    gptEdge.dispose();
    gpt.dispose();
    // and a GPT of decoder blocks and norms alone, whose tokens take one call each (gpt_step, the weights packed)
    const blocks = nn.sequential({ seed: 16, layers: [L.tokenAndPositionEmbedding({ inputShape: [4], vocabularySize: 9, sequenceLength: 4, embeddingDim: 4 }),
      L.transformerDecoder({ intermediateDim: 6, numHeads: 2, normalizeFirst: true }), L.layerNormalization(), L.dense({ units: 9, activation: 'softmax' })] });
    const blocksEdge = infer.loadModel(blocks.save());
    assert.equal(Array.from(generate(blocksEdge, { prompt: [1, 2], length: 2, seed: 3 })), Array.from(nn.generate(blocks, { prompt: [1, 2], length: 2, seed: 3 })));
    blocksEdge.dispose();
    blocks.dispose();
  } finally {
    backend.kernels = kernels;
  }
  const idle = exported.filter((name) => !called.has(name));
  assert.equal(idle.map((name) => `${name}: exported by wasmnn-infer.wasm but neither a layer at inference nor wasmnn/infer/generate calls it (drop its line in assembly/infer.ts)`), []);
});

test('a corrupt checkpoint is a typed error in wasmnn/infer too', () => {
  const m = nn.sequential({ seed: 1, layers: [nn.layers.dense({ inputShape: [3], units: 2 })] });
  const bytes = m.save();
  bytes[bytes.length - 1] ^= 0xff;
  assert.throws(() => infer.loadModel(bytes), (e: Error) => e instanceof infer.ValueError && /checksum|CRC/i.test(e.message));
  m.dispose();
});

// What a load did: the error's class and message (layer names made up from a counter, dense_12, are masked: the
// two builds count separately), or the output bits of a probe.
function outcome(load: () => { predict(x: nn.Tensor): { data: Float32Array }; dispose(): void }, probe: nn.Tensor): string {
  try {
    const m = load();
    try {
      return `loaded ${Array.from(new Uint32Array(m.predict(probe).data.buffer)).join(',')}`;
    } finally {
      m.dispose();
    }
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message.replace(/_\d+\b/g, '_#')}`;
  }
}

test('wasmnn/infer loads and rejects exactly the deployment checkpoints the library does (2,000 mutations)', () => {
  // every layer type wasmnn/infer loads, with named initialisers and regularisers, saved without training state
  // (what an edge build loads; the compile settings and optimiser state of a training checkpoint it skips)
  const L = nn.layers;
  const models = [
    nn.sequential({ seed: 3, layers: [
      L.dense({ inputShape: [6], units: 8, activation: 'gelu', kernelInitializer: 'heNormal', kernelRegularizer: nn.regularizers.l2() }),
      L.dropout({ rate: 0.2 }), L.batchNormalization(), L.layerNormalization(), L.rmsNormalization(),
      L.activation({ activation: 'leakyRelu', alpha: 0.1 }), L.dense({ units: 3, activation: 'softmax' })] }),
    nn.sequential({ seed: 4, layers: [
      L.rescaling({ inputShape: [6, 6, 2], scale: 0.5 }), L.randomAugment({ flip: true, shift: 1 }),
      L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }),
      L.residual({ layers: [L.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }), L.batchNormalization()], projection: true }),
      L.maxPooling2d({ poolSize: 2 }), L.reshape({ targetShape: [9, 4] }), L.conv1d({ filters: 2, kernelSize: 2, padding: 'causal' }),
      L.averagePooling1d(), L.flatten(), L.dense({ units: 2 })] }),
    nn.sequential({ seed: 5, layers: [
      L.conv2d({ inputShape: [5, 5, 1], filters: 2, kernelSize: 2, biasRegularizer: 'l1' }), L.globalMaxPooling2d(),
      L.reshape({ targetShape: [2, 1] }), L.globalAveragePooling1d()] }),
  ];
  const bases = models.flatMap((m) => (['f32', 'f16', 'int8'] as const).map((weights) => {
    const bytes = m.save({ includeOptimizer: false, weights });
    const probe = nn.tensor(uniform(m.inputShape.reduce((a, b) => a * b, 1), 9), [1, ...m.inputShape]);
    return { bytes, probe };
  }));
  models.forEach((m) => m.dispose());
  const next = lcg(20261121);
  const pick = (n: number) => Math.floor(next() * n);
  const CHARS = '0123456789-.,:[]{}"eE tfnulabcdgimoprsy';
  const counts = { same: 0, loaded: 0 };
  for (let i = 0; i < 2000; i++) {
    const { bytes: base, probe } = bases[pick(bases.length)];
    let bytes: Uint8Array = base.slice();
    const jsonLength = new DataView(base.buffer).getUint32(12, true);
    if (pick(3) === 0) {
      // random bytes anywhere, checksum made right: reaches the header, topology and weight checks
      for (let k = 1 + pick(3); k > 0; k--) bytes[pick(bytes.length - 4)] = pick(256);
      fixCrc(bytes);
    } else {
      // the topology's text edited (a character replaced, deleted or inserted): reaches the layers' config checks
      const json = Array.from(bytes.subarray(HEADER, HEADER + jsonLength));
      const at = pick(json.length), c = CHARS.charCodeAt(pick(CHARS.length)), op = pick(3);
      if (op === 0) json[at] = c;
      else if (op === 1) json.splice(at, 1);
      else json.splice(at, 0, c);
      bytes = withJson(bytes, Uint8Array.from(json));
    }
    const full = outcome(() => nn.loadModel(bytes), probe);
    const edge = outcome(() => infer.loadModel(bytes), infer.tensor(probe.data, probe.shape));
    assert.is(edge, full, `mutation ${i}: wasmnn/infer and the library disagree`);
    counts.same++;
    if (full.startsWith('loaded')) counts.loaded++;
  }
  assert.ok(counts.loaded > 100 && counts.same - counts.loaded > 500, `both outcomes happen: ${JSON.stringify(counts)}`);
});

test('wasmnn/infer loads and rejects exactly the training checkpoints the library does (3,000 mutations)', async () => {
  // checkpoints with compile settings, optimiser state and the training random stream, which wasmnn/infer does not
  // use but checks as the library does (before this, about 2% of such mutations loaded in one build only)
  const L = nn.layers;
  const S = nn.schedules;
  const setups: [nn.Sequential, nn.CompileArgs][] = [
    [nn.sequential({ seed: 21, layers: [L.dense({ inputShape: [5], units: 6, activation: 'relu' }), L.batchNormalization(), L.dense({ units: 3, activation: 'softmax' })] }),
      { optimizer: nn.train.adam(S.warmup(S.cosineDecay({ initialLearningRate: 0.01, decaySteps: 20 }), 3), 0.8, 0.99, 1e-6, { clipnorm: 1 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy', 'precision'] }],
    [nn.sequential({ seed: 22, layers: [L.dense({ inputShape: [5], units: 4, activation: 'tanh' }), L.dense({ units: 3 })] }),
      { optimizer: nn.train.rmsprop(S.exponentialDecay({ initialLearningRate: 0.01, decaySteps: 5, decayRate: 0.9 }), 0.9, 0.5, 1e-7, true), loss: nn.losses.huber({ delta: 0.5 }), metrics: [] }],
    [nn.sequential({ seed: 23, layers: [L.dense({ inputShape: [5], units: 3, activation: 'sigmoid' })] }),
      { optimizer: nn.train.momentum(S.stepDecay({ initialLearningRate: 0.05, every: 4 }), 0.8, true, { clipvalue: 2 }), loss: 'binaryCrossentropy', metrics: ['binaryAccuracy'] }],
    [nn.sequential({ seed: 24, layers: [L.dense({ inputShape: [5], units: 3, activation: 'softmax' })] }),
      { optimizer: nn.train.adagrad(S.cosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 3 }), 0.05), loss: 'categoricalCrossentropy' }],
    [nn.sequential({ seed: 25, layers: [L.dense({ inputShape: [5], units: 1, activation: 'step' })] }),
      { optimizer: nn.train.sgd(0.1), loss: 'perceptron' }],
  ];
  const bases = [];
  for (const [m, args] of setups) {
    m.compile(args);
    const x = nn.tensor(uniform(8 * 5, 31), [8, 5]);
    const k = m.outputShape[0];
    const y = args.loss === 'sparseCategoricalCrossentropy' ? new Int32Array([0, 1, 2, 0, 1, 2, 0, 1])
      : nn.tensor(Float32Array.from(uniform(8 * k, 32), (v) => (v > 0 ? 1 : 0)), [8, k]);
    await m.fit(x, y, { epochs: 1, batchSize: 4 });
    bases.push({ bytes: m.save(), probe: nn.tensor(uniform(5, 33), [1, 5]) });
    bases.push({ bytes: m.save({ weights: 'f16', epoch: 1 }), probe: nn.tensor(uniform(5, 34), [1, 5]) });
    m.dispose();
  }
  const next = lcg(20261207);
  const pick = (n: number) => Math.floor(next() * n);
  const CHARS = '0123456789-.,:[]{}"eE tfnulabcdgimoprsy';
  const counts = { same: 0, loaded: 0 };
  for (let i = 0; i < 3000; i++) {
    const { bytes: base, probe } = bases[pick(bases.length)];
    let bytes: Uint8Array = base.slice();
    const jsonLength = new DataView(base.buffer).getUint32(12, true);
    const kind = pick(3);
    if (kind === 0) {
      // the topology's text edited: reaches the layers' configs and the compile settings
      const json = Array.from(bytes.subarray(HEADER, HEADER + jsonLength));
      const at = pick(json.length), c = CHARS.charCodeAt(pick(CHARS.length)), op = pick(3);
      if (op === 0) json[at] = c;
      else if (op === 1) json.splice(at, 1);
      else json.splice(at, 0, c);
      bytes = withJson(bytes, Uint8Array.from(json));
    } else {
      // bytes after the topology (weights, optimiser state, random stream; kind 1) or anywhere (kind 2), checksum made right
      const from = kind === 1 ? Math.ceil((HEADER + jsonLength) / 4) * 4 : 0;
      for (let k = 1 + pick(2); k > 0; k--) bytes[from + pick(bytes.length - 4 - from)] = pick(256);
      fixCrc(bytes);
    }
    const full = outcome(() => nn.loadModel(bytes), probe);
    const edge = outcome(() => infer.loadModel(bytes), infer.tensor(probe.data, probe.shape));
    assert.is(edge, full, `mutation ${i}: wasmnn/infer and the library disagree`);
    counts.same++;
    if (full.startsWith('loaded')) counts.loaded++;
  }
  assert.ok(counts.loaded > 300 && counts.same - counts.loaded > 300, `both outcomes happen: ${JSON.stringify(counts)}`);
  console.log(`\n[report] infer_training_fuzz=${counts.loaded}/${counts.same - counts.loaded}`);
});

test.run();
