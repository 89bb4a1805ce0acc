// GRU (Keras's layout): kernel W [in, 3u], recurrent kernel U [u, 3u], the gates in the order z, r, h. Both forms:
//   resetAfter (Keras 3's default, PyTorch's GRU, cuDNN): bias [2, 3u] = (input bias b_i, recurrent bias b_r)
//     x_* = x W_* + b_i*      g_* = h U_* + b_r*
//     z = rec(x_z + g_z)      r = rec(x_r + g_r)      hh = act(x_h + r g_h)
//   reset before (TF.js's and Keras 2's default): bias [3u]
//     z = rec(x_z + h U_z)    r = rec(x_r + h U_r)    hh = act(x_h + (r h) U_h)
//   h' = z h + (1 - z) hh
// The workspace, the parameter block and the step order are recurrent.ts's; aux holds per step g_h (reset after)
// or r h (reset before) [T, B, u]; aux2 (reset after) the gradients of the recurrent pre-activations [T, B, 3u].

import {
  rnn, RNN_BATCH, RNN_STEPS, RNN_UNITS, RNN_ACT, RNN_REC_ACT, RNN_RECURRENT, RNN_BIAS, RNN_MASK, RNN_DRECURRENT,
  RNN_DBIAS, RNN_GO_BACKWARDS, RNN_RETURN_SEQUENCES, RNN_RESET_AFTER, RNN_ACCUMULATE, RNN_CELL_GRU,
} from "./recurrent";
import { activation, bias_grad, ACT_TANH, ACT_SIGMOID, ACT_HARD_SIGMOID } from "./activations";
import { gemm_nn, gemm_tn, matmul } from "./matmul";

const G = 3;

@inline function one(): v128 {
  return f32x4.splat(1);
}

// ---- forward ----

/**
 * Reset after, one row: z [3u] the input pre-activations x W + b_i in, the gates z, r, hh out; g [3u] = h U;
 * rb [3u] the recurrent bias (0: none); gh [u] gets g_h + b_rh; h' = z h + (1 - z) hh (h may alias hPrev).
 */
@inline function rowAfter(z: usize, g: usize, rb: usize, hPrev: usize, h: usize, gh: usize, u: i32, act: i32, rec: i32, alpha: f32): void {
  const ub = <usize>u << 2;
  for (let j = 0; j < u; j += 4) {
    const m = u - j;
    let gz = rnn.ld(g, j, m), gr = rnn.ld(g + ub, j, m), gg = rnn.ld(g + 2 * ub, j, m);
    if (rb) {
      gz = f32x4.add(gz, rnn.ld(rb, j, m));
      gr = f32x4.add(gr, rnn.ld(rb + ub, j, m));
      gg = f32x4.add(gg, rnn.ld(rb + 2 * ub, j, m));
    }
    const zv = activation.apply(f32x4.add(rnn.ld(z, j, m), gz), rec, alpha);
    const rv = activation.apply(f32x4.add(rnn.ld(z + ub, j, m), gr), rec, alpha);
    const hh = activation.apply(f32x4.add(rnn.ld(z + 2 * ub, j, m), f32x4.mul(rv, gg)), act, alpha);
    const hp = rnn.ld(hPrev, j, m);
    rnn.st(z, j, m, zv); rnn.st(z + ub, j, m, rv); rnn.st(z + 2 * ub, j, m, hh);
    rnn.st(gh, j, m, gg);
    rnn.st(h, j, m, f32x4.add(f32x4.mul(zv, hp), f32x4.mul(f32x4.sub(one(), zv), hh)));
  }
}

/** Reset before, first pass of one row: z, r from their pre-activations (z [3u], in place), rh [u] = r h. */
@inline function rowGates(z: usize, hPrev: usize, rh: usize, u: i32, rec: i32, alpha: f32): void {
  const ub = <usize>u << 2;
  for (let j = 0; j < u; j += 4) {
    const m = u - j;
    const zv = activation.apply(rnn.ld(z, j, m), rec, alpha);
    const rv = activation.apply(rnn.ld(z + ub, j, m), rec, alpha);
    rnn.st(z, j, m, zv); rnn.st(z + ub, j, m, rv);
    rnn.st(rh, j, m, f32x4.mul(rv, rnn.ld(hPrev, j, m)));
  }
}

