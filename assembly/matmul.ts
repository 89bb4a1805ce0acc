// Row-major f32 matrix products for the dense layer: C (m, n) = op(A) · op(B), written (accumulate = 0) or
// added onto C's existing values (accumulate = 1).
//
// One blocked driver in the GotoBLAS/BLIS loop order serves all three variants: B is packed in (kc, nc) blocks,
// A in (mc, kc) blocks, and a 5x8 register-blocked SIMD micro-kernel sweeps the packed panels. Packing reads
// op(A) and op(B) through an element stride pair (row stride, column stride), so A·B, Aᵀ·B and A·Bᵀ differ only
// in the strides they hand to the packers. The packing buffers live in the module's static data (zero-filled,
// so they cost nothing in the .wasm file); kernels therefore never allocate and need no call from JS.

/** Micro-kernel tile: MR rows of C by NR columns (two v128 per row). */
const MR = 5;
const NR = 8;
/**
 * Cache blocks: a (KC, NR) panel of packed B (16 KB) stays in L1, the packed (MC, KC) block of A (260 KB) in L2,
 * the packed (KC, NC) block of B (1 MB) in L3. MC is a multiple of MR and NC of NR, so rounding a block up to
 * whole tiles never overflows the buffers.
 */
const KC = 512;
const MC = 130;
const NC = 512;

const packedA: usize = memory.data(MC * KC * 4, 16);
const packedB: usize = memory.data(KC * NC * 4, 16);
const edgeTile: usize = memory.data(MR * NR * 4, 16);

/** C (m, n) (+)= A (m, k) · B (k, n). All row-major. */
export function gemm_nn(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, accumulate: i32): void {
  gemm(a, k, 1, b, n, 1, c, n, m, k, n, accumulate);
}

/** C (m, n) (+)= Aᵀ · B where A is stored (k, m) and B (k, n): the dense layer's weight gradient Xᵀ·dY. */
export function gemm_tn(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, accumulate: i32): void {
  gemm(a, 1, m, b, n, 1, c, n, m, k, n, accumulate);
}

/** C (m, n) (+)= A · Bᵀ where A is (m, k) and B is stored (n, k): the dense layer's input gradient dY·Wᵀ. */
export function gemm_nt(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, accumulate: i32): void {
  gemm(a, k, 1, b, 1, k, c, n, m, k, n, accumulate);
}

/**
 * The strided driver for kernels in other files (the recurrent ones multiply column blocks of a weight matrix and
 * write column blocks of its gradient). A namespace, so that `export *` in index.ts leaves it out of the wasm exports.
 */
export namespace matmul {
  /** C (m, n), row stride ldc floats, (+)= op(A) · op(B), op(A)[i, p] at a + 4 (i ars + p acs), op(B)[p, j] at b + 4 (p brs + j bcs). */
  export function gemmStrided(
    a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32,
    c: usize, ldc: i32, m: i32, k: i32, n: i32, accumulate: i32,
  ): void {
    gemm(a, ars, acs, b, brs, bcs, c, ldc, m, k, n, accumulate);
  }

  /** Floats of a prepacked (k, n) op(B). */
  export function packedFloats(k: i32, n: i32): i32 {
    return prepackedFloats(k, n);
  }

  /** Packs op(B) (k, n), element (p, j) at b + 4 (p brs + j bcs), into dst (packedFloats(k, n) floats, 16-byte aligned). */
  export function pack(b: usize, brs: i32, bcs: i32, k: i32, n: i32, dst: usize): void {
    prepackB(b, brs, bcs, k, n, dst);
  }

  /** gemmFewRows's 32-column strip (panel32 below) for a kernel that keeps B in a layout of its own (rowpack.ts). */
  export function strip32(ap: usize, astep: usize, bp: usize, ldb: usize, cp: usize, k: i32, accumulate: i32): void {
    panel32(ap, astep, bp, ldb, cp, k, accumulate);
  }

  /** gemmStrided with op(B) from pack: the same bits, without packing B again. */
  export function gemmPacked(a: usize, ars: i32, acs: i32, pb: usize, c: usize, ldc: i32, m: i32, k: i32, n: i32, accumulate: i32): void {
    gemmPrepacked(a, ars, acs, pb, c, ldc, m, k, n, accumulate);
  }
}

