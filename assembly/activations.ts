// Activation kernels: each activation's forward and derivative side by side (forward4 / backward4 act on 4 lanes),
// the fused dense epilogue (bias + activation), the bias gradient, and row-wise softmax / log-softmax.
// Tails go through the same vector code as the body (one partial vector), so an element's result never depends
// on where it falls in the array. All math is vmath's, inside the module.

import { vmath, NCDF_MAX } from "./vmath";

export const ACT_LINEAR: i32 = 0;
export const ACT_STEP: i32 = 1; // Heaviside: 1 for x > 0, else 0; derivative 0
export const ACT_RELU: i32 = 2;
export const ACT_LEAKY_RELU: i32 = 3; // x > 0 ? x : alpha x
export const ACT_ELU: i32 = 4; // x > 0 ? x : alpha (e^x - 1)
export const ACT_SIGMOID: i32 = 5;
export const ACT_TANH: i32 = 6;
export const ACT_SOFTPLUS: i32 = 7; // log(1 + e^x)
export const ACT_GELU: i32 = 8; // x Phi(x), exact (erf) form
export const ACT_GELU_TANH: i32 = 9; // x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2
export const ACT_HARD_SIGMOID: i32 = 10; // clip(0.2 x + 0.5, 0, 1), TF.js's (Keras 3's is x / 6 + 0.5)

const GELU_C: f32 = 0.797884561; // sqrt(2 / pi)
const GELU_K: f32 = 0.044715;
const GELU_CLAMP: f32 = 30.0; // beyond +-30 geluTanh is exactly x or -0 in f32; keeps x^3 finite
const INV_SQRT_2PI: f32 = 0.398942280;

@inline function k(c: f32): v128 {
  return f32x4.splat(c);
}

/** 2 sqrt(2/pi) (x + 0.044715 x^3) with x clamped: 1 + tanh(v/2) = 2 sigmoid(v) keeps the left tail accurate. */
@inline function geluTanhArg(x: v128): v128 {
  const xc = vmath.clamp(x, -GELU_CLAMP, GELU_CLAMP);
  const x2 = f32x4.mul(xc, xc);
  return f32x4.mul(f32x4.mul(xc, vmath.madd(x2, k(GELU_K), k(1))), k(2 * GELU_C));
}

// The exact GELU y = z Phi(z) and its slope Phi(z) + z phi(z) share one exponential, e = e^(-a^2/2) with
// a = vmath.ncdfAbs(z): the backward pass and the training forward that keeps the slope (bias_gelu_slope_forward)
// compute it the same way, and y the same way as the forward pass (vmath.ncdf), so their bits agree.

/** Phi(z) + z phi(z) from a = vmath.ncdfAbs(z), e = vmath.expHalfSquare(a) and cdf = Phi(z); phi is 0 from
 *  NCDF_MAX on (e stops falling there, and z e would grow with z). */
@inline function geluSlope(z: v128, a: v128, e: v128, cdf: v128): v128 {
  const phi = v128.and(f32x4.mul(e, k(INV_SQRT_2PI)), f32x4.lt(a, k(NCDF_MAX)));
  return vmath.madd(z, phi, cdf);
}

/** GELU's slope alone. */
@inline function geluSlopeOf(z: v128): v128 {
  const a = vmath.ncdfAbs(z);
  const e = vmath.expHalfSquare(a);
  return geluSlope(z, a, e, vmath.ncdfFromLeft(z, vmath.ncdfLeft(a, e)));
}

/** y = f(x) on 4 lanes. act is a constant after inlining, so each kernel keeps only its own case. */
@inline function forward4(x: v128, act: i32, alpha: f32): v128 {
  const zero = k(0);
  switch (act) {
    case ACT_STEP:
      return v128.and(f32x4.gt(x, zero), k(1));
    case ACT_RELU: // pmax(x, 0) = x < 0 ? 0 : x: one instruction, keeps NaN
      return f32x4.pmax(x, zero);
    case ACT_LEAKY_RELU:
      return v128.bitselect(x, f32x4.mul(x, k(alpha)), f32x4.gt(x, zero));
    case ACT_ELU:
      return v128.bitselect(x, f32x4.mul(vmath.expm1(x), k(alpha)), f32x4.gt(x, zero));
    case ACT_SIGMOID:
      return vmath.sigmoid(x);
    case ACT_TANH:
      return vmath.tanh(x);
    case ACT_SOFTPLUS: // max(x, 0) + log1p(e^-|x|): no overflow, exact x far right, e^x far left
      return f32x4.add(f32x4.pmax(x, zero), vmath.log1pUnit(vmath.exp(f32x4.neg(f32x4.abs(x)))));
    case ACT_GELU:
      return f32x4.mul(x, vmath.ncdf(x));
    case ACT_GELU_TANH:
      return f32x4.mul(x, vmath.sigmoid(geluTanhArg(x)));
    case ACT_HARD_SIGMOID:
      return vmath.clamp(vmath.madd(x, k(0.2), k(0.5)), 0, 1);
    default:
      return x;
  }
}

