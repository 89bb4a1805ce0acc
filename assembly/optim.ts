// Optimiser steps: one call over the whole contiguous parameter block. p (parameters), g (gradients) and each
// state array (acc, ms, mom, mg, m, v) are f32 of length n, updated in place; g is only read.
// Formulas are TF.js' (tfjs-core/src/optimizers/*.ts), in the same operation order, so that porting TF.js code by
// changing the import trains the same way; where TF.js has no form (AdamW) or a broken one (centered RMSprop)
// the formula is PyTorch's or TF's kernel's, said at each function.
// 4-lane SIMD body and a scalar tail doing the same f32 operations, so an element's result never depends on
// its position (same bits in every engine: no relaxed SIMD, no fused multiply-add).
// Steps with more than a learning rate and two constants read them from a settings block (f32 words, written by
// the runtime before each call), not from a long argument list.
import { vec_clip } from "./vector";

/** (s0 + s1) + (s2 + s3): the fixed order in which lane sums are folded. */
@inline function laneSum(s: v128): f32 {
  return (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
}

/** SGD (TF.js, PyTorch): p −= lr·g. */
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

/** Momentum (TF.js' MomentumOptimizer, PyTorch's SGD with momentum): acc = momentum·acc + g; then p −= lr·acc,
 *  or with nesterov = 1 p −= lr·(g + momentum·acc) (using the new acc). acc holds gradients, not steps (Keras keeps
 *  v = momentum·v − lr·g instead): the two agree for a constant rate and differ when a schedule changes it. */
export function momentum_step(p: usize, g: usize, acc: usize, n: i32, lr: f32, momentum: f32, nesterov: i32): void {
  const lrv = f32x4.splat(lr);
  const mu = f32x4.splat(momentum);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const a = f32x4.add(f32x4.mul(v128.load(acc + o), mu), gi);
    v128.store(acc + o, a);
    const dir = nesterov ? f32x4.add(gi, f32x4.mul(a, mu)) : a;
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(dir, lrv)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const a = load<f32>(acc + o) * momentum + gi;
    store<f32>(acc + o, a);
    const dir = nesterov ? gi + a * momentum : a;
    store<f32>(p + o, load<f32>(p + o) - dir * lr);
  }
}

// RMSprop's settings block (f32): learning rate, rho (TF.js' decay), momentum, epsilon.
const RMS_LR = 0;
const RMS_RHO = 4;
const RMS_MOMENTUM = 8;
const RMS_EPS = 12;

/** RMSprop (TF.js' RMSPropOptimizer):
 *    ms = rho·ms + (1 − rho)·g²
 *    centered (mg ≠ 0): mg = rho·mg + (1 − rho)·g;  d = ms − mg² + eps    else d = ms + eps
 *    step = lr·g / √d
 *    with momentum (mom ≠ 0): mom = momentum·mom + step; p −= mom      else p −= step
 *  eps inside the root, as TF.js, Keras and TF's ApplyRMSProp. The centered form is TF's ApplyCenteredRMSProp and
 *  Keras': TF.js subtracts eps there (√(ms − (mg² + eps))), the root of a negative number for a gradient that stays
 *  0. mom = 0 is TF.js with momentum 0 (it keeps a moment array that then equals the step: same bits).
 *  settings: the block above. */
export function rmsprop_step(p: usize, g: usize, ms: usize, mom: usize, mg: usize, n: i32, settings: usize): void {
  const lr = load<f32>(settings, RMS_LR);
  const rho = load<f32>(settings, RMS_RHO);
  const momentum = load<f32>(settings, RMS_MOMENTUM);
  const eps = load<f32>(settings, RMS_EPS);
  const oneMinusRho: f32 = 1 - rho;
  const lrv = f32x4.splat(lr);
  const rhov = f32x4.splat(rho);
  const omr = f32x4.splat(oneMinusRho);
  const muv = f32x4.splat(momentum);
  const epsv = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const s = f32x4.add(f32x4.mul(v128.load(ms + o), rhov), f32x4.mul(f32x4.mul(gi, gi), omr));
    v128.store(ms + o, s);
    let d = s;
    if (mg) {
      const a = f32x4.add(f32x4.mul(v128.load(mg + o), rhov), f32x4.mul(gi, omr));
      v128.store(mg + o, a);
      d = f32x4.sub(s, f32x4.mul(a, a));
    }
    let step = f32x4.div(f32x4.mul(gi, lrv), f32x4.sqrt(f32x4.add(d, epsv)));
    if (mom) {
      step = f32x4.add(f32x4.mul(v128.load(mom + o), muv), step);
      v128.store(mom + o, step);
    }
    v128.store(p + o, f32x4.sub(v128.load(p + o), step));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const s = load<f32>(ms + o) * rho + gi * gi * oneMinusRho;
    store<f32>(ms + o, s);
    let d = s;
    if (mg) {
      const a = load<f32>(mg + o) * rho + gi * oneMinusRho;
      store<f32>(mg + o, a);
      d = s - a * a;
    }
    let step = gi * lr / sqrt<f32>(d + eps);
    if (mom) {
      step = load<f32>(mom + o) * momentum + step;
      store<f32>(mom + o, step);
    }
    store<f32>(p + o, load<f32>(p + o) - step);
  }
}

