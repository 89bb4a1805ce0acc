// The recurrent cells (simple-rnn.ts, lstm.ts, gru.ts) against a plain f64 reference written here: batch-major loops
// over b, then the steps in processing order, then units, with Keras's equations spelled out per cell. Checked:
// the forward at sizes with SIMD tails (u not a multiple of 4, B = 1 and odd, T = 1, B > 4 for the packed GEMM path),
// goBackwards, a mask (padded steps keeping the state or outputting zeros), returnSequences on and off,
// recurrentDropout's mask on the state a step reads, the activation pairs; the backward against central differences
// of L = Σ r⊙y computed with the reference (the perturbation applied in f64), every coordinate of the input and of
// every weight; and the one-step call fed a sequence step by step against the forward, bit for bit.
import {
  RNN_BATCH, RNN_STEPS, RNN_INPUT, RNN_UNITS, RNN_ACT, RNN_REC_ACT, RNN_ALPHA, RNN_FLAGS, RNN_KERNEL, RNN_RECURRENT,
  RNN_BIAS, RNN_MASK, RNN_DKERNEL, RNN_DRECURRENT, RNN_DBIAS, RNN_REC_DROPOUT, RNN_LEN, RNN_GO_BACKWARDS, RNN_RETURN_SEQUENCES,
  RNN_RESET_AFTER, RNN_ACCUMULATE, RNN_ZERO_PADDED, RNN_IDS, RNN_TABLE, RNN_VOCAB, RNN_DTABLE, RNN_CELL_SIMPLE, RNN_CELL_LSTM, RNN_CELL_GRU, rnn_work_floats, rnn_step_work_floats,
} from "../../assembly/recurrent";
import { lstm_forward, lstm_backward, lstm_step } from "../../assembly/lstm";
import { simple_rnn_forward, simple_rnn_backward, simple_rnn_step } from "../../assembly/simple-rnn";
import { gru_forward, gru_backward, gru_step } from "../../assembly/gru";
import { ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_TANH, ACT_HARD_SIGMOID } from "../../assembly/activations";
import { alloc, alloc16, fget, fill, fset, nextU32, report, rnd, seedRandom } from "./helpers.include";

seedRandom(2024);

// ---- the configuration under test ----

class Config {
  cell: i32 = RNN_CELL_LSTM;
  B: i32 = 2; T: i32 = 3; n: i32 = 3; u: i32 = 3;
  act: i32 = ACT_TANH; rec: i32 = ACT_SIGMOID;
  back: bool = false; seq: bool = true; resetAfter: bool = true; masked: bool = false; bias: bool = true;
  zeroPadded: bool = false; recDropout: bool = false;
  name(): string {
    const cells = ["simpleRNN", "lstm", "gru"];
    return cells[this.cell] + " B" + this.B.toString() + " T" + this.T.toString() + " in" + this.n.toString() + " u" +
      this.u.toString() + " act" + this.act.toString() + "/" + this.rec.toString() + (this.back ? " back" : "") +
      (this.seq ? " seq" : " last") + (this.masked ? (this.zeroPadded ? " mask, zero output" : " mask") : "") + (this.bias ? "" : " nobias") + (this.recDropout ? " recurrentDropout" : "") +
      (this.cell == RNN_CELL_GRU ? (this.resetAfter ? " resetAfter" : " resetBefore") : "");
  }
  gates(): i32 { return this.cell == RNN_CELL_LSTM ? 4 : this.cell == RNN_CELL_GRU ? 3 : 1; }
  biasLen(): i32 { return (this.cell == RNN_CELL_GRU && this.resetAfter ? 2 : 1) * this.gates() * this.u; }
  outLen(): i32 { return this.B * (this.seq ? this.T : 1) * this.u; }
}

