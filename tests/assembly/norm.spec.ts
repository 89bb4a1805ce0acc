// norm.ts against plain f64 references written here. Gradients are checked against central finite differences of
// L = Σ r⊙y (r random) computed with the f64 reference, the perturbation applied in f64 so f32 rounding of x ± h
// does not enter.
import {
  batchnorm_forward_train, batchnorm_forward_infer, batchnorm_backward, layernorm_forward, layernorm_backward,
  rmsnorm_forward, rmsnorm_backward, NORM_ROWS, NORM_COLS, NORM_GAMMA, NORM_BETA, NORM_MEAN, NORM_INVSTD,
  NORM_RUNNING_MEAN, NORM_RUNNING_VAR, NORM_DGAMMA, NORM_DBETA, NORM_ACCUMULATE, NORM_EPS, NORM_MOMENTUM, NORM_LEN,
  batchnormForwardTrain, batchnormForwardInfer, batchnormBackward,
  layernormForward, layernormBackward, rmsnormForward, rmsnormBackward,
} from "../../assembly/norm";
import { alloc, fget, fill, fset, randomF32, seedRandom } from "./helpers.include";

seedRandom(31337);
function copyOf(p: usize, n: i32): usize {
  const q = alloc(n);
  memory.copy(q, p, <usize>n * 4);
  return q;
}
function relErr(a: f64, b: f64): f64 { return Math.abs(a - b) / (1 + Math.abs(b)); }

// The references read inputs through val(), which adds `pertDelta` to element pertIdx of buffer pertBuf.
let pertBuf: usize = 0, pertIdx: i32 = -1, pertDelta: f64 = 0;
function val(p: usize, i: i32): f64 {
  const v = <f64>fget(p, i);
  return p == pertBuf && i == pertIdx ? v + pertDelta : v;
}

const BATCH = 0, LAYER = 1, RMS = 2;

/** Σ r⊙y of the f64 reference norm; batch: statistics per column, layer/RMS: per row. */
function refLoss(kind: i32, x: usize, gamma: usize, beta: usize, r: usize, rows: i32, cols: i32, eps: f64): f64 {
  let loss: f64 = 0;
  const outer = kind == BATCH ? cols : rows, inner = kind == BATCH ? rows : cols;
  for (let a = 0; a < outer; a++) {
    let mean: f64 = 0, sq: f64 = 0;
    for (let b = 0; b < inner; b++) mean += val(x, kind == BATCH ? b * cols + a : a * cols + b);
    mean /= inner;
    for (let b = 0; b < inner; b++) {
      const v = val(x, kind == BATCH ? b * cols + a : a * cols + b);
      sq += kind == RMS ? v * v : (v - mean) * (v - mean);
    }
    const inv = 1 / Math.sqrt(sq / inner + eps);
    for (let b = 0; b < inner; b++) {
      const i = kind == BATCH ? b * cols + a : a * cols + b;
      const j = i % cols;
      const y = kind == RMS ? val(x, i) * inv * val(gamma, j) : (val(x, i) - mean) * inv * val(gamma, j) + val(beta, j);
      loss += <f64>fget(r, i) * y;
    }
  }
  return loss;
}

function fd(kind: i32, p: usize, i: i32, x: usize, gamma: usize, beta: usize, r: usize, rows: i32, cols: i32, eps: f64): f64 {
  const h: f64 = 1e-5; // the f64 reference leaves truncation error h² the only one that matters
  pertBuf = p; pertIdx = i;
  pertDelta = h;
  const lp = refLoss(kind, x, gamma, beta, r, rows, cols, eps);
  pertDelta = -h;
  const lm = refLoss(kind, x, gamma, beta, r, rows, cols, eps);
  pertBuf = 0; pertIdx = -1; pertDelta = 0;
  return (lp - lm) / (2 * h);
}

