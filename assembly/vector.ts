// vector kernels: filled in by its owner.
export const VECTOR_KERNELS_PLACEHOLDER: i32 = 0;
