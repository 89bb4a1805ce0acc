// wasmnn/infer/generate: generation for models loaded by wasmnn/infer (the edge build). For the same model and seed
// it must give the ids the library's nn.generate gives, in every runtime, keep no module memory, and throw
// wasmnn/infer's own typed errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import * as infer from 'wasmnn/infer';
import { generate } from 'wasmnn/infer/generate';
// the bundler's way in: the inference core and only the GPT's layer kinds
import * as core from 'wasmnn/infer/core';
import 'wasmnn/infer/layers/token-and-position-embedding';
import 'wasmnn/infer/layers/transformer-decoder';
import 'wasmnn/infer/layers/layer-normalization';
import 'wasmnn/infer/layers/dense';
import { throwsError, tokenIds } from './helpers';

const test = suite('infer: generate');
let edgeHeap: { bytesInUse: number };
test.before(async () => {
  await nn.ready();
  edgeHeap = (await infer.ready()).heap;
});

const L = nn.layers;
const V = 13;

/** A character model trained a little on a next-token task (so no weight is its initial value). */
async function trained(seed: number, layers: () => nn.layers.Layer[]): Promise<nn.Sequential> {
  const T = 8, n = 24;
  const m = nn.sequential({ seed, layers: layers() });
  const x = tokenIds(n * T, V, seed, T);
  const y = Int32Array.from(x, (v, i) => (i % T === T - 1 ? (v * 3) % V : x[i + 1]));
  m.compile({ optimizer: nn.train.adam(0.02), loss: 'sparseCategoricalCrossentropy' });
  await m.fit(nn.tensor(x, [n, T]), y, { epochs: 3, batchSize: 8 });
  return m;
}

const MODELS: [string, () => nn.layers.Layer[]][] = [
  ['embedding -> lstm -> gru -> dense softmax', () => [
    L.embedding({ inputShape: [8], inputDim: V, outputDim: 6 }), L.lstm({ units: 10, returnSequences: true }),
    L.gru({ units: 7, returnSequences: true }), L.dense({ units: V, activation: 'softmax' })]],
  // TF.js's forms (hard sigmoid, reset before the product), dropout, a hidden dense layer, open steps
  ['embedding (open steps) -> gru (resetAfter false) -> simpleRNN -> dropout -> dense -> dense softmax', () => [
    L.embedding({ inputShape: [null], inputDim: V, outputDim: 5, maskZero: true }),
    L.gru({ units: 6, returnSequences: true, resetAfter: false, recurrentActivation: 'hardSigmoid' }),
    L.simpleRNN({ units: 5, returnSequences: true }), L.dropout({ rate: 0.2 }), L.dense({ units: 9, activation: 'relu' }),
    L.dense({ units: V, activation: 'softmax' })]],
  ['embedding -> lstm -> timeDistributed(dense softmax)', () => [
    L.embedding({ inputShape: [8], inputDim: V, outputDim: 4 }), L.lstm({ units: 9, returnSequences: true, unitForgetBias: false }),
    L.timeDistributed({ layer: L.dense({ units: V, activation: 'softmax' }) })]],
];

const OPTIONS: nn.GenerateOptions[] = [
  { prompt: [3, 1, 4, 1, 5], length: 60, seed: 9 },
  { prompt: [2], length: 40, seed: 10, temperature: 0.7, topK: 3 },
  { prompt: [7, 7, 2, 11, 5, 9, 12, 1, 4, 6, 2], length: 50, seed: 2 ** 32 - 1, temperature: 1.6, topP: 0.8 },
  { prompt: [1, 2], length: 30, topK: 1 }, // greedy: the seed does not matter
  { prompt: [8, 3], length: 0, seed: 1 },
];

