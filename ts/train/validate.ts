// Input checks for every public entry of a model. They run before anything is changed, so a bad call leaves the
// model as it was, and each error names the problem (which argument, which row and column, which value).
import { Tensor, tensor, type TensorData, type TensorLike } from '../tensor/tensor';
import { ShapeError, ValueError } from '../backend/errors';
import { outputSteps, type Loss } from '../optim/losses';
import type { Kernels } from '../backend/kernels';

/** Samples as one array of n rows of `rowSize` (bytes stay bytes until a batch is copied in). */
export interface Samples {
  data: TensorData;
  n: number;
  /** The steps of each sample (its first dimension), for a model whose inputShape leaves them open. */
  steps: number;
}

/**
 * Checks x's shape; with `scan` also every value (fit must refuse bad data before it changes the model; predict and
 * evaluate change nothing, so they check each batch in the module instead, with checkBatchFinite).
 */
export function checkInputs(x: TensorLike, shape: readonly number[], what = 'x', scan = true, openSteps = false): Samples {
  const t: Tensor<TensorData> = x instanceof Tensor ? x : toTensor(x, what);
  const sampleShape = t.shape.slice(1);
  // open steps: any number of them, the other dimensions as the model's
  const inputShape = openSteps && t.rank >= 2 && sampleShape.length === shape.length ? [sampleShape[0], ...shape.slice(1)] : shape;
  const rowSize = inputShape.reduce((a, b) => a * b, 1);
  // the exact sample shape, or flat rows of the same size (MNIST's 784 columns into a [28, 28, 1] input)
  const matches = (sampleShape.length === inputShape.length && sampleShape.every((d, i) => d === inputShape[i])) ||
    (t.rank === 2 && sampleShape[0] === rowSize);
  if (t.rank < 2 || !matches) {
    const want = openSteps ? ['steps', ...shape.slice(1)] : shape;
    throw new ShapeError(`${what} must have shape [n, ${want.join(', ')}] for this model's input, got [${t.shape.join(', ')}]`);
  }
  if (scan && t.data instanceof Float32Array) checkFinite(t.data, rowSize, what);
  return { data: t.data, n: t.shape[0], steps: inputShape[0] };
}

/** Targets: class indices for a sparse loss, else a tensor of n rows of the output's size. */
export function checkTargets(y: unknown, loss: Loss, outputShape: readonly number[], n: number, what = 'y'): Float32Array | Int32Array {
  const outSize = outputShape.reduce((a, b) => a * b, 1);
  if (loss.targets === 'sparse') {
    // a sequence output [steps, classes] takes a class index per step: [n, steps]
    const steps = outputSteps(outputShape), classes = outSize / steps;
    const per = steps > 1 ? `${steps} class indices per sample ([n, ${steps}])` : 'one class index per sample';
    if (y instanceof Tensor) {
      if (y.shape[0] !== n || y.size !== n * steps || (steps === 1 && y.rank > 1 && y.shape.slice(1).some((d) => d !== 1))) {
        throw new ShapeError(`${what} for ${loss.name} must hold ${per} for ${n} samples, got a tensor of shape [${y.shape.join(', ')}]`);
      }
      y = y.data;
    }
    if (!isNumberArray(y)) throw new ValueError(`${what} must be class indices (Int32Array, Uint8Array or number[]), got ${describe(y)}`);
    if (y.length !== n * steps) throw new ShapeError(`x has ${n} samples but ${what} has ${y.length} labels; it must hold ${per}`);
    const labels = new Int32Array(n * steps);
    for (let i = 0; i < n * steps; i++) {
      const v = y[i];
      if (!Number.isInteger(v) || v < 0 || v >= classes) {
        const at = steps > 1 ? `${what}[${Math.floor(i / steps)}][${i % steps}]` : `${what}[${i}]`;
        throw new ValueError(`${at} = ${v} is not a class index in [0, ${classes}) for an output of ${classes} units`);
      }
      labels[i] = v;
    }
    return labels;
  }
  let t: Tensor;
  if (y instanceof Tensor) t = y;
  else if (isNumberArray(y) && outSize === 1) t = tensor(y as ArrayLike<number>, [y.length, 1]);
  else t = toTensor(y as TensorLike, what);
  if (t.shape[0] !== n) throw new ShapeError(`x has ${n} samples but ${what} has ${t.shape[0]}`);
  if (t.size !== n * outSize) {
    throw new ShapeError(`${what} must have shape [${n}, ${outputShape.join(', ')}] to match the model's output, got [${t.shape.join(', ')}]`);
  }
  checkFinite(t.data, outSize, what);
  return t.data;
}

