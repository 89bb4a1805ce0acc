// Activations: every forward against a plain f64 scalar reference (AssemblyScript's Math, plus an f64 erf written
// here), every derivative against a central finite difference of that reference, sizes with SIMD tails, the fused
// bias epilogue, the bias gradient, and softmax / log-softmax (forward against f64, backward against a finite
// difference of a scalar function of the output). Tolerances are explicit; the worst errors are logged.
import {
  act_forward, act_backward, bias_act_forward, bias_gelu_slope_forward, bias_grad, relu_bias_grad, slope_bias_grad,
  softmax_forward, softmax_backward, log_softmax_forward, log_softmax_backward,
  ACT_LINEAR, ACT_STEP, ACT_RELU, ACT_LEAKY_RELU, ACT_ELU, ACT_SIGMOID, ACT_TANH, ACT_SOFTPLUS, ACT_GELU, ACT_GELU_TANH,
  ACT_HARD_SIGMOID,
} from "../../assembly/activations";
import { alloc16, erfc64, fget, fset, nextU32, report, seedRandom } from "./helpers.include";

// Uniform in [lo, hi) from the spec's own LCG (helpers.include.ts), independent of the module's generator.
seedRandom(12345);
function rand(lo: f64, hi: f64): f64 {
  return lo + (hi - lo) * (<f64>(nextU32() >>> 8) / 16777216.0);
}

// ---- f64 references ----

// erf64 / erfc64 come from helpers.include.ts.

function actRef(act: i32, x: f64, alpha: f64): f64 {
  switch (act) {
    case ACT_LINEAR: return x;
    case ACT_STEP: return x > 0 ? 1 : 0;
    case ACT_RELU: return x > 0 ? x : 0;
    case ACT_LEAKY_RELU: return x > 0 ? x : alpha * x;
    case ACT_ELU: return x > 0 ? x : alpha * Math.expm1(x);
    case ACT_SIGMOID: return 1 / (1 + Math.exp(-x));
    case ACT_TANH: return Math.tanh(x);
    case ACT_SOFTPLUS: return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    case ACT_GELU: return 0.5 * x * erfc64(-x / Math.SQRT2);
    case ACT_HARD_SIGMOID: return Math.min(1, Math.max(0, 0.2 * x + 0.5));
    default: {
      // 0.5 x (1 + tanh u); far left 1 + tanh u = 2 e^(2u) / (1 + e^(2u)) keeps f64's digits
      const u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
      if (u > -1) return 0.5 * x * (1 + Math.tanh(u));
      const e = Math.exp(2 * u);
      return x * e / (1 + e);
    }
  }
}

const ACT_NAMES: string[] = ["linear", "step", "relu", "leakyRelu", "elu", "sigmoid", "tanh", "softplus", "gelu", "geluTanh", "hardSigmoid"];
const ALPHA: f32[] = [0, 0, 0, 0.3, 1.0, 0, 0, 0, 0, 0, 0];
// forward: allowed error in f32 ulps of the reference (0 = exact, 0.5 = correctly rounded); geluTanh gets 6 more
// ulps per unit of |u| in its left tail, where the few-ulp rounding of its f32 argument u is amplified by
// d log sigmoid(2u) / d log u ~ 2|u| (tiny values: -2e-32 at x = -9.4); hardSigmoid's error is counted in ulps of
// max(|y|, 0.5), since 0.2 x + 0.5 in f32 cancels near y = 0 as it does in TF.js
const FWD_ULPS: f64[] = [0, 0, 0, 0.5, 3, 3, 3, 4, 8, 6, 1];

function ulpF32(r: f64): f64 {
  const e = (reinterpret<u32>(<f32>Math.abs(r)) >>> 23) & 0xff;
  return e == 0 ? Math.pow(2, -149) : Math.pow(2, <f64>e - 150);
}

/** Error of the forward value in ulps of the reference, with geluTanh's conditioning taken out. */
function fwdError(act: i32, x: f32, got: f32): f64 {
  const want = actRef(act, <f64>x, <f64>ALPHA[act]);
  if (isNaN(got)) return Infinity;
  const wf = <f32>want;
  if (!isFinite(wf) || !isFinite(got)) return got == wf ? 0 : Infinity;
  let e = Math.abs(<f64>got - want) / ulpF32(act == ACT_HARD_SIGMOID ? Math.max(Math.abs(want), 0.5) : want);
  if (act == ACT_GELU_TANH) {
    const u = Math.abs(0.7978845608028654 * (<f64>x + 0.044715 * <f64>x * <f64>x * <f64>x));
    e = e / (1 + Math.min(u, 1e30)); // (6 + 6 |u|) / 6
  }
  return e;
}

