// optim.ts against a scalar f64 reference written from the formulas (TF.js' optimizers; PyTorch's AdamW), for 3
// steps with fresh gradients each step, n = 1, 4, 5, 17 (SIMD body, tails, both), at a pointer 4 bytes off a
// 16-byte boundary too. eps is large (1e-3) and gradients small, so the place of eps (inside or outside the root,
// before or after Adam's bias correction) shows.
import {
  sgd_step, momentum_step, rmsprop_step, adagrad_step, adam_step, clip_by_value, l2_penalty, l1_penalty,
} from "../../assembly/optim";
import { buf, fget, fill, fset, rnd, seedRandom } from "./helpers.include";

const SIZES: i32[] = [1, 4, 5, 17];
const STEPS = 3;
seedRandom(99);

/** f64 mirror of an f32 buffer. */
function mirror(p: usize, n: i32): StaticArray<f64> {
  const r = new StaticArray<f64>(n);
  for (let i = 0; i < n; i++) r[i] = <f64>fget(p, i);
  return r;
}
function close(got: f32, want: f64, what: string): void {
  const err = Math.abs(<f64>got - want);
  expect<bool>(err <= 2e-6 + 2e-5 * Math.abs(want)).toBe(true, what + ": got " + got.toString() + " want " + want.toString());
}
function closeAll(p: usize, ref: StaticArray<f64>, n: i32, what: string): void {
  for (let i = 0; i < n; i++) close(fget(p, i), ref[i], what + "[" + i.toString() + "]");
}
/** Gradients for one step: g in [-0.05, 0.05) with a few larger ones. */
function newGrad(g: usize, n: i32): StaticArray<f64> {
  for (let i = 0; i < n; i++) fset(g, i, rnd() * (i % 3 == 0 ? 0.5 : 0.05));
  return mirror(g, n);
}
/** A settings block of f32 words, then an i32 (Adam's t) when t >= 0. */
function settings(words: f32[], t: i32 = -1): usize {
  const s = buf(8);
  for (let i = 0; i < words.length; i++) fset(s, i, words[i]);
  if (t >= 0) store<i32>(s + (<usize>words.length << 2), t);
  return s;
}
function params(n: i32, shift: i32): usize {
  const p = buf(n + 1, shift);
  for (let i = 0; i < n; i++) fset(p, i, rnd());
  fset(p, n, 555.0); // past the end: must stay
  return p;
}

