// conv.ts against a direct 7-loop reference convolution (f64 sums) written here, with padding, strides and dilation.
// Gradients are checked against central finite differences of the scalar loss L = Σ r⊙y (r random), computed
// with the reference; the GEMMs of the im2col path are naive loops written here too.
import {
  im2col, col2im, conv2d_forward, conv2d_forward_maxpool, conv2d_direct_backward_filter,
  GEO_N, GEO_H, GEO_W, GEO_C, GEO_KH, GEO_KW, GEO_STRIDE_H, GEO_STRIDE_W, GEO_PAD_TOP, GEO_PAD_LEFT,
  GEO_DILATION_H, GEO_DILATION_W, GEO_OH, GEO_OW, GEO_LEN,
} from "../../assembly/conv";
import { gemm_nn } from "../../assembly/matmul";
import { maxpool_forward } from "../../assembly/pool";
import { bias_act_forward, ACT_RELU, ACT_LINEAR } from "../../assembly/activations";
import { alloc, fget, fill, fset, randomF32, rnd, geoBlock, seedRandom } from "./helpers.include";

seedRandom(20240607);
function dget(p: usize, i: i32): f64 { return load<f64>(p + (<usize>i << 3)); }
function dset(p: usize, i: i32, v: f64): void { store<f64>(p + (<usize>i << 3), v); }
function close(a: f64, b: f64, tol: f64): bool { return Math.abs(a - b) <= tol * (1 + Math.abs(b)); }

class Conv {
  N: i32; H: i32; W: i32; C: i32; KH: i32; KW: i32; sh: i32; sw: i32; dh: i32; dw: i32; F: i32;
  OH: i32; OW: i32; pt: i32; pl: i32;
  geo: usize;
  /** same: TF 'same' padding, else 'valid'; causal (conv1d): 'same' output size, all padding before (span - 1). */
  constructor(N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, sh: i32, sw: i32, dh: i32, dw: i32, same: bool, F: i32, causal: bool = false) {
    this.N = N; this.H = H; this.W = W; this.C = C; this.KH = KH; this.KW = KW;
    this.sh = sh; this.sw = sw; this.dh = dh; this.dw = dw; this.F = F;
    const effH = (KH - 1) * dh + 1, effW = (KW - 1) * dw + 1;
    if (causal) {
      this.OH = (H + sh - 1) / sh;
      this.OW = (W + sw - 1) / sw;
      this.pt = effH - 1;
      this.pl = effW - 1;
    } else if (same) {
      this.OH = (H + sh - 1) / sh;
      this.OW = (W + sw - 1) / sw;
      this.pt = max((this.OH - 1) * sh + effH - H, 0) / 2;
      this.pl = max((this.OW - 1) * sw + effW - W, 0) / 2;
    } else {
      this.OH = (H - effH) / sh + 1;
      this.OW = (W - effW) / sw + 1;
      this.pt = 0;
      this.pl = 0;
    }
    this.geo = geoBlock(N, H, W, C, KH, KW, sh, sw, this.pt, this.pl, dh, dw, this.OH, this.OW);
  }
  get xLen(): i32 { return this.N * this.H * this.W * this.C; }
  get P(): i32 { return this.N * this.OH * this.OW; }
  get K(): i32 { return this.KH * this.KW * this.C; }
  get yLen(): i32 { return this.P * this.F; }
}

/** Reference: y[n, oy, ox, f] = Σ_{ky, kx, c} x[n, oy·sh - pt + ky·dh, ox·sw - pl + kx·dw, c]·w[ky, kx, c, f] (f64). */
function refConv(g: Conv, x: usize, w: usize, y64: usize): void {
  for (let n = 0; n < g.N; n++)
    for (let oy = 0; oy < g.OH; oy++)
      for (let ox = 0; ox < g.OW; ox++)
        for (let f = 0; f < g.F; f++) {
          let s: f64 = 0;
          for (let ky = 0; ky < g.KH; ky++)
            for (let kx = 0; kx < g.KW; kx++) {
              const iy = oy * g.sh - g.pt + ky * g.dh, ix = ox * g.sw - g.pl + kx * g.dw;
              if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
              for (let c = 0; c < g.C; c++) {
                s += <f64>fget(x, ((n * g.H + iy) * g.W + ix) * g.C + c) * <f64>fget(w, ((ky * g.KW + kx) * g.C + c) * g.F + f);
              }
            }
          dset(y64, ((n * g.OH + oy) * g.OW + ox) * g.F + f, s);
        }
}

