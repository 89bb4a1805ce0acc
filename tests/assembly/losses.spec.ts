// losses.ts: each loss value against an f64 scalar reference written from the definition, and each gradient
// against a central finite difference of that f64 reference, with and without sample weights; the fused
// losses at logits of ±1000; clipping at p = 0 and 1; metrics on hand-made batches with ties.
import {
  loss_mse, loss_mae, loss_huber, loss_bce, loss_sigmoid_bce, loss_cce, loss_softmax_cce, loss_sparse_cce,
  loss_softmax_sparse_cce, metric_correct_sparse, metric_correct_onehot, metric_correct_binary,
} from "../../assembly/losses";

const MSE = 0, MAE = 1, HUBER = 2, BCE = 3, SIGMOID_BCE = 4, CCE = 5, SOFTMAX_CCE = 6, SPARSE = 7, SOFTMAX_SPARSE = 8;
const NAMES: string[] = ["mse", "mae", "huber", "bce", "sigmoid_bce", "cce", "softmax_cce", "sparse_cce", "softmax_sparse_cce"];
const DELTA: f32 = 0.5;
const EPS: f64 = <f64><f32>1e-7; // Keras epsilon as the kernel sees it (f32)
const HI: f64 = <f64>(<f32>1.0 - <f32>1e-7);