/** Largest error of analytic gradient g (n values of buffer p's gradient) against finite differences. */
function gradErr(kind: i32, g: usize, p: usize, n: i32, x: usize, gamma: usize, beta: usize, r: usize, rows: i32, cols: i32, eps: f64): f64 {
  let e: f64 = 0;
  for (let i = 0; i < n; i++) e = Math.max(e, relErr(fget(g, i), fd(kind, p, i, x, gamma, beta, r, rows, cols, eps)));
  return e;
}

/** Largest error of y against the f64 reference forward, y computed by the kernel. */
function forwardErr(kind: i32, y: usize, x: usize, gamma: usize, beta: usize, rows: i32, cols: i32, eps: f64): f64 {
  // y_i = ∂(Σ r⊙y)/∂r_i: evaluate the reference with r = one-hot would be slow; use the loss with r = e_i instead.
  const r = alloc(rows * cols);
  fill(r, rows * cols, 0);
  let e: f64 = 0;
  for (let i = 0; i < rows * cols; i++) {
    fset(r, i, 1);
    e = Math.max(e, relErr(fget(y, i), refLoss(kind, x, gamma, beta, r, rows, cols, eps)));
    fset(r, i, 0);
  }
  return e;
}

function checkBatchNorm(rows: i32, c: i32): void {
  const eps: f32 = 1e-3, momentum: f32 = 0.9;
  const x = randomF32(rows * c, 0.5, 2), gamma = randomF32(c, 1, 0.5), beta = randomF32(c);
  const y = alloc(rows * c), mean = alloc(c), invstd = alloc(c);
  const rm0 = randomF32(c), rv0 = randomF32(c, 1, 0.5);
  const rm = copyOf(rm0, c), rv = copyOf(rv0, c);
  batchnormForwardTrain(x, y, gamma, beta, mean, invstd, rm, rv, rows, c, momentum, eps);
  expect<bool>(forwardErr(BATCH, y, x, gamma, beta, rows, c, eps) <= 1e-5).toBe(true, "batch norm train forward");

  // saved statistics and the running update with the biased variance
  let eStats: f64 = 0;
  for (let j = 0; j < c; j++) {
    let m: f64 = 0, v: f64 = 0;
    for (let r = 0; r < rows; r++) m += fget(x, r * c + j);
    m /= rows;
    for (let r = 0; r < rows; r++) v += (fget(x, r * c + j) - m) * (fget(x, r * c + j) - m);
    v /= rows;
    eStats = Math.max(eStats, relErr(fget(mean, j), m));
    eStats = Math.max(eStats, relErr(fget(invstd, j), 1 / Math.sqrt(v + eps)));
    eStats = Math.max(eStats, relErr(fget(rm, j), 0.9 * fget(rm0, j) + 0.1 * m));
    eStats = Math.max(eStats, relErr(fget(rv, j), 0.9 * fget(rv0, j) + 0.1 * v));
  }
  expect<bool>(eStats <= 1e-5).toBe(true, "batch mean, invstd, running mean and running (biased) variance");

  // gradients
  const r = randomF32(rows * c), dx = alloc(rows * c), dgamma = alloc(c), dbeta = alloc(c);
  fill(dx, rows * c, 123);
  fill(dgamma, c, 123);
  fill(dbeta, c, 123);
  batchnormBackward(x, r, dx, gamma, dgamma, dbeta, mean, invstd, rows, c, 0);
  expect<bool>(gradErr(BATCH, dx, x, rows * c, x, gamma, beta, r, rows, c, eps) <= 2e-4).toBe(true, "batch norm dx");
  expect<bool>(gradErr(BATCH, dgamma, gamma, c, x, gamma, beta, r, rows, c, eps) <= 2e-4).toBe(true, "batch norm dgamma");
  expect<bool>(gradErr(BATCH, dbeta, beta, c, x, gamma, beta, r, rows, c, eps) <= 2e-4).toBe(true, "batch norm dbeta");

  // accumulate_params = 1 adds the same sums onto what is there; dx is the same
  const g0 = randomF32(c), b0 = randomF32(c);
  const dgammaAcc = copyOf(g0, c), dbetaAcc = copyOf(b0, c), dx2 = alloc(rows * c);
  batchnormBackward(x, r, dx2, gamma, dgammaAcc, dbetaAcc, mean, invstd, rows, c, 1);
  let eAcc: f64 = 0;
  for (let j = 0; j < c; j++) {
    eAcc = Math.max(eAcc, Math.abs(<f64>fget(dgammaAcc, j) - fget(g0, j) - fget(dgamma, j)));
    eAcc = Math.max(eAcc, Math.abs(<f64>fget(dbetaAcc, j) - fget(b0, j) - fget(dbeta, j)));
  }
  for (let i = 0; i < rows * c; i++) eAcc = Math.max(eAcc, Math.abs(<f64>fget(dx2, i) - fget(dx, i)));
  expect<bool>(eAcc <= 1e-5).toBe(true, "batch norm accumulate_params");
}

