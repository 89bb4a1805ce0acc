// Determinism: a seeded run with everything that draws random numbers or does transcendental math (initial weights,
// shuffling, dropout masks, GELU, softmax, Adam's square roots and bias correction) gives the same bits every time
// and in every runtime. The hash of the final weights and the per-epoch losses is printed as one
// `[report] determinism=<hex>` line; scripts/test.mjs compares it across Node, Deno, Bun and Chromium.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { fnv1a } from './helpers';

const N = 256;
const FEATURES = 8;

/** Synthetic data from integer arithmetic only: the same numbers in every engine. Class = argmax of 3 sums. */
function data(): { x: nn.Tensor; labels: Int32Array } {
  const x = new Float32Array(N * FEATURES);
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < FEATURES; j++) x[i * FEATURES + j] = (((i * 31 + j * 17 + ((i * j) % 7)) % 23) - 11) / 8;
    const row = x.subarray(i * FEATURES, (i + 1) * FEATURES);
    const s = [row[0] + row[3], row[1] + row[4] + row[6], row[2] + row[5] - row[7]];
    labels[i] = s[0] >= s[1] ? (s[0] >= s[2] ? 0 : 2) : s[1] >= s[2] ? 1 : 2;
  }
  return { x: nn.tensor2d(x, [N, FEATURES]), labels };
}