/** Splits `total` into equal blocks of at most `max`, each a multiple of `unit` (fewer ragged tail blocks). */
@inline
function blockSize(total: i32, max: i32, unit: i32): i32 {
  const blocks = (total + max - 1) / max;
  const size = (total + blocks - 1) / blocks;
  return (size + unit - 1) / unit * unit;
}

/**
 * Element (i, p) of op(A) is at a + 4 * (i * ars + p * acs); element (p, j) of op(B) at b + 4 * (p * brs + j * bcs).
 * C is (m, n) row-major with a row stride of cs floats (n for a whole matrix, more for a column block of a wider one).
 */
function gemm(
  a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32,
  c: usize, cs: i32, m: i32, k: i32, n: i32, accumulate: i32,
): void {
  if (m <= 0 || n <= 0) return;
  const ldc = <usize>cs << 2;
  if (k <= 0) {
    // An empty sum: C = 0, or C unchanged when accumulating.
    if (!accumulate) for (let i = 0; i < m; i++) memory.fill(c + <usize>i * ldc, 0, <usize>n * 4);
    return;
  }
  if (m <= SMALL_M && bcs == 1) {
    gemmFewRows(a, ars, acs, b, brs, c, ldc, m, k, n, accumulate);
    return;
  }
  const kcMax = blockSize(k, KC, 1);
  const mcMax = blockSize(m, MC, MR);
  const ncMax = blockSize(n, NC, NR);
  for (let jc = 0; jc < n; jc += ncMax) {
    const nc = min(ncMax, n - jc);
    for (let pc = 0; pc < k; pc += kcMax) {
      const kc = min(kcMax, k - pc);
      packB(b + ((<usize>pc * brs + <usize>jc * bcs) << 2), brs, bcs, kc, nc, packedB);
      // Later k blocks add onto the partial sums the first one wrote.
      const addC = accumulate | i32(pc > 0);
      for (let ic = 0; ic < m; ic += mcMax) {
        const mc = min(mcMax, m - ic);
        packA(a + ((<usize>ic * ars + <usize>pc * acs) << 2), ars, acs, mc, kc);
        macroKernel(mc, nc, kc, packedB, c + <usize>ic * ldc + (<usize>jc << 2), ldc, addC);
      }
    }
  }
}

/**
 * gemm with op(B) packed beforehand by prepackB (k, n the same): for a B used by many products, such as a recurrent
 * kernel multiplied once per time step. The same blocks, kernel and sums as gemm, so the same bits.
 */
function gemmPrepacked(a: usize, ars: i32, acs: i32, pb: usize, c: usize, cs: i32, m: i32, k: i32, n: i32, accumulate: i32): void {
  if (m <= 0 || n <= 0 || k <= 0) {
    gemm(a, ars, acs, 0, 0, 0, c, cs, m, k, n, accumulate);
    return;
  }
  const ldc = <usize>cs << 2;
  const kcMax = blockSize(k, KC, 1);
  const mcMax = blockSize(m, MC, MR);
  const ncMax = blockSize(n, NC, NR);
  let block = pb;
  for (let jc = 0; jc < n; jc += ncMax) {
    const nc = min(ncMax, n - jc);
    for (let pc = 0; pc < k; pc += kcMax) {
      const kc = min(kcMax, k - pc);
      const addC = accumulate | i32(pc > 0);
      for (let ic = 0; ic < m; ic += mcMax) {
        const mc = min(mcMax, m - ic);
        packA(a + ((<usize>ic * ars + <usize>pc * acs) << 2), ars, acs, mc, kc);
        macroKernel(mc, nc, kc, block, c + <usize>ic * ldc + (<usize>jc << 2), ldc, addC);
      }
      block += <usize>kc * <usize>((nc + NR - 1) / NR * NR) << 2;
    }
  }
}

/** Floats prepackB writes for a (k, n) op(B): every (kc, nc) block with nc rounded up to whole NR panels. */
function prepackedFloats(k: i32, n: i32): i32 {
  const ncMax = blockSize(max(n, 1), NC, NR);
  let floats = 0;
  for (let jc = 0; jc < n; jc += ncMax) floats += k * ((min(ncMax, n - jc) + NR - 1) / NR * NR);
  return floats;
}

