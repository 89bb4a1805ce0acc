// The direct convolution forward, without the im2col matrix (conv.ts says when the runtime picks it), and the same
// loop fused with 2x2 max pooling for the conv → pool pair. Geometry block and shapes: geometry.ts.

import {
  GEO_N, GEO_H, GEO_W, GEO_C, GEO_KH, GEO_KW, GEO_STRIDE_H, GEO_STRIDE_W, GEO_PAD_TOP, GEO_PAD_LEFT,
  GEO_DILATION_H, GEO_DILATION_W, GEO_OH, GEO_OW, geoAt, nhwcIndex, at, firstTapInside, endTapInside,
} from "./geometry";

/** y-block finish: acc + bias[f..f+4) (when there is a bias), then max(·, 0) when relu (pmax, as act_forward). */
@inline function finish4(acc: v128, bias: usize, f: i32, relu: i32): v128 {
  const v = bias ? f32x4.add(acc, v128.load(at(bias, f))) : acc;
  return relu ? f32x4.pmax(v, f32x4.splat(0)) : v;
}

@inline function finish1(acc: f32, bias: usize, f: i32, relu: i32): f32 {
  const v = bias ? acc + load<f32>(at(bias, f)) : acc;
  return relu && v < 0 ? 0 : v;
}

/**
 * Convolution forward, output-stationary: x is (N, H, W, C); w is [KH, KW, C, F]; bias is (F) or 0 for none; y is
 * (N, OH, OW, F), written (must not alias x). y = conv(x, w) + bias, then max(y, 0) when relu = 1.
 * Each output sums its taps in (ky, kx, c) order starting from zero and adds the bias last: the f32 sum of
 * im2col + gemm_nn + bias_act_forward, so both paths give the same results. Blocks of four horizontally adjacent
 * output pixels by eight filters keep eight accumulators in registers over all the taps, reading each patch straight
 * from x: y is written once, with its bias and relu, and no unfolded copy of x is made.
 */
export function conv2d_forward(x: usize, w: usize, bias: usize, y: usize, geo: usize, F: i32, relu: i32): void {
  const N = geoAt(geo, GEO_N), H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W);
  const KH = geoAt(geo, GEO_KH), KW = geoAt(geo, GEO_KW);
  const sh = geoAt(geo, GEO_STRIDE_H), sw = geoAt(geo, GEO_STRIDE_W);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const dlh = geoAt(geo, GEO_DILATION_H), dlw = geoAt(geo, GEO_DILATION_W);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  // the output columns [inner0, inner1) and rows [band0, band1) whose every tap is inside the image
  const inner0 = innerStart(pl, sw, OW), inner1 = innerEnd(W, KW, dlw, pl, sw, OW, inner0);
  const band0 = innerStart(pt, sh, OH), band1 = innerEnd(H, KH, dlh, pt, sh, OH, band0);
  const cols = inner1 - inner0;
  const F8 = F & ~7;
  for (let n = 0; n < N; n++) {
    // eight filters at a time over the whole image, so that their weights stay in L1 while the image streams past
    for (let f = 0; f < F8; f += 8) {
      // the inner rectangle in blocks of four pixels that may span rows; rows with taps in the padding row by row
      if ((band1 - band0) * cols >= 4) convBlocks4x8(x, w, bias, y, geo, F, relu, n, band0, band1, f, inner0, inner1, false, 0);
      for (let oy = 0; oy < OH; oy++) {
        const inBand = oy >= band0 && oy < band1;
        if (!inBand && cols >= 4) convBlocks4x8(x, w, bias, y, geo, F, relu, n, oy, oy + 1, f, inner0, inner1, false, 0);
        // the columns no block took: the edges, or the whole row
        const blocked = cols >= 4 && (!inBand || (band1 - band0) * cols >= 4);
        const skip0 = blocked ? inner0 : OW, skip1 = blocked ? inner1 : OW;
        for (let ox = 0; ox < skip0; ox++) convPixel(x, w, bias, y, geo, F, relu, n, oy, ox, f, f + 8);
        for (let ox = skip1; ox < OW; ox++) convPixel(x, w, bias, y, geo, F, relu, n, oy, ox, f, f + 8);
      }
    }
    if (F8 < F) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) convPixel(x, w, bias, y, geo, F, relu, n, oy, ox, F8, F);
  }
}

