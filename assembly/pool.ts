// pool kernels: filled in by its owner.
export const POOL_KERNELS_PLACEHOLDER: i32 = 0;
