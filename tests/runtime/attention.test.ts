// The sequence layers beyond their gradients (gradcheck.test.ts) and PyTorch's numbers (attention-torch.test.ts):
// the sine encoding against its formula in f64, model.attentionScores against the probabilities computed here from
// the weights, the causal structure, choosing a layer (inside a transformer block too), padding through an encoder
// classifier, and the typed errors of bad configs and inputs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { sameBits, throwsError, uniform } from './helpers';

const L = nn.layers;
const test = suite('attention layers');
test.before(async () => {
  await nn.ready();
});

test('sinePositionEncoding adds sin(pos / W^(2i/d)) and cos(pos / W^(2i/d)), each within one f32 rounding of f64', () => {
  for (const [steps, dim, w] of [[64, 16, 10000], [33, 7, 50]]) {
    const m = nn.sequential({ layers: [L.sinePositionEncoding({ inputShape: [steps, dim], maxWavelength: w })] });
    // two samples of zeros: y is the encoding itself, twice
    const y = m.predict(nn.tensor(new Float32Array(2 * steps * dim), [2, steps, dim])).data;
    for (let i = 0; i < y.length; i++) {
      const pos = Math.floor(i / dim) % steps, j = i % dim;
      const angle = pos / Math.pow(w, (2 * Math.floor(j / 2)) / dim);
      const want = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
      // the module rounds its f64 value to f32 once: at most half an f32 ulp from the true value, plus the f64 error
      assert.ok(Math.abs(y[i] - want) <= 2 ** -24 * Math.max(Math.abs(want), 2 ** -10), `W ${w}, PE[${pos}, ${j}] = ${y[i]}, want ${want}`);
    }
    m.dispose();
  }
});

/** softmax(q kᵀ / sqrt(dk)) per sample, head and query row, in f64 from the layer's weights (x·W + b). */
function expectedScores(x: Float32Array, n: number, steps: number, f: number, heads: number, dk: number, w: Float32Array[], causal: boolean): Float64Array {
  const [wq, bq, wk, bk] = w;
  const proj = (W: Float32Array, b: Float32Array) => {
    const out = new Float64Array(n * steps * heads * dk);
    for (let r = 0; r < n * steps; r++) {
      for (let c = 0; c < heads * dk; c++) {
        let s = b[c];
        for (let i = 0; i < f; i++) s += x[r * f + i] * W[i * heads * dk + c];
        out[r * heads * dk + c] = s;
      }
    }
    return out;
  };
  const q = proj(wq, bq), k = proj(wk, bk);
  const out = new Float64Array(n * heads * steps * steps);
  for (let b = 0; b < n; b++) {
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < steps; t++) {
        const row = (b * heads + h) * steps * steps + t * steps;
        const seen = causal ? t + 1 : steps;
        let max = -Infinity;
        for (let t2 = 0; t2 < seen; t2++) {
          let s = 0;
          for (let d = 0; d < dk; d++) s += q[((b * steps + t) * heads + h) * dk + d] * k[((b * steps + t2) * heads + h) * dk + d];
          out[row + t2] = s / Math.sqrt(dk);
          max = Math.max(max, out[row + t2]);
        }
        let sum = 0;
        for (let t2 = 0; t2 < seen; t2++) sum += (out[row + t2] = Math.exp(out[row + t2] - max));
        for (let t2 = 0; t2 < seen; t2++) out[row + t2] /= sum;
      }
    }
  }
  return out;
}

