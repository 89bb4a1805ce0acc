// matmul kernels: filled in by its owner.
export const MATMUL_KERNELS_PLACEHOLDER: i32 = 0;