/** The inputs: a grid on [-12, 12] off the kinks, large and tiny magnitudes, the extremes. */
const N_X: i32 = 2400 + 24;
function fillInputs(x: usize): void {
  for (let i = 0; i < 2400; i++) fset(x, i, <f32>(-12.0 + 0.01 * <f64>i + 0.003));
  const extra: f32[] = [20, -20, 50, -50, 100, -100, 1e4, -1e4, 1e15, -1e15, 3.4e38, -3.4e38,
    1e-3, -1e-3, 1e-20, -1e-20, 1e-40, -1e-40, 0.5, -0.5, 3, -3, 8.5, -8.5];
  for (let i = 0; i < extra.length; i++) fset(x, 2400 + i, extra[i]);
}

let worstFwd: f64 = 0;
let worstFwdX: f32 = 0;

/** act_forward over the inputs; returns true if every element is within the bound. */
function checkForward(act: i32): bool {
  const x = alloc16(N_X * 4);
  const y = alloc16(N_X * 4);
  fillInputs(x);
  act_forward(x, y, N_X, act, ALPHA[act]);
  worstFwd = 0;
  for (let i = 0; i < N_X; i++) {
    const e = fwdError(act, fget(x, i), fget(y, i));
    if (e > worstFwd) {
      worstFwd = e;
      worstFwdX = fget(x, i);
    }
  }
  const unit = act == ACT_GELU_TANH ? " ulp / (1 + |u|)" : " ulp";
  report(ACT_NAMES[act] + " forward: max error " + worstFwd.toString() + unit + " at x = " + worstFwdX.toString());
  return worstFwd <= FWD_ULPS[act];
}

describe("act_forward against the f64 reference", () => {
  it("linear", () => { expect<bool>(checkForward(ACT_LINEAR)).toBe(true); });
  it("step", () => { expect<bool>(checkForward(ACT_STEP)).toBe(true); });
  it("relu", () => { expect<bool>(checkForward(ACT_RELU)).toBe(true); });
  it("leakyRelu (alpha 0.3), correctly rounded", () => { expect<bool>(checkForward(ACT_LEAKY_RELU)).toBe(true); });
  it("elu (alpha 1) <= 3 ulp", () => { expect<bool>(checkForward(ACT_ELU)).toBe(true); });
  it("sigmoid <= 3 ulp", () => { expect<bool>(checkForward(ACT_SIGMOID)).toBe(true); });
  it("tanh <= 3 ulp", () => { expect<bool>(checkForward(ACT_TANH)).toBe(true); });
  it("softplus <= 4 ulp", () => { expect<bool>(checkForward(ACT_SOFTPLUS)).toBe(true); });
  it("gelu (erf) <= 8 ulp, left tail included", () => { expect<bool>(checkForward(ACT_GELU)).toBe(true); });
  it("geluTanh <= 6 ulp + 6 ulp per unit of |u|", () => { expect<bool>(checkForward(ACT_GELU_TANH)).toBe(true); });
  it("hardSigmoid <= 1 ulp of max(|y|, 0.5)", () => { expect<bool>(checkForward(ACT_HARD_SIGMOID)).toBe(true); });
  it("elu with alpha 0.5 and leakyRelu with alpha 0.01 use alpha", () => {
    const x = alloc16(16);
    const y = alloc16(16);
    fset(x, 0, -2);
    act_forward(x, y, 1, ACT_ELU, 0.5);
    expect<f64>(<f64>fget(y, 0)).toBeCloseTo(0.5 * Math.expm1(-2), 6);
    act_forward(x, y, 1, ACT_LEAKY_RELU, 0.01);
    expect<f32>(fget(y, 0)).toBe(<f32>-0.02);
  });
});

// ---- derivatives against central differences of the reference ----

// |dz - dy f'(z)| <= |dy| (REL |f'| + ABS): f32 derivative formulas against an f64 difference quotient
const BWD_REL: f64 = 1e-6;
const BWD_ABS: f64[] = [0, 0, 0, 0, 1e-7, 1e-7, 2e-7, 2e-7, 3e-7, 3e-7, 0];

let worstBwd: f64 = 0;
let worstBwdZ: f32 = 0;