describe("optimiser steps follow the f64 formulas over 3 steps", () => {
  it("sgd: p -= lr*g", () => {
    for (let k = 0; k < SIZES.length; k++) for (let s = 0; s < 2; s++) {
      const n = SIZES[k];
      const p = params(n, s), g = buf(n, s);
      const rp = mirror(p, n);
      for (let t = 0; t < STEPS; t++) {
        const rg = newGrad(g, n);
        sgd_step(p, g, n, 0.1);
        for (let i = 0; i < n; i++) rp[i] -= <f64><f32>0.1 * rg[i];
        closeAll(p, rp, n, "sgd p");
      }
      expect<f32>(fget(p, n)).toBe(555.0, "wrote past n");
    }
  });

  it("momentum and nesterov: acc = mu*acc + g; p -= lr*acc  |  p -= lr*(g + mu*acc)", () => {
    const lr: f64 = <f64><f32>0.05, mu: f64 = <f64><f32>0.9;
    for (let nest = 0; nest < 2; nest++) for (let k = 0; k < SIZES.length; k++) for (let s = 0; s < 2; s++) {
      const n = SIZES[k];
      const p = params(n, s), g = buf(n, s), acc = buf(n, s);
      fill(acc, n, 0);
      const rp = mirror(p, n);
      const racc = new StaticArray<f64>(n);
      for (let t = 0; t < STEPS; t++) {
        const rg = newGrad(g, n);
        momentum_step(p, g, acc, n, 0.05, 0.9, nest);
        for (let i = 0; i < n; i++) {
          racc[i] = mu * racc[i] + rg[i];
          rp[i] -= lr * (nest ? rg[i] + mu * racc[i] : racc[i]);
        }
        closeAll(acc, racc, n, "momentum acc");
        closeAll(p, rp, n, nest ? "nesterov p" : "momentum p");
      }
      expect<f32>(fget(p, n)).toBe(555.0, "wrote past n");
    }
  });

  it("rmsprop: ms = rho*ms + (1-rho)*g^2; step = lr*g/sqrt(ms [- mg^2] + eps); [mom = mu*mom + step]; p -= step|mom", () => {
    const lr: f64 = <f64><f32>0.01, rho: f64 = <f64><f32>0.9, mu: f64 = <f64><f32>0.8, eps: f64 = <f64><f32>1e-3;
    // variant bits: 1 = momentum, 2 = centered
    for (let variant = 0; variant < 4; variant++) for (let k = 0; k < SIZES.length; k++) for (let s = 0; s < 2; s++) {
      const n = SIZES[k];
      const withMomentum = (variant & 1) != 0, centered = (variant & 2) != 0;
      const p = params(n, s), g = buf(n, s), ms = buf(n, s), mom = buf(n, s), mg = buf(n, s);
      fill(ms, n, 0);
      fill(mom, n, 0);
      fill(mg, n, 0);
      const block = settings([0.01, 0.9, withMomentum ? 0.8 : 0, 1e-3]);
      const rp = mirror(p, n);
      const rms = new StaticArray<f64>(n), rmom = new StaticArray<f64>(n), rmg = new StaticArray<f64>(n);
      const what = "rmsprop" + (withMomentum ? " momentum" : "") + (centered ? " centered" : "");
      for (let t = 0; t < STEPS; t++) {
        const rg = newGrad(g, n);
        rmsprop_step(p, g, ms, withMomentum ? mom : 0, centered ? mg : 0, n, block);
        for (let i = 0; i < n; i++) {
          rms[i] = rho * rms[i] + (1 - rho) * rg[i] * rg[i];
          rmg[i] = rho * rmg[i] + (1 - rho) * rg[i];
          const d = centered ? rms[i] - rmg[i] * rmg[i] : rms[i];
          const step = lr * rg[i] / Math.sqrt(d + eps);
          rmom[i] = mu * rmom[i] + step;
          rp[i] -= withMomentum ? rmom[i] : step;
        }
        closeAll(ms, rms, n, what + " ms");
        if (withMomentum) closeAll(mom, rmom, n, what + " mom");
        if (centered) closeAll(mg, rmg, n, what + " mg");
        closeAll(p, rp, n, what + " p");
      }
      // a state array the variant does not use is not touched
      if (!withMomentum) for (let i = 0; i < n; i++) expect<f32>(fget(mom, i)).toBe(0, what + ": wrote mom");
      if (!centered) for (let i = 0; i < n; i++) expect<f32>(fget(mg, i)).toBe(0, what + ": wrote mg");
      expect<f32>(fget(p, n)).toBe(555.0, "wrote past n");
    }
  });

  it("adagrad: acc += g^2 (acc starts at 0.1); p -= lr*g/sqrt(acc + eps)", () => {
    const lr: f64 = <f64><f32>0.1, eps: f64 = <f64><f32>1e-3;
    for (let k = 0; k < SIZES.length; k++) for (let s = 0; s < 2; s++) {
      const n = SIZES[k];
      const p = params(n, s), g = buf(n, s), acc = buf(n, s);
      fill(acc, n, 0.1);
      const rp = mirror(p, n);
      const racc = mirror(acc, n);
      for (let t = 0; t < STEPS; t++) {
        const rg = newGrad(g, n);
        adagrad_step(p, g, acc, n, 0.1, 1e-3);
        for (let i = 0; i < n; i++) {
          racc[i] += rg[i] * rg[i];
          rp[i] -= lr * rg[i] / Math.sqrt(racc[i] + eps);
        }
        closeAll(acc, racc, n, "adagrad acc");
        closeAll(p, rp, n, "adagrad p");
      }
      expect<f32>(fget(p, n)).toBe(555.0, "wrote past n");
    }
  });

  it("adam and adamw: p -= lr*m_hat/(sqrt(v_hat) + eps) at t = 1, 2, 3; decay p -= lr*wd*p before the step", () => {
    const lr: f64 = <f64><f32>0.01, b1: f64 = <f64><f32>0.9, b2: f64 = <f64><f32>0.999, eps: f64 = <f64><f32>1e-3;
    const wds: f32[] = [0, 0.05];
    for (let d = 0; d < wds.length; d++) for (let k = 0; k < SIZES.length; k++) for (let s = 0; s < 2; s++) {
      const n = SIZES[k];
      const wd: f64 = <f64>wds[d];
      const p = params(n, s), g = buf(n, s), m = buf(n, s), v = buf(n, s);
      fill(m, n, 0);
      fill(v, n, 0);
      const rp = mirror(p, n);
      const rm = new StaticArray<f64>(n), rv = new StaticArray<f64>(n);
      for (let t = 1; t <= STEPS; t++) {
        const rg = newGrad(g, n);
        adam_step(p, g, m, v, n, settings([0.01, 0.9, 0.999, 1e-3, wds[d]], t));
        for (let i = 0; i < n; i++) {
          rm[i] = b1 * rm[i] + (1 - b1) * rg[i];
          rv[i] = b2 * rv[i] + (1 - b2) * rg[i] * rg[i];
          const mHat = rm[i] / (1 - Math.pow(b1, t));
          const vHat = rv[i] / (1 - Math.pow(b2, t));
          rp[i] = rp[i] - lr * wd * rp[i];
          rp[i] -= lr * mHat / (Math.sqrt(vHat) + eps); // TF.js and PyTorch: eps added to the corrected root
        }
        const what = wd > 0 ? "adamw" : "adam";
        closeAll(m, rm, n, what + " m t=" + t.toString());
        closeAll(v, rv, n, what + " v t=" + t.toString());
        closeAll(p, rp, n, what + " p t=" + t.toString());
      }
      expect<f32>(fget(p, n)).toBe(555.0, "wrote past n");
    }
  });

  it("an element's update does not depend on its position (SIMD body vs scalar tail: same bits)", () => {
    const n = 7;
    const p = buf(n), g = buf(n), m = buf(n), v = buf(n), vel = buf(n), acc = buf(n), ms = buf(n), mom = buf(n), mg = buf(n);
    fill(p, n, 0.3); fill(g, n, -0.0123); fill(m, n, 0.01); fill(v, n, 0.002);
    fill(vel, n, 0.1); fill(acc, n, 0.1); fill(ms, n, 0.05); fill(mom, n, 0.01); fill(mg, n, 0.001);
    for (let t = 1; t <= 3; t++) {
      adam_step(p, g, m, v, n, settings([0.01, 0.9, 0.999, 1e-7, 0.01], t));
      momentum_step(p, g, vel, n, 0.05, 0.9, 1);
      rmsprop_step(p, g, ms, mom, mg, n, settings([0.01, 0.9, 0.5, 1e-7]));
      adagrad_step(p, g, acc, n, 0.1, 1e-7);
      sgd_step(p, g, n, 0.1);
    }
    for (let i = 1; i < n; i++) {
      expect<f32>(fget(p, i)).toBe(fget(p, 0));
      expect<f32>(fget(m, i)).toBe(fget(m, 0));
      expect<f32>(fget(v, i)).toBe(fget(v, 0));
      expect<f32>(fget(mom, i)).toBe(fget(mom, 0));
      expect<f32>(fget(mg, i)).toBe(fget(mg, 0));
    }
  });
});

