// Multi-head scaled dot-product attention over the whole batch and every head in one call: the forward pass, its
// backward pass beside it, the KV cache for generation, and the sinusoidal position encoding.
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
//   scratch [ATT_ROWS, T]  workspace of the backward pass, and of the forward pass with dropout.
//
// The attention block: ATT_LEN i32 at `att` (small fields instead of a dozen positional arguments):
//   0 B, 1 T, 2 H, 3 DK, 4 DV      sizes (T: the window; the cache kernels' new positions)
//   5 CAUSAL                       1: query t sees keys t2 <= t (a loop bound: no -inf matrix; a block of rows
//                                  multiplies only the keys its last row sees)
//   6 MASK, 7 DROP                 pointers to mask and drop, 0 for none (the cache kernels take no dropout)
//   8 PROBS, 9 SCRATCH             pointers (probs is [B, H, TMAX] for attention_step: the new position's row)
//   10 TMAX, 11 POS                the cache kernels: the caches' capacity and the first position written
//                                  (POS + T <= TMAX for attention_cache_fill, POS < TMAX for attention_step)
//
// Per (b, h), the products are the module's packed GEMMs (matmul.gemmStrided, which reads the heads in place through
// their strides), on blocks of ATT_ROWS query rows, so that a causal pass multiplies only the keys a block can see:
//   forward   S = q kᵀ (block rows x visible keys), P = softmax(scale S) row by row, out = P v
//   backward  dv += Pᵀ dout, dP = dout vᵀ, dS = P ⊙ (dP - rowsum(dP ⊙ P)) scale, dq = dS k, dk += dSᵀ q
// Measured against direct SIMD loops (dot products over dk in v128 lanes, 4 keys at a time; weighted sums over dv;
// dk and dv gradients added row by row), B=12, H=4, dk=dv=32, causal, ms per call in Node on a shared 2-core
// machine, the two alternating in one run (direct / GEMM): forward 1.22 / 1.41 at T=64, 13.6 / 11.7 at T=256;
// backward 2.70 / 2.05 at T=64, 26.2 / 14.3 at T=256; at T=512 (another run) forward 50 / 45, backward 122 / 60.
// The GEMMs keep the dk and dv sums in registers: the causal backward at T=256 is 4 x 57 M multiply-adds in 14.3 ms,
// about 32 GFLOPS, the module's GEMM speed.
//
// Generation: the KV cache holds k transposed, kCache [B, H, dk, TMAX], and v as the forward has it,
// vCache [B, TMAX, H, dv]. A new position's scores are then a row vector times kCache, SIMD across keys and summed
// over dk in the GEMM's order, so the step's row has the same bits as the full causal forward's row (the tokens
// generated with the cache are the tokens of re-running the window).

import { vmath } from "./vmath";
import { matmul } from "./matmul";
import { softmax_forward, softmax_backward } from "./activations";
import { vec_add, vec_mul, vec_scale } from "./vector";
import { at } from "./geometry";

export const ATT_B = 0;
export const ATT_T = 1;
export const ATT_H = 2;
export const ATT_DK = 3;
export const ATT_DV = 4;
export const ATT_CAUSAL = 5;
export const ATT_MASK = 6;
export const ATT_DROP = 7;
export const ATT_PROBS = 8;
export const ATT_SCRATCH = 9;
export const ATT_TMAX = 10;
export const ATT_POS = 11;
/** Number of i32 in the attention block. */
export const ATT_LEN = 12;
/** Query rows per block: the scratch is [ATT_ROWS, T] floats. */
export const ATT_ROWS = 32;

@inline function field(att: usize, i: i32): i32 {
  return load<i32>(att + (<usize>i << 2));
}

@inline function ptr(att: usize, i: i32): usize {
  return <usize>load<u32>(att + (<usize>i << 2));
}

/**
 * A row of raw scores (q · k for keys 0..n-1, n >= 1) in place into probabilities over rowLen: scaled, padded keys
 * out, softmax, 0 from n on; all 0 when the mask leaves no key. The forward pass and the KV-cache step share it.
 */
function softmaxRow(row: usize, n: i32, rowLen: i32, scale: f32, mask: usize): void {
  let kept = true;
  if (mask) {
    kept = false;
    // -Inf scores vanish in the softmax (e^-Inf = 0) and never win its max while a real key is left.
    for (let t2 = 0; t2 < n; t2++) {
      if (load<f32>(at(mask, t2)) == 0) store<f32>(at(row, t2), -Infinity);
      else kept = true;
    }
  }
  if (kept) {
    vec_scale(row, n, scale);
    softmax_forward(row, row, 1, n);
  } else {
    memory.fill(row, 0, <usize>n << 2);
  }
  if (n < rowLen) memory.fill(at(row, n), 0, <usize>(rowLen - n) << 2);
}

