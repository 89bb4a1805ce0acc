// SimpleRNN (Keras's layout): kernel W [in, u], recurrent kernel U [u, u], bias b [u]:
//   h' = act(x W + b + h U)
// The workspace, the parameter block and the step order are recurrent.ts's; the gates region keeps each step's
// pre-activations (backward reads the slope from the state h' itself). Forward, backward through time and the
// one-step call for generation are each one call.

import {
  rnn, RNN_BATCH, RNN_STEPS, RNN_UNITS, RNN_ACT, RNN_RECURRENT, RNN_MASK, RNN_DRECURRENT,
  RNN_GO_BACKWARDS, RNN_RETURN_SEQUENCES, RNN_ACCUMULATE, RNN_CELL_SIMPLE,
} from "./recurrent";
import { activation, ACT_TANH } from "./activations";
import { gemm_nn, gemm_tn, matmul } from "./matmul";

/** One step's B rows: h = act(z) (z, h [B, u]); a padded row (mask 0) keeps hPrev. h may alias hPrev. */
@inline function forwardRows(z: usize, hPrev: usize, h: usize, B: i32, u: i32, mask: usize, s: i32, T: i32, backwards: bool, act: i32, alpha: f32): void {
  const rowBytes = <usize>u << 2;
  for (let b = 0; b < B; b++) {
    const o = <usize>b * rowBytes;
    if (rnn.isReal(mask, b, s, T, backwards)) {
      for (let j = 0; j < u; j += 4) rnn.st(h + o, j, u - j, activation.apply(rnn.ld(z + o, j, u - j), act, alpha));
    } else {
      rnn.copyRow(hPrev + o, h + o, u);
    }
  }
}

/** forwardRows with tanh as a constant, any other activation looked up per vector. */
function stepForward(z: usize, hPrev: usize, h: usize, B: i32, u: i32, mask: usize, s: i32, T: i32, backwards: bool, p: usize): void {
  const act = rnn.at(p, RNN_ACT), alpha = rnn.alpha(p);
  if (ASC_SHRINK_LEVEL == 0 && act == ACT_TANH) forwardRows(z, hPrev, h, B, u, mask, s, T, backwards, ACT_TANH, alpha);
  else {
    activation.runtimeA = act;
    forwardRows(z, hPrev, h, B, u, mask, s, T, backwards, activation.RUNTIME_A, alpha);
  }
}

/**
 * SimpleRNN over all T steps from a zero state. x [B, T, in]; y [B, T, u] (returnSequences) or [B, u]; work:
 * rnn_work_floats(RNN_CELL_SIMPLE, p) floats, read next by simple_rnn_backward; p: the parameter block.
 */
export function simple_rnn_forward(x: usize, y: usize, work: usize, p: usize): void {
  rnn.setWork(RNN_CELL_SIMPLE, work, p);
  const B = rnn.at(p, RNN_BATCH), T = rnn.at(p, RNN_STEPS), u = rnn.at(p, RNN_UNITS);
  const backwards = rnn.flag(p, RNN_GO_BACKWARDS), mask = rnn.ptr(p, RNN_MASK);
  rnn.projectInputs(x, p, 1);
  matmul.pack(rnn.ptr(p, RNN_RECURRENT), u, 1, u, u, rnn.packed);
  const stateBytes = <usize>(B * u) << 2;
  for (let s = 0; s < T; s++) {
    const z = rnn.gates + <usize>s * stateBytes, hPrev = rnn.hs + <usize>s * stateBytes;
    matmul.gemmPacked(rnn.stateIn(p, s), u, 1, rnn.packed, z, u, B, u, u, 1);
    stepForward(z, hPrev, hPrev + stateBytes, B, u, mask, s, T, backwards, p);
  }
  rnn.writeOutputs(y, p);
}

/**
 * One step for a batch from a carried state (generation). x [B, in]; h [B, u] read and replaced by the new state;
 * work: rnn_step_work_floats(RNN_CELL_SIMPLE, p) floats. The same sums as a step of simple_rnn_forward.
 */