test('model.attentionScores: [batch, heads, steps, steps], the softmax of the scaled scores; causal rows are 0 past t', () => {
  const steps = 6, f = 5, heads = 3, dk = 2, n = 4;
  for (const causal of [false, true]) {
    const m = nn.sequential({ seed: 3, layers: [L.multiHeadAttention({ inputShape: [steps, f], numHeads: heads, keyDim: dk, valueDim: 3, useCausalMask: causal, name: 'mha' })] });
    const x = uniform(n * steps * f, 5, -2, 2);
    const scores = m.attentionScores(nn.tensor(x, [n, steps, f]), { batchSize: 3 }); // two blocks
    assert.equal(scores.shape, [n, heads, steps, steps]);
    const want = expectedScores(x, n, steps, f, heads, dk, m.getWeights().map((t) => t.data), causal);
    for (let i = 0; i < want.length; i++) {
      assert.ok(Math.abs(scores.data[i] - want[i]) <= 1e-5, `${causal ? 'causal' : 'full'} score ${i}: ${scores.data[i]} vs ${want[i]}`);
      const t = Math.floor(i / steps) % steps, t2 = i % steps;
      if (causal && t2 > t) assert.is(scores.data[i], 0, 'a causal row is exactly 0 right of the diagonal');
    }
    // by name and by index: the same numbers
    assert.equal(m.attentionScores(nn.tensor(x, [n, steps, f]), { layer: 'mha' }).data, scores.data);
    assert.equal(m.attentionScores(nn.tensor(x, [n, steps, f]), { layer: 0 }).data, scores.data);
    m.dispose();
  }
});

test('model.attentionScores reads the attention inside a transformer block; rows sum to 1; typed errors for other layers', () => {
  const m = nn.sequential({ seed: 4, layers: [
    L.tokenAndPositionEmbedding({ inputShape: [7], vocabularySize: 10, sequenceLength: 7, embeddingDim: 8 }),
    L.transformerDecoder({ intermediateDim: 12, numHeads: 2, name: 'block0' }),
    L.transformerEncoder({ intermediateDim: 12, numHeads: 4, name: 'block1' })] });
  const ids = nn.tensor(Float32Array.from({ length: 14 }, (_, i) => (i * 3) % 10), [2, 7]);
  const first = m.attentionScores(ids); // the first attention layer by default: the decoder's, causal
  assert.equal(first.shape, [2, 2, 7, 7]);
  const second = m.attentionScores(ids, { layer: 'block1' });
  assert.equal(second.shape, [2, 4, 7, 7]);
  for (const [s, causal] of [[first, true], [second, false]] as const) {
    for (let r = 0; r < s.size / 7; r++) {
      const row = s.data.subarray(r * 7, r * 7 + 7);
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'a row sums to 1');
      if (causal) assert.ok(row.subarray((r % 7) + 1).every((v) => v === 0), 'causal');
      else assert.ok(row.every((v) => v > 0), 'every key has weight');
    }
  }
  throwsError(() => m.attentionScores(ids, { layer: 0 }), nn.ValueError, /layer 0 .*has no attention; the attention layers are 1: block0, 2: block1/);
  throwsError(() => m.attentionScores(ids, { layer: 'nope' }), nn.NotFoundError, /no layer named 'nope'/);
  throwsError(() => m.attentionScores(ids, { layer: 9 }), nn.NotFoundError, /no layer 9/);
  m.dispose();
  const dense = nn.sequential({ layers: [L.dense({ inputShape: [3], units: 2 })] });
  throwsError(() => dense.attentionScores(nn.tensor(new Float32Array(3), [1, 3])), nn.NotFoundError, /no attention layer/);
  dense.dispose();
});

