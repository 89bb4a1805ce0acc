// Multi-head scaled dot-product attention over the whole batch and every head in one call: the forward pass, its
// backward pass beside it, the KV-cache step for generation, and the sinusoidal position encoding.
//
// Layouts (row-major f32). The projections are GEMMs over all positions, [B*T, features] x [features, H*dk] with
// Keras's query/key/value kernels [features, H, dk], so they come out as:
//   q [B, T, H, dk]   k [B, T, H, dk]   v [B, T, H, dv]   out [B, T, H, dv] (the output projection's input)
//   head h of position t is the contiguous run at ((b*T + t)*H + h)*dk; consecutive positions are H*dk apart.
//   probs [B, H, T, T]  the attention probabilities softmax(q·kᵀ / sqrt(dk)), kept for backward and for reading the
//                       scores: causal rows are 0 right of the diagonal, a row whose keys are all padding is all 0.
//   mask [B, T]         padding mask over the keys, 1 keep / 0 pad: padded keys get no weight. Queries are not
//                       masked (a padded position still attends to its sample's real keys; its output is ignored
//                       downstream through the same mask), and a row with no key left gives 0, not NaN.
//   drop [B, H, T, T]   inverted dropout on the probabilities (rng_dropout_mask: 0 or 1/(1 - rate)); probs stays
//                       the undropped softmax, out uses probs ⊙ drop.
//
// The attention block: ATT_LEN i32 at `att` (small fields instead of a dozen positional arguments):
//   0 B, 1 T, 2 H, 3 DK, 4 DV      sizes; for attention_step T is the cache's capacity Tmax
//   5 CAUSAL                       1: query t sees keys t2 <= t (the loop bound, no -inf matrix)
//   6 MASK, 7 DROP                 pointers to mask and drop, 0 for none (attention_step takes no dropout)
//   8 PROBS                        pointer to probs ([B, H, Tmax] for attention_step: the new position's row)
//   9 POS                          attention_step: the new token's position t (keys 0..t are attended)
//
// Every score row is computed by one routine (attendRow) whether it comes from the full forward or from the KV-cache
// step, and each dot product folds its lanes in one fixed order, so a generated token's attention has the same bits
// as the last row of the full forward over the same window.

import { vmath } from "./vmath";
import { softmax_forward, softmax_backward } from "./activations";

export const ATT_B: i32 = 0;
export const ATT_T: i32 = 1;
export const ATT_H: i32 = 2;
export const ATT_DK: i32 = 3;
export const ATT_DV: i32 = 4;
export const ATT_CAUSAL: i32 = 5;
export const ATT_MASK: i32 = 6;
export const ATT_DROP: i32 = 7;
export const ATT_PROBS: i32 = 8;
export const ATT_POS: i32 = 9;
/** Number of i32 in the attention block. */
export const ATT_LEN: i32 = 10;
/** Longest sequence the backward pass takes (its row of dP lives in static data: 32 KB). */
export const ATT_MAX_T: i32 = 8192;

const dpRow: usize = memory.data(ATT_MAX_T * 4, 16);

@inline function field(att: usize, i: i32): i32 {
  return load<i32>(att + (<usize>i << 2));
}

@inline function ptr(att: usize, i: i32): usize {
  return <usize>load<u32>(att + (<usize>i << 2));
}

// ---- dot products: lanes folded as (l0 + l2) + (l1 + l3), the same for one key or four ----

@inline function fold(s: v128): f32 {
  return (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 2)) + (f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 3));
}

/** [fold(a0), fold(a1), fold(a2), fold(a3)], the same additions in the same order, as one vector. */
@inline function fold4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const u = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
  const w = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(u, w, 0, 1, 4, 5), v128.shuffle<f32>(u, w, 2, 3, 6, 7));
}