function refLoss(g: Conv, x: usize, w: usize, r: usize, y64: usize): f64 {
  refConv(g, x, w, y64);
  let s: f64 = 0;
  for (let i = 0; i < g.yLen; i++) s += <f64>fget(r, i) * dget(y64, i);
  return s;
}

/** Central difference of L with respect to p[i]; divides by the f32 step actually taken. */
function fdAt(g: Conv, x: usize, w: usize, r: usize, y64: usize, p: usize, i: i32): f64 {
  const v = fget(p, i), h: f32 = 0.125;
  const up = v + h, down = v - h;
  fset(p, i, up);
  const lp = refLoss(g, x, w, r, y64);
  fset(p, i, down);
  const lm = refLoss(g, x, w, r, y64);
  fset(p, i, v);
  return (lp - lm) / (<f64>up - <f64>down);
}

function naiveGemmNN(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32): void {
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s: f64 = 0;
    for (let p = 0; p < k; p++) s += <f64>fget(a, i * k + p) * <f64>fget(b, p * n + j);
    fset(c, i * n + j, <f32>s);
  }
}
/** C (m, n) = Aᵀ·B with A stored (k, m). */
function naiveGemmTN(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32): void {
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s: f64 = 0;
    for (let p = 0; p < k; p++) s += <f64>fget(a, p * m + i) * <f64>fget(b, p * n + j);
    fset(c, i * n + j, <f32>s);
  }
}
/** C (m, n) = A·Bᵀ with B stored (n, k). */
function naiveGemmNT(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32): void {
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s: f64 = 0;
    for (let p = 0; p < k; p++) s += <f64>fget(a, i * k + p) * <f64>fget(b, j * k + p);
    fset(c, i * n + j, <f32>s);
  }
}

/** Largest |a - b| / (1 + |b|) over n elements, a f32 and b f64. */
function maxErr(a: usize, b64: usize, n: i32): f64 {
  let e: f64 = 0;
  for (let i = 0; i < n; i++) e = Math.max(e, Math.abs(<f64>fget(a, i) - dget(b64, i)) / (1 + Math.abs(dget(b64, i))));
  return e;
}

function checkForward(g: Conv): void {
  const x = randomF32(g.xLen), w = randomF32(g.K * g.F), bias = randomF32(g.F);
  const y64 = alloc(g.yLen);
  refConv(g, x, w, y64);
  const y = alloc(g.yLen);
  fill(y, g.yLen, 777);
  conv2d_forward(x, w, 0, y, g.geo, g.F, 0);
  expect<bool>(maxErr(y, y64, g.yLen) <= 1e-5).toBe(true, "forward, no bias");

  for (let relu = 0; relu < 2; relu++) {
    fill(y, g.yLen, 777);
    conv2d_forward(x, w, bias, y, g.geo, g.F, relu);
    let e: f64 = 0;
    for (let i = 0; i < g.yLen; i++) {
      let want = dget(y64, i) + <f64>fget(bias, i % g.F);
      if (relu && want < 0) want = 0;
      e = Math.max(e, Math.abs(<f64>fget(y, i) - want) / (1 + Math.abs(want)));
    }
    expect<bool>(e <= 1e-5).toBe(true, relu ? "forward with bias and relu" : "forward with bias");
  }

  const cols = alloc(g.P * g.K);
  fill(cols, g.P * g.K, 555); // im2col must overwrite every element, padding zeros included
  im2col(x, cols, g.geo);
  const z = alloc(g.yLen);
  fill(z, g.yLen, 777);
  naiveGemmNN(cols, w, z, g.P, g.K, g.F);
  expect<bool>(maxErr(z, y64, g.yLen) <= 1e-5).toBe(true, "im2col + gemm");

  // the two forward paths give the same f32 results: both sum the taps in order from zero, then add the bias
  for (let relu = 0; relu < 2; relu++) {
    gemm_nn(cols, w, z, g.P, g.K, g.F, 0);
    bias_act_forward(z, bias, z, g.P, g.F, relu ? ACT_RELU : ACT_LINEAR, 0);
    conv2d_forward(x, w, bias, y, g.geo, g.F, relu);
    let same = true;
    for (let i = 0; i < g.yLen; i++) same = same && fget(y, i) == fget(z, i);
    expect<bool>(same).toBe(true, "conv2d_forward equals im2col + gemm_nn + bias_act_forward");
  }
}

