// Agreement with PyTorch for attention: tests/runtime/fixtures/attention-torch.ts, written by
// scripts/make-attention-fixtures.py (Debian's python3-torch, f64 rounded to f32; its doc says how each case is
// built), holds multi-head self-attention (no mask, causal, padded keys, 2 and 3 heads, keyDim != valueDim) and
// KerasNLP's encoder and decoder blocks (pre-LN and post-LN), each with its weights in Keras's layout and getWeights
// order, the objective J = Σ y·dy, the output y, every weight's gradient and the input's gradient; and the sine
// position encoding in f64.
//
// Each case runs as a model [linear activation, the layer] (the padded case: [embedding with maskZero, the layer]):
// the fixture's weights go in with setWeights, one training pass runs forward, sets dJ/dy = dy and runs backward
// (the gradient check's pass, tests/runtime/gradcheck.ts), and the output, every weight's gradient and the input's
// gradient (the linear layer's output gradient) must agree with PyTorch's: |w_i − t_i| <= 1e-4 · max_j |t_j| per
// tensor (1e-4 relative to the tensor's largest entry; the f32 sums here are ~20 terms, ~1e-6 off). The worst ratio
// is printed as `[report] attention_torch=`. The padded case leaves out the outputs at padded queries (Keras and
// PyTorch define them differently; dy is 0 there, so every gradient is defined the same by both).
//
// PENDING, the padded case only: it starts from embedding({ maskZero }) and needs the padding mask to reach the
// attention, which this branch does not have yet (multiHeadAttention's TODO(padding mask)). While nn.layers has no
// embedding it returns early and prints `[report] attention_torch_padded=pending` (uvu has no skip); remove that
// guard when the mask plumbing lands. Every other case and the fixture's own checks run: sizes, Keras's weight
// order, the masks, the sine convention, and every attention case's output against Keras's formula written here in
// f64 loops on the Keras-layout weights (keras_mha: the convention the layer follows).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { B, CASES, F, SINE, T, type TorchCase } from './fixtures/attention-torch';

const TOL = 1e-4;
/** The sine encoding in f32 against f64: the f32 angle pos·ω (pos <= 15) is off by <= 15·2^-24 ≈ 9e-7, plus rounding. */
const SINE_TOL = 2e-6;

/** f32 little-endian base64 -> Float32Array (atob: Node, Deno, Bun and browsers). */
function f32(b64: string): Float32Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

// ---------------------------------------------------------------------------------------------------------------------
// How each case maps onto wasmnn

/** Keras's weight names of MultiHeadAttention in its getWeights order (prefixed inside a block). */
const MHA_WEIGHTS = ['query/kernel', 'query/bias', 'key/kernel', 'key/bias', 'value/kernel', 'value/bias',
  'attention_output/kernel', 'attention_output/bias'];
const ATTENTION = MHA_WEIGHTS.map((n) => `self_attention_layer/${n}`);
const LN1 = ['self_attention_layer_norm/gamma', 'self_attention_layer_norm/beta'];
const LN2 = ['feedforward_layer_norm/gamma', 'feedforward_layer_norm/beta'];
const FFN = ['feedforward_intermediate_dense/kernel', 'feedforward_intermediate_dense/bias',
  'feedforward_output_dense/kernel', 'feedforward_output_dense/bias'];

/**
 * The getWeights order each wasmnn layer must have: Keras's and KerasNLP's (the order their sub-layers are built),
 * so a Keras model's weights load as they are. The encoder builds its feed-forward norm before the dense layers, the
 * decoder after them.
 */
const WEIGHT_ORDER: Record<TorchCase['layer'], string[]> = {
  multiHeadAttention: MHA_WEIGHTS,
  transformerEncoder: [...ATTENTION, ...LN1, ...LN2, ...FFN],
  transformerDecoder: [...ATTENTION, ...LN1, ...FFN, ...LN2],
};

type Factory = (args: Record<string, unknown>) => nn.layers.Layer;
const factories = nn.layers as unknown as Record<string, Factory | undefined>;