function checkLayerNorm(rows: i32, cols: i32): void {
  const eps: f32 = 1e-3;
  const x = randomF32(rows * cols, -0.3, 2), gamma = randomF32(cols, 1, 0.5), beta = randomF32(cols);
  const y = alloc(rows * cols), mean = alloc(rows), invstd = alloc(rows);
  layernormForward(x, y, gamma, beta, mean, invstd, rows, cols, eps);
  expect<bool>(forwardErr(LAYER, y, x, gamma, beta, rows, cols, eps) <= 1e-5).toBe(true, "layer norm forward");

  const r = randomF32(rows * cols), dx = alloc(rows * cols), dgamma = alloc(cols), dbeta = alloc(cols);
  fill(dgamma, cols, 123);
  fill(dbeta, cols, 123);
  layernormBackward(x, r, dx, gamma, dgamma, dbeta, mean, invstd, rows, cols, 0);
  expect<bool>(gradErr(LAYER, dx, x, rows * cols, x, gamma, beta, r, rows, cols, eps) <= 2e-4).toBe(true, "layer norm dx");
  expect<bool>(gradErr(LAYER, dgamma, gamma, cols, x, gamma, beta, r, rows, cols, eps) <= 2e-4).toBe(true, "layer norm dgamma");
  expect<bool>(gradErr(LAYER, dbeta, beta, cols, x, gamma, beta, r, rows, cols, eps) <= 2e-4).toBe(true, "layer norm dbeta");

  const g0 = randomF32(cols), b0 = randomF32(cols);
  const dgammaAcc = copyOf(g0, cols), dbetaAcc = copyOf(b0, cols);
  layernormBackward(x, r, dx, gamma, dgammaAcc, dbetaAcc, mean, invstd, rows, cols, 1);
  let eAcc: f64 = 0;
  for (let j = 0; j < cols; j++) {
    eAcc = Math.max(eAcc, Math.abs(<f64>fget(dgammaAcc, j) - fget(g0, j) - fget(dgamma, j)));
    eAcc = Math.max(eAcc, Math.abs(<f64>fget(dbetaAcc, j) - fget(b0, j) - fget(dbeta, j)));
  }
  expect<bool>(eAcc <= 1e-5).toBe(true, "layer norm accumulate_params");

  // dx may share dy's buffer (the runtime does so when it needs no separate dx)
  const inPlace = copyOf(r, rows * cols);
  layernormBackward(x, inPlace, inPlace, gamma, dgammaAcc, dbetaAcc, mean, invstd, rows, cols, 0);
  let same = true;
  for (let i = 0; i < rows * cols; i++) same = same && fget(inPlace, i) == fget(dx, i);
  for (let j = 0; j < cols; j++) same = same && fget(dgammaAcc, j) == fget(dgamma, j) && fget(dbetaAcc, j) == fget(dbeta, j);
  expect<bool>(same).toBe(true, "layer norm backward with dx = dy");
}

