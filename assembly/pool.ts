// Pooling kernels, channels-last (NHWC) like Keras / TF.js.
//
// The windowed pools take the geometry block documented in geometry.ts: x is (N, H, W, C), y is (N, OH, OW, C),
// KH/KW is the pool size; the dilation fields are not read. Window cells in the padding are skipped: max pooling
// never picks them and average pooling divides by the number of real cells (TF's 'same' pooling). With TF's
// padding rule (pad < pool size) every window holds at least one real cell.
// Channels are the innermost dimension, so the kernels run four channels per v128 and finish the tail scalar.

import {
  GEO_N, GEO_H, GEO_W, GEO_C, GEO_KH, GEO_KW, GEO_STRIDE_H, GEO_STRIDE_W, GEO_PAD_TOP, GEO_PAD_LEFT, GEO_OH, GEO_OW,
} from "./geometry";

import { geoAt, nhwcIndex } from "./geometry";

/** Byte address of 4-byte element `i` of the array at `base`. */
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

@inline function zeroF32(dst: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), f32x4.splat(0));
  for (; i < n; i++) store<f32>(at(dst, i), 0);
}

/** First real input coordinate of output position `o`'s window (stride, padding before 0). */
@inline function windowStart(o: i32, stride: i32, pad: i32): i32 {
  return max(o * stride - pad, 0);
}

/** One past the last real input coordinate of output position `o`'s window of `k` cells, in an axis of `size`. */
@inline function windowEnd(o: i32, stride: i32, pad: i32, k: i32, size: i32): i32 {
  return min(o * stride - pad + k, size);
}

/** What average pooling divides by: the number of real cells of the window [y0, y1) x [x0, x1), 1 if it has none
 *  (an empty window then averages to 0). */
@inline function realCellsDivisor(y0: i32, y1: i32, x0: i32, x1: i32): f32 {
  return max(<f32>(max(y1 - y0, 0) * max(x1 - x0, 0)), 1);
}

/** dx[argmax[i]] += dy[i] for i in [0, count); argmax -1 (a window with no real cell) is skipped, and so is every
 *  i whose y[i] is not > 0 when reluY (y) is not 0. */
@inline function scatterAddAtArgmax(dy: usize, argmax: usize, dx: usize, count: i32, reluY: usize): void {
  for (let i = 0; i < count; i++) {
    const j = load<i32>(at(argmax, i));
    if (j >= 0 && (!reluY || load<f32>(at(reluY, i)) > 0)) store<f32>(at(dx, j), load<f32>(at(dx, j)) + load<f32>(at(dy, i)));
  }
}

/**
 * Max pooling. x is (N, H, W, C); y is (N, OH, OW, C); argmax is i32 (N, OH, OW, C): the flat element index into x
 * of each maximum (the first in row-major window order on ties), -1 for a window with no real cell (y = 0 there).
 * argmax = 0 (inference: no backward pass follows) computes y alone. Four channels of a window's maximum (and its
 * index) stay in registers while the window's cells stream past.
 */
export function maxpool_forward(x: usize, y: usize, argmax: usize, geo: usize): void {
  const N = geoAt(geo, GEO_N), H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W), C = geoAt(geo, GEO_C);
  const KH = geoAt(geo, GEO_KH), KW = geoAt(geo, GEO_KW);
  const sh = geoAt(geo, GEO_STRIDE_H), sw = geoAt(geo, GEO_STRIDE_W);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  // (the size-optimised inference module keeps only the general loop: the same values)
  if (ASC_SHRINK_LEVEL == 0 && isPlainTwoByTwo(geo)) {
    maxpoolTwoByTwo(x, y, argmax, N, H, W, C, OH, OW);
    return;
  }
  let o = 0; // flat index of y[n, oy, ox, 0]
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      const y0 = windowStart(oy, sh, pt), y1 = windowEnd(oy, sh, pt, KH, H);
      for (let ox = 0; ox < OW; ox++, o += C) {
        const x0 = windowStart(ox, sw, pl), x1 = windowEnd(ox, sw, pl, KW, W);
        if (y0 >= y1 || x0 >= x1) {
          zeroF32(at(y, o), C);
          if (argmax) for (let c = 0; c < C; c++) store<i32>(at(argmax, o + c), -1);
        } else if (argmax) {
          maxWindowWithIndex(x, at(y, o), at(argmax, o), nhwcIndex(n, y0, x0, 0, H, W, C), y1 - y0, x1 - x0, W * C, C);
        } else {
          maxWindow(at(x, nhwcIndex(n, y0, x0, 0, H, W, C)), at(y, o), y1 - y0, x1 - x0, W * C, C);
        }
      }
    }
  }
}