/** Which of z (pre-activation) and y (output) the derivative reads; the other may be passed as 0. */
@inline function derivUsesY(act: i32): bool {
  return act == ACT_SIGMOID || act == ACT_TANH;
}
@inline function derivUsesZ(act: i32): bool {
  return act != ACT_LINEAR && act != ACT_STEP && !derivUsesY(act);
}

/** dz = dy f'(z) on 4 lanes, from z or y = f(z), whichever is cheaper. */
@inline function backward4(z: v128, y: v128, dy: v128, act: i32, alpha: f32): v128 {
  const zero = k(0);
  const one = k(1);
  switch (act) {
    case ACT_STEP:
      return zero;
    case ACT_RELU:
      return v128.and(dy, f32x4.gt(z, zero));
    case ACT_LEAKY_RELU:
      return v128.bitselect(dy, f32x4.mul(dy, k(alpha)), f32x4.gt(z, zero));
    case ACT_ELU: // alpha e^z on the left (exact, rather than y + alpha which cancels far left)
      return v128.bitselect(dy, f32x4.mul(dy, f32x4.mul(vmath.exp(z), k(alpha))), f32x4.gt(z, zero));
    case ACT_SIGMOID: // y (1 - y)
      return f32x4.mul(dy, f32x4.mul(y, f32x4.sub(one, y)));
    case ACT_TANH: // 1 - y^2 = (1 - y)(1 + y), which keeps the digits near |y| = 1
      return f32x4.mul(dy, f32x4.mul(f32x4.sub(one, y), f32x4.add(one, y)));
    case ACT_SOFTPLUS:
      return f32x4.mul(dy, vmath.sigmoid(z));
    case ACT_GELU:
      return f32x4.mul(dy, geluSlopeOf(z));
    case ACT_GELU_TANH: {
      // d/dz [z s(v)] = s + z s (1 - s) v', with s (1 - s) = e / (1 + e)^2, e = e^-|v| (no cancellation)
      const v = geluTanhArg(z);
      const e = vmath.exp(f32x4.neg(f32x4.abs(v)));
      const d = f32x4.add(one, e);
      const s = f32x4.div(v128.bitselect(one, e, f32x4.ge(v, zero)), d);
      const ss = f32x4.div(e, f32x4.mul(d, d));
      const zc = vmath.clamp(z, -GELU_CLAMP, GELU_CLAMP);
      const dv = f32x4.mul(vmath.madd(f32x4.mul(zc, zc), k(3 * GELU_K), one), k(2 * GELU_C));
      return f32x4.mul(dy, vmath.madd(f32x4.mul(z, ss), dv, s));
    }
    case ACT_HARD_SIGMOID: // 0.2 inside the ramp -2.5 < z < 2.5, 0 on the flat parts
      return v128.and(f32x4.mul(dy, k(0.2)), v128.and(f32x4.gt(z, k(-2.5)), f32x4.lt(z, k(2.5))));
    default:
      return dy;
  }
}

/**
 * The activations' 4-lane math for the fused kernels in other files (the recurrent cells). A namespace, so that
 * `export *` in index.ts does not export v128 functions.
 */
export namespace activation {
  /**
   * Stand-ins for activation codes known only at run time. A fused kernel specialises the usual codes as constants
   * (each case's math inlined) and passes RUNTIME_A / RUNTIME_B for any other pair, after setting runtimeA /
   * runtimeB: apply and slopeFromOutput then call one out-of-line copy of the math instead of inlining every case
   * at every gate.
   */
  export const RUNTIME_A: i32 = -1;
  export const RUNTIME_B: i32 = -2;
  export let runtimeA: i32 = 0;
  export let runtimeB: i32 = 0;

