// Seeded random numbers inside the module: xoshiro128** (Blackman & Vigna) on a 16-byte state owned by the caller,
// so each model has its own stream and the same seed gives the same bits in every engine. Seeds go through
// splitmix64, so seeds 0, 1, 2 start unrelated streams. Floats are built from the top 24 bits of a draw;
// normals use Box-Muller in f64 on the module's own Math.log/cos/sin/sqrt.
//
// state: 4 x u32 at `state` (16 bytes, any alignment of 4). out: f32 array of n; idx: i32 array of n.

const TWO_POW_M24: f32 = 5.9604645e-8; // 2^-24
const TWO_POW_M32: f64 = 2.3283064365386963e-10; // 2^-32
const TWO_PI: f64 = 6.283185307179586;
const ONE_BITS: i32 = 0x3f800000; // 1.0f

@inline function rotl(x: u32, r: u32): u32 {
  return (x << r) | (x >>> (32 - r));
}

/** splitmix64's output function (the caller advances the state by the golden gamma). */
@inline function splitmix64(s: u64): u64 {
  let z = s;
  z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >>> 27)) * 0x94d049bb133111eb;
  return z ^ (z >>> 31);
}

/** Seeds the 4-word state from a u32 seed: two splitmix64 outputs give the four words (never all zero). */
export function rng_seed(state: usize, seed: u32): void {
  const gamma: u64 = 0x9e3779b97f4a7c15;
  let s = <u64>seed;
  s += gamma;
  const a = splitmix64(s);
  s += gamma;
  const b = splitmix64(s);
  store<u32>(state, <u32>a);
  store<u32>(state, <u32>(a >>> 32), 4);
  store<u32>(state, <u32>b, 8);
  store<u32>(state, <u32>(b >>> 32), 12);
  if ((a | b) == 0) store<u32>(state, 1); // xoshiro's one forbidden state (practically unreachable)
}

// The state being advanced by the running kernel: loaded from memory once per call into module globals, so the
// inner loops step xoshiro without a call or memory traffic per draw, and stored back at the end.
let s0: u32 = 0;
let s1: u32 = 0;
let s2: u32 = 0;
let s3: u32 = 0;

@inline function loadState(state: usize): void {
  s0 = load<u32>(state);
  s1 = load<u32>(state, 4);
  s2 = load<u32>(state, 8);
  s3 = load<u32>(state, 12);
}

@inline function saveState(state: usize): void {
  store<u32>(state, s0);
  store<u32>(state, s1, 4);
  store<u32>(state, s2, 8);
  store<u32>(state, s3, 12);
}