/** a · b over n floats. */
@inline function dot1(a: usize, b: usize, n: i32): f32 {
  let s = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    s = f32x4.add(s, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  if (i < n) {
    const o = <usize>i << 2;
    s = f32x4.add(s, f32x4.mul(vmath.loadPartial(a + o, n - i), vmath.loadPartial(b + o, n - i)));
  }
  return fold(s);
}

/** [a · b0, a · b1, a · b2, a · b3] over n floats, where b_j = b + j * stride (bytes): four keys at a time. */
@inline function dot4(a: usize, b: usize, stride: usize, n: i32): v128 {
  const b1 = b + stride, b2 = b1 + stride, b3 = b2 + stride;
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const av = v128.load(a + o);
    s0 = f32x4.add(s0, f32x4.mul(av, v128.load(b + o)));
    s1 = f32x4.add(s1, f32x4.mul(av, v128.load(b1 + o)));
    s2 = f32x4.add(s2, f32x4.mul(av, v128.load(b2 + o)));
    s3 = f32x4.add(s3, f32x4.mul(av, v128.load(b3 + o)));
  }
  if (i < n) {
    const o = <usize>i << 2;
    const m = n - i;
    const av = vmath.loadPartial(a + o, m);
    s0 = f32x4.add(s0, f32x4.mul(av, vmath.loadPartial(b + o, m)));
    s1 = f32x4.add(s1, f32x4.mul(av, vmath.loadPartial(b1 + o, m)));
    s2 = f32x4.add(s2, f32x4.mul(av, vmath.loadPartial(b2 + o, m)));
    s3 = f32x4.add(s3, f32x4.mul(av, vmath.loadPartial(b3 + o, m)));
  }
  return fold4(s0, s1, s2, s3);
}

/** row[t2] = scale · (a · b_t2) for t2 in [0, n), b_t2 = b + t2 * stride (bytes). */
@inline function dotRows(a: usize, b: usize, stride: usize, n: i32, dim: i32, scale: f32, row: usize): void {
  const sv = f32x4.splat(scale);
  let t2 = 0;
  for (; t2 + 4 <= n; t2 += 4) {
    v128.store(row + (<usize>t2 << 2), f32x4.mul(dot4(a, b + <usize>t2 * stride, stride, dim), sv));
  }
  for (; t2 < n; t2++) store<f32>(row + (<usize>t2 << 2), dot1(a, b + <usize>t2 * stride, dim) * scale);
}

// ---- weighted sums of rows: y = Σ_t2 w[t2] · x_t2, x_t2 = x + t2 * stride (bytes), over dim floats ----

/** w[t2] (times drop[t2] when drop != 0): the weight a row gets. */
@inline function weight(w: usize, drop: usize, t2: i32): f32 {
  const o = <usize>t2 << 2;
  return drop ? load<f32>(w + o) * load<f32>(drop + o) : load<f32>(w + o);
}

/** y (dim) = Σ_{t2 < n} weight(t2) · x_t2, summed in t2 order in every lane; written, not accumulated. */
@inline function weightedSum(w: usize, drop: usize, x: usize, stride: usize, n: i32, dim: i32, y: usize): void {
  let j = 0;
  for (; j + 16 <= dim; j += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let xp = x + (<usize>j << 2);
    for (let t2 = 0; t2 < n; t2++, xp += stride) {
      const wv = f32x4.splat(weight(w, drop, t2));
      a0 = f32x4.add(a0, f32x4.mul(wv, v128.load(xp)));
      a1 = f32x4.add(a1, f32x4.mul(wv, v128.load(xp, 16)));
      a2 = f32x4.add(a2, f32x4.mul(wv, v128.load(xp, 32)));
      a3 = f32x4.add(a3, f32x4.mul(wv, v128.load(xp, 48)));
    }
    const yp = y + (<usize>j << 2);
    v128.store(yp, a0); v128.store(yp, a1, 16); v128.store(yp, a2, 32); v128.store(yp, a3, 48);
  }
  for (; j < dim; j += 4) {
    const m = min(4, dim - j);
    let a = f32x4.splat(0);
    let xp = x + (<usize>j << 2);
    for (let t2 = 0; t2 < n; t2++, xp += stride) {
      const xv = m == 4 ? v128.load(xp) : vmath.loadPartial(xp, m);
      a = f32x4.add(a, f32x4.mul(f32x4.splat(weight(w, drop, t2)), xv));
    }
    const yp = y + (<usize>j << 2);
    if (m == 4) v128.store(yp, a);
    else vmath.storePartial(yp, a, m);
  }
}

