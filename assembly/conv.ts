// 2-D convolution kernels, channels-last (NHWC) like Keras / TF.js.
//
// Geometry block: every conv and pool kernel takes `geo`, a pointer to 14 i32 in linear memory, in this order:
//   0 N, 1 H, 2 W, 3 C              input x is (N, H, W, C)
//   4 KH, 5 KW                      kernel (pooling: window) size
//   6 strideH, 7 strideW
//   8 padTop, 9 padLeft             padding before row 0 / column 0; bottom and right padding follow from OH, OW
//   10 dilationH, 11 dilationW      1 = ordinary convolution
//   12 OH, 13 OW                    output y is (N, OH, OW, F) (pooling: (N, OH, OW, C))
// The runtime fills it in, with TF's rule for 'same': OH = ceil(H / strideH),
//   padTotal = max((OH - 1)·strideH + (KH - 1)·dilationH + 1 - H, 0), padTop = floor(padTotal / 2); 'valid' pads 0.
// Output pixel (oy, ox) with tap (ky, kx) reads input row iy = oy·strideH - padTop + ky·dilationH (columns likewise);
// taps that fall in the padding read zero.
//
// Filters are [KH, KW, C, F]: flattened, a (KH·KW·C, F) matrix W. With cols = im2col(x), a (P, K) matrix where
// P = N·OH·OW and K = KH·KW·C, a convolution is three GEMMs (matmul.ts):
//   forward          y  = cols · W       gemm_nn(cols, W, y, P, K, F, 0), then the runtime adds the bias
//   filter gradient  dW = colsᵀ · dY     gemm_tn(cols, dY, dW, K, P, F, acc): nothing to add here
//   input gradient   dx = col2im(dY·Wᵀ)  gemm_nt(dY, W, dcols, P, F, K, 0), then col2im(dcols, dx, geo, acc)
// conv1d is conv2d with H = 1 and KH = 1 (x viewed as (N, 1, W, C)); it has no kernel of its own.
//
// conv2d_forward computes the forward pass without the im2col matrix: output-stationary, four pixels by eight
// filters in registers, bias and relu applied before y is written once; it sums in the same order as the GEMM path,
// so the runtime picks either by speed alone (conv2d_forward for small channel products, where packing does not
// pay; im2col + GEMM for wide layers). The direct filter gradient serves layers with few input channels (MNIST's
// first layer: C = 1, F = 8), where the GEMM's K = KH·KW·C is too short to pay for packing: measured in Node 20
// (batch 32, 28x28, 'same', C = 1, F = 8) about 4x (3x3) and 2x (5x5) faster than im2col + gemm_tn.

import { geoAt, nhwcIndex } from "./geometry";

export const GEO_N: i32 = 0;
export const GEO_H: i32 = 1;
export const GEO_W: i32 = 2;
export const GEO_C: i32 = 3;
export const GEO_KH: i32 = 4;
export const GEO_KW: i32 = 5;
export const GEO_STRIDE_H: i32 = 6;
export const GEO_STRIDE_W: i32 = 7;
export const GEO_PAD_TOP: i32 = 8;
export const GEO_PAD_LEFT: i32 = 9;
export const GEO_DILATION_H: i32 = 10;
export const GEO_DILATION_W: i32 = 11;
export const GEO_OH: i32 = 12;
export const GEO_OW: i32 = 13;
/** Number of i32 in the geometry block. */
export const GEO_LEN: i32 = 14;

/** Byte address of f32 element `i` of the array at `base`. */
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** First tap k in [0, taps] whose input coordinate i0 + k·dil is >= 0. (Divides only when dilated.) */
@inline function firstTapInside(i0: i32, dil: i32, taps: i32): i32 {
  if (i0 >= 0) return 0;
  return min(dil == 1 ? -i0 : (dil - 1 - i0) / dil, taps);
}

/** One past the last tap k in [0, taps) whose input coordinate i0 + k·dil is < size. */
@inline function endTapInside(i0: i32, dil: i32, size: i32, taps: i32): i32 {
  if (i0 >= size) return 0;
  return min(dil == 1 ? size - i0 : (size - 1 - i0) / dil + 1, taps);
}

@inline function zeroF32(dst: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), f32x4.splat(0));
  for (; i < n; i++) store<f32>(at(dst, i), 0);
}

