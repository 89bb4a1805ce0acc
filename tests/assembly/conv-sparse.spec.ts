// conv-sparse.ts against the dense kernels it stands in for, bit for bit: the direct filter gradient, bias_grad, and
// gemm_nt + col2im for dx, on a dz that is nonzero at one pixel in four of each channel (as under a 2x2 max pooling)
// or at random, with strides, dilation, a filter tail and skipped outputs.
import { conv2d_backward_sparse, conv2dBackwardSparse, SPARSE_W, SPARSE_DW, SPARSE_DB, SPARSE_SCRATCH, SPARSE_FILTERS, SPARSE_LEN } from "../../assembly/conv-sparse";
import { col2im, conv2d_direct_backward_filter } from "../../assembly/conv";
import { gemm_nt } from "../../assembly/matmul";
import { bias_grad } from "../../assembly/activations";
import { alloc, fget, fill, fset, nextU32, randomF32, geoBlock, seedRandom } from "./helpers.include";

seedRandom(31415926);

function sameBits(a: usize, b: usize, n: i32): bool {
  for (let i = 0; i < n; i++) if (reinterpret<u32>(fget(a, i)) != reinterpret<u32>(fget(b, i))) return false;
  return true;
}

/** A 'valid' convolution (N, H, W, C) → (N, OH, OW, F), kernel KH x KW; dz nonzero at one pixel of each 2x2 window
 *  per channel (pooled) or at about one value in five anywhere. */
function check(N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, s: i32, d: i32, F: i32, pooled: bool): void {
  const OH = (H - (KH - 1) * d - 1) / s + 1, OW = (W - (KW - 1) * d - 1) / s + 1;
  const K = KH * KW * C, P = N * OH * OW;
  const geo = geoBlock(N, H, W, C, KH, KW, s, s, 0, 0, d, d, OH, OW);
  const x = randomF32(N * H * W * C), w = randomF32(K * F), dz = alloc(P * F);
  fill(dz, P * F, 0);
  for (let p = 0; p < P; p++) {
    const oy = (p / OW) % OH, ox = p % OW;
    for (let f = 0; f < F; f++) {
      const u = nextU32();
      const hit = pooled ? oy < (OH & ~1) && ox < (OW & ~1) && (u & 3) == 0 : u % 5 == 0;
      if (hit) fset(dz, p * F + f, <f32>((u >>> 8) % 2001) / 1000 - 1);
    }
  }
  // the dense kernels
  const dw = alloc(K * F), db = alloc(F), dx = alloc(N * H * W * C), cols = alloc(P * K);
  conv2d_direct_backward_filter(x, dz, dw, geo, F, 0);
  bias_grad(dz, db, P, F, 0);
  gemm_nt(dz, w, cols, P, F, K, 0);
  col2im(cols, dx, geo, 0);
  // the sparse kernel, into buffers full of other values
  const dw2 = alloc(K * F), db2 = alloc(F), dx2 = alloc(N * H * W * C), scratch = alloc(2 * K * F + K);
  fill(dw2, K * F, 7); fill(db2, F, 7); fill(dx2, N * H * W * C, 7);
  conv2dBackwardSparse(x, dz, w, dw2, db2, dx2, scratch, geo, F);
  expect<bool>(sameBits(dw2, dw, K * F)).toBe(true, "filter gradient: the direct kernel's bits");
  expect<bool>(sameBits(db2, db, F)).toBe(true, "bias gradient: bias_grad's bits");
  expect<bool>(sameBits(dx2, dx, N * H * W * C)).toBe(true, "input gradient: gemm_nt + col2im's bits");
  // the module's export, its pointers in a parameter block; outputs given as 0 are skipped, the others still written
  const block = alloc(SPARSE_LEN);
  store<i32>(block + (SPARSE_W << 2), <i32>w);
  store<i32>(block + (SPARSE_DW << 2), 0);
  store<i32>(block + (SPARSE_DB << 2), 0);
  store<i32>(block + (SPARSE_SCRATCH << 2), <i32>scratch);
  store<i32>(block + (SPARSE_FILTERS << 2), F);
  fill(dx2, N * H * W * C, 7);
  conv2d_backward_sparse(x, dz, dx2, geo, block);
  expect<bool>(sameBits(dx2, dx, N * H * W * C)).toBe(true, "input gradient alone");
  fill(dw2, K * F, 7); fill(db2, F, 7);
  store<i32>(block + (SPARSE_DW << 2), <i32>dw2);
  store<i32>(block + (SPARSE_DB << 2), <i32>db2);
  conv2d_backward_sparse(x, dz, 0, geo, block);
  expect<bool>(sameBits(dw2, dw, K * F) && sameBits(db2, db, F)).toBe(true, "filter and bias gradients alone");
}

describe("conv2d_backward_sparse", () => {
  test("3x3, C=8, F=16 on 13x13 (MNIST's second layer), dz as under a 2x2 max pooling", () => {
    check(3, 13, 13, 8, 3, 3, 1, 1, 16, true);
  });
  test("C=4 and C=12, F=18 (a tail of two filters), 2x3 kernel, odd sizes", () => {
    check(2, 9, 10, 4, 2, 3, 1, 1, 18, true);
    check(2, 7, 8, 12, 3, 3, 1, 1, 18, false);
  });
  test("stride 2 and dilation 2, dz nonzero anywhere", () => {
    check(2, 12, 11, 8, 3, 3, 2, 1, 16, false);
    check(2, 11, 12, 4, 3, 2, 1, 2, 16, false);
  });
});
