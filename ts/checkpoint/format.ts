// The checkpoint format: one little-endian binary that every runtime writes and reads bit for bit.
//
//   0   "WNN1"                 magic
//   4   u32 version            1
//   8   u32 flags              bit 0: training state present; bits 1-2: weight encoding (0 f32, 1 f16, 2 int8)
//   12  u32 jsonLength
//   16  topology JSON (UTF-8): name, seed, inputShape, layers [{className, config}], compile {optimizer, loss,
//       metrics} or null, iterations, epoch?, stateArrays?, weights [{layer, name, shape, trainable}]
//       -> zero padding to a multiple of 4
//   weights in manifest order: f32; or f16; or int8: (min, scale) f32 pairs for every tensor, then 8-bit codes c
//       in 0..255 with w = min + scale·c (per-tensor affine)
//       -> zero padding to a multiple of 4
//   [flag bit 0] stateArrays optimiser arrays of n f32 each (n = trainable floats), then the 16-byte training
//       random stream (shuffles, dropout masks), so fit() continues exactly where it stopped
//   u32 CRC-32 (IEEE) of every byte before it
//
// Reading checks everything before any module memory is touched, and each problem is a typed error naming it.
//
// This file is the container (header, sections, checksum, topology JSON); codecs.ts encodes the weights, revive.ts
// rebuilds layers and compile settings from the JSON, save.ts writes a model; ../io/model-io.ts saves and loads a
// Sequential. None of these import the model.
import { ENCODINGS, BYTES_PER_WEIGHT, readF32, decodeF16, decodeInt8, weightSectionBytes, type Encoding } from './codecs';
import { ShapeError, ValueError } from '../backend/errors';

export const CHECKPOINT_VERSION = 1;
const MAGIC = [0x57, 0x4e, 0x4e, 0x31]; // "WNN1"
const HEADER = 16;
export const RNG_BYTES = 16;
const MAX_FLOATS = 2 ** 31; // more than any module memory holds

export interface WeightEntry {
  layer: string;
  name: string;
  shape: number[];
  trainable: boolean;
}

export interface Topology {
  name: string;
  seed: number;
  inputShape: number[];
  layers: { className: string; config: Record<string, unknown> }[];
  compile: { optimizer: NamedConfig; loss: NamedConfig; metrics: string[] } | null;
  iterations: number;
  epoch?: number;
  stateArrays?: number;
  weights: WeightEntry[];
}

export interface NamedConfig {
  name: string;
  config: Record<string, unknown>;
}

/** What a checkpoint holds, read without building the model. */
export interface CheckpointInfo {
  version: number;
  bytes: number;
  name: string;
  seed: number;
  inputShape: number[];
  layers: { className: string; name: string }[];
  /** The compile settings, or null when the model was saved uncompiled or without its optimiser. */
  compile: { optimizer: string; loss: string; metrics: string[] } | null;
  weights: Encoding;
  params: number;
  /** Whether the optimiser state and training random stream are there (training resumes exactly). */
  trainingState: boolean;
  iterations: number;
  epoch: number | undefined;
}

/** The container around a topology and its encoded sections: header, JSON, padding, weights, state, CRC-32. */
export function writeCheckpoint(topology: Topology, encoding: Encoding, weightBytes: Uint8Array, stateBytes: Uint8Array | null): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(topology));
  const weightsAt = align4(HEADER + json.length);
  const stateAt = weightsAt + weightBytes.length;
  const crcAt = stateAt + (stateBytes?.length ?? 0);
  const out = new Uint8Array(crcAt + 4);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, CHECKPOINT_VERSION, true);
  view.setUint32(8, (stateBytes ? 1 : 0) | (ENCODINGS.indexOf(encoding) << 1), true); // bit 0: training state
  view.setUint32(12, json.length, true);
  out.set(json, HEADER);
  out.set(weightBytes, weightsAt);
  if (stateBytes) out.set(stateBytes, stateAt);
  view.setUint32(crcAt, crc32(out, 0, crcAt), true);
  return out;
}

