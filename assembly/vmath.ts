// Math inside the module, so that every JS engine produces the same bits.
//
// `vmath.*` are f32x4 functions for the kernels (activations, elementwise ops): a few ulp over the full f32 range,
// no FMA (plain wasm SIMD128), NaN in -> NaN out, and correct saturation (exp overflows to +Inf and underflows
// through the subnormals to 0, tanh/erf reach exactly +-1, no NaN for finite input). Polynomials are minimax fits
// made for this file (Lawson's algorithm on Chebyshev nodes, coefficients rounded to f32).
// The exported `math_*` are f64 scalars on AssemblyScript's own Math (compiled into the module) for the JS runtime,
// e.g. learning-rate schedules; the exported `v*_f32` apply the vector functions to arrays.
//
// The vector functions live in a namespace so that `export *` in index.ts does not turn them into wasm exports
// with v128 signatures (asc reports that it skips the namespace: warning AS235, harmless).

// exp: x = n ln2 + r with |r| <= ln2/2, exp(r) = 1 + r + r^2 P(r). LN2_HI has 9 significant bits, so n * LN2_HI
// is exact for every n we see and r carries almost no reduction error (Cody-Waite).
const LOG2E: f32 = 1.44269504;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const EXP_MAX: f32 = 88.8; // exp(88.73) > FLT_MAX: anything above overflows to +Inf
const EXP_MIN: f32 = -104.0; // exp(-103.98) < half the smallest subnormal: anything below is 0
const EXPM1_MIN: f32 = -20.0; // expm1(-20) rounds to -1 in f32
// x * log2e + 1.5 * 2^23 rounds x * log2e to an integer n in the low mantissa bits (|n| < 2^22): one add gives
// both n as a float (subtract the constant back) and as an integer (subtract its bits), cheaper than
// nearest + trunc_sat on x86.
const ROUND_MAGIC: f32 = 12582912.0;
const ROUND_MAGIC_BITS: i32 = 0x4b400000;
const E0: f32 = 0.49999994;
const E1: f32 = 0.166665211;
const E2: f32 = 0.041668389;
const E3: f32 = 0.00836871006;
const E4: f32 = 0.00138146128;

// log: x = 2^e m with m in [sqrt(1/2), sqrt(2)), f = m - 1, log(1 + f) = f - f^2/2 + f^3 R(f).
const SQRT2: f32 = 1.41421356;
const MIN_NORMAL: f32 = 1.17549435e-38;
const L0: f32 = 0.333333313;
const L1: f32 = -0.250008196;
const L2: f32 = 0.200012267;
const L3: f32 = -0.166233569;
const L4: f32 = 0.142017573;
const L5: f32 = -0.131601825;
const L6: f32 = 0.127615765;
const L7: f32 = -0.0763449669;

// log1p on [0, 1] (softplus): 2 atanh(s) with s = u / (2 + u) in [0, 1/3], atanh(s) = s + s^3 A(s^2).
const A0: f32 = 0.333332092;
const A1: f32 = 0.200107634;
const A2: f32 = 0.140009031;
const A3: f32 = 0.140059933;

// tanh: |x| < 0.625: x + x^3 T(x^2); above: 1 - 2 / (exp(2|x|) + 1), where the subtraction loses nothing.
const TANH_SMALL: f32 = 0.625;
const T0: f32 = -0.333332807;
const T1: f32 = 0.133314416;
const T2: f32 = -0.0537397154;
const T3: f32 = 0.020639088;
const T4: f32 = -0.00570498733;

// erf: |x| < 0.75: x + x P(x^2), the small correction carrying the rounding. Above, erfc(a) = exp(-a^2) t R(t) with
// t = 1 / (1 + a/2) (R ~ erfcx(a) / t, smooth in t; fitted on the whole range a in [0, ERFC_MAX], t in [0.165, 1],
// within 4.3e-8 relative, so that the normal CDF below needs no second branch) and erf = 1 - erfc; -a^2 is formed
// exactly from a split of a, because exp amplifies its argument's absolute error (a^2 ~ 100).
const ERF_SMALL: f32 = 0.75;
const ERFC_MAX: f32 = 10.1; // erfc(10.1) rounds to 0; clamping here keeps exp's argument above EXP_MIN
const P0: f32 = 0.128379166;
const P1: f32 = -0.3761262;
const P2: f32 = 0.112833768;
const P3: f32 = -0.0268346258;
const P4: f32 = 0.00511434861;
const P5: f32 = -0.000674953277;
const R0: f32 = 0.28208518;
const R1: f32 = 0.282396495;
const R2: f32 = 0.242958307;
const R3: f32 = 0.203209877;
const R4: f32 = -0.0277014133;
const R5: f32 = 0.279355258;
const R6: f32 = -0.488061458;
const R7: f32 = 0.284855515;
const R8: f32 = -0.0590978004;
const SQRT1_2: f32 = 0.707106781;
export const NCDF_MAX: f32 = 14.2835915; // ERFC_MAX sqrt 2: Phi(-x) rounds to 0 from here on
const HI_12_BITS: i32 = 0xfffff000; // keeps 12 significant bits: the square of such a float is exact in f32

