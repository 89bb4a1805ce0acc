// The command lines of `wasmnn bundle`, `wasmnn predict` and `wasmnn info`: parsed with node:util parseArgs and
// checked, each into one plain object (undefined when help was asked for).
import { existsSync, statSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './options';
import type { BundleOptions } from './bundle';

export const BUNDLE_HELP = `Usage: wasmnn bundle MODEL.wnn --out DIR [options]

Writes the model as a ready ES module for the edge: DIR/model.js (wasmnn's inference code for the model's
layer kinds only, minified), DIR/model.wasm (only the kernels those layers call) and DIR/model.weights.bin (the
weights). In any runtime:  import { load, predict } from './DIR/model.js';
                           await load();            // or load(bytes | URL | path of the weights)
                           const { data, shape } = predict(x);
Bundling needs the npm packages esbuild and binaryen (the bundle itself needs nothing).

Options
  --out DIR            where to write the files (made if missing)
  --embed-weights      the weights inside model.js: load() takes no argument
  --single-file        the module's bytes inside model.js: no model.wasm
  --name NAME          the files' name                                         [model]
  -h, --help           this text
`;

export const INFO_HELP = `Usage: wasmnn info MODEL

Prints what a saved model holds: its layers and parameter count, what the file is (a wasmnn checkpoint and its
format version, an ONNX model and its opset, a TF.js layers model), weight format and size, whether the optimiser
state is in the file, and the layer kinds a bundle of it needs. MODEL is a .wnn checkpoint, an .onnx file (as
torch.onnx.export writes it) or a TF.js model.json (its weight files beside it).
`;

export const PREDICT_HELP = `Usage: wasmnn predict MODEL --input FILE [options]

Runs a saved model (.wnn, an .onnx file or a TF.js model.json) on the rows of a CSV file or the images of an
IDX file and writes each sample's predicted class and class probabilities (log-probabilities for a model that
ends in LogSoftmax; the outputs of a model that is not a classifier). A CSV is standardised with the scaler
'wasmnn train' saved beside the model (MODEL.scaler.json). An imported model takes what it took before import:
token ids as numbers for a character model, images channels-last (an IDX file's are).

Options
  --input FILE         a CSV (one sample a row; a header line is skipped) or an IDX file (images)
  --output FILE        where to write the predictions                          [standard output]
  --format csv|jsonl   CSV with a header, or one JSON object a line             [csv]
  --label-column NAME|INDEX  a column of the CSV to leave out (its labels): by default the one train used,
                       when the CSV has one column more than the model takes
  -h, --help           this text
`;

function parse(args: string[], options: ParseArgsConfig['options']): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { ...options, help: { type: 'boolean', short: 'h', default: false } } });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    throw new UsageError(String((e as Error).message).split(/\.\s/)[0]);
  }
}

/** The one positional argument, a file that exists. */
function modelPath(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`wasmnn ${command} takes one model file, got ${positionals.length}`, `Run 'wasmnn ${command} --help' for the options.`);
  const path = positionals[0];
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`no such file: ${path}`, `Run 'wasmnn ${command} --help' for the options.`);
  return path;
}

export function parseBundleOptions(args: string[]): BundleOptions | undefined {
  const { values, positionals } = parse(args, {
    out: { type: 'string' }, 'embed-weights': { type: 'boolean', default: false }, 'single-file': { type: 'boolean', default: false },
    name: { type: 'string', default: 'model' },
  });
  if (values.help) return undefined;
  const model = modelPath(positionals, 'bundle');
  if (typeof values.out !== 'string' || values.out === '') throw new UsageError('--out DIR is required', "Run 'wasmnn bundle --help' for the options.");
  const name = String(values.name);
  if (!/^[\w.-]+$/.test(name)) throw new UsageError(`--name must be a file name (letters, digits, '.', '-', '_'); got '${name}'`);
  return { model, out: values.out, embedWeights: Boolean(values['embed-weights']), singleFile: Boolean(values['single-file']), name };
}

export function parseInfoOptions(args: string[]): { model: string } | undefined {
  const { values, positionals } = parse(args, {});
  if (values.help) return undefined;
  return { model: modelPath(positionals, 'info') };
}

export interface PredictOptions {
  model: string;
  input: string;
  output?: string;
  format: 'csv' | 'jsonl';
  labelColumn?: string | number;
}

export function parsePredictOptions(args: string[]): PredictOptions | undefined {
  const { values, positionals } = parse(args, {
    input: { type: 'string' }, output: { type: 'string' }, format: { type: 'string', default: 'csv' }, 'label-column': { type: 'string' },
  });
  if (values.help) return undefined;
  const model = modelPath(positionals, 'predict');
  const input = values.input;
  if (typeof input !== 'string' || input === '') throw new UsageError('--input FILE is required', "Run 'wasmnn predict --help' for the options.");
  if (!existsSync(input) || !statSync(input).isFile()) throw new UsageError(`--input: no such file: ${input}`);
  const format = String(values.format);
  if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl; got '${format}'`);
  const column = values['label-column'] as string | undefined;
  const labelColumn = column === undefined ? undefined : /^-?\d+$/.test(column.trim()) ? Number(column) : column;
  return { model, input, output: values.output as string | undefined, format, labelColumn };
}