/** 2x2 windows with stride 2, no padding, every window inside x ('same' on an odd size has a half window) and whole
 *  vectors of channels: the usual pooling layer, whose windows tile x (a last odd row or column is in no window). */
@inline function isPlainTwoByTwo(geo: usize): bool {
  return geoAt(geo, GEO_KH) == 2 && geoAt(geo, GEO_KW) == 2 && geoAt(geo, GEO_STRIDE_H) == 2 &&
    geoAt(geo, GEO_STRIDE_W) == 2 && geoAt(geo, GEO_PAD_TOP) == 0 && geoAt(geo, GEO_PAD_LEFT) == 0 &&
    (geoAt(geo, GEO_C) & 3) == 0 && geoAt(geo, GEO_OH) == geoAt(geo, GEO_H) >> 1 && geoAt(geo, GEO_OW) == geoAt(geo, GEO_W) >> 1;
}

/** Flat indices, into x (N, H, W, C), of the top-left cell of window ox of the row pair starting at flat index
 *  `first`, channels c/4 .. c/4 + 3 (c in bytes): the cells' indices as maxpoolTwoByTwo stores them in argmax. */
@inline function topLeftIndex(first: i32, ox: i32, C: i32, c: usize): v128 {
  return i32x4.add(i32x4.splat(first + ox * 2 * C + <i32>(c >> 2)), i32x4(0, 1, 2, 3));
}

/**
 * maxpool_forward for isPlainTwoByTwo: the same cells in the same order, ((top left, top right), bottom left),
 * bottom right, first maximum kept, as maxWindow and maxWindowWithIndex; one pointer walk over each pair of rows
 * instead of a window's bounds per output (1.3-1.4x faster at 26x26x8).
 */
function maxpoolTwoByTwo(x: usize, y: usize, argmax: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32): void {
  const cell = <usize>C << 2, rowBytes = <usize>(W * C) << 2;
  let out: usize = 0; // byte offset of y[n, oy, 0, 0] (and of argmax's)
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      const first = nhwcIndex(n, 2 * oy, 0, 0, H, W, C); // flat index of the row pair's first cell
      const top = at(x, first);
      for (let ox = 0; ox < OW; ox++) {
        const a = top + <usize>ox * 2 * cell, b = a + rowBytes;
        const o = out + <usize>ox * cell;
        for (let c: usize = 0; c < cell; c += 16) {
          const v0 = v128.load(a + c), v1 = v128.load(a + cell + c), v2 = v128.load(b + c), v3 = v128.load(b + cell + c);
          if (!argmax) {
            v128.store(y + o + c, f32x4.pmax(f32x4.pmax(f32x4.pmax(v0, v1), v2), v3));
            continue;
          }
          const i0 = topLeftIndex(first, ox, C, c), i1 = i32x4.add(i0, i32x4.splat(C));
          const i2 = i32x4.add(i0, i32x4.splat(W * C)), i3 = i32x4.add(i2, i32x4.splat(C));
          // pmax(best, v) = best < v ? v : best: the value the strict comparison picks, in one instruction
          let idx = v128.bitselect(i1, i0, f32x4.gt(v1, v0));
          let best = f32x4.pmax(v0, v1);
          idx = v128.bitselect(i2, idx, f32x4.gt(v2, best));
          best = f32x4.pmax(best, v2);
          v128.store(argmax + o + c, v128.bitselect(i3, idx, f32x4.gt(v3, best)));
          v128.store(y + o + c, f32x4.pmax(best, v3));
        }
      }
      out += <usize>OW * cell;
    }
  }
}