/**
 * conv2d_forward followed by 2x2 max pooling with stride 2, the usual conv → pool pair, without writing the
 * convolution's output: each block of four pixels is one pooling window, whose maximum (after bias and relu) goes
 * straight to `pooled`, (N, ⌊OH/2⌋, ⌊OW/2⌋, F); with argmax (not 0) the flat index of each maximum in the
 * convolution's output (N, OH, OW, F), as maxpool_forward writes it. The same bits as the two kernels, for a third
 * fewer passes over memory; an odd last row and column, which no window reads, are not computed at all. Needs F a
 * multiple of 8 and every tap of the pooled pixels inside x (the runtime checks: 'valid' padding).
 */
export function conv2d_forward_maxpool(x: usize, w: usize, bias: usize, pooled: usize, argmax: usize, geo: usize, F: i32, relu: i32): void {
  const N = geoAt(geo, GEO_N), PH = geoAt(geo, GEO_OH) >> 1, PW = geoAt(geo, GEO_OW) >> 1;
  if (PH == 0 || PW == 0) return;
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < F; f += 8) convBlocks4x8(x, w, bias, pooled, geo, F, relu, n, 0, PH, f, 0, PW, true, argmax);
  }
}

/**
 * conv2d_forward_maxpool's window (oy, ox) for filters f..f+7: the maximum of its pixels a (top left), c (top right),
 * d (bottom left), e (bottom right), each as filters f..f+3 and f+4..f+7, in maxpoolTwoByTwo's order and with its
 * first-maximum rule, to pooled (and the maxima's indices in the unpooled output to argmax).
 */
@inline function poolWindow4x8(pooled: usize, argmax: usize, a0: v128, a1: v128, c0: v128, c1: v128, d0: v128, d1: v128, e0: v128, e1: v128,
  n: i32, oy: i32, ox: i32, f: i32, OH: i32, OW: i32, F: i32): void {
  const o = outputOf(pooled, oy, ox, n, f, OH >> 1, OW >> 1, F);
  if (!argmax) {
    v128.store(o, f32x4.pmax(f32x4.pmax(f32x4.pmax(a0, c0), d0), e0));
    v128.store(o, f32x4.pmax(f32x4.pmax(f32x4.pmax(a1, c1), d1), e1), 16);
    return;
  }
  const oi = o - pooled + argmax;
  const i0 = i32x4.add(i32x4.splat(nhwcIndex(n, 2 * oy, 2 * ox, f, OH, OW, F)), i32x4(0, 1, 2, 3));
  const right = i32x4.splat(F), down = i32x4.splat(OW * F), four = i32x4.splat(4);
  poolMax(o, oi, a0, c0, d0, e0, i0, right, down);
  poolMax(o + 16, oi + 16, a1, c1, d1, e1, i32x4.add(i0, four), right, down);
}

/** The maximum of v0..v3 (cells i0, i0 + right, i0 + down, i0 + down + right) to out, its cell to outIdx: the cells
 *  compared in maxpoolTwoByTwo's order, pmax keeping the first maximum. */
@inline function poolMax(out: usize, outIdx: usize, v0: v128, v1: v128, v2: v128, v3: v128, i0: v128, right: v128, down: v128): void {
  const i2 = i32x4.add(i0, down);
  let idx = v128.bitselect(i32x4.add(i0, right), i0, f32x4.gt(v1, v0));
  let best = f32x4.pmax(v0, v1);
  idx = v128.bitselect(i2, idx, f32x4.gt(v2, best));
  best = f32x4.pmax(best, v2);
  v128.store(outIdx, v128.bitselect(i32x4.add(i2, right), idx, f32x4.gt(v3, best)));
  v128.store(out, f32x4.pmax(best, v3));
}

/** Along one axis: the first output position o whose first tap is inside the input, o·stride - pad >= 0. */
@inline function innerStart(pad: i32, stride: i32, out: i32): i32 {
  return min((pad + stride - 1) / stride, out);
}

/** One past the last output position whose last tap is inside, o·stride - pad + (taps - 1)·dil < size (>= start). */
@inline function innerEnd(size: i32, taps: i32, dil: i32, pad: i32, stride: i32, out: i32, start: i32): i32 {
  const lastStart = size - 1 - (taps - 1) * dil + pad;
  return max(lastStart < 0 ? 0 : min(lastStart / stride + 1, out), start);
}

