// Helpers shared by the specs (as-pect adds this file to every compilation; the specs import what they use):
// the specs' own random numbers (an LCG independent of the module's generator), 16-byte-aligned test buffers,
// f32 loads and stores, the conv/pool geometry block, the log kept alive for as-pect, and an f64 erf/erfc reference.

import {
  GEO_N, GEO_H, GEO_W, GEO_C, GEO_KH, GEO_KW, GEO_STRIDE_H, GEO_STRIDE_W, GEO_PAD_TOP, GEO_PAD_LEFT,
  GEO_DILATION_H, GEO_DILATION_W, GEO_OH, GEO_OW, GEO_LEN,
} from "../../assembly/conv";

// ---- random numbers: each spec seeds the stream itself, so its data does not depend on the other specs ----

let lcgState: u32 = 1;
export function seedRandom(seed: u32): void {
  lcgState = seed;
}
/** The next raw state of the LCG s ← 1664525·s + 1013904223 (mod 2³²). */
export function nextU32(): u32 {
  lcgState = lcgState * 1664525 + 1013904223;
  return lcgState;
}
/** Uniform in [-1, 1) on a 2⁻²³ grid (the top 24 bits of the state). */
export function rnd(): f32 {
  return <f32>(nextU32() >>> 8) / 8388608.0 - 1.0;
}

// ---- buffers ----

/** `bytes` bytes at a 16-byte-aligned address. */
export function alloc16(bytes: i32): usize {
  return (heap.alloc(<usize>bytes + 16) + 15) & ~(<usize>15);
}
/** Room for n values, f64 too (8 bytes each), 16-byte aligned. */
export function alloc(n: i32): usize {
  return alloc16(n * 8);
}
/** n f32 at a 16-byte-aligned address plus `shift` floats (misaligned SIMD loads); 16 bytes of slack at the end. */
export function buf(n: i32, shift: i32 = 0): usize {
  return alloc16((n + shift) * 4 + 16) + (<usize>shift << 2);
}
@inline export function fget(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
@inline export function fset(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}
export function fill(p: usize, n: i32, v: f32): void {
  for (let i = 0; i < n; i++) fset(p, i, v);
}

/** n random values a + b·u, u = rnd() uniform in [-1, 1). */
export function randomF32(n: i32, a: f32 = 0, b: f32 = 1): usize {
  const p = alloc(n);
  for (let i = 0; i < n; i++) fset(p, i, a + b * rnd());
  return p;
}

// ---- window geometry ----

/** A geometry block (the i32 layout of assembly/geometry.ts's GEO_* slots) for conv and pool kernels. */
export function geoBlock(
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, OH: i32, OW: i32,
): usize {
  const g = heap.alloc(<usize>GEO_LEN * 4);
  store<i32>(g + 4 * GEO_N, N); store<i32>(g + 4 * GEO_H, H); store<i32>(g + 4 * GEO_W, W);
  store<i32>(g + 4 * GEO_C, C); store<i32>(g + 4 * GEO_KH, KH); store<i32>(g + 4 * GEO_KW, KW);
  store<i32>(g + 4 * GEO_STRIDE_H, sh); store<i32>(g + 4 * GEO_STRIDE_W, sw);
  store<i32>(g + 4 * GEO_PAD_TOP, pt); store<i32>(g + 4 * GEO_PAD_LEFT, pl);
  store<i32>(g + 4 * GEO_DILATION_H, dh); store<i32>(g + 4 * GEO_DILATION_W, dw);
  store<i32>(g + 4 * GEO_OH, OH); store<i32>(g + 4 * GEO_OW, OW);
  return g;
}

// ---- log ----

// as-pect reads logged strings late: keep them alive so the log shows what was logged.
const logged: string[] = [];
export function report(msg: string): void {
  logged.push(msg);
  log<string>(msg);
}

// ---- f64 erf reference (AssemblyScript's Math has none) ----

const TWO_OVER_SQRT_PI: f64 = 1.1283791670955126;
const ONE_OVER_SQRT_PI: f64 = 0.5641895835477563;

/** erfc for x >= 3 by its continued fraction, evaluated from the tail. */
function erfcCF(x: f64): f64 {
  let f = x;
  for (let n = 120; n >= 1; n--) f = x + (<f64>n * 0.5) / f;
  return Math.exp(-x * x) * ONE_OVER_SQRT_PI / f;
}

/** erf by the all-positive series erf a = 2/sqrt(pi) e^(-a^2) sum 2^n a^(2n+1) / (1 3 5 ... (2n+1)) for |x| < 3. */
export function erf64(x: f64): f64 {
  const a = Math.abs(x);
  let r: f64;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= 2 * a * a / <f64>(2 * n + 1);
      sum += term;
      if (term < sum * 1e-18) break;
    }
    r = TWO_OVER_SQRT_PI * Math.exp(-a * a) * sum;
  } else {
    r = 1 - erfcCF(a);
  }
  return x < 0 ? -r : r;
}

export function erfc64(x: f64): f64 {
  return x >= 3 ? erfcCF(x) : 1 - erf64(x);
}
