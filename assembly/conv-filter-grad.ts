// The direct filter gradient of a convolution (weight-stationary), for layers with few input channels, where the
// im2col + gemm_tn path's K = KH·KW·C is too short to pay for packing (conv.ts). Geometry block: geometry.ts.

import {
  GEO_N, GEO_H, GEO_W, GEO_C, GEO_KH, GEO_KW, GEO_STRIDE_H, GEO_STRIDE_W, GEO_PAD_TOP, GEO_PAD_LEFT,
  GEO_DILATION_H, GEO_DILATION_W, GEO_OH, GEO_OW, geoAt, nhwcIndex, at, firstTapInside, endTapInside,
} from "./geometry";

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
 * conv2d_direct_backward_filter's filters 0..F8 (F8 a multiple of 8) for filters three taps wide: the three taps of
 * a filter row share one sweep over dy, their six sums in registers, so dy is read KH·C·F8/8 times instead of three
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