/** Reset before, second pass: hh = act(x_h + (r h) U_h) in place, h' = z h + (1 - z) hh (h may alias hPrev). */
@inline function rowState(z: usize, hPrev: usize, h: usize, u: i32, act: i32, alpha: f32): void {
  const ub = <usize>u << 2;
  for (let j = 0; j < u; j += 4) {
    const m = u - j;
    const zv = rnn.ld(z, j, m);
    const hh = activation.apply(rnn.ld(z + 2 * ub, j, m), act, alpha);
    rnn.st(z + 2 * ub, j, m, hh);
    rnn.st(h, j, m, f32x4.add(f32x4.mul(zv, rnn.ld(hPrev, j, m)), f32x4.mul(f32x4.sub(one(), zv), hh)));
  }
}

/** One step's B rows of the reset-after pass (a padded row keeps hPrev). */
@inline function rowsAfter(
  z: usize, g: usize, rb: usize, hIn: usize, hPrev: usize, h: usize, gh: usize, B: i32, u: i32,
  mask: usize, s: i32, T: i32, backwards: bool, act: i32, rec: i32, alpha: f32,
): void {
  const rowBytes = <usize>u << 2;
  for (let b = 0; b < B; b++) {
    const o = <usize>b * rowBytes;
    if (rnn.isReal(mask, b, s, T, backwards)) rowAfter(z + <usize>G * o, g + <usize>G * o, rb, hIn + o, h + o, gh + o, u, act, rec, alpha);
    else rnn.copyRow(hPrev + o, h + o, u);
  }
}

/** hIn: the state the cell reads (recurrentDropout's masked copy, or hPrev); hPrev: the state a padded row keeps. */
function passAfter(z: usize, g: usize, hIn: usize, hPrev: usize, h: usize, gh: usize, B: i32, u: i32, mask: usize, s: i32, T: i32, backwards: bool, p: usize): void {
  const act = rnn.at(p, RNN_ACT), rec = rnn.at(p, RNN_REC_ACT), alpha = rnn.alpha(p);
  const bias = rnn.ptr(p, RNN_BIAS);
  const rb = bias ? bias + (<usize>(G * u) << 2) : 0;
  if (ASC_SHRINK_LEVEL == 0 && act == ACT_TANH && rec == ACT_SIGMOID) {
    rowsAfter(z, g, rb, hIn, hPrev, h, gh, B, u, mask, s, T, backwards, ACT_TANH, ACT_SIGMOID, alpha);
  } else if (ASC_SHRINK_LEVEL == 0 && act == ACT_TANH && rec == ACT_HARD_SIGMOID) {
    rowsAfter(z, g, rb, hIn, hPrev, h, gh, B, u, mask, s, T, backwards, ACT_TANH, ACT_HARD_SIGMOID, alpha);
  } else {
    activation.runtimeA = act;
    activation.runtimeB = rec;
    rowsAfter(z, g, rb, hIn, hPrev, h, gh, B, u, mask, s, T, backwards, activation.RUNTIME_A, activation.RUNTIME_B, alpha);
  }
}

/** The reset-before gate pass over B rows (every row: a padded row's values are not used). */
function passGates(z: usize, hPrev: usize, rh: usize, B: i32, u: i32, p: usize): void {
  const rec = rnn.at(p, RNN_REC_ACT), alpha = rnn.alpha(p);
  const rowBytes = <usize>u << 2;
  if (ASC_SHRINK_LEVEL == 0 && rec == ACT_SIGMOID) {
    for (let b = 0; b < B; b++) rowGates(z + <usize>G * <usize>b * rowBytes, hPrev + <usize>b * rowBytes, rh + <usize>b * rowBytes, u, ACT_SIGMOID, alpha);
  } else if (ASC_SHRINK_LEVEL == 0 && rec == ACT_HARD_SIGMOID) {
    for (let b = 0; b < B; b++) rowGates(z + <usize>G * <usize>b * rowBytes, hPrev + <usize>b * rowBytes, rh + <usize>b * rowBytes, u, ACT_HARD_SIGMOID, alpha);
  } else {
    activation.runtimeB = rec;
    for (let b = 0; b < B; b++) rowGates(z + <usize>G * <usize>b * rowBytes, hPrev + <usize>b * rowBytes, rh + <usize>b * rowBytes, u, activation.RUNTIME_B, alpha);
  }
}

