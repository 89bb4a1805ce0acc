// embedding.ts against plain loops: the id check (negative, fractional, NaN, too large, first bad position), the mask,
// the gather at widths with SIMD tails, and the scatter-add with repeated ids summed in batch order (exact bits
// against a scalar sum in that order), zeroing and accumulating.
import {
  embedding_ids, embedding_check, embedding_mask, embedding_forward, embedding_backward,
} from "../../assembly/embedding";
import { buf, fget, fset, nextU32, rnd, seedRandom } from "./helpers.include";

@inline function iget(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
@inline function iset(p: usize, i: i32, v: i32): void { store<i32>(p + (<usize>i << 2), v); }

const GUARD: f32 = -555.5;

describe("embedding_ids and embedding_check", () => {
  it("accepts whole numbers in [0, inputDim) and writes them as i32", () => {
    const x = buf(6);
    const ids = buf(6);
    const vals: f32[] = [0, 1, 6, 2, 6, 3];
    for (let i = 0; i < 6; i++) fset(x, i, vals[i]);
    expect<i32>(embedding_ids(x, ids, 6, 7)).toBe(-1);
    for (let i = 0; i < 6; i++) expect<i32>(iget(ids, i)).toBe(<i32>vals[i]);
    // in place
    expect<i32>(embedding_ids(x, x, 6, 7)).toBe(-1);
    for (let i = 0; i < 6; i++) expect<i32>(iget(x, i)).toBe(<i32>vals[i]);
  });
  it("reports the first bad position: too large, negative, fractional, NaN, Infinity", () => {
    const x = buf(4);
    const ids = buf(4);
    const bad: f32[] = [7, -1, 2.5, NaN, Infinity, -0.5, 1e10];
    for (let k = 0; k < bad.length; k++) {
      fset(x, 0, 1); fset(x, 1, 2); fset(x, 2, bad[k]); fset(x, 3, 8);
      expect<i32>(embedding_ids(x, ids, 4, 7)).toBe(2, "bad value " + bad[k].toString());
    }
    fset(x, 2, 3);
    expect<i32>(embedding_ids(x, ids, 4, 7)).toBe(3);
    expect<i32>(embedding_ids(x, ids, 3, 7)).toBe(-1);
  });
  it("embedding_check: ids outside [0, inputDim), the first one", () => {
    const ids = buf(5);
    const vals: i32[] = [0, 4, 2, 3, 1];
    for (let i = 0; i < 5; i++) iset(ids, i, vals[i]);
    expect<i32>(embedding_check(ids, 5, 5)).toBe(-1);
    expect<i32>(embedding_check(ids, 5, 4)).toBe(1);
    iset(ids, 3, -1);
    expect<i32>(embedding_check(ids, 5, 5)).toBe(3);
    iset(ids, 0, -2147483648);
    expect<i32>(embedding_check(ids, 5, 5)).toBe(0);
  });
  it("embedding_mask: 1 for a token, 0 for the padding id 0", () => {
    const ids = buf(5);
    const mask = buf(5);
    const vals: i32[] = [0, 4, 0, 3, 1];
    for (let i = 0; i < 5; i++) iset(ids, i, vals[i]);
    embedding_mask(ids, mask, 5);
    for (let i = 0; i < 5; i++) expect<f32>(fget(mask, i)).toBe(vals[i] != 0 ? 1 : 0);
  });
});

const WIDTHS: i32[] = [1, 3, 4, 5, 8, 13];

describe("embedding_forward and embedding_backward", () => {
  it("gather: row i of y is row ids[i] of the table, at widths with tails, nothing written past y", () => {
    seedRandom(77);
    for (let w = 0; w < WIDTHS.length; w++) {
      const d = WIDTHS[w];
      const inputDim = 6, n = 11;
      const table = buf(inputDim * d);
      for (let i = 0; i < inputDim * d; i++) fset(table, i, rnd());
      const ids = buf(n);
      for (let i = 0; i < n; i++) iset(ids, i, <i32>(nextU32() % <u32>inputDim));
      const y = buf(n * d + 1);
      fset(y, n * d, GUARD);
      embedding_forward(ids, table, y, n, d);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < d; j++) expect<f32>(fget(y, i * d + j)).toBe(fget(table, iget(ids, i) * d + j));
      }
      expect<f32>(fget(y, n * d)).toBe(GUARD);
    }
  });
  it("scatter-add: repeated ids sum in batch order (same bits as a scalar loop), unseen rows 0, accumulate adds", () => {
    seedRandom(78);
    for (let w = 0; w < WIDTHS.length; w++) {
      const d = WIDTHS[w];
      const inputDim = 5, n = 13;
      const ids = buf(n);
      for (let i = 0; i < n; i++) iset(ids, i, <i32>(nextU32() % 3)); // ids 0..2 only: repeats, rows 3, 4 unseen
      const dy = buf(n * d);
      for (let i = 0; i < n * d; i++) fset(dy, i, rnd());
      const dt = buf(inputDim * d + 1);
      for (let i = 0; i < inputDim * d; i++) fset(dt, i, 99); // overwritten when not accumulating
      fset(dt, inputDim * d, GUARD);
      embedding_backward(ids, dy, dt, n, inputDim, d, 0);
      const want = buf(inputDim * d);
      for (let r = 0; r < inputDim; r++) {
        for (let j = 0; j < d; j++) {
          let s: f32 = 0;
          for (let i = 0; i < n; i++) if (iget(ids, i) == r) s += fget(dy, i * d + j);
          fset(want, r * d + j, s);
          expect<u32>(reinterpret<u32>(fget(dt, r * d + j))).toBe(reinterpret<u32>(s));
        }
      }
      expect<f32>(fget(dt, inputDim * d)).toBe(GUARD);
      embedding_backward(ids, dy, dt, n, inputDim, d, 1);
      for (let i = 0; i < inputDim * d; i++) {
        let s = fget(want, i);
        const r = i / d, j = i % d;
        for (let b = 0; b < n; b++) if (iget(ids, b) == r) s += fget(dy, b * d + j);
        expect<u32>(reinterpret<u32>(fget(dt, i))).toBe(reinterpret<u32>(s));
      }
    }
  });
});
