// vector.ts against plain scalar loops, for lengths around the 4-lane (and 8-lane) body: 0..9, 17, 33,
// and at a pointer 4 bytes past a 16-byte boundary (the runtime may hand out sub-blocks at any f32 offset).
import {
  vec_fill, vec_copy, vec_scale, vec_add, vec_add_inplace, vec_mul, vec_sum_squares,
  vec_has_non_finite, vec_clip, argmax_rows, vec_max_abs_diff, vec_affine,
} from "../../assembly/vector";
import { buf, fget, fset, rnd, seedRandom } from "./helpers.include";

const SIZES: i32[] = [0, 1, 2, 3, 4, 5, 7, 8, 9, 17, 33];
seedRandom(12345);

/** n values uniform in [-2, 2) at buf(n, shift). */
function randomBuf(n: i32, shift: i32 = 0): usize {
  const p = buf(n, shift);
  for (let i = 0; i < n; i++) fset(p, i, 2 * rnd());
  return p;
}
function copyOf(p: usize, n: i32): usize {
  const q = buf(n);
  for (let i = 0; i < n; i++) fset(q, i, fget(p, i));
  return q;
}

describe("elementwise kernels equal the scalar loop, element by element", () => {
  it("fill, copy, scale, add, add_inplace, mul, clip", () => {
    for (let s = 0; s < 2; s++) {
      for (let k = 0; k < SIZES.length; k++) {
        const n = SIZES[k];
        const a = randomBuf(n + 1, s);
        const b = randomBuf(n + 1, s);
        const sentinel: f32 = 777.0;
        fset(a, n, sentinel); // one past the end: must never be touched

        const o = buf(n + 1, s);
        fset(o, n, sentinel);
        vec_fill(o, n, 3.25);
        for (let i = 0; i < n; i++) expect<f32>(fget(o, i)).toBe(3.25);
        expect<f32>(fget(o, n)).toBe(sentinel, "fill wrote past n");

        vec_copy(a, o, n);
        for (let i = 0; i < n; i++) expect<f32>(fget(o, i)).toBe(fget(a, i));
        expect<f32>(fget(o, n)).toBe(sentinel, "copy wrote past n");

        const c = copyOf(a, n + 1);
        vec_scale(c, n, -0.75);
        for (let i = 0; i < n; i++) expect<f32>(fget(c, i)).toBe(fget(a, i) * -0.75);
        expect<f32>(fget(c, n)).toBe(sentinel, "scale wrote past n");

        vec_add(a, b, o, n);
        for (let i = 0; i < n; i++) expect<f32>(fget(o, i)).toBe(fget(a, i) + fget(b, i));
        vec_mul(a, b, o, n);
        for (let i = 0; i < n; i++) expect<f32>(fget(o, i)).toBe(fget(a, i) * fget(b, i));
        expect<f32>(fget(o, n)).toBe(sentinel, "add/mul wrote past n");

        // aliasing: out = a, and out = b
        const a1 = copyOf(a, n + 1);
        vec_add(a1, b, a1, n);
        for (let i = 0; i < n; i++) expect<f32>(fget(a1, i)).toBe(fget(a, i) + fget(b, i));
        const b1 = copyOf(b, n);
        vec_mul(a, b1, b1, n);
        for (let i = 0; i < n; i++) expect<f32>(fget(b1, i)).toBe(fget(a, i) * fget(b, i));
        const acc = copyOf(a, n + 1);
        vec_add_inplace(acc, b, n);
        for (let i = 0; i < n; i++) expect<f32>(fget(acc, i)).toBe(fget(a, i) + fget(b, i));
        expect<f32>(fget(acc, n)).toBe(sentinel, "add_inplace wrote past n");

        const cl = copyOf(a, n + 1);
        vec_clip(cl, n, -0.5, 1.25);
        for (let i = 0; i < n; i++) {
          const v = fget(a, i);
          const want: f32 = v < -0.5 ? -0.5 : v > 1.25 ? 1.25 : v;
          expect<f32>(fget(cl, i)).toBe(want);
        }
        expect<f32>(fget(cl, n)).toBe(sentinel, "clip wrote past n");
      }
    }
  });

  it("clip keeps NaN (body and tail lanes)", () => {
    const x = randomBuf(7);
    fset(x, 1, NaN);
    fset(x, 6, NaN);
    vec_clip(x, 7, -1, 1);
    expect<bool>(isNaN(fget(x, 1)) && isNaN(fget(x, 6))).toBe(true, "NaN was clipped to a number");
  });
});

