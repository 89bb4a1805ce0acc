// Seeded random numbers, drawn by the module's generator so that every runtime sees the same stream.
import { backend } from '../backend/module';
import { ValueError } from '../backend/errors';

const STATE_BYTES = 16;

/** One random stream with its own state in module memory. */
export class Random {
  readonly state: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ValueError(`seed must be an integer in [0, 2^32), got ${seed}`);
    const { heap, kernels } = backend();
    this.state = heap.alloc(STATE_BYTES);
    kernels.rng_seed(this.state, seed >>> 0);
  }

  /** A fresh 32-bit unsigned integer, e.g. to seed another stream. */
  nextU32(): number {
    return backend().kernels.rng_next_u32(this.state) >>> 0;
  }

  /** A random permutation of 0..n-1 (returned in JS memory). */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0) throw new ValueError(`permutation size must be a whole number, got ${n}`);
    const { heap, kernels } = backend();
    const ptr = heap.alloc(n * 4);
    try {
      kernels.rng_permutation(this.state, ptr, n);
      return heap.i32.slice(ptr >> 2, (ptr >> 2) + n);
    } finally {
      heap.release(ptr);
    }
  }

  dispose(): void {
    backend().heap.release(this.state);
  }
}

/** A seeded permutation of 0..n-1. */
export function permutation(n: number, seed: number): Int32Array {
  const rng = new Random(seed);
  try {
    return rng.permutation(n);
  } finally {
    rng.dispose();
  }
}