  /** y = f(x) on 4 lanes (forward4). */
  @inline export function apply(x: v128, act: i32, alpha: f32): v128 {
    if (act == RUNTIME_A) return applyAny(x, runtimeA, alpha);
    if (act == RUNTIME_B) return applyAny(x, runtimeB, alpha);
    return forward4(x, act, alpha);
  }

  /**
   * f'(z) from the output y = f(z) alone, for kernels that keep only a gate's output. Defined for the activations
   * whose slope is a function of their output: linear, step, relu, leakyRelu (alpha > 0), elu, sigmoid, tanh,
   * softplus (1 - e^-y) and hardSigmoid (at the clip points y = 0 or 1 the flat side's 0). gelu and geluTanh are not
   * (their output does not determine the input): a layer that keeps only outputs must refuse them.
   */
  @inline export function slopeFromOutput(y: v128, act: i32, alpha: f32): v128 {
    if (act == RUNTIME_A) return slopeAny(y, runtimeA, alpha);
    if (act == RUNTIME_B) return slopeAny(y, runtimeB, alpha);
    return slope4(y, act, alpha);
  }

  export function applyAny(x: v128, act: i32, alpha: f32): v128 {
    return forward4(x, act, alpha);
  }

  export function slopeAny(y: v128, act: i32, alpha: f32): v128 {
    return slope4(y, act, alpha);
  }
}

/** activation.slopeFromOutput's cases. */
@inline function slope4(y: v128, act: i32, alpha: f32): v128 {
  const zero = k(0);
  const one = k(1);
  switch (act) {
    case ACT_STEP:
      return zero;
    case ACT_RELU:
      return v128.and(one, f32x4.gt(y, zero));
    case ACT_LEAKY_RELU:
      return v128.bitselect(one, k(alpha), f32x4.gt(y, zero));
    case ACT_ELU:
      return v128.bitselect(one, f32x4.add(y, k(alpha)), f32x4.gt(y, zero));
    case ACT_SIGMOID:
      return f32x4.mul(y, f32x4.sub(one, y));
    case ACT_TANH:
      return f32x4.mul(f32x4.sub(one, y), f32x4.add(one, y));
    case ACT_SOFTPLUS: // sigmoid(z) = 1 - e^-softplus(z)
      return f32x4.neg(vmath.expm1(f32x4.neg(y)));
    case ACT_HARD_SIGMOID:
      return v128.and(k(0.2), v128.and(f32x4.gt(y, zero), f32x4.lt(y, one)));
    default:
      return one;
  }
}

// ---- elementwise loops (inlined per activation by the dispatchers below) ----

// In the size-optimised (inference) module the tail is one more trip through the same body (a partial load and
// store), so each activation's vector math is compiled once per kernel.
@inline function forwardLoop(x: usize, y: usize, n: i32, act: i32, alpha: f32): void {
  if (ASC_SHRINK_LEVEL > 0) {
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      const m = n - i;
      const v = forward4(m >= 4 ? v128.load(x + o) : vmath.loadPartial(x + o, m), act, alpha);
      if (m >= 4) v128.store(y + o, v);
      else vmath.storePartial(y + o, v, m);
    }
    return;
  }
  // The full module: four whole vectors a pass (independent chains for the long ones, GELU's erf: 512 values in
  // 1.9 us against 4.7 us one vector a pass in Node), then single vectors, then the partial one.
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const a = forward4(v128.load(x + o), act, alpha);
    const b = forward4(v128.load(x + o, 16), act, alpha);
    const c = forward4(v128.load(x + o, 32), act, alpha);
    const d = forward4(v128.load(x + o, 48), act, alpha);
    v128.store(y + o, a);
    v128.store(y + o, b, 16);
    v128.store(y + o, c, 32);
    v128.store(y + o, d, 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, forward4(v128.load(x + o), act, alpha));
  }
  if (i < n) {
    const o = <usize>i << 2;
    const m = n - i;
    vmath.storePartial(y + o, forward4(vmath.loadPartial(x + o, m), act, alpha), m);
  }
}

/** The vector at p, or zeros when the derivative does not read it (p may then be 0). */
@inline function loadIf(used: bool, p: usize): v128 {
  return used ? v128.load(p) : k(0);
}