/**
 * Filters f..f+7 of the output pixels (n, oy0..oy1-1, ox0..ox1-1), at least four, all of whose taps have the same
 * filter rows inside the image and every column tap inside: four pixels at a time in row-major order, a block
 * spanning two rows where a row's count is not a multiple of four, and the last block overlapping the one before
 * (recomputing the same values is cheaper than one pixel at a time). Blocks across rows waste nothing at MNIST's
 * 26- and 11-pixel rows, where blocks within a row recomputed 2 of 28 and 1 of 12 pixels.
 */
function convBlocks4x8(x: usize, w: usize, bias: usize, y: usize, geo: usize, F: i32, relu: i32, n: i32, oy0: i32, oy1: i32, f: i32, ox0: i32, ox1: i32, pooled: bool, argmax: usize): void {
  const H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W), C = geoAt(geo, GEO_C);
  const KH = geoAt(geo, GEO_KH), KW = geoAt(geo, GEO_KW);
  const sh = geoAt(geo, GEO_STRIDE_H), sw = geoAt(geo, GEO_STRIDE_W);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const dlh = geoAt(geo, GEO_DILATION_H), dlw = geoAt(geo, GEO_DILATION_W);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  const iyTop = (pooled ? 2 * oy0 : oy0) * sh - pt;
  const ky0 = firstTapInside(iyTop, dlh, KH), ky1 = max(endTapInside(iyTop, dlh, H, KH), ky0);
  const runs = dlw == 1 ? 1 : KW, run = dlw == 1 ? KW * C : C; // contiguous stretches of a patch row
  const rowF = <usize>F << 2;
  const kyStepX = <usize>(dlh * W * C) << 2, kyStepW = <usize>(KW * C) * rowF, runStep = <usize>(dlw * C) << 2;
  const w00 = at(w, ky0 * KW * C * F + f);
  const cols = ox1 - ox0, count = (oy1 - oy0) * cols * (pooled ? 4 : 1);
  const xs = <usize>(sw * C) << 2; // bytes between the taps of adjacent output pixels in a row
  let oy = oy0, ox = ox0; // the pixel of `start`
  // x of output column 0's tap (ky0, 0) in row oy, and y of (oy, 0)'s filter f
  let xRow = firstTapX(x, pooled ? 2 * oy : oy, 0, n, ky0, geo), yRow = outputOf(y, oy, 0, n, f, OH, OW, F);
  const below = <usize>(sh * W * C) << 2; // pooled: x bytes between the taps of the window's two rows
  for (let start = 0; start < count; start += 4) {
    if (!pooled && start + 4 > count) {
      // the last block ends at the rectangle's last pixel, overlapping the one before
      ox = ox0 + (count - 4) % cols;
      oy = oy0 + (count - 4) / cols;
      xRow = firstTapX(x, oy, 0, n, ky0, geo);
      yRow = outputOf(y, oy, 0, n, f, OH, OW, F);
    }
    // x of each pixel's tap (ky0, 0), as the first pixel's and offsets from it
    const x0 = xRow + <usize>(pooled ? 2 * ox : ox) * xs;
    const sameRow = ox + 4 <= ox1;
    let x1: usize = xs, x2: usize = 2 * xs, x3: usize = 3 * xs;
    if (pooled) {
      // the window's pixels (2·oy, 2·ox), (2·oy, 2·ox + 1), (2·oy + 1, 2·ox), (2·oy + 1, 2·ox + 1)
      x2 = below;
      x3 = below + xs;
    } else if (!sameRow) {
      // the block continues on the next row
      x1 = firstTapX(x, rowAfter(oy, ox, 1, ox1), colAfter(ox, 1, ox1, cols), n, ky0, geo) - x0;
      x2 = firstTapX(x, rowAfter(oy, ox, 2, ox1), colAfter(ox, 2, ox1, cols), n, ky0, geo) - x0;
      x3 = firstTapX(x, rowAfter(oy, ox, 3, ox1), colAfter(ox, 3, ox1, cols), n, ky0, geo) - x0;
    }
    let a0 = f32x4.splat(0), a1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0, e0 = a0, e1 = a0;
    let row = x0, wRow = w00;
    for (let ky = ky0; ky < ky1; ky++, row += kyStepX, wRow += kyStepW) {
      let wp = wRow;
      if (run == 3 && runs == 1) {
        // one channel, three taps a row (a 3x3 first layer): a loop of constant length, which the compiler unrolls
        // (16 against 14 GFLOPS at MNIST's first layer); the same steps as the general loop below
        let xp = row;
        for (let k = 0; k < 3; k++) {
          const w0 = v128.load(wp), w1 = v128.load(wp, 16);
          const v0 = v128.load32_splat(xp), v1 = v128.load32_splat(xp + x1);
          const v2 = v128.load32_splat(xp + x2), v3 = v128.load32_splat(xp + x3);
          a0 = f32x4.add(a0, f32x4.mul(v0, w0)); a1 = f32x4.add(a1, f32x4.mul(v0, w1));
          c0 = f32x4.add(c0, f32x4.mul(v1, w0)); c1 = f32x4.add(c1, f32x4.mul(v1, w1));
          d0 = f32x4.add(d0, f32x4.mul(v2, w0)); d1 = f32x4.add(d1, f32x4.mul(v2, w1));
          e0 = f32x4.add(e0, f32x4.mul(v3, w0)); e1 = f32x4.add(e1, f32x4.mul(v3, w1));
          xp += 4;
          wp += rowF;
        }
        continue;
      }
      for (let r = 0; r < runs; r++) {
        let xp = row + <usize>r * runStep;
        for (let k = 0; k < run; k++) {
          const w0 = v128.load(wp), w1 = v128.load(wp, 16);
          const v0 = v128.load32_splat(xp), v1 = v128.load32_splat(xp + x1);
          const v2 = v128.load32_splat(xp + x2), v3 = v128.load32_splat(xp + x3);
          a0 = f32x4.add(a0, f32x4.mul(v0, w0)); a1 = f32x4.add(a1, f32x4.mul(v0, w1));
          c0 = f32x4.add(c0, f32x4.mul(v1, w0)); c1 = f32x4.add(c1, f32x4.mul(v1, w1));
          d0 = f32x4.add(d0, f32x4.mul(v2, w0)); d1 = f32x4.add(d1, f32x4.mul(v2, w1));
          e0 = f32x4.add(e0, f32x4.mul(v3, w0)); e1 = f32x4.add(e1, f32x4.mul(v3, w1));
          xp += 4;
          wp += rowF;
        }
      }
    }
    // bias (when there is one: adding a zero vector would turn -0 into +0) and relu, then y is written once
    if (bias) {
      const b0 = v128.load(at(bias, f)), b1 = v128.load(at(bias, f + 4));
      a0 = f32x4.add(a0, b0); a1 = f32x4.add(a1, b1); c0 = f32x4.add(c0, b0); c1 = f32x4.add(c1, b1);
      d0 = f32x4.add(d0, b0); d1 = f32x4.add(d1, b1); e0 = f32x4.add(e0, b0); e1 = f32x4.add(e1, b1);
    }
    if (relu) {
      const z = f32x4.splat(0);
      a0 = f32x4.pmax(a0, z); a1 = f32x4.pmax(a1, z); c0 = f32x4.pmax(c0, z); c1 = f32x4.pmax(c1, z);
      d0 = f32x4.pmax(d0, z); d1 = f32x4.pmax(d1, z); e0 = f32x4.pmax(e0, z); e1 = f32x4.pmax(e1, z);
    }
    if (pooled) {
      poolWindow4x8(y, argmax, a0, a1, c0, c1, d0, d1, e0, e1, n, oy, ox, f, OH, OW, F);
      if (++ox == ox1) {
        ox = ox0;
        oy++;
        xRow = firstTapX(x, 2 * oy, 0, n, ky0, geo);
      }
      continue;
    }
    // y of each pixel's filter f, then on to the next block
    const y0 = yRow + <usize>ox * rowF;
    let y1: usize = rowF, y2: usize = 2 * rowF, y3: usize = 3 * rowF;
    if (!sameRow) {
      y1 = outputOf(y, rowAfter(oy, ox, 1, ox1), colAfter(ox, 1, ox1, cols), n, f, OH, OW, F) - y0;
      y2 = outputOf(y, rowAfter(oy, ox, 2, ox1), colAfter(ox, 2, ox1, cols), n, f, OH, OW, F) - y0;
      y3 = outputOf(y, rowAfter(oy, ox, 3, ox1), colAfter(ox, 3, ox1, cols), n, f, OH, OW, F) - y0;
    }
    v128.store(y0, a0); v128.store(y0, a1, 16);
    v128.store(y0 + y1, c0); v128.store(y0 + y1, c1, 16);
    v128.store(y0 + y2, d0); v128.store(y0 + y2, d1, 16);
    v128.store(y0 + y3, e0); v128.store(y0 + y3, e1, 16);
    ox += 4;
    if (ox >= ox1) {
      while (ox >= ox1) { ox -= cols; oy++; }
      xRow = firstTapX(x, oy, 0, n, ky0, geo);
      yRow = outputOf(y, oy, 0, n, f, OH, OW, F);
    }
  }
}

