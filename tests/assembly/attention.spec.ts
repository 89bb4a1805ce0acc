// attention.ts against a plain f64 reference written here (straightforward loops over b, h, t, t2), at sizes that hit
// the SIMD tails (dk, dv not multiples of 4 or 16; T = 1; odd B; H = 1 and 3), causal on and off, a padding mask
// with a fully padded sample, dropout on the probabilities, keyDim != valueDim. The backward pass is checked on every
// coordinate of q, k and v against central differences of L = Σ r ⊙ out computed with the f64 reference (the
// perturbation applied in f64). The KV-cache step (from an empty cache and after attention_cache_fill) must equal the
// causal forward's row bit for bit; the sine encoding must match Math.sin / Math.cos in f64 within 1e-6;
// position_table_add and residual_add must equal their plain loops exactly.
import {
  attention_forward, attention_backward, attention_cache_fill, attention_step, position_encoding_add,
  position_table_add, residual_add,
  ATT_B, ATT_T, ATT_H, ATT_DK, ATT_DV, ATT_CAUSAL, ATT_MASK, ATT_DROP, ATT_PROBS, ATT_SCRATCH, ATT_TMAX, ATT_POS,
  ATT_LEN, ATT_ROWS,
} from "../../assembly/attention";
import { alloc, fget, fill, fset, nextU32, randomF32, report, seedRandom } from "./helpers.include";

seedRandom(20261207);

function relErr(a: f64, b: f64): f64 { return Math.abs(a - b) / (1 + Math.abs(b)); }
@inline function dget(p: usize, i: i32): f64 { return load<f64>(p + (<usize>i << 3)); }
@inline function dset(p: usize, i: i32, v: f64): void { store<f64>(p + (<usize>i << 3), v); }

/** One attention configuration: sizes, flags and the optional buffers. */
class Cfg {
  constructor(
    public B: i32, public T: i32, public H: i32, public dk: i32, public dv: i32, public causal: bool,
    public mask: usize = 0, public drop: usize = 0,
  ) {}
  /** The attention block over probs, with a fresh scratch (NaN-filled: nothing may depend on what it holds). */
  block(probs: usize, tmax: i32 = 0, pos: i32 = 0): usize {
    const a = alloc(ATT_LEN);
    const scratch = alloc(ATT_ROWS * this.T);
    fill(scratch, ATT_ROWS * this.T, NaN);
    store<i32>(a + 4 * ATT_B, this.B); store<i32>(a + 4 * ATT_T, this.T); store<i32>(a + 4 * ATT_H, this.H);
    store<i32>(a + 4 * ATT_DK, this.dk); store<i32>(a + 4 * ATT_DV, this.dv);
    store<i32>(a + 4 * ATT_CAUSAL, this.causal ? 1 : 0);
    store<u32>(a + 4 * ATT_MASK, <u32>this.mask); store<u32>(a + 4 * ATT_DROP, <u32>this.drop);
    store<u32>(a + 4 * ATT_PROBS, <u32>probs); store<u32>(a + 4 * ATT_SCRATCH, <u32>scratch);
    store<i32>(a + 4 * ATT_TMAX, tmax); store<i32>(a + 4 * ATT_POS, pos);
    return a;
  }
  get nq(): i32 { return this.B * this.T * this.H * this.dk; }
  get nv(): i32 { return this.B * this.T * this.H * this.dv; }
  get np(): i32 { return this.B * this.H * this.T * this.T; }
}

/** A padding mask [B, T]: sample 0 keeps all, sample 1 (if any) is fully padded, the rest pad a random tail. */
function paddingMask(B: i32, T: i32): usize {
  const m = alloc(B * T);
  for (let b = 0; b < B; b++) {
    const keep = b == 0 ? T : b == 1 ? 0 : <i32>(nextU32() % <u32>T);
    for (let t = 0; t < T; t++) fset(m, b * T + t, t < keep ? 1 : 0);
  }
  return m;
}

/** An inverted dropout mask: 0 with probability 1/4, else 1 / (1 - 1/4). */
function dropMask(n: i32): usize {
  const d = alloc(n);
  for (let i = 0; i < n; i++) fset(d, i, nextU32() % 4 == 0 ? 0 : <f32>(1.0 / 0.75));
  return d;
}