export function simple_rnn_step(x: usize, h: usize, work: usize, p: usize): void {
  const B = rnn.at(p, RNN_BATCH), u = rnn.at(p, RNN_UNITS);
  rnn.projectRows(x, work, B, p, 1);
  gemm_nn(h, rnn.ptr(p, RNN_RECURRENT), work, B, u, u, 1);
  stepForward(work, h, h, B, u, 0, 0, 1, false, p);
}

/**
 * One step's rows backward: dz = (dh + dy) act'(z) from the state h = act(z), into z [B, u]; a padded row's dz is 0
 * and its gradient passes to the previous state (dh2 = dh + dy); with a mask a real row's dh2 is zeroed for the
 * GEMM to add onto.
 */
@inline function backwardRows(z: usize, h: usize, dy: usize, B: i32, u: i32, mask: usize, s: i32, T: i32, backwards: bool, seq: bool, act: i32, alpha: f32): void {
  const rowBytes = <usize>u << 2;
  for (let b = 0; b < B; b++) {
    const o = <usize>b * rowBytes;
    const real = rnn.isReal(mask, b, s, T, backwards);
    const dyRow = rnn.dyRow(dy, b, s, T, u, seq, real);
    for (let j = 0; j < u; j += 4) {
      const m = u - j;
      let dh = rnn.ld(rnn.dh + o, j, m);
      if (dyRow) dh = f32x4.add(dh, rnn.ld(dyRow, j, m));
      if (real) {
        rnn.st(z + o, j, m, f32x4.mul(dh, activation.slopeFromOutput(rnn.ld(h + o, j, m), act, alpha)));
        if (mask) rnn.st(rnn.dh2 + o, j, m, f32x4.splat(0));
      } else {
        rnn.st(z + o, j, m, f32x4.splat(0));
        rnn.st(rnn.dh2 + o, j, m, dh);
      }
    }
  }
}

function stepBackward(z: usize, h: usize, dy: usize, B: i32, u: i32, mask: usize, s: i32, T: i32, backwards: bool, seq: bool, p: usize): void {
  const act = rnn.at(p, RNN_ACT), alpha = rnn.alpha(p);
  if (act == ACT_TANH) backwardRows(z, h, dy, B, u, mask, s, T, backwards, seq, ACT_TANH, alpha);
  else {
    activation.runtimeA = act;
    backwardRows(z, h, dy, B, u, mask, s, T, backwards, seq, activation.RUNTIME_A, alpha);
  }
}

/**
 * Backpropagation through time after simple_rnn_forward (same block and work). dy [B, T, u] (returnSequences) or
 * [B, u]; dx [B, T, in] written (0: not wanted); the weight gradients written, or added with RNN_ACCUMULATE. Each
 * step is one fused pass and one GEMM dz [B, u] · Uᵀ; dU = hsᵀ · dz, dW, db and dx are single products over all steps.
 */
export function simple_rnn_backward(dy: usize, dx: usize, work: usize, p: usize): void {
  rnn.setWork(RNN_CELL_SIMPLE, work, p);
  const B = rnn.at(p, RNN_BATCH), T = rnn.at(p, RNN_STEPS), u = rnn.at(p, RNN_UNITS);
  const backwards = rnn.flag(p, RNN_GO_BACKWARDS), seq = rnn.flag(p, RNN_RETURN_SEQUENCES);
  const mask = rnn.ptr(p, RNN_MASK);
  const stateBytes = <usize>(B * u) << 2;
  rnn.startBackward(dy, p);
  matmul.pack(rnn.ptr(p, RNN_RECURRENT), 1, u, u, u, rnn.packed); // Uᵀ
  for (let s = T - 1; s >= 0; s--) {
    const z = rnn.gates + <usize>s * stateBytes;
    stepBackward(z, rnn.hs + <usize>(s + 1) * stateBytes, dy, B, u, mask, s, T, backwards, seq, p);
    matmul.gemmPacked(z, u, 1, rnn.packed, rnn.dh2, u, B, u, u, i32(mask != 0));
    rnn.unmaskGrad(p, s);
    rnn.swapDh();
  }
  gemm_tn(rnn.statesIn(p), rnn.gates, rnn.ptr(p, RNN_DRECURRENT), u, T * B, u, i32(rnn.flag(p, RNN_ACCUMULATE)));
  rnn.finishBackward(dx, p, 1);
}
