// Classification metrics from a confusion matrix cm, (numClasses, numClasses) row-major, row = true class,
// column = predicted class. A class with no predictions (or no true rows) scores 0, as in scikit-learn.
import { ShapeError, ValueError } from '../backend/errors';

export type Average = 'macro' | 'micro' | 'none';

export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number): Int32Array {
  if (yTrue.length !== yPred.length) {
    throw new ShapeError(`confusionMatrix: ${yTrue.length} true labels but ${yPred.length} predictions`);
  }
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ValueError(`confusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
  }
  const cm = new Int32Array(numClasses * numClasses);
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i];
    const p = yPred[i];
    for (const [what, v] of [['true label', t], ['prediction', p]] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
        throw new ValueError(`confusionMatrix: ${what} ${v} at index ${i} is not a class in 0..${numClasses - 1}`);
      }
    }
    cm[t * numClasses + p]++;
  }
  return cm;
}

/** Fraction of all samples on the diagonal. */
export function accuracy(cm: Int32Array): number {
  const k = classCount(cm);
  let hits = 0;
  let total = 0;
  for (let i = 0; i < cm.length; i++) total += cm[i];
  for (let c = 0; c < k; c++) hits += cm[c * k + c];
  return total === 0 ? 0 : hits / total;
}

/** Of the samples predicted as each class, the fraction that are it (column-wise). */
export function precision(cm: Int32Array, average: 'none'): Float64Array;
export function precision(cm: Int32Array, average?: 'macro' | 'micro'): number;
export function precision(cm: Int32Array, average: Average = 'macro'): number | Float64Array {
  return summarise(cm, average, (tp, _actual, predicted) => ratio(tp, predicted));
}

/** Of the samples of each true class, the fraction predicted as it (row-wise). */
export function recall(cm: Int32Array, average: 'none'): Float64Array;
export function recall(cm: Int32Array, average?: 'macro' | 'micro'): number;
export function recall(cm: Int32Array, average: Average = 'macro'): number | Float64Array {
  return summarise(cm, average, (tp, actual) => ratio(tp, actual));
}

/** Harmonic mean of precision and recall; macro averages the per-class F1 scores. */
export function f1(cm: Int32Array, average: 'none'): Float64Array;
export function f1(cm: Int32Array, average?: 'macro' | 'micro'): number;
export function f1(cm: Int32Array, average: Average = 'macro'): number | Float64Array {
  return summarise(cm, average, (tp, actual, predicted) => ratio(2 * tp, actual + predicted));
}

/** Per-class scores from (true positives, true count, predicted count); micro pools the counts over classes. */
function summarise(
  cm: Int32Array,
  average: Average,
  score: (tp: number, actual: number, predicted: number) => number,
): number | Float64Array {
  const k = classCount(cm);
  const tp = new Float64Array(k);
  const actual = new Float64Array(k);
  const predicted = new Float64Array(k);
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      actual[t] += cm[t * k + p];
      predicted[p] += cm[t * k + p];
    }
    tp[t] = cm[t * k + t];
  }
  const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
  if (average === 'micro') return score(sum(tp), sum(actual), sum(predicted));
  const perClass = tp.map((_, c) => score(tp[c], actual[c], predicted[c]));
  if (average === 'none') return perClass;
  if (average === 'macro') return sum(perClass) / k;
  throw new ValueError(`unknown average ${JSON.stringify(average)}: use 'macro', 'micro' or 'none'`);
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

function classCount(cm: Int32Array): number {
  const k = Math.round(Math.sqrt(cm.length));
  if (k < 1 || k * k !== cm.length) throw new ShapeError(`confusion matrix of ${cm.length} values is not square`);
  return k;
}

/** A table with one row per true class and one column per predicted class. */
export function formatConfusionMatrix(cm: Int32Array, numClasses: number, labels?: string[]): string {
  if (cm.length !== numClasses * numClasses) {
    throw new ShapeError(`formatConfusionMatrix: ${cm.length} values for ${numClasses} classes`);
  }
  if (labels && labels.length !== numClasses) {
    throw new ValueError(`formatConfusionMatrix: ${labels.length} labels for ${numClasses} classes`);
  }
  const names = labels ?? Array.from({ length: numClasses }, (_, c) => String(c));
  const corner = 'true \\ predicted';
  const first = Math.max(corner.length, ...names.map((n) => n.length));
  const width = Math.max(...names.map((n) => n.length), ...Array.from(cm, (v) => String(v).length));
  const line = (head: string, cells: string[]) => `${head.padStart(first)} | ${cells.map((c) => c.padStart(width)).join(' ')}`;
  const rows = [line(corner, names), `${'-'.repeat(first)}-+-${'-'.repeat((width + 1) * numClasses - 1)}`];
  for (let t = 0; t < numClasses; t++) {
    rows.push(line(names[t], Array.from(cm.subarray(t * numClasses, (t + 1) * numClasses), String)));
  }
  return rows.join('\n');
}

/** Index of the largest value in each row of (rows, cols) data; the first one on ties. */
export function argmaxRows(data: Float32Array, rows: number, cols: number): Int32Array {
  if (data.length !== rows * cols || cols < 1) {
    throw new ShapeError(`argmaxRows: ${data.length} values is not (${rows}, ${cols}) with at least one column`);
  }
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (data[r * cols + c] > data[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}