@inline function copyF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), v128.load(at(src, i)));
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(src, i)));
}

@inline function addF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), f32x4.add(v128.load(at(dst, i)), v128.load(at(src, i))));
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(dst, i)) + load<f32>(at(src, i)));
}

/**
 * Unfolds x into patch rows. x is (N, H, W, C); cols is (N·OH·OW, KH·KW·C) row-major: row (n, oy, ox), column
 * (ky·KW + kx)·C + c holds x[n, iy, ix, c], or 0 where the tap is in the padding. Writes every element of cols.
 */
export function im2col(x: usize, cols: usize, geo: usize): void {
  const N = geoAt(geo, GEO_N), H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W), C = geoAt(geo, GEO_C);
  const KH = geoAt(geo, GEO_KH), KW = geoAt(geo, GEO_KW);
  const sh = geoAt(geo, GEO_STRIDE_H), sw = geoAt(geo, GEO_STRIDE_W);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const dlh = geoAt(geo, GEO_DILATION_H), dlw = geoAt(geo, GEO_DILATION_W);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  const rowLen = KW * C; // one kernel row (fixed ky) of a cols row
  let row = cols;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      const iy0 = oy * sh - pt;
      for (let ox = 0; ox < OW; ox++) {
        const ix0 = ox * sw - pl;
        const kx0 = firstTapInside(ix0, dlw, KW);
        const kx1 = max(endTapInside(ix0, dlw, W, KW), kx0);
        for (let ky = 0; ky < KH; ky++) {
          const iy = iy0 + ky * dlh;
          const dst = at(row, ky * rowLen);
          if (iy < 0 || iy >= H) {
            zeroF32(dst, rowLen);
            continue;
          }
          const src = at(x, nhwcIndex(n, iy, ix0 + kx0 * dlw, 0, H, W, C));
          zeroF32(dst, kx0 * C);
          if (dlw == 1) {
            copyF32(at(dst, kx0 * C), src, (kx1 - kx0) * C); // the taps are adjacent pixels: one run
          } else {
            for (let kx = kx0; kx < kx1; kx++) copyF32(at(dst, kx * C), at(src, (kx - kx0) * dlw * C), C);
          }
          zeroF32(at(dst, kx1 * C), (KW - kx1) * C);
        }
        row = at(row, KH * rowLen);
      }
    }
  }
}

/**
 * The adjoint of im2col: adds every element of cols (N·OH·OW, KH·KW·C) into the x position it was copied from;
 * padding taps are dropped. dx is (N, H, W, C): written (accumulate = 0: zeroed first) or accumulated (1).
 * Overlapping windows add up, so the input gradient is col2im(dY · Wᵀ).
 */
export function col2im(cols: usize, dx: usize, geo: usize, accumulate: i32): void {
  const N = geoAt(geo, GEO_N), H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W), C = geoAt(geo, GEO_C);
  const KH = geoAt(geo, GEO_KH), KW = geoAt(geo, GEO_KW);
  const sh = geoAt(geo, GEO_STRIDE_H), sw = geoAt(geo, GEO_STRIDE_W);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const dlh = geoAt(geo, GEO_DILATION_H), dlw = geoAt(geo, GEO_DILATION_W);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  if (sh == 1 && sw == 1 && dlh == 1 && dlw == 1 && (C & 3) == 0) {
    col2imGather(cols, dx, geo, accumulate);
    return;
  }
  if (!accumulate) zeroF32(dx, N * H * W * C);
  const rowLen = KW * C;
  let row = cols;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      const iy0 = oy * sh - pt;
      for (let ox = 0; ox < OW; ox++) {
        const ix0 = ox * sw - pl;
        const kx0 = firstTapInside(ix0, dlw, KW);
        const kx1 = endTapInside(ix0, dlw, W, KW);
        for (let ky = 0; ky < KH; ky++) {
          const iy = iy0 + ky * dlh;
          if (iy < 0 || iy >= H) continue;
          const src = at(row, ky * rowLen);
          const dst = at(dx, nhwcIndex(n, iy, ix0 + kx0 * dlw, 0, H, W, C));
          if (dlw == 1) {
            addF32(dst, at(src, kx0 * C), (kx1 - kx0) * C);
          } else {
            for (let kx = kx0; kx < kx1; kx++) addF32(at(dst, (kx - kx0) * dlw * C), at(src, kx * C), C);
          }
        }
        row = at(row, KH * rowLen);
      }
    }
  }
}