/** out (C) = the maximum over a window of rows x cols cells starting at `first`, rows `rowLen` floats apart:
 *  starts from the first cell, then pmax(best, cell) (pmax(a, b) = a < b ? b : a: the first maximum stays). */
@inline function maxWindow(first: usize, out: usize, rows: i32, cols: i32, rowLen: i32, C: i32): void {
  const rowBytes = <usize>rowLen << 2, cellBytes = <usize>C << 2;
  const C4 = C & ~3;
  let c = 0;
  if (rows == 2 && cols == 2) {
    // the common 2x2 window unrolled, in the same order: ((a, b), c), d
    for (; c < C4; c += 4) {
      const a = at(first, c), b = a + rowBytes;
      const top = f32x4.pmax(v128.load(a), v128.load(a + cellBytes));
      v128.store(at(out, c), f32x4.pmax(f32x4.pmax(top, v128.load(b)), v128.load(b + cellBytes)));
    }
  }
  for (; c < C4; c += 4) {
    const base = at(first, c);
    let best = v128.load(base);
    for (let r = 0; r < rows; r++) {
      const row = base + <usize>r * rowBytes;
      for (let k = r == 0 ? 1 : 0; k < cols; k++) best = f32x4.pmax(best, v128.load(row + <usize>k * cellBytes));
    }
    v128.store(at(out, c), best);
  }
  for (; c < C; c++) {
    const base = at(first, c);
    let best = load<f32>(base);
    for (let r = 0; r < rows; r++) {
      const row = base + <usize>r * rowBytes;
      for (let k = r == 0 ? 1 : 0; k < cols; k++) {
        const v = load<f32>(row + <usize>k * cellBytes);
        if (best < v) best = v;
      }
    }
    store<f32>(at(out, c), best);
  }
}

/** maxWindow that also writes each maximum's flat index into x (first: the flat index of the window's first cell). */
@inline function maxWindowWithIndex(x: usize, out: usize, outIdx: usize, first: i32, rows: i32, cols: i32, rowLen: i32, C: i32): void {
  const C4 = C & ~3;
  const lanes = i32x4(0, 1, 2, 3);
  let c = 0;
  if (rows == 2 && cols == 2) {
    // the common 2x2 window unrolled, cells in the same order
    for (; c < C4; c += 4) {
      const i0 = first + c, i1 = i0 + C, i2 = i0 + rowLen, i3 = i2 + C;
      let best = v128.load(at(x, i0));
      let bestIdx = i32x4.add(i32x4.splat(i0), lanes);
      let v = v128.load(at(x, i1)), better = f32x4.gt(v, best);
      best = v128.bitselect(v, best, better);
      bestIdx = v128.bitselect(i32x4.add(i32x4.splat(i1), lanes), bestIdx, better);
      v = v128.load(at(x, i2));
      better = f32x4.gt(v, best);
      best = v128.bitselect(v, best, better);
      bestIdx = v128.bitselect(i32x4.add(i32x4.splat(i2), lanes), bestIdx, better);
      v = v128.load(at(x, i3));
      better = f32x4.gt(v, best);
      v128.store(at(out, c), v128.bitselect(v, best, better));
      v128.store(at(outIdx, c), v128.bitselect(i32x4.add(i32x4.splat(i3), lanes), bestIdx, better));
    }
  }
  for (; c < C4; c += 4) {
    let best = v128.load(at(x, first + c));
    let bestIdx = i32x4.add(i32x4.splat(first + c), lanes);
    for (let r = 0; r < rows; r++) {
      for (let k = r == 0 ? 1 : 0; k < cols; k++) {
        const i = first + r * rowLen + k * C + c;
        const v = v128.load(at(x, i));
        const better = f32x4.gt(v, best);
        best = v128.bitselect(v, best, better);
        bestIdx = v128.bitselect(i32x4.add(i32x4.splat(i), lanes), bestIdx, better);
      }
    }
    v128.store(at(out, c), best);
    v128.store(at(outIdx, c), bestIdx);
  }
  for (; c < C; c++) {
    let best = load<f32>(at(x, first + c));
    let bestIdx = first + c;
    for (let r = 0; r < rows; r++) {
      for (let k = r == 0 ? 1 : 0; k < cols; k++) {
        const i = first + r * rowLen + k * C + c;
        const v = load<f32>(at(x, i));
        if (v > best) {
          best = v;
          bestIdx = i;
        }
      }
    }
    store<f32>(at(out, c), best);
    store<i32>(at(outIdx, c), bestIdx);
  }
}

