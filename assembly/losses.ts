// losses kernels: filled in by its owner.
export const LOSSES_KERNELS_PLACEHOLDER: i32 = 0;