/**
 * col2im for stride 1 and no dilation, with whole vectors of channels: each dx pixel gathers its terms in registers
 * and is written once (no zeroing pass, no read-modify-write per term). The terms are added in the scatter's order,
 * output pixels (oy, ox) ascending, i.e. taps (ky, kx) descending, starting from 0 (or dx when accumulating): the
 * same bits as the scatter.
 */
function col2imGather(cols: usize, dx: usize, geo: usize, accumulate: i32): void {
  const N = geoAt(geo, GEO_N), H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W), C = geoAt(geo, GEO_C);
  const KH = geoAt(geo, GEO_KH), KW = geoAt(geo, GEO_KW);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  const K = KH * KW * C;
  const rowBytes = <usize>K << 2; // one cols row: one output pixel
  let out = dx;
  for (let n = 0; n < N; n++) {
    for (let iy = 0; iy < H; iy++) {
      // taps whose output row oy = iy + pt - ky is inside [0, OH), highest first
      const kyHi = min(KH - 1, iy + pt), kyLo = max(0, iy + pt - OH + 1);
      for (let ix = 0; ix < W; ix++, out += <usize>C << 2) {
        const kxHi = min(KW - 1, ix + pl), kxLo = max(0, ix + pl - OW + 1);
        if (ix + 1 < W && min(KW - 1, ix + 1 + pl) == kxHi && max(0, ix + 1 + pl - OW + 1) == kxLo) {
          // two neighbours with the same taps: their sums are independent chains of adds, run side by side
          col2imPair(cols, out, C, (n * OH + iy + pt - kyHi) * OW + ix + pl - kxHi, kyHi, kyLo, kxHi, kxLo, KW, OW, rowBytes, accumulate);
          ix++;
          out += <usize>C << 2;
          continue;
        }
        // the cols element of output pixel (n, oy, ox = ix + pl - kx), tap (ky, kx), channel 0 for ky = kyHi, kx = kxHi
        const first = cols + <usize>((n * OH + iy + pt - kyHi) * OW + ix + pl - kxHi) * rowBytes + (<usize>((kyHi * KW + kxHi) * C) << 2);
        const kyStep = <usize>OW * rowBytes - (<usize>(KW * C) << 2); // next output row, previous kernel row
        const kxStep = rowBytes - (<usize>C << 2); // next output pixel to the right, previous tap
        for (let c = 0; c < C; c += 8) {
          const pair = c + 8 <= C; // eight channels in two sums, else four
          const o = out + (<usize>c << 2);
          let a0 = accumulate ? v128.load(o) : f32x4.splat(0);
          let a1 = accumulate && pair ? v128.load(o, 16) : f32x4.splat(0);
          let row = first + (<usize>c << 2);
          for (let ky = kyHi; ky >= kyLo; ky--, row += kyStep) {
            let p = row;
            for (let kx = kxHi; kx >= kxLo; kx--, p += kxStep) {
              a0 = f32x4.add(a0, v128.load(p));
              if (pair) a1 = f32x4.add(a1, v128.load(p, 16));
            }
          }
          v128.store(o, a0);
          if (pair) v128.store(o, a1, 16);
        }
      }
    }
  }
}

/**
 * col2imGather's sums for dx pixels (ix, ix + 1) of one row, whose taps are the same: out is dx of the first; the
 * cols row of its tap (kyHi, kxHi) is `firstRow`. Each pixel's terms are added in the same order as alone.
 */