let seed: u32 = 2024;
function rand(): f64 { // [0, 1)
  seed = seed * 1664525 + 1013904223;
  return <f64>(seed >>> 8) / <f64>(1 << 24);
}
function buf(n: i32): usize {
  const p = heap.alloc(<usize>n * 4 + 32);
  return (p + 15) & ~(<usize>15);
}
@inline function get(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
@inline function at(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }

/** One test batch: f64 values (exactly representable in f32) and their f32 buffers. */
class Batch {
  rows: i32;
  cols: i32;
  x: StaticArray<f64>; // pred / prob / logits
  t: StaticArray<f64>; // target
  labels: StaticArray<i32>;
  w: StaticArray<f64> | null;
  xp: usize; tp: usize; lp: usize; wp: usize; gp: usize; pp: usize;
  constructor(rows: i32, cols: i32) {
    this.rows = rows;
    this.cols = cols;
    const n = rows * cols;
    this.x = new StaticArray<f64>(n);
    this.t = new StaticArray<f64>(n);
    this.labels = new StaticArray<i32>(rows);
    this.w = null;
    this.xp = buf(n); this.tp = buf(n); this.lp = buf(rows); this.wp = 0; this.gp = buf(n); this.pp = buf(n);
  }
  setWeights(ws: f64[]): void {
    const w = new StaticArray<f64>(this.rows);
    this.wp = buf(this.rows);
    for (let r = 0; r < this.rows; r++) {
      w[r] = <f64><f32>ws[r];
      at(this.wp, r, <f32>w[r]);
    }
    this.w = w;
  }
  sync(): void { // round the f64 values to f32 so kernel and reference see the same numbers
    for (let i = 0; i < this.rows * this.cols; i++) {
      this.x[i] = <f64><f32>this.x[i];
      this.t[i] = <f64><f32>this.t[i];
      at(this.xp, i, <f32>this.x[i]);
      at(this.tp, i, <f32>this.t[i]);
    }
    for (let r = 0; r < this.rows; r++) store<i32>(this.lp + (<usize>r << 2), this.labels[r]);
  }
  weight(r: i32): f64 { const w = this.w; return w === null ? 1 : w[r]; }
}

function runKernel(kind: i32, b: Batch): f32 {
  const x = b.xp, t = b.tp, g = b.gp, p = b.pp, w = b.wp, rows = b.rows, cols = b.cols;
  if (kind == MSE) return loss_mse(x, t, g, rows, cols, w);
  if (kind == MAE) return loss_mae(x, t, g, rows, cols, w);
  if (kind == HUBER) return loss_huber(x, t, g, rows, cols, w, DELTA);
  if (kind == BCE) return loss_bce(x, t, g, rows, cols, w);
  if (kind == SIGMOID_BCE) return loss_sigmoid_bce(x, t, p, g, rows, cols, w);
  if (kind == CCE) return loss_cce(x, t, g, rows, cols, w);
  if (kind == SOFTMAX_CCE) return loss_softmax_cce(x, t, p, g, rows, cols, w);
  if (kind == SPARSE) return loss_sparse_cce(x, b.lp, g, rows, cols, w);
  return loss_softmax_sparse_cce(x, b.lp, p, g, rows, cols, w);
}

// ---- f64 references, from the definitions ----

function clip(p: f64): f64 { return p < EPS ? EPS : p > HI ? HI : p; }
/** log Σ exp(z_j) of one row, shifted by the row max (f64). */
function logSumExp(x: StaticArray<f64>, o: i32, cols: i32): f64 {
  let m = -Infinity;
  for (let j = 0; j < cols; j++) m = Math.max(m, x[o + j]);
  let s: f64 = 0;
  for (let j = 0; j < cols; j++) s += Math.exp(x[o + j] - m);
  return m + Math.log(s);
}
/** log(1 + e^z) without overflow. */
function softplus(z: f64): f64 { return z > 0 ? z + Math.log(1 + Math.exp(-z)) : Math.log(1 + Math.exp(z)); }

function refSample(kind: i32, b: Batch, r: i32): f64 {
  const cols = b.cols, o = r * cols, x = b.x, t = b.t;
  let s: f64 = 0;
  if (kind == SPARSE || kind == SOFTMAX_SPARSE) {
    const label = b.labels[r];
    if (kind == SOFTMAX_SPARSE) return logSumExp(x, o, cols) - x[o + label];
    let sum: f64 = 0;
    for (let j = 0; j < cols; j++) sum += x[o + j];
    return -Math.log(clip(x[o + label] / sum));
  }
  if (kind == CCE) {
    let sum: f64 = 0;
    for (let j = 0; j < cols; j++) sum += x[o + j];
    for (let j = 0; j < cols; j++) s -= t[o + j] * Math.log(clip(x[o + j] / sum));
    return s;
  }
  if (kind == SOFTMAX_CCE) {
    const lse = logSumExp(x, o, cols);
    for (let j = 0; j < cols; j++) s += t[o + j] * (lse - x[o + j]);
    return s;
  }
  for (let j = 0; j < cols; j++) {
    const p = x[o + j], y = t[o + j], d = p - y;
    if (kind == MSE) s += d * d;
    else if (kind == MAE) s += Math.abs(d);
    else if (kind == HUBER) s += Math.abs(d) <= <f64>DELTA ? 0.5 * d * d : <f64>DELTA * (Math.abs(d) - 0.5 * <f64>DELTA);
    else if (kind == BCE) s -= y * Math.log(clip(p)) + (1 - y) * Math.log(1 - clip(p));
    else s += y * softplus(-p) + (1 - y) * softplus(p); // −y·log σ(p) − (1 − y)·log(1 − σ(p))
  }
  return s / <f64>cols; // mean over the cols for the element-wise losses
}
function refLoss(kind: i32, b: Batch): f64 {
  let total: f64 = 0;
  for (let r = 0; r < b.rows; r++) total += b.weight(r) * refSample(kind, b, r);
  return total / <f64>b.rows;
}

// ---- checks ----

function closeRel(got: f64, want: f64, rel: f64, abs_: f64, what: string): void {
  const ok = Math.abs(got - want) <= abs_ + rel * Math.abs(want);
  expect<bool>(ok).toBe(true, what + ": got " + got.toString() + " want " + want.toString());
}

/** Loss value vs reference; each gradient element vs a central difference of the f64 reference. */
function checkLoss(kind: i32, b: Batch, what: string): void {
  b.sync();
  const got = runKernel(kind, b);
  const want = refLoss(kind, b);
  closeRel(<f64>got, want, 2e-6, 1e-6, NAMES[kind] + " value " + what);
  const h: f64 = 1e-5;
  for (let i = 0; i < b.rows * b.cols; i++) {
    const keep = b.x[i];
    b.x[i] = keep + h;
    const up = refLoss(kind, b);
    b.x[i] = keep - h;
    const down = refLoss(kind, b);
    b.x[i] = keep;
    const fd = (up - down) / (2 * h);
    closeRel(<f64>get(b.gp, i), fd, 1e-4, 1e-6, NAMES[kind] + " grad[" + i.toString() + "] " + what);
  }
}

/** Regression batch: |p − t| kept away from 0 and from δ (the kinks), by at least 0.02. */
function regressionBatch(rows: i32, cols: i32): Batch {
  const b = new Batch(rows, cols);
  for (let i = 0; i < rows * cols; i++) {
    b.t[i] = rand() * 2 - 1;
    let d = rand() * 2 - 1;
    if (Math.abs(d) < 0.05) d += d < 0 ? -0.1 : 0.1;
    if (Math.abs(Math.abs(d) - <f64>DELTA) < 0.05) d *= 1.3;
    b.x[i] = b.t[i] + d;
  }
  return b;
}
/** Binary batch: probabilities in [0.05, 0.95] (or logits in [-4, 4]); targets 0, 1 and soft. */
function binaryBatch(rows: i32, cols: i32, logits: bool): Batch {
  const b = new Batch(rows, cols);
  for (let i = 0; i < rows * cols; i++) {
    b.x[i] = logits ? rand() * 8 - 4 : 0.05 + 0.9 * rand();
    b.t[i] = i % 3 == 0 ? 1 : i % 3 == 1 ? 0 : 0.25;
  }
  return b;
}
/** Categorical batch: positive probabilities whose rows do NOT sum to 1 (renormalisation is part of the loss),
 *  or logits in [-3, 3]; targets one-hot on even rows, soft (summing to 1) on odd rows; labels. */
function categoricalBatch(rows: i32, cols: i32, logits: bool): Batch {
  const b = new Batch(rows, cols);
  for (let r = 0; r < rows; r++) {
    const label = (r * 3 + 1) % cols;
    b.labels[r] = label;
    let ts: f64 = 0;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      b.x[i] = logits ? rand() * 6 - 3 : 0.05 + rand();
      b.t[i] = r % 2 == 0 ? (j == label ? 1 : 0) : 0.25 + rand();
      ts += b.t[i];
    }
    if (r % 2 == 1) for (let j = 0; j < cols; j++) b.t[r * cols + j] /= ts;
  }
  return b;
}
const WEIGHTS: f64[] = [0.5, 2.0, 0.0, 1.5, 1.0];