/** Packs the whole (k, n) op(B) at b (strides brs, bcs) into dst, block after block in the order gemmPrepacked reads them. */
function prepackB(b: usize, brs: i32, bcs: i32, k: i32, n: i32, dst: usize): void {
  if (k <= 0 || n <= 0) return;
  const kcMax = blockSize(k, KC, 1);
  const ncMax = blockSize(n, NC, NR);
  for (let jc = 0; jc < n; jc += ncMax) {
    const nc = min(ncMax, n - jc);
    for (let pc = 0; pc < k; pc += kcMax) {
      const kc = min(kcMax, k - pc);
      packB(b + ((<usize>pc * brs + <usize>jc * bcs) << 2), brs, bcs, kc, nc, dst);
      dst += <usize>kc * <usize>((nc + NR - 1) / NR * NR) << 2;
    }
  }
}

/**
 * Up to SMALL_M rows (one-sample predict): packing B would cost more than the product, so stream B once per row,
 * 32 columns at a time (then 4, then 1), straight from its rows (B's columns must be contiguous: A·B and Aᵀ·B). Every element of C
 * is the same sequential f32 sum C + a0·b0 + a1·b1 + ... as in the packed path, so a sample's outputs have the
 * same bits whether it is predicted alone or in a batch.
 */
const SMALL_M = 4;

function gemmFewRows(a: usize, ars: i32, acs: i32, b: usize, brs: i32, c: usize, ldc: usize, m: i32, k: i32, n: i32, accumulate: i32): void {
  const ldb = <usize>brs << 2;
  const astep = <usize>acs << 2;
  for (let i = 0; i < m; i++) {
    const arow = a + (<usize>i * ars << 2);
    const crow = c + <usize>i * ldc;
    let j = 0;
    for (; j + 32 <= n; j += 32) panel32(arow, astep, b + (<usize>j << 2), ldb, crow + (<usize>j << 2), k, accumulate);
    for (; j + 4 <= n; j += 4) {
      const cp = crow + (<usize>j << 2);
      let c0 = accumulate ? v128.load(cp) : f32x4.splat(0);
      let bp = b + (<usize>j << 2);
      let ap = arow;
      for (let p = 0; p < k; p++) {
        c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(ap), v128.load(bp)));
        bp += ldb;
        ap += astep;
      }
      v128.store(cp, c0);
    }
    for (; j < n; j++) {
      const cp = crow + (<usize>j << 2);
      let s: f32 = accumulate ? load<f32>(cp) : 0;
      let bp = b + (<usize>j << 2);
      let ap = arow;
      for (let p = 0; p < k; p++) {
        s += load<f32>(ap) * load<f32>(bp);
        bp += ldb;
        ap += astep;
      }
      store<f32>(cp, s);
    }
  }
}

/**
 * c[0..32) (+)= a (k values, astep bytes apart) · B (k, 32 columns; rows ldb bytes apart): gemmFewRows's 32 columns,
 * each the sequential sum c + a0·b0 + a1·b1 + ... in k order. Two k steps per pass (a first odd step peeled off
 * before the loop, not after it) and a function of its own: V8 then runs it at about twice the speed of one step
 * per pass inside the row loop (Node 20, 1x128x128: 19 against 38 GFLOPS; a tail step after the loop, or the loop
 * inlined into gemmFewRows, gives most of it back).
 */