function checkBackward(act: i32): bool {
  const n = 1601;
  const z = alloc16(n * 4);
  const y = alloc16(n * 4);
  const dy = alloc16(n * 4);
  const dz = alloc16(n * 4);
  const alpha = <f64>ALPHA[act];
  for (let i = 0; i < n; i++) {
    let zi = <f32>(-8.0 + 0.01 * <f64>i + 0.0037);
    if (i == n - 1) zi = 40; // saturated: derivatives must be finite
    fset(z, i, zi);
    fset(y, i, <f32>actRef(act, <f64>zi, alpha));
    fset(dy, i, <f32>rand(-2, 2));
  }
  act_backward(z, y, dy, dz, n, act, ALPHA[act]);
  worstBwd = 0;
  let ok = true;
  for (let i = 0; i < n; i++) {
    const zi = <f64>fget(z, i);
    const h = 1e-4 * Math.max(1, Math.abs(zi));
    const fd = (actRef(act, zi + h, alpha) - actRef(act, zi - h, alpha)) / (2 * h);
    const g = <f64>fget(dy, i);
    const got = <f64>fget(dz, i);
    const err = Math.abs(got - g * fd);
    const tol = Math.abs(g) * (BWD_REL * Math.abs(fd) + BWD_ABS[act]) + 1e-12;
    if (!(err <= tol)) ok = false;
    const rel = err / (Math.abs(g) + 1e-30);
    if (rel > worstBwd) {
      worstBwd = rel;
      worstBwdZ = <f32>zi;
    }
  }
  report(ACT_NAMES[act] + " backward: max |dz - dy f'| / |dy| = " + worstBwd.toString() + " at z = " + worstBwdZ.toString());
  return ok;
}

describe("act_backward against a central difference of the reference", () => {
  it("linear", () => { expect<bool>(checkBackward(ACT_LINEAR)).toBe(true); });
  it("step (derivative 0)", () => { expect<bool>(checkBackward(ACT_STEP)).toBe(true); });
  it("relu", () => { expect<bool>(checkBackward(ACT_RELU)).toBe(true); });
  it("leakyRelu", () => { expect<bool>(checkBackward(ACT_LEAKY_RELU)).toBe(true); });
  it("elu", () => { expect<bool>(checkBackward(ACT_ELU)).toBe(true); });
  it("sigmoid (from y)", () => { expect<bool>(checkBackward(ACT_SIGMOID)).toBe(true); });
  it("tanh (from y)", () => { expect<bool>(checkBackward(ACT_TANH)).toBe(true); });
  it("softplus", () => { expect<bool>(checkBackward(ACT_SOFTPLUS)).toBe(true); });
  it("gelu", () => { expect<bool>(checkBackward(ACT_GELU)).toBe(true); });
  it("geluTanh", () => { expect<bool>(checkBackward(ACT_GELU_TANH)).toBe(true); });
  it("hardSigmoid", () => { expect<bool>(checkBackward(ACT_HARD_SIGMOID)).toBe(true); });
  it("unused pointers may be 0: relu reads only z, sigmoid only y", () => {
    const z = alloc16(32);
    const y = alloc16(32);
    const dy = alloc16(32);
    const dz = alloc16(32);
    for (let i = 0; i < 5; i++) {
      fset(z, i, <f32>(i - 2));
      fset(y, i, <f32>(0.1 * <f64>(i + 1)));
      fset(dy, i, 2);
    }
    act_backward(z, 0, dy, dz, 5, ACT_RELU, 0);
    for (let i = 0; i < 5; i++) expect<f32>(fget(dz, i)).toBe(i > 2 ? 2 : 0);
    act_backward(0, y, dy, dz, 5, ACT_SIGMOID, 0);
    for (let i = 0; i < 5; i++) {
      const yi = fget(y, i);
      expect<f32>(fget(dz, i)).toBeCloseTo(2 * yi * (1 - yi), 6);
    }
  });
});

// ---- sizes with SIMD tails, aliasing, no writes past the end ----

const SIZES: i32[] = [1, 3, 4, 5, 17, 33];
const GUARD: f32 = -777.25;

