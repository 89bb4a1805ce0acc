// pool.ts against plain reference pools written here (window scans over real cells only), gradients against central
// finite differences of L = Σ r⊙y computed with the references. Channel counts hit the SIMD body and the tail.
import {
  maxpool_forward, maxpool_backward, avgpool_forward, avgpool_backward,
  global_avgpool_forward, global_avgpool_backward, global_maxpool_forward, global_maxpool_backward,
} from "../../assembly/pool";
import { alloc, fget, fill, fset, nextU32, randomF32, rnd, geoBlock, seedRandom } from "./helpers.include";

seedRandom(987654321);
function iget(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
function iset(p: usize, i: i32, v: i32): void { store<i32>(p + (<usize>i << 2), v); }
/** n distinct values 0.01 apart, shuffled: max pooling's finite differences with h < 0.005 never switch the argmax. */
function distinctF32(n: i32): usize {
  const p = alloc(n);
  for (let i = 0; i < n; i++) fset(p, i, <f32>(i - n / 2) * 0.01);
  for (let i = n - 1; i > 0; i--) {
    const j = <i32>((nextU32() >>> 8) % <u32>(i + 1));
    const t = fget(p, i);
    fset(p, i, fget(p, j));
    fset(p, j, t);
  }
  return p;
}
/** Values from {-1, -0.5, 0, 0.5, 1}: many ties inside each window. */
function tiedF32(n: i32): usize {
  const p = alloc(n);
  for (let i = 0; i < n; i++) fset(p, i, Mathf.round(rnd() * 2) * 0.5);
  return p;
}

class Pool {
  N: i32; H: i32; W: i32; C: i32; KH: i32; KW: i32; sh: i32; sw: i32;
  OH: i32; OW: i32; pt: i32; pl: i32;
  geo: usize;
  constructor(N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, sh: i32, sw: i32, same: bool) {
    this.N = N; this.H = H; this.W = W; this.C = C; this.KH = KH; this.KW = KW; this.sh = sh; this.sw = sw;
    if (same) {
      this.OH = (H + sh - 1) / sh;
      this.OW = (W + sw - 1) / sw;
      this.pt = max((this.OH - 1) * sh + KH - H, 0) / 2;
      this.pl = max((this.OW - 1) * sw + KW - W, 0) / 2;
    } else {
      this.OH = (H - KH) / sh + 1;
      this.OW = (W - KW) / sw + 1;
      this.pt = 0;
      this.pl = 0;
    }
    this.geo = geoBlock(N, H, W, C, KH, KW, sh, sw, this.pt, this.pl, 1, 1, this.OH, this.OW);
  }
  get xLen(): i32 { return this.N * this.H * this.W * this.C; }
  get yLen(): i32 { return this.N * this.OH * this.OW * this.C; }
}

/** Reference pools, f64 out. Max: first strict maximum in row-major window order, over real cells. */
function refMaxPool(g: Pool, x: usize, y64: usize, arg: usize): void {
  for (let n = 0; n < g.N; n++) for (let oy = 0; oy < g.OH; oy++) for (let ox = 0; ox < g.OW; ox++)
    for (let c = 0; c < g.C; c++) {
      let best: f64 = -Infinity, bestIdx = -1;
      for (let ky = 0; ky < g.KH; ky++) for (let kx = 0; kx < g.KW; kx++) {
        const iy = oy * g.sh - g.pt + ky, ix = ox * g.sw - g.pl + kx;
        if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
        const i = ((n * g.H + iy) * g.W + ix) * g.C + c;
        if (<f64>fget(x, i) > best) { best = fget(x, i); bestIdx = i; }
      }
      const o = ((n * g.OH + oy) * g.OW + ox) * g.C + c;
      store<f64>(y64 + (<usize>o << 3), best);
      if (arg) iset(arg, o, bestIdx);
    }
}
function refAvgPool(g: Pool, x: usize, y64: usize): void {
  for (let n = 0; n < g.N; n++) for (let oy = 0; oy < g.OH; oy++) for (let ox = 0; ox < g.OW; ox++)
    for (let c = 0; c < g.C; c++) {
      let s: f64 = 0, count = 0;
      for (let ky = 0; ky < g.KH; ky++) for (let kx = 0; kx < g.KW; kx++) {
        const iy = oy * g.sh - g.pt + ky, ix = ox * g.sw - g.pl + kx;
        if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
        s += fget(x, ((n * g.H + iy) * g.W + ix) * g.C + c);
        count++;
      }
      store<f64>(y64 + (<usize>(((n * g.OH + oy) * g.OW + ox) * g.C + c) << 3), s / count);
    }
}
function refLoss(g: Pool, isMax: bool, x: usize, r: usize, y64: usize): f64 {
  if (isMax) refMaxPool(g, x, y64, 0);
  else refAvgPool(g, x, y64);
  let s: f64 = 0;
  for (let i = 0; i < g.yLen; i++) s += <f64>fget(r, i) * load<f64>(y64 + (<usize>i << 3));
  return s;
}
function fdAt(g: Pool, isMax: bool, x: usize, r: usize, y64: usize, i: i32, h: f32): f64 {
  const v = fget(x, i);
  const up = v + h, down = v - h;
  fset(x, i, up);
  const lp = refLoss(g, isMax, x, r, y64);
  fset(x, i, down);
  const lm = refLoss(g, isMax, x, r, y64);
  fset(x, i, v);
  return (lp - lm) / (<f64>up - <f64>down);
}
function maxErr(a: usize, b64: usize, n: i32): f64 {
  let e: f64 = 0;
  for (let i = 0; i < n; i++) {
    const b = load<f64>(b64 + (<usize>i << 3));
    e = Math.max(e, Math.abs(<f64>fget(a, i) - b) / (1 + Math.abs(b)));
  }
  return e;
}

function checkMaxPool(g: Pool): void {
  const y64 = alloc(g.yLen), refArg = alloc(g.yLen);
  const y = alloc(g.yLen), arg = alloc(g.yLen);
  // ties: the first maximum in window order wins, in the SIMD body and the scalar tail alike
  const xt = tiedF32(g.xLen);
  refMaxPool(g, xt, y64, refArg);
  maxpool_forward(xt, y, arg, g.geo);
  let argOk = true;
  for (let i = 0; i < g.yLen; i++) argOk = argOk && iget(arg, i) == iget(refArg, i);
  expect<bool>(maxErr(y, y64, g.yLen) == 0).toBe(true, "max pool forward with ties");
  expect<bool>(argOk).toBe(true, "max pool argmax with ties");

  const x = distinctF32(g.xLen), r = randomF32(g.yLen);
  refMaxPool(g, x, y64, refArg);
  maxpool_forward(x, y, arg, g.geo);
  argOk = true;
  for (let i = 0; i < g.yLen; i++) argOk = argOk && iget(arg, i) == iget(refArg, i);
  expect<bool>(maxErr(y, y64, g.yLen) == 0).toBe(true, "max pool forward");
  expect<bool>(argOk).toBe(true, "max pool argmax");
  // without an argmax buffer (inference) the same values, ties and all
  const yv = alloc(g.yLen);
  fill(yv, g.yLen, 321);
  maxpool_forward(x, yv, 0, g.geo);
  expect<bool>(maxErr(yv, y64, g.yLen) == 0).toBe(true, "max pool forward without argmax");
  refMaxPool(g, xt, y64, refArg);
  maxpool_forward(xt, yv, 0, g.geo);
  expect<bool>(maxErr(yv, y64, g.yLen) == 0).toBe(true, "max pool forward without argmax, ties");
  refMaxPool(g, x, y64, refArg);

  const dx = alloc(g.xLen);
  fill(dx, g.xLen, 123);
  maxpool_backward(r, arg, dx, g.geo, 0, 0);
  let e: f64 = 0;
  for (let i = 0; i < g.xLen; i++) {
    const fd = fdAt(g, true, x, r, y64, i, 0.002);
    e = Math.max(e, Math.abs(<f64>fget(dx, i) - fd) / (1 + Math.abs(fd)));
  }
  expect<bool>(e <= 1e-3).toBe(true, "max pool backward vs finite differences");

  // through a relu (reluY: the pooling's y, here values of either sign): dy passes only where reluY > 0, the same
  // f32 adds in the same order
  const reluY = randomF32(g.yLen), dxr = alloc(g.xLen), want = alloc(g.xLen);
  fill(dxr, g.xLen, 123);
  fill(want, g.xLen, 0);
  for (let i = 0; i < g.yLen; i++) {
    const j = iget(arg, i);
    if (j >= 0 && fget(reluY, i) > 0) fset(want, j, fget(want, j) + fget(r, i));
  }
  maxpool_backward(r, arg, dxr, g.geo, 0, reluY);
  let reluOk = true;
  for (let i = 0; i < g.xLen; i++) reluOk = reluOk && reinterpret<u32>(fget(dxr, i)) == reinterpret<u32>(fget(want, i));
  expect<bool>(reluOk).toBe(true, "max pool backward through a relu (reluY)");

  const d0 = randomF32(g.xLen), acc = alloc(g.xLen);
  memory.copy(acc, d0, <usize>g.xLen * 4);
  maxpool_backward(r, arg, acc, g.geo, 1, 0);
  let ea: f64 = 0;
  for (let i = 0; i < g.xLen; i++) ea = Math.max(ea, Math.abs(<f64>fget(acc, i) - <f64>fget(d0, i) - <f64>fget(dx, i)));
  expect<bool>(ea <= 1e-6).toBe(true, "max pool backward accumulate");
}

function checkAvgPool(g: Pool): void {
  const y64 = alloc(g.yLen), y = alloc(g.yLen);
  // constant input stays constant only if padding cells are left out of the divisor
  const ones = alloc(g.xLen);
  fill(ones, g.xLen, 1);
  avgpool_forward(ones, y, g.geo);
  let onesOk = true;
  for (let i = 0; i < g.yLen; i++) onesOk = onesOk && Mathf.abs(fget(y, i) - 1) <= 1e-6;
  expect<bool>(onesOk).toBe(true, "avg pool divides by the real cells");

  const x = randomF32(g.xLen), r = randomF32(g.yLen);
  refAvgPool(g, x, y64);
  avgpool_forward(x, y, g.geo);
  expect<bool>(maxErr(y, y64, g.yLen) <= 1e-6).toBe(true, "avg pool forward");

  const dx = alloc(g.xLen);
  fill(dx, g.xLen, 123);
  avgpool_backward(r, dx, g.geo, 0);
  let e: f64 = 0;
  for (let i = 0; i < g.xLen; i++) {
    const fd = fdAt(g, false, x, r, y64, i, 0.125);
    e = Math.max(e, Math.abs(<f64>fget(dx, i) - fd) / (1 + Math.abs(fd)));
  }
  expect<bool>(e <= 1e-5).toBe(true, "avg pool backward vs finite differences");

  const d0 = randomF32(g.xLen), acc = alloc(g.xLen);
  memory.copy(acc, d0, <usize>g.xLen * 4);
  avgpool_backward(r, acc, g.geo, 1);
  let ea: f64 = 0;
  for (let i = 0; i < g.xLen; i++) ea = Math.max(ea, Math.abs(<f64>fget(acc, i) - <f64>fget(d0, i) - <f64>fget(dx, i)));
  expect<bool>(ea <= 1e-6).toBe(true, "avg pool backward accumulate");
}

function checkPools(g: Pool): void {
  checkMaxPool(g);
  checkAvgPool(g);
}

function checkGlobal(n: i32, hw: i32, c: i32): void {
  const len = n * hw * c;
  const x = distinctF32(len), dy = randomF32(n * c);
  const y = alloc(n * c), arg = alloc(n * c), dx = alloc(len);
  global_avgpool_forward(x, y, n, hw, c);
  let e: f64 = 0;
  for (let s = 0; s < n; s++) for (let j = 0; j < c; j++) {
    let sum: f64 = 0;
    for (let p = 0; p < hw; p++) sum += fget(x, (s * hw + p) * c + j);
    e = Math.max(e, Math.abs(<f64>fget(y, s * c + j) - sum / hw));
  }
  expect<bool>(e <= 1e-6).toBe(true, "global avg pool forward");

  fill(dx, len, 77);
  global_avgpool_backward(dy, dx, n, hw, c);
  e = 0;
  for (let i = 0; i < len; i++) {
    const s = i / (hw * c), j = i % c;
    e = Math.max(e, Math.abs(<f64>fget(dx, i) - <f64>fget(dy, s * c + j) / hw));
  }
  expect<bool>(e <= 1e-6).toBe(true, "global avg pool backward");

  global_maxpool_forward(x, y, arg, n, hw, c);
  let ok = true;
  for (let s = 0; s < n; s++) for (let j = 0; j < c; j++) {
    let best: f32 = -Infinity, bi = -1;
    for (let p = 0; p < hw; p++) {
      const i = (s * hw + p) * c + j;
      if (fget(x, i) > best) { best = fget(x, i); bi = i; }
    }
    ok = ok && fget(y, s * c + j) == best && iget(arg, s * c + j) == bi;
  }
  expect<bool>(ok).toBe(true, "global max pool forward and argmax");

  fill(dx, len, 77);
  global_maxpool_backward(dy, arg, dx, n, hw, c);
  ok = true;
  for (let i = 0; i < len; i++) {
    const s = i / (hw * c), j = i % c;
    const want: f32 = iget(arg, s * c + j) == i ? fget(dy, s * c + j) : 0;
    ok = ok && fget(dx, i) == want;
  }
  expect<bool>(ok).toBe(true, "global max pool backward");
}

describe("max and average pooling", () => {
  test("3x3 stride 1 same (overlapping), C=1", () => { checkPools(new Pool(2, 5, 6, 1, 3, 3, 1, 1, true)); });
  test("3x3 stride 2 same (overlapping), C=5", () => { checkPools(new Pool(1, 7, 7, 5, 3, 3, 2, 2, true)); });
  test("2x2 stride 2 valid, odd width, C=8", () => { checkPools(new Pool(2, 6, 5, 8, 2, 2, 2, 2, false)); });
  test("2x2 stride 2 valid, odd height and width (a row and a column in no window), C=4 and C=12", () => {
    checkPools(new Pool(3, 7, 9, 4, 2, 2, 2, 2, false));
    checkPools(new Pool(2, 4, 4, 12, 2, 2, 2, 2, false));
  });
  test("2x2 stride 2 same on an odd size (half windows), C=8", () => { checkPools(new Pool(2, 5, 7, 8, 2, 2, 2, 2, true)); });
  test("2x2 stride 2 same (pads bottom and right), C=3", () => { checkPools(new Pool(1, 5, 5, 3, 2, 2, 2, 2, true)); });
  test("3x2 strides 1x2 same, C=9", () => { checkPools(new Pool(1, 4, 7, 9, 3, 2, 1, 2, true)); });
  test("4x4 stride 1 same (pads 1 before, 2 after), C=4", () => { checkPools(new Pool(1, 5, 6, 4, 4, 4, 1, 1, true)); });
  test("avg pool 'same' border divisor: corner of a 3x3 window sees 4 cells", () => {
    const g = new Pool(1, 3, 3, 1, 3, 3, 1, 1, true);
    const x = alloc(9), y = alloc(9);
    for (let i = 0; i < 9; i++) fset(x, i, <f32>i);
    avgpool_forward(x, y, g.geo);
    expect<f32>(fget(y, 0)).toBeCloseTo(<f32>(0 + 1 + 3 + 4) / 4, 5);
    expect<f32>(fget(y, 4)).toBeCloseTo(<f32>36 / 9, 5);
    expect<f32>(fget(y, 5)).toBeCloseTo(<f32>(1 + 2 + 4 + 5 + 7 + 8) / 6, 5);
  });
});

describe("global pooling", () => {
  test("hw=1, c=1,3,4", () => { checkGlobal(2, 1, 1); checkGlobal(2, 1, 3); checkGlobal(1, 1, 4); });
  test("hw=5, c=5,8,9", () => { checkGlobal(2, 5, 5); checkGlobal(3, 5, 8); checkGlobal(2, 5, 9); });
  test("hw=9, c=17", () => { checkGlobal(2, 9, 17); });
});