/** y (dim) += c · x: one row of a gradient that many rows add into. */
@inline function axpy(c: f32, x: usize, y: usize, dim: i32): void {
  const cv = f32x4.splat(c);
  let j = 0;
  for (; j + 4 <= dim; j += 4) {
    const o = <usize>j << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(cv, v128.load(x + o))));
  }
  if (j < dim) {
    const o = <usize>j << 2;
    const m = dim - j;
    vmath.storePartial(y + o, f32x4.add(vmath.loadPartial(y + o, m), f32x4.mul(cv, vmath.loadPartial(x + o, m))), m);
  }
}

/** 1 if any of mask[0..n) is nonzero (some key is left to attend to). */
@inline function anyKept(mask: usize, n: i32): bool {
  for (let i = 0; i < n; i++) if (load<f32>(mask + (<usize>i << 2)) != 0) return true;
  return false;
}

// ---- forward ----

/**
 * One query's attention over keys 0..n-1 (n >= 1), the row both the forward pass and the KV-cache step compute:
 * row (rowLen) = softmax(scale · q · k_t2ᵀ) with padded keys at 0 and 0 from n on; out (dv) = Σ row ⊙ drop · v_t2.
 * q is dk floats; k_t2 = k + t2 * kStride, v_t2 = v + t2 * vStride (bytes); mask and drop cover the row or are 0.
 */
@inline function attendRow(
  q: usize, k: usize, kStride: usize, v: usize, vStride: usize, dk: i32, dv: i32, scale: f32,
  n: i32, rowLen: i32, mask: usize, drop: usize, row: usize, out: usize,
): void {
  if (mask && !anyKept(mask, n)) {
    memory.fill(row, 0, <usize>rowLen << 2);
    memory.fill(out, 0, <usize>dv << 2);
    return;
  }
  dotRows(q, k, kStride, n, dk, scale, row);
  if (mask) {
    // -Inf scores vanish in the softmax (e^-Inf = 0) and never win its max while a real key is left.
    for (let t2 = 0; t2 < n; t2++) {
      const o = <usize>t2 << 2;
      if (load<f32>(mask + o) == 0) store<f32>(row + o, -Infinity);
    }
  }
  softmax_forward(row, row, 1, n);
  if (n < rowLen) memory.fill(row + (<usize>n << 2), 0, <usize>(rowLen - n) << 2);
  weightedSum(row, drop, v, vStride, n, dv, out);
}

/**
 * Attention forward. q, k [B, T, H, dk], v [B, T, H, dv] in; out [B, T, H, dv] and probs [B, H, T, T] (the block's
 * PROBS) written. Optional causal bound, padding mask and dropout as the block says (see the top of the file).
 */
export function attention_forward(q: usize, k: usize, v: usize, out: usize, att: usize): void {
  const B = field(att, ATT_B), T = field(att, ATT_T), H = field(att, ATT_H);
  const dk = field(att, ATT_DK), dv = field(att, ATT_DV), causal = field(att, ATT_CAUSAL);
  const mask = ptr(att, ATT_MASK), drop = ptr(att, ATT_DROP), probs = ptr(att, ATT_PROBS);
  const scale: f32 = 1 / Mathf.sqrt(<f32>dk);
  const kStride = <usize>(H * dk) << 2, vStride = <usize>(H * dv) << 2;
  for (let b = 0; b < B; b++) {
    const maskB = mask ? mask + (<usize>(b * T) << 2) : 0;
    for (let h = 0; h < H; h++) {
      const kbh = k + (<usize>(b * T * H + h) * dk << 2); // key 0 of head h in sample b
      const vbh = v + (<usize>(b * T * H + h) * dv << 2);
      for (let t = 0; t < T; t++) {
        const rowAt = (<usize>(b * H + h) * T + t) * T; // probs[b, h, t, 0]
        attendRow(
          q + (<usize>((b * T + t) * H + h) * dk << 2), kbh, kStride, vbh, vStride, dk, dv, scale,
          causal ? t + 1 : T, T, maskB, drop ? drop + (rowAt << 2) : 0, probs + (rowAt << 2),
          out + (<usize>((b * T + t) * H + h) * dv << 2),
        );
      }
    }
  }
}