function panel32(ap: usize, astep: usize, bp: usize, ldb: usize, cp: usize, k: i32, accumulate: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  if (accumulate) {
    c0 = v128.load(cp); c1 = v128.load(cp, 16); c2 = v128.load(cp, 32); c3 = v128.load(cp, 48);
    c4 = v128.load(cp, 64); c5 = v128.load(cp, 80); c6 = v128.load(cp, 96); c7 = v128.load(cp, 112);
  }
  if (k & 1) {
    const av = v128.load32_splat(ap);
    c0 = f32x4.add(c0, f32x4.mul(av, v128.load(bp)));
    c1 = f32x4.add(c1, f32x4.mul(av, v128.load(bp, 16)));
    c2 = f32x4.add(c2, f32x4.mul(av, v128.load(bp, 32)));
    c3 = f32x4.add(c3, f32x4.mul(av, v128.load(bp, 48)));
    c4 = f32x4.add(c4, f32x4.mul(av, v128.load(bp, 64)));
    c5 = f32x4.add(c5, f32x4.mul(av, v128.load(bp, 80)));
    c6 = f32x4.add(c6, f32x4.mul(av, v128.load(bp, 96)));
    c7 = f32x4.add(c7, f32x4.mul(av, v128.load(bp, 112)));
    bp += ldb; ap += astep;
  }
  for (let p = k & 1; p < k; p += 2) {
    let av = v128.load32_splat(ap);
    c0 = f32x4.add(c0, f32x4.mul(av, v128.load(bp)));
    c1 = f32x4.add(c1, f32x4.mul(av, v128.load(bp, 16)));
    c2 = f32x4.add(c2, f32x4.mul(av, v128.load(bp, 32)));
    c3 = f32x4.add(c3, f32x4.mul(av, v128.load(bp, 48)));
    c4 = f32x4.add(c4, f32x4.mul(av, v128.load(bp, 64)));
    c5 = f32x4.add(c5, f32x4.mul(av, v128.load(bp, 80)));
    c6 = f32x4.add(c6, f32x4.mul(av, v128.load(bp, 96)));
    c7 = f32x4.add(c7, f32x4.mul(av, v128.load(bp, 112)));
    bp += ldb;
    av = v128.load32_splat(ap + astep);
    c0 = f32x4.add(c0, f32x4.mul(av, v128.load(bp)));
    c1 = f32x4.add(c1, f32x4.mul(av, v128.load(bp, 16)));
    c2 = f32x4.add(c2, f32x4.mul(av, v128.load(bp, 32)));
    c3 = f32x4.add(c3, f32x4.mul(av, v128.load(bp, 48)));
    c4 = f32x4.add(c4, f32x4.mul(av, v128.load(bp, 64)));
    c5 = f32x4.add(c5, f32x4.mul(av, v128.load(bp, 80)));
    c6 = f32x4.add(c6, f32x4.mul(av, v128.load(bp, 96)));
    c7 = f32x4.add(c7, f32x4.mul(av, v128.load(bp, 112)));
    bp += ldb;
    ap += astep << 1;
  }
  v128.store(cp, c0); v128.store(cp, c1, 16); v128.store(cp, c2, 32); v128.store(cp, c3, 48);
  v128.store(cp, c4, 64); v128.store(cp, c5, 80); v128.store(cp, c6, 96); v128.store(cp, c7, 112);
}

/** Runs the micro-kernel over every (MR, NR) tile of the packed (mc, kc) A block and (kc, nc) B block. */
function macroKernel(mc: i32, nc: i32, kc: i32, packedB: usize, c: usize, ldc: usize, addC: i32): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const bp = packedB + (<usize>jr * kc << 2);
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = min(MR, mc - ir);
      const ap = packedA + (<usize>ir * kc << 2);
      const cp = c + <usize>ir * ldc + (<usize>jr << 2);
      if (mr == MR && nr == NR) {
        kernel5x8(kc, ap, bp, cp, ldc, addC);
      } else {
        // Ragged edge: run the whole padded tile on a copy, then write back only the part inside C. Starting
        // from C's values here too keeps every element's sum in the same order as in full tiles.
        if (addC) copyTile(cp, ldc, edgeTile, NR * 4, mr, nr);
        kernel5x8(kc, ap, bp, edgeTile, NR * 4, addC);
        copyTile(edgeTile, NR * 4, cp, ldc, mr, nr);
      }
    }
  }
}

/** Copies a (rows, cols) block of floats between row strides srcStride and dstStride (bytes); cols <= NR. */
function copyTile(src: usize, srcStride: usize, dst: usize, dstStride: usize, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    // A plain loop: memory.copy is a runtime call in V8, slow for 8 floats.
    for (let j = 0; j < cols; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
    src += srcStride;
    dst += dstStride;
  }
}

