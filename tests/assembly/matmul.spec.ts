// matmul.ts against a naive f64 triple loop over the stored layouts, for all three variants in both modes, on a
// grid of sizes below, equal to and above the 4x8 tile in each dimension (1, 3, 4, 5, 7, 8, 9, 17, ...), K = 1, and
// shapes that cross the cache blocks (KC = 512, MC = 130, NC = 512 in matmul.ts: k > 512, m > 130, n > 512), so
// partial sums over k blocks and ragged edges of every block are hit.
import { gemm_nn, gemm_tn, gemm_nt, matmul } from "../../assembly/matmul";

const NN = 0, TN = 1, NT = 2;
const VARIANT_NAMES: string[] = ["gemm_nn", "gemm_tn", "gemm_nt"];
/** Guard floats written around C: the kernels must leave them alone. */
const GUARD = 8;
const GUARD_VALUE: f32 = 12345.0;
/** f32 sums of k products: allow a few ulps per product of the sum of magnitudes (the reference is f64). */
const REL_TOL: f64 = 1e-5;

let seed: u32 = 2463534242;
function rand(): f32 {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return <f32>(seed >>> 8) / <f32>(1 << 24) * 2.0 - 1.0; // [-1, 1)
}

@inline function get(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
@inline function put(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }

/** One arena for every test buffer, handed out bump-style and rewound after each check. */
const ARENA_BYTES: usize = 8 << 20;
const arena: usize = (heap.alloc(ARENA_BYTES + 16) + 15) & ~(<usize>15);
let arenaUsed: usize = 0;

/** n floats at a 16-byte boundary plus `shift` floats (the runtime may hand out any f32 offset). */
function buf(n: i32, shift: i32): usize {
  const p = arena + arenaUsed;
  arenaUsed += (<usize>(n + shift) * 4 + 15) & ~(<usize>15);
  assert(arenaUsed <= ARENA_BYTES, "test arena too small");
  return p + (<usize>shift << 2);
}

function randomBuf(n: i32, shift: i32): usize {
  const p = buf(n, shift);
  for (let i = 0; i < n; i++) put(p, i, rand());
  return p;
}

/** op(A)[i, p] for the variant: gemm_tn stores A as (k, m). */
function aAt(variant: i32, a: usize, m: i32, k: i32, i: i32, p: i32): f32 {
  return variant == TN ? get(a, p * m + i) : get(a, i * k + p);
}

/** op(B)[p, j] for the variant: gemm_nt stores B as (n, k). */
function bAt(variant: i32, b: usize, k: i32, n: i32, p: i32, j: i32): f32 {
  return variant == NT ? get(b, j * k + p) : get(b, p * n + j);
}

function run(variant: i32, a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, accumulate: i32): void {
  if (variant == NN) gemm_nn(a, b, c, m, k, n, accumulate);
  else if (variant == TN) gemm_tn(a, b, c, m, k, n, accumulate);
  else gemm_nt(a, b, c, m, k, n, accumulate);
}

/** What check() found: the first failure, or OK. */
const OK = 0;
const WROTE_OUTSIDE_C = 1;
const OUTSIDE_TOLERANCE = 2;
const NOT_SEQUENTIAL_SUM = 3;

/**
 * Runs one variant on random (m, k, n) operands and checks every element of C against the triple loop.
 * accumulate = 0: C starts as NaN, so reading it instead of overwriting it shows up; accumulate = 1: C starts as
 * random values that must be added onto. Two references: an f64 sum (within REL_TOL of the sum of magnitudes), and
 * the plain f32 loop `s = C; for p: s += a*b` that matmul.ts promises to match bit for bit (no FMA, k order).
 */
function check(variant: i32, m: i32, k: i32, n: i32, accumulate: i32, shift: i32): i32 {
  const a = randomBuf(m * k, shift);
  const b = randomBuf(k * n, shift);
  const cBlock = buf(m * n + 2 * GUARD, shift);
  const c = cBlock + (<usize>GUARD << 2);
  const before = buf(m * n, 0);
  for (let g = 0; g < GUARD; g++) {
    put(cBlock, g, GUARD_VALUE);
    put(c, m * n + g, GUARD_VALUE);
  }
  for (let i = 0; i < m * n; i++) {
    const v = accumulate ? rand() : NaN;
    put(c, i, <f32>v);
    put(before, i, <f32>v);
  }

  run(variant, a, b, c, m, k, n, accumulate);

  let result = OK;
  for (let g = 0; g < GUARD; g++) {
    if (get(cBlock, g) != GUARD_VALUE || get(c, m * n + g) != GUARD_VALUE) result = WROTE_OUTSIDE_C;
  }
  for (let i = 0; i < m && result == OK; i++) {
    for (let j = 0; j < n; j++) {
      const start: f32 = accumulate ? get(before, i * n + j) : 0;
      let sum = <f64>start;
      let scale = Math.abs(sum);
      let sequential = start;
      for (let p = 0; p < k; p++) {
        const x = aAt(variant, a, m, k, i, p), y = bAt(variant, b, k, n, p, j);
        sum += <f64>x * <f64>y;
        scale += Math.abs(<f64>x * <f64>y);
        sequential += x * y;
      }
      const got = get(c, i * n + j);
      // NaN fails these comparisons too.
      if (!(Math.abs(<f64>got - sum) <= REL_TOL * scale + 1e-30)) {
        result = OUTSIDE_TOLERANCE;
        break;
      }
      if (!(got == sequential)) {
        result = NOT_SEQUENTIAL_SUM;
        break;
      }
    }
  }
  arenaUsed = 0;
  return result;
}

function label(variant: i32, m: i32, k: i32, n: i32, accumulate: i32): string {
  return VARIANT_NAMES[variant] + " m=" + m.toString() + " k=" + k.toString() + " n=" + n.toString()
    + (accumulate ? " accumulate" : " write");
}

const M_SIZES: i32[] = [1, 3, 4, 5, 7, 8, 9, 17];
const K_SIZES: i32[] = [1, 2, 3, 4, 5, 8, 17];
const N_SIZES: i32[] = [1, 3, 7, 8, 9, 16, 17, 25];

// A failing case names the variant and shape; the received code says how it failed (1: wrote outside C,
// 2: outside the f32 tolerance, 3: within tolerance but not the sequential f32 sum).
describe("gemm_nn, gemm_tn, gemm_nt equal the triple loop", () => {
  it("on every (m, k, n) of the small grid, writing and accumulating", () => {
    for (let variant = 0; variant < 3; variant++) {
      for (let accumulate = 0; accumulate < 2; accumulate++) {
        for (let mi = 0; mi < M_SIZES.length; mi++) {
          for (let ki = 0; ki < K_SIZES.length; ki++) {
            for (let ni = 0; ni < N_SIZES.length; ni++) {
              const m = M_SIZES[mi], k = K_SIZES[ki], n = N_SIZES[ni];
              expect<i32>(check(variant, m, k, n, accumulate, 0)).toBe(OK, label(variant, m, k, n, accumulate));
            }
          }
        }
      }
    }
  });

  it("at a pointer 4 bytes past a 16-byte boundary", () => {
    for (let variant = 0; variant < 3; variant++) {
      for (let accumulate = 0; accumulate < 2; accumulate++) {
        expect<i32>(check(variant, 9, 13, 19, accumulate, 1)).toBe(OK, label(variant, 9, 13, 19, accumulate));
      }
    }
  });

  it("on large shapes that cross the cache blocks in k, m and n, and on wide rows", () => {
    for (let variant = 0; variant < 3; variant++) {
      for (let accumulate = 0; accumulate < 2; accumulate++) {
        expect<i32>(check(variant, 130, 257, 67, accumulate, 0)).toBe(OK, label(variant, 130, 257, 67, accumulate));
        expect<i32>(check(variant, 5, 600, 9, accumulate, 0)).toBe(OK, label(variant, 5, 600, 9, accumulate));
        expect<i32>(check(variant, 3, 1100, 17, accumulate, 0)).toBe(OK, label(variant, 3, 1100, 17, accumulate));
        expect<i32>(check(variant, 137, 530, 45, accumulate, 0)).toBe(OK, label(variant, 137, 530, 45, accumulate));
        expect<i32>(check(variant, 261, 3, 1030, accumulate, 0)).toBe(OK, label(variant, 261, 3, 1030, accumulate));
        expect<i32>(check(variant, 64, 1, 33, accumulate, 0)).toBe(OK, label(variant, 64, 1, 33, accumulate));
        // A few rows take the unpacked path, in strips of 32 columns, then 4, then 1.
        expect<i32>(check(variant, 1, 37, 75, accumulate, 0)).toBe(OK, label(variant, 1, 37, 75, accumulate));
        expect<i32>(check(variant, 4, 300, 70, accumulate, 1)).toBe(OK, label(variant, 4, 300, 70, accumulate));
        // its 32-column strips take two k steps a pass, an odd first step peeled off: k = 1, 2 and even k too
        expect<i32>(check(variant, 1, 1, 32, accumulate, 0)).toBe(OK, label(variant, 1, 1, 32, accumulate));
        expect<i32>(check(variant, 1, 2, 64, accumulate, 0)).toBe(OK, label(variant, 1, 2, 64, accumulate));
        expect<i32>(check(variant, 2, 128, 96, accumulate, 0)).toBe(OK, label(variant, 2, 128, 96, accumulate));
      }
    }
  });

  it("on the character GPT's shapes (768 rows, 128 features, a 512 feed-forward, 85 ids)", () => {
    // 768 rows are 153 five-row tiles and 3 rows over; the weight gradients sum 768 rows in two k blocks; 85 columns
    // end in a 5-column panel. Generation's KV cache relies on these being the sequential sums (NOT_SEQUENTIAL_SUM).
    expect<i32>(check(NN, 768, 128, 128, 0, 0)).toBe(OK, label(NN, 768, 128, 128, 0));
    expect<i32>(check(NN, 768, 128, 85, 0, 0)).toBe(OK, label(NN, 768, 128, 85, 0));
    expect<i32>(check(TN, 128, 768, 85, 0, 0)).toBe(OK, label(TN, 128, 768, 85, 0));
    expect<i32>(check(TN, 512, 768, 128, 0, 0)).toBe(OK, label(TN, 512, 768, 128, 0));
    expect<i32>(check(NT, 768, 128, 128, 1, 0)).toBe(OK, label(NT, 768, 128, 128, 1));
    expect<i32>(check(NT, 768, 85, 128, 0, 0)).toBe(OK, label(NT, 768, 85, 128, 0));
  });

  it("on the MLP's shapes", () => {
    // forward 64x784·784x256, weight gradient (64x784)ᵀ·(64x256), input gradient (64x256)·(784x256)ᵀ
    expect<i32>(check(NN, 64, 784, 256, 0, 0)).toBe(OK, label(NN, 64, 784, 256, 0));
    expect<i32>(check(TN, 784, 64, 256, 1, 0)).toBe(OK, label(TN, 784, 64, 256, 1));
    expect<i32>(check(NT, 64, 256, 784, 0, 0)).toBe(OK, label(NT, 64, 256, 784, 0));
  });
});

describe("an empty sum (k = 0)", () => {
  it("writes zeros, or leaves C as it was when accumulating", () => {
    const c = buf(6, 0);
    for (let i = 0; i < 6; i++) put(c, i, 2.5);
    gemm_nn(0, 0, c, 2, 0, 3, 1);
    for (let i = 0; i < 6; i++) expect<f32>(get(c, i)).toBe(2.5);
    gemm_nn(0, 0, c, 2, 0, 3, 0);
    for (let i = 0; i < 6; i++) expect<f32>(get(c, i)).toBe(0);
  });
});

describe("the strided and prepacked drivers (the recurrent kernels' products)", () => {
  it("gemmPacked = gemmStrided bit for bit, op(B) plain and transposed, column blocks of a wider C, across cache blocks", () => {
    const shapes: i32[][] = [[32, 256, 40], [1, 7, 9], [3, 530, 17], [7, 13, 530], [11, 5, 3]];
    for (let s = 0; s < shapes.length; s++) {
      const m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
      for (let transposed = 0; transposed < 2; transposed++) {
        arenaUsed = 0;
        const ldc = n + 3; // C is a column block of a wider matrix: the 3 columns after it must stay untouched
        const a = randomBuf(m * k, 0);
        const b = randomBuf(k * n, 1);
        const brs = transposed ? 1 : n, bcs = transposed ? k : 1;
        const c1 = randomBuf(m * ldc, 0);
        const c2 = buf(m * ldc, 0);
        memory.copy(c2, c1, <usize>(m * ldc) * 4);
        const packed = buf(matmul.packedFloats(k, n), 0);
        matmul.pack(b, brs, bcs, k, n, packed);
        const c0 = buf(m * ldc, 0);
        memory.copy(c0, c1, <usize>(m * ldc) * 4);
        matmul.gemmStrided(a, k, 1, b, brs, bcs, c1, ldc, m, k, n, 0);
        matmul.gemmPacked(a, k, 1, packed, c2, ldc, m, k, n, 0);
        // the strided product is the reference's (op(B)[p, j] read through the strides), the columns past n untouched
        let worst: f64 = 0;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let want: f64 = 0, mag: f64 = 0;
            for (let p = 0; p < k; p++) {
              const t = <f64>get(a, i * k + p) * <f64>get(b, p * brs + j * bcs);
              want += t;
              mag += Math.abs(t);
            }
            worst = Math.max(worst, Math.abs(<f64>get(c1, i * ldc + j) - want) / (mag + 1e-30));
          }
          for (let j = n; j < ldc; j++) expect<f32>(get(c1, i * ldc + j)).toBe(get(c0, i * ldc + j));
        }
        expect<bool>(worst <= REL_TOL).toBe(true);
        for (let i = 0; i < m * ldc; i++) expect<u32>(reinterpret<u32>(get(c2, i))).toBe(reinterpret<u32>(get(c1, i)));
        matmul.gemmStrided(a, k, 1, b, brs, bcs, c1, ldc, m, k, n, 1);
        matmul.gemmPacked(a, k, 1, packed, c2, ldc, m, k, n, 1);
        for (let i = 0; i < m * ldc; i++) expect<u32>(reinterpret<u32>(get(c2, i))).toBe(reinterpret<u32>(get(c1, i)));
      }
    }
  });
});
