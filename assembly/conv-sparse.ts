// The backward pass of a convolution whose pre-activation gradient dz is mostly zeros: the convolution of a
// conv → max pool pair, where each pooling window passes its gradient to one pixel of four in each channel (and a
// relu blocks some of those). The dense kernels (the direct filter gradient; gemm_nt + col2im for dx) multiply every
// zero; this one finds the nonzero filters of each pixel with a SIMD compare and does only their work, 2.5-4x less
// at MNIST's second layer.
//
// It gives the dense kernels' bits. Each sum takes its terms in the dense order, and the terms it skips are
// products with a zero, which leave a sum started from +0 unchanged (such a sum is never -0):
//   dw[ky, kx, c, f]  Σ over (n, oy, ox) of x·dz, as conv2d_direct_backward_filter;
//   db[f]             Σ over (n, oy, ox) of dz, as bias_grad;
//   dx                the dcols row of each pixel, Σ over f of dz·w from +0 as gemm_nt, added into dx pixel by pixel
//                     in (n, oy, ox) order, tap by tap, as col2im.

import {
  GEO_N, GEO_H, GEO_W, GEO_C, GEO_KH, GEO_KW, GEO_STRIDE_H, GEO_STRIDE_W, GEO_PAD_TOP, GEO_PAD_LEFT,
  GEO_DILATION_H, GEO_DILATION_W, GEO_OH, GEO_OW,
  geoAt, nhwcIndex,
} from "./geometry";

/** Fields of conv2d_backward_sparse's parameter block (i32 each): the layer's weights w [KH, KW, C, F] and its
 *  gradients dw and db (0: skipped), its scratch of 2·K·F + K floats (K = KH·KW·C), and F, its filter count. */
export const SPARSE_W = 0;
export const SPARSE_DW = 1;
export const SPARSE_DB = 2;
export const SPARSE_SCRATCH = 3;
export const SPARSE_FILTERS = 4;
export const SPARSE_LEN = 5;

/** conv2dBackwardSparse with the layer's pointers and filter count in the block p (SPARSE_*). */
export function conv2d_backward_sparse(x: usize, dz: usize, dx: usize, geo: usize, p: usize): void {
  conv2dBackwardSparse(x, dz, <usize>load<i32>(p + (SPARSE_W << 2)), <usize>load<i32>(p + (SPARSE_DW << 2)),
    <usize>load<i32>(p + (SPARSE_DB << 2)), dx, <usize>load<i32>(p + (SPARSE_SCRATCH << 2)), geo, load<i32>(p + (SPARSE_FILTERS << 2)));
}

/**
 * Gradients of a convolution from dz (N, OH, OW, F), the gradient of its pre-activation: dw [KH, KW, C, F], db (F)
 * and dx (N, H, W, C), each written, or skipped when its pointer is 0. x is (N, H, W, C), w [KH, KW, C, F]; C is a
 * multiple of 4, and every pixel whose dz is not all zeros has all its taps inside x (no padding in play: the
 * pooled pixels of a 'valid' convolution). scratch holds 2·K·F + K floats, K = KH·KW·C.
 */