/** The layer of a case, as wasmnn's API spells it (the configs are the fixture's, named as wasmnn's arguments). */
function layerOf(c: TorchCase): nn.layers.Layer {
  const k = c.config;
  switch (c.layer) {
    case 'multiHeadAttention':
      // nn.layers.multiHeadAttention({ numHeads, keyDim, valueDim, useCausalMask }): self-attention on [B, T, F]
      return factories.multiHeadAttention!({ numHeads: k.numHeads, keyDim: k.keyDim, valueDim: k.valueDim, useCausalMask: k.useCausalMask });
    case 'transformerEncoder':
    case 'transformerDecoder':
      // nn.layers.transformerEncoder / transformerDecoder({ intermediateDim, numHeads, activation, layerNormEpsilon,
      // normalizeFirst }); dropout 0 (the default); the decoder's self-attention is causal, no cross-attention
      return factories[c.layer]!({ intermediateDim: k.intermediateDim, numHeads: k.numHeads, activation: k.activation,
        layerNormEpsilon: k.layerNormEpsilon, normalizeFirst: k.normalizeFirst });
  }
}

/** The model of a case: [linear activation (its output gradient is dJ/dx), layer], or [embedding, layer]. */
function modelOf(c: TorchCase): nn.Sequential {
  const first = c.embedding
    ? factories.embedding!({ ...c.embedding, inputShape: [T] })
    : nn.layers.activation({ activation: 'linear', inputShape: [T, F] });
  return nn.sequential({ seed: 7, layers: [first, layerOf(c)] });
}

let pendingCases = 0;
/** True (and the pending report) while the padded case's embedding layer is missing (see the header). */
function pending(c: TorchCase): boolean {
  if (!c.embedding || typeof factories.embedding === 'function') return false;
  console.log('\n[report] attention_torch_padded=pending');
  pendingCases++;
  return true;
}

/** max_i |a_i − e_i| / max_j |e_j| over the compared entries (keep(i)); asserts it is at most TOL. */
function agree(actual: ArrayLike<number>, expected: Float32Array, what: string, keep: (i: number) => boolean = () => true, scaleOf = expected): number {
  assert.is(actual.length, expected.length, `${what}: sizes`);
  let scale = 0;
  for (let i = 0; i < scaleOf.length; i++) if (scaleOf !== expected || keep(i)) scale = Math.max(scale, Math.abs(scaleOf[i]));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    if (!keep(i)) continue;
    const d = Math.abs(actual[i] - expected[i]) / scale;
    if (!(d <= worst)) worst = d; // NaN sticks
  }
  assert.ok(worst <= TOL, `${what}: differs from PyTorch by ${worst.toExponential(2)} of its largest entry (> ${TOL})`);
  return worst;
}

/**
 * One training pass of the case's model with the fixture's weights: forward, dJ/dy = dy, backward. Returns the
 * output, every weight's gradient (getWeights order) and dJ/dx (null for the padded case).
 */
