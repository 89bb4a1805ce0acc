// Seeded splits of things that are not rows of floats: texts with their labels, padded sequences, any n items.
// The same rule as trainTestSplit (the module's seeded permutation; a stratified split takes each class's share of
// the test part), so the same seed and labels choose the same rows.
import { ShapeError, ValueError } from '../backend/errors';
import { permutation } from '../tensor/random';
import { describe, isArrayLike } from './describe';
import type { IntArray } from './sequences';
import { markStratified, testCount } from './split';

export interface IndexSplitOptions {
  /** A fraction of the items in (0, 1), rounded to the nearest count, or a count (a whole number >= 1). Default 0.25. */
  testSize?: number;
  seed?: number;
  /** One whole-number class label per item: the split keeps each class's share in both parts (stratified). */
  labels?: ArrayLike<number>;
}

export interface IndexSplit {
  /** The training items' indices, in the seeded shuffled order. */
  train: Int32Array;
  /** The test items' indices, in the seeded shuffled order. */
  test: Int32Array;
}

/** Splits the indices 0..n-1 into a training and a test part, seeded, stratified when labels are given. */
export function splitIndices(n: number, options: IndexSplitOptions = {}): IndexSplit {
  const { testSize = 0.25, seed = 0, labels } = options;
  if (!Number.isInteger(n) || n < 2) throw new ValueError(`splitIndices: n must be a whole number >= 2, got ${n}`);
  const nTest = testCount(testSize, n, 'splitIndices');
  if (labels !== undefined) checkLabels(labels, n, 'splitIndices');
  const order = permutation(n, seed);
  const isTest = new Uint8Array(n);
  if (labels !== undefined) markStratified(order, labels, nTest, isTest);
  else for (let i = 0; i < nTest; i++) isTest[order[i]] = 1;
  const train = new Int32Array(n - nTest);
  const test = new Int32Array(nTest);
  let a = 0;
  let b = 0;
  for (const r of order) {
    if (isTest[r]) test[b++] = r;
    else train[a++] = r;
  }
  return { train, test };
}

export interface TextSplitOptions {
  testSize?: number;
  seed?: number;
  /** Keep each class's share in both parts (default true). */
  stratify?: boolean;
}

export interface TextSplit {
  xTrain: string[];
  xTest: string[];
  yTrain: Int32Array;
  yTest: Int32Array;
}

/** Splits texts and their whole-number labels (e.g. 1 spam, 0 ham), seeded and by default stratified. */
export function splitTexts(texts: readonly string[], labels: ArrayLike<number>, options: TextSplitOptions = {}): TextSplit {
  if (!Array.isArray(texts)) throw new ValueError(`splitTexts: expected an array of texts, got ${describe(texts)}`);
  const bad = texts.findIndex((t) => typeof t !== 'string');
  if (bad >= 0) throw new ValueError(`splitTexts: text ${bad} is ${describe(texts[bad])}, not a string`);
  checkLabels(labels, texts.length, 'splitTexts');
  const { testSize, seed, stratify = true } = options;
  const { train, test } = splitIndices(texts.length, { testSize, seed, labels: stratify ? labels : undefined });
  return {
    xTrain: Array.from(train, (i) => texts[i]),
    xTest: Array.from(test, (i) => texts[i]),
    yTrain: Int32Array.from(train, (i) => labels[i]),
    yTest: Int32Array.from(test, (i) => labels[i]),
  };
}

/** The rows `indices` of an int32 array (e.g. padSequences' result), in that order. */
export function takeRows(array: IntArray, indices: ArrayLike<number>): IntArray {
  if (!array || !(array.data instanceof Int32Array) || !Array.isArray(array.shape) || array.shape.length < 1) {
    throw new ValueError('takeRows: expected { data: Int32Array, shape: [rows, ...] }');
  }
  const [rows, ...rest] = array.shape;
  const width = rest.reduce((a, b) => a * b, 1);
  if (!array.shape.every((d) => Number.isInteger(d) && d >= 0) || rows * width !== array.data.length) {
    throw new ShapeError(`takeRows: shape [${array.shape.join(', ')}] does not hold ${array.data.length} values`);
  }
  if (!isArrayLike(indices)) throw new ValueError(`takeRows: indices must be an array of row numbers, got ${describe(indices)}`);
  const out = new Int32Array(indices.length * width);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    if (!Number.isInteger(r) || r < 0 || r >= rows) throw new ValueError(`takeRows: index ${r} at position ${i} is not a row in 0..${rows - 1}`);
    out.set(array.data.subarray(r * width, (r + 1) * width), i * width);
  }
  return { data: out, shape: [indices.length, ...array.shape.slice(1)] };
}

function checkLabels(labels: ArrayLike<number>, n: number, who: string): void {
  if (!isArrayLike(labels)) throw new ValueError(`${who}: labels must be an array of whole numbers, got ${describe(labels)}`);
  if (labels.length !== n) throw new ShapeError(`${who}: ${labels.length} labels for ${n} items`);
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(labels[i])) throw new ValueError(`${who}: label ${labels[i]} at index ${i} is not a whole number`);
  }
}