describe("tails and aliasing", () => {
  it("forward and backward for n in 1, 3, 4, 5, 17, 33: every element right, nothing past n, in place equal", () => {
    for (let s = 0; s < SIZES.length; s++) {
      const n = SIZES[s];
      for (let act = 0; act < 11; act++) {
        const x = alloc16((n + 1) * 4);
        const y = alloc16((n + 1) * 4);
        const dy = alloc16((n + 1) * 4);
        const dz = alloc16((n + 1) * 4);
        for (let i = 0; i < n; i++) {
          fset(x, i, <f32>rand(-4, 4));
          fset(dy, i, <f32>rand(-1, 1));
        }
        fset(y, n, GUARD);
        fset(dz, n, GUARD);
        act_forward(x, y, n, act, ALPHA[act]);
        act_backward(x, y, dy, dz, n, act, ALPHA[act]);
        expect<f32>(fget(y, n)).toBe(GUARD, "forward wrote past n");
        expect<f32>(fget(dz, n)).toBe(GUARD, "backward wrote past n");
        for (let i = 0; i < n; i++) {
          expect<bool>(fwdError(act, fget(x, i), fget(y, i)) <= FWD_ULPS[act]).toBe(true, ACT_NAMES[act] + " tail");
        }
        // in place: y = f(x) into x, dz into dy; same bits as out of place
        act_backward(x, y, dy, dy, n, act, ALPHA[act]);
        act_forward(x, x, n, act, ALPHA[act]);
        for (let i = 0; i < n; i++) {
          expect<u32>(reinterpret<u32>(fget(x, i))).toBe(reinterpret<u32>(fget(y, i)));
          expect<u32>(reinterpret<u32>(fget(dy, i))).toBe(reinterpret<u32>(fget(dz, i)));
        }
      }
    }
  });
});

// ---- bias_act_forward and bias_grad ----

/** bias_act_forward on (rows, cols), checked against z + bias (exact f32 add) and the forward reference. */
function checkBiasAct(rows: i32, cols: i32, act: i32, withBias: bool, inPlace: bool): bool {
  const n = rows * cols;
  const z = alloc16((n + 1) * 4);
  const z0 = alloc16(n * 4);
  const b = alloc16(cols * 4);
  const y = inPlace ? z : alloc16((n + 1) * 4);
  for (let i = 0; i < n; i++) {
    const v = <f32>rand(-3, 3);
    fset(z, i, v);
    fset(z0, i, v);
  }
  for (let j = 0; j < cols; j++) fset(b, j, <f32>rand(-1, 1));
  fset(z, n, GUARD);
  fset(y, n, GUARD);
  bias_act_forward(z, withBias ? b : 0, y, rows, cols, act, ALPHA[act]);
  let ok = fget(z, n) == GUARD && fget(y, n) == GUARD;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      const pre: f32 = withBias ? fget(z0, i) + fget(b, j) : fget(z0, i);
      if (!inPlace && fget(z, i) != pre) ok = false; // z keeps the pre-activation
      if (!(fwdError(act, pre, fget(y, i)) <= FWD_ULPS[act])) ok = false;
    }
  }
  return ok;
}

describe("bias_act_forward (the dense epilogue)", () => {
  it("with bias, separate y: z becomes z + bias, y = f(z + bias), every act and width", () => {
    for (let s = 0; s < SIZES.length; s++) {
      for (let act = 0; act < 11; act++) {
        expect<bool>(checkBiasAct(3, SIZES[s], act, true, false)).toBe(true, ACT_NAMES[act] + " cols " + SIZES[s].toString());
      }
    }
  });
  it("with bias, y aliasing z", () => {
    for (let s = 0; s < SIZES.length; s++) {
      for (let act = 0; act < 11; act++) {
        expect<bool>(checkBiasAct(3, SIZES[s], act, true, true)).toBe(true, ACT_NAMES[act] + " cols " + SIZES[s].toString());
      }
    }
  });
  it("without bias (0): z untouched, y = f(z); and in place", () => {
    for (let s = 0; s < SIZES.length; s++) {
      for (let act = 0; act < 11; act++) {
        expect<bool>(checkBiasAct(2, SIZES[s], act, false, false)).toBe(true, ACT_NAMES[act] + " cols " + SIZES[s].toString());
        expect<bool>(checkBiasAct(2, SIZES[s], act, false, true)).toBe(true, ACT_NAMES[act] + " cols " + SIZES[s].toString());
      }
    }
  });
});