export function conv2dBackwardSparse(x: usize, dz: usize, w: usize, dw: usize, db: usize, dx: usize, scratch: usize, geo: usize, F: i32): void {
  const N = geoAt(geo, GEO_N), H = geoAt(geo, GEO_H), W = geoAt(geo, GEO_W), C = geoAt(geo, GEO_C);
  const KH = geoAt(geo, GEO_KH), KW = geoAt(geo, GEO_KW);
  const sh = geoAt(geo, GEO_STRIDE_H), sw = geoAt(geo, GEO_STRIDE_W);
  const pt = geoAt(geo, GEO_PAD_TOP), pl = geoAt(geo, GEO_PAD_LEFT);
  const dlh = geoAt(geo, GEO_DILATION_H), dlw = geoAt(geo, GEO_DILATION_W);
  const OH = geoAt(geo, GEO_OH), OW = geoAt(geo, GEO_OW);
  const K = KH * KW * C;
  const kBytes = <usize>K << 2, cBytes = <usize>C << 2;
  // per filter, its K weights (wt) and its K filter-gradient sums (dwt) side by side in memory; row: one dcols row
  const wt = scratch, dwt = scratch + <usize>F * kBytes, row = dwt + <usize>F * kBytes;
  transpose(w, wt, K, F);
  fillZero(dwt, K * F);
  if (db) fillZero(db, F);
  if (dx) fillZero(dx, N * H * W * C);
  const kyStep = <usize>(dlh * W * C) << 2, kxStep = <usize>(dlw * C) << 2;
  const zero = f32x4.splat(0);
  let d = dz;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, d += <usize>F << 2) {
        // x (and dx) of the pixel's tap (0, 0)
        const tap0 = <usize>nhwcIndex(n, oy * sh - pt, ox * sw - pl, 0, H, W, C) << 2;
        let used = false;
        for (let f0 = 0; f0 < F; f0 += 4) {
          // the nonzero filters of four (NaN counts as nonzero, as it would in the dense sums)
          let nonzero = F - f0 >= 4 ? i32x4.bitmask(f32x4.ne(v128.load(d + (<usize>f0 << 2)), zero)) : tailMask(d, f0, F);
          while (nonzero) {
            const f = f0 + ctz(nonzero);
            nonzero &= nonzero - 1;
            const g = load<f32>(d + (<usize>f << 2));
            const gv = f32x4.splat(g);
            if (db) store<f32>(db + (<usize>f << 2), load<f32>(db + (<usize>f << 2)) + g);
            if (dw) {
              // dwt[f, ky, kx, c] += x[tap]·g over the taps, four channels at a time
              let acc = dwt + <usize>f * kBytes, xRow = x + tap0;
              for (let ky = 0; ky < KH; ky++, xRow += kyStep) {
                let xp = xRow;
                for (let kx = 0; kx < KW; kx++, xp += kxStep, acc += cBytes) {
                  for (let c: usize = 0; c < cBytes; c += 16) v128.store(acc + c, f32x4.add(v128.load(acc + c), f32x4.mul(v128.load(xp + c), gv)));
                }
              }
            }
            if (dx) {
              // the pixel's dcols row, Σ over its nonzero filters of g·w[f]. The first term is stored as it is: the
              // sum from +0 differs only where it is -0, and adding ±0 leaves every dx sum (from +0) the same
              const wf = wt + <usize>f * kBytes;
              if (used) {
                for (let j: usize = 0; j < kBytes; j += 16) v128.store(row + j, f32x4.add(v128.load(row + j), f32x4.mul(gv, v128.load(wf + j))));
              } else {
                for (let j: usize = 0; j < kBytes; j += 16) v128.store(row + j, f32x4.mul(gv, v128.load(wf + j)));
              }
              used = true;
            }
          }
        }
        if (used) {
          // col2im of the row: dx[tap] += row[tap], taps in (ky, kx) order
          let r = row, dxRow = dx + tap0;
          for (let ky = 0; ky < KH; ky++, dxRow += kyStep) {
            let dp = dxRow;
            for (let kx = 0; kx < KW; kx++, dp += kxStep, r += cBytes) {
              for (let c: usize = 0; c < cBytes; c += 16) v128.store(dp + c, f32x4.add(v128.load(dp + c), v128.load(r + c)));
            }
          }
        }
      }
    }
  }
  if (dw) transpose(dwt, dw, F, K);
}

/** The nonzero lanes among filters f0..F-1 (fewer than four), as bits. */
@inline function tailMask(d: usize, f0: i32, F: i32): i32 {
  let bits = 0;
  for (let f = f0; f < F; f++) if (load<f32>(d + (<usize>f << 2)) != 0) bits |= 1 << (f - f0);
  return bits;
}

/** dst (cols, rows) = src (rows, cols) transposed. */
function transpose(src: usize, dst: usize, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) store<f32>(dst + (<usize>(j * rows + i) << 2), load<f32>(src + (<usize>(i * cols + j) << 2)));
  }
}

@inline function fillZero(dst: usize, n: i32): void {
  memory.fill(dst, 0, <usize>n << 2);
}