/** Everything one configuration needs: the block, weights, data, outputs, gradients (f32, at 16-byte boundaries). */
class Setup {
  p: usize; W: usize; U: usize; bias: usize; mask: usize; recMask: usize; x: usize; y: usize; r: usize;
  dx: usize; dW: usize; dU: usize; db: usize; work: usize;
  c: Config;
  constructor(c: Config) {
    this.c = c;
    const G = c.gates();
    this.W = randomBuf(c.n * G * c.u, 0.6);
    this.U = randomBuf(c.u * G * c.u, 0.6);
    this.bias = c.bias ? randomBuf(c.biasLen(), 0.3) : 0;
    this.x = randomBuf(c.B * c.T * c.n, 1);
    this.mask = 0;
    if (c.masked) {
      this.mask = alloc16(c.B * c.T * 4);
      // padding at the end (pre-padded Keras data) and in the middle, never a whole row of steps
      for (let i = 0; i < c.B * c.T; i++) fset(this.mask, i, (nextU32() >>> 30) == 0 ? 0 : 1);
      fset(this.mask, 0, 1);
    }
    this.recMask = 0;
    if (c.recDropout) {
      // recurrentDropout 0.25: a unit kept with 1 / (1 - 0.25), dropped with 0
      this.recMask = alloc16(c.B * c.u * 4);
      for (let i = 0; i < c.B * c.u; i++) fset(this.recMask, i, (nextU32() >>> 30) == 0 ? 0 : <f32>(4.0 / 3.0));
    }
    this.y = alloc16(c.outLen() * 4 + 16);
    this.r = randomBuf(c.outLen(), 1);
    this.dx = alloc16(c.B * c.T * c.n * 4);
    this.dW = alloc16(c.n * G * c.u * 4);
    this.dU = alloc16(c.u * G * c.u * 4);
    this.db = c.bias ? alloc16(c.biasLen() * 4) : 0;
    this.p = alloc16(RNN_LEN * 4);
    const p = this.p;
    memory.fill(p, 0, RNN_LEN * 4); // the fields not set below (token ids) are off
    store<i32>(p + 4 * RNN_BATCH, c.B); store<i32>(p + 4 * RNN_STEPS, c.T);
    store<i32>(p + 4 * RNN_INPUT, c.n); store<i32>(p + 4 * RNN_UNITS, c.u);
    store<i32>(p + 4 * RNN_ACT, c.act); store<i32>(p + 4 * RNN_REC_ACT, c.rec); store<f32>(p + 4 * RNN_ALPHA, 1);
    store<i32>(p + 4 * RNN_FLAGS, (c.back ? RNN_GO_BACKWARDS : 0) | (c.seq ? RNN_RETURN_SEQUENCES : 0) | (c.resetAfter ? RNN_RESET_AFTER : 0) | (c.zeroPadded ? RNN_ZERO_PADDED : 0));
    store<u32>(p + 4 * RNN_KERNEL, <u32>this.W); store<u32>(p + 4 * RNN_RECURRENT, <u32>this.U);
    store<u32>(p + 4 * RNN_BIAS, <u32>this.bias); store<u32>(p + 4 * RNN_MASK, <u32>this.mask);
    store<u32>(p + 4 * RNN_DKERNEL, <u32>this.dW); store<u32>(p + 4 * RNN_DRECURRENT, <u32>this.dU);
    store<u32>(p + 4 * RNN_DBIAS, <u32>this.db); store<u32>(p + 4 * RNN_REC_DROPOUT, <u32>this.recMask);
    this.work = alloc16(rnn_work_floats(c.cell, p) * 4);
  }
  forward(): void {
    if (this.c.cell == RNN_CELL_LSTM) lstm_forward(this.x, this.y, this.work, this.p);
    else if (this.c.cell == RNN_CELL_SIMPLE) simple_rnn_forward(this.x, this.y, this.work, this.p);
    else gru_forward(this.x, this.y, this.work, this.p);
  }
  backward(dx: usize): void {
    if (this.c.cell == RNN_CELL_LSTM) lstm_backward(this.r, dx, this.work, this.p);
    else if (this.c.cell == RNN_CELL_SIMPLE) simple_rnn_backward(this.r, dx, this.work, this.p);
    else gru_backward(this.r, dx, this.work, this.p);
  }
  step(x: usize, state: usize, work: usize): void {
    if (this.c.cell == RNN_CELL_LSTM) lstm_step(x, state, work, this.p);
    else if (this.c.cell == RNN_CELL_SIMPLE) simple_rnn_step(x, state, work, this.p);
    else gru_step(x, state, work, this.p);
  }
  stateLen(): i32 { return (this.c.cell == RNN_CELL_LSTM ? 2 : 1) * this.c.B * this.c.u; }
}