// ---- forward and backward ----

/**
 * Attention forward. q, k [B, T, H, dk], v [B, T, H, dv] in; out [B, T, H, dv] and probs [B, H, T, T] written.
 * Causal bound, padding mask and dropout as the block says (dropout needs the block's scratch).
 */
export function attention_forward(q: usize, k: usize, v: usize, out: usize, att: usize): void {
  const B = field(att, ATT_B), T = field(att, ATT_T), H = field(att, ATT_H);
  const dk = field(att, ATT_DK), dv = field(att, ATT_DV), causal = field(att, ATT_CAUSAL);
  const mask = ptr(att, ATT_MASK), drop = ptr(att, ATT_DROP), probs = ptr(att, ATT_PROBS);
  const scratch = ptr(att, ATT_SCRATCH);
  const scale: f32 = 1 / Mathf.sqrt(<f32>dk);
  const ldk = H * dk, ldv = H * dv; // floats between consecutive positions
  for (let b = 0; b < B; b++) {
    const maskB = mask ? at(mask, b * T) : 0;
    for (let h = 0; h < H; h++) {
      const kbh = at(k, b * T * ldk + h * dk); // key 0 of head h in sample b: [T, dk] with row stride ldk
      const vbh = at(v, b * T * ldv + h * dv);
      const bh = (b * H + h) * T * T; // probs[b, h, 0, 0]
      for (let i0 = 0; i0 < T; i0 += ATT_ROWS) {
        const i1 = min(T, i0 + ATT_ROWS), rows = i1 - i0;
        const n = causal ? i1 : T; // keys any row of the block sees
        const p = at(probs, bh + i0 * T); // [rows, T]
        // S (rows, n) = q_block (rows, dk) · k (n, dk)ᵀ, straight into probs
        matmul.gemmStrided(at(q, (b * T + i0) * ldk + h * dk), ldk, 1, kbh, 1, ldk, p, T, rows, dk, n, 0);
        for (let t = i0; t < i1; t++) softmaxRow(at(p, (t - i0) * T), causal ? t + 1 : T, T, scale, maskB);
        // out_block (rows, dv) = (P ⊙ drop) (rows, n) · v (n, dv)
        let w = p;
        if (drop) {
          for (let r = 0; r < rows; r++) vec_mul(at(p, r * T), at(drop, bh + (i0 + r) * T), at(scratch, r * T), n);
          w = scratch;
        }
        matmul.gemmStrided(w, T, 1, vbh, ldv, 1, at(out, (b * T + i0) * ldv + h * dv), ldv, rows, n, dv, 0);
      }
    }
  }
}

/**
 * Attention backward through the stored probs: dout [B, T, H, dv] in; dq, dk [B, T, H, dk] and dv [B, T, H, dv]
 * WRITTEN (not accumulated). The block, q, k, v, probs and drop are the forward's; the scratch is needed. With
 * P = probs, D = drop (1 without dropout), per (b, h):
 *   dv = (P ⊙ D)ᵀ dout    dP = (dout vᵀ) ⊙ D    dS = P ⊙ (dP - rowsum(dP ⊙ P)) · scale (softmax_backward per row)
 *   dq = dS k             dk = dSᵀ q
 * Padded keys and causal zeros have P = 0 and so get nothing.
 */