function run(c: TorchCase): { y: Float32Array; grads: Float32Array[]; dx: Float32Array | null } {
  const m = modelOf(c);
  try {
    m.setWeights(c.weights.map((w) => nn.tensor(f32(w.value), w.shape)));
    const net = m.network;
    net.inputGradients = !c.embedding;
    const heap = net.env.heap;
    const plan = net.plan(B, true);
    const input = c.embedding ? Float32Array.from(c.ids!) : f32(c.x!);
    heap.f32.set(input, plan.input >> 2);
    const last = net.layers.length - 1;
    net.forward(plan, B, true, false);
    const y = heap.f32.slice(plan.outputs[last] >> 2, (plan.outputs[last] >> 2) + B * T * F);
    heap.f32.set(f32(c.dy), plan.grads[last] >> 2);
    net.backward(plan, B);
    const grads = net.layers.flatMap((l) => l.params.map((p) => heap.f32.slice(p.grad >> 2, (p.grad >> 2) + p.size)));
    assert.is(grads.length, c.weights.length, `${c.layer}: one gradient per weight`);
    const dx = c.embedding ? null : heap.f32.slice(plan.grads[0] >> 2, (plan.grads[0] >> 2) + B * T * F);
    return { y, grads, dx };
  } finally {
    m.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------------------
const fixture = suite('attention vs PyTorch: the fixture');

fixture('every tensor decodes to its shape; weights in Keras getWeights order', () => {
  for (const [name, c] of Object.entries(CASES)) {
    const order = [...(c.embedding ? ['embedding/embeddings'] : []), ...WEIGHT_ORDER[c.layer]];
    assert.equal(c.weights.map((w) => w.name), order, `${name}: weight names and order`);
    for (const w of c.weights) {
      assert.is(f32(w.value).length, size(w.shape), `${name} ${w.name}: value`);
      assert.is(f32(w.grad).length, size(w.shape), `${name} ${w.name}: gradient`);
      // the key bias's gradient is exactly 0 (see below), stored as such; every other gradient is not
      const zero = f32(w.grad).every((g) => g === 0);
      const vanishes = w.name.endsWith('key/bias');
      assert.is(zero, vanishes, `${name} ${w.name}: ${vanishes ? 'exactly 0' : 'not all zeros'}`);
    }
    for (const [what, t] of [['y', c.y], ['dy', c.dy], ['x', c.x], ['dx', c.dx]] as const) {
      if (t !== null) assert.is(f32(t).length, B * T * F, `${name}: ${what}`);
    }
    assert.is(c.x === null, !!c.embedding, `${name}: x unless the case starts from ids`);
  }
});

fixture('the padded case: sample 2 ends in two padding ids, dy is 0 at the uncompared outputs, row 0 gets no gradient', () => {
  const padded = Object.values(CASES).filter((c) => c.embedding);
  assert.is(padded.length, 1);
  const c = padded[0];
  assert.is(c.ids!.length, B * T);
  assert.equal(c.ids!.slice(T + 3), [0, 0]);
  assert.ok(c.ids!.slice(0, T + 3).every((id) => id > 0), 'no other padding');
  assert.equal(c.outputMask, c.ids!.map((id) => +(id !== 0)));
  const dy = f32(c.dy);
  c.outputMask!.forEach((keep, p) => {
    if (!keep) assert.ok(dy.subarray(p * F, (p + 1) * F).every((v) => v === 0), `dy at padded position ${p}`);
  });
  // a padded position's output reaches J through dy only, and as a key it is masked: the padding row's gradient is 0
  const table = c.weights.find((w) => w.name === 'embedding/embeddings')!;
  assert.ok(f32(table.grad).subarray(0, F).every((g) => g === 0), 'the padding id\'s embedding row');
});

fixture('the sine encoding is PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(…), interleaved', () => {
  const { steps, dim, encoding } = SINE;
  assert.is(encoding.length, steps * dim);
  for (let pos = 0; pos < steps; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / Math.pow(10000, (2 * Math.floor(j / 2)) / dim);
      const want = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
      assert.ok(Math.abs(encoding[pos * dim + j] - want) <= 1e-15, `PE[${pos}, ${j}]`);
    }
  }
});

/**
 * Keras's MultiHeadAttention in f64, plain loops, from the Keras-layout weights: the convention the layers must follow
 * (q scaled by 1/√keyDim, masked keys left out of the softmax). x [B, T, F]; allowed(b, i, j): may query i see key j.
 */
function keras_mha(x: Float64Array, w: Float32Array[], heads: number, dk: number, dv: number,
  allowed: (b: number, i: number, j: number) => boolean): Float64Array {
  const [wq, bq, wk, bk, wv, bv, wo, bo] = w;
  const proj = (k: Float32Array, bias: Float32Array, d: number) => { // [B, T, H, d]
    const out = new Float64Array(B * T * heads * d);
    for (let p = 0; p < B * T; p++) {
      for (let hd = 0; hd < heads * d; hd++) {
        let s = bias[hd];
        for (let f = 0; f < F; f++) s += x[p * F + f] * k[f * heads * d + hd];
        out[p * heads * d + hd] = s;
      }
    }
    return out;
  };
  const q = proj(wq, bq, dk), k = proj(wk, bk, dk), v = proj(wv, bv, dv);
  const y = new Float64Array(B * T * F);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      for (let f = 0; f < F; f++) y[(b * T + i) * F + f] = bo[f];
      for (let h = 0; h < heads; h++) {
        const scores = Array.from({ length: T }, (_, j) => {
          if (!allowed(b, i, j)) return -Infinity;
          let s = 0;
          for (let d = 0; d < dk; d++) s += q[((b * T + i) * heads + h) * dk + d] * k[((b * T + j) * heads + h) * dk + d];
          return s / Math.sqrt(dk);
        });
        const top = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - top));
        const sum = e.reduce((a, c) => a + c, 0);
        for (let d = 0; d < dv; d++) {
          let o = 0;
          for (let j = 0; j < T; j++) o += (e[j] / sum) * v[((b * T + j) * heads + h) * dv + d];
          for (let f = 0; f < F; f++) y[(b * T + i) * F + f] += o * wo[(h * dv + d) * F + f];
        }
      }
    }
  }
  return y;
}

