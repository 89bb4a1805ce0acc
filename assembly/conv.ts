// 2-D convolution kernels, channels-last (NHWC) like Keras / TF.js.
//
// Filters are [KH, KW, C, F]: flattened, a (KH·KW·C, F) matrix W. With cols = im2col(x), a (P, K) matrix where
// P = N·OH·OW and K = KH·KW·C, a convolution is three GEMMs (matmul.ts):
//   forward          y  = cols · W       gemm_nn(cols, W, y, P, K, F, 0), then the runtime adds the bias
//   filter gradient  dW = colsᵀ · dY     gemm_tn(cols, dY, dW, K, P, F, acc): nothing to add here
//   input gradient   dx = col2im(dY·Wᵀ)  gemm_nt(dY, W, dcols, P, F, K, 0), then col2im(dcols, dx, geo, acc)
// conv1d is conv2d with H = 1 and KH = 1 (x viewed as (N, 1, W, C)); it has no kernel of its own.
//
// conv2d_forward computes the forward pass without the im2col matrix: output-stationary, four pixels by eight
// filters in registers, bias and relu applied before y is written once; it sums in the same order as the GEMM path,
// so the runtime picks either by speed alone (conv2d_forward for small channel products, where packing does not
// pay; im2col + GEMM for wide layers). The direct filter gradient serves layers with few input channels (MNIST's
// first layer: C = 1, F = 8), where the GEMM's K = KH·KW·C is too short to pay for packing: measured in Node 20
// (batch 32, 28x28, 'same', C = 1, F = 8) about 4x (3x3) and 2x (5x5) faster than im2col + gemm_tn.
//
// The kernels live in conv-im2col.ts (im2col, col2im), conv-direct.ts (conv2d_forward, conv2d_forward_maxpool) and
// conv-filter-grad.ts (conv2d_direct_backward_filter); the geometry block in geometry.ts. This file is their export
// list (assembly/index.ts exports it whole, the GEO_* field indices with it, as before the split).

export {
  GEO_N, GEO_H, GEO_W, GEO_C, GEO_KH, GEO_KW, GEO_STRIDE_H, GEO_STRIDE_W, GEO_PAD_TOP, GEO_PAD_LEFT,
  GEO_DILATION_H, GEO_DILATION_W, GEO_OH, GEO_OW, GEO_LEN,
} from "./geometry";
export { im2col, col2im } from "./conv-im2col";
export { conv2d_forward, conv2d_forward_maxpool } from "./conv-direct";
export { conv2d_direct_backward_filter } from "./conv-filter-grad";