export namespace vmath {
  @inline export function k(c: f32): v128 {
    return f32x4.splat(c);
  }

  /** a * b + c, two roundings (no FMA in SIMD128, and none wanted: same bits everywhere). */
  @inline export function madd(a: v128, b: v128, c: v128): v128 {
    return f32x4.add(f32x4.mul(a, b), c);
  }

  /**
   * x clamped to [lo, hi], NaN kept: pmin/pmax return their first operand when a comparison fails, so x must
   * come first; they are one instruction each on x86, where f32x4.min/max are several.
   */
  @inline export function clamp(x: v128, lo: f32, hi: f32): v128 {
    return f32x4.pmax(f32x4.pmin(x, k(hi)), k(lo));
  }

  /** 2^n for integer lanes n in [-126, 127]. */
  @inline function pow2i(n: v128): v128 {
    return i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
  }

  /** expm1(r) for |r| <= ln2/2. */
  @inline function expm1Reduced(r: v128): v128 {
    let p = madd(k(E4), r, k(E3));
    p = madd(p, r, k(E2));
    p = madd(p, r, k(E1));
    p = madd(p, r, k(E0));
    return madd(f32x4.mul(r, r), p, r);
  }

  /** (1 + em) * 2^n for n in [-150, 128], scaled in two steps so that subnormal results round once. */
  @inline function scale2(onePlus: v128, n: v128): v128 {
    const n1 = i32x4.shr_s(n, 1);
    return f32x4.mul(f32x4.mul(onePlus, pow2i(n1)), pow2i(i32x4.sub(n, n1)));
  }

  /** e^x. The size-optimised build (the inference module) calls one copy of it; the full module inlines it. */
  @inline export function exp(x: v128): v128 {
    return ASC_SHRINK_LEVEL > 0 ? expCalled(x) : expInline(x);
  }
  function expCalled(x: v128): v128 {
    return expInline(x);
  }
  @inline function expInline(x: v128): v128 {
    x = clamp(x, EXP_MIN, EXP_MAX);
    const t = madd(x, k(LOG2E), k(ROUND_MAGIC));
    const fn = f32x4.sub(t, k(ROUND_MAGIC));
    const r = f32x4.sub(f32x4.sub(x, f32x4.mul(fn, k(LN2_HI))), f32x4.mul(fn, k(LN2_LO)));
    return scale2(f32x4.add(expm1Reduced(r), k(1)), i32x4.sub(t, i32x4.splat(ROUND_MAGIC_BITS)));
  }

  /**
   * e^(hi + lo) for a correction lo that must not be rounded into hi first (|lo| small against |hi|). Only for
   * EXP_MIN < hi + lo < EXP_MAX, which the callers guarantee by clamping their arguments.
   * hi - n * LN2_HI is exact for the callers' hi (a negated square of a 12-bit float), then lo joins.
   */
  @inline export function expHiLo(hi: v128, lo: v128): v128 {
    const t = madd(f32x4.add(hi, lo), k(LOG2E), k(ROUND_MAGIC));
    const fn = f32x4.sub(t, k(ROUND_MAGIC));
    const r = f32x4.sub(f32x4.add(f32x4.sub(hi, f32x4.mul(fn, k(LN2_HI))), lo), f32x4.mul(fn, k(LN2_LO)));
    return scale2(f32x4.add(expm1Reduced(r), k(1)), i32x4.sub(t, i32x4.splat(ROUND_MAGIC_BITS)));
  }