function col2imPair(cols: usize, out: usize, C: i32, firstRow: i32, kyHi: i32, kyLo: i32, kxHi: i32, kxLo: i32, KW: i32, OW: i32, rowBytes: usize, accumulate: i32): void {
  const first = cols + <usize>firstRow * rowBytes + (<usize>((kyHi * KW + kxHi) * C) << 2);
  const kyStep = <usize>OW * rowBytes - (<usize>(KW * C) << 2);
  const kxStep = rowBytes - (<usize>C << 2);
  const next = <usize>C << 2; // the second pixel's dx, and its cols rows are one output pixel further
  for (let c = 0; c < C; c += 8) {
    const pair = c + 8 <= C;
    const o = out + (<usize>c << 2);
    let a0 = accumulate ? v128.load(o) : f32x4.splat(0);
    let a1 = accumulate && pair ? v128.load(o, 16) : f32x4.splat(0);
    let b0 = accumulate ? v128.load(o + next) : f32x4.splat(0);
    let b1 = accumulate && pair ? v128.load(o + next, 16) : f32x4.splat(0);
    let row = first + (<usize>c << 2);
    for (let ky = kyHi; ky >= kyLo; ky--, row += kyStep) {
      let p = row;
      for (let kx = kxHi; kx >= kxLo; kx--, p += kxStep) {
        a0 = f32x4.add(a0, v128.load(p));
        b0 = f32x4.add(b0, v128.load(p + rowBytes));
        if (pair) {
          a1 = f32x4.add(a1, v128.load(p, 16));
          b1 = f32x4.add(b1, v128.load(p + rowBytes, 16));
        }
      }
    }
    v128.store(o, a0);
    v128.store(o + next, b0);
    if (pair) {
      v128.store(o, a1, 16);
      v128.store(o + next, b1, 16);
    }
  }
}

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
 * kernel rows inside the image and every column tap inside: four pixels at a time in row-major order, a block
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

/**
 * Filter gradient of the direct convolution: dw[ky, kx, c, f] (+)= Σ over (n, oy, ox) of x[n, iy, ix, c]·dy[n, oy, ox, f].
 * x is (N, H, W, C); dy is (N, OH, OW, F); dw is [KH, KW, C, F]: written (accumulate = 0) or accumulated (1).
 * Weight-stationary: for each (ky, kx, c) and block of eight (then four, then one) filters the sum stays in registers
 * while the output pixels whose tap is inside the image stream past, so dy is read KH·KW·C·⌈F/8⌉ times: the kernel
 * for few channels. Pixels are summed in (n, oy, ox) order.
 * The bias gradient is the column sum of dy, left to the runtime's reduction kernels.
 */
export function conv2d_direct_backward_filter(x: usize, dy: usize, dw: usize, geo: usize, F: i32, accumulate: i32): void {
  const N = geoAt(geo, GEO_N), H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W), C = geoAt(geo, GEO_C);
  const KH = geoAt(geo, GEO_KH), KW = geoAt(geo, GEO_KW);
  const sh = geoAt(geo, GEO_STRIDE_H), sw = geoAt(geo, GEO_STRIDE_W);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const dlh = geoAt(geo, GEO_DILATION_H), dlw = geoAt(geo, GEO_DILATION_W);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  const xStep = sw * C; // floats between the taps of horizontally adjacent output pixels
  // whole vectors of channels: four channels by eight filters per sweep; else three-tap-wide kernels (3x3, the usual
  // first layer) take their filters in blocks of eight in one sweep per row
  const fFirst = (C & 3) == 0 || KW == 3 ? F & ~7 : 0;
  if (fFirst > 0 && (C & 3) == 0) filterGradFourChannels(x, dy, dw, geo, F, fFirst, accumulate);
  else if (fFirst > 0) filterGradThreeTaps(x, dy, dw, geo, F, fFirst, accumulate);
  for (let ky = 0; ky < KH; ky++) {
    // output rows whose input row oy·sh - pt + ky·dlh is inside the image
    const iy0 = ky * dlh - pt; // input row of output row 0's tap
    const oy0 = firstTapInside(iy0, sh, OH), oy1 = endTapInside(iy0, sh, H, OH);
    for (let kx = 0; kx < KW; kx++) {
      const ix0 = kx * dlw - pl; // input column of output column 0's tap
      const ox0 = firstTapInside(ix0, sw, OW), ox1 = endTapInside(ix0, sw, W, OW);
      for (let c = 0; c < C; c++) {
        const wt = at(dw, ((ky * KW + kx) * C + c) * F);
        const xOffset = (ox0 * sw + ix0) * C + c; // x index of (n, row iy, first pixel's tap) minus row start
        let f = fFirst;
        for (; f + 8 <= F; f += 8) {
          let acc0 = accumulate ? v128.load(at(wt, f)) : f32x4.splat(0);
          let acc1 = accumulate ? v128.load(at(wt, f + 4)) : f32x4.splat(0);
          for (let n = 0; n < N; n++) {
            for (let oy = oy0; oy < oy1; oy++) {
              let xp = at(x, nhwcIndex(n, oy * sh + iy0, 0, xOffset, H, W, C));
              let gp = at(dy, nhwcIndex(n, oy, ox0, f, OH, OW, F));
              for (let ox = ox0; ox < ox1; ox++) {
                const xv = f32x4.splat(load<f32>(xp));
                acc0 = f32x4.add(acc0, f32x4.mul(xv, v128.load(gp)));
                acc1 = f32x4.add(acc1, f32x4.mul(xv, v128.load(gp, 16)));
                xp = at(xp, xStep);
                gp = at(gp, F);
              }
            }
          }
          v128.store(at(wt, f), acc0);
          v128.store(at(wt, f + 4), acc1);
        }
        for (; f + 4 <= F; f += 4) {
          let acc = accumulate ? v128.load(at(wt, f)) : f32x4.splat(0);
          for (let n = 0; n < N; n++) {
            for (let oy = oy0; oy < oy1; oy++) {
              let xp = at(x, nhwcIndex(n, oy * sh + iy0, 0, xOffset, H, W, C));
              let gp = at(dy, nhwcIndex(n, oy, ox0, f, OH, OW, F));
              for (let ox = ox0; ox < ox1; ox++) {
                acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(xp)), v128.load(gp)));
                xp = at(xp, xStep);
                gp = at(gp, F);
              }
            }
          }
          v128.store(at(wt, f), acc);
        }
        for (; f < F; f++) {
          let acc: f32 = accumulate ? load<f32>(at(wt, f)) : 0;
          for (let n = 0; n < N; n++) {
            for (let oy = oy0; oy < oy1; oy++) {
              let xp = at(x, nhwcIndex(n, oy * sh + iy0, 0, xOffset, H, W, C));
              let gp = at(dy, nhwcIndex(n, oy, ox0, f, OH, OW, F));
              for (let ox = ox0; ox < ox1; ox++) {
                acc += load<f32>(xp) * load<f32>(gp);
                xp = at(xp, xStep);
                gp = at(gp, F);
              }
            }
          }
          store<f32>(at(wt, f), acc);
        }
      }
    }
  }
}

