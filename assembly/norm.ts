// Normalisation kernels. x is viewed as a (rows, cols) row-major matrix:
//   batch norm   rows = N·H·W (or N), cols = C channels; statistics per column (channel), over all rows.
//   layer / RMS  rows = samples, cols = features; statistics per row.
// Variances are biased (divide by the count) and computed in two passes (mean first, then squared deviations).
// invstd = 1 / sqrt(var + eps) is saved by the forward pass for the backward pass.
// Columns run four per v128 with a scalar tail; per-row sums keep four lane partial sums, added in a fixed order,
// so results do not depend on the engine.
// The module exports each kernel as a call over a parameter block (NORM_* below, written by
// ts/layers/normalization.ts before each call, as the conv kernels read their geometry block); the functions with
// positional arguments are what those read it into, and what the specs call.

/** Fields of a normalisation parameter block (i32 each; EPS and MOMENTUM hold f32 bits): the pointers are byte
 *  addresses of (cols) arrays, ROWS and COLS the (rows, cols) view of x. */
export const NORM_ROWS = 0;
export const NORM_COLS = 1;
export const NORM_GAMMA = 2; // RMS norm: its scale
export const NORM_BETA = 3;
export const NORM_MEAN = 4; // batch norm: (cols) of this batch; layer norm: (rows)
export const NORM_INVSTD = 5; // RMS norm: 1/rms, (rows)
export const NORM_RUNNING_MEAN = 6;
export const NORM_RUNNING_VAR = 7;
export const NORM_DGAMMA = 8;
export const NORM_DBETA = 9;
export const NORM_ACCUMULATE = 10; // backward: 1 adds into dgamma and dbeta, 0 writes them
export const NORM_EPS = 11;
export const NORM_MOMENTUM = 12;
export const NORM_LEN = 13;

/** Byte address of f32 element `i` of the array at `base`. */
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

@inline function zeroF32(dst: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), f32x4.splat(0));
  for (; i < n; i++) store<f32>(at(dst, i), 0);
}

/** dst[j] += Σ_r src[r, j]: the column sums of a (rows, c) matrix added into dst (c). */
/** Starts the parameter gradients of a backward pass: zeroes dgamma and dbeta (n each) unless accumulating. */
@inline function clearParamGradsUnlessAccumulating(dgamma: usize, dbeta: usize, n: i32, accumulate: i32): void {
  if (!accumulate) {
    zeroF32(dgamma, n);
    zeroF32(dbeta, n);
  }
}

@inline function addColumnSums(src: usize, dst: usize, rows: i32, c: i32): void {
  const c4 = c & ~3;
  for (let r = 0; r < rows; r++) {
    const s = at(src, r * c);
    let j = 0;
    for (; j < c4; j += 4) v128.store(at(dst, j), f32x4.add(v128.load(at(dst, j)), v128.load(at(s, j))));
    for (; j < c; j++) store<f32>(at(dst, j), load<f32>(at(dst, j)) + load<f32>(at(s, j)));
  }
}

/** y = (x - mean)·invstd·gamma + beta for a (rows, c) matrix with per-column mean, invstd, gamma, beta. */
@inline function normalizeColumns(x: usize, y: usize, gamma: usize, beta: usize, mean: usize, invstd: usize, rows: i32, c: i32): void {
  const c4 = c & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * c), yr = at(y, r * c);
    let j = 0;
    for (; j < c4; j += 4) {
      const xhat = f32x4.mul(f32x4.sub(v128.load(at(xr, j)), v128.load(at(mean, j))), v128.load(at(invstd, j)));
      v128.store(at(yr, j), f32x4.add(f32x4.mul(xhat, v128.load(at(gamma, j))), v128.load(at(beta, j))));
    }
    for (; j < c; j++) {
      const xhat = (load<f32>(at(xr, j)) - load<f32>(at(mean, j))) * load<f32>(at(invstd, j));
      store<f32>(at(yr, j), xhat * load<f32>(at(gamma, j)) + load<f32>(at(beta, j)));
    }
  }
}

/**
 * Batch norm, training. x and y are (rows, c); gamma, beta, mean, invstd, running_mean, running_var are (c).
 * Writes y, the batch mean and invstd = 1/sqrt(var + eps) (biased batch variance), and updates the running statistics
 * as Keras and TF.js do: running = momentum·running + (1 - momentum)·batch, with the biased batch variance.
 */
