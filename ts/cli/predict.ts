// `wasmnn predict` and `wasmnn info`: what the CLI does with a model it (or TF.js) saved. A model is a .wnn
// checkpoint, or a TF.js layers model.json (its weight files beside it).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import * as nn from 'wasmnn';
import { UsageError } from './options';
import { identityAtInference } from './bundle';
import { layerKinds, readTopology } from './model-file';
import type { PredictOptions } from './edge-options';

const isTfjs = (path: string) => extname(path).toLowerCase() === '.json';

async function loadAny(path: string): Promise<nn.Sequential> {
  await nn.ready();
  return isTfjs(path) ? nn.loadTfjsModelFrom(path) : nn.loadModel(new Uint8Array(readFileSync(path)));
}

/** The file beside the model that `wasmnn train` wrote: MODEL.scaler.json, MODEL.classes.json. */
function beside(model: string, suffix: string): string {
  const ext = extname(model);
  return (ext ? model.slice(0, -ext.length) : model) + suffix;
}

/** What `wasmnn info` prints. */
export async function info(path: string): Promise<string> {
  const model = await loadAny(path);
  try {
    const lines = [model.summary(null)];
    const size = statSync(path).size;
    const trainable = model.network.layers.flatMap((l) => l.params).filter((p) => p.trainable).reduce((a, p) => a + p.size, 0);
    lines.push(`parameters: ${model.countParams().toLocaleString('en-US')} (${trainable.toLocaleString('en-US')} trainable)`);
    let kinds: string[];
    if (isTfjs(path)) {
      lines.push(`file: ${path}, a TF.js layers model (${formatBytes(size)} of JSON; the weight files beside it, read as float32)`);
      lines.push('optimizer state: none (TF.js layers models carry topology and weights only)');
      kinds = layerKinds({ layers: model.network.layers.map((l) => ({ className: l.className, config: l.getConfig() })) });
    } else {
      const bytes = new Uint8Array(readFileSync(path));
      const c = nn.checkpointInfo(bytes);
      lines.push(`file: ${path}, a wasmnn checkpoint (format version ${c.version}), ${formatBytes(size)}; weights stored as ${c.weights}`);
      lines.push(c.trainingState
        ? `optimizer state: yes (${c.compile!.optimizer}, ${c.iterations} steps${c.epoch === undefined ? '' : `, ${c.epoch} epochs`}): fit() resumes exactly; 'wasmnn bundle' leaves it out`
        : 'optimizer state: none (topology and weights only)');
      if (c.compile) lines.push(`compiled with: optimizer ${c.compile.optimizer}, loss ${c.compile.loss}${c.compile.metrics.length ? `, metrics ${c.compile.metrics.join(', ')}` : ''}`);
      kinds = layerKinds(readTopology(bytes));
    }
    const top = model.network.layers;
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
  const model = await loadAny(opts.model);
  try {
    const { x, n, what } = readSamples(opts, model.inputShape);
    const out = model.predict(nn.tensor(x, [n, ...model.inputShape]));
    const k = out.data.length / Math.max(n, 1);
    const act = model.network.outputLayer.activation?.name;
    const classesFile = beside(opts.model, '.classes.json');
    const saved = existsSync(classesFile) ? (JSON.parse(readFileSync(classesFile, 'utf8')).classes as string[]) : undefined;
    const kind = act === 'softmax' && k > 1 ? 'softmax' : act === 'sigmoid' && k === 1 ? 'sigmoid' : 'outputs';
    const names = kind === 'softmax' ? (saved?.length === k ? saved : Array.from({ length: k }, (_, i) => String(i)))
      : kind === 'sigmoid' ? (saved?.length === 2 ? saved : ['0', '1']) : [];
    const rows: { cls?: string; values: number[] }[] = [];
    for (let i = 0; i < n; i++) {
      const values = Array.from(out.data.subarray(i * k, (i + 1) * k));
      if (kind === 'softmax') rows.push({ cls: names[values.indexOf(Math.max(...values))], values });
      else if (kind === 'sigmoid') rows.push({ cls: names[values[0] >= 0.5 ? 1 : 0], values });
      else rows.push({ values });
    }
    const text = opts.format === 'jsonl'
      ? rows.map((r) => JSON.stringify(kind === 'outputs' ? { outputs: r.values }
        : { class: r.cls, probabilities: Object.fromEntries(kind === 'softmax' ? names.map((c, j) => [c, r.values[j]]) : [[names[1], r.values[0]]]) })).join('\n') + '\n'
      : [kind === 'outputs' ? Array.from({ length: k }, (_, j) => `output_${j}`).join(',')
        : ['class', ...(kind === 'softmax' ? names : [names[1]]).map((c) => `p_${csvField(c)}`)].join(','),
      ...rows.map((r) => [...(r.cls === undefined ? [] : [csvField(r.cls)]), ...r.values.map(String)].join(','))].join('\n') + '\n';
    if (opts.output) writeFileSync(opts.output, text);
    else process.stdout.write(text);
    return `predicted ${n} ${what}${opts.output ? `: wrote ${opts.output}` : ''}`;
  } finally {
    model.dispose();
  }
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
