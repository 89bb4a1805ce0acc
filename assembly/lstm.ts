// LSTM (Keras's layout): kernel W [in, 4u], recurrent kernel U [u, 4u], bias b [4u], the gates in the order i, f, c, o:
//   z = x W + b + h U          i = rec(z_i)  f = rec(z_f)  g = act(z_c)  o = rec(z_o)
//   c' = f c + i g             h' = o act(c')
// with act the activation (tanh) and rec the recurrent activation (sigmoid, or TF.js's hardSigmoid). The workspace,
// the parameter block and the step order are recurrent.ts's; aux holds the cell states cs [T+1, B, u], aux2 act(c)
// tcs [T, B, u]. The forward, the backward through time and the one-step call for generation are each one call.

import {
  rnn, RNN_BATCH, RNN_STEPS, RNN_UNITS, RNN_ACT, RNN_REC_ACT, RNN_RECURRENT, RNN_MASK, RNN_DRECURRENT,
  RNN_GO_BACKWARDS, RNN_RETURN_SEQUENCES, RNN_ACCUMULATE, RNN_CELL_LSTM,
} from "./recurrent";
import { activation, ACT_TANH, ACT_SIGMOID, ACT_HARD_SIGMOID } from "./activations";
import { gemm_nn, gemm_tn, matmul } from "./matmul";

const G = 4;

/**
 * One row of one step: z [4u] holds the pre-activations in and the gates' outputs out; cPrev [u] -> c [u],
 * tc [u] = act(c), h [u] = o act(c). c may alias cPrev and h the previous state (the one-step call updates in place).
 */
@inline function cellForward(z: usize, cPrev: usize, c: usize, tc: usize, h: usize, u: i32, act: i32, rec: i32, alpha: f32): void {
  const zf = z + (<usize>u << 2), zg = zf + (<usize>u << 2), zo = zg + (<usize>u << 2);
  for (let j = 0; j < u; j += 4) {
    const m = u - j;
    const i = activation.apply(rnn.ld(z, j, m), rec, alpha);
    const f = activation.apply(rnn.ld(zf, j, m), rec, alpha);
    const g = activation.apply(rnn.ld(zg, j, m), act, alpha);
    const o = activation.apply(rnn.ld(zo, j, m), rec, alpha);
    const cn = f32x4.add(f32x4.mul(f, rnn.ld(cPrev, j, m)), f32x4.mul(i, g));
    const t = activation.apply(cn, act, alpha);
    rnn.st(z, j, m, i); rnn.st(zf, j, m, f); rnn.st(zg, j, m, g); rnn.st(zo, j, m, o);
    rnn.st(c, j, m, cn);
    rnn.st(tc, j, m, t);
    rnn.st(h, j, m, f32x4.mul(o, t));
  }
}

/**
 * The gate pass of one step over its B rows (row strides: z 4u, the states u). A padded row (mask 0) keeps its
 * state: h and c are copies of the previous ones. mask = 0: every row is real.
 */
@inline function stepRows(
  z: usize, hPrev: usize, cPrev: usize, h: usize, c: usize, tc: usize,
  B: i32, u: i32, mask: usize, s: i32, T: i32, backwards: bool, act: i32, rec: i32, alpha: f32,
): void {
  const rowBytes = <usize>u << 2;
  for (let b = 0; b < B; b++) {
    const o = <usize>b * rowBytes;
    if (rnn.isReal(mask, b, s, T, backwards)) {
      cellForward(z + <usize>G * o, cPrev + o, c + o, tc + o, h + o, u, act, rec, alpha);
    } else {
      rnn.copyRow(hPrev + o, h + o, u);
      rnn.copyRow(cPrev + o, c + o, u);
    }
  }
}

/** stepRows with the usual activation pairs as constants (their math inlined), any other pair looked up per vector. */
function stepForward(
  z: usize, hPrev: usize, cPrev: usize, h: usize, c: usize, tc: usize,
  B: i32, u: i32, mask: usize, s: i32, T: i32, backwards: bool, p: usize,
): void {
  const act = rnn.at(p, RNN_ACT), rec = rnn.at(p, RNN_REC_ACT), alpha = rnn.alpha(p);
  if (ASC_SHRINK_LEVEL == 0 && act == ACT_TANH && rec == ACT_SIGMOID) {
    stepRows(z, hPrev, cPrev, h, c, tc, B, u, mask, s, T, backwards, ACT_TANH, ACT_SIGMOID, alpha);
  } else if (ASC_SHRINK_LEVEL == 0 && act == ACT_TANH && rec == ACT_HARD_SIGMOID) {
    stepRows(z, hPrev, cPrev, h, c, tc, B, u, mask, s, T, backwards, ACT_TANH, ACT_HARD_SIGMOID, alpha);
  } else {
    activation.runtimeA = act;
    activation.runtimeB = rec;
    stepRows(z, hPrev, cPrev, h, c, tc, B, u, mask, s, T, backwards, activation.RUNTIME_A, activation.RUNTIME_B, alpha);
  }
}