export function batchnormForwardTrain(
  x: usize, y: usize, gamma: usize, beta: usize, mean: usize, invstd: usize,
  running_mean: usize, running_var: usize, rows: i32, c: i32, momentum: f32, eps: f32,
): void {
  const c4 = c & ~3;
  const invRows: f32 = 1 / <f32>max(rows, 1);
  // Pass 1: mean. Pass 2: variance, accumulated in invstd.
  zeroF32(mean, c);
  addColumnSums(x, mean, rows, c);
  for (let j = 0; j < c; j++) store<f32>(at(mean, j), load<f32>(at(mean, j)) * invRows);
  zeroF32(invstd, c);
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * c);
    let j = 0;
    for (; j < c4; j += 4) {
      const d = f32x4.sub(v128.load(at(xr, j)), v128.load(at(mean, j)));
      v128.store(at(invstd, j), f32x4.add(v128.load(at(invstd, j)), f32x4.mul(d, d)));
    }
    for (; j < c; j++) {
      const d = load<f32>(at(xr, j)) - load<f32>(at(mean, j));
      store<f32>(at(invstd, j), load<f32>(at(invstd, j)) + d * d);
    }
  }
  const keep = momentum, take: f32 = 1 - momentum;
  for (let j = 0; j < c; j++) {
    const m = load<f32>(at(mean, j));
    const v = load<f32>(at(invstd, j)) * invRows;
    store<f32>(at(running_mean, j), keep * load<f32>(at(running_mean, j)) + take * m);
    store<f32>(at(running_var, j), keep * load<f32>(at(running_var, j)) + take * v);
    store<f32>(at(invstd, j), 1 / Mathf.sqrt(v + eps));
  }
  normalizeColumns(x, y, gamma, beta, mean, invstd, rows, c);
}

/**
 * Batch norm, inference: y = (x - running_mean) / sqrt(running_var + eps)·gamma + beta. x and y are (rows, c); the
 * rest are (c). 1/sqrt is recomputed per element (f32x4.sqrt) because kernels have no scratch for c values.
 */
export function batchnormForwardInfer(
  x: usize, y: usize, gamma: usize, beta: usize, running_mean: usize, running_var: usize, rows: i32, c: i32, eps: f32,
): void {
  const c4 = c & ~3;
  const one = f32x4.splat(1), e = f32x4.splat(eps);
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * c), yr = at(y, r * c);
    let j = 0;
    for (; j < c4; j += 4) {
      const inv = f32x4.div(one, f32x4.sqrt(f32x4.add(v128.load(at(running_var, j)), e)));
      const xhat = f32x4.mul(f32x4.sub(v128.load(at(xr, j)), v128.load(at(running_mean, j))), inv);
      v128.store(at(yr, j), f32x4.add(f32x4.mul(xhat, v128.load(at(gamma, j))), v128.load(at(beta, j))));
    }
    for (; j < c; j++) {
      const inv: f32 = 1 / Mathf.sqrt(load<f32>(at(running_var, j)) + eps);
      const xhat = (load<f32>(at(xr, j)) - load<f32>(at(running_mean, j))) * inv;
      store<f32>(at(yr, j), xhat * load<f32>(at(gamma, j)) + load<f32>(at(beta, j)));
    }
  }
}

/**
 * Batch norm backward (training statistics). x, dy, dx are (rows, c); gamma, dgamma, dbeta, mean, invstd are (c).
 *   dbeta = Σ_rows dy,  dgamma = Σ_rows dy·xhat,  dx = gamma·invstd·(dy - dbeta/rows - xhat·dgamma/rows)
 * with xhat = (x - mean)·invstd and the sums over this batch only. dx is written; dgamma and dbeta are written
 * (accumulate_params = 0) or accumulated (1). Rows 0 and 1 of dx hold the two batch sums until dx is written
 * (the kernel has no other scratch), so dx must not alias x or dy.
 */