// ---- the f64 reference; inputs read through val(), which adds pertDelta to element pertIdx of buffer pertBuf ----

let pertBuf: usize = 0, pertIdx: i32 = -1, pertDelta: f64 = 0;
function val(p: usize, i: i32): f64 {
  const v = <f64>fget(p, i);
  return p == pertBuf && i == pertIdx ? v + pertDelta : v;
}

/** out64 [B, T, H, dv] and probs64 [B, H, T, T] (f64 arrays) of attention over q, k, v. */
function reference(c: Cfg, q: usize, k: usize, v: usize, out64: usize, probs64: usize): void {
  const T = c.T, H = c.H, dk = c.dk, dv = c.dv;
  const scale = 1 / Math.sqrt(<f64>dk);
  const s = alloc(T);
  for (let b = 0; b < c.B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const n = c.causal ? t + 1 : T;
        const rowAt = ((b * H + h) * T + t) * T;
        let m = -Infinity;
        for (let t2 = 0; t2 < n; t2++) {
          let dot: f64 = 0;
          for (let i = 0; i < dk; i++) dot += val(q, ((b * T + t) * H + h) * dk + i) * val(k, ((b * T + t2) * H + h) * dk + i);
          const kept = c.mask == 0 || fget(c.mask, b * T + t2) != 0;
          dset(s, t2, kept ? dot * scale : -Infinity);
          if (kept) m = Math.max(m, dot * scale);
        }
        let sum: f64 = 0;
        for (let t2 = 0; t2 < T; t2++) {
          const e = t2 < n && m > -Infinity ? Math.exp(dget(s, t2) - m) : 0;
          dset(probs64, rowAt + t2, e);
          sum += e;
        }
        for (let t2 = 0; t2 < T; t2++) if (sum > 0) dset(probs64, rowAt + t2, dget(probs64, rowAt + t2) / sum);
        for (let j = 0; j < dv; j++) {
          let o: f64 = 0;
          for (let t2 = 0; t2 < n; t2++) {
            const w = dget(probs64, rowAt + t2) * (c.drop ? <f64>fget(c.drop, rowAt + t2) : 1);
            o += w * val(v, ((b * T + t2) * H + h) * dv + j);
          }
          dset(out64, ((b * T + t) * H + h) * dv + j, o);
        }
      }
    }
  }
}

/** Σ r ⊙ out of the reference. */
function refLoss(c: Cfg, q: usize, k: usize, v: usize, r: usize): f64 {
  const out64 = alloc(c.nv), probs64 = alloc(c.np);
  reference(c, q, k, v, out64, probs64);
  let l: f64 = 0;
  for (let i = 0; i < c.nv; i++) l += <f64>fget(r, i) * dget(out64, i);
  heap.free(out64);
  heap.free(probs64);
  return l;
}

/** Largest error of the gradient g of buffer p (n values) against central differences of refLoss. */
function gradErr(c: Cfg, g: usize, p: usize, n: i32, q: usize, k: usize, v: usize, r: usize): f64 {
  const h: f64 = 1e-5;
  let e: f64 = 0;
  for (let i = 0; i < n; i++) {
    pertBuf = p; pertIdx = i;
    pertDelta = h;
    const lp = refLoss(c, q, k, v, r);
    pertDelta = -h;
    const lm = refLoss(c, q, k, v, r);
    pertBuf = 0; pertIdx = -1; pertDelta = 0;
    e = Math.max(e, relErr(fget(g, i), (lp - lm) / (2 * h)));
  }
  return e;
}