function checkBiasGrad(rows: i32, cols: i32, accumulate: i32): bool {
  const dz = alloc16(rows * cols * 4);
  const db = alloc16((cols + 1) * 4);
  const init = alloc16(cols * 4);
  for (let i = 0; i < rows * cols; i++) fset(dz, i, <f32>rand(-1, 1));
  for (let j = 0; j < cols; j++) {
    const v = <f32>rand(-5, 5);
    fset(db, j, v);
    fset(init, j, v);
  }
  fset(db, cols, GUARD);
  bias_grad(dz, db, rows, cols, accumulate);
  let ok = fget(db, cols) == GUARD;
  for (let j = 0; j < cols; j++) {
    let s: f64 = accumulate ? <f64>fget(init, j) : 0;
    let mag: f64 = Math.abs(s);
    for (let r = 0; r < rows; r++) {
      s += <f64>fget(dz, r * cols + j);
      mag += Math.abs(<f64>fget(dz, r * cols + j));
    }
    if (!(Math.abs(<f64>fget(db, j) - s) <= 1e-6 * mag + 1e-30)) ok = false;
    // and the documented order exactly: top to bottom in f32, whichever block of columns j falls in
    let s32: f32 = accumulate ? fget(init, j) : 0;
    for (let r = 0; r < rows; r++) s32 += fget(dz, r * cols + j);
    if (reinterpret<u32>(fget(db, j)) != reinterpret<u32>(s32)) ok = false;
  }
  return ok;
}

describe("bias_grad", () => {
  it("writes the column sums (accumulate = 0) for widths around 4 and 16", () => {
    const widths: i32[] = [1, 3, 4, 5, 8, 9, 12, 15, 16, 17, 24, 33, 37];
    const heights: i32[] = [1, 5, 64];
    for (let w = 0; w < widths.length; w++) {
      for (let h = 0; h < heights.length; h++) {
        expect<bool>(checkBiasGrad(heights[h], widths[w], 0)).toBe(true, "rows " + heights[h].toString() + " cols " + widths[w].toString());
      }
    }
  });
  it("adds the column sums (accumulate = 1)", () => {
    const widths: i32[] = [1, 3, 4, 5, 8, 12, 15, 16, 17, 25, 33, 37];
    for (let w = 0; w < widths.length; w++) {
      expect<bool>(checkBiasGrad(7, widths[w], 1)).toBe(true, "cols " + widths[w].toString());
    }
  });
});

/** relu_bias_grad against act_backward(relu) then bias_grad, bit for bit, with z = 0, NaN and negative zero mixed in. */
function checkReluBiasGrad(rows: i32, cols: i32, accumulate: i32): bool {
  const n = rows * cols;
  const z = alloc16(n * 4), dy = alloc16(n * 4), dz = alloc16(n * 4), want = alloc16(n * 4);
  const db = alloc16((cols + 1) * 4), dbWant = alloc16(cols * 4);
  for (let i = 0; i < n; i++) {
    const pick = i % 11;
    fset(z, i, pick == 0 ? 0 : pick == 1 ? NaN : pick == 2 ? -0.0 : <f32>rand(-1, 1));
    fset(dy, i, <f32>rand(-1, 1));
  }
  for (let j = 0; j < cols; j++) {
    const v = <f32>rand(-5, 5);
    fset(db, j, v);
    fset(dbWant, j, v);
  }
  fset(db, cols, GUARD);
  act_backward(z, 0, dy, want, n, ACT_RELU, 0);
  bias_grad(want, dbWant, rows, cols, accumulate);
  memory.copy(dz, dy, <usize>n * 4);
  relu_bias_grad(z, dz, db, rows, cols, accumulate);
  let ok = fget(db, cols) == GUARD;
  for (let i = 0; i < n; i++) ok = ok && reinterpret<u32>(fget(dz, i)) == reinterpret<u32>(fget(want, i));
  for (let j = 0; j < cols; j++) ok = ok && reinterpret<u32>(fget(db, j)) == reinterpret<u32>(fget(dbWant, j));
  return ok;
}

describe("relu_bias_grad", () => {
  it("equals act_backward(relu) then bias_grad, bit for bit", () => {
    const widths: i32[] = [1, 3, 4, 5, 8, 12, 15, 16, 17, 24, 33];
    for (let w = 0; w < widths.length; w++) {
      expect<bool>(checkReluBiasGrad(9, widths[w], 0)).toBe(true, "cols " + widths[w].toString());
      expect<bool>(checkReluBiasGrad(4, widths[w], 1)).toBe(true, "accumulate, cols " + widths[w].toString());
    }
  });
});