export function batchnormBackward(
  x: usize, dy: usize, dx: usize, gamma: usize, dgamma: usize, dbeta: usize, mean: usize, invstd: usize,
  rows: i32, c: i32, accumulate_params: i32,
): void {
  clearParamGradsUnlessAccumulating(dgamma, dbeta, c, accumulate_params);
  if (rows < 2) { // one row: xhat = 0 and dx = gamma·invstd·(dy - dy) = 0
    if (rows == 1) addColumnSums(dy, dbeta, 1, c);
    zeroF32(dx, rows * c);
    return;
  }
  const c4 = c & ~3;
  const sumDy = dx, sumDyXhat = at(dx, c); // scratch: rows 0 and 1 of dx
  zeroF32(sumDy, 2 * c);
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * c), gr = at(dy, r * c);
    let j = 0;
    for (; j < c4; j += 4) {
      const g = v128.load(at(gr, j));
      const xhat = f32x4.mul(f32x4.sub(v128.load(at(xr, j)), v128.load(at(mean, j))), v128.load(at(invstd, j)));
      v128.store(at(sumDy, j), f32x4.add(v128.load(at(sumDy, j)), g));
      v128.store(at(sumDyXhat, j), f32x4.add(v128.load(at(sumDyXhat, j)), f32x4.mul(g, xhat)));
    }
    for (; j < c; j++) {
      const g = load<f32>(at(gr, j));
      const xhat = (load<f32>(at(xr, j)) - load<f32>(at(mean, j))) * load<f32>(at(invstd, j));
      store<f32>(at(sumDy, j), load<f32>(at(sumDy, j)) + g);
      store<f32>(at(sumDyXhat, j), load<f32>(at(sumDyXhat, j)) + g * xhat);
    }
  }
  addColumnSums(sumDy, dbeta, 1, c);
  addColumnSums(sumDyXhat, dgamma, 1, c);
  // Rows 2.. read the sums from rows 0 and 1; then rows 0 and 1 are computed together, a column block at a time,
  // so each block's sums are read before either row overwrites them.
  const invRows: f32 = 1 / <f32>rows;
  for (let r = 2; r < rows; r++) {
    let j = 0;
    for (; j < c4; j += 4) v128.store(at(dx, r * c + j), bnDx4(x, dy, gamma, mean, invstd, sumDy, sumDyXhat, invRows, r * c, j));
    for (; j < c; j++) store<f32>(at(dx, r * c + j), bnDx1(x, dy, gamma, mean, invstd, sumDy, sumDyXhat, invRows, r * c, j));
  }
  let j = 0;
  for (; j < c4; j += 4) {
    const row0 = bnDx4(x, dy, gamma, mean, invstd, sumDy, sumDyXhat, invRows, 0, j);
    const row1 = bnDx4(x, dy, gamma, mean, invstd, sumDy, sumDyXhat, invRows, c, j);
    v128.store(at(dx, j), row0);
    v128.store(at(dx, c + j), row1);
  }
  for (; j < c; j++) {
    const row0 = bnDx1(x, dy, gamma, mean, invstd, sumDy, sumDyXhat, invRows, 0, j);
    const row1 = bnDx1(x, dy, gamma, mean, invstd, sumDy, sumDyXhat, invRows, c, j);
    store<f32>(at(dx, j), row0);
    store<f32>(at(dx, c + j), row1);
  }
}

/** Batch norm dx at x[i + j .. i + j + 3]: gamma·invstd·(dy - sumDy/rows - xhat·sumDyXhat/rows), channels j.. j+3. */
@inline function bnDx4(
  x: usize, dy: usize, gamma: usize, mean: usize, invstd: usize, sumDy: usize, sumDyXhat: usize, invRows: f32, i: i32, j: i32,
): v128 {
  const inv = v128.load(at(invstd, j)), n = f32x4.splat(invRows);
  const xhat = f32x4.mul(f32x4.sub(v128.load(at(x, i + j)), v128.load(at(mean, j))), inv);
  const centered = f32x4.sub(v128.load(at(dy, i + j)), f32x4.mul(v128.load(at(sumDy, j)), n));
  const projected = f32x4.mul(xhat, f32x4.mul(v128.load(at(sumDyXhat, j)), n));
  return f32x4.mul(f32x4.mul(v128.load(at(gamma, j)), inv), f32x4.sub(centered, projected));
}

/** bnDx4 for the single channel j. */
@inline function bnDx1(
  x: usize, dy: usize, gamma: usize, mean: usize, invstd: usize, sumDy: usize, sumDyXhat: usize, invRows: f32, i: i32, j: i32,
): f32 {
  const inv = load<f32>(at(invstd, j));
  const xhat = (load<f32>(at(x, i + j)) - load<f32>(at(mean, j))) * inv;
  const centered = load<f32>(at(dy, i + j)) - load<f32>(at(sumDy, j)) * invRows;
  const projected = xhat * (load<f32>(at(sumDyXhat, j)) * invRows);
  return (load<f32>(at(gamma, j)) * inv) * (centered - projected);
}

