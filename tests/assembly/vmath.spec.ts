// vmath: the f32x4 functions (through their array probes) against f64 references over a wide sweep that includes
// subnormals, the overflow/underflow edges and the extremes. Errors are in f32 ulps of the reference; the max is
// logged and bounded. The erf/erfc reference is written here in f64 (AssemblyScript's Math has none).
import {
  vexp_f32, vexpm1_f32, vlog_f32, vlog1p_f32, vsigmoid_f32, vtanh_f32, verf_f32, verfc_f32,
  math_exp, math_log, math_cos, math_pow, math_sqrt, math_tanh,
} from "../../assembly/vmath";
import { alloc16, erf64, erfc64, report } from "./helpers.include";


// ---- f64 references ----

// erf64 / erfc64 (the series and continued fraction) come from helpers.include.ts.

function ref(fn: i32, x: f64): f64 {
  switch (fn) {
    case 0: return Math.exp(x);
    case 1: return Math.expm1(x);
    case 2: return Math.log(x);
    case 3: return Math.log1p(x);
    case 4: return 1 / (1 + Math.exp(-x));
    case 5: return Math.tanh(x);
    case 6: return erf64(x);
    default: return erfc64(x);
  }
}

function run(fn: i32, x: usize, y: usize, n: i32): void {
  switch (fn) {
    case 0: vexp_f32(x, y, n); break;
    case 1: vexpm1_f32(x, y, n); break;
    case 2: vlog_f32(x, y, n); break;
    case 3: vlog1p_f32(x, y, n); break;
    case 4: vsigmoid_f32(x, y, n); break;
    case 5: vtanh_f32(x, y, n); break;
    case 6: verf_f32(x, y, n); break;
    default: verfc_f32(x, y, n);
  }
}

const NAMES: string[] = ["exp", "expm1", "log", "log1p", "sigmoid", "tanh", "erf", "erfc"];

/** The spacing of f32 values around r (2^-149 among the subnormals). */
function ulpF32(r: f64): f64 {
  const e = (reinterpret<u32>(<f32>Math.abs(r)) >>> 23) & 0xff;
  return e == 0 ? Math.pow(2, -149) : Math.pow(2, <f64>e - 150);
}

/** Error of got in ulps of the reference; Infinity for a wrong NaN, Inf or sign of Inf. */
function ulpError(got: f32, want: f64): f64 {
  if (isNaN(want)) return isNaN(got) ? 0 : Infinity;
  if (isNaN(got)) return Infinity;
  const wf = <f32>want;
  if (!isFinite(wf) || !isFinite(got)) return got == wf ? 0 : Infinity;
  return Math.abs(<f64>got - want) / ulpF32(want);
}

// The sweep: every STRIDE-th positive f32 bit pattern (all magnitudes, subnormals included) and its negative,
// a dense grid on [-12, 12], the edges of each function, and the extremes.
const STRIDE: u32 = 16381;
const N_PATTERNS: i32 = 0x7f800000 / STRIDE + 1;
const N_GRID: i32 = 48001;
const EDGES: f32[] = [
  0, -0, 1, -1, 88.72, 88.73, 88.7228, -87.33, -103.97, -103.98, -104, -150, 0.625, -0.625, 0.75, -0.75,
  3.92, -3.92, 10.05, 10.1, 1e-45, -1e-45, 1.17549435e-38, 3.4028235e38, -3.4028235e38, 0.3466, -0.3466,
];
const N_SWEEP: i32 = 2 * N_PATTERNS + N_GRID + 27;

function buildSweep(x: usize): void {
  let i = 0;
  for (let b = 0; b < N_PATTERNS; b++) {
    const v = reinterpret<f32>(<u32>b * STRIDE);
    store<f32>(x + (<usize>i << 2), v);
    i++;
    store<f32>(x + (<usize>i << 2), -v);
    i++;
  }
  for (let g = 0; g < N_GRID; g++, i++) store<f32>(x + (<usize>i << 2), <f32>(-12.0 + <f64>g * 0.0005));
  for (let e = 0; e < EDGES.length; e++, i++) store<f32>(x + (<usize>i << 2), EDGES[e]);
}

// max ulp error allowed for each function over the whole sweep
const BOUNDS: f64[] = [2, 3, 2, 3, 3, 3, 3, 7];

let sweepX: usize = 0;
let sweepY: usize = 0;

/** Runs function fn over the sweep; logs and checks its max ulp error. */
function checkSweep(fn: i32): void {
  if (!sweepX) {
    sweepX = alloc16(N_SWEEP * 4);
    sweepY = alloc16(N_SWEEP * 4);
    buildSweep(sweepX);
  }
  run(fn, sweepX, sweepY, N_SWEEP);
  let worst: f64 = 0;
  let worstX: f32 = 0;
  for (let i = 0; i < N_SWEEP; i++) {
    const xi = load<f32>(sweepX + (<usize>i << 2));
    const e = ulpError(load<f32>(sweepY + (<usize>i << 2)), ref(fn, <f64>xi));
    if (e > worst) {
      worst = e;
      worstX = xi;
    }
  }
  report(NAMES[fn] + ": max error " + worst.toString() + " ulp at x = " + worstX.toString() + " (" + N_SWEEP.toString() + " inputs)");
  expect<bool>(worst <= BOUNDS[fn]).toBe(true, NAMES[fn] + " max ulp error " + worst.toString());
}