/**
 * The training path of a dense GELU layer against the plain one, bit for bit: bias_gelu_slope_forward's y against
 * bias_act_forward's, the slope it leaves in z against act_backward(gelu) with dy = 1, and slope_bias_grad against
 * act_backward(gelu) then bias_grad. z spans both tails (to +-16, past NCDF_MAX) with 0, -0, NaN and +-1e30 mixed in.
 */
function checkGeluSlope(rows: i32, cols: i32, withBias: bool, accumulate: i32): bool {
  const n = rows * cols;
  const z = alloc16((n + 1) * 4), zPlain = alloc16(n * 4), y = alloc16((n + 1) * 4), yPlain = alloc16(n * 4);
  const ones = alloc16(n * 4), slope = alloc16(n * 4), dy = alloc16(n * 4), dz = alloc16(n * 4), want = alloc16(n * 4);
  const b = alloc16(cols * 4), db = alloc16((cols + 1) * 4), dbWant = alloc16(cols * 4);
  for (let i = 0; i < n; i++) {
    const pick = i % 13;
    const v: f32 = pick == 0 ? 0 : pick == 1 ? NaN : pick == 2 ? -0.0 : pick == 3 ? 1e30 : pick == 4 ? -1e30 : <f32>rand(-16, 16);
    fset(z, i, v);
    fset(zPlain, i, v);
    fset(ones, i, 1);
    fset(dy, i, <f32>rand(-1, 1));
  }
  for (let j = 0; j < cols; j++) {
    fset(b, j, <f32>rand(-1, 1));
    const v = <f32>rand(-5, 5);
    fset(db, j, v);
    fset(dbWant, j, v);
  }
  fset(z, n, GUARD);
  fset(y, n, GUARD);
  fset(db, cols, GUARD);
  bias_gelu_slope_forward(z, withBias ? b : 0, y, rows, cols);
  bias_act_forward(zPlain, withBias ? b : 0, yPlain, rows, cols, ACT_GELU, 0);
  act_backward(zPlain, 0, ones, slope, n, ACT_GELU, 0);
  act_backward(zPlain, 0, dy, want, n, ACT_GELU, 0);
  bias_grad(want, dbWant, rows, cols, accumulate);
  memory.copy(dz, dy, <usize>n * 4);
  slope_bias_grad(z, dz, db, rows, cols, accumulate);
  let ok = fget(z, n) == GUARD && fget(y, n) == GUARD && fget(db, cols) == GUARD;
  for (let i = 0; i < n; i++) {
    ok = ok && reinterpret<u32>(fget(y, i)) == reinterpret<u32>(fget(yPlain, i));
    ok = ok && reinterpret<u32>(fget(z, i)) == reinterpret<u32>(fget(slope, i));
    ok = ok && reinterpret<u32>(fget(dz, i)) == reinterpret<u32>(fget(want, i));
  }
  for (let j = 0; j < cols; j++) ok = ok && reinterpret<u32>(fget(db, j)) == reinterpret<u32>(fget(dbWant, j));
  return ok;
}

describe("bias_gelu_slope_forward and slope_bias_grad (a dense GELU layer in training)", () => {
  it("equal bias_act_forward, act_backward(gelu) and bias_grad, bit for bit", () => {
    const widths: i32[] = [1, 3, 4, 5, 8, 12, 15, 16, 17, 24, 33, 300];
    for (let w = 0; w < widths.length; w++) {
      const c = "cols " + widths[w].toString();
      expect<bool>(checkGeluSlope(9, widths[w], true, 0)).toBe(true, c);
      expect<bool>(checkGeluSlope(4, widths[w], true, 1)).toBe(true, "accumulate, " + c);
      expect<bool>(checkGeluSlope(5, widths[w], false, 0)).toBe(true, "no bias, " + c);
    }
  });
  it("the slope is finite and right at the extremes: 1 far right, 0 far left", () => {
    const z = alloc16(32), y = alloc16(32);
    const xs: f32[] = [3.4e38, 1e30, 40, 14.3, -14.3, -40, -1e30, -3.4e38];
    for (let i = 0; i < xs.length; i++) fset(z, i, xs[i]);
    bias_gelu_slope_forward(z, 0, y, 1, xs.length);
    for (let i = 0; i < 4; i++) expect<f32>(fget(z, i)).toBe(1, "slope at " + xs[i].toString());
    for (let i = 4; i < 8; i++) expect<f64>(Math.abs(<f64>fget(z, i))).toBe(0, "slope at " + xs[i].toString());
  });
});