/**
 * Layer norm over each row. x and y are (rows, cols); gamma and beta are (cols); mean and invstd are (rows), written
 * with y: y = (x - mean)·invstd·gamma + beta.
 */
export function layernormForward(
  x: usize, y: usize, gamma: usize, beta: usize, mean: usize, invstd: usize, rows: i32, cols: i32, eps: f32,
): void {
  const c4 = cols & ~3;
  const invCols: f32 = 1 / <f32>max(cols, 1);
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * cols), yr = at(y, r * cols);
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j < c4; j += 4) acc = f32x4.add(acc, v128.load(at(xr, j)));
    let sum = hsum(acc);
    for (; j < cols; j++) sum += load<f32>(at(xr, j));
    const m = sum * invCols;
    const mv = f32x4.splat(m);
    acc = f32x4.splat(0);
    for (j = 0; j < c4; j += 4) {
      const d = f32x4.sub(v128.load(at(xr, j)), mv);
      acc = f32x4.add(acc, f32x4.mul(d, d));
    }
    let sq = hsum(acc);
    for (; j < cols; j++) {
      const d = load<f32>(at(xr, j)) - m;
      sq += d * d;
    }
    const inv: f32 = 1 / Mathf.sqrt(sq * invCols + eps);
    store<f32>(at(mean, r), m);
    store<f32>(at(invstd, r), inv);
    const iv = f32x4.splat(inv);
    for (j = 0; j < c4; j += 4) {
      const xhat = f32x4.mul(f32x4.sub(v128.load(at(xr, j)), mv), iv);
      v128.store(at(yr, j), f32x4.add(f32x4.mul(xhat, v128.load(at(gamma, j))), v128.load(at(beta, j))));
    }
    for (; j < cols; j++) {
      store<f32>(at(yr, j), (load<f32>(at(xr, j)) - m) * inv * load<f32>(at(gamma, j)) + load<f32>(at(beta, j)));
    }
  }
}

/**
 * Layer norm backward. x, dy, dx are (rows, cols); gamma, dgamma, dbeta are (cols); mean, invstd are (rows).
 * With g = dy·gamma and xhat = (x - mean)·invstd, per row: dx = invstd·(g - mean(g) - xhat·mean(g·xhat)).
 * dgamma = Σ_rows dy·xhat, dbeta = Σ_rows dy. dx is written; dgamma and dbeta are written (accumulate_params = 0)
 * or accumulated (1). dx may be dy's buffer (each element is read before it is written).
 */
export function layernormBackward(
  x: usize, dy: usize, dx: usize, gamma: usize, dgamma: usize, dbeta: usize, mean: usize, invstd: usize,
  rows: i32, cols: i32, accumulate_params: i32,
): void {
  clearParamGradsUnlessAccumulating(dgamma, dbeta, cols, accumulate_params);
  const c4 = cols & ~3;
  const invCols: f32 = 1 / <f32>max(cols, 1);
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * cols), gr = at(dy, r * cols), dxr = at(dx, r * cols);
    const m = load<f32>(at(mean, r)), inv = load<f32>(at(invstd, r));
    const mv = f32x4.splat(m), iv = f32x4.splat(inv);
    // Row sums of g and g·xhat, and the parameter gradients, in one sweep.
    let accG = f32x4.splat(0), accGX = f32x4.splat(0);
    let j = 0;
    for (; j < c4; j += 4) {
      const d = v128.load(at(gr, j));
      const xhat = f32x4.mul(f32x4.sub(v128.load(at(xr, j)), mv), iv);
      const g = f32x4.mul(d, v128.load(at(gamma, j)));
      accG = f32x4.add(accG, g);
      accGX = f32x4.add(accGX, f32x4.mul(g, xhat));
      v128.store(at(dbeta, j), f32x4.add(v128.load(at(dbeta, j)), d));
      v128.store(at(dgamma, j), f32x4.add(v128.load(at(dgamma, j)), f32x4.mul(d, xhat)));
    }
    let sumG = hsum(accG), sumGX = hsum(accGX);
    for (; j < cols; j++) {
      const d = load<f32>(at(gr, j));
      const xhat = (load<f32>(at(xr, j)) - m) * inv;
      const g = d * load<f32>(at(gamma, j));
      sumG += g;
      sumGX += g * xhat;
      store<f32>(at(dbeta, j), load<f32>(at(dbeta, j)) + d);
      store<f32>(at(dgamma, j), load<f32>(at(dgamma, j)) + d * xhat);
    }
    const mG = sumG * invCols, mGX = sumGX * invCols;
    const mGv = f32x4.splat(mG), mGXv = f32x4.splat(mGX);
    for (j = 0; j < c4; j += 4) {
      const xhat = f32x4.mul(f32x4.sub(v128.load(at(xr, j)), mv), iv);
      const g = f32x4.mul(v128.load(at(gr, j)), v128.load(at(gamma, j)));
      v128.store(at(dxr, j), f32x4.mul(iv, f32x4.sub(f32x4.sub(g, mGv), f32x4.mul(xhat, mGXv))));
    }
    for (; j < cols; j++) {
      const xhat = (load<f32>(at(xr, j)) - m) * inv;
      const g = load<f32>(at(gr, j)) * load<f32>(at(gamma, j));
      store<f32>(at(dxr, j), inv * (g - mG - xhat * mGX));
    }
  }
}