function randomBuf(n: i32, scale: f32): usize {
  const p = alloc16(n * 4 + 16);
  for (let i = 0; i < n; i++) fset(p, i, scale * rnd());
  return p;
}

// ---- the f64 reference ----

// It reads weights and inputs through val(), which adds pertDelta to element pertIdx of buffer pertBuf.
let pertBuf: usize = 0, pertIdx: i32 = -1, pertDelta: f64 = 0;
function val(p: usize, i: i32): f64 {
  const v = <f64>fget(p, i);
  return p == pertBuf && i == pertIdx ? v + pertDelta : v;
}

function actRef(a: i32, x: f64): f64 {
  switch (a) {
    case ACT_TANH: return Math.tanh(x);
    case ACT_SIGMOID: return 1 / (1 + Math.exp(-x));
    case ACT_HARD_SIGMOID: return Math.min(1, Math.max(0, 0.2 * x + 0.5));
    case ACT_RELU: return Math.max(0, x);
    default: return x;
  }
}

const MAXV = 64;
const hPrev = new StaticArray<f64>(MAXV);
const hIn = new StaticArray<f64>(MAXV); // the state the cell reads: hPrev, times recurrentDropout's mask
const cPrev = new StaticArray<f64>(MAXV);
const zx = new StaticArray<f64>(4 * MAXV); // x W + b_input
const zh = new StaticArray<f64>(4 * MAXV); // h U (+ b_recurrent for GRU's resetAfter)
const out = new StaticArray<f64>(4096);

/** The reference forward into out (y's layout); returns L = Σ r⊙y. */
function refForward(s: Setup): f64 {
  const c = s.c;
  const u = c.u, G = c.gates(), gu = G * u;
  for (let b = 0; b < c.B; b++) {
    for (let j = 0; j < u; j++) { hPrev[j] = 0; cPrev[j] = 0; }
    for (let st = 0; st < c.T; st++) {
      const t = c.back ? c.T - 1 - st : st;
      const real = !c.masked || fget(s.mask, b * c.T + t) != 0;
      if (real) {
        for (let q = 0; q < u; q++) hIn[q] = c.recDropout ? hPrev[q] * <f64>fget(s.recMask, b * u + q) : hPrev[q];
        for (let k = 0; k < gu; k++) {
          let a: f64 = c.bias ? val(s.bias, k) : 0;
          for (let i = 0; i < c.n; i++) a += val(s.x, (b * c.T + t) * c.n + i) * val(s.W, i * gu + k);
          zx[k] = a;
          let r: f64 = c.bias && c.cell == RNN_CELL_GRU && c.resetAfter ? val(s.bias, gu + k) : 0;
          for (let q = 0; q < u; q++) r += hIn[q] * val(s.U, q * gu + k);
          zh[k] = r;
        }
        if (c.cell == RNN_CELL_SIMPLE) {
          for (let j = 0; j < u; j++) hPrev[j] = actRef(c.act, zx[j] + zh[j]);
        } else if (c.cell == RNN_CELL_LSTM) {
          for (let j = 0; j < u; j++) {
            const ig = actRef(c.rec, zx[j] + zh[j]);
            const fg = actRef(c.rec, zx[u + j] + zh[u + j]);
            const gg = actRef(c.act, zx[2 * u + j] + zh[2 * u + j]);
            const og = actRef(c.rec, zx[3 * u + j] + zh[3 * u + j]);
            cPrev[j] = fg * cPrev[j] + ig * gg;
            hPrev[j] = og * actRef(c.act, cPrev[j]);
          }
        } else {
          // GRU: z, r from x and h; the candidate from x and r h U (reset before) or r (h U + b_rec) (reset after)
          for (let j = 0; j < u; j++) cPrev[j] = actRef(c.rec, zx[u + j] + zh[u + j]) * hIn[j]; // r h (reset before)
          for (let j = 0; j < u; j++) {
            const zg = actRef(c.rec, zx[j] + zh[j]);
            const rg = actRef(c.rec, zx[u + j] + zh[u + j]);
            let cand: f64;
            if (c.resetAfter) {
              cand = actRef(c.act, zx[2 * u + j] + rg * zh[2 * u + j]);
            } else {
              let a = zx[2 * u + j];
              for (let q = 0; q < u; q++) a += cPrev[q] * val(s.U, q * gu + 2 * u + j);
              cand = actRef(c.act, a);
            }
            zh[3 * u + j] = zg * hIn[j] + (1 - zg) * cand; // the new state, kept apart until every unit is done
          }
          for (let j = 0; j < u; j++) hPrev[j] = zh[3 * u + j];
        }
      }
      if (c.seq) for (let j = 0; j < u; j++) out[(b * c.T + st) * u + j] = real || !c.zeroPadded ? hPrev[j] : 0;
    }
    if (!c.seq) for (let j = 0; j < u; j++) out[b * u + j] = hPrev[j];
  }
  let loss: f64 = 0;
  for (let i = 0; i < c.outLen(); i++) loss += out[i] * <f64>fget(s.r, i);
  return loss;
}