// ---- softmax and log-softmax ----

/** f64 softmax of row r of the f32 matrix x (rows, cols) into out (f64 array of cols). */
function softmax64(x: usize, r: i32, cols: i32, out: usize): void {
  let m = -Infinity;
  for (let j = 0; j < cols; j++) m = Math.max(m, <f64>fget(x, r * cols + j));
  let s: f64 = 0;
  for (let j = 0; j < cols; j++) s += Math.exp(<f64>fget(x, r * cols + j) - m);
  for (let j = 0; j < cols; j++) store<f64>(out + (<usize>j << 3), Math.exp(<f64>fget(x, r * cols + j) - m) / s);
}

/** L(x) = sum_j g_j softmax_j(x) (or log-softmax) for one f64 row. */
function rowLoss(x: usize, g: usize, cols: i32, logForm: bool): f64 {
  let m = -Infinity;
  for (let j = 0; j < cols; j++) m = Math.max(m, load<f64>(x + (<usize>j << 3)));
  let s: f64 = 0;
  for (let j = 0; j < cols; j++) s += Math.exp(load<f64>(x + (<usize>j << 3)) - m);
  let l: f64 = 0;
  for (let j = 0; j < cols; j++) {
    const xj = load<f64>(x + (<usize>j << 3));
    const v = logForm ? xj - m - Math.log(s) : Math.exp(xj - m) / s;
    l += <f64>fget(g, j) * v;
  }
  return l;
}

function fillLogits(x: usize, n: i32, scale: f64): void {
  for (let i = 0; i < n; i++) fset(x, i, <f32>rand(-scale, scale));
}

function checkSoftmaxForward(rows: i32, cols: i32, scale: f64, logForm: bool, inPlace: bool): bool {
  const n = rows * cols;
  const x = alloc16((n + 1) * 4);
  const xs = alloc16(n * 4);
  fillLogits(x, n, scale);
  memory.copy(xs, x, <usize>n << 2);
  const y = inPlace ? x : alloc16((n + 1) * 4);
  fset(y, n, GUARD);
  if (logForm) log_softmax_forward(x, y, rows, cols);
  else softmax_forward(x, y, rows, cols);
  let ok = fget(y, n) == GUARD;
  const p = alloc16(cols * 8);
  for (let r = 0; r < rows; r++) {
    softmax64(xs, r, cols, p);
    let sum: f64 = 0;
    for (let j = 0; j < cols; j++) {
      const want = load<f64>(p + (<usize>j << 3));
      const got = <f64>fget(y, r * cols + j);
      if (logForm) {
        const lw = Math.log(want);
        if (!(Math.abs(got - lw) <= 1e-6 * Math.abs(lw) + 1e-6)) ok = false;
      } else {
        if (!(Math.abs(got - want) <= 2e-6 * want + 1e-38)) ok = false;
        sum += got;
      }
    }
    if (!logForm && !(Math.abs(sum - 1) <= 1e-6 * <f64>cols)) ok = false;
  }
  return ok;
}

describe("softmax_forward and log_softmax_forward", () => {
  it("softmax rows match f64 and sum to 1; widths with tails; in place", () => {
    for (let s = 0; s < SIZES.length; s++) {
      expect<bool>(checkSoftmaxForward(3, SIZES[s], 6, false, false)).toBe(true, "cols " + SIZES[s].toString());
      expect<bool>(checkSoftmaxForward(3, SIZES[s], 6, false, true)).toBe(true, "in place, cols " + SIZES[s].toString());
    }
  });
  it("log_softmax rows match f64; widths with tails; in place", () => {
    for (let s = 0; s < SIZES.length; s++) {
      expect<bool>(checkSoftmaxForward(3, SIZES[s], 6, true, false)).toBe(true, "cols " + SIZES[s].toString());
      expect<bool>(checkSoftmaxForward(3, SIZES[s], 6, true, true)).toBe(true, "in place, cols " + SIZES[s].toString());
    }
  });
  it("is stable for logits like 1000 and -1000", () => {
    const cols = 5;
    const x = alloc16(2 * cols * 4);
    const y = alloc16(2 * cols * 4);
    const ly = alloc16(2 * cols * 4);
    const row0: f32[] = [1000, -1000, 0, 999, 1000];
    for (let j = 0; j < cols; j++) {
      fset(x, j, row0[j]);
      fset(x, cols + j, -1000); // a row of equal, very negative logits
    }
    softmax_forward(x, y, 2, cols);
    log_softmax_forward(x, ly, 2, cols);
    const e1 = Math.exp(-1.0);
    const s = 2 + e1;
    expect<f64>(<f64>fget(y, 0)).toBeCloseTo(1 / s, 6);
    expect<f32>(fget(y, 1)).toBe(0);
    expect<f32>(fget(y, 2)).toBe(0);
    expect<f64>(<f64>fget(y, 3)).toBeCloseTo(e1 / s, 6);
    expect<f64>(<f64>fget(y, 4)).toBeCloseTo(1 / s, 6);
    for (let j = 0; j < cols; j++) expect<f64>(<f64>fget(y, cols + j)).toBeCloseTo(0.2, 6);
    expect<f64>(<f64>fget(ly, 0)).toBeCloseTo(-Math.log(s), 6);
    expect<f64>(<f64>fget(ly, 1)).toBeCloseTo(-2000 - Math.log(s), 3);
    expect<f64>(<f64>fget(ly, 2)).toBeCloseTo(-1000 - Math.log(s), 3);
    expect<f64>(<f64>fget(ly, 3)).toBeCloseTo(-1 - Math.log(s), 6);
    for (let j = 0; j < cols; j++) expect<f64>(<f64>fget(ly, cols + j)).toBeCloseTo(-Math.log(5), 6);
  });
});