  /** e^x - 1, accurate near 0: 2^n expm1(r) + (2^n - 1) is exact scaling plus one rounding for n <= 24. */
  @inline export function expm1(x: v128): v128 {
    x = clamp(x, EXPM1_MIN, EXP_MAX);
    const t = madd(x, k(LOG2E), k(ROUND_MAGIC));
    const fn = f32x4.sub(t, k(ROUND_MAGIC));
    const r = f32x4.sub(f32x4.sub(x, f32x4.mul(fn, k(LN2_HI))), f32x4.mul(fn, k(LN2_LO)));
    const em = expm1Reduced(r);
    const n = i32x4.sub(t, i32x4.splat(ROUND_MAGIC_BITS));
    const p2 = pow2i(i32x4.min_s(n, i32x4.splat(24)));
    const small = madd(p2, em, f32x4.sub(p2, k(1)));
    const big = scale2(f32x4.add(em, k(1)), n); // the -1 vanishes below half an ulp
    return v128.bitselect(big, small, i32x4.gt_s(n, i32x4.splat(24)));
  }

  /** ln x: -Inf at 0, NaN below 0, +Inf at +Inf; subnormals are scaled up first. */
  @inline export function log(x: v128): v128 {
    const tiny = f32x4.lt(x, k(MIN_NORMAL));
    const xs = v128.bitselect(f32x4.mul(x, k(33554432.0)), x, tiny); // * 2^25
    let e = i32x4.sub(i32x4.shr_u(xs, 23), i32x4.splat(127));
    e = i32x4.sub(e, v128.and(tiny, i32x4.splat(25)));
    let m = v128.or(v128.and(xs, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000)); // [1, 2)
    const big = f32x4.gt(m, k(SQRT2));
    m = v128.bitselect(f32x4.mul(m, k(0.5)), m, big);
    e = i32x4.sub(e, big); // big lanes are -1
    const ef = f32x4.convert_i32x4_s(e);
    const f = f32x4.sub(m, k(1));
    const z = f32x4.mul(f, f);
    let p = madd(k(L7), f, k(L6));
    p = madd(p, f, k(L5));
    p = madd(p, f, k(L4));
    p = madd(p, f, k(L3));
    p = madd(p, f, k(L2));
    p = madd(p, f, k(L1));
    p = madd(p, f, k(L0));
    let y = f32x4.mul(f32x4.mul(p, f), z);
    y = madd(ef, k(LN2_LO), y);
    y = f32x4.sub(y, f32x4.mul(z, k(0.5)));
    let res = madd(ef, k(LN2_HI), f32x4.add(f, y));
    res = v128.bitselect(f32x4.add(x, x), res, f32x4.ge(x, k(Infinity))); // +Inf
    res = v128.bitselect(k(-Infinity), res, f32x4.eq(x, k(0)));
    return v128.bitselect(k(NaN), res, v128.not(f32x4.ge(x, k(0)))); // x < 0 or NaN
  }

  /** ln(1 + x): w = 1 + x rounded, then log(w) + (x - (w - 1)) / w puts back what the rounding lost. */
  @inline export function log1p(x: v128): v128 {
    const w = f32x4.add(x, k(1));
    const lw = log(w);
    const fix = f32x4.div(f32x4.sub(x, f32x4.sub(w, k(1))), w);
    const ok = v128.and(f32x4.gt(w, k(0)), f32x4.lt(w, k(Infinity)));
    return v128.bitselect(f32x4.add(lw, fix), lw, ok);
  }

  /** ln(1 + u) for u in [0, 1] only (softplus's log1p(e^-|x|)): one division and a short polynomial. */
  @inline export function log1pUnit(u: v128): v128 {
    const s = f32x4.div(u, f32x4.add(u, k(2)));
    const z = f32x4.mul(s, s);
    let p = madd(k(A3), z, k(A2));
    p = madd(p, z, k(A1));
    p = madd(p, z, k(A0));
    const s2 = f32x4.add(s, s);
    return madd(f32x4.mul(s2, z), p, s2);
  }

  /** 1 / (1 + e^-x), from e = e^-|x| so that neither side loses relative accuracy (no overflow either). */
  @inline export function sigmoid(x: v128): v128 {
    const e = exp(f32x4.neg(f32x4.abs(x)));
    const num = v128.bitselect(k(1), e, f32x4.ge(x, k(0)));
    return f32x4.div(num, f32x4.add(e, k(1)));
  }