export function checkFinite(f32: Float32Array, from: number, n: number, what: string): void {
  for (let i = 0; i < n; i++) {
    const v = f32[from + i];
    if (v - v !== 0) throw new ValueError(`${what} holds ${v} at index ${i}; a checkpoint holds finite numbers only`);
  }
}

// ---------------------------------------------------------------------------------------------------- reading

/** What a checkpoint holds (fully validated as a file, without building the model). */
export function checkpointInfo(bytes: Uint8Array | ArrayBuffer): CheckpointInfo {
  const { topology: t, encoding, trainingState, length } = readCheckpoint(bytes);
  return {
    version: CHECKPOINT_VERSION, bytes: length, name: t.name, seed: t.seed, inputShape: t.inputShape.slice(),
    layers: t.layers.map((l) => ({ className: l.className, name: typeof l.config.name === 'string' ? l.config.name : '' })),
    compile: t.compile ? { optimizer: t.compile.optimizer.name, loss: t.compile.loss.name, metrics: t.compile.metrics.slice() } : null,
    weights: encoding, params: t.weights.reduce((a, w) => a + size(w.shape), 0),
    trainingState, iterations: t.iterations, epoch: t.epoch,
  };
}

export interface CheckpointFile {
  bytes: Uint8Array;
  length: number;
  topology: Topology;
  encoding: Encoding;
  trainingState: boolean;
  weightsAt: number;
  stateAt: number;
  trainableFloats: number;
}

/** The file's layout and topology, with every byte accounted for and the checksum verified. */
export function readCheckpoint(input: Uint8Array | ArrayBuffer): CheckpointFile {
  const bytes = asBytes(input);
  const length = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  if (MAGIC.some((b, i) => i < length && bytes[i] !== b)) {
    throw new ValueError(`not a wasmnn checkpoint: it starts with ${hex(bytes.subarray(0, 4))}, not "WNN1"`);
  }
  if (length < HEADER + 4) throw new ValueError(`checkpoint truncated: ${length} bytes, less than the ${HEADER + 4}-byte header and checksum`);
  const version = view.getUint32(4, true);
  if (version > CHECKPOINT_VERSION) throw new ValueError(`checkpoint format version ${version} is newer than this wasmnn reads (${CHECKPOINT_VERSION}): update wasmnn`);
  if (version < 1) throw new ValueError(`checkpoint format version ${version} is not valid`);
  const flags = view.getUint32(8, true);
  if (flags >>> 3) throw new ValueError(`checkpoint flags 0x${flags.toString(16)} set bits this wasmnn does not know`);
  const encoding = ENCODINGS[(flags >>> 1) & 3];
  if (!encoding) throw new ValueError(`checkpoint weight encoding ${(flags >>> 1) & 3} is not known (0 f32, 1 f16, 2 int8)`);
  const trainingState = (flags & 1) === 1;
  const jsonLength = view.getUint32(12, true);
  if (HEADER + jsonLength + 4 > length) {
    throw new ValueError(`checkpoint truncated: the header announces ${jsonLength} bytes of topology, the file has ${length} bytes in all`);
  }
  const crcOk = crc32(bytes, 0, length - 4) === view.getUint32(length - 4, true);
  // the topology says how long the file must be; a length error is clearer than a checksum error for a cut file
  let topology: Topology | undefined;
  let problem: unknown;
  try {
    topology = parseTopology(bytes.subarray(HEADER, HEADER + jsonLength), trainingState, encoding);
  } catch (e) {
    problem = e;
  }
  const weightsAt = align4(HEADER + jsonLength);
  let expected = -1, weightsEnd = 0, stateAt = 0, trainableFloats = 0;
  if (topology) {
    const floats = topology.weights.reduce((a, w) => a + size(w.shape), 0);
    trainableFloats = topology.weights.reduce((a, w) => a + (w.trainable ? size(w.shape) : 0), 0);
    weightsEnd = weightsAt + weightSectionBytes(encoding, floats, topology.weights.length);
    stateAt = align4(weightsEnd);
    expected = stateAt + (trainingState ? (topology.stateArrays ?? 0) * trainableFloats * 4 + RNG_BYTES : 0) + 4;
  }
  if (expected >= 0 && expected !== length) {
    throw new ValueError(expected > length
      ? `checkpoint truncated: ${length} bytes where its topology needs ${expected}`
      : `checkpoint has ${length - expected} unexpected bytes after its end (${expected} bytes)`);
  }
  if (!crcOk) throw new ValueError('checkpoint checksum mismatch: the file is corrupted');
  if (!topology) throw problem;
  for (const [from, to] of [[HEADER + jsonLength, weightsAt], [weightsEnd, stateAt]]) {
    for (let i = from; i < to; i++) if (bytes[i] !== 0) throw new ValueError(`checkpoint padding byte ${i} is ${bytes[i]}, not 0`);
  }
  return { bytes, length, topology, encoding, trainingState, weightsAt, stateAt, trainableFloats };
}