/**
 * Attention backward through the stored probs: dout [B, T, H, dv] in; dq, dk [B, T, H, dk] and dv [B, T, H, dv]
 * WRITTEN (not accumulated). The block, q, k, v, probs and drop are the forward's. Per query row t, with
 * P = probs[b, h, t, :] and D = drop's row (1 without dropout):
 *   dP[t2] = (dout_t · v_t2) D[t2]        dv_t2 += P[t2] D[t2] dout_t
 *   dS = P ⊙ (dP - Σ dP ⊙ P)              (softmax's backward, fused through softmax_backward on the row)
 *   dq_t = scale Σ dS[t2] k_t2            dk_t2 += scale dS[t2] q_t
 * Padded keys and causal zeros have P = 0 and so get nothing. T <= ATT_MAX_T.
 */
export function attention_backward(
  q: usize, k: usize, v: usize, dout: usize, dq: usize, dk: usize, dv: usize, att: usize,
): void {
  const B = field(att, ATT_B), T = field(att, ATT_T), H = field(att, ATT_H);
  const dK = field(att, ATT_DK), dV = field(att, ATT_DV), causal = field(att, ATT_CAUSAL);
  const drop = ptr(att, ATT_DROP), probs = ptr(att, ATT_PROBS);
  if (T > ATT_MAX_T) unreachable();
  const scale: f32 = 1 / Mathf.sqrt(<f32>dK);
  const kStride = <usize>(H * dK) << 2, vStride = <usize>(H * dV) << 2;
  memory.fill(dk, 0, <usize>B * T * H * dK << 2);
  memory.fill(dv, 0, <usize>B * T * H * dV << 2);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kbh = k + (<usize>(b * T * H + h) * dK << 2), dkbh = dk + (<usize>(b * T * H + h) * dK << 2);
      const vbh = v + (<usize>(b * T * H + h) * dV << 2), dvbh = dv + (<usize>(b * T * H + h) * dV << 2);
      for (let t = 0; t < T; t++) {
        const n = causal ? t + 1 : T;
        const rowAt = (<usize>(b * H + h) * T + t) * T;
        const p = probs + (rowAt << 2), d = drop ? drop + (rowAt << 2) : 0;
        const qt = q + (<usize>((b * T + t) * H + h) * dK << 2);
        const dot = dout + (<usize>((b * T + t) * H + h) * dV << 2);
        // dP and dv
        dotRows(dot, vbh, vStride, n, dV, 1, dpRow);
        for (let t2 = 0; t2 < n; t2++) {
          const o = <usize>t2 << 2;
          if (d) store<f32>(dpRow + o, load<f32>(dpRow + o) * load<f32>(d + o));
          axpy(weight(p, d, t2), dot, dvbh + <usize>t2 * vStride, dV);
        }
        // dS, scaled once here for both dq and dk
        softmax_backward(p, dpRow, dpRow, 1, n);
        const sv = f32x4.splat(scale);
        let t2 = 0;
        for (; t2 + 4 <= n; t2 += 4) {
          const o = <usize>t2 << 2;
          v128.store(dpRow + o, f32x4.mul(v128.load(dpRow + o), sv));
        }
        for (; t2 < n; t2++) store<f32>(dpRow + (<usize>t2 << 2), load<f32>(dpRow + (<usize>t2 << 2)) * scale);
        weightedSum(dpRow, 0, kbh, kStride, n, dK, dq + (<usize>((b * T + t) * H + h) * dK << 2));
        for (t2 = 0; t2 < n; t2++) axpy(load<f32>(dpRow + (<usize>t2 << 2)), qt, dkbh + <usize>t2 * kStride, dK);
      }
    }
  }
}