/** Runs the forward pass on random q, k, v and checks out and probs against the reference. */
function checkForward(c: Cfg, what: string): void {
  const q = randomF32(c.nq, 0, 1.5), k = randomF32(c.nq, 0, 1.5), v = randomF32(c.nv);
  const out = alloc(c.nv), probs = alloc(c.np);
  fill(out, c.nv, NaN);
  fill(probs, c.np, NaN);
  attention_forward(q, k, v, out, c.block(probs));
  const out64 = alloc(c.nv), probs64 = alloc(c.np);
  reference(c, q, k, v, out64, probs64);
  let eOut: f64 = 0, eP: f64 = 0;
  let zerosExact = true;
  for (let i = 0; i < c.nv; i++) eOut = Math.max(eOut, relErr(fget(out, i), dget(out64, i)));
  for (let i = 0; i < c.np; i++) {
    eP = Math.max(eP, relErr(fget(probs, i), dget(probs64, i)));
    if (dget(probs64, i) == 0) zerosExact = zerosExact && fget(probs, i) == 0;
  }
  // NaN compares false: a NaN left anywhere fails these
  expect<bool>(eOut <= 1e-5).toBe(true, what + ": out");
  expect<bool>(eP <= 1e-5).toBe(true, what + ": probs");
  expect<bool>(zerosExact).toBe(true, what + ": masked and causal probabilities exactly 0");
  report(what + ": forward max rel err out " + eOut.toString() + ", probs " + eP.toString());
}

/** Runs forward and backward (gradient buffers prefilled with NaN: they must be written) and checks dq, dk, dv. */
function checkBackward(c: Cfg, what: string): void {
  const q = randomF32(c.nq, 0, 1.5), k = randomF32(c.nq, 0, 1.5), v = randomF32(c.nv);
  const out = alloc(c.nv), probs = alloc(c.np);
  const att = c.block(probs);
  attention_forward(q, k, v, out, att);
  const r = randomF32(c.nv);
  const dq = alloc(c.nq), dk = alloc(c.nq), dv = alloc(c.nv);
  fill(dq, c.nq, NaN); fill(dk, c.nq, NaN); fill(dv, c.nv, NaN);
  attention_backward(q, k, v, r, dq, dk, dv, att);
  const eq = gradErr(c, dq, q, c.nq, q, k, v, r);
  const ek = gradErr(c, dk, k, c.nq, q, k, v, r);
  const ev = gradErr(c, dv, v, c.nv, q, k, v, r);
  expect<bool>(eq <= 1e-4).toBe(true, what + ": dq");
  expect<bool>(ek <= 1e-4).toBe(true, what + ": dk");
  expect<bool>(ev <= 1e-4).toBe(true, what + ": dv");
  report(what + ": backward max rel err dq " + eq.toString() + ", dk " + ek.toString() + ", dv " + ev.toString());
}

describe("attention forward", () => {
  test("one position, one head (T = 1, H = 1)", () => {
    checkForward(new Cfg(1, 1, 1, 4, 4, false), "B1 T1 H1");
    checkForward(new Cfg(3, 1, 1, 3, 5, true), "B3 T1 H1 causal");
  });
  test("tails: dk, dv not multiples of 4, odd B, H = 3, keyDim != valueDim", () => {
    checkForward(new Cfg(3, 5, 3, 5, 7, false), "B3 T5 H3 dk5 dv7");
    checkForward(new Cfg(3, 5, 3, 5, 7, true), "B3 T5 H3 dk5 dv7 causal");
    checkForward(new Cfg(1, 7, 1, 3, 2, true), "B1 T7 H1 dk3 dv2 causal");
    checkForward(new Cfg(2, 9, 3, 6, 19, false), "B2 T9 H3 dk6 dv19");
  });
  test("the SIMD bodies: dk = 32, dv = 16 + 4, T a multiple of 4 and not", () => {
    checkForward(new Cfg(2, 12, 2, 32, 20, true), "B2 T12 H2 dk32 dv20 causal");
    checkForward(new Cfg(1, 13, 4, 32, 32, false), "B1 T13 H4 dk32 dv32");
  });
  test("more than one block of query rows (ATT_ROWS = 32), causal on and off", () => {
    checkForward(new Cfg(2, 70, 2, 7, 9, true, paddingMask(2, 70)), "B2 T70 H2 dk7 dv9 mask causal");
    checkForward(new Cfg(1, 33, 3, 32, 5, false, 0, dropMask(3 * 33 * 33)), "B1 T33 H3 dk32 dv5 dropout");
  });
  test("padding mask with a fully padded sample (zeros, not NaN), causal on and off", () => {
    checkForward(new Cfg(3, 6, 3, 5, 3, false, paddingMask(3, 6)), "B3 T6 H3 mask");
    checkForward(new Cfg(4, 7, 2, 4, 6, true, paddingMask(4, 7)), "B4 T7 H2 mask causal");
  });
  test("dropout on the probabilities (probs stays the undropped softmax)", () => {
    checkForward(new Cfg(2, 6, 3, 5, 7, false, 0, dropMask(2 * 3 * 6 * 6)), "B2 T6 H3 dropout");
    checkForward(new Cfg(3, 5, 2, 3, 4, true, paddingMask(3, 5), dropMask(3 * 2 * 5 * 5)), "B3 T5 H2 mask causal dropout");
  });
});

