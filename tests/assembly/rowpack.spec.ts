// rowpack.ts: the one-row product from weights packed into 32-column strips gives, bit for bit, the row that gemm_nn
// gives alone (its few-rows path) and inside a batch (the packed GEMM, as the window's forward runs it), for widths
// below, at and past a strip, odd k, and the GPT's shapes; it writes no column past n.
import { gemm_nn } from "../../assembly/matmul";
import { row_pack, rowProduct } from "../../assembly/rowpack";
import { buf, fget, fset, rnd, seedRandom } from "./helpers.include";

const GUARD = 8;
const GUARD_VALUE: f32 = 12345.0;

/** Floats row_pack writes for (k, n): ts/backend/kernels.ts's rowPackedFloats. */
function packedFloats(k: i32, n: i32): i32 {
  return (n + 31) / 32 * 32 * k;
}

/** -1 when rowProduct's row matches gemm_nn's (alone and as row 2 of 6) bit for bit and the guards hold; else the
 *  first bad column (n + g for a guard). */
function check(k: i32, n: i32): i32 {
  const rows = 6;
  const a = buf(rows * k), w = buf(k * n);
  for (let i = 0; i < rows * k; i++) fset(a, i, rnd());
  for (let i = 0; i < k * n; i++) fset(w, i, rnd());
  const packed = buf(packedFloats(k, n));
  row_pack(w, packed, k, n);
  const row = a + (<usize>(2 * k) << 2);
  const c = buf(n + GUARD), alone = buf(n), batch = buf(rows * n);
  for (let g = 0; g < GUARD; g++) fset(c, n + g, GUARD_VALUE);
  rowProduct(row, packed, c, k, n);
  gemm_nn(row, w, alone, 1, k, n, 0);
  gemm_nn(a, w, batch, rows, k, n, 0);
  for (let j = 0; j < n; j++) {
    const got = reinterpret<u32>(fget(c, j));
    if (got != reinterpret<u32>(fget(alone, j)) || got != reinterpret<u32>(fget(batch, 2 * n + j))) return j;
  }
  for (let g = 0; g < GUARD; g++) if (fget(c, n + g) != GUARD_VALUE) return n + g;
  return -1;
}

describe("rowProduct over row_pack's strips", () => {
  it("gives gemm_nn's bits, alone and in a batch, for widths around the strips and odd k", () => {
    seedRandom(17);
    const shapes: i32[][] = [[1, 1], [1, 32], [2, 33], [7, 5], [3, 64], [37, 75], [128, 97], [5, 31], [64, 96]];
    for (let s = 0; s < shapes.length; s++) expect<i32>(check(shapes[s][0], shapes[s][1])).toBe(-1, `k ${shapes[s][0]}, n ${shapes[s][1]}`);
  });

  it("on the character GPT's shapes: q/k/v/out 128x128, feed-forward 128x512 and 512x128, the head 128x85", () => {
    seedRandom(18);
    const shapes: i32[][] = [[128, 128], [128, 512], [512, 128], [128, 85]];
    for (let s = 0; s < shapes.length; s++) expect<i32>(check(shapes[s][0], shapes[s][1])).toBe(-1, `k ${shapes[s][0]}, n ${shapes[s][1]}`);
  });
});
