// optim kernels: filled in by its owner.
export const OPTIM_KERNELS_PLACEHOLDER: i32 = 0;