describe("attention backward (every coordinate of q, k, v against central differences)", () => {
  test("no mask, causal off and on, several heads, keyDim != valueDim", () => {
    checkBackward(new Cfg(1, 1, 1, 3, 2, false), "B1 T1 H1");
    checkBackward(new Cfg(2, 4, 3, 3, 5, false), "B2 T4 H3 dk3 dv5");
    checkBackward(new Cfg(3, 5, 1, 5, 2, true), "B3 T5 H1 dk5 dv2 causal");
    checkBackward(new Cfg(1, 6, 2, 8, 17, true), "B1 T6 H2 dk8 dv17 causal");
  });
  test("padding mask with a fully padded sample", () => {
    checkBackward(new Cfg(3, 5, 2, 3, 4, false, paddingMask(3, 5)), "B3 T5 H2 mask");
    checkBackward(new Cfg(3, 5, 3, 4, 3, true, paddingMask(3, 5)), "B3 T5 H3 mask causal");
  });
  test("dropout", () => {
    checkBackward(new Cfg(2, 5, 2, 3, 5, false, 0, dropMask(2 * 2 * 5 * 5)), "B2 T5 H2 dropout");
    checkBackward(new Cfg(3, 4, 3, 5, 3, true, paddingMask(3, 4), dropMask(3 * 3 * 4 * 4)), "B3 T4 H3 mask causal dropout");
  });
  test("more than one block of query rows (ATT_ROWS = 32)", () => {
    checkBackward(new Cfg(1, 35, 1, 2, 3, true, 0, dropMask(35 * 35)), "B1 T35 H1 causal dropout");
    checkBackward(new Cfg(2, 34, 1, 3, 2, false, paddingMask(2, 34)), "B2 T34 H1 mask");
  });
});

/**
 * The full causal forward over a window, then the same window through the KV cache: positions 0..fill-1 written by
 * attention_cache_fill, the rest one attention_step at a time. Every step's out and probs row must equal the
 * forward's row bit for bit, and the caches must hold the window (k transposed).
 */