/** The reset-before state pass over B rows (hIn as in passAfter; a padded row keeps hPrev). */
function passState(z: usize, hIn: usize, hPrev: usize, h: usize, B: i32, u: i32, mask: usize, s: i32, T: i32, backwards: bool, p: usize): void {
  const act = rnn.at(p, RNN_ACT), alpha = rnn.alpha(p);
  const rowBytes = <usize>u << 2;
  activation.runtimeA = act;
  for (let b = 0; b < B; b++) {
    const o = <usize>b * rowBytes;
    if (!rnn.isReal(mask, b, s, T, backwards)) rnn.copyRow(hPrev + o, h + o, u);
    else if (ASC_SHRINK_LEVEL == 0 && act == ACT_TANH) rowState(z + <usize>G * o, hIn + o, h + o, u, ACT_TANH, alpha);
    else rowState(z + <usize>G * o, hIn + o, h + o, u, activation.RUNTIME_A, alpha);
  }
}

/**
 * GRU over all T steps from a zero state. x [B, T, in]; y [B, T, u] (returnSequences) or [B, u]; work:
 * rnn_work_floats(RNN_CELL_GRU, p) floats, read next by gru_backward; p: the parameter block (RNN_RESET_AFTER picks
 * the form). Per step: reset after, one GEMM h U [B, 3u] and one fused pass; reset before, h U_zr added onto the
 * z, r pre-activations, a pass for z, r and r h, (r h) U_h added onto the candidate's, a pass for the state.
 */
export function gru_forward(x: usize, y: usize, work: usize, p: usize): void {
  rnn.setWork(RNN_CELL_GRU, work, p);
  const B = rnn.at(p, RNN_BATCH), T = rnn.at(p, RNN_STEPS), u = rnn.at(p, RNN_UNITS);
  const backwards = rnn.flag(p, RNN_GO_BACKWARDS), after = rnn.flag(p, RNN_RESET_AFTER);
  const mask = rnn.ptr(p, RNN_MASK), U = rnn.ptr(p, RNN_RECURRENT);
  rnn.projectInputs(x, p, G);
  const stateBytes = <usize>(B * u) << 2;
  const packedH = rnn.packed + (<usize>matmul.packedFloats(u, 2 * u) << 2);
  if (after) {
    matmul.pack(U, G * u, 1, u, G * u, rnn.packed);
  } else {
    matmul.pack(U, G * u, 1, u, 2 * u, rnn.packed); // U_zr
    matmul.pack(U + (<usize>(2 * u) << 2), G * u, 1, u, u, packedH); // U_h
  }
  for (let s = 0; s < T; s++) {
    const z = rnn.gates + <usize>s * G * stateBytes;
    const hPrev = rnn.hs + <usize>s * stateBytes, h = hPrev + stateBytes;
    const aux = rnn.aux + <usize>s * stateBytes;
    const hIn = rnn.stateIn(p, s);
    if (after) {
      matmul.gemmPacked(hIn, u, 1, rnn.packed, rnn.step, G * u, B, u, G * u, 0);
      passAfter(z, rnn.step, hIn, hPrev, h, aux, B, u, mask, s, T, backwards, p);
    } else {
      matmul.gemmPacked(hIn, u, 1, rnn.packed, z, G * u, B, u, 2 * u, 1);
      passGates(z, hIn, aux, B, u, p);
      matmul.gemmPacked(aux, u, 1, packedH, z + (<usize>(2 * u) << 2), G * u, B, u, u, 1);
      passState(z, hIn, hPrev, h, B, u, mask, s, T, backwards, p);
    }
  }
  rnn.writeOutputs(y, p);
}

/**
 * One step for a batch from a carried state (generation). x [B, in]; h [B, u] read and replaced by the new state;
 * work: rnn_step_work_floats(RNN_CELL_GRU, p) floats. The same sums as a step of gru_forward.
 */