for (const [name, layers] of MODELS) {
  test(`${name}: the ids of nn.generate for the same seed, no module memory kept`, async () => {
    const m = await trained(21, layers);
    const edge = infer.loadModel(m.save());
    const before = edgeHeap.bytesInUse;
    for (const options of OPTIONS) {
      const want = nn.generate(m, options);
      const got = generate(edge, options);
      assert.instance(got, Int32Array);
      assert.equal(Array.from(got), Array.from(want), `${JSON.stringify(options)}`);
      if (options.length > 30 && !options.topK) assert.ok(new Set(want).size > 3, 'the generation is not a few repeated ids');
    }
    assert.is(edgeHeap.bytesInUse, before, 'generate keeps no module memory after it returns');
    // another seed, other ids (the seed is used)
    const a = generate(edge, OPTIONS[0]), b = generate(edge, { ...OPTIONS[0], seed: 10 });
    assert.ok(Array.from(a).some((v, i) => v !== b[i]), 'seeds 9 and 10 gave the same ids');
    edge.dispose();
    m.dispose();
  });
}

test("bad calls are wasmnn/infer's typed errors naming the problem; the model stays usable", async () => {
  const m = await trained(22, MODELS[0][1]);
  const edge = infer.loadModel(m.save());
  const before = edgeHeap.bytesInUse;
  for (const [opts, re] of [
    [{ prompt: [], length: 2 }, /prompt/], [{ prompt: [1], length: -1 }, /length/], [{ prompt: [1], length: 2, temperature: 0 }, /temperature/],
    [{ prompt: [1], length: 2, topP: 1.5 }, /topP/], [{ prompt: [1], length: 2, topK: 0 }, /topK/], [{ prompt: [1.5], length: 2 }, /whole/],
    [{ prompt: [1, V], length: 2 }, new RegExp(`prompt\\[1\\] = ${V} is not a token id in \\[0, ${V}\\)`)], [{ prompt: [1], length: 2, seed: -1 }, /seed/],
  ] as const) throwsError(() => generate(edge, opts as never), infer.ValueError, re);
  assert.is(edgeHeap.bytesInUse, before, 'a refused generate keeps no module memory');
  assert.equal(Array.from(generate(edge, OPTIONS[0])), Array.from(nn.generate(m, OPTIONS[0])), 'after the refused calls');
  // a model that is no text model, and one that reads its steps backwards
  const notText = nn.sequential({ layers: [L.dense({ inputShape: [3], units: 2, activation: 'softmax' })] });
  const flat = infer.loadModel(notText.save());
  throwsError(() => generate(flat, { prompt: [1], length: 2 }), infer.ValueError, /cannot be stepped: it needs token ids in/);
  const backwards = nn.sequential({ layers: [L.embedding({ inputShape: [4], inputDim: V, outputDim: 3 }), L.gru({ units: 3, goBackwards: true }), L.dense({ units: V, activation: 'softmax' })] });
  const back = infer.loadModel(backwards.save());
  throwsError(() => generate(back, { prompt: [1], length: 2 }), infer.ShapeError, /reads its steps backwards/);
  for (const x of [notText, backwards]) x.dispose();
  for (const x of [flat, back]) x.dispose();
  edge.dispose();
  throwsError(() => generate(edge, OPTIONS[0]), infer.StateError, /disposed/);
  m.dispose();
});