describe("vmath vector functions vs f64 references (max ulp error over the sweep)", () => {
  it("exp <= 2 ulp", () => { checkSweep(0); });
  it("expm1 <= 3 ulp", () => { checkSweep(1); });
  it("log <= 2 ulp", () => { checkSweep(2); });
  it("log1p <= 3 ulp", () => { checkSweep(3); });
  it("sigmoid <= 3 ulp", () => { checkSweep(4); });
  it("tanh <= 3 ulp", () => { checkSweep(5); });
  it("erf <= 3 ulp", () => { checkSweep(6); });
  it("erfc <= 7 ulp", () => { checkSweep(7); });
});

/** f(v) through the probe, for single values. */
function at(fn: i32, v: f32): f32 {
  const p = alloc16(16);
  store<f32>(p, v);
  run(fn, p, p, 1);
  return load<f32>(p);
}

describe("vmath saturation and special values", () => {
  it("exp overflows to +Inf, underflows through the subnormals to 0, keeps NaN", () => {
    expect<bool>(ulpError(at(0, 88.72), Math.exp(<f64><f32>88.72)) <= 1).toBe(true);
    expect<f32>(at(0, 88.73)).toBe(Infinity);
    expect<f32>(at(0, 1e30)).toBe(Infinity);
    expect<f32>(at(0, Infinity)).toBe(Infinity);
    expect<bool>(ulpError(at(0, -100), Math.exp(-100)) <= 1).toBe(true); // subnormal
    expect<f32>(at(0, -104)).toBe(0);
    expect<f32>(at(0, -Infinity)).toBe(0);
    expect<bool>(isNaN(at(0, NaN))).toBe(true);
  });
  it("expm1 is exact near 0 and saturates to -1", () => {
    expect<f32>(at(1, 1e-30)).toBe(1e-30);
    expect<f32>(at(1, -30)).toBe(-1);
    expect<f32>(at(1, -Infinity)).toBe(-1);
    expect<f32>(at(1, 100)).toBe(Infinity);
  });
  it("log: -Inf at 0, NaN below, Inf at Inf, subnormals", () => {
    expect<f32>(at(2, 0)).toBe(-Infinity);
    expect<bool>(isNaN(at(2, -1))).toBe(true);
    expect<bool>(isNaN(at(2, NaN))).toBe(true);
    expect<f32>(at(2, Infinity)).toBe(Infinity);
    expect<f32>(at(2, 1)).toBe(0);
    expect<f32>(at(2, 1e-45)).toBeCloseTo(<f32>Math.log(1.401298464324817e-45), 4);
  });
  it("tanh and erf reach exactly +-1; sigmoid exactly 0 and 1; no NaN for huge finite input", () => {
    expect<f32>(at(5, 10)).toBe(1);
    expect<f32>(at(5, -10)).toBe(-1);
    expect<f32>(at(5, 3.4e38)).toBe(1);
    expect<f32>(at(5, -Infinity)).toBe(-1);
    expect<f32>(at(6, 4)).toBe(1);
    expect<f32>(at(6, -3.4e38)).toBe(-1);
    expect<f32>(at(4, 200)).toBe(1);
    expect<f32>(at(4, -200)).toBe(0);
    expect<f32>(at(4, -3.4e38)).toBe(0);
    expect<f32>(at(7, 11)).toBe(0);
    expect<f32>(at(7, -11)).toBe(2);
    expect<f32>(at(7, 3.4e38)).toBe(0);
  });
  it("odd functions keep the sign of zero", () => {
    expect<u32>(reinterpret<u32>(at(5, -0.0))).toBe(0x80000000);
    expect<u32>(reinterpret<u32>(at(6, -0.0))).toBe(0x80000000);
  });
});

describe("vmath probes as array kernels", () => {
  it("handle tails, alias y = x, and give every element the same bits wherever it falls", () => {
    const sizes: i32[] = [1, 3, 4, 5, 7, 8, 9, 17];
    for (let s = 0; s < sizes.length; s++) {
      const n = sizes[s];
      for (let fn = 0; fn < 8; fn++) {
        const x = alloc16((n + 4) * 4);
        const y = alloc16((n + 4) * 4);
        for (let i = 0; i < n; i++) store<f32>(x + (<usize>i << 2), <f32>(0.37 * <f64>(i - 3)));
        store<f32>(y + (<usize>n << 2), 12345); // guard just past the end
        run(fn, x, y, n);
        expect<f32>(load<f32>(y + (<usize>n << 2))).toBe(12345, "wrote past n");
        for (let i = 0; i < n; i++) {
          const got = load<f32>(y + (<usize>i << 2));
          expect<u32>(reinterpret<u32>(got)).toBe(reinterpret<u32>(at(fn, load<f32>(x + (<usize>i << 2)))));
        }
        run(fn, x, x, n); // in place
        for (let i = 0; i < n; i++) {
          expect<u32>(reinterpret<u32>(load<f32>(x + (<usize>i << 2)))).toBe(reinterpret<u32>(load<f32>(y + (<usize>i << 2))));
        }
      }
    }
  });
});

describe("f64 scalar wrappers", () => {
  it("agree with known values", () => {
    expect<f64>(math_exp(1)).toBeCloseTo(2.718281828459045, 14);
    expect<f64>(math_log(10)).toBeCloseTo(2.302585092994046, 14);
    expect<f64>(math_cos(Math.PI / 3)).toBeCloseTo(0.5, 14);
    expect<f64>(math_pow(2, 0.5)).toBeCloseTo(1.4142135623730951, 14);
    expect<f64>(math_pow(0.9, 100)).toBeCloseTo(2.6561398887587544e-5, 18);
    expect<f64>(math_sqrt(2)).toBe(1.4142135623730951);
    expect<f64>(math_tanh(0.5)).toBeCloseTo(0.46211715726000974, 14);
  });
});
