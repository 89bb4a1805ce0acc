// norm kernels: filled in by its owner.
export const NORM_KERNELS_PLACEHOLDER: i32 = 0;
