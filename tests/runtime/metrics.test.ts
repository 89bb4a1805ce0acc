// Metrics against hand-computed values, the training-curve SVG and the progress line.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { throwsError } from './helpers';

const { ShapeError, ValueError } = nn;
const { accuracy, argmaxRows, confusionMatrix, f1, formatConfusionMatrix, precision, recall } = nn.metrics;
const { curvesSvg, heatmapSvg, niceTicks, formatDuration, formatRate, progressBar } = nn.report;

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} != ${b}`);
const allClose = (a: ArrayLike<number>, b: number[], what: string) => {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < b.length; i++) close(a[i], b[i], `${what}[${i}]`);
};

// ---------------------------------------------------------------------------------------------------------------------
const metrics = suite('metrics');

// 10 samples over 3 classes. Counted by hand (row = true, column = predicted):
//            pred 0  pred 1  pred 2
//   true 0      2       1       0      (3 samples)
//   true 1      0       3       1      (4)
//   true 2      1       0       2      (3)
// predicted totals: 3, 4, 3; correct: 7
const yTrue = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2];
const yPred = [0, 1, 0, 1, 1, 2, 1, 2, 0, 2];

metrics('confusion matrix: row = true class', () => {
  const cm = confusionMatrix(yTrue, yPred, 3);
  assert.instance(cm, Int32Array);
  assert.equal(Array.from(cm), [2, 1, 0, 0, 3, 1, 1, 0, 2]);
  assert.equal(Array.from(confusionMatrix(new Uint8Array([1]), new Int32Array([0]), 2)), [0, 0, 1, 0]);
});

metrics('precision, recall, f1: per class, macro, micro', () => {
  const cm = confusionMatrix(yTrue, yPred, 3);
  const p = [2 / 3, 3 / 4, 2 / 3];
  const r = [2 / 3, 3 / 4, 2 / 3];
  allClose(precision(cm, 'none'), p, 'precision');
  allClose(recall(cm, 'none'), r, 'recall');
  allClose(f1(cm, 'none'), [2 / 3, 3 / 4, 2 / 3], 'f1');
  close(precision(cm, 'macro'), (2 / 3 + 3 / 4 + 2 / 3) / 3, 'macro precision');
  close(precision(cm), precision(cm, 'macro'), 'macro is the default');
  close(precision(cm, 'micro'), 0.7, 'micro precision = accuracy');
  close(recall(cm, 'micro'), 0.7, 'micro recall');
  close(f1(cm, 'micro'), 0.7, 'micro f1');
  close(accuracy(cm), 0.7, 'accuracy');
});

metrics('asymmetric case; a class never predicted scores 0', () => {
  // true 0: predicted [0, 0, 1]; true 1: [1, 1]; true 2: [1]. Class 2 is never predicted.
  const cm = confusionMatrix([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 1, 1], 3);
  assert.equal(Array.from(cm), [2, 1, 0, 0, 2, 0, 0, 1, 0]);
  allClose(precision(cm, 'none'), [1, 2 / 4, 0], 'precision');
  allClose(recall(cm, 'none'), [2 / 3, 1, 0], 'recall');
  allClose(f1(cm, 'none'), [2 * 1 * (2 / 3) / (1 + 2 / 3), 2 * 0.5 * 1 / 1.5, 0], 'f1');
  close(recall(cm, 'macro'), (2 / 3 + 1 + 0) / 3, 'macro recall');
  close(f1(cm, 'macro'), (0.8 + 2 / 3 + 0) / 3, 'macro f1');
  close(precision(cm, 'micro'), 4 / 6, 'micro precision');
});

metrics('errors', () => {
  throwsError(() => confusionMatrix([0, 1], [0], 2), ShapeError, /2 true labels but 1 predictions/);
  throwsError(() => confusionMatrix([0, 2], [0, 1], 2), ValueError, /true label 2 at index 1/);
  throwsError(() => confusionMatrix([0], [-1], 2), ValueError, /prediction -1 at index 0/);
  throwsError(() => precision(new Int32Array(5)), ShapeError, /not square/);
  throwsError(() => recall(new Int32Array(4), 'weighted' as 'macro'), ValueError, /unknown average/);
});

metrics('formatConfusionMatrix: aligned rows with labels', () => {
  const cm = confusionMatrix(yTrue, yPred, 3);
  const table = formatConfusionMatrix(cm, 3, ['cat', 'dog', 'mouse']);
  const lines = table.split('\n');
  assert.is(lines.length, 5);
  assert.ok(lines.every((l) => l.length === lines[0].length), 'every line has the same width');
  assert.match(lines[0], /true \\ predicted \|\s+cat\s+dog\s+mouse$/);
  assert.match(lines[2], /^\s+cat \|\s+2\s+1\s+0$/);
  assert.match(lines[4], /^\s+mouse \|\s+1\s+0\s+2$/);
  assert.match(formatConfusionMatrix(new Int32Array([1234, 0, 5, 6]), 2), /\n\s+1 \|\s+5\s+6$/);
  throwsError(() => formatConfusionMatrix(cm, 2), ShapeError, /9 values for 2 classes/);
  throwsError(() => formatConfusionMatrix(cm, 3, ['a']), ValueError, /1 labels for 3 classes/);
});

metrics('argmaxRows: first maximum wins', () => {
  const d = Float32Array.from([0.1, 0.7, 0.2, /**/ 5, 5, 1, /**/ -3, -2, -1, /**/ 0, 0, 0]);
  assert.equal(Array.from(argmaxRows(d, 4, 3)), [1, 0, 2, 0]);
  assert.equal(Array.from(argmaxRows(Float32Array.from([9, 8]), 2, 1)), [0, 0]);
  throwsError(() => argmaxRows(d, 5, 3), ShapeError, /12 values/);
});

metrics.run();

// ---------------------------------------------------------------------------------------------------------------------
const svg = suite('report: curves SVG');

/** Checks that every tag opens and closes in order (the SVG is parsed by browsers, so it must be well-formed XML). */
function balancedTags(xml: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    names.push(name);
    if (closing) assert.is(stack.pop(), name, `</${name}> closes the last open tag`);
    else if (!selfClosing) stack.push(name);
  }
  assert.equal(stack, [], 'every tag is closed');
  const stripped = xml.replace(/<\/?[a-zA-Z][\w:-]*(?:\s+[\w:-]+="[^"<]*")*\s*\/?>/g, '');
  assert.not.match(stripped, /[<>]/, 'no stray angle brackets outside tags');
  assert.not.match(stripped, /&(?!#\d+;|amp;|lt;|gt;|quot;|apos;)/, 'no bare ampersands');
  return names;
}

svg('two panels, train and validation series, well-formed', () => {
  const history = { loss: [1.2, 0.8, 0.5], valLoss: [1.3, 0.9, 0.7], acc: [0.5, 0.7, 0.8], valAcc: [0.45, 0.6, 0.75] };
  const out = curvesSvg(history, { title: 'A & B <test>' });
  assert.ok(out.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  const names = balancedTags(out);
  assert.is(names.filter((n) => n === 'svg').length, 2);
  assert.match(out, /width="840" height="330"/);
  assert.match(out, />Loss</);
  assert.match(out, />Accuracy</);
  assert.match(out, />A &#38; B &#60;test&#62;</);
  const series = [...out.matchAll(/<path class="series" data-name="(\w+)" d="([^"]+)"/g)];
  assert.equal(series.map((m) => m[1]), ['train', 'validation', 'train', 'validation']);
  for (const [, , d] of series) assert.match(d, /^M[\d.]+ [\d.]+L[\d.]+ [\d.]+L[\d.]+ [\d.]+$/);
  assert.is((out.match(/>train</g) ?? []).length, 2, 'a legend per panel');
  assert.is((out.match(/>epoch</g) ?? []).length, 2);
});

svg('train points go down the loss panel as the loss falls; ticks cover the values', () => {
  const out = curvesSvg({ loss: [2, 1, 0.5] });
  const d = /data-name="train" d="([^"]+)"/.exec(out)![1];
  const points = [...d.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.is(points.length, 3);
  assert.ok(points[0][0] < points[1][0] && points[1][0] < points[2][0], 'x grows with the epoch');
  assert.ok(points[0][1] < points[1][1] && points[1][1] < points[2][1], 'lower loss is drawn lower (larger y)');
  assert.not.match(out, />Accuracy</, 'no accuracy panel without accuracy');
  assert.not.match(out, />validation</);
  assert.match(out, /width="420"/);
  balancedTags(out);
});

svg('non-finite values break the line; a single epoch and an empty history still render', () => {
  const out = curvesSvg({ loss: [1, NaN, 0.5, 0.4] });
  assert.match(out, /d="M[\d.]+ [\d.]+M[\d.]+ [\d.]+L[\d.]+ [\d.]+"/);
  assert.not.match(out, /NaN|Infinity/);
  balancedTags(curvesSvg({ loss: [0.7], acc: [0.5] }));
  balancedTags(curvesSvg({ loss: [] }));
});

svg('niceTicks: round steps covering the range', () => {
  assert.equal(niceTicks(0.23, 2.41, 5), [0, 0.5, 1, 1.5, 2, 2.5]);
  assert.equal(niceTicks(0.28, 0.91, 5), [0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(niceTicks(1, 20, 6), [0, 5, 10, 15, 20]);
  assert.equal(niceTicks(0.61, 0.63, 4), [0.61, 0.615, 0.62, 0.625, 0.63]);
  assert.equal(niceTicks(120, 980, 5), [0, 200, 400, 600, 800, 1000]);
});

svg('attention heatmap: a cell per query and key, labels, exact zeros grey, the darkest cell the largest weight', () => {
  const labels = ['a', ' ', '<'];
  const w = [1, 0, 0, 0.25, 0.75, 0, 0.5, 0.3, 0.2];
  const out = heatmapSvg(w, labels, labels, { title: 'block & head 0' });
  assert.ok(out.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  balancedTags(out);
  const fills = [...out.matchAll(/<rect class="cell"[^>]*fill="([^"]+)"/g)].map((m) => m[1]);
  assert.is(fills.length, 9);
  assert.equal(fills.map((f, i) => (f === '#e4e4e4') === (w[i] === 0)), Array(9).fill(true), 'grey exactly where the weight is 0');
  const blue = (f: string) => Number(/rgb\((\d+),/.exec(f)![1]); // red channel: smaller is darker
  assert.ok(blue(fills[0]) < blue(fills[4]) && blue(fills[4]) < blue(fills[6]) && blue(fills[6]) < blue(fills[3]), 'darker for larger weights');
  assert.is((out.match(/class="row-label"/g) ?? []).length, 3);
  assert.match(out, />␣</, 'a space is drawn visibly');
  assert.match(out, />&#60;</, 'labels are escaped');
  assert.match(out, />block &#38; head 0</);
  assert.match(out, />1\.000</, 'the scale runs to the largest weight');
  assert.throws(() => heatmapSvg([1, 2], labels, labels), (e: unknown) => e instanceof ValueError && /2 values for 3 x 3 labels/.test((e as Error).message));
});

svg.run();

// ---------------------------------------------------------------------------------------------------------------------
const progress = suite('report: progress line');

progress('one line with the bar, epoch, batch, loss, accuracy, rate and ETA', () => {
  const bar = progressBar({ width: 10 });
  const line = bar.render({ epoch: 3, epochs: 10, batch: 50, batches: 100, loss: 0.34127, acc: 0.9123, samplesPerSec: 48123, etaSec: 65 });
  assert.is(line, 'epoch  3/10 [=====>    ]  50/100  loss 0.3413  acc 0.9123  48.1k samples/s  ETA 1:05');
  assert.not.match(line, /[\r\n]/);
});

progress('bar ends, no accuracy, explicit total, unknown ETA', () => {
  const bar = progressBar({ width: 4, total: 8 });
  const state = { epoch: 1, epochs: 1, batch: 0, batches: 4, loss: 2.5, samplesPerSec: 12.4, etaSec: Infinity };
  assert.is(bar.render(state), 'epoch 1/1 [>   ] 0/4  loss 2.5000  12 samples/s  ETA --:--');
  assert.match(bar.render({ ...state, batch: 8 }), /\[====\]/);
  assert.match(progressBar().render({ ...state, batch: 4 }), / \[={30}\] /);
  assert.match(bar.render({ ...state, loss: NaN }), /loss NaN/);
});

progress('durations and rates', () => {
  assert.is(formatDuration(0), '0:00');
  assert.is(formatDuration(59.6), '1:00');
  assert.is(formatDuration(605), '10:05');
  assert.is(formatDuration(3725), '1:02:05');
  assert.is(formatDuration(NaN), '--:--');
  assert.is(formatRate(999.4), '999');
  assert.is(formatRate(1500), '1.50k');
  assert.is(formatRate(2.5e6), '2.50M');
});

progress.run();