/** Row and column of the pixel j places after (oy, ox) in a block's row-major walk of columns [ox1 - cols, ox1)
 *  (j < cols: at most one row further). */
@inline function rowAfter(oy: i32, ox: i32, j: i32, ox1: i32): i32 {
  return oy + i32(ox + j >= ox1);
}
@inline function colAfter(ox: i32, j: i32, ox1: i32, cols: i32): i32 {
  return ox + j >= ox1 ? ox + j - cols : ox + j;
}

/** Byte address in x of output pixel (n, oy, ox)'s tap (ky0, 0), channel 0. */
@inline function firstTapX(x: usize, oy: i32, ox: i32, n: i32, ky0: i32, geo: usize): usize {
  const iy = oy * geoAt(geo, GEO_STRIDE_H) - geoAt(geo, GEO_PAD_TOP) + ky0 * geoAt(geo, GEO_DILATION_H);
  const ix = ox * geoAt(geo, GEO_STRIDE_W) - geoAt(geo, GEO_PAD_LEFT);
  return at(x, nhwcIndex(n, iy, ix, 0, geoAt(geo, GEO_H), geoAt(geo, GEO_W), geoAt(geo, GEO_C)));
}

/** Byte address in y of output pixel (n, oy, ox)'s filter f. */
@inline function outputOf(y: usize, oy: i32, ox: i32, n: i32, f: i32, OH: i32, OW: i32, F: i32): usize {
  return at(y, nhwcIndex(n, oy, ox, f, OH, OW, F));
}