function asBytes(input: unknown): Uint8Array {
  // a Node Buffer is a Uint8Array whose slice() shares memory (readF32 relies on a copy): view it as a plain one
  if (input instanceof Uint8Array && input.constructor === Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new ValueError(`a checkpoint is bytes (Uint8Array or ArrayBuffer), got ${describe(input)}`);
}

let utf8: TextDecoder | undefined;

/** The topology JSON, checked field by field (types, ranges, sizes) before anything is built from it. */
function parseTopology(json: Uint8Array, trainingState: boolean, encoding: Encoding): Topology {
  let raw: unknown;
  try {
    raw = JSON.parse((utf8 ??= new TextDecoder('utf-8', { fatal: true })).decode(json));
  } catch (e) {
    throw new ValueError(`checkpoint topology is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  const o = object(raw, 'topology');
  const layers = array(o.layers, 'topology.layers').map((l, i) => {
    const entry = object(l, `layers[${i}]`);
    return { className: string(entry.className, `layers[${i}].className`), config: object(entry.config, `layers[${i}].config`) };
  });
  if (layers.length === 0) throw new ValueError('checkpoint topology has no layers');
  let compile: Topology['compile'] = null;
  if (o.compile !== null) {
    const c = object(o.compile, 'topology.compile');
    compile = {
      optimizer: named(c.optimizer, 'compile.optimizer'),
      loss: named(c.loss, 'compile.loss'),
      metrics: array(c.metrics, 'compile.metrics').map((m, i) => string(m, `compile.metrics[${i}]`)),
    };
  }
  let total = 0;
  const weights = array(o.weights, 'topology.weights').map((w, i) => {
    const e = object(w, `weights[${i}]`);
    const entry: WeightEntry = {
      layer: string(e.layer, `weights[${i}].layer`), name: string(e.name, `weights[${i}].name`),
      shape: shape(e.shape, `weights[${i}].shape`), trainable: boolean(e.trainable, `weights[${i}].trainable`),
    };
    total += size(entry.shape);
    if (total > MAX_FLOATS) throw new ShapeError(`checkpoint weights hold more than 2^31 floats`);
    return entry;
  });
  const topology: Topology = {
    name: string(o.name, 'topology.name'),
    seed: integer(o.seed, 'topology.seed', 0, 2 ** 32 - 1),
    inputShape: shape(o.inputShape, 'topology.inputShape'),
    layers, compile, weights,
    iterations: integer(o.iterations, 'topology.iterations', 0, Number.MAX_SAFE_INTEGER),
  };
  if (o.epoch !== undefined) topology.epoch = integer(o.epoch, 'topology.epoch', 0, Number.MAX_SAFE_INTEGER);
  if (trainingState) {
    if (!compile) throw new ValueError('checkpoint holds training state but no compile settings');
    topology.stateArrays = integer(o.stateArrays, 'topology.stateArrays', 0, 8);
  }
  return topology;
}

/** The weights in manifest order, decoded to float32 and checked finite. */
export function decodeWeights(file: CheckpointFile): Float32Array[] {
  const { bytes, encoding, topology } = file;
  let at = file.weightsAt + (encoding === 'int8' ? topology.weights.length * 8 : 0);
  return topology.weights.map((w, i) => {
    const n = size(w.shape);
    const values = encoding === 'f32' ? readF32(bytes, at, n) : encoding === 'f16' ? decodeF16(bytes, at, n) :
      decodeInt8(bytes, file.weightsAt + i * 8, at, n, `${w.layer}/${w.name}`);
    checkFinite(values, 0, n, `checkpoint weight ${w.layer}/${w.name}`);
    at += n * BYTES_PER_WEIGHT[encoding];
    return values;
  });
}

/** The optimiser's state arrays and the training random stream (present when the flags say so). */
export function decodeStates(file: CheckpointFile): { arrays: Float32Array[]; rng: Uint8Array } {
  const n = file.trainableFloats;
  const arrays: Float32Array[] = [];
  for (let i = 0; i < file.topology.stateArrays!; i++) {
    arrays.push(readF32(file.bytes, file.stateAt + i * n * 4, n));
    checkFinite(arrays[i], 0, n, `checkpoint optimizer state ${i}`);
  }
  const from = file.stateAt + arrays.length * n * 4;
  const rng = file.bytes.slice(from, from + RNG_BYTES);
  if (rng.every((b) => b === 0)) throw new ValueError('checkpoint training random state is all zeros, which the generator cannot leave');
  return { arrays, rng };
}

// ----------------------------------------------------------------------------------------------------- helpers

let crcTables: Int32Array | undefined;

/**
 * CRC-32 (IEEE 802.3, the zlib/PNG one) of bytes[from..to). Eight bytes a step through eight tables ("slicing by
 * 8"): about 4x the byte-at-a-time loop, which was a third of loading a 2.7 MB checkpoint.
 */
export function crc32(bytes: Uint8Array, from = 0, to = bytes.length): number {
  const t = (crcTables ??= makeCrcTables());
  let c = -1;
  let i = from;
  for (; i + 8 <= to; i += 8) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t[1792 + (c & 0xff)] ^ t[1536 + ((c >>> 8) & 0xff)] ^ t[1280 + ((c >>> 16) & 0xff)] ^ t[1024 + (c >>> 24)] ^
      t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < to; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Table k (at 256·k) gives the CRC of a byte followed by k zero bytes; table 0 is the usual byte table. */
function makeCrcTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) t[256 * k + n] = (t[256 * (k - 1) + n] >>> 8) ^ t[t[256 * (k - 1) + n] & 0xff];
  }
  return t;
}

/** v, when `ok`; else the ValueError "checkpoint <where> must be <want>, got <v>". */
export function expect<T>(ok: boolean, v: unknown, where: string, want: string): T {
  if (!ok) throw new ValueError(`checkpoint ${where} must be ${want}, got ${describe(v)}`);
  return v as T;
}
export function object(v: unknown, where: string): Record<string, unknown> {
  return expect(v !== null && typeof v === 'object' && !Array.isArray(v), v, where, 'an object');
}
export function array(v: unknown, where: string): unknown[] {
  return expect(Array.isArray(v), v, where, 'an array');
}
export function string(v: unknown, where: string): string {
  return expect(typeof v === 'string', v, where, 'a string');
}
export function boolean(v: unknown, where: string): boolean {
  return expect(typeof v === 'boolean', v, where, 'true or false');
}
export function finite(v: unknown, where: string): number {
  return expect(typeof v === 'number' && Number.isFinite(v), v, where, 'a finite number');
}
export function integer(v: unknown, where: string, min: number, max: number): number {
  return expect(Number.isInteger(v) && (v as number) >= min && (v as number) <= max, v, where, `a whole number in [${min}, ${max}]`);
}
export function shape(v: unknown, where: string): number[] {
  const dims = array(v, where);
  if (dims.length > 8) throw new ShapeError(`checkpoint ${where} has ${dims.length} dimensions, more than 8`);
  return dims.map((d, i) => integer(d, `${where}[${i}]`, 1, MAX_FLOATS));
}
export function named(v: unknown, where: string): NamedConfig {
  const o = object(v, where);
  return { name: string(o.name, `${where}.name`), config: object(o.config, `${where}.config`) };
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
export function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}
export function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : ((v as object).constructor?.name ?? 'an object');
}