describe("losses: value vs f64 reference, gradient vs central difference", () => {
  it("mse, mae, huber (rows 3 x cols 5, and 5 x 1), unweighted and weighted", () => {
    const kinds: i32[] = [MSE, MAE, HUBER];
    for (let k = 0; k < kinds.length; k++) {
      const b = regressionBatch(3, 5);
      checkLoss(kinds[k], b, "unweighted");
      b.setWeights(WEIGHTS);
      checkLoss(kinds[k], b, "weighted");
      const c = regressionBatch(5, 1);
      c.setWeights(WEIGHTS);
      checkLoss(kinds[k], c, "5x1 weighted");
    }
  });

  it("huber: both branches are hit", () => {
    const b = regressionBatch(3, 5);
    let small = 0, large = 0;
    for (let i = 0; i < 15; i++) if (Math.abs(b.x[i] - b.t[i]) <= <f64>DELTA) small++; else large++;
    expect<bool>(small > 0 && large > 0).toBe(true, "test batch misses a Huber branch");
  });

  it("bce on probabilities and sigmoid_bce on logits, unweighted and weighted", () => {
    for (let logits = 0; logits < 2; logits++) {
      const kind = logits ? SIGMOID_BCE : BCE;
      const b = binaryBatch(4, 3, logits != 0);
      checkLoss(kind, b, "unweighted");
      b.setWeights(WEIGHTS);
      checkLoss(kind, b, "weighted");
    }
  });

  it("cce, softmax_cce, sparse_cce, softmax_sparse_cce (rows 4 x cols 5, 3 x 1...)", () => {
    const kinds: i32[] = [CCE, SOFTMAX_CCE, SPARSE, SOFTMAX_SPARSE];
    for (let k = 0; k < kinds.length; k++) {
      const logits = kinds[k] == SOFTMAX_CCE || kinds[k] == SOFTMAX_SPARSE;
      const b = categoricalBatch(4, 5, logits);
      checkLoss(kinds[k], b, "unweighted");
      b.setWeights(WEIGHTS);
      checkLoss(kinds[k], b, "weighted");
      const c = categoricalBatch(3, 2, logits);
      c.setWeights(WEIGHTS);
      checkLoss(kinds[k], c, "3x2 weighted");
    }
  });

  it("cce and softmax_cce with targets that do not sum to 1: still the exact gradient of the value", () => {
    const kinds: i32[] = [CCE, SOFTMAX_CCE];
    for (let k = 0; k < 2; k++) {
      const b = categoricalBatch(3, 4, kinds[k] == SOFTMAX_CCE);
      for (let i = 0; i < 12; i++) b.t[i] = rand() * 0.5; // row sums about 1, never exactly
      b.setWeights(WEIGHTS);
      checkLoss(kinds[k], b, "unnormalised targets");
    }
  });

  it("fused losses write sigmoid / softmax into prob_out", () => {
    const b = binaryBatch(2, 5, true);
    b.sync();
    runKernel(SIGMOID_BCE, b);
    for (let i = 0; i < 10; i++) closeRel(<f64>get(b.pp, i), 1 / (1 + Math.exp(-b.x[i])), 1e-6, 1e-7, "sigmoid out");
    const kinds: i32[] = [SOFTMAX_CCE, SOFTMAX_SPARSE];
    for (let k = 0; k < 2; k++) {
      const c = categoricalBatch(3, 7, true);
      c.sync();
      runKernel(kinds[k], c);
      for (let r = 0; r < 3; r++) {
        let s: f64 = 0;
        for (let j = 0; j < 7; j++) s += Math.exp(c.x[r * 7 + j]);
        for (let j = 0; j < 7; j++) closeRel(<f64>get(c.pp, r * 7 + j), Math.exp(c.x[r * 7 + j]) / s, 1e-6, 1e-7, "softmax out");
      }
    }
  });

  it("mse of a hand-computed case", () => {
    // rows 2 x cols 2: d = [1, -2 | 0, 3]; l = [(1+4)/2, (0+9)/2] = [2.5, 4.5]; w = [2, 1] -> (5 + 4.5)/2 = 4.75
    const b = new Batch(2, 2);
    b.x[0] = 1; b.x[1] = -2; b.x[2] = 0; b.x[3] = 3;
    b.setWeights([2, 1]);
    b.sync();
    expect<f32>(runKernel(MSE, b)).toBeCloseTo(4.75, 6);
    // grad = 2·d·w/(cols·rows) = d·w/2
    expect<f32>(get(b.gp, 0)).toBeCloseTo(1, 6);
    expect<f32>(get(b.gp, 1)).toBeCloseTo(-2, 6);
    expect<f32>(get(b.gp, 3)).toBeCloseTo(1.5, 6); // row 1: d = 3, w = 1
  });
});