/**
 * Max pooling backward: dx[argmax[i]] += dy[i]. dy and argmax are (N, OH, OW, C); dx is (N, H, W, C): written
 * (accumulate = 0: zeroed first) or accumulated (1). Overlapping windows that share a maximum add.
 * reluY, when not 0, is the pooling's output y, and x was a relu's output: dx is then the gradient of the relu's
 * input, dy passing only where y > 0 (relu's derivative at the maximum, y > 0 ⇔ its input > 0), so that a
 * conv2d_forward_maxpool pair, which never wrote x, needs no relu pass of its own.
 */
export function maxpool_backward(dy: usize, argmax: usize, dx: usize, geo: usize, accumulate: i32, reluY: usize): void {
  const N = geoAt(geo, GEO_N), C = geoAt(geo, GEO_C);
  if (!accumulate && isPlainTwoByTwo(geo)) {
    maxpoolBackwardTwoByTwo(dy, argmax, dx, N, geoAt(geo, GEO_H), geoAt(geo, GEO_W), C, geoAt(geo, GEO_OH), geoAt(geo, GEO_OW), reluY);
    return;
  }
  if (!accumulate) zeroF32(dx, N * geoAt(geo, GEO_H) * geoAt(geo, GEO_W) * C);
  scatterAddAtArgmax(dy, argmax, dx, N * geoAt(geo, GEO_OH) * geoAt(geo, GEO_OW) * C, reluY);
}

/** Average pooling over the real cells of each window. x is (N, H, W, C); y is (N, OH, OW, C), written. */
export function avgpool_forward(x: usize, y: usize, geo: usize): void {
  const N = geoAt(geo, GEO_N), H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W), C = geoAt(geo, GEO_C);
  const KH = geoAt(geo, GEO_KH), KW = geoAt(geo, GEO_KW);
  const sh = geoAt(geo, GEO_STRIDE_H), sw = geoAt(geo, GEO_STRIDE_W);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  const C4 = C & ~3;
  let o = 0;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      const y0 = windowStart(oy, sh, pt), y1 = windowEnd(oy, sh, pt, KH, H);
      for (let ox = 0; ox < OW; ox++) {
        const x0 = windowStart(ox, sw, pl), x1 = windowEnd(ox, sw, pl, KW, W);
        const divisor = realCellsDivisor(y0, y1, x0, x1);
        for (let c = 0; c < C4; c += 4) {
          let sum = f32x4.splat(0);
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) sum = f32x4.add(sum, v128.load(at(x, nhwcIndex(n, iy, ix, c, H, W, C))));
          }
          v128.store(at(y, o + c), f32x4.div(sum, f32x4.splat(divisor)));
        }
        for (let c = C4; c < C; c++) {
          let sum: f32 = 0;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) sum += load<f32>(at(x, nhwcIndex(n, iy, ix, c, H, W, C)));
          }
          store<f32>(at(y, o + c), sum / divisor);
        }
        o += C;
      }
    }
  }
}

