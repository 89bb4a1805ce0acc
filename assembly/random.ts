// random kernels: filled in by its owner.
export const RANDOM_KERNELS_PLACEHOLDER: i32 = 0;
