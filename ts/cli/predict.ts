// `wasmnn predict` and `wasmnn info`: what the CLI does with a model it (or TF.js) saved, or one trained elsewhere.
// A model is a .wnn checkpoint, an ONNX file (PyTorch's torch.onnx.export) or a TF.js layers model.json (its weight
// files beside it), each read by the library's loader for it (model-file.ts).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import * as nn from 'wasmnn';
import { UsageError } from './options';
import { identityAtInference } from './bundle';
import { layerKinds, loadModelFile, type ModelFileKind } from './model-file';
import type { PredictOptions } from './edge-options';

/** The file beside the model that `wasmnn train` wrote: MODEL.scaler.json, MODEL.classes.json. */
function beside(model: string, suffix: string): string {
  const ext = extname(model);
  return (ext ? model.slice(0, -ext.length) : model) + suffix;
}

/** What `wasmnn info` prints. */
export async function info(path: string): Promise<string> {
  const { model, kind, bytes } = await loadModelFile(path);
  try {
    const lines = [model.summary(null)];
    const trainable = model.network.layers.flatMap((l) => l.params).filter((p) => p.trainable).reduce((a, p) => a + p.size, 0);
    lines.push(`parameters: ${model.countParams().toLocaleString('en-US')} (${trainable.toLocaleString('en-US')} trainable)`);
    lines.push(...describeFile(path, kind, bytes));
    const top = model.network.layers;
    const kinds = layerKinds({ layers: top.map((l) => ({ className: l.className, config: l.getConfig() })) });
    const dropped = new Set(top.filter(identityAtInference).map((l) => l.className));
    const needed = kinds.filter((k) => !dropped.has(k) || top.some((l) => l.className === k && !identityAtInference(l)));
    lines.push(`a bundle needs the layer kinds: ${needed.join(', ')}` +
      (dropped.size ? ` (${[...dropped].join(', ')}: the identity at inference, left out)` : ''));
    return lines.join('\n');
  } finally {
    model.dispose();
  }
}

/** `wasmnn predict`: the samples of a CSV or IDX file through the model; returns the line to print at the end. */
export async function predict(opts: PredictOptions): Promise<string> {
  const { model } = await loadModelFile(opts.model);
  try {
    const { x, n, what } = readSamples(opts, model.inputShape);
    const out = model.predict(nn.tensor(x, [n, ...model.inputShape]));
    const k = out.data.length / Math.max(n, 1);
    const last = model.network.outputLayer;
    const act = last.activation?.name;
    const classesFile = beside(opts.model, '.classes.json');
    const saved = existsSync(classesFile) ? (JSON.parse(readFileSync(classesFile, 'utf8')).classes as string[]) : undefined;
    // a classifier gives one row of class scores a sample: probabilities (softmax, sigmoid), or the log-probabilities
    // of a LogSoftmax layer (PyTorch's classifiers and character models end so); anything else is printed as it is
    const flat = model.outputShape.length === 1;
    const kind = !flat ? 'outputs' : act === 'softmax' && k > 1 ? 'softmax' : act === 'sigmoid' && k === 1 ? 'sigmoid'
      : last.className === 'LogSoftmax' && k > 1 ? 'logSoftmax' : 'outputs';
    const names = kind === 'softmax' || kind === 'logSoftmax' ? (saved?.length === k ? saved : Array.from({ length: k }, (_, i) => String(i)))
      : kind === 'sigmoid' ? (saved?.length === 2 ? saved : ['0', '1']) : [];
    const rows: { cls?: string; values: number[] }[] = [];
    for (let i = 0; i < n; i++) {
      const values = Array.from(out.data.subarray(i * k, (i + 1) * k));
      if (kind === 'softmax' || kind === 'logSoftmax') rows.push({ cls: names[values.indexOf(Math.max(...values))], values });
      else if (kind === 'sigmoid') rows.push({ cls: names[values[0] >= 0.5 ? 1 : 0], values });
      else rows.push({ values });
    }
    const scores = kind === 'logSoftmax' ? 'logProbabilities' : 'probabilities';
    const text = opts.format === 'jsonl'
      ? rows.map((r) => JSON.stringify(kind === 'outputs' ? { outputs: r.values }
        : { class: r.cls, [scores]: Object.fromEntries(kind === 'sigmoid' ? [[names[1], r.values[0]]] : names.map((c, j) => [c, r.values[j]])) })).join('\n') + '\n'
      : [kind === 'outputs' ? Array.from({ length: k }, (_, j) => `output_${j}`).join(',')
        : ['class', ...(kind === 'sigmoid' ? [names[1]] : names).map((c) => `${kind === 'logSoftmax' ? 'logp' : 'p'}_${csvField(c)}`)].join(','),
      ...rows.map((r) => [...(r.cls === undefined ? [] : [csvField(r.cls)]), ...r.values.map(String)].join(','))].join('\n') + '\n';
    if (opts.output) writeFileSync(opts.output, text);
    else process.stdout.write(text);
    return `predicted ${n} ${what}${opts.output ? `: wrote ${opts.output}` : ''}`;
  } finally {
    model.dispose();
  }
}

