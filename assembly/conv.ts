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
// P = N·OH·OW and K = KH·KW·C, a convolution is three GEMMs (matmul.ts), so no conv kernel but im2col/col2im is needed:
//   forward          y  = cols · W       gemm_nn(cols, W, y, P, K, F, 0), then the runtime adds the bias
//   filter gradient  dW = colsᵀ · dY     gemm_tn(cols, dY, dW, K, P, F, acc): nothing to add here
//   input gradient   dx = col2im(dY·Wᵀ)  gemm_nt(dY, W, dcols, P, F, K, 0), then col2im(dcols, dx, geo, acc)
// conv1d is conv2d with H = 1 and KH = 1 (x viewed as (N, 1, W, C)); it has no kernel of its own.
//
// The direct kernels at the end serve layers with few input channels (MNIST's first layer: C = 1, F = 8), where
// the GEMM's K = KH·KW·C is too short to pay for packing and the im2col matrix is KH·KW times larger than x.
// Measured in Node 20 (batch 32, 28x28, 'same', C = 1, F = 8): against im2col + gemm_nn / gemm_tn the direct forward
// is about 2x (3x3) and 1.6x (5x5) faster, the direct filter gradient about 4x and 2x. From C = 3 or F = 32 on,
// im2col + GEMM is as fast or faster (forward 1.3x to 3x at C = 3..8), so the runtime picks by shape.

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
 * Direct convolution for few input channels. x is (N, H, W, C); w is [KH, KW, C, F]; bias is (F) or 0 for none;
 * y is (N, OH, OW, F), written (y must not alias x).
 * Weight-stationary: y starts as the bias; then for each (ky, kx, c) and block of eight (then four, then one)
 * filters, the weights stay in registers while the output pixels whose tap is inside the image stream past and add
 * x·w into y. So each output sums bias first, then taps in (ky, kx, c) order, and y is swept KH·KW·C·⌈F/8⌉ times:
 * the kernel for few channels (MNIST's first layer), where it needs no im2col buffer and beats im2col + GEMM.
 */
export function conv2d_direct_forward(x: usize, w: usize, bias: usize, y: usize, geo: usize, F: i32): void {
  const N = geoAt(geo, GEO_N), H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W), C = geoAt(geo, GEO_C);
  const KH = geoAt(geo, GEO_KH), KW = geoAt(geo, GEO_KW);
  const sh = geoAt(geo, GEO_STRIDE_H), sw = geoAt(geo, GEO_STRIDE_W);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const dlh = geoAt(geo, GEO_DILATION_H), dlw = geoAt(geo, GEO_DILATION_W);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  const pixels = N * OH * OW;
  for (let p = 0; p < pixels; p++) {
    if (bias) copyF32(at(y, p * F), bias, F);
    else zeroF32(at(y, p * F), F);
  }
  const xStep = sw * C; // floats between the taps of horizontally adjacent output pixels
  for (let ky = 0; ky < KH; ky++) {
    // output rows whose input row oy·sh - pt + ky·dlh is inside the image
    const iy0 = ky * dlh - pt; // input row of output row 0's tap
    const oy0 = firstTapInside(iy0, sh, OH), oy1 = endTapInside(iy0, sh, H, OH);
    for (let kx = 0; kx < KW; kx++) {
      const ix0 = kx * dlw - pl; // input column of output column 0's tap
      const ox0 = firstTapInside(ix0, sw, OW), ox1 = endTapInside(ix0, sw, W, OW);
      for (let c = 0; c < C; c++) {
        const wt = at(w, ((ky * KW + kx) * C + c) * F);
        const xOffset = (ox0 * sw + ix0) * C + c; // x index of the first pixel's tap, from its row start
        let f = 0;
        for (; f + 8 <= F; f += 8) {
          const w0 = v128.load(at(wt, f)), w1 = v128.load(at(wt, f + 4));
          for (let n = 0; n < N; n++) {
            for (let oy = oy0; oy < oy1; oy++) {
              let xp = at(x, nhwcIndex(n, oy * sh + iy0, 0, xOffset, H, W, C));
              let yp = at(y, nhwcIndex(n, oy, ox0, f, OH, OW, F));
              for (let ox = ox0; ox < ox1; ox++) {
                const xv = f32x4.splat(load<f32>(xp));
                v128.store(yp, f32x4.add(v128.load(yp), f32x4.mul(xv, w0)));
                v128.store(yp, f32x4.add(v128.load(yp, 16), f32x4.mul(xv, w1)), 16);
                xp = at(xp, xStep);
                yp = at(yp, F);
              }
            }
          }
        }
        for (; f + 4 <= F; f += 4) {
          const w0 = v128.load(at(wt, f));
          for (let n = 0; n < N; n++) {
            for (let oy = oy0; oy < oy1; oy++) {
              let xp = at(x, nhwcIndex(n, oy * sh + iy0, 0, xOffset, H, W, C));
              let yp = at(y, nhwcIndex(n, oy, ox0, f, OH, OW, F));
              for (let ox = ox0; ox < ox1; ox++) {
                v128.store(yp, f32x4.add(v128.load(yp), f32x4.mul(f32x4.splat(load<f32>(xp)), w0)));
                xp = at(xp, xStep);
                yp = at(yp, F);
              }
            }
          }
        }
        for (; f < F; f++) {
          const w0 = load<f32>(at(wt, f));
          for (let n = 0; n < N; n++) {
            for (let oy = oy0; oy < oy1; oy++) {
              let xp = at(x, nhwcIndex(n, oy * sh + iy0, 0, xOffset, H, W, C));
              let yp = at(y, nhwcIndex(n, oy, ox0, f, OH, OW, F));
              for (let ox = ox0; ox < ox1; ox++) {
                store<f32>(yp, load<f32>(yp) + load<f32>(xp) * w0);
                xp = at(xp, xStep);
                yp = at(yp, F);
              }
            }
          }
        }
      }
    }
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
        let f = 0;
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
