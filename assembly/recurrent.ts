// What the recurrent cells (simple-rnn.ts, lstm.ts, gru.ts) share: the parameter block, the workspace layout, and the
// moves between the layer's batch-major arrays and the kernels' step-major ones.
//
// A layer's input x is [B, T, in] (Keras's batch, steps, features). The kernels work step-major in processing
// order: step s = 0..T-1 reads input time t(s) = s, or T-1-s when going backwards, so that one step's B rows are
// contiguous and every product over all steps is one GEMM:
//   xs    [T, B, in]      the inputs in step order (forward copies x in; backward overwrites it with dL/dxs)
//   hs    [T+1, B, u]     hs[0] = 0 the initial state, hs[s+1] the state after step s
//   gates [T, B, G u]     per step the gate pre-activations x W + b + h U, then the gates' outputs, which backward
//                         overwrites with the gradients of the pre-activations (so a backward needs its forward)
//   aux   per cell        LSTM: cs [T+1, B, u] cell states and tcs [T, B, u] = act(c); GRU: g_h or r h [T, B, u]
//                         (and with resetAfter the recurrent pre-activations' gradients [T, B, 3u])
//   packed                the recurrent kernel packed once per call for the per-step GEMMs (matmul.pack)
//   hin   [T, B, u]       with recurrentDropout, the state each step reads: hs[s] times the mask (Keras and TF.js
//                         multiply h_{t-1} by the mask before the cell, so a GRU's z h term sees it too); the
//                         state carried and copied at padded steps stays unmasked
//   table [V, G u]        with token ids (RNN_VOCAB set): forward the projected table rows table W + b, backward
//                         each id's sum of its rows of dgates
// Outputs follow Keras: y[b, s] is the state after step s (with goBackwards the sequence comes out reversed, as in
// Keras and TF.js), or y [B, u] the last state when returnSequences is off. A mask [B, T] (1 = real step, 0 =
// padding, in input time order) makes a padded step keep the previous state, which is also its output, or zeros
// with RNN_ZERO_PADDED (Keras's zero_output_for_mask, which its Bidirectional sets with returnSequences).
//
// The parameter block is RNN_LEN i32 (RNN_ALPHA an f32): sizes, activation codes, flags and the pointers of the
// weights, their gradients and the mask, which a layer writes once per plan; each call passes only the data's
// pointers (x or dy, y or dx) and the workspace.

import { bias_act_forward, bias_grad, ACT_LINEAR } from "./activations";
import { gemm_nn, gemm_tn, gemm_nt, matmul } from "./matmul";
import { vmath } from "./vmath";
import { vec_add_inplace } from "./vector";

export const RNN_BATCH: i32 = 0; // B
export const RNN_STEPS: i32 = 1; // T
export const RNN_INPUT: i32 = 2; // in, the input features
export const RNN_UNITS: i32 = 3; // u
export const RNN_ACT: i32 = 4; // activation code (ACT_*): SimpleRNN's output, LSTM's candidate and cell output, GRU's candidate
export const RNN_REC_ACT: i32 = 5; // recurrentActivation code: the LSTM and GRU gates (sigmoid, or TF.js's hardSigmoid)
export const RNN_ALPHA: i32 = 6; // f32: the activations' alpha (elu's scale); the same for both
export const RNN_FLAGS: i32 = 7; // RNN_GO_BACKWARDS | RNN_RETURN_SEQUENCES | RNN_RESET_AFTER | RNN_ACCUMULATE | RNN_ZERO_PADDED
export const RNN_KERNEL: i32 = 8; // [in, G u], Keras's kernel
export const RNN_RECURRENT: i32 = 9; // [u, G u], Keras's recurrent_kernel
export const RNN_BIAS: i32 = 10; // [G u], GRU with resetAfter [2, 3u] (input bias, recurrent bias); 0 = no bias
export const RNN_MASK: i32 = 11; // [B, T] f32 0/1, or 0 = every step is real
export const RNN_DKERNEL: i32 = 12; // gradients of the three weights, shaped like them (DBIAS 0 when there is no bias)
export const RNN_DRECURRENT: i32 = 13;
export const RNN_DBIAS: i32 = 14;
export const RNN_REC_DROPOUT: i32 = 15; // [B, u] f32 recurrentDropout's mask (0 or 1 / (1 - rate)), the same every step; 0 = none
// An embedding below (the layers' pair): the input rows are rows of its table, picked by token ids, so the products
// with the kernel over all steps shrink to products over the table's V rows when V <= T B (see projectInputs).
export const RNN_IDS: i32 = 16; // [B, T] i32 token ids, checked; 0 = the input is x [B, T, in]
export const RNN_TABLE: i32 = 17; // [V, in] the embedding's table
export const RNN_VOCAB: i32 = 18; // V, the table's rows; also set for sizing (the workspace's table region) when IDS is 0
export const RNN_DTABLE: i32 = 19; // [V, in] the table's gradient, written by backward; 0 = not wanted
export const RNN_LEN: i32 = 20;