/** Trains 2 epochs and returns the hash of the final weights and the per-epoch losses and accuracies. */
async function run(seed: number): Promise<{ hash: string; losses: number[] }> {
  const { x, labels } = data();
  const m = nn.sequential({ seed, layers: [
    nn.layers.dense({ inputShape: [FEATURES], units: 16, activation: 'gelu' }),
    nn.layers.dropout({ rate: 0.25 }),
    nn.layers.dense({ units: 3, activation: 'softmax' })] });
  m.compile({ optimizer: nn.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const h = await m.fit(x, labels, { epochs: 2, batchSize: 32, shuffle: true });
  const weights = m.getWeights().map((t) => t.data);
  const curves = Float64Array.from([...h.history.loss, ...h.history.accuracy]);
  m.dispose();
  return { hash: fnv1a(...weights, curves), losses: h.history.loss };
}

const determinism = suite('determinism');
determinism.before(async () => {
  await nn.ready();
});

determinism('the same seed gives the same bits; another seed does not', async () => {
  const a = await run(2024);
  const b = await run(2024);
  const c = await run(2025);
  assert.ok(a.losses.every(Number.isFinite) && a.losses[1] < a.losses[0], `it trained: ${a.losses}`);
  assert.is(b.hash, a.hash, 'two runs with seed 2024');
  assert.is.not(c.hash, a.hash, 'seed 2025 vs 2024');
  // on a line of its own: uvu's progress dots in Node do not end their line
  console.log(`\n[report] determinism=${a.hash}`);
});

/** The same for a small CNN: seeded augmentation, both conv forward paths (direct for 1x8 channels, im2col +
 *  GEMM for 8x40), batch norm, max and average pooling, relu and tanh, on 10x10 images made by integer arithmetic;
 *  `paired`: the reference CNN's conv → max pool pairs on 14x14 images. */
async function runCnn(seed: number, paired = false): Promise<{ hash: string; losses: number[] }> {
  const n = 96, side = paired ? 14 : 10;
  const x = new Float32Array(n * side * side);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < side * side; p++) {
      const r = Math.floor(p / side), c = p % side;
      const stripe = labels[i] === 0 ? r % 3 === 0 : labels[i] === 1 ? c % 3 === 0 : (r + c) % 4 === 0;
      x[i * side * side + p] = (stripe ? 1 : 0) + (((i * 13 + p * 7) % 11) - 5) / 40;
    }
  }
  const L = nn.layers;
  // MNIST's reference CNN in small: each 'valid' relu conv runs with its max pooling (conv2d_forward_maxpool)
  const pairs = [
    L.conv2d({ inputShape: [side, side, 1], filters: 8, kernelSize: 3, activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }),
    L.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }), L.flatten(),
    L.dense({ units: 3, activation: 'softmax' })];
  const m = nn.sequential({ seed, layers: paired ? pairs : [
    L.randomAugment({ inputShape: [side, side, 1], shift: 1, flip: true, rotation: 10 }),
    L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
    L.maxPooling2d({ poolSize: 2 }),
    L.conv2d({ filters: 40, kernelSize: 3, useBias: false }), L.batchNormalization(), L.activation({ activation: 'tanh' }),
    L.averagePooling2d({ poolSize: 3 }),
    L.flatten(),
    L.dense({ units: 3, activation: 'softmax' })] });
  m.compile({ optimizer: nn.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const h = await m.fit(nn.tensor4d(x, [n, side, side, 1]), labels, { epochs: 2, batchSize: 16, shuffle: true });
  const weights = m.getWeights().map((t) => t.data);
  const predictions = m.predict(nn.tensor4d(x, [n, side, side, 1])).data;
  m.dispose();
  return { hash: fnv1a(...weights, predictions, Float64Array.from([...h.history.loss, ...h.history.accuracy])), losses: h.history.loss };
}

determinism('a seeded CNN gives the same bits every time', async () => {
  const a = await runCnn(7);
  const b = await runCnn(7);
  assert.ok(a.losses.every(Number.isFinite) && a.losses[1] < a.losses[0], `it trained: ${a.losses}`);
  assert.is(b.hash, a.hash, 'two runs with seed 7');
  console.log(`\n[report] determinism_cnn=${a.hash}`);
});

determinism('a seeded CNN of conv → max pool pairs gives the same bits every time', async () => {
  const a = await runCnn(7, true);
  const b = await runCnn(7, true);
  assert.ok(a.losses.every(Number.isFinite) && a.losses[1] < a.losses[0], `it trained: ${a.losses}`);
  assert.is(b.hash, a.hash, 'two runs with seed 7');
  console.log(`\n[report] determinism_pairs=${a.hash}`);
});

/** The same for the sequence layers: token and position embeddings, the sine encoding, attention with dropout on its
 *  probabilities, an encoder and a pre-LN decoder block (GELU, ReLU, layer norm, dropout), on integer-made token
 *  sequences whose class is where the token 1 first appears (attention has to find it). */
async function runTransformer(seed: number): Promise<{ hash: string; losses: number[] }> {
  const n = 60, steps = 8, vocab = 6;
  const ids = new Float32Array(n * steps);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let t = 0; t < steps; t++) ids[i * steps + t] = 2 + ((i * 7 + t * 5 + ((i * t) % 3)) % (vocab - 2));
    ids[i * steps + 2 * labels[i] + (i % 2)] = 1;
  }
  const L = nn.layers;
  const m = nn.sequential({ seed, layers: [
    L.tokenAndPositionEmbedding({ inputShape: [steps], vocabularySize: vocab, sequenceLength: steps, embeddingDim: 8 }),
    L.sinePositionEncoding(),
    L.transformerEncoder({ intermediateDim: 16, numHeads: 2, activation: 'gelu', dropout: 0.1 }),
    L.transformerDecoder({ intermediateDim: 12, numHeads: 4, normalizeFirst: true, dropout: 0.1 }),
    L.multiHeadAttention({ numHeads: 2, keyDim: 3, dropout: 0.2 }),
    L.flatten(), L.dense({ units: 3, activation: 'softmax' })] });
  m.compile({ optimizer: nn.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const x = nn.tensor(ids, [n, steps]);
  const h = await m.fit(x, labels, { epochs: 3, batchSize: 16, shuffle: true });
  const weights = m.getWeights().map((t) => t.data);
  const scores = m.attentionScores(x, { layer: 3 }).data;
  m.dispose();
  return { hash: fnv1a(...weights, scores, Float64Array.from([...h.history.loss, ...h.history.accuracy])), losses: h.history.loss };
}

determinism('a seeded transformer gives the same bits every time', async () => {
  const a = await runTransformer(11);
  const b = await runTransformer(11);
  assert.ok(a.losses.every(Number.isFinite) && a.losses[2] < a.losses[0], `it trained: ${a.losses}`);
  assert.is(b.hash, a.hash, 'two runs with seed 11');
  console.log(`\n[report] determinism_transformer=${a.hash}`);
});

/**
 * The same for sequences: token ids (integer arithmetic, the last steps of some samples padded with 0) through an
 * embedding with maskZero, an LSTM with dropout and recurrentDropout, a GRU and a dense softmax, trained 2 epochs
 * with Adam; then a seeded generation from the trained model (plain, topK, topP), whose ids join the hash.
 * paired: the LSTM without dropout, so that the embedding and the LSTM run as a pair (the products over the table).
 */
async function runRnn(seed: number, paired = false): Promise<{ hash: string; losses: number[]; ids: Int32Array }> {
  const n = 96, T = 12, V = 11;
  const x = new Float32Array(n * T);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < T; t++) x[i * T + t] = t >= T - (i % 4) ? 0 : 1 + ((i * 7 + t * t * 3 + (i % 5) * t) % (V - 1));
    labels[i] = (x[i * T] + x[i * T + 1]) % 3;
  }
  const L = nn.layers;
  const m = nn.sequential({ seed, layers: [
    L.embedding({ inputShape: [T], inputDim: V, outputDim: 6, maskZero: true }),
    L.lstm({ units: 8, returnSequences: true, ...(paired ? {} : { dropout: 0.1, recurrentDropout: 0.2 }) }),
    L.gru({ units: 7 }),
    L.dense({ units: 3, activation: 'softmax' })] });
  m.compile({ optimizer: nn.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const h = await m.fit(nn.tensor2d(x, [n, T]), labels, { epochs: 2, batchSize: 16, shuffle: true });
  const weights = m.getWeights().map((t) => t.data);
  const prompt = [3, 1, 4, 1, 5];
  const ids = [
    nn.generate(m, { prompt, length: 40, seed: 9 }),
    nn.generate(m, { prompt, length: 40, seed: 9, temperature: 0.7, topK: 2 }),
    nn.generate(m, { prompt, length: 40, seed: 10, temperature: 1.3, topP: 0.8 }),
  ];
  m.dispose();
  const all = Int32Array.from(ids.flatMap((a) => Array.from(a)));
  return { hash: fnv1a(...weights, all, Float64Array.from([...h.history.loss, ...h.history.accuracy])), losses: h.history.loss, ids: all };
}

determinism('a seeded LSTM + GRU run and a seeded generation give the same bits every time', async () => {
  const a = await runRnn(11);
  const b = await runRnn(11);
  assert.ok(a.losses.every(Number.isFinite) && a.losses[1] < a.losses[0], `it trained: ${a.losses}`);
  assert.ok(new Set(a.ids).size > 1, 'the generations are not one repeated id');
  assert.is(b.hash, a.hash, 'two runs with seed 11');
  console.log(`\n[report] determinism_rnn=${a.hash}`);
});

determinism('a seeded embedding → LSTM pair + GRU run and its generation give the same bits every time', async () => {
  const a = await runRnn(11, true);
  const b = await runRnn(11, true);
  assert.ok(a.losses.every(Number.isFinite) && a.losses[1] < a.losses[0], `it trained: ${a.losses}`);
  assert.is(b.hash, a.hash, 'two runs with seed 11');
  console.log(`\n[report] determinism_rnn_pair=${a.hash}`);
});

determinism('the hash sees every byte: FNV-1a of known inputs', () => {
  // reference values of 32-bit FNV-1a
  assert.is(fnv1a(new Uint8Array(0)), '811c9dc5');
  assert.is(fnv1a(new TextEncoder().encode('a')), 'e40c292c');
  assert.is(fnv1a(new TextEncoder().encode('foobar')), 'bf9cf968');
  const f = Float32Array.from([1, 2, 3]);
  const g = Float32Array.from([1, 2, 3 + 2 ** -22]); // one bit of one float
  assert.is.not(fnv1a(f), fnv1a(g));
  assert.is(fnv1a(f.subarray(1)), fnv1a(Float32Array.from([2, 3])), 'a view hashes its own bytes only');
});

determinism.run();