/**
 * conv2d_direct_backward_filter's filters 0..F8 (F8 a multiple of 8) when C is a multiple of 4: four channels of one
 * tap by eight filters, eight sums in registers, per sweep over the output pixels whose tap is inside the image
 * (1.26x the three-tap sweep at the reference CNN's second layer: four splats and two dy loads per 32 products instead
 * of three and two per 24). Image by image, the sums carried over in dw, so each adds its pixels in (n, oy, ox)
 * order: the same results as one tap at a time.
 */
function filterGradFourChannels(x: usize, dy: usize, dw: usize, geo: usize, F: i32, F8: i32, accumulate: i32): void {
  const N = geoAt(geo, GEO_N), H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W), C = geoAt(geo, GEO_C);
  const KH = geoAt(geo, GEO_KH), KW = geoAt(geo, GEO_KW);
  const sh = geoAt(geo, GEO_STRIDE_H), sw = geoAt(geo, GEO_STRIDE_W);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const dlh = geoAt(geo, GEO_DILATION_H), dlw = geoAt(geo, GEO_DILATION_W);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  const xStep = <usize>(sw * C) << 2, gStep = <usize>F << 2, rowF = <usize>F << 2;
  for (let n = 0; n < N; n++) {
    const carry = accumulate || n > 0;
    for (let ky = 0; ky < KH; ky++) {
      const iy0 = ky * dlh - pt;
      const oy0 = firstTapInside(iy0, sh, OH), oy1 = endTapInside(iy0, sh, H, OH);
      for (let kx = 0; kx < KW; kx++) {
        const ix0 = kx * dlw - pl;
        const ox0 = firstTapInside(ix0, sw, OW), ox1 = endTapInside(ix0, sw, W, OW);
        for (let c = 0; c < C; c += 4) {
          const wt = at(dw, ((ky * KW + kx) * C + c) * F); // dw[ky, kx, c, 0]; channel c + j is j rows of F below
          for (let f = 0; f < F8; f += 8) {
            const w0 = wt + (<usize>f << 2);
            const zero = f32x4.splat(0);
            let a0 = carry ? v128.load(w0) : zero, a1 = carry ? v128.load(w0, 16) : zero;
            let b0 = carry ? v128.load(w0 + rowF) : zero, b1 = carry ? v128.load(w0 + rowF, 16) : zero;
            let c0 = carry ? v128.load(w0 + 2 * rowF) : zero, c1 = carry ? v128.load(w0 + 2 * rowF, 16) : zero;
            let d0 = carry ? v128.load(w0 + 3 * rowF) : zero, d1 = carry ? v128.load(w0 + 3 * rowF, 16) : zero;
            for (let oy = oy0; oy < oy1; oy++) {
              let xp = at(x, nhwcIndex(n, oy * sh + iy0, ox0 * sw + ix0, c, H, W, C));
              let gp = at(dy, nhwcIndex(n, oy, ox0, f, OH, OW, F));
              for (let ox = ox0; ox < ox1; ox++) {
                const g0 = v128.load(gp), g1 = v128.load(gp, 16);
                let v = v128.load32_splat(xp);
                a0 = f32x4.add(a0, f32x4.mul(v, g0)); a1 = f32x4.add(a1, f32x4.mul(v, g1));
                v = v128.load32_splat(xp, 4);
                b0 = f32x4.add(b0, f32x4.mul(v, g0)); b1 = f32x4.add(b1, f32x4.mul(v, g1));
                v = v128.load32_splat(xp, 8);
                c0 = f32x4.add(c0, f32x4.mul(v, g0)); c1 = f32x4.add(c1, f32x4.mul(v, g1));
                v = v128.load32_splat(xp, 12);
                d0 = f32x4.add(d0, f32x4.mul(v, g0)); d1 = f32x4.add(d1, f32x4.mul(v, g1));
                xp += xStep;
                gp += gStep;
              }
            }
            v128.store(w0, a0); v128.store(w0, a1, 16);
            v128.store(w0 + rowF, b0); v128.store(w0 + rowF, b1, 16);
            v128.store(w0 + 2 * rowF, c0); v128.store(w0 + 2 * rowF, c1, 16);
            v128.store(w0 + 3 * rowF, d0); v128.store(w0 + 3 * rowF, d1, 16);
          }
        }
      }
    }
  }
}

