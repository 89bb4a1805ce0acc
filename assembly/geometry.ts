// The geometry block of the conv and pool kernels (conv.ts, conv-*.ts, conv-sparse.ts, pool.ts), its field indices,
// and the shared arithmetic of channels-last arrays and of taps that fall in the padding. The helpers are @inline.
//
// Geometry block: every conv and pool kernel takes `geo`, a pointer to 14 i32 in linear memory, in this order:
//   0 N, 1 H, 2 W, 3 C              input x is (N, H, W, C)
//   4 KH, 5 KW                      filter (pooling: window) size
//   6 strideH, 7 strideW
//   8 padTop, 9 padLeft             padding before row 0 / column 0; bottom and right padding follow from OH, OW
//   10 dilationH, 11 dilationW      1 = ordinary convolution
//   12 OH, 13 OW                    output y is (N, OH, OW, F) (pooling: (N, OH, OW, C))
// The runtime fills it in, with TF's rule for 'same': OH = ceil(H / strideH),
//   padTotal = max((OH - 1)·strideH + (KH - 1)·dilationH + 1 - H, 0), padTop = floor(padTotal / 2); 'valid' pads 0.
// Output pixel (oy, ox) with tap (ky, kx) reads input row iy = oy·strideH - padTop + ky·dilationH (columns likewise);
// taps that fall in the padding read zero.

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


/** Field `i` (a GEO_* index) of the geometry block at `geo`. */
@inline export function geoAt(geo: usize, i: i32): i32 {
  return load<i32>(geo + (<usize>i << 2));
}

/** Flat element index of [n, y, x, c] in an (N, rows, cols, channels) channels-last array. */
@inline export function nhwcIndex(n: i32, y: i32, x: i32, c: i32, rows: i32, cols: i32, channels: i32): i32 {
  return ((n * rows + y) * cols + x) * channels + c;
}

/** Byte address of f32 element `i` of the array at `base`. */
@inline export function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** First tap k in [0, taps] whose input coordinate i0 + k·dil is >= 0. (Divides only when dilated.) */
@inline export function firstTapInside(i0: i32, dil: i32, taps: i32): i32 {
  if (i0 >= 0) return 0;
  return min(dil == 1 ? -i0 : (dil - 1 - i0) / dil, taps);
}

/** One past the last tap k in [0, taps) whose input coordinate i0 + k·dil is < size. */
@inline export function endTapInside(i0: i32, dil: i32, size: i32, taps: i32): i32 {
  if (i0 >= size) return 0;
  return min(dil == 1 ? size - i0 : (size - 1 - i0) / dil + 1, taps);
}