// ---- checks ----

/** max |y - reference| / (1 + |reference|) of the kernel's forward. */
function forwardErr(s: Setup): f64 {
  s.forward();
  refForward(s);
  let worst: f64 = 0;
  for (let i = 0; i < s.c.outLen(); i++) worst = Math.max(worst, Math.abs(<f64>fget(s.y, i) - out[i]) / (1 + Math.abs(out[i])));
  return worst;
}

/** max |g - fd| / (1 + |fd|) over the n coordinates of buffer v whose kernel gradient is g. */
function gradErr(s: Setup, g: usize, v: usize, n: i32): f64 {
  let worst: f64 = 0;
  const h: f64 = 1e-4;
  for (let i = 0; i < n; i++) {
    pertBuf = v; pertIdx = i;
    pertDelta = h;
    const lp = refForward(s);
    pertDelta = -h;
    const lm = refForward(s);
    pertBuf = 0; pertIdx = -1;
    const fd = (lp - lm) / (2 * h);
    worst = Math.max(worst, Math.abs(<f64>fget(g, i) - fd) / (1 + Math.abs(fd)));
  }
  return worst;
}

/** Forward, backward, then every gradient against central differences; returns the worst relative error. */
function backwardErr(s: Setup): f64 {
  const c = s.c, G = c.gates();
  s.forward();
  s.backward(s.dx);
  let worst = gradErr(s, s.dx, s.x, c.B * c.T * c.n);
  worst = Math.max(worst, gradErr(s, s.dW, s.W, c.n * G * c.u));
  worst = Math.max(worst, gradErr(s, s.dU, s.U, c.u * G * c.u));
  if (c.bias) worst = Math.max(worst, gradErr(s, s.db, s.bias, c.biasLen()));
  return worst;
}

const FWD_TOL: f64 = 1e-6;
const GRAD_TOL: f64 = 2e-6;

/** The shapes: SIMD tails (u = 1, 3, 5, 7), B = 1 and odd, T = 1, B > 4 (the packed GEMM path), in = 1. */
const SHAPES: i32[][] = [[1, 1, 3, 5], [3, 4, 2, 3], [2, 5, 4, 4], [5, 3, 6, 7], [7, 2, 1, 1], [1, 6, 3, 8]];