/**
 * RMS norm over each row. x and y are (rows, cols); gamma is (cols); invrms is (rows), written with y:
 * invrms = 1/sqrt(mean(x²) + eps), y = x·invrms·gamma.
 */
export function rmsnormForward(x: usize, y: usize, gamma: usize, invrms: usize, rows: i32, cols: i32, eps: f32): void {
  const c4 = cols & ~3;
  const invCols: f32 = 1 / <f32>max(cols, 1);
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * cols), yr = at(y, r * cols);
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j < c4; j += 4) {
      const v = v128.load(at(xr, j));
      acc = f32x4.add(acc, f32x4.mul(v, v));
    }
    let sq = hsum(acc);
    for (; j < cols; j++) {
      const v = load<f32>(at(xr, j));
      sq += v * v;
    }
    const inv: f32 = 1 / Mathf.sqrt(sq * invCols + eps);
    store<f32>(at(invrms, r), inv);
    const iv = f32x4.splat(inv);
    for (j = 0; j < c4; j += 4) {
      v128.store(at(yr, j), f32x4.mul(f32x4.mul(v128.load(at(xr, j)), iv), v128.load(at(gamma, j))));
    }
    for (; j < cols; j++) store<f32>(at(yr, j), load<f32>(at(xr, j)) * inv * load<f32>(at(gamma, j)));
  }
}

/**
 * RMS norm backward. x, dy, dx are (rows, cols); gamma, dgamma are (cols); invrms is (rows).
 * With g = dy·gamma and xhat = x·invrms, per row: dx = invrms·(g - xhat·mean(g·xhat)); dgamma = Σ_rows dy·xhat.
 * dx is written; dgamma is written (accumulate_params = 0) or accumulated (1). dx may be dy's buffer.
 */
export function rmsnormBackward(
  x: usize, dy: usize, dx: usize, gamma: usize, dgamma: usize, invrms: usize, rows: i32, cols: i32, accumulate_params: i32,
): void {
  if (!accumulate_params) zeroF32(dgamma, cols);
  const c4 = cols & ~3;
  const invCols: f32 = 1 / <f32>max(cols, 1);
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * cols), gr = at(dy, r * cols), dxr = at(dx, r * cols);
    const inv = load<f32>(at(invrms, r));
    const iv = f32x4.splat(inv);
    let accGX = f32x4.splat(0);
    let j = 0;
    for (; j < c4; j += 4) {
      const d = v128.load(at(gr, j));
      const xhat = f32x4.mul(v128.load(at(xr, j)), iv);
      accGX = f32x4.add(accGX, f32x4.mul(f32x4.mul(d, v128.load(at(gamma, j))), xhat));
      v128.store(at(dgamma, j), f32x4.add(v128.load(at(dgamma, j)), f32x4.mul(d, xhat)));
    }
    let sumGX = hsum(accGX);
    for (; j < cols; j++) {
      const d = load<f32>(at(gr, j));
      const xhat = load<f32>(at(xr, j)) * inv;
      sumGX += d * load<f32>(at(gamma, j)) * xhat;
      store<f32>(at(dgamma, j), load<f32>(at(dgamma, j)) + d * xhat);
    }
    const mGXv = f32x4.splat(sumGX * invCols), mGX = sumGX * invCols;
    for (j = 0; j < c4; j += 4) {
      const xhat = f32x4.mul(v128.load(at(xr, j)), iv);
      const g = f32x4.mul(v128.load(at(gr, j)), v128.load(at(gamma, j)));
      v128.store(at(dxr, j), f32x4.mul(iv, f32x4.sub(g, f32x4.mul(xhat, mGXv))));
    }
    for (; j < cols; j++) {
      const xhat = load<f32>(at(xr, j)) * inv;
      const g = load<f32>(at(gr, j)) * load<f32>(at(gamma, j));
      store<f32>(at(dxr, j), inv * (g - xhat * mGX));
    }
  }
}