fixture('the attention outputs follow Keras\'s formula on the Keras-layout weights (f64 loops written here)', () => {
  for (const [name, c] of Object.entries(CASES)) {
    if (c.layer !== 'multiHeadAttention') continue;
    const { numHeads, keyDim, valueDim, useCausalMask } = c.config as { numHeads: number; keyDim: number; valueDim: number; useCausalMask: boolean };
    const w = c.weights.map((t) => f32(t.value));
    let x: Float64Array;
    if (c.embedding) { // x = the embedding table's rows of the ids
      const table = w.shift()!;
      x = new Float64Array(B * T * F);
      c.ids!.forEach((id, p) => x.set(table.subarray(id * F, (id + 1) * F), p * F));
    } else {
      x = Float64Array.from(f32(c.x!));
    }
    const keep = (b: number, j: number) => !c.outputMask || c.outputMask[b * T + j] === 1;
    const y = keras_mha(x, w, numHeads, keyDim, valueDim, (b, i, j) => keep(b, j) && (!useCausalMask || j <= i));
    const want = f32(c.y);
    const scale = maxAbs(want);
    for (let i = 0; i < y.length; i++) {
      if (!keep(Math.floor(i / (T * F)), Math.floor(i / F) % T)) continue;
      // the fixture is the f64 answer rounded to f32: half an ulp of it
      assert.ok(Math.abs(y[i] - want[i]) <= 1e-6 * scale, `${name}: y[${i}] ${y[i]} vs the fixture's ${want[i]}`);
    }
  }
});

fixture.run();

// ---------------------------------------------------------------------------------------------------------------------
const agreement = suite('attention vs PyTorch: outputs and gradients');
let worst = 0;
let ran = 0;

for (const [name, c] of Object.entries(CASES)) {
  agreement(`${name}: ${c.layer} ${JSON.stringify(c.config)} (${c.reference})`, async () => {
    if (pending(c)) return; // PENDING until the padding mask lands (see the header)
    await nn.ready();
    const m = modelOf(c);
    try {
      // the wasmnn layer lists its weights in Keras's order and shapes (setWeights below relies on it)
      assert.equal(m.getWeights().map((t) => t.shape), c.weights.map((w) => w.shape), `${name}: getWeights shapes`);
    } finally {
      m.dispose();
    }
    const { y, grads, dx } = run(c);
    const keep = c.outputMask ? (i: number) => c.outputMask![Math.floor(i / F)] === 1 : undefined;
    worst = Math.max(worst, agree(y, f32(c.y), `${name}: output`, keep));
    c.weights.forEach((w, i) => {
      // the key bias's gradient is 0 by an identity (q·(k + b) shifts a row's scores by q·b; softmax ignores a
      // shift): the fixture stores that exact 0, so it is measured against the key kernel's gradient instead
      const scaleOf = w.name.endsWith('key/bias') ? f32(c.weights.find((k) => k.name === w.name.replace(/bias$/, 'kernel'))!.grad) : undefined;
      worst = Math.max(worst, agree(grads[i], f32(w.grad), `${name}: ${w.name}'s gradient`, undefined, scaleOf));
    });
    if (dx) worst = Math.max(worst, agree(dx, f32(c.dx!), `${name}: the input's gradient`));
    ran++;
  });
}

agreement('sinePositionEncoding adds PE to its input, against the f64 formula', async () => {
  await nn.ready();
  const { steps, dim, encoding } = SINE;
  const m = nn.sequential({ layers: [nn.layers.sinePositionEncoding({ inputShape: [steps, dim] })] });
  try {
    assert.is(m.getWeights().length, 0, 'no weights');
    const x = new Float32Array(2 * steps * dim).map((_, i) => ((i * 37) % 19) / 19 - 0.5);
    const y = m.predict(nn.tensor(x, [2, steps, dim])).data;
    for (let i = 0; i < y.length; i++) {
      const want = x[i] + encoding[i % (steps * dim)];
      assert.ok(Math.abs(y[i] - want) <= SINE_TOL, `sample ${Math.floor(i / (steps * dim))} PE[${Math.floor(i / dim) % steps}, ${i % dim}]: ${y[i]} vs ${want}`);
    }
  } finally {
    m.dispose();
  }
});

agreement('report', () => {
  assert.is(ran + pendingCases, Object.keys(CASES).length, 'every case ran');
  assert.ok(ran >= Object.keys(CASES).length - 1, 'only the padded case may be pending');
  console.log(`\n[report] attention_torch=${worst.toExponential(2)}`);
});

agreement.run();
