// activations kernels: filled in by its owner.
export const ACTIVATIONS_KERNELS_PLACEHOLDER: i32 = 0;