@inline function backwardLoop(z: usize, y: usize, dy: usize, dz: usize, n: i32, act: i32, alpha: f32): void {
  const zero = k(0);
  let i = 0;
  // four vectors a pass, as forwardLoop (all loaded before any store: dz may alias dy)
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const a = backward4(loadIf(derivUsesZ(act), z + o), loadIf(derivUsesY(act), y + o), v128.load(dy + o), act, alpha);
    const p = o + 16, q = o + 32, r = o + 48;
    const b = backward4(loadIf(derivUsesZ(act), z + p), loadIf(derivUsesY(act), y + p), v128.load(dy + p), act, alpha);
    const c = backward4(loadIf(derivUsesZ(act), z + q), loadIf(derivUsesY(act), y + q), v128.load(dy + q), act, alpha);
    const d = backward4(loadIf(derivUsesZ(act), z + r), loadIf(derivUsesY(act), y + r), v128.load(dy + r), act, alpha);
    v128.store(dz + o, a);
    v128.store(dz + o, b, 16);
    v128.store(dz + o, c, 32);
    v128.store(dz + o, d, 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const zv = loadIf(derivUsesZ(act), z + o), yv = loadIf(derivUsesY(act), y + o);
    v128.store(dz + o, backward4(zv, yv, v128.load(dy + o), act, alpha));
  }
  if (i < n) {
    const o = <usize>i << 2;
    const m = n - i;
    const zv = derivUsesZ(act) ? vmath.loadPartial(z + o, m) : zero;
    const yv = derivUsesY(act) ? vmath.loadPartial(y + o, m) : zero;
    vmath.storePartial(dz + o, backward4(zv, yv, vmath.loadPartial(dy + o, m), act, alpha), m);
  }
}

// ---- exported kernels ----

/**
 * y = f(x) elementwise; x and y are (n); y may alias x. act is an ACT_* code (unknown codes act as linear);
 * alpha is leakyRelu's slope or elu's scale, ignored otherwise.
 */
export function act_forward(x: usize, y: usize, n: i32, act: i32, alpha: f32): void {
  // The size-optimised build (the inference module) keeps one loop that picks the activation per vector, so each
  // activation's math is compiled once; the full module keeps a loop per activation (no branch in the loop).
  if (ASC_SHRINK_LEVEL > 0) {
    forwardLoop(x, y, n, act, alpha);
    return;
  }
  switch (act) {
    case ACT_STEP: forwardLoop(x, y, n, ACT_STEP, alpha); break;
    case ACT_RELU: forwardLoop(x, y, n, ACT_RELU, alpha); break;
    case ACT_LEAKY_RELU: forwardLoop(x, y, n, ACT_LEAKY_RELU, alpha); break;
    case ACT_ELU: forwardLoop(x, y, n, ACT_ELU, alpha); break;
    case ACT_SIGMOID: forwardLoop(x, y, n, ACT_SIGMOID, alpha); break;
    case ACT_TANH: forwardLoop(x, y, n, ACT_TANH, alpha); break;
    case ACT_SOFTPLUS: forwardLoop(x, y, n, ACT_SOFTPLUS, alpha); break;
    case ACT_GELU: forwardLoop(x, y, n, ACT_GELU, alpha); break;
    case ACT_GELU_TANH: forwardLoop(x, y, n, ACT_GELU_TANH, alpha); break;
    case ACT_HARD_SIGMOID: forwardLoop(x, y, n, ACT_HARD_SIGMOID, alpha); break;
    default: if (x != y) memory.copy(y, x, <usize>n << 2);
  }
}

/**
 * dz = dy * f'(z), elementwise; z, y, dy, dz are (n). Writes dz (no accumulation); dz may alias dy.
 * z is the pre-activation and y = f(z): sigmoid and tanh read only y, linear and step read neither,
 * the others read only z, so an unused pointer may be 0.
 */