function config(cell: i32, shape: i32[], flags: i32): Config {
  const c = new Config();
  c.cell = cell;
  c.B = shape[0]; c.T = shape[1]; c.n = shape[2]; c.u = shape[3];
  c.back = (flags & 1) != 0;
  c.seq = (flags & 2) != 0;
  c.masked = (flags & 4) != 0;
  c.bias = (flags & 8) == 0;
  c.resetAfter = (flags & 16) == 0;
  c.zeroPadded = (flags & 32) != 0;
  c.recDropout = (flags & 64) != 0;
  return c;
}

/** Forward against the reference over every shape, every combination of goBackwards, returnSequences, mask, and zero outputs at padded steps. */
function forwardGrid(cell: i32, act: i32, rec: i32, extraFlags: i32): bool {
  let ok = true;
  let worst: f64 = 0;
  for (let sh = 0; sh < SHAPES.length; sh++) {
    for (let f = 0; f < 10; f++) {
      const c = config(cell, SHAPES[sh], (f == 8 ? 2 | 4 | 32 : f == 9 ? 1 | 2 | 4 | 64 : f) | extraFlags);
      c.act = act; c.rec = rec;
      const e = forwardErr(new Setup(c));
      worst = Math.max(worst, e);
      if (!(e <= FWD_TOL)) { ok = false; report("forward off: " + c.name() + " err " + e.toString()); }
    }
  }
  report("forward, worst relative error " + worst.toString());
  return ok;
}

/** Backward against finite differences for a few shapes and flags. */
function backwardGrid(cell: i32, act: i32, rec: i32, extraFlags: i32): bool {
  const shapes: i32[][] = [[2, 3, 3, 3], [1, 1, 2, 5], [3, 4, 2, 2]];
  const flags: i32[] = [2, 0, 7, 1 | 4, 2 | 8, 1 | 2 | 4 | 32, 2 | 64, 1 | 4 | 64];
  let ok = true;
  let worst: f64 = 0;
  for (let sh = 0; sh < shapes.length; sh++) {
    for (let f = 0; f < flags.length; f++) {
      const c = config(cell, shapes[sh], flags[f] | extraFlags);
      c.act = act; c.rec = rec;
      const e = backwardErr(new Setup(c));
      worst = Math.max(worst, e);
      if (!(e <= GRAD_TOL)) { ok = false; report("gradient off: " + c.name() + " err " + e.toString()); }
    }
  }
  report("backward, worst relative error against central differences " + worst.toString());
  return ok;
}

/** The one-step call fed the sequence step by step gives the forward's states bit for bit. */
function stepMatches(cell: i32, shape: i32[], extraFlags: i32): bool {
  const c = config(cell, shape, 2 | extraFlags);
  const s = new Setup(c);
  s.forward();
  const B = c.B, T = c.T, n = c.n, u = c.u;
  const state = alloc16(s.stateLen() * 4);
  memory.fill(state, 0, <usize>s.stateLen() * 4);
  const xt = alloc16(B * n * 4);
  const work = alloc16(rnn_step_work_floats(cell, s.p) * 4);
  let same = true;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) fset(xt, b * n + i, fget(s.x, (b * T + t) * n + i));
    s.step(xt, state, work);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < u; j++) {
        if (reinterpret<u32>(fget(state, b * u + j)) != reinterpret<u32>(fget(s.y, (b * T + t) * u + j))) same = false;
      }
    }
  }
  return same;
}