/** The lines of `wasmnn info` on the file itself: its format, size, weight storage and optimiser state. */
function describeFile(path: string, kind: ModelFileKind, bytes: Uint8Array): string[] {
  const size = formatBytes(statSync(path).size);
  if (kind === 'onnx') {
    const o = nn.onnxInfo(bytes);
    const by = o.producer ? `, written by ${o.producer}${o.producerVersion ? ` ${o.producerVersion}` : ''}` : '';
    return [
      `file: ${path}, an ONNX model (opset ${o.opset}, IR version ${o.irVersion}${by}), ${size}; weights stored as ${o.weightTypes.join(', ') || 'none'}, read as float32`,
      `ONNX ops: ${o.ops.join(', ')}`,
      "optimizer state: none (an ONNX file holds the graph and weights only; 'wasmnn import' saves it as a .wnn to fine-tune)",
    ];
  }
  if (kind === 'tfjs') {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as { format?: unknown; generatedBy?: unknown; convertedBy?: unknown; weightsManifest?: { weights?: { dtype?: string; quantization?: { dtype?: string } }[] }[] };
    const by = [json.generatedBy, json.convertedBy].filter((s) => typeof s === 'string' && s).join(', converted by ');
    const stored = [...new Set((json.weightsManifest ?? []).flatMap((g) => g.weights ?? []).map((w) => w.quantization?.dtype ? `${w.quantization.dtype} (quantized)` : w.dtype ?? 'float32'))];
    return [
      `file: ${path}, a TF.js layers model${by ? ` (written by ${by})` : ''}, ${size} of JSON; weights in the files beside it, stored as ${stored.join(', ') || 'none'}, read as float32`,
      'optimizer state: none (a TF.js layers model holds topology and weights only)',
    ];
  }
  const c = nn.checkpointInfo(bytes);
  const lines = [
    `file: ${path}, a wasmnn checkpoint (format version ${c.version}), ${size}; weights stored as ${c.weights}`,
    c.trainingState
      ? `optimizer state: yes (${c.compile!.optimizer}, ${c.iterations} steps${c.epoch === undefined ? '' : `, ${c.epoch} epochs`}): fit() resumes exactly; 'wasmnn bundle' leaves it out`
      : 'optimizer state: none (topology and weights only)',
  ];
  if (c.compile) lines.push(`compiled with: optimizer ${c.compile.optimizer}, loss ${c.compile.loss}${c.compile.metrics.length ? `, metrics ${c.compile.metrics.join(', ')}` : ''}`);
  return lines;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The samples of the input file as (n, features) floats: IDX as they are (images keep their pixel values; the
 *  CLI's models scale them inside), CSV rows standardised with the scaler train saved beside the model. */
function readSamples(opts: PredictOptions, inputShape: number[]): { x: Float32Array; n: number; what: string } {
  const features = inputShape.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(readFileSync(opts.input));
  if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && bytes[3] >= 1) {
    const idx = nn.data.parseIdx(bytes);
    const n = idx.shape[0];
    const per = idx.shape.slice(1).reduce((a, b) => a * b, 1);
    if (per !== features) throw new UsageError(`${opts.input}: its samples are ${idx.shape.slice(1).join('x')} (${per} values); the model takes [${inputShape}] (${features})`, "Run 'wasmnn predict --help' for the options.");
    return { x: Float32Array.from(idx.data as ArrayLike<number>), n, what: `${idx.shape.slice(1).join('x')} samples of ${opts.input}` };
  }
  const text = new TextDecoder().decode(bytes);
  const classesFile = beside(opts.model, '.classes.json');
  const savedColumn = existsSync(classesFile) ? JSON.parse(readFileSync(classesFile, 'utf8')).labelColumn : undefined;
  const tries = opts.labelColumn !== undefined ? [opts.labelColumn] : [undefined, savedColumn ?? -1];
  let csv: nn.data.Csv | undefined;
  const seen: string[] = [];
  for (const labelColumn of tries) {
    try {
      const parsed = nn.data.parseCsv(text, labelColumn === undefined ? {} : { labelColumn });
      if (parsed.cols === features) {
        csv = parsed;
        break;
      }
      seen.push(`${parsed.cols} feature columns${labelColumn === undefined ? '' : ` without label column ${labelColumn}`}`);
    } catch (e) {
      seen.push((e as Error).message);
    }
  }
  if (!csv) throw new UsageError(`${opts.input}: the model takes ${features} features a row; the CSV has ${seen.join('; or ')}`, "Run 'wasmnn predict --help' for the options.");
  const scalerFile = beside(opts.model, '.scaler.json');
  let x = csv.x;
  if (existsSync(scalerFile)) x = nn.data.standardScaler().fromJSON(JSON.parse(readFileSync(scalerFile, 'utf8'))).transform(x, csv.rows, csv.cols);
  return { x, n: csv.rows, what: `rows of ${opts.input}${existsSync(scalerFile) ? ` (standardised with ${scalerFile})` : ''}` };
}

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(2)} MiB`;
}
