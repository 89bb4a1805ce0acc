// Optimiser steps: one call over the whole contiguous parameter block. p (parameters), g (gradients) and each
// state array (vel, ms, acc, m, v) are f32 of length n, updated in place; g is only read.
// Formulas are Keras 3 / TF2 (keras/src/optimizers/*.py), in the same operation order where it matters.
// 4-lane SIMD body and a scalar tail doing the same f32 operations, so an element's result never depends on
// its position (same bits in every engine: no relaxed SIMD, no fused multiply-add).
import { vec_clip } from "./vector";

/** (s0 + s1) + (s2 + s3): the fixed order in which lane sums are folded. */
@inline function laneSum(s: v128): f32 {
  return (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
}

/** SGD: p −= lr·g. */
export function sgd_step(p: usize, g: usize, n: i32, lr: f32): void {
  const lrv = f32x4.splat(lr);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(v128.load(g + o), lrv)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(p + o, load<f32>(p + o) - load<f32>(g + o) * lr);
  }
}

/** SGD with momentum (Keras SGD): v = momentum·v − lr·g; then p += v, or with nesterov = 1
 *  p += momentum·v − lr·g (using the new v). */
export function momentum_step(p: usize, g: usize, vel: usize, n: i32, lr: f32, momentum: f32, nesterov: i32): void {
  const lrv = f32x4.splat(lr);
  const mu = f32x4.splat(momentum);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const glr = f32x4.mul(v128.load(g + o), lrv);
    const v = f32x4.sub(f32x4.mul(v128.load(vel + o), mu), glr);
    v128.store(vel + o, v);
    const step = nesterov ? f32x4.sub(f32x4.mul(v, mu), glr) : v;
    v128.store(p + o, f32x4.add(v128.load(p + o), step));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const glr = load<f32>(g + o) * lr;
    const v = load<f32>(vel + o) * momentum - glr;
    store<f32>(vel + o, v);
    const step = nesterov ? v * momentum - glr : v;
    store<f32>(p + o, load<f32>(p + o) + step);
  }
}

/** RMSprop (Keras, no momentum, not centered): ms = rho·ms + (1 − rho)·g²; p −= lr·g / √(ms + eps).
 *  eps is inside the square root, as in Keras 3, tf.keras (ApplyRMSProp) and TF.js. */
export function rmsprop_step(p: usize, g: usize, ms: usize, n: i32, lr: f32, rho: f32, eps: f32): void {
  const oneMinusRho: f32 = 1 - rho;
  const lrv = f32x4.splat(lr);
  const rhov = f32x4.splat(rho);
  const omr = f32x4.splat(oneMinusRho);
  const epsv = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const s = f32x4.add(f32x4.mul(v128.load(ms + o), rhov), f32x4.mul(f32x4.mul(gi, gi), omr));
    v128.store(ms + o, s);
    const step = f32x4.div(f32x4.mul(gi, lrv), f32x4.sqrt(f32x4.add(s, epsv)));
    v128.store(p + o, f32x4.sub(v128.load(p + o), step));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const s = load<f32>(ms + o) * rho + gi * gi * oneMinusRho;
    store<f32>(ms + o, s);
    store<f32>(p + o, load<f32>(p + o) - gi * lr / sqrt<f32>(s + eps));
  }
}

/** Adagrad (Keras 3): acc += g²; p −= lr·g / √(acc + eps). The runtime initialises acc to
 *  initial_accumulator_value (0.1). eps inside the root, as Keras 3 and TF.js. */
export function adagrad_step(p: usize, g: usize, acc: usize, n: i32, lr: f32, eps: f32): void {
  const lrv = f32x4.splat(lr);
  const epsv = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const a = f32x4.add(v128.load(acc + o), f32x4.mul(gi, gi));
    v128.store(acc + o, a);
    const step = f32x4.div(f32x4.mul(gi, lrv), f32x4.sqrt(f32x4.add(a, epsv)));
    v128.store(p + o, f32x4.sub(v128.load(p + o), step));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const a = load<f32>(acc + o) + gi * gi;
    store<f32>(acc + o, a);
    store<f32>(p + o, load<f32>(p + o) - gi * lr / sqrt<f32>(a + eps));
  }
}

