// What `wasmnn train` leaves behind: the test report, the saved model, the curves SVG, and the peak memory.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import * as nn from 'wasmnn';
import type { Dataset } from './dataset';

/** Test accuracy (and loss when known) and the confusion matrix, as lines to print. */
export function testReport(ds: Dataset, predicted: ArrayLike<number>, loss?: number): string[] {
  const k = ds.classes.length;
  const cm = nn.metrics.confusionMatrix(ds.yTest, predicted, k);
  const accuracy = nn.metrics.accuracy(cm);
  const lossText = loss === undefined ? '' : `loss ${loss.toFixed(4)}  `;
  return [
    `test: ${lossText}accuracy ${(accuracy * 100).toFixed(2)}% (${Math.round(accuracy * ds.nTest)} of ${ds.nTest} right)`,
    '',
    'confusion matrix (rows: true class, columns: predicted class)',
    nn.metrics.formatConfusionMatrix(cm, k, ds.classes),
    '',
  ];
}

/** Class indices from the outputs: argmax of a softmax row, or a single probability (or 0/1 step) against 0.5. */
export function predictedClasses(outputs: Float32Array, n: number, binary: boolean): Int32Array {
  if (binary) return Int32Array.from(outputs.subarray(0, n), (p) => (p >= 0.5 ? 1 : 0));
  return nn.metrics.argmaxRows(outputs, n, outputs.length / n);
}

/** Writes a file, making its folder first; returns its size in bytes. */
export function writeFile(path: string, content: Uint8Array | string): number {
  mkdirSync(dirname(path) || '.', { recursive: true });
  writeFileSync(path, content);
  return typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
}

interface Saveable {
  save?: () => Uint8Array;
  getWeights?: () => { data: Float32Array; shape: readonly number[] }[];
}

/** Saves the model's checkpoint; without model.save, its weights as JSON beside the path (said in the line). */
export function saveModel(model: Saveable, path: string): string {
  if (typeof model.save === 'function') {
    return `saved the model to ${path} (${formatBytes(writeFile(path, model.save()))})`;
  }
  const jsonPath = withExtension(path, '.weights.json');
  const weights = (model.getWeights?.() ?? []).map((w) => ({ shape: [...w.shape], data: Array.from(w.data) }));
  const size = writeFile(jsonPath, JSON.stringify({ format: 'wasmnn-weights', weights }));
  return `this wasmnn has no model.save(): saved the weights as JSON to ${jsonPath} (${formatBytes(size)})`;
}

/** The scaler a CSV model needs at prediction time, beside the model. */
export function saveScaler(scaler: nn.data.ScalerJSON, modelPath: string): string {
  const path = withExtension(modelPath, '.scaler.json');
  writeFile(path, JSON.stringify(scaler));
  return `saved the feature standardisation to ${path}`;
}

/** The class names (in index order) and the CSV's label column, beside the model: `wasmnn predict` reads them. */
export function saveClasses(classes: string[], labelColumn: string | number, modelPath: string): void {
  writeFile(withExtension(modelPath, '.classes.json'), JSON.stringify({ classes, labelColumn }));
}

/** Where a character model's vocabulary is kept: beside the model (the checkpoint has no slot for it). */
export function vocabularyPath(modelPath: string): string {
  return withExtension(modelPath, '.vocab.json');
}

/** Where a text classifier's tokenizer and padding settings are kept, beside the model. */
export function tokenizerPath(modelPath: string): string {
  return withExtension(modelPath, '.tokenizer.json');
}

export interface FitHistory {
  loss?: number[];
  accuracy?: number[];
  val_loss?: number[];
  val_accuracy?: number[];
}

export function writeCurves(history: FitHistory, path: string, title: string): string {
  const svg = nn.report.curvesSvg(
    { loss: history.loss ?? [], valLoss: history.val_loss, acc: history.accuracy, valAcc: history.val_accuracy },
    { title },
  );
  writeFile(path, svg);
  return `wrote the loss and accuracy curves to ${path}`;
}

/** Peak resident memory of this process so far. */
export function peakRss(): string {
  return `peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`; // maxRSS is in KiB
}

function withExtension(path: string, ext: string): string {
  const current = extname(path);
  return (current ? path.slice(0, -current.length) : path) + ext;
}

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(2)} MiB`;
}