/** Filters f0..f1 of one output pixel (n, oy, ox), anywhere (taps in the padding are skipped): eight, four, then
 *  one at a time. */
function convPixel(x: usize, w: usize, bias: usize, y: usize, geo: usize, F: i32, relu: i32, n: i32, oy: i32, ox: i32, f0: i32, f1: i32): void {
  const H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W), C = geoAt(geo, GEO_C);
  const KH = geoAt(geo, GEO_KH), KW = geoAt(geo, GEO_KW);
  const sh = geoAt(geo, GEO_STRIDE_H), sw = geoAt(geo, GEO_STRIDE_W);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const dlh = geoAt(geo, GEO_DILATION_H), dlw = geoAt(geo, GEO_DILATION_W);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  const iyTop = oy * sh - pt, ixLeft = ox * sw - pl;
  const ky0 = firstTapInside(iyTop, dlh, KH), ky1 = max(endTapInside(iyTop, dlh, H, KH), ky0);
  const kx0 = firstTapInside(ixLeft, dlw, KW), kx1 = max(endTapInside(ixLeft, dlw, W, KW), kx0);
  const rowF = <usize>F << 2;
  const yp = at(y, nhwcIndex(n, oy, ox, 0, OH, OW, F));
  let f = f0;
  for (; f + 4 <= f1; f += 4) {
    const pair = f + 8 <= f1; // eight filters in two accumulators, else four
    let a0 = f32x4.splat(0), a1 = a0;
    for (let ky = ky0; ky < ky1; ky++) {
      for (let kx = kx0; kx < kx1; kx++) {
        let xp = at(x, nhwcIndex(n, iyTop + ky * dlh, ixLeft + kx * dlw, 0, H, W, C));
        let wp = at(w, ((ky * KW + kx) * C) * F + f);
        for (let c = 0; c < C; c++) {
          const xv = v128.load32_splat(xp);
          a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp)));
          if (pair) a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp, 16)));
          xp += 4;
          wp += rowF;
        }
      }
    }
    v128.store(at(yp, f), finish4(a0, bias, f, relu));
    if (pair) {
      v128.store(at(yp, f + 4), finish4(a1, bias, f + 4, relu));
      f += 4;
    }
  }
  for (; f < f1; f++) {
    let acc: f32 = 0;
    for (let ky = ky0; ky < ky1; ky++) {
      for (let kx = kx0; kx < kx1; kx++) {
        let xp = at(x, nhwcIndex(n, iyTop + ky * dlh, ixLeft + kx * dlw, 0, H, W, C));
        let wp = at(w, ((ky * KW + kx) * C) * F + f);
        for (let c = 0; c < C; c++) {
          acc += load<f32>(xp) * load<f32>(wp);
          xp += 4;
          wp += rowF;
        }
      }
    }
    store<f32>(at(yp, f), finish1(acc, bias, f, relu));
  }
}
