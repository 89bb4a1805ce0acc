// Generation's one-row products from weights packed for them. Stepping a language model multiplies ONE row through
// every weight matrix per token (3.2 MB for the character GPT, more than the core's L2 cache), so the products are
// bound by how fast the weights stream in, not by arithmetic. gemmFewRows reads a row-major W (k, n) in 32-column
// strips, 128 bytes from every row, rows n floats apart: a strided walk that the hardware prefetchers follow poorly.
// row_pack copies W once (per generation) into those strips laid end to end, each (k, 32) contiguous and the last
// one padded with zero columns; rowProduct then reads every strip front to back. Each output is the same sequential
// f32 sum 0 + a0·w0 + a1·w1 + ... in k order as gemmFewRows's and the packed GEMM's (the same strip kernel; a padded
// column's sum is computed and dropped), so the bits are those of the window's forward.
// Measured (Node 20, the GPT's 24 products cycled, 3.2 MB): 58 against 44 µs a token, 26 against 35 GFLOPS.
import { matmul } from "./matmul";

/** Columns per strip: gemmFewRows's panel. */
const STRIP = 32;
/** The last strip's outputs when n is not a multiple of STRIP (its padded columns go nowhere). */
const tail: usize = memory.data(STRIP * 4, 16);

/** Packs row-major W (k, n) into dst (ceil(n / 32) strips of (k, 32): ts/backend/kernels.ts's rowPackedFloats,
 *  16-byte aligned): strip s holds, for each p, W[p, 32s .. 32s + 31] (zeros past n). */
export function row_pack(w: usize, dst: usize, k: i32, n: i32): void {
  const ldw = <usize>n << 2;
  for (let j = 0; j < n; j += STRIP) {
    const cols = min(STRIP, n - j);
    let src = w + (<usize>j << 2);
    for (let p = 0; p < k; p++) {
      if (cols == STRIP) {
        v128.store(dst, v128.load(src)); v128.store(dst, v128.load(src, 16), 16);
        v128.store(dst, v128.load(src, 32), 32); v128.store(dst, v128.load(src, 48), 48);
        v128.store(dst, v128.load(src, 64), 64); v128.store(dst, v128.load(src, 80), 80);
        v128.store(dst, v128.load(src, 96), 96); v128.store(dst, v128.load(src, 112), 112);
      } else {
        for (let c = 0; c < STRIP; c++) store<f32>(dst + (<usize>c << 2), c < cols ? load<f32>(src + (<usize>c << 2)) : 0);
      }
      src += ldw;
      dst += STRIP * 4;
    }
  }
}

/** c (n) = a (k) · W (k, n), W packed by row_pack at pw (k >= 1). */
export function rowProduct(a: usize, pw: usize, c: usize, k: i32, n: i32): void {
  const strip = <usize>k * (STRIP * 4);
  let j = 0;
  for (; j + STRIP <= n; j += STRIP) {
    matmul.strip32(a, 4, pw, STRIP * 4, c + (<usize>j << 2), k, 0);
    pw += strip;
  }
  if (j < n) {
    matmul.strip32(a, 4, pw, STRIP * 4, tail, k, 0);
    for (let c0 = 0; j < n; j++, c0++) store<f32>(c + (<usize>j << 2), load<f32>(tail + (<usize>c0 << 2)));
  }
}