export function act_backward(z: usize, y: usize, dy: usize, dz: usize, n: i32, act: i32, alpha: f32): void {
  switch (act) {
    case ACT_STEP: backwardLoop(z, y, dy, dz, n, ACT_STEP, alpha); break;
    case ACT_RELU: backwardLoop(z, y, dy, dz, n, ACT_RELU, alpha); break;
    case ACT_LEAKY_RELU: backwardLoop(z, y, dy, dz, n, ACT_LEAKY_RELU, alpha); break;
    case ACT_ELU: backwardLoop(z, y, dy, dz, n, ACT_ELU, alpha); break;
    case ACT_SIGMOID: backwardLoop(z, y, dy, dz, n, ACT_SIGMOID, alpha); break;
    case ACT_TANH: backwardLoop(z, y, dy, dz, n, ACT_TANH, alpha); break;
    case ACT_SOFTPLUS: backwardLoop(z, y, dy, dz, n, ACT_SOFTPLUS, alpha); break;
    case ACT_GELU: backwardLoop(z, y, dy, dz, n, ACT_GELU, alpha); break;
    case ACT_GELU_TANH: backwardLoop(z, y, dy, dz, n, ACT_GELU_TANH, alpha); break;
    case ACT_HARD_SIGMOID: backwardLoop(z, y, dy, dz, n, ACT_HARD_SIGMOID, alpha); break;
    default: if (dz != dy) memory.copy(dz, dy, <usize>n << 2);
  }
}

/**
 * The dense layer's epilogue: z is (rows, cols) row-major, bias is (cols) or 0 for none, y is (rows, cols).
 * z += bias in place (z stays the pre-activation for the backward pass), then y = f(z), a group of rows at a time
 * while they are in cache (at least 256 values per act_forward call, so that narrow outputs such as a conv layer's
 * 16 channels do not pay a call per row). y may equal z (then z ends up holding f(z); for linear that is z + bias).
 * The activation goes through act_forward, so each activation's vector math is compiled once in the module.
 */
export function bias_act_forward(z: usize, bias: usize, y: usize, rows: i32, cols: i32, act: i32, alpha: f32): void {
  if (bias == 0) {
    act_forward(z, y, rows * cols, act, alpha);
    return;
  }
  const rowBytes = <usize>cols << 2;
  const group = max(1, 256 / cols);
  for (let r0 = 0; r0 < rows; r0 += group) {
    const r1 = min(r0 + group, rows);
    addBias(z, bias, r0, r1, cols);
    act_forward(z + <usize>r0 * rowBytes, y + <usize>r0 * rowBytes, (r1 - r0) * cols, act, alpha);
  }
}

/** z[r] += bias for the rows r0..r1 of z (rows, cols). */
@inline function addBias(z: usize, bias: usize, r0: i32, r1: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let r = r0; r < r1; r++) {
    const zr = z + <usize>r * rowBytes;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      v128.store(zr + o, f32x4.add(v128.load(zr + o), v128.load(bias + o)));
    }
    if (j < cols) {
      const o = <usize>j << 2;
      const m = cols - j;
      vmath.storePartial(zr + o, f32x4.add(vmath.loadPartial(zr + o, m), vmath.loadPartial(bias + o, m)), m);
    }
  }
}

/**
 * The dense layer's epilogue in training when its activation is the exact GELU: as bias_act_forward (z += bias, then
 * y = gelu(z), the same bits), and z then holds the slope gelu'(z) = Phi(z) + z phi(z) in place of the
 * pre-activation, which is all the backward pass needs (slope_bias_grad multiplies by it): the slope shares the
 * forward's exponential and Phi, so keeping it costs a few multiplies here and saves the backward pass its own.
 * z and y are (rows, cols), y != z; bias is (cols) or 0.
 */
export function bias_gelu_slope_forward(z: usize, bias: usize, y: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  const group = bias ? max(1, 256 / cols) : rows;
  for (let r0 = 0; r0 < rows; r0 += group) {
    const r1 = min(r0 + group, rows);
    if (bias) addBias(z, bias, r0, r1, cols);
    geluSlopeLoop(z + <usize>r0 * rowBytes, y + <usize>r0 * rowBytes, (r1 - r0) * cols);
  }
}

