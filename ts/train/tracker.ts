// Metrics accumulated over the batches of an epoch or an evaluation: counts, so the result is exact over the whole
// set. Accuracy comes from a kernel; precision and recall from a confusion matrix of the outputs.
import type { Env } from '../layers/layer';
import type { Loss } from '../optim/losses';
import { ValueError } from '../backend/errors';

type Kind = 'accuracy' | 'precision' | 'recall';
const KINDS: Record<string, Kind> = {
  accuracy: 'accuracy', acc: 'accuracy', binaryAccuracy: 'accuracy', categoricalAccuracy: 'accuracy',
  sparseCategoricalAccuracy: 'accuracy', precision: 'precision', recall: 'recall',
};

export function checkMetrics(metrics: unknown): string[] {
  const list = metrics === undefined ? [] : Array.isArray(metrics) ? metrics : [metrics];
  for (const m of list) {
    if (typeof m !== 'string' || !KINDS[m]) throw new ValueError(`unknown metric '${String(m)}'; known: ${Object.keys(KINDS).join(', ')}`);
  }
  return list as string[];
}

export class MetricTracker {
  private lossSum = 0;
  private seen = 0;
  private correct = 0;
  private judged = 0; // rows the metrics count: a sequence output's padded steps are not among them
  private readonly confusion: Int32Array; // [true class][predicted class]; 2x2 for a single sigmoid unit
  private readonly classes: number;
  private readonly accuracyKind: 'sparse' | 'categorical' | 'binary';

  constructor(readonly names: string[], readonly loss: Loss, readonly outSize: number) {
    const auto = outSize === 1 ? 'binary' : 'categorical';
    this.accuracyKind = loss.accuracy === 'auto' ? auto : loss.accuracy;
    this.classes = outSize === 1 ? 2 : outSize;
    // only precision and recall read it: a regression or sequence output of thousands of units would otherwise make
    // a matrix of millions of counts per fit for nothing
    const confusion = names.some((n) => KINDS[n] !== 'accuracy');
    this.confusion = new Int32Array(confusion ? this.classes * this.classes : 0);
  }

  reset(): void {
    this.lossSum = 0;
    this.seen = 0;
    this.correct = 0;
    this.judged = 0;
    this.confusion.fill(0);
  }

  /**
   * Adds one batch: its mean loss and, from the outputs y and the targets, the metric counts. With a padding `mask`
   * (f32 per row, 0: none) the padded steps of a sequence output count neither right nor wrong, as the loss skips them.
   */
  update(env: Env, y: number, labels: number, targets: number, rows: number, loss: number, mask = 0): void {
    this.lossSum += loss * rows;
    this.seen += rows;
    if (this.names.length === 0) return;
    const { k } = env;
    const cols = this.outSize;
    // the mask holds 0 and 1: the sum of its squares counts the real rows
    this.judged += mask ? k.vec_sum_squares(mask, rows) : rows;
    if (this.accuracyKind === 'sparse') this.correct += k.metric_correct_sparse(y, labels, rows, cols, mask);
    else if (this.accuracyKind === 'categorical') this.correct += k.metric_correct_onehot(y, targets, rows, cols, mask);
    else this.correct += k.metric_correct_binary(y, targets, rows, cols, 0.5, mask);
    if (this.names.some((n) => KINDS[n] !== 'accuracy')) this.countConfusion(env, y, labels, targets, rows, mask);
  }

  private countConfusion(env: Env, y: number, labels: number, targets: number, rows: number, mask: number): void {
    const f32 = env.heap.f32, i32 = env.heap.i32;
    const cols = this.outSize;
    for (let r = 0; r < rows; r++) {
      if (mask && f32[(mask >> 2) + r] === 0) continue;
      const row = (y >> 2) + r * cols;
      let truth: number, pred: number;
      if (cols === 1) {
        truth = f32[(targets >> 2) + r] > 0.5 ? 1 : 0;
        pred = f32[row] > 0.5 ? 1 : 0;
      } else {
        pred = argmax(f32, row, cols);
        truth = this.loss.targets === 'sparse' ? i32[(labels >> 2) + r] : argmax(f32, (targets >> 2) + r * cols, cols);
      }
      this.confusion[truth * this.classes + pred]++;
    }
  }

  /** Writes the epoch-so-far value of each metric into `logs` (Keras' batch logs), without allocating. */
  running(logs: Record<string, number>): void {
    for (const name of this.names) logs[name] = KINDS[name] === 'accuracy' ? this.correct / this.accuracyCount : this.precisionRecall(KINDS[name] as 'precision' | 'recall');
  }

  /** Mean loss plus each metric by its name (and `extraLoss`, the regularisation penalty, added to the loss). */
  results(extraLoss = 0): Record<string, number> {
    const out: Record<string, number> = { loss: this.seen ? this.lossSum / this.seen + extraLoss : NaN };
    for (const name of this.names) {
      const kind = KINDS[name];
      out[name] = kind === 'accuracy' ? this.correct / this.accuracyCount : this.precisionRecall(kind);
    }
    return out;
  }

  /** What accuracy divides by: binary accuracy counts every unit of a row, the others one per row. */
  private get accuracyCount(): number {
    return this.accuracyKind === 'binary' ? this.judged * this.outSize : this.judged;
  }

  /** Binary: of the positive class; several classes: macro average (a class never predicted counts 0). */
  private precisionRecall(kind: 'precision' | 'recall'): number {
    const c = this.classes;
    const classes = c === 2 && this.outSize === 1 ? [1] : Array.from({ length: c }, (_, i) => i);
    let sum = 0;
    for (const cls of classes) {
      const tp = this.confusion[cls * c + cls];
      let total = 0;
      for (let j = 0; j < c; j++) total += kind === 'precision' ? this.confusion[j * c + cls] : this.confusion[cls * c + j];
      sum += total ? tp / total : 0;
    }
    return sum / classes.length;
  }
}

function argmax(data: Float32Array, start: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (data[start + j] > data[start + best]) best = j;
  return best;
}