/**
 * conv2d_direct_backward_filter's filters 0..F8 (F8 a multiple of 8) for kernels three taps wide: the three taps of
 * a kernel row share one sweep over dy, their six sums in registers, so dy is read KH·C·F8/8 times instead of three
 * times that. Each sum still adds its pixels in (n, oy, ox) order, skipping the pixels whose tap is in the padding:
 * the same results as one tap at a time.
 */
function filterGradThreeTaps(x: usize, dy: usize, dw: usize, geo: usize, F: i32, F8: i32, accumulate: i32): void {
  const N = geoAt(geo, GEO_N), H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W), C = geoAt(geo, GEO_C);
  const KH = geoAt(geo, GEO_KH);
  const sh = geoAt(geo, GEO_STRIDE_H), sw = geoAt(geo, GEO_STRIDE_W);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const dlh = geoAt(geo, GEO_DILATION_H), dlw = geoAt(geo, GEO_DILATION_W);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  const tapBytes = <usize>(dlw * C) << 2, xStep = <usize>(sw * C) << 2, gStep = <usize>F << 2;
  // output columns whose tap kx is inside the image, and those where all three are
  const a0 = firstTapInside(-pl, sw, OW), e0 = endTapInside(-pl, sw, W, OW);
  const a1 = firstTapInside(dlw - pl, sw, OW), e1 = endTapInside(dlw - pl, sw, W, OW);
  const a2 = firstTapInside(2 * dlw - pl, sw, OW), e2 = endTapInside(2 * dlw - pl, sw, W, OW);
  const inner0 = max(a0, max(a1, a2)), inner1 = max(min(e0, min(e1, e2)), inner0);
  // image by image, so that one image's x and dy stay in L1 over all the sweeps; the sums carry over in dw between
  // images, so each still adds its pixels in (n, oy, ox) order
  for (let n = 0; n < N; n++) {
    const carry = accumulate || n > 0;
    for (let ky = 0; ky < KH; ky++) {
      const iy0 = ky * dlh - pt;
      const oy0 = firstTapInside(iy0, sh, OH), oy1 = endTapInside(iy0, sh, H, OH);
      for (let c = 0; c < C; c++) {
        const w0 = at(dw, ((ky * 3) * C + c) * F);
        const w1 = at(dw, ((ky * 3 + 1) * C + c) * F), w2 = at(dw, ((ky * 3 + 2) * C + c) * F);
        for (let f = 0; f < F8; f += 8) {
          const fo = <usize>f << 2;
          const zero = f32x4.splat(0);
          let s0 = carry ? v128.load(w0 + fo) : zero, t0 = carry ? v128.load(w0 + fo, 16) : zero;
          let s1 = carry ? v128.load(w1 + fo) : zero, t1 = carry ? v128.load(w1 + fo, 16) : zero;
          let s2 = carry ? v128.load(w2 + fo) : zero, t2 = carry ? v128.load(w2 + fo, 16) : zero;
          for (let oy = oy0; oy < oy1; oy++) {
            // x of output column 0's tap 0 (it may lie in the padding; only inside taps are read)
            const xRow = at(x, nhwcIndex(n, oy * sh + iy0, 0, c, H, W, C)) - (<usize>(pl * C) << 2);
            const gRow = at(dy, nhwcIndex(n, oy, 0, f, OH, OW, F));
            // columns [0, inner0) and [inner1, OW) check each tap, those between take all three; the two edge loops
            // stay written out (one loop over the three parts measured 1.6x slower: the interior lost its registers)
            let ox = 0;
            for (; ox < inner0; ox++) {
              const xp = xRow + <usize>ox * xStep, gp = gRow + <usize>ox * gStep;
              const g0 = v128.load(gp), g1 = v128.load(gp, 16);
              if (ox >= a0 && ox < e0) {
                const v = v128.load32_splat(xp);
                s0 = f32x4.add(s0, f32x4.mul(v, g0));
                t0 = f32x4.add(t0, f32x4.mul(v, g1));
              }
              if (ox >= a1 && ox < e1) {
                const v = v128.load32_splat(xp + tapBytes);
                s1 = f32x4.add(s1, f32x4.mul(v, g0));
                t1 = f32x4.add(t1, f32x4.mul(v, g1));
              }
              if (ox >= a2 && ox < e2) {
                const v = v128.load32_splat(xp + 2 * tapBytes);
                s2 = f32x4.add(s2, f32x4.mul(v, g0));
                t2 = f32x4.add(t2, f32x4.mul(v, g1));
              }
            }
            let xp = xRow + <usize>ox * xStep, gp = gRow + <usize>ox * gStep;
            for (; ox < inner1; ox++) {
              const g0 = v128.load(gp), g1 = v128.load(gp, 16);
              const x0 = v128.load32_splat(xp), x1 = v128.load32_splat(xp + tapBytes);
              const x2 = v128.load32_splat(xp + 2 * tapBytes);
              s0 = f32x4.add(s0, f32x4.mul(x0, g0)); t0 = f32x4.add(t0, f32x4.mul(x0, g1));
              s1 = f32x4.add(s1, f32x4.mul(x1, g0)); t1 = f32x4.add(t1, f32x4.mul(x1, g1));
              s2 = f32x4.add(s2, f32x4.mul(x2, g0)); t2 = f32x4.add(t2, f32x4.mul(x2, g1));
              xp += xStep;
              gp += gStep;
            }
            for (; ox < OW; ox++) {
              const g0 = v128.load(gp), g1 = v128.load(gp, 16);
              if (ox >= a0 && ox < e0) {
                const v = v128.load32_splat(xp);
                s0 = f32x4.add(s0, f32x4.mul(v, g0));
                t0 = f32x4.add(t0, f32x4.mul(v, g1));
              }
              if (ox >= a1 && ox < e1) {
                const v = v128.load32_splat(xp + tapBytes);
                s1 = f32x4.add(s1, f32x4.mul(v, g0));
                t1 = f32x4.add(t1, f32x4.mul(v, g1));
              }
              if (ox >= a2 && ox < e2) {
                const v = v128.load32_splat(xp + 2 * tapBytes);
                s2 = f32x4.add(s2, f32x4.mul(v, g0));
                t2 = f32x4.add(t2, f32x4.mul(v, g1));
              }
              xp += xStep;
              gp += gStep;
            }
          }
          v128.store(w0 + fo, s0); v128.store(w0 + fo, t0, 16);
          v128.store(w1 + fo, s1); v128.store(w1 + fo, t1, 16);
          v128.store(w2 + fo, s2); v128.store(w2 + fo, t2, 16);
        }
      }
    }
  }
}
