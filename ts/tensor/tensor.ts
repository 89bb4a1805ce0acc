// User-facing tensors: plain Float32 data in JS with a shape. They hold no module memory, so they need no dispose;
// a model copies each batch into its own planned buffers.
import { ShapeError, ValueError } from '../backend/errors';

export type NestedArray = number | NestedArray[];
export type TensorData = Float32Array | Uint8Array;
export type DType = 'float32' | 'uint8';
export type TensorLike = Tensor<TensorData> | Float32Array | ArrayLike<number> | NestedArray[];

/** The brand of every wasmnn tensor: each build (the library, wasmnn/infer, wasmnn/infer/core) bundles its own Tensor
 *  class, and `instanceof Tensor` tests this brand, so a tensor of one build is taken by the others as it is. */
const BRAND = Symbol.for('wasmnn.Tensor');

/**
 * Float32 data with a shape. A 'uint8' tensor keeps bytes as they are (4x smaller, e.g. images): a model converts
 * each batch to float when it copies it in, and a rescaling layer can map 0..255 to [0, 1].
 */
export class Tensor<D extends TensorData = Float32Array> {
  readonly data: D;
  readonly shape: readonly number[];

  constructor(data: D, shape: readonly number[]) {
    checkShape(shape);
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new ShapeError(`shape [${shape.join(', ')}] needs ${size} values, got ${data.length}`);
    this.data = data;
    this.shape = Object.freeze(shape.slice());
  }

  get dtype(): DType {
    return this.data instanceof Uint8Array ? 'uint8' : 'float32';
  }
  get size(): number {
    return this.data.length;
  }
  get rank(): number {
    return this.shape.length;
  }

  /** The same data seen with another shape of the same size. */
  reshape(shape: number[]): Tensor<D> {
    return new Tensor(this.data, shape);
  }

  /** TF.js habits: the data (synchronously), nested arrays, and a no-op dispose. */
  dataSync(): D {
    return this.data;
  }
  arraySync(): NestedArray {
    return nest(this.data, this.shape, 0, 0);
  }
  dispose(): void {}
  toString(): string {
    return `Tensor [${this.shape.join(', ')}]`;
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}
Object.defineProperty(Tensor.prototype, BRAND, { value: true });

/**
 * A tensor from a Float32Array, any array-like of numbers, or nested arrays (shape inferred when omitted).
 * With dtype 'uint8' the values are kept as bytes (a Uint8Array is used as it is, without a copy).
 */
export function tensor(values: TensorLike, shape: readonly number[] | undefined, dtype: 'uint8'): Tensor<Uint8Array>;
export function tensor(values: TensorLike, shape?: readonly number[], dtype?: 'float32'): Tensor;
export function tensor(values: TensorLike, shape?: readonly number[], dtype: DType = 'float32'): Tensor<TensorData> {
  if (dtype !== 'float32' && dtype !== 'uint8') throw new ValueError(`dtype must be 'float32' or 'uint8', got ${String(dtype)}`);
  if (dtype === 'uint8') return byteTensor(values, shape);
  if (values instanceof Tensor) {
    const t = values.dtype === 'float32' ? values : new Tensor(Float32Array.from(values.data), values.shape);
    return shape ? t.reshape(shape.slice()) : t;
  }
  if (Array.isArray(values) && values.some(Array.isArray)) {
    const inferred = inferShape(values);
    const data = new Float32Array(inferred.reduce((a, b) => a * b, 1));
    flatten(values, data, 0);
    return new Tensor(data, shape ?? inferred);
  }
  if (!(values instanceof Float32Array) && !(Array.isArray(values) || ArrayBuffer.isView(values))) {
    throw new ValueError(`cannot make a tensor from ${typeof values}`);
  }
  const data = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  return new Tensor(data, shape ?? [data.length]);
}

export function tensor1d(values: TensorLike): Tensor {
  return ofRank(tensor(values), 1);
}
export function tensor2d(values: TensorLike, shape: [number, number] | undefined, dtype: 'uint8'): Tensor<Uint8Array>;
export function tensor2d(values: TensorLike, shape?: [number, number], dtype?: 'float32'): Tensor;
export function tensor2d(values: TensorLike, shape?: [number, number], dtype: DType = 'float32'): Tensor<TensorData> {
  return dtype === 'uint8' ? ofRank(tensor(values, shape, 'uint8'), 2) : ofRank(tensor(values, shape), 2);
}
export function tensor3d(values: TensorLike, shape?: [number, number, number]): Tensor {
  return ofRank(tensor(values, shape), 3);
}
export function tensor4d(values: TensorLike, shape: [number, number, number, number] | undefined, dtype: 'uint8'): Tensor<Uint8Array>;
export function tensor4d(values: TensorLike, shape?: [number, number, number, number], dtype?: 'float32'): Tensor;
export function tensor4d(values: TensorLike, shape?: [number, number, number, number], dtype: DType = 'float32'): Tensor<TensorData> {
  return dtype === 'uint8' ? ofRank(tensor(values, shape, 'uint8'), 4) : ofRank(tensor(values, shape), 4);
}

function byteTensor(values: TensorLike, shape?: readonly number[]): Tensor<Uint8Array> {
  const source = values instanceof Tensor ? values.data : values;
  if (source instanceof Uint8Array) return new Tensor(source, shape ?? (values instanceof Tensor ? values.shape : [source.length]));
  const t = values instanceof Tensor ? values : tensor(values, shape);
  const bytes = new Uint8Array(t.size);
  for (let i = 0; i < t.size; i++) {
    const v = t.data[i];
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new ValueError(`a uint8 tensor holds whole numbers 0..255, got ${v} at index ${i}`);
    bytes[i] = v;
  }
  return new Tensor(bytes, shape ?? t.shape);
}

function ofRank<D extends TensorData>(t: Tensor<D>, rank: number): Tensor<D> {
  if (t.rank !== rank) throw new ShapeError(`expected a rank-${rank} tensor, got shape [${t.shape.join(', ')}]`);
  return t;
}

function checkShape(shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`shape [${shape.join(', ')}] has a dimension that is not a whole number`);
  }
}

function inferShape(values: NestedArray[]): number[] {
  const shape = [values.length];
  let level: NestedArray = values[0];
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function flatten(values: NestedArray, out: Float32Array, offset: number, depth = 0, shape = inferShape(values as NestedArray[])): number {
  if (!Array.isArray(values)) {
    if (typeof values !== 'number') throw new ValueError(`tensor values must be numbers, got ${typeof values}`);
    if (depth !== shape.length) throw new ShapeError(`nested array is ragged: a number stands at depth ${depth} of ${shape.length}`);
    out[offset] = values;
    return offset + 1;
  }
  if (values.length !== shape[depth]) {
    throw new ShapeError(`nested array is ragged: expected ${shape[depth]} entries at depth ${depth}, got ${values.length}`);
  }
  for (const v of values) offset = flatten(v, out, offset, depth + 1, shape);
  return offset;
}

function nest(data: TensorData, shape: readonly number[], depth: number, offset: number): NestedArray {
  if (depth === shape.length) return data[offset];
  const stride = shape.slice(depth + 1).reduce((a, b) => a * b, 1);
  const out: NestedArray[] = [];
  for (let i = 0; i < shape[depth]; i++) out.push(nest(data, shape, depth + 1, offset + i * stride));
  return out;
}