/** What sampleWeight may be: one number per sample, or per step of a sequence output ([n, steps]). */
export type SampleWeight = ArrayLike<number> | Tensor | number[][];

/**
 * Weights of the loss, one per (sample, step) of the output, [n * steps]: sampleWeight holds one per sample ([n],
 * which weighs every step of that sample) or one per step ([n, steps], Keras's temporal weights; also flat,
 * row-major, as sparse labels may be). Each must be a finite number >= 0.
 */
export function checkSampleWeight(sw: SampleWeight, n: number, steps: number, what = 'sampleWeight'): Float32Array {
  let t: Tensor<TensorData>;
  if (sw instanceof Tensor) t = sw;
  else if (Array.isArray(sw) && sw.some(Array.isArray)) t = toTensor(sw as TensorLike, what);
  else if (isNumberArray(sw)) t = tensor(Float32Array.from(sw));
  else throw new ValueError(`${what} must be numbers, one per sample${steps > 1 ? ' or one per step' : ''}, got ${describe(sw)}`);
  const shape = t.shape;
  const perSample = shape.length === 1 && shape[0] === n;
  const perStep = (shape.length === 2 && shape[0] === n && shape[1] === steps) || (steps > 1 && shape.length === 1 && shape[0] === n * steps);
  if (!perSample && !perStep) {
    const want = steps > 1 ? `[${n}] (one per sample) or [${n}, ${steps}] (one per step of the output)` : `[${n}] (one per sample)`;
    throw new ShapeError(`${what} must have shape ${want}, got [${shape.join(', ')}]`);
  }
  const out = new Float32Array(n * steps);
  for (let i = 0; i < out.length; i++) {
    const v = t.data[perSample ? Math.floor(i / steps) : i];
    if (!(Number.isFinite(v) && v >= 0)) {
      const at = perSample ? `[${Math.floor(i / steps)}]` : steps > 1 ? `[${Math.floor(i / steps)}][${i % steps}]` : `[${i}]`;
      throw new ValueError(`${what}${at} = ${v}: weights must be finite numbers >= 0`);
    }
    out[i] = v;
  }
  return out;
}

export function checkBatchSize(batchSize: unknown, what = 'batchSize'): number {
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new ValueError(`${what} must be a whole number >= 1, got ${String(batchSize)}`);
  }
  return batchSize;
}

export function checkFinite(data: Float32Array, rowSize: number, what: string, firstRow = 0): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) {
      // NaN - NaN and Inf - Inf are NaN: one test for both, on the hot path of big inputs
      const row = firstRow + Math.floor(i / rowSize), col = i % rowSize;
      throw new ValueError(`${what} holds ${v} at sample ${row}, feature ${col}: inputs must be finite numbers`);
    }
  }
}

/** After a batch of float samples is copied in: one SIMD pass in the module; the exact place only on failure. */
export function checkBatchFinite(k: Kernels, ptr: number, data: TensorData, start: number, rows: number, rowSize: number, what = 'x'): void {
  if (!(data instanceof Float32Array) || !k.vec_has_non_finite(ptr, rows * rowSize)) return;
  const from = start * rowSize;
  checkFinite(data.subarray(from, from + rows * rowSize), rowSize, what, start);
}

function toTensor(x: TensorLike, what: string): Tensor {
  try {
    return tensor(x);
  } catch (e) {
    throw new ValueError(`${what}: ${(e as Error).message}`);
  }
}

function isNumberArray(y: unknown): y is ArrayLike<number> {
  return Array.isArray(y) || (ArrayBuffer.isView(y) && !(y instanceof DataView));
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  return typeof v === 'object' ? ((v as object).constructor?.name ?? 'object') : typeof v;
}
