// Sequences of token ids as the rectangular int32 arrays a model takes: padSequences (Keras's pad_sequences) and the
// windows of a language model cut from one token stream.
import { ShapeError, ValueError } from '../backend/errors';
import { describe, isArrayLike } from './describe';

/** Int32 data with its shape, row-major (as a Tensor's data and shape). */
export interface IntArray {
  data: Int32Array;
  shape: number[];
}

export interface PadOptions {
  /** The length of every row: longer sequences are truncated, shorter ones padded. Default: the longest's. */
  maxlen?: number;
  /** Where the padding goes: 'pre' (before the sequence, the default) or 'post'. */
  padding?: 'pre' | 'post';
  /** Which end of a longer sequence is cut: 'pre' (its beginning, the default) or 'post'. */
  truncating?: 'pre' | 'post';
  /** The padding value (default 0). */
  value?: number;
  /** The data type of the result; only 'int32'. */
  dtype?: 'int32';
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const isInt32 = (v: number) => Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX;

/**
 * Sequences of different lengths as one [sequences.length, maxlen] int32 array, as Keras's pad_sequences: each row
 * holds its sequence (truncated to maxlen at the `truncating` end) and `value` on the `padding` side. An empty
 * sequence is a row of padding.
 */
export function padSequences(sequences: readonly ArrayLike<number>[], options: PadOptions = {}): IntArray {
  if (!Array.isArray(sequences)) throw new ValueError(`padSequences: expected an array of sequences, got ${describe(sequences)}`);
  const { padding = 'pre', truncating = 'pre', value = 0, dtype = 'int32' } = options;
  if (padding !== 'pre' && padding !== 'post') throw new ValueError(`padSequences: padding must be 'pre' or 'post', got ${describe(padding)}`);
  if (truncating !== 'pre' && truncating !== 'post') {
    throw new ValueError(`padSequences: truncating must be 'pre' or 'post', got ${describe(truncating)}`);
  }
  if (dtype !== 'int32') throw new ValueError(`padSequences: dtype must be 'int32' (token ids), got ${describe(dtype)}`);
  if (typeof value !== 'number' || !isInt32(value)) throw new ValueError(`padSequences: value must be a whole number in int32 range, got ${describe(value)}`);
  let longest = 0;
  sequences.forEach((s, i) => {
    if (!isArrayLike(s)) throw new ValueError(`padSequences: sequence ${i} is ${describe(s)}, not an array of ids`);
    longest = Math.max(longest, s.length);
  });
  const maxlen = options.maxlen ?? longest;
  if (!Number.isInteger(maxlen) || maxlen < 0) throw new ValueError(`padSequences: maxlen must be a whole number >= 0, got ${maxlen}`);

  const n = sequences.length;
  const data = new Int32Array(n * maxlen);
  if (value !== 0) data.fill(value);
  for (let i = 0; i < n; i++) {
    const s = sequences[i];
    const len = Math.min(s.length, maxlen);
    const from = truncating === 'pre' ? s.length - len : 0; // the kept part is s[from, from + len)
    const to = i * maxlen + (padding === 'pre' ? maxlen - len : 0);
    if (s instanceof Int32Array) {
      data.set(s.subarray(from, from + len), to);
      continue;
    }
    for (let j = 0; j < len; j++) {
      const v = s[from + j];
      if (!isInt32(v)) throw new ValueError(`padSequences: sequence ${i}, position ${from + j}: ${v} is not a whole number in int32 range`);
      data[to + j] = v;
    }
  }
  return { data, shape: [n, maxlen] };
}

export interface WindowOptions {
  /** The length of each input window. */
  steps: number;
  /** How far each window starts after the previous one (default steps: windows that do not overlap). */
  stride?: number;
  /** 'sequence' (default): the next token of every position, [n, steps]; 'last': only the token after the window, [n]. */
  targets?: 'sequence' | 'last';
}

export interface Windows {
  /** [n, steps]: x[i] = tokens[i * stride, i * stride + steps). */
  x: IntArray;
  /** [n, steps]: y[i] = tokens[i * stride + 1, i * stride + steps + 1); or with targets 'last', [n]: tokens[i * stride + steps]. */
  y: IntArray;
}

/**
 * The training windows of a language model from a stream of token ids: inputs of `steps` tokens and, as targets,
 * the token that follows each input position (or, with targets 'last', only the one after the window, as Keras's
 * character-level text generation example). Window i starts at i * stride; every window whose targets fit is taken.
 */
export function lmWindows(tokens: Int32Array, options: WindowOptions): Windows {
  if (!(tokens instanceof Int32Array)) throw new ValueError(`lmWindows: tokens must be an Int32Array of ids, got ${describe(tokens)}`);
  if (options === null || typeof options !== 'object') throw new ValueError(`lmWindows: options { steps } are required, got ${describe(options)}`);
  const { steps, stride = steps, targets = 'sequence' } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new ValueError(`lmWindows: steps must be a whole number >= 1, got ${steps}`);
  if (!Number.isInteger(stride) || stride < 1) throw new ValueError(`lmWindows: stride must be a whole number >= 1, got ${stride}`);
  if (targets !== 'sequence' && targets !== 'last') throw new ValueError(`lmWindows: targets must be 'sequence' or 'last', got ${describe(targets)}`);
  if (tokens.length < steps + 1) {
    throw new ShapeError(`lmWindows: a stream of ${tokens.length} tokens is too short for one window of ${steps} steps and its target`);
  }
  const n = Math.floor((tokens.length - steps - 1) / stride) + 1;
  const x = new Int32Array(n * steps);
  const last = targets === 'last';
  const y = new Int32Array(last ? n : n * steps);
  // plain loops: a subarray view per window would cost more than copying its few ids
  for (let i = 0; i < n; i++) {
    const s = i * stride;
    const o = i * steps;
    for (let j = 0; j < steps; j++) x[o + j] = tokens[s + j];
    if (last) y[i] = tokens[s + steps];
    else for (let j = 0; j < steps; j++) y[o + j] = tokens[s + 1 + j];
  }
  return { x: { data: x, shape: [n, steps] }, y: { data: y, shape: last ? [n] : [n, steps] } };
}