// ---- generation ----

/**
 * One new position against the KV cache, so a generated token costs one position's work. The caches are
 * kCache [B, Tmax, H, dk] and vCache [B, Tmax, H, dv]: the forward's own layout, so a prompt's k and v (the
 * projections of [B, T, features]) fill rows 0..T-1 with one copy per sample. With t = the block's POS:
 * kNew [B, H, dk] and vNew [B, H, dv] (the new position's projections) are written into row t of the caches, then
 * q [B, H, dk] attends to keys 0..t: out [B, H, dv], probs [B, H, Tmax] (0 from t+1 on), T in the block is Tmax,
 * mask [B, Tmax] optional. Each (b, h) row is computed as attention_forward computes row t of a causal pass, so the
 * two agree bit for bit.
 */
export function attention_step(
  q: usize, kNew: usize, vNew: usize, kCache: usize, vCache: usize, out: usize, att: usize,
): void {
  const B = field(att, ATT_B), Tmax = field(att, ATT_T), H = field(att, ATT_H);
  const dk = field(att, ATT_DK), dv = field(att, ATT_DV), t = field(att, ATT_POS);
  const mask = ptr(att, ATT_MASK), probs = ptr(att, ATT_PROBS);
  const scale: f32 = 1 / Mathf.sqrt(<f32>dk);
  const kStride = <usize>(H * dk) << 2, vStride = <usize>(H * dv) << 2;
  for (let b = 0; b < B; b++) {
    memory.copy(kCache + <usize>(b * Tmax + t) * kStride, kNew + <usize>b * kStride, kStride);
    memory.copy(vCache + <usize>(b * Tmax + t) * vStride, vNew + <usize>b * vStride, vStride);
    for (let h = 0; h < H; h++) {
      attendRow(
        q + (<usize>(b * H + h) * dk << 2), kCache + (<usize>(b * Tmax * H + h) * dk << 2), kStride,
        vCache + (<usize>(b * Tmax * H + h) * dv << 2), vStride, dk, dv, scale, t + 1, Tmax,
        mask ? mask + (<usize>(b * Tmax) << 2) : 0, 0, probs + (<usize>((b * H + h) * Tmax) << 2),
        out + (<usize>(b * H + h) * dv << 2),
      );
    }
  }
}

// ---- sinusoidal position encoding ----

/**
 * y = x + PE for x, y [B, T, d] (y may be x), positions start..start+T-1:
 *   PE(pos, 2i) = sin(pos / maxWavelength^(2i/d)),  PE(pos, 2i+1) = cos(pos / maxWavelength^(2i/d))
 * (Keras's SinePositionEncoding; maxWavelength is 10000 there). The angle, sin and cos are f64 (AssemblyScript's
 * Math, compiled into the module: the same bits everywhere), rounded to f32 once. Its gradient is the identity.
 */
export function position_encoding_add(x: usize, y: usize, B: i32, T: i32, d: i32, start: i32, maxWavelength: f32): void {
  const logW = Math.log(<f64>maxWavelength);
  const rowBytes = <usize>d << 2, sampleBytes = <usize>T * rowBytes;
  for (let j = 0; j < d; j++) {
    const rate = Math.exp(-logW * <f64>(j & ~1) / <f64>d);
    for (let t = 0; t < T; t++) {
      const angle = <f64>(start + t) * rate;
      const pe = <f32>(j & 1 ? Math.cos(angle) : Math.sin(angle));
      let o = <usize>t * rowBytes + (<usize>j << 2);
      for (let b = 0; b < B; b++, o += sampleBytes) store<f32>(y + o, load<f32>(x + o) + pe);
    }
  }
}