  /** tanh x, odd; exactly +-1 from |x| ~ 9 on. */
  @inline export function tanh(x: v128): v128 {
    const a = f32x4.abs(x);
    const z = f32x4.mul(a, a);
    let p = madd(k(T4), z, k(T3));
    p = madd(p, z, k(T2));
    p = madd(p, z, k(T1));
    p = madd(p, z, k(T0));
    const small = madd(f32x4.mul(a, z), p, a);
    const e = exp(f32x4.add(a, a));
    const large = f32x4.sub(k(1), f32x4.div(k(2), f32x4.add(e, k(1))));
    const r = v128.bitselect(small, large, f32x4.lt(a, k(TANH_SMALL)));
    return v128.or(r, v128.and(x, i32x4.splat(0x80000000))); // sign of x
  }

  /** erf(a) on |a| < ERF_SMALL. */
  @inline function erfSmall(a: v128): v128 {
    const z = f32x4.mul(a, a);
    let p = madd(k(P5), z, k(P4));
    p = madd(p, z, k(P3));
    p = madd(p, z, k(P2));
    p = madd(p, z, k(P1));
    p = madd(p, z, k(P0));
    return madd(a, p, a);
  }

  /** t R(t) ~ erfcx(b) for t = 1 / (1 + b / 2), b in [0, ERFC_MAX]. */
  @inline function erfcxOfT(t: v128): v128 {
    let r = madd(k(R8), t, k(R7));
    r = madd(r, t, k(R6));
    r = madd(r, t, k(R5));
    r = madd(r, t, k(R4));
    r = madd(r, t, k(R3));
    r = madd(r, t, k(R2));
    r = madd(r, t, k(R1));
    r = madd(r, t, k(R0));
    return f32x4.mul(t, r);
  }

  /** erfc(b) for b in [0, ERFC_MAX], given -b^2 = hi + lo exactly. */
  @inline function erfcTail(b: v128, hi: v128, lo: v128): v128 {
    return f32x4.mul(erfcxOfT(f32x4.div(k(1), madd(b, k(0.5), k(1)))), expHiLo(hi, lo));
  }

  /** erfc(b) for b = |x| >= 0 (clamped into the tail's range here); -b^2 split exactly through s = b's top bits. */
  @inline function erfcOfAbs(a: v128): v128 {
    const b = clamp(a, ERF_SMALL, ERFC_MAX);
    const s = v128.and(b, i32x4.splat(HI_12_BITS));
    const hi = f32x4.neg(f32x4.mul(s, s));
    const lo = f32x4.neg(f32x4.mul(f32x4.sub(b, s), f32x4.add(b, s)));
    return erfcTail(b, hi, lo);
  }

  /** erf x, odd; exactly +-1 from |x| ~ 3.92 on. */
  @inline export function erf(x: v128): v128 {
    const a = f32x4.abs(x);
    const r = v128.bitselect(erfSmall(a), f32x4.sub(k(1), erfcOfAbs(a)), f32x4.lt(a, k(ERF_SMALL)));
    return v128.or(r, v128.and(x, i32x4.splat(0x80000000)));
  }

  /** erfc x = 1 - erf x, relatively accurate in the right tail down to the subnormals. */
  @inline export function erfc(x: v128): v128 {
    const a = f32x4.abs(x);
    const small = erfSmall(a); // erf(a) for a < ERF_SMALL
    const tail = erfcOfAbs(a);
    const isSmall = f32x4.lt(a, k(ERF_SMALL));
    const pos = v128.bitselect(f32x4.sub(k(1), small), tail, isSmall);
    const neg = v128.bitselect(f32x4.add(k(1), small), f32x4.sub(k(2), tail), isSmall);
    return v128.bitselect(neg, pos, f32x4.lt(x, k(0)));
  }

  /**
   * e^(-a^2 / 2) for a in [0, NCDF_MAX] (clamp first), the exponent split exactly from a itself: the standard
   * normal density's factor, and the tail's in ncdfLeft.
   */
  @inline export function expHalfSquare(a: v128): v128 {
    const s = v128.and(a, i32x4.splat(HI_12_BITS));
    const hi = f32x4.mul(f32x4.mul(s, s), k(-0.5));
    const lo = f32x4.mul(f32x4.mul(f32x4.sub(a, s), f32x4.add(a, s)), k(-0.5));
    return expHiLo(hi, lo);
  }

  /**
   * Phi(-a) = erfc(a / sqrt 2) / 2 for a in [0, NCDF_MAX], given e = expHalfSquare(a): one formula on the whole
   * range, relatively accurate in the tail (no branch for small a: Phi is near 1/2 there, where the tail form's
   * absolute error is a few ulps of 1/2).
   */
  @inline export function ncdfLeft(a: v128, e: v128): v128 {
    const t = f32x4.div(k(1), madd(a, k(0.5 * SQRT1_2), k(1)));
    return f32x4.mul(f32x4.mul(erfcxOfT(t), e), k(0.5));
  }