export const RNN_GO_BACKWARDS: i32 = 1; // process the steps from the last to the first
export const RNN_RETURN_SEQUENCES: i32 = 2; // y and dy are [B, T, u]; else [B, u], the last step's
export const RNN_RESET_AFTER: i32 = 4; // GRU: the reset gate multiplies h U + b_rec (Keras 3, PyTorch), not h
export const RNN_ACCUMULATE: i32 = 8; // backward adds onto the weight gradients instead of writing them
export const RNN_ZERO_PADDED: i32 = 16; // with a mask and returnSequences, a padded step outputs zeros (Keras's Bidirectional)

/** The cells, for rnn_work_floats: gates per unit G = 1, 4, 3. */
export const RNN_CELL_SIMPLE: i32 = 0;
export const RNN_CELL_LSTM: i32 = 1;
export const RNN_CELL_GRU: i32 = 2;

/**
 * Floats of workspace a cell's forward + backward pair needs for the block at p (sizes and flags set): the
 * layer plans a buffer of this many floats (16-byte aligned) per (batch, steps) and passes it to both calls.
 */
export function rnn_work_floats(cell: i32, p: usize): i32 {
  return rnn.setWork(cell, 0, p);
}

/**
 * Floats of workspace a cell's one-step call (generation) needs: the gates [B, G u], act(c) or r h [B, u], and
 * GRU's h U [B, 3u].
 */
export function rnn_step_work_floats(cell: i32, p: usize): i32 {
  const B = rnn.at(p, RNN_BATCH), u = rnn.at(p, RNN_UNITS);
  return <i32>(rnn.vecs(B * rnn.gatesPerUnit(cell) * u) + rnn.vecs(B * u) + rnn.vecs(cell == RNN_CELL_GRU ? 3 * B * u : 0));
}

/** The cells' shared helpers (a namespace, so that `export *` in index.ts does not export them). */
export namespace rnn {
  @inline export function at(p: usize, i: i32): i32 {
    return load<i32>(p + (<usize>i << 2));
  }
  @inline export function ptr(p: usize, i: i32): usize {
    return <usize>load<u32>(p + (<usize>i << 2));
  }
  @inline export function alpha(p: usize): f32 {
    return load<f32>(p + (<usize>RNN_ALPHA << 2));
  }
  @inline export function flag(p: usize, bit: i32): bool {
    return (at(p, RNN_FLAGS) & bit) != 0;
  }

  @inline export function gatesPerUnit(cell: i32): i32 {
    return cell == RNN_CELL_LSTM ? 4 : cell == RNN_CELL_GRU ? 3 : 1;
  }

  /** n floats rounded up to whole vectors, so that every region starts 16-byte aligned when work does. */
  @inline export function vecs(n: i32): usize {
    return <usize>((n + 3) & ~3);
  }

  // ---- the workspace of a forward + backward pair (set by setWork, read by the cells) ----