function checkAdjoint(g: Conv): void {
  const x = randomF32(g.xLen), c = randomF32(g.P * g.K);
  const cols = alloc(g.P * g.K), dx = alloc(g.xLen);
  im2col(x, cols, g.geo);
  fill(dx, g.xLen, 333);
  col2im(c, dx, g.geo, 0);
  let lhs: f64 = 0, rhs: f64 = 0;
  for (let i = 0; i < g.P * g.K; i++) lhs += <f64>fget(cols, i) * <f64>fget(c, i);
  for (let i = 0; i < g.xLen; i++) rhs += <f64>fget(x, i) * <f64>fget(dx, i);
  expect<bool>(close(lhs, rhs, 1e-5)).toBe(true, "<im2col(x), c> = <x, col2im(c)>");

  // accumulate = 1 adds onto what is there
  const d0 = randomF32(g.xLen), acc = alloc(g.xLen);
  memory.copy(acc, d0, <usize>g.xLen * 4);
  col2im(c, acc, g.geo, 1);
  let e: f64 = 0;
  for (let i = 0; i < g.xLen; i++) e = Math.max(e, Math.abs(<f64>fget(acc, i) - <f64>fget(d0, i) - <f64>fget(dx, i)));
  expect<bool>(e <= 1e-5).toBe(true, "col2im accumulate");

  // the exact f32 sums of a plain scatter in (n, oy, ox, ky, kx, c) order, written and accumulated: every col2im
  // path adds its terms in this order, so the input gradient has the same bits whichever path runs
  const want = alloc(g.xLen), wantAcc = alloc(g.xLen);
  memory.copy(wantAcc, d0, <usize>g.xLen * 4);
  scatterF32(g, c, want);
  scatterF32(g, c, wantAcc);
  let same = true;
  for (let i = 0; i < g.xLen; i++) same = same && fget(dx, i) == fget(want, i) && fget(acc, i) == fget(wantAcc, i);
  expect<bool>(same).toBe(true, "col2im sums in the scatter's order");
}

/** dx[n, iy, ix, c] += cols[(n, oy, ox), (ky, kx, c)] over every tap inside x, one f32 add at a time. */
function scatterF32(g: Conv, cols: usize, dx: usize): void {
  for (let n = 0; n < g.N; n++)
    for (let oy = 0; oy < g.OH; oy++)
      for (let ox = 0; ox < g.OW; ox++)
        for (let ky = 0; ky < g.KH; ky++)
          for (let kx = 0; kx < g.KW; kx++)
            for (let c = 0; c < g.C; c++) {
              const iy = oy * g.sh - g.pt + ky * g.dh, ix = ox * g.sw - g.pl + kx * g.dw;
              if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
              const i = ((n * g.H + iy) * g.W + ix) * g.C + c;
              fset(dx, i, fget(dx, i) + fget(cols, ((n * g.OH + oy) * g.OW + ox) * g.K + (ky * g.KW + kx) * g.C + c));
            }
}