function checkRmsNorm(rows: i32, cols: i32): void {
  const eps: f32 = 1e-3;
  const x = randomF32(rows * cols, 0.2, 1.5), gamma = randomF32(cols, 1, 0.5), beta = alloc(cols);
  fill(beta, cols, 0); // unused by RMS norm; the reference reads it only for batch and layer norm
  const y = alloc(rows * cols), invrms = alloc(rows);
  rmsnormForward(x, y, gamma, invrms, rows, cols, eps);
  expect<bool>(forwardErr(RMS, y, x, gamma, beta, rows, cols, eps) <= 1e-5).toBe(true, "rms norm forward");
  let eInv: f64 = 0;
  for (let i = 0; i < rows; i++) {
    let sq: f64 = 0;
    for (let j = 0; j < cols; j++) sq += <f64>fget(x, i * cols + j) * fget(x, i * cols + j);
    eInv = Math.max(eInv, relErr(fget(invrms, i), 1 / Math.sqrt(sq / cols + eps)));
  }
  expect<bool>(eInv <= 1e-5).toBe(true, "rms norm invrms");

  const r = randomF32(rows * cols), dx = alloc(rows * cols), dgamma = alloc(cols);
  fill(dgamma, cols, 123);
  rmsnormBackward(x, r, dx, gamma, dgamma, invrms, rows, cols, 0);
  expect<bool>(gradErr(RMS, dx, x, rows * cols, x, gamma, beta, r, rows, cols, eps) <= 2e-4).toBe(true, "rms norm dx");
  expect<bool>(gradErr(RMS, dgamma, gamma, cols, x, gamma, beta, r, rows, cols, eps) <= 2e-4).toBe(true, "rms norm dgamma");

  const g0 = randomF32(cols), dgammaAcc = copyOf(g0, cols);
  rmsnormBackward(x, r, dx, gamma, dgammaAcc, invrms, rows, cols, 1);
  let eAcc: f64 = 0;
  for (let j = 0; j < cols; j++) eAcc = Math.max(eAcc, Math.abs(<f64>fget(dgammaAcc, j) - fget(g0, j) - fget(dgamma, j)));
  expect<bool>(eAcc <= 1e-5).toBe(true, "rms norm accumulate_params");

  const inPlace = copyOf(r, rows * cols);
  rmsnormBackward(x, inPlace, inPlace, gamma, dgammaAcc, invrms, rows, cols, 0);
  let same = true;
  for (let i = 0; i < rows * cols; i++) same = same && fget(inPlace, i) == fget(dx, i);
  for (let j = 0; j < cols; j++) same = same && fget(dgammaAcc, j) == fget(dgamma, j);
  expect<bool>(same).toBe(true, "rms norm backward with dx = dy");
}