  export let xs: usize = 0; // [T, B, in]
  export let hs: usize = 0; // [T+1, B, u]
  export let gates: usize = 0; // [T, B, G u]
  export let aux: usize = 0; // LSTM cs [T+1, B, u]; GRU rh [T, B, u]
  export let aux2: usize = 0; // LSTM tcs [T, B, u]; GRU with resetAfter: the recurrent pre-activations' gradients [T, B, 3u]
  export let step: usize = 0; // one step's scratch [B, 3u] (GRU's h U)
  export let dh: usize = 0; // [B, u] dL/dh carried to the previous step
  export let dh2: usize = 0; // [B, u] the next one being summed
  export let dc: usize = 0; // [B, u] LSTM's dL/dc carried; GRU's dL/d(r h)
  export let packed: usize = 0; // the recurrent kernel packed once per call for the per-step GEMMs (matmul.pack)
  export let hin: usize = 0; // [T, B, u] the masked states with recurrentDropout
  export let table: usize = 0; // [V, G u] with token ids: the projected table, then the gradients summed per id
  let end: usize = 0;

  /**
   * Floats of the packed recurrent kernel: U [u, G u] for the forward's h U, Uᵀ for the backward's dgates Uᵀ (one
   * region, one use at a time); a GRU without resetAfter packs its z, r columns and its h columns apart.
   */
  function packedFloats(cell: i32, u: i32, resetAfter: bool): i32 {
    if (cell == RNN_CELL_GRU && !resetAfter) {
      return max(matmul.packedFloats(u, 2 * u) + matmul.packedFloats(u, u), matmul.packedFloats(u, u) + matmul.packedFloats(2 * u, u));
    }
    const G = gatesPerUnit(cell);
    return max(matmul.packedFloats(u, G * u), matmul.packedFloats(G * u, u));
  }

  /** Carves `work` into the regions above for `cell`; returns the floats used. */
  export function setWork(cell: i32, work: usize, p: usize): i32 {
    const B = at(p, RNN_BATCH), T = at(p, RNN_STEPS), n = at(p, RNN_INPUT), u = at(p, RNN_UNITS);
    const G = gatesPerUnit(cell);
    const bu = B * u;
    const resetAfter = flag(p, RNN_RESET_AFTER);
    let cur = work;
    xs = cur; cur += vecs(T * B * n) << 2;
    hs = cur; cur += vecs((T + 1) * bu) << 2;
    gates = cur; cur += vecs(T * B * G * u) << 2;
    aux = cur; cur += vecs(cell == RNN_CELL_LSTM ? (T + 1) * bu : cell == RNN_CELL_GRU ? T * bu : 0) << 2;
    aux2 = cur; cur += vecs(cell == RNN_CELL_LSTM ? T * bu : cell == RNN_CELL_GRU && resetAfter ? T * bu * 3 : 0) << 2;
    step = cur; cur += vecs(cell == RNN_CELL_GRU ? 3 * bu : 0) << 2;
    dh = cur; cur += vecs(bu) << 2;
    dh2 = cur; cur += vecs(bu) << 2;
    dc = cur; cur += vecs(bu) << 2;
    packed = cur; cur += vecs(packedFloats(cell, u, resetAfter)) << 2;
    hin = cur; cur += vecs(ptr(p, RNN_REC_DROPOUT) ? T * bu : 0) << 2;
    table = cur; cur += vecs(at(p, RNN_VOCAB) * G * u) << 2;
    end = cur;
    return <i32>((end - work) >> 2);
  }

  // ---- moves between batch-major and step-major ----

  /** Input time of step s. */
  @inline export function timeOf(s: i32, T: i32, backwards: bool): i32 {
    return backwards ? T - 1 - s : s;
  }

