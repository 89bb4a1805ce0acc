// Elementwise utilities over f32 arrays of any length n: a 4-lane SIMD body, then a scalar tail.
// Every tail does the same f32 operation as its SIMD lane (add, mul, the same compare-and-select), so the
// result of an element never depends on where it falls. Reductions fold their lane sums in a fixed order:
// the same bits in every engine.

/** (s0 + s1) + (s2 + s3): the fixed order in which lane sums are folded. */
@inline function laneSum(s: v128): f32 {
  return (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
}

/** x[0..n) = value. */
export function vec_fill(x: usize, n: i32, value: f32): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(x + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), value);
}

/** dst[0..n) = src[0..n) (wasm memory.copy: overlapping ranges are fine). */
export function vec_copy(src: usize, dst: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}

/** x *= s, in place. */
export function vec_scale(x: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(p, f32x4.mul(v128.load(p), sv));
  }
  for (; i < n; i++) {
    const p = x + (<usize>i << 2);
    store<f32>(p, load<f32>(p) * s);
  }
}

// y(n) = x(n)·scale + offset (the Rescaling layer: e.g. bytes 0..255 to [0, 1]); y may alias x.
export function vec_affine(x: usize, y: usize, n: i32, scale: f32, offset: f32): void {
  const sv = f32x4.splat(scale);
  const ov = f32x4.splat(offset);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(f32x4.mul(v128.load(x + o), sv), ov));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(x + o) * scale + offset);
  }
}

/** out = a + b; out may be a or b (each element is read before it is written), but not a shifted overlap. */
export function vec_add(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/** acc += x (gradient accumulation). */
export function vec_add_inplace(acc: usize, x: usize, n: i32): void {
  vec_add(acc, x, acc, n);
}

/** out = a ⊙ b (dropout: x ⊙ mask forward, dy ⊙ mask backward); out may be a or b. */
export function vec_mul(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

/** Σ x², in f32 with 8 running lane sums (two vectors, to overlap the add latency) folded in a fixed order. */
export function vec_sum_squares(x: usize, n: i32): f32 {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 2);
    const a = v128.load(p);
    const b = v128.load(p, 16);
    s0 = f32x4.add(s0, f32x4.mul(a, a));
    s1 = f32x4.add(s1, f32x4.mul(b, b));
  }
  if (i + 4 <= n) {
    const a = v128.load(x + (<usize>i << 2));
    s0 = f32x4.add(s0, f32x4.mul(a, a));
    i += 4;
  }
  const s = f32x4.add(s0, s1);
  let sum = laneSum(s);
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    sum += v * v;
  }
  return sum;
}

/** 1 if any element is NaN or ±Inf, else 0: exponent bits all ones, i.e. |bits| > 0x7f7fffff (the largest finite). */
export function vec_has_non_finite(x: usize, n: i32): i32 {
  const absMask = i32x4.splat(0x7fffffff);
  const maxFinite = i32x4.splat(0x7f7fffff);
  let bad = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const bits = v128.and(v128.load(x + (<usize>i << 2)), absMask);
    bad = v128.or(bad, i32x4.gt_s(bits, maxFinite));
  }
  if (v128.any_true(bad)) return 1;
  for (; i < n; i++) {
    if ((load<u32>(x + (<usize>i << 2)) & 0x7fffffff) > 0x7f7fffff) return 1;
  }
  return 0;
}

/** x = clip(x, lo, hi), in place; NaN stays NaN. Written with pmax/pmin (pmax(x, lo) = x < lo ? lo : x;
 *  pmin(y, hi) = hi < y ? hi : y), which are one instruction on x86 where the IEEE min/max are a sequence. */
export function vec_clip(x: usize, n: i32, lo: f32, hi: f32): void {
  const lov = f32x4.splat(lo);
  const hiv = f32x4.splat(hi);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(p, f32x4.pmin(f32x4.pmax(v128.load(p), lov), hiv));
  }
  for (; i < n; i++) {
    const p = x + (<usize>i << 2);
    const v = load<f32>(p);
    const y = v < lo ? lo : v;
    store<f32>(p, hi < y ? hi : y);
  }
}

/** out (rows) i32 = argmax of each row of x (rows, cols) row-major; ties go to the first max, NaN never wins
 *  (unless it is the first element). Scalar: rows are short (classes). */
export function argmax_rows(x: usize, out: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>r * <usize>cols << 2);
    let best = load<f32>(row);
    let arg = 0;
    for (let j = 1; j < cols; j++) {
      const v = load<f32>(row + (<usize>j << 2));
      if (v > best) {
        best = v;
        arg = j;
      }
    }
    store<i32>(out + (<usize>r << 2), arg);
  }
}

/** max |a − b| (0 for n = 0); NaN if any difference is NaN, so a test comparing buffers cannot pass by accident.
 *  pmax (m < d ? d : m) is one instruction on x86; NaNs are tracked in their own mask. */
export function vec_max_abs_diff(a: usize, b: usize, n: i32): f32 {
  let m = f32x4.splat(0);
  let nan = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const d = f32x4.abs(f32x4.sub(v128.load(a + o), v128.load(b + o)));
    m = f32x4.pmax(m, d);
    nan = v128.or(nan, f32x4.ne(d, d));
  }
  if (v128.any_true(nan)) return NaN;
  const m01 = f32x4.extract_lane(m, 0) < f32x4.extract_lane(m, 1) ? f32x4.extract_lane(m, 1) : f32x4.extract_lane(m, 0);
  const m23 = f32x4.extract_lane(m, 2) < f32x4.extract_lane(m, 3) ? f32x4.extract_lane(m, 3) : f32x4.extract_lane(m, 2);
  let r = m01 < m23 ? m23 : m01;
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const d = abs<f32>(load<f32>(a + o) - load<f32>(b + o));
    if (d != d) return NaN;
    r = r < d ? d : r;
  }
  return r;
}