/** y = gelu(z) and z = gelu'(z) over n values: four vectors a pass (as forwardLoop), then one, then the tail. */
@inline function geluSlopeLoop(z: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const z0 = v128.load(z + o), z1 = v128.load(z + o, 16), z2 = v128.load(z + o, 32), z3 = v128.load(z + o, 48);
    const a0 = vmath.ncdfAbs(z0), a1 = vmath.ncdfAbs(z1), a2 = vmath.ncdfAbs(z2), a3 = vmath.ncdfAbs(z3);
    const e0 = vmath.expHalfSquare(a0), e1 = vmath.expHalfSquare(a1);
    const e2 = vmath.expHalfSquare(a2), e3 = vmath.expHalfSquare(a3);
    const c0 = vmath.ncdfFromLeft(z0, vmath.ncdfLeft(a0, e0)), c1 = vmath.ncdfFromLeft(z1, vmath.ncdfLeft(a1, e1));
    const c2 = vmath.ncdfFromLeft(z2, vmath.ncdfLeft(a2, e2)), c3 = vmath.ncdfFromLeft(z3, vmath.ncdfLeft(a3, e3));
    v128.store(y + o, f32x4.mul(z0, c0));
    v128.store(y + o, f32x4.mul(z1, c1), 16);
    v128.store(y + o, f32x4.mul(z2, c2), 32);
    v128.store(y + o, f32x4.mul(z3, c3), 48);
    v128.store(z + o, geluSlope(z0, a0, e0, c0));
    v128.store(z + o, geluSlope(z1, a1, e1, c1), 16);
    v128.store(z + o, geluSlope(z2, a2, e2, c2), 32);
    v128.store(z + o, geluSlope(z3, a3, e3, c3), 48);
  }
  for (; i < n; i += 4) {
    const o = <usize>i << 2;
    const m = n - i;
    const zv = m >= 4 ? v128.load(z + o) : vmath.loadPartial(z + o, m);
    const a = vmath.ncdfAbs(zv);
    const e = vmath.expHalfSquare(a);
    const c = vmath.ncdfFromLeft(zv, vmath.ncdfLeft(a, e));
    const yv = f32x4.mul(zv, c), sv = geluSlope(zv, a, e, c);
    if (m >= 4) {
      v128.store(y + o, yv);
      v128.store(z + o, sv);
    } else {
      vmath.storePartial(y + o, yv, m);
      vmath.storePartial(z + o, sv, m);
    }
  }
}

/**
 * db = column sums of dz: dz is (rows, cols), db is (cols). accumulate = 0 writes db, 1 adds to it.
 * Each column is summed top to bottom in f32 (the same order in every lane and in the scalar tail);
 * 16 columns at a time stay in registers across the rows.
 */
export function bias_grad(dz: usize, db: usize, rows: i32, cols: i32, accumulate: i32): void {
  columnSums(0, dz, db, rows, cols, accumulate, GATE_NONE);
}

/**
 * relu's backward pass and the bias gradient in one pass over dz: dz = dz where z > 0, else 0, in place (z is the
 * pre-activation, or relu's output: z > 0 exactly where relu(z) > 0), then db = the column sums of dz as bias_grad
 * computes them (the same order, so the same bits as act_backward then bias_grad). z and dz are (rows, cols).
 */
export function relu_bias_grad(z: usize, dz: usize, db: usize, rows: i32, cols: i32, accumulate: i32): void {
  columnSums(z, dz, db, rows, cols, accumulate, GATE_RELU);
}

/**
 * The backward pass of an activation whose slope the forward pass kept (bias_gelu_slope_forward) and the bias
 * gradient in one pass over dz: dz = dz * s in place, then db = the column sums of dz as bias_grad computes them.
 * s and dz are (rows, cols).
 */
export function slope_bias_grad(s: usize, dz: usize, db: usize, rows: i32, cols: i32, accumulate: i32): void {
  columnSums(s, dz, db, rows, cols, accumulate, GATE_SLOPE);
}

// what columnSums does to dz first: nothing, relu's mask where z > 0, or a product with the kept slope
const GATE_NONE: i32 = 0;
const GATE_RELU: i32 = 1;
const GATE_SLOPE: i32 = 2;

/** dz gated by m (relu: z; slope: s) on 4 lanes. */
@inline function gate4(d: v128, m: v128, gate: i32): v128 {
  return gate == GATE_RELU ? v128.and(d, f32x4.gt(m, k(0))) : f32x4.mul(d, m);
}