describe("batch norm", () => {
  test("train forward with gamma=1, beta=0: per-channel mean 0 and variance 1", () => {
    const rows = 50, c = 7;
    const x = randomF32(rows * c, 3, 2), y = alloc(rows * c), gamma = alloc(c), beta = alloc(c);
    fill(gamma, c, 1);
    fill(beta, c, 0);
    const mean = alloc(c), invstd = alloc(c), rm = alloc(c), rv = alloc(c);
    fill(rm, c, 0);
    fill(rv, c, 1);
    batchnormForwardTrain(x, y, gamma, beta, mean, invstd, rm, rv, rows, c, 0.99, 1e-5);
    let worstMean: f64 = 0, worstVar: f64 = 0;
    for (let j = 0; j < c; j++) {
      let m: f64 = 0, v: f64 = 0;
      for (let r = 0; r < rows; r++) m += fget(y, r * c + j);
      m /= rows;
      for (let r = 0; r < rows; r++) v += (fget(y, r * c + j) - m) * (fget(y, r * c + j) - m);
      v /= rows;
      worstMean = Math.max(worstMean, Math.abs(m));
      worstVar = Math.max(worstVar, Math.abs(v - 1));
    }
    expect<bool>(worstMean <= 1e-5).toBe(true, "output mean 0");
    expect<bool>(worstVar <= 1e-3).toBe(true, "output variance 1");
    expect<bool>(fget(rm, 0) != 0 && fget(rv, 0) != 1).toBe(true, "running statistics moved");
  });
  test("infer uses the running statistics", () => {
    const rows = 9, c = 6;
    const eps: f32 = 1e-3;
    const x = randomF32(rows * c, 0, 2), gamma = randomF32(c, 1, 0.5), beta = randomF32(c);
    const rm = randomF32(c), rv = randomF32(c, 1, 0.5), y = alloc(rows * c);
    batchnormForwardInfer(x, y, gamma, beta, rm, rv, rows, c, eps);
    let e: f64 = 0;
    for (let i = 0; i < rows * c; i++) {
      const j = i % c;
      const want = (<f64>fget(x, i) - fget(rm, j)) / Math.sqrt(<f64>fget(rv, j) + eps) * fget(gamma, j) + fget(beta, j);
      e = Math.max(e, relErr(fget(y, i), want));
    }
    expect<bool>(e <= 1e-5).toBe(true, "infer against the formula");

    // momentum 0: the running statistics become the batch's, so infer reproduces the training output
    const mean = alloc(c), invstd = alloc(c), yTrain = alloc(rows * c), yInfer = alloc(rows * c);
    batchnormForwardTrain(x, yTrain, gamma, beta, mean, invstd, rm, rv, rows, c, 0, eps);
    batchnormForwardInfer(x, yInfer, gamma, beta, rm, rv, rows, c, eps);
    let d: f64 = 0;
    for (let i = 0; i < rows * c; i++) d = Math.max(d, relErr(fget(yInfer, i), fget(yTrain, i)));
    expect<bool>(d <= 1e-5).toBe(true, "infer with batch statistics equals train");
  });
  test("forward, statistics and gradients, rows x channels 7x5, 12x8, 2x9, 5x13", () => {
    checkBatchNorm(7, 5);
    checkBatchNorm(12, 8);
    checkBatchNorm(2, 9);
    checkBatchNorm(5, 13);
  });
  test("one row: dx = 0, dbeta = dy", () => {
    checkBatchNorm(1, 6);
  });
});

describe("layer norm", () => {
  test("forward and gradients, cols 1, 3, 4, 8, 9, 17", () => {
    checkLayerNorm(3, 1);
    checkLayerNorm(4, 3);
    checkLayerNorm(2, 4);
    checkLayerNorm(3, 8);
    checkLayerNorm(2, 9);
    checkLayerNorm(3, 17);
  });
});

describe("rms norm", () => {
  test("forward and gradients, cols 1, 3, 4, 8, 9, 17", () => {
    checkRmsNorm(3, 1);
    checkRmsNorm(4, 3);
    checkRmsNorm(2, 4);
    checkRmsNorm(3, 8);
    checkRmsNorm(2, 9);
    checkRmsNorm(3, 17);
  });
});

/** Field i of the parameter block at p. */
function set(p: usize, i: i32, v: i32): void {
  store<i32>(p + (<usize>i << 2), v);
}

/** The same bits, n floats at a and b. */
function sameBits(a: usize, b: usize, n: i32): bool {
  for (let i = 0; i < n; i++) if (load<u32>(a + (<usize>i << 2)) != load<u32>(b + (<usize>i << 2))) return false;
  return true;
}

