// im2col and col2im: the unfolding that turns a convolution into GEMMs (conv.ts says how), and its adjoint.
// Geometry block and shapes: geometry.ts.

import {
  GEO_N, GEO_H, GEO_W, GEO_C, GEO_KH, GEO_KW, GEO_STRIDE_H, GEO_STRIDE_W, GEO_PAD_TOP, GEO_PAD_LEFT,
  GEO_DILATION_H, GEO_DILATION_W, GEO_OH, GEO_OW, geoAt, nhwcIndex, at, firstTapInside, endTapInside,
} from "./geometry";

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
  const rowLen = KW * C; // one filter row (fixed ky) of a cols row
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
        const kyStep = <usize>OW * rowBytes - (<usize>(KW * C) << 2); // next output row, previous filter row
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