/** Adam (Keras), t = 1 on the first step:
 *    m += (g − m)·(1 − β1)      (= β1·m + (1 − β1)·g)
 *    v += (g² − v)·(1 − β2)     (= β2·v + (1 − β2)·g²)
 *    lr_t = lr·√(1 − β2^t)/(1 − β1^t)   (bias correction folded into the rate; f64, once per call)
 *    p −= lr_t·m / (√v + eps)    (eps outside the root, as Keras' Adam)
 *  weight_decay > 0 makes it AdamW: first p −= lr·weight_decay·p (decoupled; Keras applies it before the step). */
export function adam_step(
  p: usize, g: usize, m: usize, v: usize, n: i32,
  lr: f32, beta1: f32, beta2: f32, eps: f32, t: i32, weight_decay: f32,
): void {
  const lrT = <f32>(<f64>lr * Math.sqrt(1 - Math.pow(<f64>beta2, <f64>t)) / (1 - Math.pow(<f64>beta1, <f64>t)));
  const decay: f32 = weight_decay > 0 ? lr * weight_decay : 0;
  const omb1: f32 = 1 - beta1;
  const omb2: f32 = 1 - beta2;
  const lrTv = f32x4.splat(lrT);
  const decayv = f32x4.splat(decay);
  const omb1v = f32x4.splat(omb1);
  const omb2v = f32x4.splat(omb2);
  const epsv = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    let mi = v128.load(m + o);
    let vi = v128.load(v + o);
    mi = f32x4.add(mi, f32x4.mul(f32x4.sub(gi, mi), omb1v));
    vi = f32x4.add(vi, f32x4.mul(f32x4.sub(f32x4.mul(gi, gi), vi), omb2v));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    let pi = v128.load(p + o);
    if (decay != 0) pi = f32x4.sub(pi, f32x4.mul(pi, decayv));
    const step = f32x4.div(f32x4.mul(mi, lrTv), f32x4.add(f32x4.sqrt(vi), epsv));
    v128.store(p + o, f32x4.sub(pi, step));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    let mi = load<f32>(m + o);
    let vi = load<f32>(v + o);
    mi = mi + (gi - mi) * omb1;
    vi = vi + (gi * gi - vi) * omb2;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    let pi = load<f32>(p + o);
    if (decay != 0) pi = pi - pi * decay;
    store<f32>(p + o, pi - mi * lrT / (sqrt<f32>(vi) + eps));
  }
}

/** Gradient clipping by value (Keras clipvalue): g = clip(g, −clip, clip), in place. */
export function clip_by_value(g: usize, n: i32, clip: f32): void {
  vec_clip(g, n, -clip, clip);
}

/** L2 regulariser (TF.js meaning): returns l2·Σw² and ADDS 2·l2·w into g. w and g are (n). */
export function l2_penalty(w: usize, g: usize, n: i32, l2: f32): f32 {
  const twoL2: f32 = 2 * l2;
  const k = f32x4.splat(twoL2);
  let s = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const wi = v128.load(w + o);
    s = f32x4.add(s, f32x4.mul(wi, wi));
    v128.store(g + o, f32x4.add(v128.load(g + o), f32x4.mul(wi, k)));
  }
  let sum = laneSum(s);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const wi = load<f32>(w + o);
    sum += wi * wi;
    store<f32>(g + o, load<f32>(g + o) + wi * twoL2);
  }
  return l2 * sum;
}

/** L1 regulariser (TF.js meaning): returns l1·Σ|w| and ADDS l1·sign(w) into g, sign(0) = 0. w and g are (n). */
export function l1_penalty(w: usize, g: usize, n: i32, l1: f32): f32 {
  const k = f32x4.splat(l1);
  const zero = f32x4.splat(0);
  let s = zero;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const wi = v128.load(w + o);
    s = f32x4.add(s, f32x4.abs(wi));
    // sign·l1 = (w > 0 ? l1 : 0) − (w < 0 ? l1 : 0): compare masks select the constant
    const sl1 = f32x4.sub(v128.and(f32x4.gt(wi, zero), k), v128.and(f32x4.lt(wi, zero), k));
    v128.store(g + o, f32x4.add(v128.load(g + o), sl1));
  }
  let sum = laneSum(s);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const wi = load<f32>(w + o);
    sum += abs<f32>(wi);
    const sl1: f32 = wi > 0 ? l1 : wi < 0 ? -l1 : 0;
    store<f32>(g + o, load<f32>(g + o) + sl1);
  }
  return l1 * sum;
}