/** Adagrad (TF.js' AdagradOptimizer): acc += g²; p −= (g / √(acc + eps))·lr. The runtime initialises acc to
 *  initialAccumulatorValue (0.1). eps inside the root, as TF.js and Keras 3 (PyTorch puts it outside). */
export function adagrad_step(p: usize, g: usize, acc: usize, n: i32, lr: f32, eps: f32): void {
  const lrv = f32x4.splat(lr);
  const epsv = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const a = f32x4.add(v128.load(acc + o), f32x4.mul(gi, gi));
    v128.store(acc + o, a);
    const step = f32x4.mul(f32x4.div(gi, f32x4.sqrt(f32x4.add(a, epsv))), lrv);
    v128.store(p + o, f32x4.sub(v128.load(p + o), step));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const a = load<f32>(acc + o) + gi * gi;
    store<f32>(acc + o, a);
    store<f32>(p + o, load<f32>(p + o) - gi / sqrt<f32>(a + eps) * lr);
  }
}

// Adam's settings block: f32 learning rate, beta1, beta2, epsilon, weight decay, then i32 t (1 on the first step).
const ADAM_LR = 0;
const ADAM_BETA1 = 4;
const ADAM_BETA2 = 8;
const ADAM_EPS = 12;
const ADAM_WEIGHT_DECAY = 16;
const ADAM_T = 20;

/** Adam (TF.js' AdamOptimizer and PyTorch's Adam), t = 1 on the first step:
 *    m = β1·m + (1 − β1)·g
 *    v = β2·v + (1 − β2)·g²
 *    p −= lr·m̂ / (√v̂ + eps),   m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t)   (eps added to the bias-corrected root)
 *  computed as p −= α·m / (√v + ε̂) with α = lr·√(1 − β2^t)/(1 − β1^t) and ε̂ = eps·√(1 − β2^t), the same formula
 *  with both corrections folded into two constants (f64, once per call), so the pass over the block costs what
 *  Keras' form costs. Keras adds eps itself to √v, before the correction: 1/√(1 − β2^t) times more eps than TF.js
 *  and PyTorch (32x at t = 1 with β2 = 0.999), which holds back the steps of weights with small gradients.
 *  weight_decay > 0 makes it AdamW (PyTorch, decoupled): first p −= lr·weight_decay·p, as p·(1 − lr·weight_decay).
 *  settings: the block above. */
export function adam_step(p: usize, g: usize, m: usize, v: usize, n: i32, settings: usize): void {
  const lr = load<f32>(settings, ADAM_LR);
  const beta1 = load<f32>(settings, ADAM_BETA1);
  const beta2 = load<f32>(settings, ADAM_BETA2);
  const eps = load<f32>(settings, ADAM_EPS);
  const weightDecay = load<f32>(settings, ADAM_WEIGHT_DECAY);
  const t = <f64>load<i32>(settings, ADAM_T);
  const root2 = Math.sqrt(1 - Math.pow(<f64>beta2, t));
  const rate = <f32>(<f64>lr * root2 / (1 - Math.pow(<f64>beta1, t)));
  const epsHat = <f32>(<f64>eps * root2);
  const keep = <f32>(1 - <f64>lr * <f64>weightDecay);
  const decay = weightDecay > 0;
  const omb1: f32 = 1 - beta1;
  const omb2: f32 = 1 - beta2;
  const b1v = f32x4.splat(beta1);
  const b2v = f32x4.splat(beta2);
  const omb1v = f32x4.splat(omb1);
  const omb2v = f32x4.splat(omb2);
  const ratev = f32x4.splat(rate);
  const keepv = f32x4.splat(keep);
  const epsv = f32x4.splat(epsHat);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const mi = f32x4.add(f32x4.mul(v128.load(m + o), b1v), f32x4.mul(gi, omb1v));
    const vi = f32x4.add(f32x4.mul(v128.load(v + o), b2v), f32x4.mul(f32x4.mul(gi, gi), omb2v));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    let pi = v128.load(p + o);
    if (decay) pi = f32x4.mul(pi, keepv);
    const denom = f32x4.add(f32x4.sqrt(vi), epsv);
    v128.store(p + o, f32x4.sub(pi, f32x4.div(f32x4.mul(mi, ratev), denom)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = load<f32>(m + o) * beta1 + gi * omb1;
    const vi = load<f32>(v + o) * beta2 + gi * gi * omb2;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    let pi = load<f32>(p + o);
    if (decay) pi = pi * keep;
    store<f32>(p + o, pi - mi * rate / (sqrt<f32>(vi) + epsHat));
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