describe("stability and clipping", () => {
  it("softmax losses at logits of ±1000: finite, exact value, gradient = (softmax - t)·w/rows", () => {
    const kinds: i32[] = [SOFTMAX_CCE, SOFTMAX_SPARSE];
    const vals: f64[] = [1000, -1000, 0, 999, -999, 1000, 0.5, -1000, 998, -3];
    for (let k = 0; k < 2; k++) {
      const b = new Batch(2, 5);
      for (let i = 0; i < 10; i++) b.x[i] = vals[i];
      // row 0: target on a -1000 logit (loss ≈ 2000); row 1: soft target
      b.labels[0] = 1; b.labels[1] = 3;
      b.t[1] = 1;
      b.t[5] = 0.5; b.t[7] = 0.25; b.t[8] = 0.25;
      if (kinds[k] == SOFTMAX_SPARSE) for (let i = 0; i < 10; i++) b.t[i] = 0;
      if (kinds[k] == SOFTMAX_SPARSE) { b.t[1] = 1; b.t[8] = 1; }
      b.setWeights([1.5, 0.5]);
      checkLoss(kinds[k], b, "±1000");
      for (let i = 0; i < 10; i++) {
        const okP = isFinite(get(b.pp, i)) && isFinite(get(b.gp, i));
        expect<bool>(okP).toBe(true, "non-finite output at " + i.toString());
      }
      // analytic gradient from the f64 softmax
      for (let r = 0; r < 2; r++) {
        const lse = logSumExp(b.x, r * 5, 5);
        for (let j = 0; j < 5; j++) {
          const i = r * 5 + j;
          const y = Math.exp(b.x[i] - lse);
          closeRel(<f64>get(b.pp, i), y, 1e-6, 1e-30, "softmax ±1000");
          closeRel(<f64>get(b.gp, i), (y - b.t[i]) * b.weight(r) / 2, 1e-6, 1e-12, "grad ±1000");
        }
      }
    }
  });

  it("sigmoid_bce at logits of ±1000: finite loss, σ exactly 0/1, gradient (σ − t)·w/(cols·rows)", () => {
    const b = new Batch(1, 4);
    b.x[0] = 1000; b.x[1] = -1000; b.x[2] = 1000; b.x[3] = -1000;
    b.t[0] = 0; b.t[1] = 1; b.t[2] = 1; b.t[3] = 0;
    checkLoss(SIGMOID_BCE, b, "±1000");
    // per element: 1000, 1000, 0, 0 -> mean 500
    expect<f32>(runKernel(SIGMOID_BCE, b)).toBeCloseTo(500, 3);
    expect<f32>(get(b.gp, 0)).toBeCloseTo(0.25, 7);
    expect<f32>(get(b.gp, 1)).toBeCloseTo(-0.25, 7);
    expect<f32>(get(b.gp, 2)).toBe(0);
    expect<f32>(get(b.gp, 3)).toBe(0);
    expect<f32>(get(b.pp, 0)).toBe(1);
    expect<f32>(get(b.pp, 1)).toBe(0);
  });

  it("bce at p = 0 and p = 1: finite loss (−log ε), zero gradient where clipped", () => {
    const b = new Batch(1, 4);
    b.x[0] = 0; b.x[1] = 1; b.x[2] = 0; b.x[3] = 1;
    b.t[0] = 1; b.t[1] = 0; b.t[2] = 0; b.t[3] = 1;
    b.sync();
    const got = runKernel(BCE, b);
    expect<bool>(isFinite(got)).toBe(true, "bce not finite at p = 0/1");
    closeRel(<f64>got, refLoss(BCE, b), 1e-5, 1e-6, "bce clipped value");
    // wrong answers: −log ε ≈ 16.12 (p = 0, t = 1) and −log(1 − HI) ≈ 15.94 (p = 1 clipped to HI = 1 − 2⁻²³);
    // right answers cost ≈ 1.2e-7
    const want = -Math.log(EPS) - Math.log(1 - HI) - Math.log(1 - EPS) - Math.log(HI);
    closeRel(<f64>got, want / 4, 1e-5, 1e-6, "bce −log ε");
    for (let i = 0; i < 4; i++) expect<f32>(get(b.gp, i)).toBe(0);
  });

  it("cce and sparse_cce with a zero probability on the true class: finite (−log ε)", () => {
    const b = new Batch(2, 3);
    b.x[0] = 0; b.x[1] = 0.5; b.x[2] = 0.5; // row 0: true class 0 has p = 0
    b.x[3] = 0.2; b.x[4] = 0.3; b.x[5] = 0.5;
    b.t[0] = 1; b.t[5] = 1;
    b.labels[0] = 0; b.labels[1] = 2;
    b.sync();
    const kinds: i32[] = [CCE, SPARSE];
    for (let k = 0; k < 2; k++) {
      const got = runKernel(kinds[k], b);
      expect<bool>(isFinite(got)).toBe(true, "not finite");
      closeRel(<f64>got, (-Math.log(EPS) - Math.log(0.5)) / 2, 1e-5, 1e-6, NAMES[kinds[k]] + " clipped value");
      for (let i = 0; i < 6; i++) expect<bool>(isFinite(get(b.gp, i))).toBe(true, "grad not finite");
      for (let i = 0; i < 3; i++) expect<f32>(get(b.gp, i)).toBe(0); // row 0 clipped: zero gradient
    }
  });

  it("sparse losses: an out-of-range label gives NaN loss and a zero gradient row", () => {
    const b = categoricalBatch(2, 3, false);
    b.labels[1] = 3;
    b.sync();
    expect<bool>(isNaN(runKernel(SPARSE, b))).toBe(true, "sparse_cce hid a bad label");
    for (let j = 3; j < 6; j++) expect<f32>(get(b.gp, j)).toBe(0);
    b.labels[1] = -1;
    b.sync();
    expect<bool>(isNaN(runKernel(SOFTMAX_SPARSE, b))).toBe(true, "softmax_sparse_cce hid a bad label");
    for (let j = 3; j < 6; j++) expect<f32>(get(b.gp, j)).toBe(0);
  });
});

