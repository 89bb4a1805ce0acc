// Generation with a KV cache for a GPT-style model (tokenAndPositionEmbedding -> transformerDecoder blocks -> a dense
// softmax): the prompt fills every attention layer's cache once, then each token runs one position. It must give
// the ids of re-running the window at every token (generate's cache: false), greedy and sampled with one seed, and
// greedy must also be the argmax of model.predict over the zero-padded window (causal: the padding is never seen).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { fnv1a, throwsError } from './helpers';

const L = nn.layers;
const test = suite('KV-cache generation');
test.before(async () => {
  await nn.ready();
});

const V = 7, T = 16;

/** A small GPT trained a little on a periodic text, so that its distribution is not flat. */
async function trainedGpt(blocks: (() => nn.layers.Layer)[], seed = 4, embeddingDim = 8): Promise<nn.Sequential> {
  const m = nn.sequential({
    seed,
    layers: [L.tokenAndPositionEmbedding({ inputShape: [T], vocabularySize: V, sequenceLength: T, embeddingDim }), ...blocks.map((b) => b()), L.dense({ units: V, activation: 'softmax' })],
  });
  const text = Array.from({ length: 200 }, (_, i) => (i * 3 + (i % 5 === 0 ? 1 : 0)) % V);
  const n = 24, x = new Float32Array(n * T), y = new Float32Array(n * T);
  for (let s = 0; s < n; s++) {
    for (let t = 0; t < T; t++) {
      x[s * T + t] = text[s * 7 + t];
      y[s * T + t] = text[s * 7 + t + 1];
    }
  }
  m.compile({ optimizer: nn.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  await m.fit(nn.tensor(x, [n, T]), nn.tensor(y, [n, T]), { epochs: 3, batchSize: 8 });
  return m;
}

/** greedyByPredict over the windows generate's slide: 'half' sees: once a window overflows, a new one starts from
 *  its last T / 2 tokens, at position 0. */
function greedyHalfByPredict(m: nn.Sequential, prompt: number[], length: number): number[] {
  const ids = prompt.slice();
  let start = 0;
  for (let i = 0; i < length; i++) {
    if (ids.length - start > T) start = ids.length - T / 2;
    const window = new Float32Array(T);
    window.set(ids.slice(start));
    const p = m.predict(nn.tensor(window, [1, T])).data;
    const at = ids.length - start - 1;
    const row = Array.from(p.subarray(at * V, (at + 1) * V));
    ids.push(row.indexOf(Math.max(...row)));
  }
  return ids.slice(prompt.length);
}

/** The argmax of the last real position of predict over the window padded with zeros. */
function greedyByPredict(m: nn.Sequential, prompt: number[], length: number): number[] {
  const ids = prompt.slice();
  for (let i = 0; i < length; i++) {
    const window = new Float32Array(T);
    window.set(ids.slice(-T));
    const p = m.predict(nn.tensor(window, [1, T])).data;
    const at = Math.min(ids.length, T) - 1;
    const row = Array.from(p.subarray(at * V, (at + 1) * V));
    ids.push(row.indexOf(Math.max(...row)));
  }
  return ids.slice(prompt.length);
}

test('2 decoder blocks: the KV cache gives the ids of re-running the window, greedy and sampled with a seed', async () => {
  const m = await trainedGpt([
    () => L.transformerDecoder({ intermediateDim: 16, numHeads: 2 }),
    () => L.transformerDecoder({ intermediateDim: 16, numHeads: 2, normalizeFirst: true, activation: 'gelu' }),
  ]);
  greedyByPredict(m, [1], 1); // predict plans its batch of 1 once and keeps it: before that, not counted here
  const before = nn.memory().bytesInUse;
  for (const prompt of [[3], [1, 4, 0, 3, 6]]) {
    const length = T - prompt.length;
    const greedy = Array.from(nn.generate(m, { prompt, length, topK: 1 }));
    assert.equal(Array.from(nn.generate(m, { prompt, length, topK: 1, cache: false })), greedy, `greedy from ${prompt}`);
    assert.equal(greedy, greedyByPredict(m, prompt, length), `greedy from ${prompt} against predict`);
    for (const [seed, temperature] of [[1, 1], [2, 1.8], [3, 0.7]]) {
      const a = Array.from(nn.generate(m, { prompt, length, seed, temperature }));
      assert.equal(Array.from(nn.generate(m, { prompt, length, seed, temperature, cache: false })), a, `seed ${seed} from ${prompt}`);
    }
  }
  // past the window: the cropped window re-runs, as without the cache
  const long = Array.from(nn.generate(m, { prompt: [2, 5], length: 2 * T, seed: 7, temperature: 1.5 }));
  assert.equal(Array.from(nn.generate(m, { prompt: [2, 5], length: 2 * T, seed: 7, temperature: 1.5, cache: false })), long, 'past the window');
  assert.equal(Array.from(nn.generate(m, { prompt: [2, 5], length: 2 * T, topK: 1 })), greedyByPredict(m, [2, 5], 2 * T), 'greedy past the window against predict');
  assert.is(nn.memory().bytesInUse, before, 'generate frees its plan and caches');
  m.dispose();
});

test("nanoGPT's final layer norm (and an RMS norm) before the output: the cache steps them on the new row alone", async () => {
  const m = await trainedGpt([
    () => L.transformerDecoder({ intermediateDim: 16, numHeads: 2, normalizeFirst: true, activation: 'gelu' }),
    () => L.rmsNormalization(),
    () => L.transformerDecoder({ intermediateDim: 16, numHeads: 2, normalizeFirst: true, activation: 'gelu' }),
    () => L.layerNormalization({ epsilon: 1e-5 }),
  ], 5);
  greedyByPredict(m, [1], 1);
  const before = nn.memory().bytesInUse;
  for (const prompt of [[3], [1, 4, 0, 3, 6]]) {
    const length = T - prompt.length;
    const greedy = Array.from(nn.generate(m, { prompt, length, topK: 1 }));
    assert.equal(Array.from(nn.generate(m, { prompt, length, topK: 1, cache: false })), greedy, `greedy from ${prompt}`);
    assert.equal(greedy, greedyByPredict(m, prompt, length), `greedy from ${prompt} against predict`);
    for (const [seed, temperature] of [[1, 1], [2, 1.8]]) {
      const a = Array.from(nn.generate(m, { prompt, length, seed, temperature }));
      assert.equal(Array.from(nn.generate(m, { prompt, length, seed, temperature, cache: false })), a, `seed ${seed} from ${prompt}`);
    }
  }
  const long = Array.from(nn.generate(m, { prompt: [2, 5], length: 2 * T, seed: 7, temperature: 1.5 }));
  assert.equal(Array.from(nn.generate(m, { prompt: [2, 5], length: 2 * T, seed: 7, temperature: 1.5, cache: false })), long, 'past the window');
  assert.equal(Array.from(nn.generate(m, { prompt: [2, 5], length: 2 * T, topK: 1 })), greedyByPredict(m, [2, 5], 2 * T), 'greedy past the window against predict');
  throwsError(() => nn.generate(m, { prompt: new Array(T + 1).fill(1), length: 2 }), nn.ShapeError, /17 tokens.*sequenceLength 16/);
  assert.is(nn.memory().bytesInUse, before, 'generate frees its plan and caches');
  m.dispose();
});

test("slide: 'half' past the window: the window restarts from its last half; the same ids as re-running each window it sees", async () => {
  const m = await trainedGpt([
    () => L.transformerDecoder({ intermediateDim: 16, numHeads: 2, normalizeFirst: true, activation: 'gelu' }),
    () => L.transformerDecoder({ intermediateDim: 16, numHeads: 2 }),
    () => L.layerNormalization({ epsilon: 1e-5 }),
  ], 6);
  greedyByPredict(m, [1], 1);
  const before = nn.memory().bytesInUse;
  for (const prompt of [[2, 5], new Array(T).fill(3)]) {
    const length = 3 * T;
    const greedy = Array.from(nn.generate(m, { prompt, length, topK: 1, slide: 'half' }));
    assert.equal(Array.from(nn.generate(m, { prompt, length, topK: 1, slide: 'half', cache: false })), greedy, `greedy from ${prompt}`);
    assert.equal(greedy, greedyHalfByPredict(m, prompt, length), `greedy from ${prompt} against predict`);
    const a = Array.from(nn.generate(m, { prompt, length, seed: 12, temperature: 1.4, slide: 'half' }));
    assert.equal(Array.from(nn.generate(m, { prompt, length, seed: 12, temperature: 1.4, slide: 'half', cache: false })), a, `seeded from ${prompt}`);
  }
  // within the window the slides agree
  assert.equal(Array.from(nn.generate(m, { prompt: [4], length: T - 1, seed: 2, slide: 'half' })), Array.from(nn.generate(m, { prompt: [4], length: T - 1, seed: 2 })));
  throwsError(() => nn.generate(m, { prompt: [1], length: 2, slide: 'third' as never }), nn.ValueError, /slide must be 'token' or 'half', got third/);
  assert.is(nn.memory().bytesInUse, before, 'generate frees its plan and caches');
  m.dispose();
});

test("rows wide enough for the one-row product's 32-column strips (odd widths, a GELU and a ReLU block): the same ids", async () => {
  const m = await trainedGpt([
    () => L.transformerDecoder({ intermediateDim: 69, numHeads: 2, normalizeFirst: true, activation: 'gelu' }),
    () => L.transformerDecoder({ intermediateDim: 37, numHeads: 4 }),
  ], 8, 40);
  const prompt = [1, 4, 0];
  const greedy = Array.from(nn.generate(m, { prompt, length: T - 3, topK: 1 }));
  assert.equal(Array.from(nn.generate(m, { prompt, length: T - 3, topK: 1, cache: false })), greedy);
  assert.equal(greedy, greedyByPredict(m, prompt, T - 3));
  const a = Array.from(nn.generate(m, { prompt, length: T - 3, seed: 5, temperature: 1.5 }));
  assert.equal(Array.from(nn.generate(m, { prompt, length: T - 3, seed: 5, temperature: 1.5, cache: false })), a);
  m.dispose();
});

test('a causal multiHeadAttention with a dense between: the same ids with and without the cache', async () => {
  const m = await trainedGpt([
    () => L.multiHeadAttention({ numHeads: 2, keyDim: 3, valueDim: 5, useCausalMask: true }),
    () => L.dense({ units: 8, activation: 'relu' }),
    () => L.transformerDecoder({ intermediateDim: 12, numHeads: 4 }),
  ], 9);
  const prompt = [0, 6, 2];
  const greedy = Array.from(nn.generate(m, { prompt, length: T - 3, topK: 1 }));
  assert.equal(Array.from(nn.generate(m, { prompt, length: T - 3, topK: 1, cache: false })), greedy);
  assert.equal(greedy, greedyByPredict(m, prompt, T - 3));
  const a = Array.from(nn.generate(m, { prompt, length: T - 3, seed: 11 }));
  assert.equal(Array.from(nn.generate(m, { prompt, length: T - 3, seed: 11, cache: false })), a);
  m.dispose();
});

test("a GPT's generated ids are the same bits in every runtime (the one-call step, packed weights past the strips)", async () => {
  // seeded weights, untrained: a pre-LN GELU block and a post-LN ReLU block wider than the 32-column strips, the
  // final layer norm; sampled plain, with topK and topP, past the window and with slide 'half', a 1-token prompt too
  const m = nn.sequential({ seed: 21, layers: [
    L.tokenAndPositionEmbedding({ inputShape: [T], vocabularySize: V, sequenceLength: T, embeddingDim: 36 }),
    L.transformerDecoder({ intermediateDim: 70, numHeads: 4, normalizeFirst: true, activation: 'gelu' }),
    L.transformerDecoder({ intermediateDim: 33, numHeads: 2 }),
    L.layerNormalization({ epsilon: 1e-5 }),
    L.dense({ units: V, activation: 'softmax' })] });
  const ids = [
    nn.generate(m, { prompt: [2, 5, 1], length: T - 3, seed: 3, temperature: 1.5 }),
    nn.generate(m, { prompt: [4], length: T - 1, seed: 4, topK: 3 }),
    nn.generate(m, { prompt: [1, 6], length: 2 * T, seed: 5, topP: 0.9, temperature: 1.2 }),
    nn.generate(m, { prompt: [0, 3, 3], length: 2 * T, seed: 6, temperature: 2, slide: 'half' }),
  ];
  const all = Int32Array.from(ids.flatMap((a) => Array.from(a)));
  assert.ok(new Set(all).size > 2, 'the generations are not one repeated id');
  console.log(`\n[report] generate_gpt=${fnv1a(all)}`);
  m.dispose();
});

test('a prompt longer than the position embedding is a ShapeError naming its sequenceLength, and frees the plan', async () => {
  const m = await trainedGpt([() => L.transformerDecoder({ intermediateDim: 16, numHeads: 2 })]);
  const before = nn.memory().bytesInUse;
  throwsError(() => nn.generate(m, { prompt: new Array(T + 1).fill(1), length: 2 }), nn.ShapeError, /17 tokens.*sequenceLength 16/);
  throwsError(() => nn.generate(m, { prompt: [1], length: 2, cache: 'no' as never }), nn.ValueError, /cache/);
  assert.is(nn.memory().bytesInUse, before, 'a refused generate keeps no module memory');
  // a non-causal attention cannot be stepped
  const enc = nn.sequential({ layers: [L.tokenAndPositionEmbedding({ inputShape: [T], vocabularySize: V, sequenceLength: T, embeddingDim: 8 }), L.transformerEncoder({ intermediateDim: 8, numHeads: 2 }), L.dense({ units: V, activation: 'softmax' })] });
  throwsError(() => nn.generate(enc, { prompt: [1], length: 2 }), nn.ValueError, /cannot be stepped/);
  enc.dispose();
  // a padding mask the cache would not keep: refused, saying why
  const padded = nn.sequential({ layers: [L.tokenAndPositionEmbedding({ inputShape: [T], vocabularySize: V, sequenceLength: T, embeddingDim: 8, maskZero: true }), L.transformerDecoder({ intermediateDim: 8, numHeads: 2 }), L.dense({ units: V, activation: 'softmax' })] });
  padded.predict(nn.tensor(new Float32Array(T).fill(1), [1, T])).dispose(); // its weights and plan made
  const held = nn.memory().bytesInUse;
  throwsError(() => nn.generate(padded, { prompt: [1, 2], length: 2 }), nn.ValueError, /maskZero.*KV cache/);
  assert.is(nn.memory().bytesInUse, held, 'the refusal keeps no module memory');
  padded.dispose();
  m.dispose();
});

test.run();
