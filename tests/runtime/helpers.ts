// Shared helpers of the model tests: typed-error assertions, seeded data made with integer arithmetic (the same
// numbers in every runtime), weight snapshots, and the FNV-1a hash of the determinism report.
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';

type ErrorClass = new (...args: never[]) => Error;

/** Asserts that fn throws an error of class E whose message matches re. */
export function throwsError(fn: () => unknown, E: ErrorClass, re: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, E, `expected ${E.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${E.name} matching ${re}`);
}

/** The same for an async call (fit): the promise must reject with E and a message matching re. */
export async function rejectsError(fn: () => Promise<unknown>, E: ErrorClass, re: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, E, `expected ${E.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${E.name} matching ${re}`);
}

/** A seeded stream of uniforms in [0, 1) from a 32-bit LCG: integer arithmetic only, so identical everywhere. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** n uniforms in [lo, hi). */
export function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const next = lcg(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * next();
  return out;
}

/** All weights of a model in one array (getWeights order). */
export function flatWeights(model: nn.Sequential): Float32Array {
  const parts = model.getWeights();
  const out = new Float32Array(parts.reduce((a, t) => a + t.size, 0));
  let at = 0;
  for (const t of parts) {
    out.set(t.data, at);
    at += t.size;
  }
  return out;
}

/** Asserts two float arrays are equal bit for bit (NaN-safe), naming the first difference. */
export function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) assert.unreachable(`${what}: differ at ${i}: ${a[i]} vs ${b[i]}`);
}

/** |a − b| <= abs + rel·|b|, with a message naming both. */
export function close(a: number, b: number, what: string, rel = 1e-6, abs = 0): void {
  assert.ok(Math.abs(a - b) <= abs + rel * Math.abs(b), `${what}: ${a} vs expected ${b} (|diff| ${Math.abs(a - b)})`);
}

/** 32-bit FNV-1a over the bytes of each view in turn, as 8 hex digits. */
export function fnv1a(...views: ArrayBufferView[]): string {
  let h = 0x811c9dc5;
  for (const v of views) {
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

// ---- checkpoint files (the checkpoint and infer suites mutate them)

/** Bytes before a checkpoint's topology JSON (magic, version, flags, JSON length). */
export const HEADER = 16;

/** The file with its topology JSON replaced by `json` (sections kept, padding and checksum redone). */
export function withJson(bytes: Uint8Array, json: Uint8Array): Uint8Array {
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
  const rest = bytes.subarray(Math.ceil((HEADER + jsonLength) / 4) * 4, bytes.length - 4);
  const at = Math.ceil((HEADER + json.length) / 4) * 4;
  const out = new Uint8Array(at + rest.length + 4);
  out.set(bytes.subarray(0, 12));
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, HEADER);
  out.set(rest, at);
  return fixCrc(out);
}

export function fixCrc(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.length).setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

/** An independent CRC-32 (the reflected polynomial 0xEDB88320, byte-wise from a table made here). */
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  return c >>> 0;
});
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** n token ids in [0, inputDim) (as floats, a model's input), some repeated; with `padded`, zeros end some rows. */
export function tokenIds(n: number, inputDim: number, seed: number, steps = n, padded = false): Float32Array {
  const next = lcg(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i % steps, row = Math.floor(i / steps);
    out[i] = padded && t >= steps - (row % 3) ? 0 : 1 + Math.floor(next() * (inputDim - 1));
  }
  return out;
}