/** bias_grad, with dz gated first (`gate` is a constant at each call, so the branches fold away). */
@inline function columnSums(z: usize, dz: usize, db: usize, rows: i32, cols: i32, accumulate: i32, gate: i32): void {
  const rowBytes = <usize>cols << 2;
  const zero = k(0);
  let j = 0;
  for (; j + 16 <= cols; j += 16) {
    const o = <usize>j << 2;
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    if (accumulate) {
      a0 = v128.load(db + o); a1 = v128.load(db + o, 16); a2 = v128.load(db + o, 32); a3 = v128.load(db + o, 48);
    }
    let p = dz + o;
    for (let r: usize = 0; r < <usize>rows; r++, p += rowBytes) {
      if (gate != GATE_NONE) {
        const m = z + o + r * rowBytes;
        v128.store(p, gate4(v128.load(p), v128.load(m), gate));
        v128.store(p, gate4(v128.load(p, 16), v128.load(m, 16), gate), 16);
        v128.store(p, gate4(v128.load(p, 32), v128.load(m, 32), gate), 32);
        v128.store(p, gate4(v128.load(p, 48), v128.load(m, 48), gate), 48);
      }
      a0 = f32x4.add(a0, v128.load(p));
      a1 = f32x4.add(a1, v128.load(p, 16));
      a2 = f32x4.add(a2, v128.load(p, 32));
      a3 = f32x4.add(a3, v128.load(p, 48));
    }
    v128.store(db + o, a0); v128.store(db + o, a1, 16); v128.store(db + o, a2, 32); v128.store(db + o, a3, 48);
  }
  // eight columns: two independent sums per row (one sum's chain of dependent adds is what limits a narrow layer;
  // 1.3x at MNIST's 26x26x8 maps)
  for (; j + 8 <= cols; j += 8) {
    const o = <usize>j << 2;
    let a0 = accumulate ? v128.load(db + o) : zero, a1 = accumulate ? v128.load(db + o, 16) : zero;
    let p = dz + o;
    for (let r: usize = 0; r < <usize>rows; r++, p += rowBytes) {
      if (gate != GATE_NONE) {
        const m = z + o + r * rowBytes;
        v128.store(p, gate4(v128.load(p), v128.load(m), gate));
        v128.store(p, gate4(v128.load(p, 16), v128.load(m, 16), gate), 16);
      }
      a0 = f32x4.add(a0, v128.load(p));
      a1 = f32x4.add(a1, v128.load(p, 16));
    }
    v128.store(db + o, a0); v128.store(db + o, a1, 16);
  }
  for (; j + 4 <= cols; j += 4) {
    const o = <usize>j << 2;
    let a = accumulate ? v128.load(db + o) : zero;
    let p = dz + o;
    for (let r: usize = 0; r < <usize>rows; r++, p += rowBytes) {
      if (gate != GATE_NONE) v128.store(p, gate4(v128.load(p), v128.load(z + o + r * rowBytes), gate));
      a = f32x4.add(a, v128.load(p));
    }
    v128.store(db + o, a);
  }
  for (; j < cols; j++) {
    const o = <usize>j << 2;
    let a: f32 = accumulate ? load<f32>(db + o) : 0;
    let p = dz + o;
    for (let r: usize = 0; r < <usize>rows; r++, p += rowBytes) {
      if (gate == GATE_RELU && !(load<f32>(z + o + r * rowBytes) > 0)) store<f32>(p, 0);
      if (gate == GATE_SLOPE) store<f32>(p, load<f32>(p) * load<f32>(z + o + r * rowBytes));
      a += load<f32>(p);
    }
    store<f32>(db + o, a);
  }
}

// ---- row reductions for softmax ----

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** max of the row p[0..n) (n >= 1); NaN anywhere gives NaN. */
@inline function rowMax(p: usize, n: i32): f32 {
  let m = f32x4.splat(load<f32>(p));
  let j = 0;
  for (; j + 4 <= n; j += 4) m = f32x4.max(m, v128.load(p + (<usize>j << 2)));
  if (j < n) m = f32x4.max(m, v128.bitselect(vmath.loadPartial(p + (<usize>j << 2), n - j), m, laneMask(n - j)));
  return max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
}

/** All-ones in the low m lanes (m in 1..3), zeros above. */
@inline function laneMask(m: i32): v128 {
  return i32x4.gt_s(i32x4.splat(m), i32x4(0, 1, 2, 3));
}

/** Writes y = e^(x - m) over a row of n and returns the sum (partial lanes summed in a fixed order). */
@inline function rowExpSum(x: usize, y: usize, n: i32, m: f32): f32 {
  const mv = f32x4.splat(m);
  let s = k(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    const e = vmath.exp(f32x4.sub(v128.load(x + o), mv));
    v128.store(y + o, e);
    s = f32x4.add(s, e);
  }
  if (j < n) {
    const o = <usize>j << 2;
    const e = v128.and(vmath.exp(f32x4.sub(vmath.loadPartial(x + o, n - j), mv)), laneMask(n - j));
    vmath.storePartial(y + o, e, n - j);
    s = f32x4.add(s, e);
  }
  return hsum(s);
}