// A GPT (the CLI's --model gpt in small: pre-LN GELU decoder blocks, a final layer norm, a dense softmax) and other
// arrangements the KV-cache stepper takes: wasmnn/infer/generate must give nn.generate's ids with every option,
// past the window too (slide 'token' re-runs the cropped window, 'half' restarts it from its last half).
const T = 8;
const GPTS: [string, () => nn.layers.Layer[]][] = [
  ['tokenAndPositionEmbedding -> 2 pre-LN gelu transformerDecoders -> layerNormalization -> dense softmax (the CLI\'s GPT)', () => [
    L.tokenAndPositionEmbedding({ inputShape: [T], vocabularySize: V, sequenceLength: T, embeddingDim: 8 }),
    L.transformerDecoder({ intermediateDim: 16, numHeads: 2, activation: 'gelu', normalizeFirst: true }),
    L.transformerDecoder({ intermediateDim: 16, numHeads: 2, activation: 'gelu', normalizeFirst: true }),
    L.layerNormalization({ epsilon: 1e-5 }), L.dense({ units: V, activation: 'softmax' })]],
  // a post-LN relu block, a causal multiHeadAttention of its own, an RMS norm, dropout, a hidden dense layer and
  // timeDistributed(dense softmax)
  ['tokenAndPositionEmbedding -> post-LN transformerDecoder -> causal multiHeadAttention -> rmsNormalization -> dropout -> dense relu -> timeDistributed(dense softmax)', () => [
    L.tokenAndPositionEmbedding({ inputShape: [T], vocabularySize: V, sequenceLength: T, embeddingDim: 6 }),
    L.transformerDecoder({ intermediateDim: 12, numHeads: 3 }),
    L.multiHeadAttention({ numHeads: 2, keyDim: 4, valueDim: 3, useCausalMask: true }), L.rmsNormalization(),
    L.dropout({ rate: 0.1 }), L.dense({ units: 10, activation: 'relu' }),
    L.timeDistributed({ layer: L.dense({ units: V, activation: 'softmax' }) })]],
];

const GPT_OPTIONS: nn.GenerateOptions[] = [
  { prompt: [3, 1, 4], length: 40, seed: 9 }, // slide 'token' past the window of 8
  { prompt: [2], length: 30, seed: 10, temperature: 0.7, topK: 3, slide: 'half' },
  { prompt: [7, 7, 2, 11, 5, 9, 12, 1], length: 25, seed: 2 ** 32 - 1, temperature: 1.6, topP: 0.8, slide: 'half' }, // a full window
  { prompt: [5, 0, 6], length: 20, seed: 4, topK: 5, topP: 0.9, cache: false },
  { prompt: [1, 2], length: 12, topK: 1 }, // greedy: the seed does not matter
  { prompt: [8, 3], length: 0, seed: 1 },
];

for (const [name, layers] of GPTS) {
  test(`${name}: the ids of nn.generate for the same seed and options, no module memory kept`, async () => {
    const m = await trained(23, layers);
    const edge = infer.loadModel(m.save());
    const before = edgeHeap.bytesInUse;
    for (const options of GPT_OPTIONS) {
      const want = nn.generate(m, options);
      const got = generate(edge, options);
      assert.instance(got, Int32Array);
      assert.equal(Array.from(got), Array.from(want), `${JSON.stringify(options)}`);
      if (options.length > 20 && !options.topK) assert.ok(new Set(want).size > 3, 'the generation is not a few repeated ids');
    }
    assert.is(edgeHeap.bytesInUse, before, 'generate keeps no module memory after it returns');
    // the cache and the window re-run agree at the edge too, past the window with either slide
    for (const slide of ['token', 'half'] as const) {
      const options = { prompt: [4, 4, 1], length: 30, seed: 6, slide };
      assert.equal(Array.from(generate(edge, { ...options, cache: false })), Array.from(generate(edge, options)), `cache: false, slide ${slide}`);
    }
    // onToken streams the ids as they come and ends the generation where it returns false
    const streamed: number[] = [];
    const cut = generate(edge, { ...GPT_OPTIONS[0], onToken: (id, t) => (streamed.push(id), t < 11) });
    assert.equal(Array.from(cut), Array.from(nn.generate(m, GPT_OPTIONS[0])).slice(0, 12));
    assert.equal(streamed, Array.from(cut));
    // another seed, other ids (the seed is used)
    const a = generate(edge, GPT_OPTIONS[0]), b = generate(edge, { ...GPT_OPTIONS[0], seed: 10 });
    assert.ok(Array.from(a).some((v, i) => v !== b[i]), 'seeds 9 and 10 gave the same ids');
    assert.is(edgeHeap.bytesInUse, before, 'no module memory kept');
    edge.dispose();
    m.dispose();
  });
}

test('a GPT loaded by wasmnn/infer/core with only its layer kinds imported: the same ids', async () => {
  await core.ready();
  const m = await trained(25, GPTS[0][1]);
  const edge = core.loadModel(m.save());
  for (const options of GPT_OPTIONS.slice(0, 3)) assert.equal(Array.from(generate(edge, options)), Array.from(nn.generate(m, options)), `${JSON.stringify(options)}`);
  edge.dispose();
  m.dispose();
});

