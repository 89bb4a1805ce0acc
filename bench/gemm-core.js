// The gemm timing loop, shared by every runtime (Node, Deno, Bun, Chromium): a dependency-free ES module.
// It instantiates wasmnn's .wasm bytes with plain WebAssembly.instantiate (the module has no imports), places
// the matrices from heap_base() upward (growing memory as needed) and returns GFLOPS for each product.

/**
 * Square products, then the MNIST MLP's products (shapes from a real model): forward for a batch of 64 and for
 * one sample (predict), then the backward products of the first two layers.
 */
export const GEMM_SHAPES = [
  { name: "128x128 · 128x128", kernel: "gemm_nn", m: 128, k: 128, n: 128 },
  { name: "256x256 · 256x256", kernel: "gemm_nn", m: 256, k: 256, n: 256 },
  { name: "512x512 · 512x512", kernel: "gemm_nn", m: 512, k: 512, n: 512 },
  { name: "1024x1024 · 1024x1024", kernel: "gemm_nn", m: 1024, k: 1024, n: 1024 },
  { name: "(512x512)ᵀ · 512x512", kernel: "gemm_tn", m: 512, k: 512, n: 512 },
  { name: "512x512 · (512x512)ᵀ", kernel: "gemm_nt", m: 512, k: 512, n: 512 },
  { name: "64x784 · 784x256", kernel: "gemm_nn", m: 64, k: 784, n: 256 },
  { name: "64x256 · 256x128", kernel: "gemm_nn", m: 64, k: 256, n: 128 },
  { name: "1x784 · 784x256", kernel: "gemm_nn", m: 1, k: 784, n: 256 },
  { name: "(64x784)ᵀ · 64x256", kernel: "gemm_tn", m: 784, k: 64, n: 256 },
  { name: "64x256 · (784x256)ᵀ", kernel: "gemm_nt", m: 64, k: 256, n: 784 },
];

/**
 * The character GPT's dense products in one training step (bench/gpt.mjs: 4 pre-LN blocks, 128 features, context 64,
 * batch 12, so 768 rows; a 512 feed-forward; the vocabulary layer's 85 ids): `count` calls per step (per block the
 * q, k, v and output projections, then the feed-forward's two layers; one vocabulary layer), forward x·W (gemm_nn),
 * weight gradients xᵀ·dy (gemm_tn, summing over the 768 rows) and input gradients dy·Wᵀ (gemm_nt; the key's and the
 * value's add onto the query's: accumulate).
 */
export const GPT_SHAPES = [
  { name: "768x128 · 128x128", kernel: "gemm_nn", m: 768, k: 128, n: 128, count: 16 },
  { name: "768x128 · 128x512", kernel: "gemm_nn", m: 768, k: 128, n: 512, count: 4 },
  { name: "768x512 · 512x128", kernel: "gemm_nn", m: 768, k: 512, n: 128, count: 4 },
  { name: "768x128 · 128x85", kernel: "gemm_nn", m: 768, k: 128, n: 85, count: 1 },
  { name: "(768x128)ᵀ · 768x128", kernel: "gemm_tn", m: 128, k: 768, n: 128, count: 16 },
  { name: "(768x128)ᵀ · 768x512", kernel: "gemm_tn", m: 128, k: 768, n: 512, count: 4 },
  { name: "(768x512)ᵀ · 768x128", kernel: "gemm_tn", m: 512, k: 768, n: 128, count: 4 },
  { name: "(768x128)ᵀ · 768x85", kernel: "gemm_tn", m: 128, k: 768, n: 85, count: 1 },
  { name: "768x128 · (128x128)ᵀ", kernel: "gemm_nt", m: 768, k: 128, n: 128, count: 8 },
  { name: "768x128 · (128x128)ᵀ +=", kernel: "gemm_nt", m: 768, k: 128, n: 128, count: 8, accumulate: 1 },
  { name: "768x512 · (128x512)ᵀ", kernel: "gemm_nt", m: 768, k: 512, n: 128, count: 4 },
  { name: "768x128 · (512x128)ᵀ", kernel: "gemm_nt", m: 768, k: 128, n: 512, count: 4 },
  { name: "768x85 · (128x85)ᵀ", kernel: "gemm_nt", m: 768, k: 85, n: 128, count: 1 },
];

/** Stored shapes of A and B: gemm_tn reads A stored as (k, m), gemm_nt reads B stored as (n, k). */
export function storedShapes({ kernel, m, k, n }) {
  return {
    a: kernel === "gemm_tn" ? [k, m] : [m, k],
    b: kernel === "gemm_nt" ? [n, k] : [k, n],
  };
}