/** sum of a[j] * b[j] over a row of n (b = 0 means sum of a). */
@inline function rowDot(a: usize, b: usize, n: i32): f32 {
  let s = k(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    s = f32x4.add(s, b ? f32x4.mul(v128.load(a + o), v128.load(b + o)) : v128.load(a + o));
  }
  if (j < n) {
    const o = <usize>j << 2;
    const av = vmath.loadPartial(a + o, n - j); // zeros above the tail
    s = f32x4.add(s, b ? f32x4.mul(av, vmath.loadPartial(b + o, n - j)) : av);
  }
  return hsum(s);
}

/** Row-wise softmax: x and y are (rows, cols); y may alias x. Stable: e^(x - rowmax), then divided by the sum. */
export function softmax_forward(x: usize, y: usize, rows: i32, cols: i32): void {
  if (cols <= 0) return;
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    const sv = f32x4.splat(rowExpSum(xr, yr, cols, rowMax(xr, cols)));
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      v128.store(yr + o, f32x4.div(v128.load(yr + o), sv));
    }
    if (j < cols) {
      const o = <usize>j << 2;
      vmath.storePartial(yr + o, f32x4.div(vmath.loadPartial(yr + o, cols - j), sv), cols - j);
    }
  }
}

/**
 * Softmax's Jacobian-vector product per row: dx = y * (dy - sum_j dy_j y_j). y, dy, dx are (rows, cols);
 * y is the softmax output. Writes dx (no accumulation); dx may alias dy.
 */
export function softmax_backward(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    const sv = f32x4.splat(rowDot(dy + off, y + off, cols));
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = off + (<usize>j << 2);
      v128.store(dx + o, f32x4.mul(v128.load(y + o), f32x4.sub(v128.load(dy + o), sv)));
    }
    if (j < cols) {
      const o = off + (<usize>j << 2);
      const m = cols - j;
      vmath.storePartial(dx + o, f32x4.mul(vmath.loadPartial(y + o, m), f32x4.sub(vmath.loadPartial(dy + o, m), sv)), m);
    }
  }
}

/**
 * Row-wise log-softmax: y = (x - rowmax) - log(sum e^(x - rowmax)). x and y are (rows, cols); y may alias x:
 * the sum is taken without storing the exponentials, then y is written in a second pass.
 */
export function log_softmax_forward(x: usize, y: usize, rows: i32, cols: i32): void {
  if (cols <= 0) return;
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    const m = rowMax(xr, cols);
    const mv = f32x4.splat(m);
    let s = k(0);
    let j = 0;
    for (; j + 4 <= cols; j += 4) s = f32x4.add(s, vmath.exp(f32x4.sub(v128.load(xr + (<usize>j << 2)), mv)));
    if (j < cols) {
      const e = vmath.exp(f32x4.sub(vmath.loadPartial(xr + (<usize>j << 2), cols - j), mv));
      s = f32x4.add(s, v128.and(e, laneMask(cols - j)));
    }
    const lse = f32x4.splat(f32x4.extract_lane(vmath.log(f32x4.splat(hsum(s))), 0));
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      v128.store(yr + o, f32x4.sub(f32x4.sub(v128.load(xr + o), mv), lse));
    }
    if (j < cols) {
      const o = <usize>j << 2;
      vmath.storePartial(yr + o, f32x4.sub(f32x4.sub(vmath.loadPartial(xr + o, cols - j), mv), lse), cols - j);
    }
  }
}

/**
 * Log-softmax backward per row: dx = dy - softmax * sum_j dy_j, softmax = e^y. y is the log-softmax output;
 * y, dy, dx are (rows, cols). Writes dx (no accumulation); dx may alias dy.
 */
export function log_softmax_backward(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    const sv = f32x4.splat(rowDot(dy + off, 0, cols));
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = off + (<usize>j << 2);
      v128.store(dx + o, f32x4.sub(v128.load(dy + o), f32x4.mul(vmath.exp(v128.load(y + o)), sv)));
    }
    if (j < cols) {
      const o = off + (<usize>j << 2);
      const m = cols - j;
      const v = f32x4.sub(vmath.loadPartial(dy + o, m), f32x4.mul(vmath.exp(vmath.loadPartial(y + o, m)), sv));
      vmath.storePartial(dx + o, v, m);
    }
  }
}