describe("reductions", () => {
  it("sum_squares matches an f64 scalar sum (relative 1e-6)", () => {
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      for (let s = 0; s < 2; s++) {
        const x = randomBuf(n + 1, s);
        fset(x, n, 1000.0); // past the end: would dominate the sum if read
        let ref: f64 = 0;
        for (let i = 0; i < n; i++) ref += <f64>fget(x, i) * <f64>fget(x, i);
        const got = <f64>vec_sum_squares(x, n);
        expect<bool>(Math.abs(got - ref) <= 1e-6 * ref + 1e-30).toBe(true, "sum_squares n=" + n.toString());
      }
    }
    // a long vector: lane sums must still add up (relative error of an f32 sum)
    const n = 1001;
    const x = randomBuf(n);
    let ref: f64 = 0;
    for (let i = 0; i < n; i++) ref += <f64>fget(x, i) * <f64>fget(x, i);
    expect<bool>(Math.abs(<f64>vec_sum_squares(x, n) - ref) <= 1e-5 * ref).toBe(true, "sum_squares n=1001");
  });

  it("has_non_finite finds NaN/+Inf/-Inf at every position (SIMD body and tail)", () => {
    const n = 17;
    const x = randomBuf(n + 1);
    fset(x, 0, F32.MAX_VALUE); // largest finite values, subnormals and -0 are finite
    fset(x, 1, -F32.MAX_VALUE);
    fset(x, 2, F32.MIN_VALUE);
    fset(x, 3, -0.0);
    fset(x, 16, -F32.MAX_VALUE);
    fset(x, n, NaN); // past the end: must not be seen
    expect<i32>(vec_has_non_finite(x, n)).toBe(0, "finite input flagged");
    const bad: f32[] = [NaN, Infinity, -Infinity];
    for (let b = 0; b < bad.length; b++) {
      for (let i = 0; i < n; i++) {
        const keep = fget(x, i);
        fset(x, i, bad[b]);
        expect<i32>(vec_has_non_finite(x, n)).toBe(1, "missed at " + i.toString());
        fset(x, i, keep);
      }
    }
    expect<i32>(vec_has_non_finite(x, 0)).toBe(0);
    // a NaN with a payload and a negative NaN
    store<u32>(x + 20, 0xffc00001);
    expect<i32>(vec_has_non_finite(x, n)).toBe(1, "negative NaN missed");
  });

  it("max_abs_diff equals the scalar maximum; NaN shows", () => {
    for (let k = 0; k < SIZES.length; k++) {
      const n = SIZES[k];
      const a = randomBuf(n + 1, 1);
      const b = randomBuf(n + 1, 1);
      fset(a, n, 100.0); // past the end
      let ref: f32 = 0;
      for (let i = 0; i < n; i++) ref = Mathf.max(ref, Mathf.abs(fget(a, i) - fget(b, i)));
      expect<f32>(vec_max_abs_diff(a, b, n)).toBe(ref);
    }
    const a = randomBuf(9);
    const b = copyOf(a, 9);
    expect<f32>(vec_max_abs_diff(a, b, 9)).toBe(0);
    fset(b, 8, fget(b, 8) + 0.5); // only in the tail
    expect<f32>(vec_max_abs_diff(a, b, 9)).toBeCloseTo(0.5, 6);
    const keep = fget(b, 2);
    fset(b, 2, NaN); // in the SIMD body
    expect<bool>(isNaN(vec_max_abs_diff(a, b, 9))).toBe(true, "NaN difference hidden (body)");
    fset(b, 2, keep);
    fset(a, 8, NaN); // in the tail
    expect<bool>(isNaN(vec_max_abs_diff(a, b, 9))).toBe(true, "NaN difference hidden (tail)");
    fset(a, 8, Infinity); // an infinite difference is the maximum
    expect<f32>(vec_max_abs_diff(a, b, 9)).toBe(Infinity);
  });
});

describe("argmax_rows", () => {
  it("first max wins on ties; single column; negative rows", () => {
    // 4 rows x 5 cols
    const vals: f32[] = [
      0.1, 0.7, 0.2, 0.7, 0.0, // tie between 1 and 3 -> 1
      -3, -2, -1, -5, -1, //      tie between 2 and 4 -> 2
      9, 9, 9, 9, 9, //           all equal -> 0
      0, 0, 0, 0, 0.5, //         last column
    ];
    const x = buf(20);
    for (let i = 0; i < 20; i++) fset(x, i, vals[i]);
    const out = buf(4);
    argmax_rows(x, out, 4, 5);
    expect<i32>(load<i32>(out)).toBe(1);
    expect<i32>(load<i32>(out + 4)).toBe(2);
    expect<i32>(load<i32>(out + 8)).toBe(0);
    expect<i32>(load<i32>(out + 12)).toBe(4);
    argmax_rows(x, out, 3, 1); // one column: always 0
    expect<i32>(load<i32>(out + 8)).toBe(0);
  });

  it("random rows against a scalar argmax", () => {
    const rows = 13, cols = 10;
    const x = randomBuf(rows * cols);
    const out = buf(rows);
    argmax_rows(x, out, rows, cols);
    for (let r = 0; r < rows; r++) {
      let arg = 0;
      for (let j = 1; j < cols; j++) if (fget(x, r * cols + j) > fget(x, r * cols + arg)) arg = j;
      expect<i32>(load<i32>(out + (<usize>r << 2))).toBe(arg);
    }
  });
});

describe("vec_affine", () => {
  it("computes x·scale + offset against a scalar loop, in place and out of place, at every tail", () => {
    for (let n = 0; n <= 9; n++) {
      const x = heap.alloc(64), y = heap.alloc(64);
      for (let i = 0; i < 16; i++) { store<f32>(x + (<usize>i << 2), <f32>i * 1.5 - 3); store<f32>(y + (<usize>i << 2), -99); }
      vec_affine(x, y, n, 0.25, 2);
      for (let i = 0; i < n; i++) {
        const want = (<f32>i * 1.5 - 3) * <f32>0.25 + <f32>2;
        expect<f32>(load<f32>(y + (<usize>i << 2))).toBe(want);
      }
      expect<f32>(load<f32>(y + (<usize>n << 2))).toBe(-99, "nothing written past n");
      vec_affine(x, x, n, 2, -1);
      for (let i = 0; i < n; i++) expect<f32>(load<f32>(x + (<usize>i << 2))).toBe((<f32>i * 1.5 - 3) * 2 - 1);
    }
  });
});
