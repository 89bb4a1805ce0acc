// A transformer decoder block's step for generation: ONE new position through the whole block in one call, against
// its attention's KV cache, instead of some fifteen calls from JS (the norms, the q/k/v products and their biases,
// attention_step, the output projection and residual, the feed-forward products, biases and activation, the second
// residual). Each part is the kernel the block's full forward calls for that row (gemm_nn with m = 1 is the
// few-rows product, whose sums are the packed GEMM's; layernormForward, bias_act_forward, residual_add,
// attention_step), in the same order on the same buffers, so the new row has the bits of the window's forward.
//   pre-LN (PRE 1):   r1 = x + attn(ln1(x)) + bo;   y = r1 + ffn(ln2(r1))
//   post-LN (PRE 0):  h = ln1(x + attn(x) + bo);    y = ln2(h + ffn(h))
// ffn(u) = (act(u·W1 + b1))·W2 + b2. x, y [features]: one position (y may not be x).
//
// The decoder block: DEC_LEN i32 at p (ALPHA an f32), written once by the runtime (ts/layers/transformer.ts):
//   0 F, 1 HK, 2 HV, 3 FF     features, heads·keyDim, heads·valueDim, the feed-forward width
//   4 PRE, 5 ACT, 6 ALPHA     pre-LN or post-LN; the feed-forward activation's code and alpha
//   7 LN1, 8 LN2, 9 ATT       the two layer norms' NORM blocks and the attention's ATT block (this kernel sets their
//                             rows to 1 and the attention's position; the rest as the block's forward wrote them)
//   10..21                    WQ BQ WK BK WV BV WO BO W1 B1 W2 B2: kernels and biases (a bias 0: none; BO required)
//   22 KCACHE, 23 VCACHE      the attention's caches (attention_step's layouts)
//   24..36                    Q K V O N1 Z1 R1 H N2 Z F1 Z2 R2: the block's buffers for the row (Z: W1's
//                             pre-activation; N1, N2 pre-LN only; H, R2 post-LN only)
//   37..42                    PQ PK PV PO P1 P2: WQ WK WV WO W1 W2 packed by row_pack (rowpack.ts), which the
//                             products then stream (the same bits, faster); 0: that product reads its kernel as it is
import { gemm_nn } from "./matmul";
import { rowProduct } from "./rowpack";
import { bias_act_forward } from "./activations";
import { layernorm_forward, NORM_ROWS } from "./norm";
import { attention_step, residual_add, ATT_T, ATT_POS } from "./attention";

export const DEC_F = 0;
export const DEC_HK = 1;
export const DEC_HV = 2;
export const DEC_FF = 3;
export const DEC_PRE = 4;
export const DEC_ACT = 5;
export const DEC_ALPHA = 6;
export const DEC_LN1 = 7;
export const DEC_LN2 = 8;
export const DEC_ATT = 9;
export const DEC_WQ = 10;
export const DEC_BQ = 11;
export const DEC_WK = 12;
export const DEC_BK = 13;
export const DEC_WV = 14;
export const DEC_BV = 15;
export const DEC_WO = 16;
export const DEC_BO = 17;
export const DEC_W1 = 18;
export const DEC_B1 = 19;
export const DEC_W2 = 20;
export const DEC_B2 = 21;
export const DEC_KCACHE = 22;
export const DEC_VCACHE = 23;
export const DEC_Q = 24;
export const DEC_K = 25;
export const DEC_V = 26;
export const DEC_O = 27;
export const DEC_N1 = 28;
export const DEC_Z1 = 29;
export const DEC_R1 = 30;
export const DEC_H = 31;
export const DEC_N2 = 32;
export const DEC_Z = 33;
export const DEC_F1 = 34;
export const DEC_Z2 = 35;
export const DEC_R2 = 36;
export const DEC_PQ = 37;
export const DEC_PK = 38;
export const DEC_PV = 39;
export const DEC_PO = 40;
export const DEC_P1 = 41;
export const DEC_P2 = 42;
/** Number of i32 in the decoder block. */
export const DEC_LEN = 43;