function checkGradients(g: Conv): void {
  const x = randomF32(g.xLen), w = randomF32(g.K * g.F), r = randomF32(g.yLen);
  const y64 = alloc(g.yLen);
  const cols = alloc(g.P * g.K), dcols = alloc(g.P * g.K);
  // input gradient: col2im(dY·Wᵀ)
  const dx = alloc(g.xLen);
  naiveGemmNT(r, w, dcols, g.P, g.F, g.K);
  col2im(dcols, dx, g.geo, 0);
  const step = g.xLen <= 300 ? 1 : 7; // subsample large inputs; 7 is prime to every C here
  let e: f64 = 0;
  for (let i = 0; i < g.xLen; i += step) {
    const fd = fdAt(g, x, w, r, y64, x, i);
    e = Math.max(e, Math.abs(<f64>fget(dx, i) - fd) / (1 + Math.abs(fd)));
  }
  expect<bool>(e <= 1e-4).toBe(true, "input gradient vs finite differences");

  // filter gradient: colsᵀ·dY and the direct kernel
  const wLen = g.K * g.F;
  const dwGemm = alloc(wLen), dwDirect = alloc(wLen);
  im2col(x, cols, g.geo);
  naiveGemmTN(cols, r, dwGemm, g.K, g.P, g.F);
  fill(dwDirect, wLen, 999);
  conv2d_direct_backward_filter(x, r, dwDirect, g.geo, g.F, 0);
  let eg: f64 = 0, ed: f64 = 0;
  const wStep = wLen <= 120 ? 1 : 5; // 5 is prime to every F here, so every filter is visited
  for (let i = 0; i < wLen; i += wStep) {
    const fd = fdAt(g, x, w, r, y64, w, i);
    eg = Math.max(eg, Math.abs(<f64>fget(dwGemm, i) - fd) / (1 + Math.abs(fd)));
    ed = Math.max(ed, Math.abs(<f64>fget(dwDirect, i) - fd) / (1 + Math.abs(fd)));
  }
  expect<bool>(eg <= 1e-4).toBe(true, "filter gradient (im2col + gemm_tn) vs finite differences");
  expect<bool>(ed <= 1e-4).toBe(true, "filter gradient (direct) vs finite differences");

  // accumulate = 1 adds onto what is there
  const d0 = randomF32(wLen), acc = alloc(wLen);
  memory.copy(acc, d0, <usize>wLen * 4);
  conv2d_direct_backward_filter(x, r, acc, g.geo, g.F, 1);
  let ea: f64 = 0;
  for (let i = 0; i < wLen; i++) ea = Math.max(ea, Math.abs(<f64>fget(acc, i) - <f64>fget(d0, i) - <f64>fget(dwDirect, i)));
  expect<bool>(ea <= 1e-5).toBe(true, "direct filter gradient accumulate");

  // every direct path (per tap, three taps, four channels a sweep) adds each weight's pixels in (n, oy, ox) order
  const want = alloc(wLen), wantAcc = alloc(wLen);
  filterGradF32(g, x, r, want, 0);
  memory.copy(wantAcc, d0, <usize>wLen * 4);
  filterGradF32(g, x, r, wantAcc, 1);
  let same = true;
  for (let i = 0; i < wLen; i++) same = same && fget(dwDirect, i) == fget(want, i) && fget(acc, i) == fget(wantAcc, i);
  expect<bool>(same).toBe(true, "direct filter gradient sums in (n, oy, ox) order");
}

/** dw[ky, kx, c, f] (+)= x[n, iy, ix, c]·dy[n, oy, ox, f], one f32 multiply-add at a time in (n, oy, ox) order. */
function filterGradF32(g: Conv, x: usize, dy: usize, dw: usize, accumulate: i32): void {
  for (let ky = 0; ky < g.KH; ky++)
    for (let kx = 0; kx < g.KW; kx++)
      for (let c = 0; c < g.C; c++)
        for (let f = 0; f < g.F; f++) {
          const i = ((ky * g.KW + kx) * g.C + c) * g.F + f;
          let s: f32 = accumulate ? fget(dw, i) : 0;
          for (let n = 0; n < g.N; n++)
            for (let oy = 0; oy < g.OH; oy++)
              for (let ox = 0; ox < g.OW; ox++) {
                const iy = oy * g.sh - g.pt + ky * g.dh, ix = ox * g.sw - g.pl + kx * g.dw;
                if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
                s += fget(x, ((n * g.H + iy) * g.W + ix) * g.C + c) * fget(dy, ((n * g.OH + oy) * g.OW + ox) * g.F + f);
              }
          fset(dw, i, s);
        }
}

/**
 * conv2d_forward_maxpool against conv2d_forward then a 2x2 stride-2 maxpool_forward: the same pooled bits and argmax
 * indices, with and without bias and relu, and pooled values alone without an argmax buffer.
 */
