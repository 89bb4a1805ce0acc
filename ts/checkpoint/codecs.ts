// The checkpoint's weight encodings: f32 (exact), f16 (IEEE half, round to nearest even) and int8 (per-tensor affine
// codes). Bytes in, floats out: no model, no module memory.
import { ValueError } from '../backend/errors';

export const ENCODINGS = ['f32', 'f16', 'int8'] as const;
export type Encoding = (typeof ENCODINGS)[number];
export const BYTES_PER_WEIGHT: Record<Encoding, number> = { f32: 4, f16: 2, int8: 1 };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function readF32(bytes: Uint8Array, at: number, n: number): Float32Array {
  if (LITTLE_ENDIAN) return new Float32Array(bytes.slice(at, at + n * 4).buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, n * 4);
  return Float32Array.from({ length: n }, (_, i) => view.getFloat32(i * 4, true));
}

/** IEEE half precision, rounded to nearest even; values beyond ±65504 are an error rather than infinities. */
export function encodeF16(values: Float32Array, out: Uint8Array, at: number, what: string): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const e = ((x >>> 23) & 0xff) - 127 + 15;
    let mant = x & 0x7fffff;
    let h: number;
    if (e <= 0) {
      // subnormal half (or zero): the 24-bit significand shifted into 10 bits, rounded to nearest even
      if (e < -10) h = 0;
      else {
        mant |= 0x800000;
        const shift = 14 - e;
        h = mant >>> shift;
        const rest = mant - h * 2 ** shift, half = 2 ** (shift - 1);
        if (rest > half || (rest === half && h & 1)) h++;
      }
    } else {
      h = (e << 10) | (mant >>> 13);
      const rest = mant & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // a carry into the exponent is the right rounding
    }
    if (h >= 0x7c00) throw new ValueError(`weight ${what} holds ${values[i]} at index ${i}, beyond float16's ±65504; save with weights: 'f32'`);
    h |= sign;
    out[at + 2 * i] = h & 0xff;
    out[at + 2 * i + 1] = h >>> 8;
  }
}

/** 2^(e - 25): a half's value is (1024 + mantissa)·2^(e - 25), and a subnormal's mantissa·2^-24. */
const HALF_SCALE = Float64Array.from({ length: 32 }, (_, e) => 2 ** (e - 25));

/** n IEEE halves at bytes[at..], little-endian, exactly as float32 (also the TF.js importer's float16 weights). */
export function decodeF16(bytes: Uint8Array, at: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const h = bytes[at + 2 * i] | (bytes[at + 2 * i + 1] << 8);
    const e = (h >>> 10) & 0x1f, m = h & 0x3ff;
    const v = e === 0 ? m * HALF_SCALE[1] : e === 31 ? (m ? NaN : Infinity) : (1024 + m) * HALF_SCALE[e];
    out[i] = h & 0x8000 ? -v : v;
  }
  return out;
}

/** Bytes of the weight section (before padding): int8 adds a (min, scale) pair of f32 per tensor. */
export function weightSectionBytes(encoding: Encoding, floats: number, tensors: number): number {
  return floats * BYTES_PER_WEIGHT[encoding] + (encoding === 'int8' ? tensors * 8 : 0);
}

/** Per-tensor affine 8-bit codes: w ≈ min + scale·c with c in 0..255; (min, scale) as f32 at pairAt. */
export function encodeInt8(values: Float32Array, out: Uint8Array, pairAt: number, at: number): void {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  const scale = Math.fround((max - min) / 255);
  for (let i = 0; i < values.length; i++) out[at + i] = scale > 0 ? Math.min(255, Math.round((values[i] - min) / scale)) : 0;
  const view = new DataView(out.buffer, out.byteOffset);
  view.setFloat32(pairAt, min, true);
  view.setFloat32(pairAt + 4, scale, true);
}

export function decodeInt8(bytes: Uint8Array, pairAt: number, at: number, n: number, what: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const min = view.getFloat32(pairAt, true), scale = view.getFloat32(pairAt + 4, true);
  if (!(Number.isFinite(min) && Number.isFinite(scale) && scale >= 0)) {
    throw new ValueError(`checkpoint weight ${what}: int8 min ${min} and scale ${scale} must be finite, scale >= 0`);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = min + scale * bytes[at + i];
  return out;
}
