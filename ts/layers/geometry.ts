// Windowed layers (conv, pooling): argument checks, output sizes and padding by TF's rules, and the i32 geometry
// block that the module's conv and pool kernels read (its layout is documented in assembly/geometry.ts).
import type { Heap } from '../backend/memory';
import { ShapeError, ValueError } from '../backend/errors';

/** Number of i32 in a geometry block: N, H, W, C, KH, KW, strideH, strideW, padTop, padLeft, dilationH, dilationW, OH, OW. */
export const GEO_LEN = 14;

export type Padding = 'valid' | 'same' | 'causal';

/** One spatial axis of a window: its output length and the padding before its first element. */
export interface Axis {
  out: number;
  padBefore: number;
}

/**
 * Output length along one axis (TF / Keras):
 *   valid   out = floor((size - span) / stride) + 1, no padding (the last rows that do not fill a window are dropped)
 *   same    out = ceil(size / stride), padding (out - 1)·stride + span - size split with the smaller half before
 *   causal  out = ceil(size / stride), all padding (span - 1) before: output t sees only inputs <= t·stride (conv1d)
 * where span = (taps - 1)·dilation + 1. A window larger than a 'valid' input is a ShapeError naming the layer.
 */
export function windowAxis(layer: string, axis: string, size: number, taps: number, stride: number, dilation: number, padding: Padding): Axis {
  const span = (taps - 1) * dilation + 1;
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    return { out, padBefore: Math.floor(Math.max((out - 1) * stride + span - size, 0) / 2) };
  }
  if (padding === 'causal') return { out: Math.ceil(size / stride), padBefore: span - 1 };
  if (span > size) {
    const dilated = dilation > 1 ? ` dilated by ${dilation} spans ${span}` : '';
    throw new ShapeError(`${layer}: the window (${taps}${dilated}) is larger than the input's ${axis} (${size}) with padding 'valid'; use padding 'same' or a smaller window`);
  }
  return { out: Math.floor((size - span) / stride) + 1, padBefore: 0 };
}

/** Everything a conv or pool kernel needs to know, for an input [h, w, c] (conv1d / pool1d: h = 1). */
export interface Geometry {
  h: number; w: number; c: number;
  kh: number; kw: number;
  sh: number; sw: number;
  dh: number; dw: number;
  padTop: number; padLeft: number;
  oh: number; ow: number;
}

export function geometry(layer: string, [h, w, c]: number[], windowSize: number[], strides: number[], dilation: number[], padding: Padding): Geometry {
  const rows = windowAxis(layer, 'height', h, windowSize[0], strides[0], dilation[0], padding);
  const cols = windowAxis(layer, h === 1 && windowSize[0] === 1 ? 'length' : 'width', w, windowSize[1], strides[1], dilation[1], padding);
  return {
    h, w, c, kh: windowSize[0], kw: windowSize[1], sh: strides[0], sw: strides[1], dh: dilation[0], dw: dilation[1],
    padTop: rows.padBefore, padLeft: cols.padBefore, oh: rows.out, ow: cols.out,
  };
}

/** The geometry block for `geo` with N = 0; write N before each call with writeGeo. */
export function geoBlock(g: Geometry): Int32Array {
  return Int32Array.of(0, g.h, g.w, g.c, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.dh, g.dw, g.oh, g.ow);
}

/** Writes the block at `ptr` with N = n (14 i32 stores: cheaper than keeping track of what is already there). */
export function writeGeo(heap: Heap, ptr: number, block: Int32Array, n: number): void {
  const i32 = heap.i32;
  i32.set(block, ptr >> 2);
  i32[ptr >> 2] = n;
}

/** A window size, stride or dilation: one whole number >= 1 for every spatial axis, or one per axis. */
export function spatialTuple(value: unknown, rank: number, what: string, fallback?: number[]): number[] {
  if (value === undefined && fallback) return fallback.slice();
  const list = typeof value === 'number' ? new Array<number>(rank).fill(value) : value;
  if (!Array.isArray(list) || list.length !== rank || list.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new ValueError(`${what} must be a whole number >= 1 or ${rank === 1 ? 'a list of one' : `a list of ${rank}`}, got ${JSON.stringify(value)}`);
  }
  return list.slice();
}

export function checkPadding(value: unknown, what: string, allowed: readonly Padding[] = ['valid', 'same']): Padding {
  const padding = value === undefined ? 'valid' : typeof value === 'string' ? value.toLowerCase() : value;
  if (!allowed.includes(padding as Padding)) {
    throw new ValueError(`${what} must be ${allowed.map((p) => `'${p}'`).join(' or ')}, got ${JSON.stringify(value)}`);
  }
  return padding as Padding;
}

/** Rank check for windowed layers: 2-D layers take [height, width, channels], 1-D layers [steps, channels]. */
export function checkRank(layer: string, kind: string, inputShape: number[], rank: 1 | 2): void {
  if (inputShape.length === rank + 1) return;
  const want = rank === 2 ? '[height, width, channels]' : '[steps, channels]';
  const hint = rank === 2 && inputShape.length === 2 ? `; for sequences use the 1-D layer, for images add a channel axis with reshape`
    : rank === 2 && inputShape.length === 1 ? '; reshape flat pixels to [height, width, channels] first'
    : rank === 1 && inputShape.length === 1 ? '; reshape to [steps, 1] first' : '';
  throw new ShapeError(`${layer}: ${kind} expects an input ${want} (without the batch axis), got [${inputShape}]${hint}`);
}