function checkForwardMaxpool(g: Conv): void {
  const PH = g.OH >> 1, PW = g.OW >> 1, pLen = g.N * PH * PW * g.F;
  const pool = geoBlock(g.N, g.OH, g.OW, g.F, 2, 2, 2, 2, 0, 0, 1, 1, PH, PW);
  const x = randomF32(g.xLen), w = randomF32(g.K * g.F), bias = randomF32(g.F);
  const y = alloc(g.yLen), want = alloc(pLen), wantArg = alloc(pLen), got = alloc(pLen), gotArg = alloc(pLen);
  for (let variant = 0; variant < 4; variant++) {
    const b: usize = variant & 1 ? bias : 0, relu = variant >> 1;
    conv2d_forward(x, w, b, y, g.geo, g.F, relu);
    maxpool_forward(y, want, wantArg, pool);
    fill(got, pLen, 321);
    conv2d_forward_maxpool(x, w, b, got, gotArg, g.geo, g.F, relu);
    let same = true;
    for (let i = 0; i < pLen; i++) {
      same = same && reinterpret<u32>(fget(got, i)) == reinterpret<u32>(fget(want, i)) && load<i32>(gotArg + (<usize>i << 2)) == load<i32>(wantArg + (<usize>i << 2));
    }
    expect<bool>(same).toBe(true, "conv2d_forward_maxpool = conv2d_forward + maxpool_forward, with argmax");
    fill(got, pLen, 321);
    conv2d_forward_maxpool(x, w, b, got, 0, g.geo, g.F, relu);
    same = true;
    for (let i = 0; i < pLen; i++) same = same && reinterpret<u32>(fget(got, i)) == reinterpret<u32>(fget(want, i));
    expect<bool>(same).toBe(true, "conv2d_forward_maxpool without argmax");
  }
}

function checkAll(g: Conv): void {
  checkForward(g);
  checkAdjoint(g);
  checkGradients(g);
}

describe("conv2d with its 2x2 max pooling (conv2d_forward_maxpool)", () => {
  test("3x3 valid: the reference CNN's two layers (26x26 and 11x11 outputs: odd ones lose a row and a column)", () => {
    checkForwardMaxpool(new Conv(2, 28, 28, 1, 3, 3, 1, 1, 1, 1, false, 8));
    checkForwardMaxpool(new Conv(2, 13, 13, 8, 3, 3, 1, 1, 1, 1, false, 16));
  });
  test("odd sizes, C=3, dilation 2; 2x2 stride 2 C=2 F=24; 1x1 on 2x3 (a single window)", () => {
    checkForwardMaxpool(new Conv(3, 11, 10, 3, 3, 3, 1, 1, 2, 2, false, 8));
    checkForwardMaxpool(new Conv(1, 10, 11, 2, 2, 2, 2, 2, 1, 1, false, 24));
    checkForwardMaxpool(new Conv(2, 2, 3, 5, 1, 1, 1, 1, 1, 1, false, 8));
  });
});

describe("conv geometry block", () => {
  test("indices 0..13 in the documented order", () => {
    expect<i32>(GEO_N).toBe(0); expect<i32>(GEO_H).toBe(1); expect<i32>(GEO_W).toBe(2); expect<i32>(GEO_C).toBe(3);
    expect<i32>(GEO_KH).toBe(4); expect<i32>(GEO_KW).toBe(5);
    expect<i32>(GEO_STRIDE_H).toBe(6); expect<i32>(GEO_STRIDE_W).toBe(7);
    expect<i32>(GEO_PAD_TOP).toBe(8); expect<i32>(GEO_PAD_LEFT).toBe(9);
    expect<i32>(GEO_DILATION_H).toBe(10); expect<i32>(GEO_DILATION_W).toBe(11);
    expect<i32>(GEO_OH).toBe(12); expect<i32>(GEO_OW).toBe(13); expect<i32>(GEO_LEN).toBe(14);
  });
  test("TF 'same' padding of the spec's geometry (even kernel pads more at the bottom)", () => {
    const g = new Conv(1, 7, 5, 1, 4, 3, 2, 2, 1, 1, true, 1);
    expect<i32>(g.OH).toBe(4); expect<i32>(g.OW).toBe(3);
    expect<i32>(g.pt).toBe(1); expect<i32>(g.pl).toBe(1); // totals 3 and 2
  });
});