/** Deterministic values in [-1, 1) (xorshift32): the same inputs in every runtime and for every library. */
export function fillRandom(array, seed) {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < array.length; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    array[i] = s / 2147483648 - 1;
  }
  return array;
}

/** Median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Warms `fn` up (so the engine's optimising tier has compiled it) and returns `timeRun()`, which times one run of
 * enough calls to last about `runMs` and returns milliseconds per call. `now` is the clock in ms.
 */
export function makeTimer(fn, { warmupMs = 400, runMs = 150, now = () => performance.now() } = {}) {
  let calls = 0;
  const start = now();
  while (calls < 3 || now() - start < warmupMs) { fn(); calls++; }
  const reps = Math.max(1, Math.ceil(runMs / Math.max((now() - start) / calls, 1e-3)));
  return function timeRun() {
    const t0 = now();
    for (let i = 0; i < reps; i++) fn();
    return (now() - t0) / reps;
  };
}

/** Timed runs per product; each figure is their median. */
export const RUNS = 11;

/** GFLOPS of the median run: warm-up, then `runs` timed runs. */
export function timeGflops(fn, flops, { runs = RUNS, ...timing } = {}) {
  const timeRun = makeTimer(fn, timing);
  const ms = median(Array.from({ length: runs }, timeRun));
  return { gflops: flops / (ms * 1e6), ms };
}

/**
 * Instantiates the module; `prepare(shape)` places random operands for one product and returns
 * { run, flops, result, check } where run() computes C (+)= op(A)·op(B) once, result() views C and check() computes
 * C = op(A)·op(B) from zero and returns the spot check's largest relative error.
 */
export async function loadGemm(wasmBytes) {
  const { instance } = await WebAssembly.instantiate(wasmBytes, {});
  const wasm = instance.exports;
  const align = (x) => (x + 15) & ~15;
  function prepare(shape) {
    const { m, k, n, kernel, accumulate = 0 } = shape;
    const aAt = align(wasm.heap_base());
    const bAt = align(aAt + 4 * m * k);
    const cAt = align(bAt + 4 * k * n);
    const end = cAt + 4 * m * n;
    const have = wasm.memory.buffer.byteLength;
    if (end > have) wasm.memory.grow(Math.ceil((end - have) / 65536));
    const view = (at, len) => new Float32Array(wasm.memory.buffer, at, len);
    fillRandom(view(aAt, m * k), 1234);
    fillRandom(view(bAt, k * n), 5678);
    return {
      flops: 2 * m * k * n,
      run: () => wasm[kernel](aAt, bAt, cAt, m, k, n, accumulate),
      result: () => view(cAt, m * n),
      // C from zero (accumulating products have been adding onto it), one run, then the spot check.
      check: () => {
        view(cAt, m * n).fill(0);
        wasm[kernel](aAt, bAt, cAt, m, k, n, accumulate);
        return spotCheck(shape, view(aAt, m * k), view(bAt, k * n), view(cAt, m * n));
      },
    };
  }
  return { prepare };
}

/** GFLOPS of wasmnn's kernels for each shape, with the largest relative error of a spot check of C. */
export async function runGemmBench(wasmBytes, { shapes = GEMM_SHAPES, timing } = {}) {
  const { prepare } = await loadGemm(wasmBytes);
  const results = [];
  for (const shape of shapes) {
    const product = prepare(shape);
    const { gflops, ms } = timeGflops(product.run, product.flops, timing);
    results.push({ ...shape, gflops, ms, maxRelErr: product.check() });
  }
  return results;
}

/** Largest relative error of 64 entries of C against an f64 dot product (guards against timing a broken kernel). */
function spotCheck({ kernel, m, k, n }, a, b, c) {
  const aAt = kernel === "gemm_tn" ? (i, p) => a[p * m + i] : (i, p) => a[i * k + p];
  const bAt = kernel === "gemm_nt" ? (p, j) => b[j * k + p] : (p, j) => b[p * n + j];
  let worst = 0;
  for (let t = 0; t < 64; t++) {
    const i = (t * 7919) % m, j = (t * 104729 + 13) % n;
    let sum = 0, scale = 0;
    for (let p = 0; p < k; p++) {
      const prod = aAt(i, p) * bAt(p, j);
      sum += prod;
      scale += Math.abs(prod);
    }
    worst = Math.max(worst, Math.abs(c[i * n + j] - sum) / (scale || 1));
  }
  return worst;
}