  /** Rows of `width` floats: dst = src. */
  @inline export function copyRow(src: usize, dst: usize, width: i32): void {
    let j = 0;
    for (; j + 4 <= width; j += 4) v128.store(dst + (<usize>j << 2), v128.load(src + (<usize>j << 2)));
    for (; j < width; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
  }

  /** xs [T, B, in] in step order from x [B, T, in]. */
  export function gatherSteps(x: usize, xs: usize, B: i32, T: i32, n: i32, backwards: bool): void {
    for (let s = 0; s < T; s++) {
      const t = timeOf(s, T, backwards);
      for (let b = 0; b < B; b++) copyRow(x + (<usize>(b * T + t) * n << 2), xs + (<usize>(s * B + b) * n << 2), n);
    }
  }

  /** dx [B, T, in] from dxs [T, B, in] in step order (the inverse of gatherSteps). */
  export function scatterSteps(dxs: usize, dx: usize, B: i32, T: i32, n: i32, backwards: bool): void {
    for (let s = 0; s < T; s++) {
      const t = timeOf(s, T, backwards);
      for (let b = 0; b < B; b++) copyRow(dxs + (<usize>(s * B + b) * n << 2), dx + (<usize>(b * T + t) * n << 2), n);
    }
  }

  /** Whether row b of step s is a real step (no mask: all are). */
  @inline export function isReal(mask: usize, b: i32, s: i32, T: i32, backwards: bool): bool {
    return mask == 0 || load<f32>(mask + (<usize>(b * T + timeOf(s, T, backwards)) << 2)) != 0;
  }

  /**
   * The forward's common start: the input projection of every step as one GEMM into gates (xs [T B, in] · kernel
   * [in, G u] + bias[0 : G u]), and the zero initial state hs[0]. xs comes from x, or with token ids from the
   * embedding's table. When the table has no more rows than the steps (V <= T B), the table itself is projected
   * (table W + b [V, G u]) and its rows copied to the steps: each is the same sum as the step's own row of the GEMM, so
   * the same bits, for V rows of products instead of T B.
   */
  export function projectInputs(x: usize, p: usize, G: i32): void {
    const B = at(p, RNN_BATCH), T = at(p, RNN_STEPS), n = at(p, RNN_INPUT), u = at(p, RNN_UNITS);
    const backwards = flag(p, RNN_GO_BACKWARDS), ids = ptr(p, RNN_IDS);
    if (ids && byTable(p)) {
      projectRows(ptr(p, RNN_TABLE), table, at(p, RNN_VOCAB), p, G);
      gatherIds(ids, table, gates, B, T, G * u, backwards);
    } else {
      if (ids) gatherIds(ids, ptr(p, RNN_TABLE), xs, B, T, n, backwards);
      else gatherSteps(x, xs, B, T, n, backwards);
      projectRows(xs, gates, T * B, p, G);
    }
    memory.fill(hs, 0, <usize>(B * u) << 2);
  }

  /** With token ids: whether the products over all steps run over the table's rows instead (V <= T B). */
  @inline function byTable(p: usize): bool {
    return at(p, RNN_VOCAB) <= at(p, RNN_BATCH) * at(p, RNN_STEPS);
  }

  /** dst [T, B, width] in step order: row (s, b) is row ids[b, t(s)] of src [V, width]. */
  function gatherIds(ids: usize, src: usize, dst: usize, B: i32, T: i32, width: i32, backwards: bool): void {
    const rowBytes = <usize>width << 2;
    for (let s = 0; s < T; s++) {
      const t = timeOf(s, T, backwards);
      for (let b = 0; b < B; b++) {
        const id = <usize>load<i32>(ids + (<usize>(b * T + t) << 2));
        copyRow(src + id * rowBytes, dst + <usize>(s * B + b) * rowBytes, width);
      }
    }
  }

  /** dst [V, width] = 0, then row (s, b) of src [T, B, width] added onto row ids[b, t(s)], s and b ascending. */
  function scatterIds(ids: usize, src: usize, dst: usize, V: i32, B: i32, T: i32, width: i32, backwards: bool): void {
    const rowBytes = <usize>width << 2;
    memory.fill(dst, 0, <usize>V * rowBytes);
    for (let s = 0; s < T; s++) {
      const t = timeOf(s, T, backwards);
      for (let b = 0; b < B; b++) {
        const id = <usize>load<i32>(ids + (<usize>(b * T + t) << 2));
        vec_add_inplace(dst + id * rowBytes, src + <usize>(s * B + b) * rowBytes, width);
      }
    }
  }

  /** z [rows, G u] = x [rows, in] · kernel + bias (the input part of a GRU's [2, 3u] bias): the same sums for one step or all. */
  export function projectRows(x: usize, z: usize, rows: i32, p: usize, G: i32): void {
    const n = at(p, RNN_INPUT), gu = G * at(p, RNN_UNITS);
    gemm_nn(x, ptr(p, RNN_KERNEL), z, rows, n, gu, 0);
    const bias = ptr(p, RNN_BIAS);
    if (bias) bias_act_forward(z, bias, z, rows, gu, ACT_LINEAR, 0);
  }

  /** y from hs: every step's state [B, T, u] with returnSequences, else the last [B, u]. */
  export function writeOutputs(y: usize, p: usize): void {
    const B = at(p, RNN_BATCH), T = at(p, RNN_STEPS), u = at(p, RNN_UNITS);
    if (flag(p, RNN_RETURN_SEQUENCES)) {
      const mask = ptr(p, RNN_MASK), zeros = mask != 0 && flag(p, RNN_ZERO_PADDED), backwards = flag(p, RNN_GO_BACKWARDS);
      for (let s = 0; s < T; s++) {
        for (let b = 0; b < B; b++) {
          const out = y + (<usize>(b * T + s) * u << 2);
          if (zeros && !isReal(mask, b, s, T, backwards)) memory.fill(out, 0, <usize>u << 2);
          else copyRow(hs + (<usize>((s + 1) * B + b) * u << 2), out, u);
        }
      }
    } else {
      memory.copy(y, hs + (<usize>(T * B * u) << 2), <usize>(B * u) << 2);
    }
  }

  /** Whether padded steps output zeros (set by startBackward from RNN_ZERO_PADDED): their dy then reaches nothing. */
  export let zeroPadded: bool = false;

  /**
   * dL/dh flowing into step s from the output, row b (real: not a padded step): dy[b, s] with returnSequences, else
   * nothing (the last step's dy [B, u] is where the carried gradient starts, see startBackward). Returns 0 for none.
   */
  @inline export function dyRow(dy: usize, b: i32, s: i32, T: i32, u: i32, seq: bool, real: bool): usize {
    return seq && (real || !zeroPadded) ? dy + (<usize>(b * T + s) * u << 2) : 0;
  }

  /** The carried dL/dh before the last step: dy [B, u] when only the last step is output, else 0; dL/dc = 0. */
  export function startBackward(dy: usize, p: usize): void {
    const bu = <usize>(at(p, RNN_BATCH) * at(p, RNN_UNITS)) << 2;
    zeroPadded = flag(p, RNN_ZERO_PADDED);
    if (flag(p, RNN_RETURN_SEQUENCES)) memory.fill(dh, 0, bu);
    else memory.copy(dh, dy, bu);
    memory.fill(dc, 0, bu);
  }

  /** Swaps the carried dL/dh with the one just summed. */
  export function swapDh(): void {
    const t = dh;
    dh = dh2;
    dh2 = t;
  }

  /**
   * The backward's common end, from dgates [T B, G u] (the pre-activations' gradients of every step): the kernel's
   * gradient xsᵀ · dgates and the input bias's column sums as single products over all steps, then dx = dgates ·
   * kernelᵀ into xs (no longer needed) and out to dx [B, T, in] in input time order (skipped when dx = 0).
   * With token ids, the table's gradient (RNN_DTABLE) instead of dx: the rows of dx scattered by id; when the forward
   * projected the table (V <= T B), dgates is first summed per id, S [V, G u], and every product runs over V rows:
   * dkernel = tableᵀ · S, dbias = S's column sums, dtable = S · kernelᵀ.
   */
  export function finishBackward(dx: usize, p: usize, G: i32): void {
    const B = at(p, RNN_BATCH), T = at(p, RNN_STEPS), n = at(p, RNN_INPUT), gu = G * at(p, RNN_UNITS);
    const acc = i32(flag(p, RNN_ACCUMULATE)), backwards = flag(p, RNN_GO_BACKWARDS);
    const dbias = ptr(p, RNN_DBIAS), ids = ptr(p, RNN_IDS), dtable = ptr(p, RNN_DTABLE), V = at(p, RNN_VOCAB);
    if (ids && byTable(p)) {
      scatterIds(ids, gates, table, V, B, T, gu, backwards);
      gemm_tn(ptr(p, RNN_TABLE), table, ptr(p, RNN_DKERNEL), n, V, gu, acc);
      if (dbias) bias_grad(table, dbias, V, gu, acc);
      if (dtable) gemm_nt(table, ptr(p, RNN_KERNEL), dtable, V, gu, n, 0);
      return;
    }
    gemm_tn(xs, gates, ptr(p, RNN_DKERNEL), n, T * B, gu, acc);
    if (dbias) bias_grad(gates, dbias, T * B, gu, acc);
    if (ids ? dtable : dx) gemm_nt(gates, ptr(p, RNN_KERNEL), xs, T * B, gu, n, 0);
    if (ids) {
      if (dtable) scatterIds(ids, xs, dtable, V, B, T, n, backwards);
    } else if (dx) {
      scatterSteps(xs, dx, B, T, n, backwards);
    }
  }

  // ---- recurrentDropout ----

  /**
   * The state step s reads: hs[s] itself, or with a recurrentDropout mask [B, u], hin[s] = hs[s] times the mask
   * (written here). All B rows: a padded row's value is not used.
   */
  export function stateIn(p: usize, s: i32): usize {
    const B = at(p, RNN_BATCH), u = at(p, RNN_UNITS), m = ptr(p, RNN_REC_DROPOUT);
    const stateBytes = <usize>(B * u) << 2;
    const hPrev = hs + <usize>s * stateBytes;
    if (!m) return hPrev;
    const out = hin + <usize>s * stateBytes;
    const n = B * u;
    for (let j = 0; j < n; j += 4) st(out, j, n - j, f32x4.mul(ld(hPrev, j, n - j), ld(m, j, n - j)));
    return out;
  }

  /** The masked states of every step [T, B, u] for dU (hs itself without recurrentDropout). */
  export function statesIn(p: usize): usize {
    return ptr(p, RNN_REC_DROPOUT) ? hin : hs;
  }

  /**
   * Backward: dh2 [B, u] summed for the masked state of step s is turned into the unmasked state's (times the
   * mask), on the real rows only (a padded row's dh2 is the pass-through, which bypasses the mask).
   */
  export function unmaskGrad(p: usize, s: i32): void {
    const m = ptr(p, RNN_REC_DROPOUT);
    if (!m) return;
    const B = at(p, RNN_BATCH), T = at(p, RNN_STEPS), u = at(p, RNN_UNITS);
    const mask = ptr(p, RNN_MASK), backwards = flag(p, RNN_GO_BACKWARDS);
    const rowBytes = <usize>u << 2;
    for (let b = 0; b < B; b++) {
      if (!isReal(mask, b, s, T, backwards)) continue;
      const o = <usize>b * rowBytes;
      for (let j = 0; j < u; j += 4) st(dh2 + o, j, u - j, f32x4.mul(ld(dh2 + o, j, u - j), ld(m + o, j, u - j)));
    }
  }

  // ---- 4-lane loads and stores over a row of units, the tail as one partial vector ----

  /** 4 floats at p + 4 j, or the m < 4 left at the row's end (zeros above). */
  @inline export function ld(p: usize, j: i32, m: i32): v128 {
    return m >= 4 ? v128.load(p + (<usize>j << 2)) : vmath.loadPartial(p + (<usize>j << 2), m);
  }
  @inline export function st(p: usize, j: i32, m: i32, v: v128): void {
    if (m >= 4) v128.store(p + (<usize>j << 2), v);
    else vmath.storePartial(p + (<usize>j << 2), v, m);
  }
}
