// vmath kernels: filled in by its owner.
export const VMATH_KERNELS_PLACEHOLDER: i32 = 0;