describe("simpleRNN", () => {
  it("forward = reference: tanh (inlined), relu and linear (looked up per vector), every shape and flag", () => {
    expect<bool>(forwardGrid(RNN_CELL_SIMPLE, ACT_TANH, ACT_SIGMOID, 0)).toBe(true);
    expect<bool>(forwardGrid(RNN_CELL_SIMPLE, ACT_RELU, ACT_SIGMOID, 0)).toBe(true);
    expect<bool>(forwardGrid(RNN_CELL_SIMPLE, ACT_LINEAR, ACT_SIGMOID, 8)).toBe(true);
  });
  it("backward = central differences of the reference, every coordinate of x, W, U, b", () => {
    expect<bool>(backwardGrid(RNN_CELL_SIMPLE, ACT_TANH, ACT_SIGMOID, 0)).toBe(true);
    expect<bool>(backwardGrid(RNN_CELL_SIMPLE, ACT_RELU, ACT_SIGMOID, 0)).toBe(true);
  });
  it("simple_rnn_step fed one step at a time = simple_rnn_forward, bit for bit", () => {
    expect<bool>(stepMatches(RNN_CELL_SIMPLE, [1, 4, 3, 5], 0)).toBe(true);
    expect<bool>(stepMatches(RNN_CELL_SIMPLE, [6, 3, 4, 4], 8)).toBe(true);
  });
});

describe("lstm", () => {
  it("forward = reference: tanh/sigmoid, every shape, goBackwards, returnSequences, mask", () => {
    expect<bool>(forwardGrid(RNN_CELL_LSTM, ACT_TANH, ACT_SIGMOID, 0)).toBe(true);
  });
  it("forward = reference: TF.js's tanh/hardSigmoid, and relu/sigmoid (a pair looked up per vector), no bias", () => {
    expect<bool>(forwardGrid(RNN_CELL_LSTM, ACT_TANH, ACT_HARD_SIGMOID, 0)).toBe(true);
    expect<bool>(forwardGrid(RNN_CELL_LSTM, ACT_RELU, ACT_SIGMOID, 8)).toBe(true);
  });
  it("backward = central differences of the reference, every coordinate of x, W, U, b", () => {
    expect<bool>(backwardGrid(RNN_CELL_LSTM, ACT_TANH, ACT_SIGMOID, 0)).toBe(true);
    expect<bool>(backwardGrid(RNN_CELL_LSTM, ACT_TANH, ACT_HARD_SIGMOID, 0)).toBe(true);
    expect<bool>(backwardGrid(RNN_CELL_LSTM, ACT_LINEAR, ACT_SIGMOID, 0)).toBe(true);
  });
  it("lstm_step fed one step at a time = lstm_forward, bit for bit (B = 1, 3, 6)", () => {
    expect<bool>(stepMatches(RNN_CELL_LSTM, [1, 4, 3, 5], 0)).toBe(true);
    expect<bool>(stepMatches(RNN_CELL_LSTM, [3, 5, 2, 7], 0)).toBe(true);
    expect<bool>(stepMatches(RNN_CELL_LSTM, [6, 3, 4, 4], 8)).toBe(true);
  });
  it("accumulate adds onto the gradients; dx = 0 is skipped", () => {
    const c = config(RNN_CELL_LSTM, [3, 4, 2, 5], 2 | 4);
    const s = new Setup(c);
    const G = c.gates();
    s.forward();
    s.backward(s.dx);
    const nW = c.n * G * c.u, nU = c.u * G * c.u, nb = c.biasLen();
    const W1 = alloc16(nW * 4), U1 = alloc16(nU * 4), b1 = alloc16(nb * 4);
    memory.copy(W1, s.dW, <usize>nW * 4); memory.copy(U1, s.dU, <usize>nU * 4); memory.copy(b1, s.db, <usize>nb * 4);
    store<i32>(s.p + 4 * RNN_FLAGS, load<i32>(s.p + 4 * RNN_FLAGS) | RNN_ACCUMULATE);
    s.forward();
    s.backward(0);
    // the second pass's sums start from the first's values, so twice the first up to the f32 rounding of the sums
    let worst: f64 = 0;
    for (let i = 0; i < nW; i++) worst = Math.max(worst, Math.abs(<f64>fget(s.dW, i) - 2 * <f64>fget(W1, i)));
    for (let i = 0; i < nU; i++) worst = Math.max(worst, Math.abs(<f64>fget(s.dU, i) - 2 * <f64>fget(U1, i)));
    for (let i = 0; i < nb; i++) worst = Math.max(worst, Math.abs(<f64>fget(s.db, i) - 2 * <f64>fget(b1, i)));
    expect<bool>(worst <= 1e-5).toBe(true);
  });
});