export function attention_backward(
  q: usize, k: usize, v: usize, dout: usize, dq: usize, dk: usize, dv: usize, att: usize,
): void {
  const B = field(att, ATT_B), T = field(att, ATT_T), H = field(att, ATT_H);
  const dK = field(att, ATT_DK), dV = field(att, ATT_DV), causal = field(att, ATT_CAUSAL);
  const drop = ptr(att, ATT_DROP), probs = ptr(att, ATT_PROBS), scratch = ptr(att, ATT_SCRATCH);
  const scale: f32 = 1 / Mathf.sqrt(<f32>dK);
  const ldk = H * dK, ldv = H * dV;
  memory.fill(dk, 0, <usize>B * T * ldk << 2);
  memory.fill(dv, 0, <usize>B * T * ldv << 2);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kbh = at(k, b * T * ldk + h * dK), dkbh = at(dk, b * T * ldk + h * dK);
      const vbh = at(v, b * T * ldv + h * dV), dvbh = at(dv, b * T * ldv + h * dV);
      const bh = (b * H + h) * T * T;
      for (let i0 = 0; i0 < T; i0 += ATT_ROWS) {
        const i1 = min(T, i0 + ATT_ROWS), rows = i1 - i0;
        const n = causal ? i1 : T;
        const p = at(probs, bh + i0 * T);
        const d = drop ? at(drop, bh + i0 * T) : 0;
        const doutBlock = at(dout, (b * T + i0) * ldv + h * dV);
        // dv (n, dv) += (P ⊙ D)ᵀ (n, rows) · dout_block (rows, dv)
        let w = p;
        if (drop) {
          for (let r = 0; r < rows; r++) vec_mul(at(p, r * T), at(d, r * T), at(scratch, r * T), n);
          w = scratch;
        }
        matmul.gemmStrided(w, 1, T, doutBlock, ldv, 1, dvbh, ldv, n, rows, dV, 1);
        // dP (rows, n) = dout_block · v (n, dv)ᵀ, then dS in place, row by row
        matmul.gemmStrided(doutBlock, ldv, 1, vbh, 1, ldv, scratch, T, rows, dV, n, 0);
        for (let r = 0; r < rows; r++) {
          const ds = at(scratch, r * T);
          const nt = causal ? i0 + r + 1 : T;
          if (drop) vec_mul(ds, at(d, r * T), ds, nt);
          softmax_backward(at(p, r * T), ds, ds, 1, nt);
          vec_scale(ds, nt, scale);
          if (nt < n) memory.fill(at(ds, nt), 0, <usize>(n - nt) << 2);
        }
        // dq_block (rows, dk) = dS (rows, n) · k (n, dk);  dk (n, dk) += dSᵀ (n, rows) · q_block (rows, dk)
        matmul.gemmStrided(scratch, T, 1, kbh, ldk, 1, at(dq, (b * T + i0) * ldk + h * dK), ldk, rows, n, dK, 0);
        matmul.gemmStrided(scratch, 1, T, at(q, (b * T + i0) * ldk + h * dK), ldk, 1, dkbh, ldk, n, rows, dK, 1);
      }
    }
  }
}

// ---- generation: the KV cache ----

/**
 * Writes positions POS..POS+T-1 of the caches from a window's k [B, T, H, dk] and v [B, T, H, dv] (the prompt's
 * projections, one call for the whole batch): kCache [B, H, dk, TMAX] (transposed), vCache [B, TMAX, H, dv].
 */
export function attention_cache_fill(k: usize, v: usize, kCache: usize, vCache: usize, att: usize): void {
  const B = field(att, ATT_B), T = field(att, ATT_T), H = field(att, ATT_H);
  const dk = field(att, ATT_DK), dv = field(att, ATT_DV), Tmax = field(att, ATT_TMAX), pos = field(att, ATT_POS);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const src = at(k, (b * T + t) * H * dk);
      for (let i = 0; i < H * dk; i++) store<f32>(at(kCache, (b * H * dk + i) * Tmax + pos + t), load<f32>(at(src, i)));
    }
    memory.copy(at(vCache, (b * Tmax + pos) * H * dv), at(v, b * T * H * dv), <usize>(T * H * dv) << 2);
  }
}

/**
 * y[j] = Σ_i v[i] · M[i, j] for j < cols, summed over i in order from 0, M's rows ld floats apart: a row vector
 * times a matrix, across columns in v128 lanes. A step's scores are q · kT (i over dk, j over the keys seen; kT
 * stored transposed so that this order is the GEMM's, as the forward sums its scores) and its output is P · v (i
 * over the keys, j over dv, as the GEMM sums P v). Reads no column at or past cols.
 */
@inline function rowTimesMatrix(v: usize, m: usize, ld: i32, rows: i32, cols: i32, y: usize): void {
  const stride = <usize>ld << 2;
  let j = 0;
  for (; j + 16 <= cols; j += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let mp = at(m, j);
    for (let i = 0; i < rows; i++, mp += stride) {
      const vi = v128.load32_splat(at(v, i));
      a0 = f32x4.add(a0, f32x4.mul(vi, v128.load(mp)));
      a1 = f32x4.add(a1, f32x4.mul(vi, v128.load(mp, 16)));
      a2 = f32x4.add(a2, f32x4.mul(vi, v128.load(mp, 32)));
      a3 = f32x4.add(a3, f32x4.mul(vi, v128.load(mp, 48)));
    }
    const yp = at(y, j);
    v128.store(yp, a0); v128.store(yp, a1, 16); v128.store(yp, a2, 32); v128.store(yp, a3, 48);
  }
  for (; j < cols; j += 4) {
    const n = min(4, cols - j);
    let a = f32x4.splat(0);
    let mp = at(m, j);
    for (let i = 0; i < rows; i++, mp += stride) {
      a = f32x4.add(a, f32x4.mul(v128.load32_splat(at(v, i)), n == 4 ? v128.load(mp) : vmath.loadPartial(mp, n)));
    }
    if (n == 4) v128.store(at(y, j), a);
    else vmath.storePartial(at(y, j), a, n);
  }
}