test('tokenAndPositionEmbedding maskZero: padding changes nothing in an encoder classifier; the mask is saved', () => {
  // two blocks (post-LN, pre-LN), pooled over the real steps: a message padded at the end gives what it gives alone
  const real = [3, 1, 4, 1, 5];
  const classifier = (steps: number, maskZero: boolean) => nn.sequential({ seed: 6, layers: [
    L.tokenAndPositionEmbedding({ inputShape: [steps], vocabularySize: 7, sequenceLength: 8, embeddingDim: 4, maskZero }),
    L.transformerEncoder({ intermediateDim: 6, numHeads: 2 }), L.transformerEncoder({ intermediateDim: 5, numHeads: 2, normalizeFirst: true }),
    L.globalAveragePooling1d(), L.dense({ units: 2, activation: 'softmax' })] });
  const fixed = (a: Float32Array) => Array.from(a, (v) => v.toFixed(6));
  const aloneModel = classifier(5, true), paddedModel = classifier(8, true), unmasked = classifier(8, false);
  const padded = nn.tensor([[...real, 0, 0, 0]]);
  const alone = aloneModel.predict(nn.tensor([real])).data;
  assert.equal(fixed(paddedModel.predict(padded).data), fixed(alone), 'padded as alone');
  assert.not.equal(fixed(unmasked.predict(padded).data), fixed(alone), 'without the mask the padding counts');
  // every query, the padded ones too, gives the padded keys no weight
  const scores = paddedModel.attentionScores(padded, { layer: 1 });
  for (let r = 0; r < scores.size / 8; r++) {
    const row = scores.data.subarray(r * 8, r * 8 + 8);
    assert.ok(row.subarray(5).every((v) => v === 0), `row ${r}: no weight on padded keys`);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${r} sums to 1`);
  }
  const loaded = nn.loadModel(paddedModel.save());
  assert.is(loaded.layers[0].getConfig().maskZero, true);
  sameBits(loaded.predict(padded).data, paddedModel.predict(padded).data, 'loaded');
  for (const m of [aloneModel, paddedModel, unmasked, loaded]) m.dispose();
});

test('bad configs and inputs are typed errors naming the problem', () => {
  const build = (layers: nn.layers.Layer[]) => nn.sequential({ layers }).countParams();
  throwsError(() => L.multiHeadAttention({ numHeads: 0, keyDim: 4 }), nn.ValueError, /numHeads must be a whole number >= 1, got 0/);
  throwsError(() => L.multiHeadAttention({ numHeads: 2, keyDim: 0.5 }), nn.ValueError, /keyDim must be a whole number >= 1/);
  throwsError(() => L.multiHeadAttention({ numHeads: 2, keyDim: 2, dropout: 1 }), nn.ValueError, /dropout must be a number in \[0, 1\)/);
  throwsError(() => build([L.multiHeadAttention({ inputShape: [6], numHeads: 2, keyDim: 2 })]), nn.ShapeError, /sequence \[steps, features\], got an input \[6\]/);
  throwsError(() => build([L.transformerEncoder({ inputShape: [4, 6], intermediateDim: 8, numHeads: 4 })]), nn.ShapeError, /6 features do not split into 4 heads/);
  throwsError(() => L.transformerEncoder({ intermediateDim: 8, numHeads: 2, useCausalMask: true } as never), nn.ValueError, /an encoder lets every position see the whole sequence.*transformerDecoder/);
  throwsError(() => L.transformerDecoder({ intermediateDim: 8, numHeads: 2, useCausalMask: false } as never), nn.ValueError, /causal by design/);
  throwsError(() => L.transformerEncoder({ intermediateDim: 8, numHeads: 2, activation: 'tanh' }), nn.ValueError, /'relu' or 'gelu'/);
  throwsError(() => build([L.positionEmbedding({ inputShape: [9, 4], sequenceLength: 8 })]), nn.ShapeError, /9 steps, longer than the positionEmbedding's sequenceLength 8/);
  throwsError(() => build([L.tokenAndPositionEmbedding({ inputShape: [9], vocabularySize: 5, sequenceLength: 8, embeddingDim: 4 })]), nn.ShapeError, /9 steps, longer than the tokenAndPositionEmbedding's sequenceLength 8/);
  throwsError(() => L.sinePositionEncoding({ maxWavelength: -1 }), nn.ValueError, /maxWavelength must be a finite number > 0/);
  throwsError(() => L.tokenAndPositionEmbedding({ vocabularySize: 5, sequenceLength: 4, embeddingDim: 3, maskZero: 1 as never }), nn.ValueError, /maskZero must be true or false, got 1/);
  // an id out of range: the sample and step named, the model unchanged and still usable
  const m = nn.sequential({ seed: 2, layers: [L.tokenAndPositionEmbedding({ inputShape: [4], vocabularySize: 5, sequenceLength: 4, embeddingDim: 3 })] });
  const before = m.getWeights().map((t) => t.data);
  throwsError(() => m.predict(nn.tensor([0, 1, 2, 3, 4, 0, 5, 1], [2, 4])), nn.ValueError, /sample 1 step 2 holds 5, not a token id .*\[0, 5\)/);
  throwsError(() => m.predict(nn.tensor([0, 1.5, 2, 3], [1, 4])), nn.ValueError, /sample 0 step 1 holds 1.5/);
  assert.equal(m.getWeights().map((t) => t.data), before);
  assert.equal(m.predict(nn.tensor([0, 1, 2, 3], [1, 4])).shape, [1, 4, 3]);
  m.dispose();
});

test.run();