describe("gru", () => {
  it("forward = reference, resetAfter (bias [2, 3u]) and reset before (bias [3u]), every shape and flag", () => {
    expect<bool>(forwardGrid(RNN_CELL_GRU, ACT_TANH, ACT_SIGMOID, 0)).toBe(true);
    expect<bool>(forwardGrid(RNN_CELL_GRU, ACT_TANH, ACT_SIGMOID, 16)).toBe(true);
  });
  it("forward = reference: TF.js's tanh/hardSigmoid reset before, relu/sigmoid (looked up per vector), no bias", () => {
    expect<bool>(forwardGrid(RNN_CELL_GRU, ACT_TANH, ACT_HARD_SIGMOID, 16)).toBe(true);
    expect<bool>(forwardGrid(RNN_CELL_GRU, ACT_RELU, ACT_SIGMOID, 8)).toBe(true);
    expect<bool>(forwardGrid(RNN_CELL_GRU, ACT_RELU, ACT_SIGMOID, 8 | 16)).toBe(true);
  });
  it("backward = central differences of the reference, both forms, every coordinate of x, W, U, b", () => {
    expect<bool>(backwardGrid(RNN_CELL_GRU, ACT_TANH, ACT_SIGMOID, 0)).toBe(true);
    expect<bool>(backwardGrid(RNN_CELL_GRU, ACT_TANH, ACT_SIGMOID, 16)).toBe(true);
    expect<bool>(backwardGrid(RNN_CELL_GRU, ACT_TANH, ACT_HARD_SIGMOID, 16)).toBe(true);
    expect<bool>(backwardGrid(RNN_CELL_GRU, ACT_LINEAR, ACT_SIGMOID, 0)).toBe(true);
  });
  it("gru_step fed one step at a time = gru_forward, bit for bit, both forms", () => {
    expect<bool>(stepMatches(RNN_CELL_GRU, [1, 4, 3, 5], 0)).toBe(true);
    expect<bool>(stepMatches(RNN_CELL_GRU, [3, 5, 2, 7], 16)).toBe(true);
    expect<bool>(stepMatches(RNN_CELL_GRU, [6, 3, 4, 4], 0)).toBe(true);
    expect<bool>(stepMatches(RNN_CELL_GRU, [6, 3, 4, 4], 16 | 8)).toBe(true);
  });
});

// ---- token ids from an embedding's table (RNN_IDS) against the same rows given as x ----

/**
 * The configuration c run twice: on x = table[ids] (x [B, T, n] batch-major), then on the ids and the table
 * themselves. The forward's outputs must have the same bits (each projected row is the same sum either way); the
 * weights' gradients and the table's (against dx scattered by id in f64) agree up to the sums' order.
 * V <= T B projects the table's rows; V > T B gathers them to the steps first.
 */