/**
 * Average pooling backward: each real cell of a window receives dy / (number of real cells). dy is (N, OH, OW, C);
 * dx is (N, H, W, C): written (accumulate = 0: zeroed first) or accumulated (1). Overlapping windows add.
 */
export function avgpool_backward(dy: usize, dx: usize, geo: usize, accumulate: i32): void {
  const N = geoAt(geo, GEO_N), H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W), C = geoAt(geo, GEO_C);
  const KH = geoAt(geo, GEO_KH), KW = geoAt(geo, GEO_KW);
  const sh = geoAt(geo, GEO_STRIDE_H), sw = geoAt(geo, GEO_STRIDE_W);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  if (!accumulate) zeroF32(dx, N * H * W * C);
  const C4 = C & ~3;
  let o = 0;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      const y0 = windowStart(oy, sh, pt), y1 = windowEnd(oy, sh, pt, KH, H);
      for (let ox = 0; ox < OW; ox++) {
        const x0 = windowStart(ox, sw, pl), x1 = windowEnd(ox, sw, pl, KW, W);
        const divisor = realCellsDivisor(y0, y1, x0, x1);
        for (let c = 0; c < C4; c += 4) {
          const g = f32x4.div(v128.load(at(dy, o + c)), f32x4.splat(divisor));
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const p = at(dx, nhwcIndex(n, iy, ix, c, H, W, C));
              v128.store(p, f32x4.add(v128.load(p), g));
            }
          }
        }
        for (let c = C4; c < C; c++) {
          const g = load<f32>(at(dy, o + c)) / divisor;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const p = at(dx, nhwcIndex(n, iy, ix, c, H, W, C));
              store<f32>(p, load<f32>(p) + g);
            }
          }
        }
        o += C;
      }
    }
  }
}

/** Global average pooling. x is (n, hw, c) (hw = H·W); y is (n, c), written: the mean over hw. */
export function global_avgpool_forward(x: usize, y: usize, n: i32, hw: i32, c: i32): void {
  const c4 = c & ~3;
  const divisor = <f32>max(hw, 1);
  for (let s = 0; s < n; s++) {
    const xs = at(x, s * hw * c), ys = at(y, s * c);
    for (let j = 0; j < c4; j += 4) {
      let sum = f32x4.splat(0);
      for (let p = 0; p < hw; p++) sum = f32x4.add(sum, v128.load(at(xs, p * c + j)));
      v128.store(at(ys, j), f32x4.div(sum, f32x4.splat(divisor)));
    }
    for (let j = c4; j < c; j++) {
      let sum: f32 = 0;
      for (let p = 0; p < hw; p++) sum += load<f32>(at(xs, p * c + j));
      store<f32>(at(ys, j), sum / divisor);
    }
  }
}

/** Global average pooling backward. dy is (n, c); dx is (n, hw, c), written: dx[s, p, j] = dy[s, j] / hw. */
export function global_avgpool_backward(dy: usize, dx: usize, n: i32, hw: i32, c: i32): void {
  const c4 = c & ~3;
  const divisor = <f32>max(hw, 1);
  for (let s = 0; s < n; s++) {
    const gs = at(dy, s * c), dxs = at(dx, s * hw * c);
    for (let j = 0; j < c4; j += 4) {
      const g = f32x4.div(v128.load(at(gs, j)), f32x4.splat(divisor));
      for (let p = 0; p < hw; p++) v128.store(at(dxs, p * c + j), g);
    }
    for (let j = c4; j < c; j++) {
      const g = load<f32>(at(gs, j)) / divisor;
      for (let p = 0; p < hw; p++) store<f32>(at(dxs, p * c + j), g);
    }
  }
}

/**
 * Global max pooling. x is (n, hw, c); y is (n, c), written; argmax is i32 (n, c): the flat element index into x of
 * each maximum (the first on ties). hw must be >= 1.
 */