describe("conv2d: forward (direct and im2col), adjoint, gradients", () => {
  test("3x3 same, stride 1, C=1, F=3", () => { checkAll(new Conv(2, 5, 7, 1, 3, 3, 1, 1, 1, 1, true, 3)); });
  test("3x2 valid, stride 2, C=5, F=3", () => { checkAll(new Conv(1, 7, 6, 5, 3, 2, 2, 2, 1, 1, false, 3)); });
  test("3x3 same, dilation 2, C=5, F=8", () => { checkAll(new Conv(2, 9, 8, 5, 3, 3, 1, 1, 2, 2, true, 8)); });
  test("4x3 same (asymmetric pad), stride 2, odd sizes, C=1, F=5", () => {
    checkAll(new Conv(1, 7, 5, 1, 4, 3, 2, 2, 1, 1, true, 5));
  });
  test("3x5 same, strides 2x3, dilation 2x1, C=3, F=9", () => {
    checkAll(new Conv(1, 6, 9, 3, 3, 5, 2, 3, 2, 1, true, 9));
  });
  test("5x5 valid, stride 1, C=1, F=8 (MNIST-like)", () => { checkAll(new Conv(2, 8, 8, 1, 5, 5, 1, 1, 1, 1, false, 8)); });
  test("5x5 same, stride 3 on 5x5 (windows mostly padding), C=2, F=7", () => {
    checkAll(new Conv(1, 5, 5, 2, 5, 5, 3, 3, 1, 1, true, 7));
  });
  test("3x3 valid on 9x11, C=1, F=8 (the reference CNN's first layer)", () => {
    checkAll(new Conv(2, 9, 11, 1, 3, 3, 1, 1, 1, 1, false, 8));
  });
  test("3x3 same, stride 2 on 10x13, C=1, F=16", () => { checkAll(new Conv(2, 10, 13, 1, 3, 3, 2, 2, 1, 1, true, 16)); });
  test("3x3 valid on 13x13, C=8, F=16 (the reference CNN's second layer)", () => {
    checkAll(new Conv(2, 13, 13, 8, 3, 3, 1, 1, 1, 1, false, 16));
  });
  test("3x3 same on 9x19, C=3, F=12 (blocks of four pixels, filters 8 + 4)", () => {
    checkAll(new Conv(1, 9, 19, 3, 3, 3, 1, 1, 1, 1, true, 12));
  });
  test("3x3 same, dilation 2, stride 2 on 11x23, C=2, F=17", () => {
    checkAll(new Conv(1, 11, 23, 2, 3, 3, 2, 2, 2, 2, true, 17));
  });
  test("forward blocks across rows: 2-wide and 5-wide outputs, 'same' rows with taps in the padding, C=2 F=8 and C=1 F=16", () => {
    checkAll(new Conv(3, 12, 4, 2, 3, 3, 1, 1, 1, 1, false, 8));
    checkAll(new Conv(2, 5, 7, 1, 3, 3, 1, 1, 1, 1, false, 16));
    checkAll(new Conv(2, 6, 7, 2, 3, 3, 1, 1, 1, 1, true, 8));
  });
  test("stride 1 with whole vectors of channels (col2im's gather): 3x3 same C=8 F=5, 4x4 same C=4 F=3, 2x3 valid C=12 F=2", () => {
    checkAll(new Conv(2, 6, 7, 8, 3, 3, 1, 1, 1, 1, true, 5));
    checkAll(new Conv(1, 7, 5, 4, 4, 4, 1, 1, 1, 1, true, 3));
    checkAll(new Conv(2, 4, 6, 12, 2, 3, 1, 1, 1, 1, false, 2));
  });
  test("four channels a filter-gradient sweep: 3x3 same strides 2x1 dilation 2x1 C=4 F=12, 5x5 valid C=8 F=9", () => {
    checkAll(new Conv(2, 9, 11, 4, 3, 3, 2, 1, 2, 1, true, 12));
    checkAll(new Conv(2, 8, 7, 8, 5, 5, 1, 1, 1, 1, false, 9));
  });
  test("3x3 valid, dilation 2, stride 2, C=4, F=4", () => { checkAll(new Conv(2, 9, 7, 4, 3, 3, 2, 2, 2, 2, false, 4)); });
  test("conv1d as H=1: kernel 1x3 same, C=5, F=3", () => { checkAll(new Conv(2, 1, 11, 5, 1, 3, 1, 1, 1, 1, true, 3)); });
  test("conv1d as H=1: kernel 1x4 valid, stride 2, dilation 2, C=1, F=4", () => {
    checkAll(new Conv(1, 1, 17, 1, 1, 4, 1, 2, 1, 2, false, 4));
  });
  test("conv1d causal (all padding on the left): kernel 1x3, dilation 2, C=2, F=5", () => {
    checkAll(new Conv(2, 1, 10, 2, 1, 3, 1, 1, 1, 2, false, 5, true));
  });
  test("conv1d causal, stride 2: kernel 1x4, C=3, F=8", () => {
    checkAll(new Conv(1, 1, 13, 3, 1, 4, 1, 2, 1, 1, false, 8, true));
  });
});