describe("metrics (counts)", () => {
  it("sparse and one-hot accuracy, ties go to the first max", () => {
    const prob: f32[] = [
      0.4, 0.4, 0.2, // tie 0/1 -> 0
      0.1, 0.3, 0.3, // tie 1/2 -> 1
      0.2, 0.2, 0.6, // 2
      0.5, 0.5, 0.5, // all equal -> 0
    ];
    const p = buf(12);
    for (let i = 0; i < 12; i++) at(p, i, prob[i]);
    const labelsA: i32[] = [0, 1, 2, 0]; // all right
    const labelsB: i32[] = [1, 2, 2, 2]; // only row 2 right (ties resolved the other way count wrong)
    const l = buf(4);
    for (let r = 0; r < 4; r++) store<i32>(l + (<usize>r << 2), labelsA[r]);
    expect<i32>(metric_correct_sparse(p, l, 4, 3, 0)).toBe(4);
    // a padding mask: the rows it zeroes count neither way
    const mask = buf(4);
    const maskA: f32[] = [1, 0, 1, 0];
    for (let r = 0; r < 4; r++) at(mask, r, maskA[r]);
    expect<i32>(metric_correct_sparse(p, l, 4, 3, mask)).toBe(2);
    for (let r = 0; r < 4; r++) store<i32>(l + (<usize>r << 2), labelsB[r]);
    expect<i32>(metric_correct_sparse(p, l, 4, 3, 0)).toBe(1);
    expect<i32>(metric_correct_sparse(p, l, 4, 3, mask)).toBe(1); // row 2, the right one, is real
    at(mask, 2, 0);
    expect<i32>(metric_correct_sparse(p, l, 4, 3, mask)).toBe(0);
    expect<i32>(metric_correct_sparse(p, l, 0, 3, 0)).toBe(0);

    const t = buf(12);
    for (let i = 0; i < 12; i++) at(t, i, 0);
    at(t, 0, 1); // row 0 class 0: right
    at(t, 5, 1); // row 1 class 2: wrong (tie goes to 1)
    at(t, 6 + 2, 1); // row 2 class 2: right
    at(t, 9 + 1, 0.6); at(t, 9 + 2, 0.4); // row 3 soft, argmax 1: wrong (pred 0)
    expect<i32>(metric_correct_onehot(p, t, 4, 3, 0)).toBe(2);
    const mask1 = buf(4);
    const rowMask: f32[] = [1, 1, 0, 1];
    for (let r = 0; r < 4; r++) at(mask1, r, rowMask[r]);
    expect<i32>(metric_correct_onehot(p, t, 4, 3, mask1)).toBe(1); // row 2 (right) is padding
  });

  it("binary accuracy: (p > threshold) == t", () => {
    const prob: f32[] = [0.1, 0.5, 0.50001, 0.9, 0.7, 0.3, 1.0];
    const targ: f32[] = [0, 0, 1, 1, 0, 1, 1];
    const p = buf(7), t = buf(7);
    for (let i = 0; i < 7; i++) { at(p, i, prob[i]); at(t, i, targ[i]); }
    expect<i32>(metric_correct_binary(p, t, 7, 1, 0.5, 0)).toBe(5); // 0.5 is not > 0.5; 0.7 and 0.3 wrong
    expect<i32>(metric_correct_binary(p, t, 7, 1, 0.95, 0)).toBe(4); // only 1.0 is > 0.95: 0.50001 and 0.9 wrong, 0.7 right
    // the first 6 as 3 rows of 2 (both right, both right, both wrong) under a mask per row
    const mask = buf(3);
    const rowMask: f32[] = [1, 0, 1];
    for (let r = 0; r < 3; r++) at(mask, r, rowMask[r]);
    expect<i32>(metric_correct_binary(p, t, 3, 2, 0.5, 0)).toBe(4);
    expect<i32>(metric_correct_binary(p, t, 3, 2, 0.5, mask)).toBe(2);
    at(mask, 0, 0);
    expect<i32>(metric_correct_binary(p, t, 3, 2, 0.5, mask)).toBe(0);
  });
});