describe("the exported kernels read their arguments from a parameter block", () => {
  test("each gives the bits of its positional function (rows 6, cols 5, accumulating or not)", () => {
    const rows = 6, cols = 5, n = rows * cols;
    const eps: f32 = 1e-3, momentum: f32 = 0.9;
    const x = randomF32(n, 0, 2), dy = randomF32(n), gamma = randomF32(cols, 1, 0.5), beta = randomF32(cols);
    const stats = randomF32(rows), stats2 = randomF32(rows); // per-row mean, invstd (layer, RMS) or per-column (batch)
    const rm = randomF32(cols), rv = randomF32(cols, 1, 0.5), rm2 = copyOf(rm, cols), rv2 = copyOf(rv, cols);
    const y1 = alloc(n), y2 = alloc(n), dx1 = alloc(n), dx2 = alloc(n);
    const dg1 = randomF32(cols), db1 = randomF32(cols), dg2 = copyOf(dg1, cols), db2 = copyOf(db1, cols);
    const p = alloc(NORM_LEN);
    set(p, NORM_ROWS, rows); set(p, NORM_COLS, cols); set(p, NORM_GAMMA, <i32>gamma); set(p, NORM_BETA, <i32>beta);
    set(p, NORM_MEAN, <i32>stats2); set(p, NORM_INVSTD, <i32>alloc(rows)); set(p, NORM_RUNNING_MEAN, <i32>rm2); set(p, NORM_RUNNING_VAR, <i32>rv2);
    set(p, NORM_DGAMMA, <i32>dg2); set(p, NORM_DBETA, <i32>db2); set(p, NORM_ACCUMULATE, 1);
    fset(p, NORM_EPS, eps); fset(p, NORM_MOMENTUM, momentum);
    const mean1 = alloc(rows), invstd1 = alloc(rows);
    memory.copy(stats2, stats, <usize>rows * 4);
    const mean2 = stats2, invstd2 = <usize>load<i32>(p + (<usize>NORM_INVSTD << 2));

    batchnormForwardTrain(x, y1, gamma, beta, mean1, invstd1, rm, rv, rows, cols, momentum, eps);
    batchnorm_forward_train(x, y2, p);
    expect<bool>(sameBits(y1, y2, n) && sameBits(rm, rm2, cols) && sameBits(rv, rv2, cols)).toBe(true, "batch norm train");
    batchnormBackward(x, dy, dx1, gamma, dg1, db1, mean1, invstd1, rows, cols, 1);
    batchnorm_backward(x, dy, dx2, p);
    expect<bool>(sameBits(dx1, dx2, n) && sameBits(dg1, dg2, cols) && sameBits(db1, db2, cols)).toBe(true, "batch norm backward");
    batchnormForwardInfer(x, y1, gamma, beta, rm, rv, rows, cols, eps);
    batchnorm_forward_infer(x, y2, p);
    expect<bool>(sameBits(y1, y2, n)).toBe(true, "batch norm infer");

    set(p, NORM_ACCUMULATE, 0);
    layernormForward(x, y1, gamma, beta, mean1, invstd1, rows, cols, eps);
    layernorm_forward(x, y2, p);
    expect<bool>(sameBits(y1, y2, n) && sameBits(mean1, mean2, rows) && sameBits(invstd1, invstd2, rows)).toBe(true, "layer norm");
    layernormBackward(x, dy, dx1, gamma, dg1, db1, mean1, invstd1, rows, cols, 0);
    layernorm_backward(x, dy, dx2, p);
    expect<bool>(sameBits(dx1, dx2, n) && sameBits(dg1, dg2, cols) && sameBits(db1, db2, cols)).toBe(true, "layer norm backward");
    rmsnormForward(x, y1, gamma, invstd1, rows, cols, eps);
    rmsnorm_forward(x, y2, p);
    expect<bool>(sameBits(y1, y2, n) && sameBits(invstd1, invstd2, rows)).toBe(true, "RMS norm");
    rmsnormBackward(x, dy, dx1, gamma, dg1, invstd1, rows, cols, 0);
    rmsnorm_backward(x, dy, dx2, p);
    expect<bool>(sameBits(dx1, dx2, n) && sameBits(dg1, dg2, cols)).toBe(true, "RMS norm backward");
  });
});