  /** min(|x|, NCDF_MAX), NaN kept: the argument of expHalfSquare and ncdfLeft. */
  @inline export function ncdfAbs(x: v128): v128 {
    return f32x4.pmin(f32x4.abs(x), k(NCDF_MAX));
  }

  /** Phi(x) from q = Phi(-|x|). */
  @inline export function ncdfFromLeft(x: v128, q: v128): v128 {
    return v128.bitselect(q, f32x4.sub(k(1), q), f32x4.lt(x, k(0)));
  }

  /** Standard normal CDF Phi(x), relatively accurate in the left tail (GELU's x Phi(x)); NaN in, NaN out. */
  @inline export function ncdf(x: v128): v128 {
    const a = ncdfAbs(x);
    return ncdfFromLeft(x, ncdfLeft(a, expHalfSquare(a)));
  }

  /** The first n (1..3) floats at p in the low lanes, zeros above: the tail of an array as one vector. */
  @inline export function loadPartial(p: usize, n: i32): v128 {
    let v = v128.load32_zero(p);
    if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
    if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
    return v;
  }

  /** Stores the low n (1..3) lanes of v at p. */
  @inline export function storePartial(p: usize, v: v128, n: i32): void {
    store<f32>(p, f32x4.extract_lane(v, 0));
    if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
    if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
  }
}

// ---- f64 scalars for the JS runtime (deterministic: AssemblyScript's Math is compiled into the module) ----

export function math_exp(x: f64): f64 {
  return Math.exp(x);
}
export function math_log(x: f64): f64 {
  return Math.log(x);
}
export function math_cos(x: f64): f64 {
  return Math.cos(x);
}
export function math_pow(x: f64, y: f64): f64 {
  return Math.pow(x, y);
}
export function math_sqrt(x: f64): f64 {
  return Math.sqrt(x);
}
export function math_tanh(x: f64): f64 {
  return Math.tanh(x);
}

// ---- the vector functions over arrays: y = f(x), x and y are (n); y may alias x ----

const FN_EXP: i32 = 0;
const FN_EXPM1: i32 = 1;
const FN_LOG: i32 = 2;
const FN_LOG1P: i32 = 3;
const FN_SIGMOID: i32 = 4;
const FN_TANH: i32 = 5;
const FN_ERF: i32 = 6;
const FN_ERFC: i32 = 7;

@inline function apply(v: v128, fn: i32): v128 {
  switch (fn) {
    case FN_EXP: return vmath.exp(v);
    case FN_EXPM1: return vmath.expm1(v);
    case FN_LOG: return vmath.log(v);
    case FN_LOG1P: return vmath.log1p(v);
    case FN_SIGMOID: return vmath.sigmoid(v);
    case FN_TANH: return vmath.tanh(v);
    case FN_ERF: return vmath.erf(v);
    default: return vmath.erfc(v);
  }
}

// fn is a constant at every call site, so after inlining each kernel keeps only its own branch.
@inline function mapArray(x: usize, y: usize, n: i32, fn: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, apply(v128.load(x + o), fn));
  }
  if (i < n) {
    const o = <usize>i << 2;
    vmath.storePartial(y + o, apply(vmath.loadPartial(x + o, n - i), fn), n - i);
  }
}

export function vexp_f32(x: usize, y: usize, n: i32): void {
  mapArray(x, y, n, FN_EXP);
}
export function vexpm1_f32(x: usize, y: usize, n: i32): void {
  mapArray(x, y, n, FN_EXPM1);
}
export function vlog_f32(x: usize, y: usize, n: i32): void {
  mapArray(x, y, n, FN_LOG);
}
export function vlog1p_f32(x: usize, y: usize, n: i32): void {
  mapArray(x, y, n, FN_LOG1P);
}
export function vsigmoid_f32(x: usize, y: usize, n: i32): void {
  mapArray(x, y, n, FN_SIGMOID);
}
export function vtanh_f32(x: usize, y: usize, n: i32): void {
  mapArray(x, y, n, FN_TANH);
}
export function verf_f32(x: usize, y: usize, n: i32): void {
  mapArray(x, y, n, FN_ERF);
}
export function verfc_f32(x: usize, y: usize, n: i32): void {
  mapArray(x, y, n, FN_ERFC);
}
