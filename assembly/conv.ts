// conv kernels: filled in by its owner.
export const CONV_KERNELS_PLACEHOLDER: i32 = 0;