function checkStep(c: Cfg, fillLen: i32, what: string): void {
  const q = randomF32(c.nq, 0, 1.5), k = randomF32(c.nq, 0, 1.5), v = randomF32(c.nv);
  const out = alloc(c.nv), probs = alloc(c.np);
  attention_forward(q, k, v, out, c.block(probs));
  const B = c.B, T = c.T, H = c.H, dk = c.dk, dv = c.dv;
  const Tmax = T + 3; // the cache is longer than the window
  const maskMax = c.mask ? alloc(B * Tmax) : 0;
  if (c.mask) for (let b = 0; b < B; b++) for (let t = 0; t < Tmax; t++) fset(maskMax, b * Tmax + t, t < T ? fget(c.mask, b * T + t) : 1);
  const kc = alloc(B * H * dk * Tmax), vc = alloc(B * Tmax * H * dv);
  fill(kc, B * H * dk * Tmax, NaN); // positions not yet written must not be read
  fill(vc, B * Tmax * H * dv, NaN);
  if (fillLen > 0) {
    // the prompt: the first fillLen positions of the window, [B, fillLen, H, dk] and [B, fillLen, H, dv]
    const kp = alloc(B * fillLen * H * dk), vp = alloc(B * fillLen * H * dv);
    for (let b = 0; b < B; b++) {
      memory.copy(kp + <usize>(b * fillLen * H * dk) * 4, k + <usize>(b * T * H * dk) * 4, <usize>(fillLen * H * dk) * 4);
      memory.copy(vp + <usize>(b * fillLen * H * dv) * 4, v + <usize>(b * T * H * dv) * 4, <usize>(fillLen * H * dv) * 4);
    }
    const fillCfg = new Cfg(B, fillLen, H, dk, dv, true);
    attention_cache_fill(kp, vp, kc, vc, fillCfg.block(0, Tmax, 0));
  }
  const qs = alloc(B * H * dk), ks = alloc(B * H * dk), vs = alloc(B * H * dv);
  const os = alloc(B * H * dv), ps = alloc(B * H * Tmax);
  const stepCfg = new Cfg(B, 1, H, dk, dv, true, maskMax);
  let same = true, cacheSame = true;
  for (let t = fillLen; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const row = (b * T + t) * H;
      memory.copy(qs + <usize>(b * H * dk) * 4, q + <usize>(row * dk) * 4, <usize>(H * dk) * 4);
      memory.copy(ks + <usize>(b * H * dk) * 4, k + <usize>(row * dk) * 4, <usize>(H * dk) * 4);
      memory.copy(vs + <usize>(b * H * dv) * 4, v + <usize>(row * dv) * 4, <usize>(H * dv) * 4);
    }
    fill(ps, B * H * Tmax, NaN);
    attention_step(qs, ks, vs, kc, vc, os, stepCfg.block(ps, Tmax, t));
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let j = 0; j < dv; j++) same = same && fget(os, (b * H + h) * dv + j) == fget(out, ((b * T + t) * H + h) * dv + j);
        for (let t2 = 0; t2 < Tmax; t2++) {
          const want: f32 = t2 < T ? fget(probs, ((b * H + h) * T + t) * T + t2) : 0;
          same = same && fget(ps, (b * H + h) * Tmax + t2) == want;
        }
      }
    }
  }
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < dk; i++) {
          cacheSame = cacheSame && fget(kc, ((b * H + h) * dk + i) * Tmax + t) == fget(k, ((b * T + t) * H + h) * dk + i);
        }
        for (let i = 0; i < dv; i++) {
          cacheSame = cacheSame && fget(vc, ((b * Tmax + t) * H + h) * dv + i) == fget(v, ((b * T + t) * H + h) * dv + i);
        }
      }
    }
  }
  expect<bool>(same).toBe(true, what + ": every step's out and probs row equal the causal forward's row t, bit for bit");
  expect<bool>(cacheSame).toBe(true, what + ": the caches hold k (transposed) and v of positions 0..T-1");
}

describe("attention step (KV cache)", () => {
  test("equals the full causal forward's row at every position", () => {
    checkStep(new Cfg(1, 1, 1, 4, 4, true), 0, "B1 T1 H1");
    checkStep(new Cfg(3, 9, 3, 5, 7, true), 0, "B3 T9 H3 dk5 dv7");
    checkStep(new Cfg(2, 37, 4, 32, 32, true), 0, "B2 T37 H4 dk32 dv32"); // 16 keys at a time, two row blocks
    checkStep(new Cfg(1, 34, 2, 6, 9, true), 0, "B1 T34 H2 dk6 dv9"); // a last block of 2 rows (the GEMM's few-rows path)
  });
  test("after a prompt written by attention_cache_fill", () => {
    checkStep(new Cfg(3, 9, 3, 5, 7, true), 4, "B3 T9 H3 fill 4");
    checkStep(new Cfg(1, 21, 2, 8, 3, true), 20, "B1 T21 H2 fill 20");
  });
  test("with a padding mask (a fully padded sample gives zeros)", () => {
    checkStep(new Cfg(3, 6, 2, 3, 5, true, paddingMask(3, 6)), 0, "B3 T6 H2 mask");
    checkStep(new Cfg(4, 7, 2, 3, 5, true, paddingMask(4, 7)), 3, "B4 T7 H2 mask fill 3");
  });
});

function checkEncoding(B: i32, T: i32, d: i32, start: i32, inPlace: bool): f64 {
  const n = B * T * d;
  const x = randomF32(n);
  const y = inPlace ? alloc(n) : alloc(n);
  if (inPlace) memory.copy(y, x, <usize>n * 4);
  position_encoding_add(inPlace ? y : x, y, B, T, d, start, 10000);
  let e: f64 = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < d; j++) {
        const angle = <f64>(start + t) / Math.pow(10000, <f64>(2 * (j >> 1)) / <f64>d);
        const pe = j % 2 == 0 ? Math.sin(angle) : Math.cos(angle);
        const i = (b * T + t) * d + j;
        e = Math.max(e, Math.abs(<f64>fget(y, i) - (<f64>fget(x, i) + pe)));
      }
    }
  }
  return e;
}