describe("clipping and regularisers", () => {
  it("clip_by_value clamps to [-clip, clip]", () => {
    const n = 9;
    const g = buf(n);
    for (let i = 0; i < n; i++) fset(g, i, <f32>(i - 4) * 0.5); // -2 .. 2
    clip_by_value(g, n, 1.0);
    for (let i = 0; i < n; i++) {
      const x: f32 = <f32>(i - 4) * 0.5;
      expect<f32>(fget(g, i)).toBe(x > 1 ? 1 : x < -1 ? -1 : x);
    }
  });

  it("l2: returns l2*sum(w^2), adds 2*l2*w into g", () => {
    const sizes: i32[] = [1, 3, 4, 5, 9, 17];
    for (let k = 0; k < sizes.length; k++) {
      const n = sizes[k];
      const w = params(n, 1), g = buf(n, 1);
      for (let i = 0; i < n; i++) fset(g, i, rnd());
      const rw = mirror(w, n), rg = mirror(g, n);
      const l2: f64 = <f64><f32>0.01;
      let ref: f64 = 0;
      for (let i = 0; i < n; i++) {
        ref += rw[i] * rw[i];
        rg[i] += 2 * l2 * rw[i];
      }
      close(l2_penalty(w, g, n, 0.01), l2 * ref, "l2 value");
      closeAll(g, rg, n, "l2 grad");
    }
  });

  it("l1: returns l1*sum|w|, adds l1*sign(w) into g, sign(0) = 0", () => {
    const sizes: i32[] = [1, 3, 4, 5, 9, 17];
    for (let k = 0; k < sizes.length; k++) {
      const n = sizes[k];
      const w = params(n, 0), g = buf(n, 0);
      for (let i = 0; i < n; i++) fset(g, i, rnd());
      fset(w, 0, 0.0); // a zero in the body (or the tail for n < 4)
      fset(w, n - 1, -0.0); // and one at the end
      const rw = mirror(w, n), rg = mirror(g, n);
      const l1: f64 = <f64><f32>0.02;
      let ref: f64 = 0;
      for (let i = 0; i < n; i++) {
        ref += Math.abs(rw[i]);
        rg[i] += rw[i] > 0 ? l1 : rw[i] < 0 ? -l1 : 0;
      }
      close(l1_penalty(w, g, n, 0.02), l1 * ref, "l1 value");
      closeAll(g, rg, n, "l1 grad");
    }
  });
});