/**
 * C tile (5, 8) (+)= Ã (5, kc) · B̃ (kc, 8). ap holds 5 floats per k step (one from each row of the A panel),
 * bp 8 floats per k step; c is the tile's top-left corner with row stride ldc bytes; addC = 1 adds onto C.
 * Strict SIMD128 has no fused multiply-add, so each step is a mul and an add per accumulator. 5x8 keeps
 * 10 accumulators + 2 B vectors + 1 broadcast A + 1 product in V8's 15 usable xmm registers (6x8 spills)
 * and issues more arithmetic per load than 4x8. The loop is deliberately not unrolled: V8 unrolls small wasm
 * loops itself, and a bigger body schedules worse. The accumulators start from C when adding: adding C after
 * the loop instead halves V8's speed (the extra merge of the accumulators spills inside the loop).
 * Where the ceiling is (Node 20 on a Zen 5 core, panels in L1, ns per k step): 2x8 1.24, 3x8 1.25, 4x8 1.54,
 * 5x8 1.65, so 5x8 does the most arithmetic per pass, about 50 GFLOPS. V8 turns a step into some 38 instructions:
 * besides the 7 loads and 20 multiplies and adds, an address add for each broadcast with an offset, zero-extending
 * moves of the two pointers and the loop's stack check; scalar loads splatted by a shuffle (41 GFLOPS), A
 * broadcast by shuffles from one vector load (43) and two k steps a pass (40, it spills) were all slower. What a
 * product loses beyond the kernel is packing and edges: about a tenth of the kernel's time in the character GPT's
 * training step. (Reading op(B), or gemm_tn's op(A), in place instead of packing it was slower there: a panel's
 * rows, a power-of-two stride apart, share a few cache sets.)
 * So every element of C is the plain sequential f32 sum C + a0·b0 + a1·b1 + ... in k order (each product
 * rounded, then added), whatever the tile, block or runtime. Runtimes that bounds-check every memory access in
 * software (Deno, Bun) pay for the 7 loads per step; bench/README.md has the figures.
 */
function kernel5x8(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, addC: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc;
  if (addC) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c1); c11 = v128.load(c1, 16);
    c20 = v128.load(c2); c21 = v128.load(c2, 16);
    c30 = v128.load(c3); c31 = v128.load(c3, 16);
    c40 = v128.load(c4); c41 = v128.load(c4, 16);
  }
  const bEnd = bp + (<usize>kc << 5);
  while (bp < bEnd) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let av = v128.load32_splat(ap);
    c00 = f32x4.add(c00, f32x4.mul(av, b0));
    c01 = f32x4.add(c01, f32x4.mul(av, b1));
    av = v128.load32_splat(ap, 4);
    c10 = f32x4.add(c10, f32x4.mul(av, b0));
    c11 = f32x4.add(c11, f32x4.mul(av, b1));
    av = v128.load32_splat(ap, 8);
    c20 = f32x4.add(c20, f32x4.mul(av, b0));
    c21 = f32x4.add(c21, f32x4.mul(av, b1));
    av = v128.load32_splat(ap, 12);
    c30 = f32x4.add(c30, f32x4.mul(av, b0));
    c31 = f32x4.add(c31, f32x4.mul(av, b1));
    av = v128.load32_splat(ap, 16);
    c40 = f32x4.add(c40, f32x4.mul(av, b0));
    c41 = f32x4.add(c41, f32x4.mul(av, b1));
    ap += 20;
    bp += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c1, c10); v128.store(c1, c11, 16);
  v128.store(c2, c20); v128.store(c2, c21, 16);
  v128.store(c3, c30); v128.store(c3, c31, 16);
  v128.store(c4, c40); v128.store(c4, c41, 16);
}

/**
 * Packs the (mc, kc) block of op(A) into MR-row panels: panel r holds, for each p, the MR values
 * op(A)[r*MR + 0..MR-1, p] (rows past mc are zeros).
 */