/**
 * One new position t = POS against the KV cache, so a generated token costs one position's work: kNew [B, H, dk]
 * and vNew [B, H, dv] (the new position's projections) are written into the caches at t, then q [B, H, dk]
 * attends to keys 0..t: out [B, H, dv], probs [B, H, TMAX] (0 from t+1 on); mask [B, TMAX] optional.
 * out and probs equal row t of attention_forward's causal pass over the same window, bit for bit.
 */
export function attention_step(
  q: usize, kNew: usize, vNew: usize, kCache: usize, vCache: usize, out: usize, att: usize,
): void {
  const B = field(att, ATT_B), H = field(att, ATT_H), dk = field(att, ATT_DK), dv = field(att, ATT_DV);
  const Tmax = field(att, ATT_TMAX), t = field(att, ATT_POS);
  const mask = ptr(att, ATT_MASK), probs = ptr(att, ATT_PROBS);
  const scale: f32 = 1 / Mathf.sqrt(<f32>dk);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < H * dk; i++) store<f32>(at(kCache, (b * H * dk + i) * Tmax + t), load<f32>(at(kNew, b * H * dk + i)));
    memory.copy(at(vCache, (b * Tmax + t) * H * dv), at(vNew, b * H * dv), <usize>(H * dv) << 2);
    for (let h = 0; h < H; h++) {
      const row = at(probs, (b * H + h) * Tmax);
      rowTimesMatrix(at(q, (b * H + h) * dk), at(kCache, (b * H + h) * dk * Tmax), Tmax, dk, t + 1, row);
      softmaxRow(row, t + 1, Tmax, scale, mask ? at(mask, b * Tmax) : 0);
      rowTimesMatrix(row, at(vCache, b * Tmax * H * dv + h * dv), H * dv, t + 1, dv, at(out, (b * H + h) * dv));
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

/**
 * y = x + table[start .. start+T) for x, y [B, T, d] (y may be x) and table [rows >= start+T, d]: a learned position
 * embedding (positionEmbedding, tokenAndPositionEmbedding), or the sine table written once by position_encoding_add
 * (from x = 0, B = 1), which then costs an add per call instead of a sin or cos per element. The table's gradient is
 * the sum over the batch: bias_grad(dy, dtable + start*d floats, B, T*d, accumulate).
 */
export function position_table_add(x: usize, table: usize, y: usize, B: i32, T: i32, d: i32, start: i32): void {
  const n = T * d;
  for (let b = 0; b < B; b++) vec_add(at(x, b * n), at(table, start * d), at(y, b * n), n);
}

// ---- the transformer block's residual connection ----

/**
 * y = x + (z + bias) ⊙ mask for z, x, y (rows, cols) and bias (cols): the sublayer's output projection z (written by
 * its GEMM), its bias, dropout and the residual add in one pass instead of three (y may be z or x). bias and mask
 * may be 0 for none; mask is (rows, cols), an inverted dropout mask. Backward: dx = dy (plus the sublayer's own
 * input gradient), dz = dy ⊙ mask (vec_mul), dbias = bias_grad(dz).
 */
export function residual_add(z: usize, bias: usize, mask: usize, x: usize, y: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      let s = v128.load(at(z, o + j));
      if (bias) s = f32x4.add(s, v128.load(at(bias, j)));
      if (mask) s = f32x4.mul(s, v128.load(at(mask, o + j)));
      v128.store(at(y, o + j), f32x4.add(v128.load(at(x, o + j)), s));
    }
    for (; j < cols; j++) {
      let s = load<f32>(at(z, o + j));
      if (bias) s += load<f32>(at(bias, j));
      if (mask) s *= load<f32>(at(mask, o + j));
      store<f32>(at(y, o + j), load<f32>(at(x, o + j)) + s);
    }
  }
}