/**
 * LSTM over all T steps from a zero state. x [B, T, in]; y [B, T, u] (returnSequences) or [B, u]; work: the
 * rnn_work_floats(RNN_CELL_LSTM, p) floats that lstm_backward reads next; p: the parameter block (recurrent.ts).
 * The input projection of all steps is one GEMM; each step is one GEMM h [B, u] · U [u, 4u] (U packed once) added onto its gates
 * and one fused pass of the gates and the state update.
 */
export function lstm_forward(x: usize, y: usize, work: usize, p: usize): void {
  rnn.setWork(RNN_CELL_LSTM, work, p);
  const B = rnn.at(p, RNN_BATCH), T = rnn.at(p, RNN_STEPS), u = rnn.at(p, RNN_UNITS);
  const backwards = rnn.flag(p, RNN_GO_BACKWARDS);
  const mask = rnn.ptr(p, RNN_MASK), U = rnn.ptr(p, RNN_RECURRENT);
  rnn.projectInputs(x, p, G);
  const stateBytes = <usize>(B * u) << 2;
  memory.fill(rnn.aux, 0, stateBytes);
  matmul.pack(U, G * u, 1, u, G * u, rnn.packed); // U once, not once per step
  for (let s = 0; s < T; s++) {
    const z = rnn.gates + <usize>s * G * stateBytes;
    const hPrev = rnn.hs + <usize>s * stateBytes, cPrev = rnn.aux + <usize>s * stateBytes;
    matmul.gemmPacked(rnn.stateIn(p, s), u, 1, rnn.packed, z, G * u, B, u, G * u, 1);
    stepForward(z, hPrev, cPrev, hPrev + stateBytes, cPrev + stateBytes, rnn.aux2 + <usize>s * stateBytes, B, u, mask, s, T, backwards, p);
  }
  rnn.writeOutputs(y, p);
}

/**
 * One step for a batch, from a carried state (generation: each new token costs one step). x [B, in];
 * state [2, B, u] = (h, c), read and replaced by the new state (h is the step's output); work:
 * rnn_step_work_floats(RNN_CELL_LSTM, p) floats. The same sums in the same order as a step of lstm_forward, so a
 * sequence fed one step at a time gives lstm_forward's bits.
 */
export function lstm_step(x: usize, state: usize, work: usize, p: usize): void {
  const B = rnn.at(p, RNN_BATCH), u = rnn.at(p, RNN_UNITS);
  const stateBytes = <usize>(B * u) << 2;
  const z = work, tc = work + (rnn.vecs(G * B * u) << 2);
  const h = state, c = state + stateBytes;
  rnn.projectRows(x, z, B, p, G);
  gemm_nn(h, rnn.ptr(p, RNN_RECURRENT), z, B, u, G * u, 1);
  stepForward(z, h, c, h, c, tc, B, u, 0, 0, 1, false, p);
}

/**
 * One row of one step backward. z [4u]: the gates' outputs in, the pre-activations' gradients out; cPrev, tc: the
 * step's previous cell state and act(c'); dyRow [u] the output's gradient at this step (0: none); dh [u] the
 * gradient carried from the next step; dc [u] the cell state's, replaced by the previous cell state's.
 */
@inline function cellBackward(z: usize, cPrev: usize, tc: usize, dyRow: usize, dh: usize, dc: usize, u: i32, act: i32, rec: i32, alpha: f32): void {
  const zf = z + (<usize>u << 2), zg = zf + (<usize>u << 2), zo = zg + (<usize>u << 2);
  for (let j = 0; j < u; j += 4) {
    const m = u - j;
    let dhv = rnn.ld(dh, j, m);
    if (dyRow) dhv = f32x4.add(dhv, rnn.ld(dyRow, j, m));
    const i = rnn.ld(z, j, m), f = rnn.ld(zf, j, m), g = rnn.ld(zg, j, m), o = rnn.ld(zo, j, m);
    const t = rnn.ld(tc, j, m);
    const dcv = f32x4.add(rnn.ld(dc, j, m), f32x4.mul(f32x4.mul(dhv, o), activation.slopeFromOutput(t, act, alpha)));
    rnn.st(z, j, m, f32x4.mul(f32x4.mul(dcv, g), activation.slopeFromOutput(i, rec, alpha)));
    rnn.st(zf, j, m, f32x4.mul(f32x4.mul(dcv, rnn.ld(cPrev, j, m)), activation.slopeFromOutput(f, rec, alpha)));
    rnn.st(zg, j, m, f32x4.mul(f32x4.mul(dcv, i), activation.slopeFromOutput(g, act, alpha)));
    rnn.st(zo, j, m, f32x4.mul(f32x4.mul(dhv, t), activation.slopeFromOutput(o, rec, alpha)));
    rnn.st(dc, j, m, f32x4.mul(dcv, f));
  }
}

