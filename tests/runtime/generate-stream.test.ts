// generate's onToken: every id reaches the callback as it is drawn, in order, and the ids are those of the same call
// without it; returning false ends the run there (a page's Stop, a stop character) and frees what generate planned.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { throwsError } from './helpers';

const L = nn.layers;
const test = suite('generate onToken');
test.before(async () => {
  await nn.ready();
});

const V = 9;
const models: Record<string, () => nn.Sequential> = {
  lstm: () => nn.sequential({ seed: 2, layers: [L.embedding({ inputShape: [12], inputDim: V, outputDim: 4 }), L.lstm({ units: 6, returnSequences: true }), L.dense({ units: V, activation: 'softmax' })] }),
  gpt: () => nn.sequential({
    seed: 2,
    layers: [L.tokenAndPositionEmbedding({ inputShape: [12], vocabularySize: V, sequenceLength: 12, embeddingDim: 8 }),
      L.transformerDecoder({ intermediateDim: 16, numHeads: 2 }), L.dense({ units: V, activation: 'softmax' })],
  }),
};

for (const [kind, make] of Object.entries(models)) {
  test(`${kind}: onToken sees each id in order, the ids are those without it, and false stops the run`, () => {
    const m = make();
    const options = { prompt: [2, 5, 3], length: 20, seed: 11, temperature: 1.3 };
    const plain = Array.from(nn.generate(m, options));
    const seen: number[] = [];
    const streamed = nn.generate(m, { ...options, onToken: (id, t) => void seen.push(t === seen.length ? id : -1) });
    assert.equal(seen, plain, 'the callback gets every id, in order');
    assert.equal(Array.from(streamed), plain, 'the callback changes nothing');
    const before = nn.memory().bytesInUse;
    const stopped = nn.generate(m, { ...options, onToken: (_id, t) => t < 6 });
    assert.equal(Array.from(stopped), plain.slice(0, 7), 'false ends the run after that token');
    assert.is(nn.memory().bytesInUse, before, 'a stopped run frees what it planned');
    throwsError(() => nn.generate(m, { ...options, onToken: 'log' as never }), nn.ValueError, /onToken must be a function, got string/);
    m.dispose();
  });
}

test.run();
