// wasmnn/infer/generate: generation for models loaded by wasmnn/infer (the edge build). For the same model and seed
// it must give the ids the library's nn.generate gives, in every runtime, keep no module memory, and throw
// wasmnn/infer's own typed errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import * as infer from 'wasmnn/infer';
import { generate } from 'wasmnn/infer/generate';
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

test.run();