function idsMatch(c: Config, V: i32): bool {
  const s = new Setup(c);
  const G = c.gates(), n = c.n, BT = c.B * c.T;
  const tab = randomBuf(V * n, 1);
  const ids = alloc16(BT * 4);
  for (let i = 0; i < BT; i++) store<i32>(ids + 4 * i, <i32>(nextU32() % <u32>V));
  store<i32>(ids, V - 1); // the last row is used
  for (let i = 0; i < BT; i++) memory.copy(s.x + 4 * i * n, tab + 4 * load<i32>(ids + 4 * i) * n, 4 * n);
  s.forward();
  s.backward(s.dx);
  const nW = n * G * c.u, nU = c.u * G * c.u, nb = c.biasLen(), ny = c.outLen();
  const y1 = alloc16(ny * 4), W1 = alloc16(nW * 4), U1 = alloc16(nU * 4), b1 = alloc16(nb * 4 + 16);
  memory.copy(y1, s.y, ny * 4); memory.copy(W1, s.dW, nW * 4); memory.copy(U1, s.dU, nU * 4);
  if (nb && c.bias) memory.copy(b1, s.db, nb * 4);
  const tRef = alloc(V * n); // f64
  for (let i = 0; i < V * n; i++) store<f64>(tRef + 8 * i, 0);
  for (let i = 0; i < BT; i++) {
    const id = load<i32>(ids + 4 * i);
    for (let j = 0; j < n; j++) store<f64>(tRef + 8 * (id * n + j), load<f64>(tRef + 8 * (id * n + j)) + <f64>fget(s.dx, i * n + j));
  }
  const dtab = randomBuf(V * n, 1); // written over, not added onto
  store<u32>(s.p + 4 * RNN_IDS, <u32>ids); store<u32>(s.p + 4 * RNN_TABLE, <u32>tab);
  store<i32>(s.p + 4 * RNN_VOCAB, V); store<u32>(s.p + 4 * RNN_DTABLE, <u32>dtab);
  s.work = alloc16(rnn_work_floats(c.cell, s.p) * 4);
  fill(s.y, ny, 7);
  s.forward();
  let same = true;
  for (let i = 0; i < ny; i++) if (reinterpret<u32>(fget(s.y, i)) != reinterpret<u32>(fget(y1, i))) same = false;
  s.backward(0);
  const w = relErr(s.dW, W1, nW), uu = relErr(s.dU, U1, nU), bb = c.bias ? relErr(s.db, b1, nb) : 0;
  let tw: f64 = 0, tm: f64 = 0;
  for (let i = 0; i < V * n; i++) {
    const r = load<f64>(tRef + 8 * i);
    tw = Math.max(tw, Math.abs(<f64>fget(dtab, i) - r));
    tm = Math.max(tm, Math.abs(r));
  }
  const t = tw / Math.max(tm, 1e-30);
  const ok = same && w <= 1e-5 && uu <= 1e-6 && bb <= 1e-5 && t <= 1e-5;
  if (!ok) report("ids off: " + c.name() + " V" + V.toString() + (same ? "" : " forward bits differ") + " dW " + w.toString() + " dU " + uu.toString() + " db " + bb.toString() + " dtable " + t.toString());
  return ok;
}

/** The largest difference between a and b (n floats), relative to b's largest magnitude. */
function relErr(a: usize, b: usize, n: i32): f64 {
  let worst: f64 = 0, big: f64 = 0;
  for (let i = 0; i < n; i++) {
    worst = Math.max(worst, Math.abs(<f64>fget(a, i) - <f64>fget(b, i)));
    big = Math.max(big, Math.abs(<f64>fget(b, i)));
  }
  return worst / Math.max(big, 1e-30);
}

describe("token ids (an embedding below)", () => {
  it("the same forward bits as x = table[ids], the same gradients up to the sums' order, and the table's gradient", () => {
    let ok = true;
    const cells = [RNN_CELL_LSTM, RNN_CELL_GRU, RNN_CELL_GRU, RNN_CELL_SIMPLE];
    const cellFlags = [0, 0, 16, 0];
    const shapes: i32[][] = [[3, 4, 5, 6], [6, 5, 4, 7], [1, 3, 3, 5]];
    const flags = [2, 1 | 2, 0, 2 | 4, 1 | 4 | 8];
    for (let ci = 0; ci < cells.length; ci++) {
      for (let sh = 0; sh < shapes.length; sh++) {
        for (let f = 0; f < flags.length; f++) {
          const shape = shapes[sh];
          const BT = shape[0] * shape[1];
          // a table of fewer rows than steps (projected), of exactly as many, and of more (gathered)
          const vs = [max(2, BT / 3), BT, BT + 5];
          for (let vi = 0; vi < vs.length; vi++) {
            const c = config(cells[ci], shape, flags[f] | cellFlags[ci]);
            if (!idsMatch(c, vs[vi])) ok = false;
          }
        }
      }
    }
    expect<bool>(ok).toBe(true);
  });
});