export function gru_step(x: usize, h: usize, work: usize, p: usize): void {
  const B = rnn.at(p, RNN_BATCH), u = rnn.at(p, RNN_UNITS);
  const U = rnn.ptr(p, RNN_RECURRENT);
  const z = work, aux = z + (rnn.vecs(G * B * u) << 2), g = aux + (rnn.vecs(B * u) << 2);
  rnn.projectRows(x, z, B, p, G);
  if (rnn.flag(p, RNN_RESET_AFTER)) {
    gemm_nn(h, U, g, B, u, G * u, 0);
    passAfter(z, g, h, h, h, aux, B, u, 0, 0, 1, false, p);
  } else {
    matmul.gemmStrided(h, u, 1, U, G * u, 1, z, G * u, B, u, 2 * u, 1);
    passGates(z, h, aux, B, u, p);
    matmul.gemmStrided(aux, u, 1, U + (<usize>(2 * u) << 2), G * u, 1, z + (<usize>(2 * u) << 2), G * u, B, u, u, 1);
    passState(z, h, h, h, B, u, 0, 0, 1, false, p);
  }
}

// ---- backward ----

/**
 * Reset after, one row: z [3u] the gates in, the input pre-activations' gradients (dz, dr, dhh) out; dg [3u] the
 * recurrent pre-activations' (dz, dr, dhh r); gh [u] = g_h; dh [u] carried in, dh2 [u] = dh z out (the GEMM adds the
 * rest).
 */
@inline function rowAfterBack(z: usize, dg: usize, gh: usize, hPrev: usize, dyRow: usize, dh: usize, dh2: usize, u: i32, act: i32, rec: i32, alpha: f32): void {
  const ub = <usize>u << 2;
  for (let j = 0; j < u; j += 4) {
    const m = u - j;
    let dhv = rnn.ld(dh, j, m);
    if (dyRow) dhv = f32x4.add(dhv, rnn.ld(dyRow, j, m));
    const zv = rnn.ld(z, j, m), rv = rnn.ld(z + ub, j, m), hh = rnn.ld(z + 2 * ub, j, m);
    const dhh = f32x4.mul(f32x4.mul(dhv, f32x4.sub(one(), zv)), activation.slopeFromOutput(hh, act, alpha));
    const dz = f32x4.mul(f32x4.mul(dhv, f32x4.sub(rnn.ld(hPrev, j, m), hh)), activation.slopeFromOutput(zv, rec, alpha));
    const dr = f32x4.mul(f32x4.mul(dhh, rnn.ld(gh, j, m)), activation.slopeFromOutput(rv, rec, alpha));
    rnn.st(z, j, m, dz); rnn.st(z + ub, j, m, dr); rnn.st(z + 2 * ub, j, m, dhh);
    rnn.st(dg, j, m, dz); rnn.st(dg + ub, j, m, dr); rnn.st(dg + 2 * ub, j, m, f32x4.mul(dhh, rv));
    rnn.st(dh2, j, m, f32x4.mul(dhv, zv));
  }
}

/** Reset before, first pass of one row: dz and dhh into z's z and h thirds (r stays for the second), dh2 = dh z. */
@inline function rowBeforeBack(z: usize, hPrev: usize, dyRow: usize, dh: usize, dh2: usize, u: i32, act: i32, rec: i32, alpha: f32): void {
  const ub = <usize>u << 2;
  for (let j = 0; j < u; j += 4) {
    const m = u - j;
    let dhv = rnn.ld(dh, j, m);
    if (dyRow) dhv = f32x4.add(dhv, rnn.ld(dyRow, j, m));
    const zv = rnn.ld(z, j, m), hh = rnn.ld(z + 2 * ub, j, m);
    const dhh = f32x4.mul(f32x4.mul(dhv, f32x4.sub(one(), zv)), activation.slopeFromOutput(hh, act, alpha));
    const dz = f32x4.mul(f32x4.mul(dhv, f32x4.sub(rnn.ld(hPrev, j, m), hh)), activation.slopeFromOutput(zv, rec, alpha));
    rnn.st(z, j, m, dz); rnn.st(z + 2 * ub, j, m, dhh);
    rnn.st(dh2, j, m, f32x4.mul(dhv, zv));
  }
}