@inline function field(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

@inline function ptr(p: usize, i: i32): usize {
  return <usize>load<u32>(p + (<usize>i << 2));
}

/** out (n) = u (k) · W (k, n), W being field `wi` of block p and its packed copy field `pi` (0: none). */
@inline function rowMul(u: usize, p: usize, wi: i32, pi: i32, out: usize, k: i32, n: i32): void {
  const packed = ptr(p, pi);
  if (packed) rowProduct(u, packed, out, k, n);
  else gemm_nn(u, ptr(p, wi), out, 1, k, n, 0);
}

/** out (n) = u (k) · W (k, n) + bias (the dense and projection forward for one row; bias 0: none). */
@inline function rowDense(u: usize, p: usize, wi: i32, pi: i32, bias: usize, out: usize, k: i32, n: i32): void {
  rowMul(u, p, wi, pi, out, k, n);
  if (bias) bias_act_forward(out, bias, out, 1, n, 0, 0);
}

/** The block at p on one position pos (0 <= pos < the cache's capacity; position 0 attends to itself alone, as in
 *  the window's forward): x [F] in, y [F] out. */
export function decoder_step(x: usize, y: usize, p: usize, pos: i32): void {
  const f = field(p, DEC_F), hk = field(p, DEC_HK), hv = field(p, DEC_HV), ff = field(p, DEC_FF);
  const pre = field(p, DEC_PRE) != 0;
  const ln1 = ptr(p, DEC_LN1), ln2 = ptr(p, DEC_LN2), att = ptr(p, DEC_ATT);
  store<i32>(ln1 + (<usize>NORM_ROWS << 2), 1);
  store<i32>(ln2 + (<usize>NORM_ROWS << 2), 1);
  store<i32>(att + (<usize>ATT_T << 2), 1);
  store<i32>(att + (<usize>ATT_POS << 2), pos);
  const q = ptr(p, DEC_Q), k = ptr(p, DEC_K), v = ptr(p, DEC_V), o = ptr(p, DEC_O);
  const z1 = ptr(p, DEC_Z1), r1 = ptr(p, DEC_R1), z2 = ptr(p, DEC_Z2);
  // the attention half
  let a = x;
  if (pre) {
    a = ptr(p, DEC_N1);
    layernorm_forward(x, a, ln1);
  }
  rowDense(a, p, DEC_WQ, DEC_PQ, ptr(p, DEC_BQ), q, f, hk);
  rowDense(a, p, DEC_WK, DEC_PK, ptr(p, DEC_BK), k, f, hk);
  rowDense(a, p, DEC_WV, DEC_PV, ptr(p, DEC_BV), v, f, hv);
  attention_step(q, k, v, ptr(p, DEC_KCACHE), ptr(p, DEC_VCACHE), o, att);
  rowMul(o, p, DEC_WO, DEC_PO, z1, hv, f);
  residual_add(z1, ptr(p, DEC_BO), 0, x, r1, 1, f);
  let h = r1;
  if (!pre) {
    h = ptr(p, DEC_H);
    layernorm_forward(r1, h, ln1);
  }
  // the feed-forward half
  let u = h;
  if (pre) {
    u = ptr(p, DEC_N2);
    layernorm_forward(h, u, ln2);
  }
  const z = ptr(p, DEC_Z), f1 = ptr(p, DEC_F1);
  rowMul(u, p, DEC_W1, DEC_P1, z, f, ff);
  bias_act_forward(z, ptr(p, DEC_B1), f1, 1, ff, field(p, DEC_ACT), load<f32>(p + (<usize>DEC_ALPHA << 2)));
  rowDense(f1, p, DEC_W2, DEC_P2, ptr(p, DEC_B2), z2, ff, f);
  if (pre) {
    residual_add(z2, 0, 0, h, y, 1, f);
  } else {
    const r2 = ptr(p, DEC_R2);
    residual_add(z2, 0, 0, h, r2, 1, f);
    layernorm_forward(r2, y, ln2);
  }
}