/**
 * One step's rows backward. A padded row's gates get no gradient and its state's gradients pass through to the
 * previous state: dh2 = dh (+ dy), dc unchanged. With a mask, a real row's dh2 is zeroed for the GEMM to add onto.
 */
@inline function backwardRows(
  z: usize, cPrev: usize, tc: usize, dy: usize, B: i32, u: i32, mask: usize, s: i32, T: i32, backwards: bool,
  seq: bool, act: i32, rec: i32, alpha: f32,
): void {
  const rowBytes = <usize>u << 2;
  for (let b = 0; b < B; b++) {
    const o = <usize>b * rowBytes;
    const real = rnn.isReal(mask, b, s, T, backwards);
    const dyRow = rnn.dyRow(dy, b, s, T, u, seq, real);
    if (real) {
      cellBackward(z + <usize>G * o, cPrev + o, tc + o, dyRow, rnn.dh + o, rnn.dc + o, u, act, rec, alpha);
      if (mask) memory.fill(rnn.dh2 + o, 0, rowBytes);
    } else {
      memory.fill(z + <usize>G * o, 0, <usize>G * rowBytes);
      for (let j = 0; j < u; j += 4) {
        const m = u - j;
        let dhv = rnn.ld(rnn.dh + o, j, m);
        if (dyRow) dhv = f32x4.add(dhv, rnn.ld(dyRow, j, m));
        rnn.st(rnn.dh2 + o, j, m, dhv);
      }
    }
  }
}

function stepBackward(z: usize, cPrev: usize, tc: usize, dy: usize, B: i32, u: i32, mask: usize, s: i32, T: i32, backwards: bool, seq: bool, p: usize): void {
  const act = rnn.at(p, RNN_ACT), rec = rnn.at(p, RNN_REC_ACT), alpha = rnn.alpha(p);
  if (act == ACT_TANH && rec == ACT_SIGMOID) {
    backwardRows(z, cPrev, tc, dy, B, u, mask, s, T, backwards, seq, ACT_TANH, ACT_SIGMOID, alpha);
  } else if (act == ACT_TANH && rec == ACT_HARD_SIGMOID) {
    backwardRows(z, cPrev, tc, dy, B, u, mask, s, T, backwards, seq, ACT_TANH, ACT_HARD_SIGMOID, alpha);
  } else {
    activation.runtimeA = act;
    activation.runtimeB = rec;
    backwardRows(z, cPrev, tc, dy, B, u, mask, s, T, backwards, seq, activation.RUNTIME_A, activation.RUNTIME_B, alpha);
  }
}

/**
 * Backpropagation through time after lstm_forward (same block, same work). dy [B, T, u] (returnSequences) or
 * [B, u]; dx [B, T, in] is written (0: not wanted). The weight gradients (block's RNN_D*) are written, or added
 * onto with RNN_ACCUMULATE. Steps run from the last processed to the first, carrying dL/dh and dL/dc; each step is
 * one fused pass and one GEMM dgates [B, 4u] · Uᵀ; then dU = hsᵀ · dgates, dW = xsᵀ · dgates, db and dx are single
 * products over all steps.
 */
export function lstm_backward(dy: usize, dx: usize, work: usize, p: usize): void {
  rnn.setWork(RNN_CELL_LSTM, work, p);
  const B = rnn.at(p, RNN_BATCH), T = rnn.at(p, RNN_STEPS), u = rnn.at(p, RNN_UNITS);
  const backwards = rnn.flag(p, RNN_GO_BACKWARDS), seq = rnn.flag(p, RNN_RETURN_SEQUENCES);
  const mask = rnn.ptr(p, RNN_MASK), U = rnn.ptr(p, RNN_RECURRENT);
  const stateBytes = <usize>(B * u) << 2;
  rnn.startBackward(dy, p);
  matmul.pack(U, 1, G * u, G * u, u, rnn.packed); // Uᵀ once
  for (let s = T - 1; s >= 0; s--) {
    const z = rnn.gates + <usize>s * G * stateBytes;
    stepBackward(z, rnn.aux + <usize>s * stateBytes, rnn.aux2 + <usize>s * stateBytes, dy, B, u, mask, s, T, backwards, seq, p);
    matmul.gemmPacked(z, G * u, 1, rnn.packed, rnn.dh2, u, B, G * u, u, i32(mask != 0));
    rnn.unmaskGrad(p, s);
    rnn.swapDh();
  }
  gemm_tn(rnn.statesIn(p), rnn.gates, rnn.ptr(p, RNN_DRECURRENT), u, T * B, G * u, i32(rnn.flag(p, RNN_ACCUMULATE)));
  rnn.finishBackward(dx, p, G);
}