function packA(a: usize, rs: i32, cs: i32, mc: i32, kc: i32): void {
  let dst = packedA;
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const rows = min(MR, mc - i0);
    const r0 = a + (<usize>i0 * rs << 2);
    if (rows == MR && cs == 1) {
      // A is row-major along k: transpose 4x4 blocks of rows 0..3 so each k step's values are adjacent; row 4
      // is copied one value at a time. Each k step takes 20 bytes, so the 16-byte stores overlap nothing.
      const rowStep = <usize>rs << 2;
      const r1 = r0 + rowStep, r2 = r1 + rowStep, r3 = r2 + rowStep, r4 = r3 + rowStep;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const off = <usize>p << 2;
        transpose4(v128.load(r0 + off), v128.load(r1 + off), v128.load(r2 + off), v128.load(r3 + off), dst, MR * 4);
        store<f32>(dst, load<f32>(r4 + off), 16);
        store<f32>(dst, load<f32>(r4 + off, 4), 36);
        store<f32>(dst, load<f32>(r4 + off, 8), 56);
        store<f32>(dst, load<f32>(r4 + off, 12), 76);
        dst += MR * 16;
      }
      for (; p < kc; p++) {
        const off = <usize>p << 2;
        store<f32>(dst, load<f32>(r0 + off));
        store<f32>(dst, load<f32>(r1 + off), 4);
        store<f32>(dst, load<f32>(r2 + off), 8);
        store<f32>(dst, load<f32>(r3 + off), 12);
        store<f32>(dst, load<f32>(r4 + off), 16);
        dst += MR * 4;
      }
    } else if (ASC_SHRINK_LEVEL == 0 && rows == MR && rs == 1) {
      // A is stored transposed: each k step's values are already adjacent. (Only gemm_tn packs a transposed A: the
      // size-optimised build, the inference module, which has gemm_nn alone, leaves this path out.)
      const step = <usize>cs << 2;
      let src = r0;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        store<f32>(dst, load<f32>(src, 16), 16);
        src += step;
        dst += MR * 4;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let i = 0; i < MR; i++) {
          store<f32>(dst + (<usize>i << 2), i < rows ? load<f32>(r0 + ((<usize>i * rs + <usize>p * cs) << 2)) : 0);
        }
        dst += MR * 4;
      }
    }
  }
}

/**
 * Packs the (kc, nc) block of op(B) into NR-column panels: panel s holds, for each p, the NR values
 * op(B)[p, s*NR + 0..NR-1] (columns past nc are zeros).
 */
function packB(b: usize, rs: i32, cs: i32, kc: i32, nc: i32, dst: usize): void {
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const cols = min(NR, nc - j0);
    const panel = b + (<usize>j0 * cs << 2);
    if (cols == NR && cs == 1) {
      // B is row-major along n: each k step's 8 values are already adjacent.
      const step = <usize>rs << 2;
      let src = panel;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += step;
        dst += 32;
      }
    } else if (ASC_SHRINK_LEVEL == 0 && cols == NR && rs == 1) {
      // B is stored transposed (n, k): transpose two 4x4 blocks per 4 k steps. (Only gemm_nt; like packA's
      // transposed path, left out of the size-optimised build.)
      const colStep = <usize>cs << 2;
      const s0 = panel, s1 = s0 + colStep, s2 = s1 + colStep, s3 = s2 + colStep;
      const s4 = s3 + colStep, s5 = s4 + colStep, s6 = s5 + colStep, s7 = s6 + colStep;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const off = <usize>p << 2;
        transpose4(v128.load(s0 + off), v128.load(s1 + off), v128.load(s2 + off), v128.load(s3 + off), dst, 32);
        transpose4(v128.load(s4 + off), v128.load(s5 + off), v128.load(s6 + off), v128.load(s7 + off), dst + 16, 32);
        dst += 128;
      }
      for (; p < kc; p++) {
        const off = <usize>p << 2;
        store<f32>(dst, load<f32>(s0 + off));
        store<f32>(dst, load<f32>(s1 + off), 4);
        store<f32>(dst, load<f32>(s2 + off), 8);
        store<f32>(dst, load<f32>(s3 + off), 12);
        store<f32>(dst, load<f32>(s4 + off), 16);
        store<f32>(dst, load<f32>(s5 + off), 20);
        store<f32>(dst, load<f32>(s6 + off), 24);
        store<f32>(dst, load<f32>(s7 + off), 28);
        dst += 32;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let j = 0; j < NR; j++) {
          store<f32>(dst + (<usize>j << 2), j < cols ? load<f32>(panel + ((<usize>p * rs + <usize>j * cs) << 2)) : 0);
        }
        dst += 32;
      }
    }
  }
}

/** Transposes the 4x4 block with rows r0..r3 and stores its columns at dst, dst + stride, dst + 2 stride, ... */
@inline
function transpose4(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, stride: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(dst + stride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}
