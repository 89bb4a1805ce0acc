// Seeded train/test split, stratified by class for integer labels.
import { ShapeError, ValueError } from '../backend/errors';
import { permutation } from '../tensor/random';

export type Targets = Float32Array | Int32Array | Uint8Array;

export interface SplitOptions {
  rows: number;
  cols: number;
  /** A fraction of the rows in (0, 1), rounded to the nearest count, or a row count (an integer >= 1). Default 0.25. */
  testSize?: number;
  seed?: number;
  /** Keep each class's share in both parts. Applies when y is an integer array with one label per row. */
  stratify?: boolean;
}

export interface Split<Y extends Targets> {
  xTrain: Float32Array;
  xTest: Float32Array;
  yTrain: Y;
  yTest: Y;
}

/**
 * Splits (rows, cols) features and their targets. y holds one value per row (labels) or a row of values per row
 * (e.g. one-hot). Both parts keep the shuffled order given by permutation(rows, seed).
 */
export function trainTestSplit<Y extends Targets>(x: Float32Array, y: Y, options: SplitOptions): Split<Y> {
  const { rows, cols, testSize = 0.25, seed = 0, stratify = true } = options;
  if (x.length !== rows * cols) throw new ShapeError(`trainTestSplit: x has ${x.length} values, expected rows * cols = ${rows * cols}`);
  const yWidth = y.length / rows;
  if (!Number.isInteger(yWidth) || yWidth < 1) {
    throw new ShapeError(`trainTestSplit: y has ${y.length} values, not a multiple of ${rows} rows`);
  }
  const nTest = testCount(testSize, rows, 'trainTestSplit');
  const order = permutation(rows, seed);
  const isTest = new Uint8Array(rows);
  if (stratify && yWidth === 1 && !(y instanceof Float32Array)) markStratified(order, y, nTest, isTest);
  else for (let i = 0; i < nTest; i++) isTest[order[i]] = 1;

  const testRows: number[] = [];
  const trainRows: number[] = [];
  for (const r of order) (isTest[r] ? testRows : trainRows).push(r);
  return {
    xTrain: gather(x, trainRows, cols),
    xTest: gather(x, testRows, cols),
    yTrain: gather(y, trainRows, yWidth),
    yTest: gather(y, testRows, yWidth),
  };
}

/** The number of test rows testSize asks for (a fraction of rows, rounded, or a count), checked to leave both parts
 *  at least one row. */
export function testCount(testSize: number, rows: number, who: string): number {
  const nTest = testSize < 1 ? Math.round(testSize * rows) : testSize;
  if (!Number.isInteger(nTest) || nTest < 1 || nTest >= rows) {
    throw new ValueError(`${who}: testSize ${testSize} leaves no rows for training or testing (${rows} rows)`);
  }
  return nTest;
}

/** Marks nTest rows, taking from each class its share nTest * classCount / rows, rounded by largest remainder. */
export function markStratified(order: Int32Array, labels: ArrayLike<number>, nTest: number, isTest: Uint8Array): void {
  const byClass = new Map<number, number[]>();
  for (const r of order) {
    const members = byClass.get(labels[r]);
    if (members) members.push(r);
    else byClass.set(labels[r], [r]);
  }
  const rows = order.length;
  // Exact integer arithmetic: share = floor(nTest * n / rows) plus one for the largest remainders.
  const classes = [...byClass.keys()].sort((a, b) => a - b).map((label) => {
    const n = byClass.get(label)!.length;
    return { label, take: Math.floor((nTest * n) / rows), remainder: (nTest * n) % rows };
  });
  let left = nTest - classes.reduce((sum, c) => sum + c.take, 0);
  for (const c of [...classes].sort((a, b) => b.remainder - a.remainder || a.label - b.label)) {
    if (left-- <= 0) break;
    c.take++;
  }
  for (const c of classes) {
    const members = byClass.get(c.label)!;
    for (let i = 0; i < c.take; i++) isTest[members[i]] = 1;
  }
}

function gather<T extends Float32Array | Int32Array | Uint8Array>(source: T, rowIndices: number[], width: number): T {
  const out = new (source.constructor as new (n: number) => T)(rowIndices.length * width);
  rowIndices.forEach((r, i) => out.set(source.subarray(r * width, (r + 1) * width), i * width));
  return out;
}