describe("sinusoidal position encoding", () => {
  test("y = x + PE against Math.sin / Math.cos in f64 within 1e-6", () => {
    let e = checkEncoding(1, 1, 1, 0, false);
    e = Math.max(e, checkEncoding(3, 7, 7, 0, false)); // odd d: the last feature is a sine
    e = Math.max(e, checkEncoding(2, 64, 128, 0, false));
    e = Math.max(e, checkEncoding(3, 5, 16, 1000, true)); // from a start position (generation), y = x
    expect<bool>(e <= 1e-6).toBe(true, "max abs err " + e.toString());
    report("sine encoding: max abs err " + e.toString());
  });
});

describe("position table and residual add", () => {
  test("position_table_add: y = x + table rows start..start+T, per sample, y may be x", () => {
    let ok = true;
    const sizes: i32[] = [1, 1, 1, 0, 3, 5, 7, 2, 2, 9, 16, 0];
    for (let c = 0; c < sizes.length; c += 4) {
      const B = sizes[c], T = sizes[c + 1], d = sizes[c + 2], start = sizes[c + 3];
      const x = randomF32(B * T * d), table = randomF32((start + T + 1) * d), y = alloc(B * T * d);
      fill(y, B * T * d, NaN);
      position_table_add(x, table, y, B, T, d, start);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          for (let j = 0; j < d; j++) {
            const i = (b * T + t) * d + j;
            ok = ok && fget(y, i) == fget(x, i) + fget(table, (start + t) * d + j);
          }
        }
      }
      position_table_add(x, table, x, B, T, d, start); // in place
      for (let i = 0; i < B * T * d; i++) ok = ok && fget(x, i) == fget(y, i);
    }
    expect<bool>(ok).toBe(true, "every element x + table, exactly");
  });
  test("the sine table through position_encoding_add once, then position_table_add, equals position_encoding_add", () => {
    const B = 3, T = 6, d = 10, start = 5, rows = 16;
    const zeros = alloc(rows * d), table = alloc(rows * d);
    fill(zeros, rows * d, 0);
    position_encoding_add(zeros, table, 1, rows, d, 0, 10000);
    const x = randomF32(B * T * d), y1 = alloc(B * T * d), y2 = alloc(B * T * d);
    position_encoding_add(x, y1, B, T, d, start, 10000);
    position_table_add(x, table, y2, B, T, d, start);
    let same = true;
    for (let i = 0; i < B * T * d; i++) same = same && fget(y1, i) == fget(y2, i);
    expect<bool>(same).toBe(true, "the same bits");
  });
  test("residual_add: y = x + (z + bias) ⊙ mask, bias and mask optional, y may be z or x", () => {
    let ok = true;
    const shapes: i32[] = [1, 1, 3, 5, 4, 8, 2, 19];
    for (let c = 0; c < shapes.length; c += 2) {
      const rows = shapes[c], cols = shapes[c + 1], n = rows * cols;
      const z = randomF32(n), x = randomF32(n), bias = randomF32(cols), mask = dropMask(n), y = alloc(n);
      for (let variant = 0; variant < 4; variant++) {
        const bp: usize = variant & 1 ? bias : 0, mp: usize = variant & 2 ? mask : 0;
        fill(y, n, NaN);
        residual_add(z, bp, mp, x, y, rows, cols);
        for (let i = 0; i < n; i++) {
          let s: f32 = fget(z, i);
          if (bp) s += fget(bias, i % cols);
          if (mp) s *= fget(mask, i);
          ok = ok && fget(y, i) == fget(x, i) + s;
        }
      }
      const zc = alloc(n);
      memory.copy(zc, z, <usize>n * 4);
      residual_add(zc, bias, mask, x, zc, rows, cols); // y = z
      residual_add(z, bias, mask, x, y, rows, cols);
      for (let i = 0; i < n; i++) ok = ok && fget(zc, i) == fget(y, i);
    }
    expect<bool>(ok).toBe(true, "every element, exactly");
  });
});