/** One xoshiro128** step on the loaded state. */
@inline function nextU32(): u32 {
  const result = rotl(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl(s3, 11);
  return result;
}

/** The next 32 random bits. */
export function rng_next_u32(state: usize): u32 {
  loadState(state);
  const r = nextU32();
  saveState(state);
  return r;
}

/** A float in [0, 1) with 24 random bits (every value a multiple of 2^-24). */
@inline function nextUnit(): f32 {
  return <f32>(nextU32() >>> 8) * TWO_POW_M24;
}

/** An unbiased integer in [0, bound) for bound >= 1 (Lemire's multiply-shift with rejection). */
@inline function nextBelow(bound: u32): u32 {
  let m = <u64>nextU32() * <u64>bound;
  let low = <u32>m;
  if (low < bound) {
    const threshold: u32 = (<u32>0 - bound) % bound; // 2^32 mod bound
    while (low < threshold) {
      m = <u64>nextU32() * <u64>bound;
      low = <u32>m;
    }
  }
  return <u32>(m >>> 32);
}

/** The largest f32 below x (x finite). */
@inline function nextDown(x: f32): f32 {
  const b = reinterpret<i32>(x);
  if (x > 0) return reinterpret<f32>(b - 1);
  if (x == 0) return reinterpret<f32>(<i32>0x80000001); // -smallest subnormal
  return reinterpret<f32>(b + 1);
}

/** out[i] uniform in [lo, hi). lo + (hi - lo) u can round up to hi; such draws become the float just below hi. */
export function rng_uniform(state: usize, out: usize, n: i32, lo: f32, hi: f32): void {
  const width = hi - lo;
  const top = hi > lo ? nextDown(hi) : lo;
  loadState(state);
  for (let i = 0; i < n; i++) {
    let v = lo + width * nextUnit();
    if (v >= hi) v = top;
    store<f32>(out + (<usize>i << 2), v);
  }
  saveState(state);
}

/**
 * Fills out with standard normals, two per Box-Muller pair: u1 in (0, 1] from 32 bits (so log never sees 0;
 * |z| <= 6.66), angle from another 32 bits. If truncate, a value with |z| > 2 is dropped and drawn again.
 */
@inline function fillNormal(state: usize, out: usize, n: i32, mean: f32, std: f32, truncate: bool): void {
  loadState(state);
  let i = 0;
  while (i < n) {
    const u1 = (<f64>nextU32() + 1) * TWO_POW_M32;
    const u2 = <f64>nextU32() * TWO_POW_M32;
    const r = Math.sqrt(-2 * Math.log(u1));
    const a = TWO_PI * u2;
    const z0 = r * Math.cos(a);
    const z1 = r * Math.sin(a);
    if (!truncate || Math.abs(z0) <= 2) {
      store<f32>(out + (<usize>i << 2), <f32>(<f64>mean + <f64>std * z0));
      i++;
    }
    if (i < n && (!truncate || Math.abs(z1) <= 2)) {
      store<f32>(out + (<usize>i << 2), <f32>(<f64>mean + <f64>std * z1));
      i++;
    }
  }
  saveState(state);
}

/** out[i] ~ Normal(mean, std^2). */
export function rng_normal(state: usize, out: usize, n: i32, mean: f32, std: f32): void {
  fillNormal(state, out, n, mean, std, false);
}

/** out[i] ~ Normal(mean, std^2) with draws beyond 2 std redrawn (Keras' truncated normal). */
export function rng_truncated_normal(state: usize, out: usize, n: i32, mean: f32, std: f32): void {
  fillNormal(state, out, n, mean, std, true);
}

/**
 * Inverted dropout mask: out[i] = 1 / (1 - rate) with probability 1 - rate, else 0, so that x * mask keeps
 * the expected value. rate <= 0 keeps everything (all ones), rate >= 1 drops everything (all zeros).
 */
export function rng_dropout_mask(state: usize, out: usize, n: i32, rate: f32): void {
  const keep: f32 = 1 - rate;
  const scale: f32 = rate >= 1 ? 0 : rate <= 0 ? 1 : 1 / keep;
  const scaleBits = reinterpret<i32>(scale);
  loadState(state);
  for (let i = 0; i < n; i++) {
    const kept = <i32>(nextUnit() < keep); // always for rate <= 0 (keep >= 1), never for rate >= 1
    store<i32>(out + (<usize>i << 2), -kept & scaleBits); // integer mask: V8 turns an f32 select into a branch
  }
  saveState(state);
}

/** out[i] = 1 with probability p, else 0. */
export function rng_bernoulli(state: usize, out: usize, n: i32, p: f32): void {
  loadState(state);
  for (let i = 0; i < n; i++) {
    store<i32>(out + (<usize>i << 2), -<i32>(nextUnit() < p) & ONE_BITS); // branch-free, as in the dropout mask
  }
  saveState(state);
}

/** In-place Fisher-Yates shuffle of the i32 array idx (n), every permutation equally likely. */
export function rng_shuffle(state: usize, idx: usize, n: i32): void {
  loadState(state);
  for (let i = n - 1; i > 0; i--) {
    const j = nextBelow(<u32>(i + 1));
    const pi = idx + (<usize>i << 2);
    const pj = idx + (<usize>j << 2);
    const t = load<i32>(pi);
    store<i32>(pi, load<i32>(pj));
    store<i32>(pj, t);
  }
  saveState(state);
}

/** idx = a random permutation of 0..n-1. */
export function rng_permutation(state: usize, idx: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<i32>(idx + (<usize>i << 2), i);
  rng_shuffle(state, idx, n);
}
