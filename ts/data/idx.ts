// IDX files (the MNIST format): magic 0x00 0x00 <type> <ndims>, then ndims big-endian u32 sizes, then the data,
// big-endian, row-major.
import { ValueError } from '../backend/errors';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface Idx {
  shape: number[];
  data: IdxData;
}

interface IdxType {
  name: string;
  bytes: number;
  make: (n: number) => IdxData;
  read: (view: DataView, offset: number) => number;
}

const TYPES: Record<number, IdxType> = {
  0x08: { name: 'ubyte', bytes: 1, make: (n) => new Uint8Array(n), read: (v, o) => v.getUint8(o) },
  0x09: { name: 'byte', bytes: 1, make: (n) => new Int8Array(n), read: (v, o) => v.getInt8(o) },
  0x0b: { name: 'short', bytes: 2, make: (n) => new Int16Array(n), read: (v, o) => v.getInt16(o) },
  0x0c: { name: 'int', bytes: 4, make: (n) => new Int32Array(n), read: (v, o) => v.getInt32(o) },
  0x0d: { name: 'float', bytes: 4, make: (n) => new Float32Array(n), read: (v, o) => v.getFloat32(o) },
  0x0e: { name: 'double', bytes: 8, make: (n) => new Float64Array(n), read: (v, o) => v.getFloat64(o) },
};

const hex = (b: number) => '0x' + b.toString(16).padStart(2, '0');

/** Parses an IDX file. ubyte data is a view of `bytes` (no copy); wider types are read into native order. */
export function parseIdx(bytes: Uint8Array): Idx {
  if (bytes.length < 4) throw new ValueError(`IDX: truncated file: ${bytes.length} bytes, the header needs 4`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new ValueError(`IDX: bad magic: first two bytes are ${hex(bytes[0])} ${hex(bytes[1])}, expected 0x00 0x00`);
  }
  const type = TYPES[bytes[2]];
  if (!type) throw new ValueError(`IDX: unknown data type ${hex(bytes[2])}`);
  const ndims = bytes[3];
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new ValueError(`IDX: truncated file: ${bytes.length} bytes, the header of ${ndims} dimensions needs ${headerBytes}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < ndims; d++) {
    const size = view.getUint32(4 + 4 * d);
    shape.push(size);
    count *= size;
  }
  const expected = headerBytes + count * type.bytes;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated file' : 'size mismatch';
    throw new ValueError(
      `IDX: ${what}: shape [${shape.join(', ')}] of ${type.name} needs ${expected} bytes, the file has ${bytes.length}`,
    );
  }
  if (type.bytes === 1 && type.name === 'ubyte') return { shape, data: bytes.subarray(headerBytes) };
  const data = type.make(count);
  for (let i = 0; i < count; i++) data[i] = type.read(view, headerBytes + i * type.bytes);
  return { shape, data };
}

/** MNIST images (ubyte, shape [n, rows, cols]) as floats scaled to [0, 1]. */
export function mnistImages(bytes: Uint8Array): { x: Float32Array; n: number; rows: number; cols: number } {
  const { shape, data } = parseIdx(bytes);
  checkMnist('images', data, shape, 3);
  const x = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) x[i] = data[i] / 255;
  return { x, n: shape[0], rows: shape[1], cols: shape[2] };
}

/** MNIST images as the bytes they are (0..255, a view of `bytes`): 4x less memory; feed them through a uint8
 * tensor and a rescaling layer (scale 1/255). */
export function mnistImageBytes(bytes: Uint8Array): { x: Uint8Array; n: number; rows: number; cols: number } {
  const { shape, data } = parseIdx(bytes);
  checkMnist('images', data, shape, 3);
  return { x: data as Uint8Array, n: shape[0], rows: shape[1], cols: shape[2] };
}

/** MNIST labels (ubyte, shape [n]). */
export function mnistLabels(bytes: Uint8Array): Uint8Array {
  const { shape, data } = parseIdx(bytes);
  checkMnist('labels', data, shape, 1);
  return data as Uint8Array;
}

function checkMnist(what: string, data: IdxData, shape: number[], ndims: number): void {
  if (!(data instanceof Uint8Array)) throw new ValueError(`MNIST ${what}: expected ubyte data, got ${data.constructor.name}`);
  if (shape.length !== ndims) {
    throw new ValueError(`MNIST ${what}: expected ${ndims} dimensions, got shape [${shape.join(', ')}]`);
  }
}