/** Reset before, second pass: from drh = dL/d(r h) [u]: dr = drh h rec'(r) into z's r third, dh2 += drh r. */
@inline function rowResetBack(z: usize, hPrev: usize, drh: usize, dh2: usize, u: i32, rec: i32, alpha: f32): void {
  const ub = <usize>u << 2;
  for (let j = 0; j < u; j += 4) {
    const m = u - j;
    const rv = rnn.ld(z + ub, j, m), d = rnn.ld(drh, j, m);
    rnn.st(z + ub, j, m, f32x4.mul(f32x4.mul(d, rnn.ld(hPrev, j, m)), activation.slopeFromOutput(rv, rec, alpha)));
    rnn.st(dh2, j, m, f32x4.add(rnn.ld(dh2, j, m), f32x4.mul(d, rv)));
  }
}

/** A padded row: no gradient for its gates (z [3u], and dg [3u] unless 0), dh2 = dh + dy passes to the previous state. */
@inline function rowPadded(z: usize, dg: usize, dyRow: usize, dh: usize, dh2: usize, u: i32): void {
  memory.fill(z, 0, <usize>(G * u) << 2);
  if (dg) memory.fill(dg, 0, <usize>(G * u) << 2);
  for (let j = 0; j < u; j += 4) {
    const m = u - j;
    let dhv = rnn.ld(dh, j, m);
    if (dyRow) dhv = f32x4.add(dhv, rnn.ld(dyRow, j, m));
    rnn.st(dh2, j, m, dhv);
  }
}

@inline function rowsBack(
  z: usize, dg: usize, aux: usize, hPrev: usize, dy: usize, B: i32, u: i32, mask: usize, s: i32, T: i32,
  backwards: bool, seq: bool, after: bool, act: i32, rec: i32, alpha: f32,
): void {
  const rowBytes = <usize>u << 2;
  for (let b = 0; b < B; b++) {
    const o = <usize>b * rowBytes;
    const real = rnn.isReal(mask, b, s, T, backwards);
    const dyRow = rnn.dyRow(dy, b, s, T, u, seq, real);
    if (!real) {
      rowPadded(z + <usize>G * o, after ? dg + <usize>G * o : 0, dyRow, rnn.dh + o, rnn.dh2 + o, u);
    } else if (after) {
      rowAfterBack(z + <usize>G * o, dg + <usize>G * o, aux + o, hPrev + o, dyRow, rnn.dh + o, rnn.dh2 + o, u, act, rec, alpha);
    } else {
      rowBeforeBack(z + <usize>G * o, hPrev + o, dyRow, rnn.dh + o, rnn.dh2 + o, u, act, rec, alpha);
    }
  }
}

function passBack(z: usize, dg: usize, aux: usize, hPrev: usize, dy: usize, B: i32, u: i32, mask: usize, s: i32, T: i32, backwards: bool, seq: bool, after: bool, p: usize): void {
  const act = rnn.at(p, RNN_ACT), rec = rnn.at(p, RNN_REC_ACT), alpha = rnn.alpha(p);
  if (act == ACT_TANH && rec == ACT_SIGMOID) {
    rowsBack(z, dg, aux, hPrev, dy, B, u, mask, s, T, backwards, seq, after, ACT_TANH, ACT_SIGMOID, alpha);
  } else if (act == ACT_TANH && rec == ACT_HARD_SIGMOID) {
    rowsBack(z, dg, aux, hPrev, dy, B, u, mask, s, T, backwards, seq, after, ACT_TANH, ACT_HARD_SIGMOID, alpha);
  } else {
    activation.runtimeA = act;
    activation.runtimeB = rec;
    rowsBack(z, dg, aux, hPrev, dy, B, u, mask, s, T, backwards, seq, after, activation.RUNTIME_A, activation.RUNTIME_B, alpha);
  }
}

/** Reset before: the second pass over the real rows (a padded row's gradients are already final). */
function passResetBack(z: usize, hPrev: usize, B: i32, u: i32, mask: usize, s: i32, T: i32, backwards: bool, p: usize): void {
  const rec = rnn.at(p, RNN_REC_ACT), alpha = rnn.alpha(p);
  const rowBytes = <usize>u << 2;
  activation.runtimeB = rec;
  for (let b = 0; b < B; b++) {
    const o = <usize>b * rowBytes;
    if (!rnn.isReal(mask, b, s, T, backwards)) continue;
    if (rec == ACT_SIGMOID) rowResetBack(z + <usize>G * o, hPrev + o, rnn.dc + o, rnn.dh2 + o, u, ACT_SIGMOID, alpha);
    else rowResetBack(z + <usize>G * o, hPrev + o, rnn.dc + o, rnn.dh2 + o, u, activation.RUNTIME_B, alpha);
  }
}