export function global_maxpool_forward(x: usize, y: usize, argmax: usize, n: i32, hw: i32, c: i32): void {
  const c4 = c & ~3;
  const lanes = i32x4(0, 1, 2, 3);
  for (let s = 0; s < n; s++) {
    const first = s * hw * c;
    for (let j = 0; j < c4; j += 4) {
      let best = v128.load(at(x, first + j));
      let bestIdx = i32x4.add(i32x4.splat(first + j), lanes);
      for (let p = 1; p < hw; p++) {
        const i = first + p * c + j;
        const v = v128.load(at(x, i));
        const better = f32x4.gt(v, best);
        best = v128.bitselect(v, best, better);
        bestIdx = v128.bitselect(i32x4.add(i32x4.splat(i), lanes), bestIdx, better);
      }
      v128.store(at(y, s * c + j), best);
      v128.store(at(argmax, s * c + j), bestIdx);
    }
    for (let j = c4; j < c; j++) {
      let best = load<f32>(at(x, first + j));
      let bestIdx = first + j;
      for (let p = 1; p < hw; p++) {
        const i = first + p * c + j;
        const v = load<f32>(at(x, i));
        if (v > best) {
          best = v;
          bestIdx = i;
        }
      }
      store<f32>(at(y, s * c + j), best);
      store<i32>(at(argmax, s * c + j), bestIdx);
    }
  }
}

/** Global max pooling backward. dy and argmax are (n, c); dx is (n, hw, c), written: zeroed, then dy scattered. */
export function global_maxpool_backward(dy: usize, argmax: usize, dx: usize, n: i32, hw: i32, c: i32): void {
  zeroF32(dx, n * hw * c);
  scatterAddAtArgmax(dy, argmax, dx, n * c, 0); // hw >= 1: no -1 entries here
}

/**
 * maxpool_backward (written, not accumulated) for isPlainTwoByTwo: the windows do not overlap, so each cell of dx is
 * dy where the argmax names it and 0 elsewhere: written once, four lanes at a time, with no zeroing pass and no
 * scatter. The last row and column of an odd-sized x are in no window: 0.
 */
function maxpoolBackwardTwoByTwo(dy: usize, argmax: usize, dx: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, reluY: usize): void {
  const cell = <usize>C << 2, rowBytes = <usize>(W * C) << 2;
  let g: usize = 0; // byte offset of dy[n, oy, 0, 0] (and of argmax's)
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      const first = nhwcIndex(n, 2 * oy, 0, 0, H, W, C);
      const top = at(dx, first);
      for (let ox = 0; ox < OW; ox++) {
        const a = top + <usize>ox * 2 * cell, b = a + rowBytes;
        const o = g + <usize>ox * cell;
        for (let c: usize = 0; c < cell; c += 16) {
          let d = v128.load(dy + o + c);
          if (reluY) d = v128.and(d, f32x4.gt(v128.load(reluY + o + c), f32x4.splat(0)));
          const idx = v128.load(argmax + o + c);
          const i0 = topLeftIndex(first, ox, C, c), i1 = i32x4.add(i0, i32x4.splat(C));
          const i2 = i32x4.add(i0, i32x4.splat(W * C)), i3 = i32x4.add(i2, i32x4.splat(C));
          v128.store(a + c, v128.and(d, i32x4.eq(idx, i0)));
          v128.store(a + cell + c, v128.and(d, i32x4.eq(idx, i1)));
          v128.store(b + c, v128.and(d, i32x4.eq(idx, i2)));
          v128.store(b + cell + c, v128.and(d, i32x4.eq(idx, i3)));
        }
      }
      if (W & 1) zeroF32(top + <usize>(2 * OW) * cell, C);
      if (W & 1) zeroF32(top + rowBytes + <usize>(2 * OW) * cell, C);
      g += <usize>OW * cell;
    }
    if (H & 1) zeroF32(at(dx, nhwcIndex(n, H - 1, 0, 0, H, W, C)), W * C);
  }
}