test("a GPT's bad calls: wasmnn/infer's typed errors with nn.generate's messages; the model stays usable", async () => {
  const m = await trained(24, GPTS[0][1]);
  const edge = infer.loadModel(m.save());
  const before = edgeHeap.bytesInUse;
  /** The library's error for these options, then the same class (wasmnn/infer's) and message at the edge. */
  const same = (options: nn.GenerateOptions, kind: 'ShapeError' | 'ValueError', re: RegExp, model = m, edgeModel = edge) => {
    let want: Error | null = null;
    try {
      nn.generate(model, options);
    } catch (e) {
      want = e as Error;
    }
    assert.ok(want, `nn.generate refused ${JSON.stringify(options)}`);
    assert.instance(want, nn[kind], `the library's ${want!.name}: ${want!.message}`);
    assert.ok(re.test(want!.message), `the library's message: ${want!.message}`);
    throwsError(() => generate(edgeModel, options), infer[kind], new RegExp(`^${want!.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  };
  same({ prompt: [1, 2, 3, 4, 5, 6, 7, 8, 9], length: 2 }, 'ShapeError', /prompt has 9 tokens, longer than the 8 positions/);
  same({ prompt: [1, V], length: 2 }, 'ValueError', new RegExp(`prompt\\[1\\] = ${V} is not a token id in \\[0, ${V}\\)`));
  same({ prompt: [1], length: 2, topP: 0 }, 'ValueError', /topP must be in \(0, 1\]/);
  same({ prompt: [1], length: 2, slide: 'all' as never }, 'ValueError', /slide must be 'token' or 'half'/);
  same({ prompt: [1], length: 2, cache: 1 as never }, 'ValueError', /cache must be true or false/);
  same({ prompt: [1], length: 2, onToken: 3 as never }, 'ValueError', /onToken must be a function/);
  assert.is(edgeHeap.bytesInUse, before, 'a refused generate keeps no module memory');
  assert.equal(Array.from(generate(edge, GPT_OPTIONS[1])), Array.from(nn.generate(m, GPT_OPTIONS[1])), 'after the refused calls');
  // a token embedding with maskZero (the cache cannot hide id 0), and a softmax over more ids than the embedding
  // takes (a drawn id past its table is refused when it is fed back, mid-generation)
  const masked = nn.sequential({ seed: 2, layers: [
    L.tokenAndPositionEmbedding({ inputShape: [T], vocabularySize: V, sequenceLength: T, embeddingDim: 4, maskZero: true }),
    L.transformerDecoder({ intermediateDim: 8, numHeads: 1 }), L.dense({ units: V, activation: 'softmax' })] });
  const wide = nn.sequential({ seed: 3, layers: [
    L.tokenAndPositionEmbedding({ inputShape: [T], vocabularySize: 3, sequenceLength: T, embeddingDim: 4 }),
    L.transformerDecoder({ intermediateDim: 8, numHeads: 1 }), L.dense({ units: 60, activation: 'softmax' })] });
  const maskedEdge = infer.loadModel(masked.save()), wideEdge = infer.loadModel(wide.save());
  const loaded = edgeHeap.bytesInUse;
  same({ prompt: [1], length: 2 }, 'ValueError', /has maskZero/, masked, maskedEdge);
  same({ prompt: [1, 2], length: 30, seed: 5 }, 'ValueError', /generate: token \d+ = \d+ is not an id in \[0, 3\)/, wide, wideEdge);
  assert.is(edgeHeap.bytesInUse, loaded, 'a generate refused at the start or midway keeps no module memory');
  for (const x of [masked, wide, m]) x.dispose();
  for (const x of [maskedEdge, wideEdge, edge]) x.dispose();
  throwsError(() => generate(edge, GPT_OPTIONS[0]), infer.StateError, /disposed/);
});

test.run();