/**
 * Backpropagation through time after gru_forward (same block and work). dy [B, T, u] (returnSequences) or [B, u];
 * dx [B, T, in] written (0: not wanted); the weight gradients written, or added with RNN_ACCUMULATE (with
 * resetAfter the bias gradient is [2, 3u], the input bias's then the recurrent bias's). Per step one fused pass and
 * one GEMM into the previous state's gradient (reset before: also dL/d(r h) = dhh U_hᵀ and a second pass); then the
 * kernels' gradients and dx are single products over all steps.
 */
export function gru_backward(dy: usize, dx: usize, work: usize, p: usize): void {
  rnn.setWork(RNN_CELL_GRU, work, p);
  const B = rnn.at(p, RNN_BATCH), T = rnn.at(p, RNN_STEPS), u = rnn.at(p, RNN_UNITS);
  const backwards = rnn.flag(p, RNN_GO_BACKWARDS), seq = rnn.flag(p, RNN_RETURN_SEQUENCES), after = rnn.flag(p, RNN_RESET_AFTER);
  const acc = i32(rnn.flag(p, RNN_ACCUMULATE));
  const mask = rnn.ptr(p, RNN_MASK), U = rnn.ptr(p, RNN_RECURRENT), dU = rnn.ptr(p, RNN_DRECURRENT);
  const stateBytes = <usize>(B * u) << 2;
  const h2 = <usize>(2 * u) << 2;
  const packedZR = rnn.packed + (<usize>matmul.packedFloats(u, u) << 2);
  if (after) {
    matmul.pack(U, 1, G * u, G * u, u, rnn.packed); // Uᵀ
  } else {
    matmul.pack(U + h2, 1, G * u, u, u, rnn.packed); // U_hᵀ
    matmul.pack(U, 1, G * u, 2 * u, u, packedZR); // U_zrᵀ
  }
  rnn.startBackward(dy, p);
  for (let s = T - 1; s >= 0; s--) {
    const z = rnn.gates + <usize>s * G * stateBytes;
    const hPrev = rnn.statesIn(p) + <usize>s * stateBytes, aux = rnn.aux + <usize>s * stateBytes; // the state the cell read
    if (after) {
      const dg = rnn.aux2 + <usize>s * G * stateBytes;
      passBack(z, dg, aux, hPrev, dy, B, u, mask, s, T, backwards, seq, true, p);
      matmul.gemmPacked(dg, G * u, 1, rnn.packed, rnn.dh2, u, B, G * u, u, 1);
    } else {
      passBack(z, 0, aux, hPrev, dy, B, u, mask, s, T, backwards, seq, false, p);
      matmul.gemmPacked(z + h2, G * u, 1, rnn.packed, rnn.dc, u, B, u, u, 0); // dL/d(r h) = dhh U_hᵀ
      passResetBack(z, hPrev, B, u, mask, s, T, backwards, p);
      matmul.gemmPacked(z, G * u, 1, packedZR, rnn.dh2, u, B, 2 * u, u, 1);
    }
    rnn.unmaskGrad(p, s);
    rnn.swapDh();
  }
  if (after) {
    gemm_tn(rnn.statesIn(p), rnn.aux2, dU, u, T * B, G * u, acc);
    const dbias = rnn.ptr(p, RNN_DBIAS);
    if (dbias) bias_grad(rnn.aux2, dbias + (<usize>(G * u) << 2), T * B, G * u, acc);
  } else {
    // dU's z, r columns from the states, its h columns from r h: column blocks of dU [u, 3u]
    matmul.gemmStrided(rnn.statesIn(p), 1, u, rnn.gates, G * u, 1, dU, G * u, u, T * B, 2 * u, acc);
    matmul.gemmStrided(rnn.aux, 1, u, rnn.gates + h2, G * u, 1, dU + h2, G * u, u, T * B, u, acc);
  }
  rnn.finishBackward(dx, p, G);
}