/** dx from the kernel against d/dx of L = sum_j g_j out_j(x) by central differences in f64. */
function checkSoftmaxBackward(rows: i32, cols: i32, logForm: bool, inPlace: bool): bool {
  const n = rows * cols;
  const x = alloc16(n * 4);
  const y = alloc16(n * 4);
  const g = alloc16((n + 1) * 4);
  fillLogits(x, n, 3);
  for (let i = 0; i < n; i++) fset(g, i, <f32>rand(-1, 1));
  const p = alloc16(cols * 8);
  for (let r = 0; r < rows; r++) {
    softmax64(x, r, cols, p);
    for (let j = 0; j < cols; j++) {
      const v = load<f64>(p + (<usize>j << 3));
      fset(y, r * cols + j, <f32>(logForm ? Math.log(v) : v));
    }
  }
  const gs = alloc16(n * 4);
  memory.copy(gs, g, <usize>n << 2);
  const dx = inPlace ? g : alloc16((n + 1) * 4);
  fset(dx, n, GUARD);
  if (logForm) log_softmax_backward(y, g, dx, rows, cols);
  else softmax_backward(y, g, dx, rows, cols);
  let ok = fget(dx, n) == GUARD;
  const xr = alloc16(cols * 8);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < cols; i++) {
      for (let j = 0; j < cols; j++) store<f64>(xr + (<usize>j << 3), <f64>fget(x, r * cols + j));
      const h: f64 = 1e-5;
      const xi = load<f64>(xr + (<usize>i << 3));
      store<f64>(xr + (<usize>i << 3), xi + h);
      const lp = rowLoss(xr, gs + (<usize>(r * cols) << 2), cols, logForm);
      store<f64>(xr + (<usize>i << 3), xi - h);
      const lm = rowLoss(xr, gs + (<usize>(r * cols) << 2), cols, logForm);
      const fd = (lp - lm) / (2 * h);
      if (!(Math.abs(<f64>fget(dx, r * cols + i) - fd) <= 2e-6 * (1 + Math.abs(fd)))) ok = false;
    }
  }
  return ok;
}

describe("softmax_backward and log_softmax_backward against finite differences", () => {
  it("softmax: dx = y (dy - sum dy y); widths with tails; dx aliasing dy", () => {
    for (let s = 0; s < SIZES.length; s++) {
      expect<bool>(checkSoftmaxBackward(3, SIZES[s], false, false)).toBe(true, "cols " + SIZES[s].toString());
      expect<bool>(checkSoftmaxBackward(3, SIZES[s], false, true)).toBe(true, "in place, cols " + SIZES[s].toString());
    }
  });
  it("log_softmax: dx = dy - softmax sum dy; widths with tails; dx aliasing dy", () => {
    for (let s = 0; s < SIZES.length; s++) {
      expect<bool>(checkSoftmaxBackward(3, SIZES[s], true, false)).toBe(true, "cols " + SIZES[s].toString());
      expect<bool>(checkSoftmaxBackward(3, SIZES[s], true, true)).toBe(true, "in place, cols " + SIZES[s].toString());
    }
  });
});