// ------------------------------------------------------------------------------------------ the module's exports

@inline function field(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}
@inline function ptr(p: usize, i: i32): usize {
  return <usize>field(p, i);
}
@inline function real(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

/** Batch norm, training (batchnormForwardTrain), over the block p: x, y (rows, cols). */
export function batchnorm_forward_train(x: usize, y: usize, p: usize): void {
  batchnormForwardTrain(x, y, ptr(p, NORM_GAMMA), ptr(p, NORM_BETA), ptr(p, NORM_MEAN), ptr(p, NORM_INVSTD),
    ptr(p, NORM_RUNNING_MEAN), ptr(p, NORM_RUNNING_VAR), field(p, NORM_ROWS), field(p, NORM_COLS), real(p, NORM_MOMENTUM), real(p, NORM_EPS));
}

/** Batch norm, inference (batchnormForwardInfer), over the block p: x, y (rows, cols). */
export function batchnorm_forward_infer(x: usize, y: usize, p: usize): void {
  batchnormForwardInfer(x, y, ptr(p, NORM_GAMMA), ptr(p, NORM_BETA), ptr(p, NORM_RUNNING_MEAN), ptr(p, NORM_RUNNING_VAR),
    field(p, NORM_ROWS), field(p, NORM_COLS), real(p, NORM_EPS));
}

/** Batch norm backward (batchnormBackward), over the block p: x, dy, dx (rows, cols). */
export function batchnorm_backward(x: usize, dy: usize, dx: usize, p: usize): void {
  batchnormBackward(x, dy, dx, ptr(p, NORM_GAMMA), ptr(p, NORM_DGAMMA), ptr(p, NORM_DBETA), ptr(p, NORM_MEAN), ptr(p, NORM_INVSTD),
    field(p, NORM_ROWS), field(p, NORM_COLS), field(p, NORM_ACCUMULATE));
}

/** Layer norm (layernormForward), over the block p: x, y (rows, cols). */
export function layernorm_forward(x: usize, y: usize, p: usize): void {
  layernormForward(x, y, ptr(p, NORM_GAMMA), ptr(p, NORM_BETA), ptr(p, NORM_MEAN), ptr(p, NORM_INVSTD),
    field(p, NORM_ROWS), field(p, NORM_COLS), real(p, NORM_EPS));
}

/** Layer norm backward (layernormBackward), over the block p: x, dy, dx (rows, cols). */
export function layernorm_backward(x: usize, dy: usize, dx: usize, p: usize): void {
  layernormBackward(x, dy, dx, ptr(p, NORM_GAMMA), ptr(p, NORM_DGAMMA), ptr(p, NORM_DBETA), ptr(p, NORM_MEAN), ptr(p, NORM_INVSTD),
    field(p, NORM_ROWS), field(p, NORM_COLS), field(p, NORM_ACCUMULATE));
}

/** RMS norm (rmsnormForward), over the block p: x, y (rows, cols). */
export function rmsnorm_forward(x: usize, y: usize, p: usize): void {
  rmsnormForward(x, y, ptr(p, NORM_GAMMA), ptr(p, NORM_INVSTD), field(p, NORM_ROWS), field(p, NORM_COLS), real(p, NORM_EPS));
}

/** RMS norm backward (rmsnormBackward), over the block p: x, dy, dx (rows, cols). */
export function rmsnorm_backward(x: usize, dy: usize, dx: usize, p: usize): void {
  rmsnormBackward(x, dy, dx, ptr(p, NORM_GAMMA), ptr(p, NORM_DGAMMA), ptr(p, NORM_INVSTD), field(p, NORM_ROWS), field(p, NORM_COLS),
    field(p, NORM_ACCUMULATE));
}
