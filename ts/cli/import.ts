// `wasmnn import MODEL.onnx --out MODEL.wnn`: a model trained elsewhere (PyTorch through torch.onnx.export, or Keras
// through TF.js' converter: model.json) read into wasmnn, its summary printed and saved as a wasmnn checkpoint.
import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from './options';
import { saveModel } from './results';
import { loadModelFile } from './model-file';

export interface ImportOptions {
  source: string;
  out: string;
  weights: 'f32' | 'f16' | 'int8';
}

export const IMPORT_HELP = `Usage: wasmnn import MODEL.onnx|model.json [--out FILE.wnn] [--weights f32|f16|int8]

Reads a model trained elsewhere and saves it as a wasmnn model, printing its summary:
  MODEL.onnx   an ONNX file, as PyTorch's torch.onnx.export writes it (MLPs and CNNs whose graph is a chain,
               with residual blocks; opsets 9 to 21). Images become NHWC: the wasmnn model takes
               [batch, height, width, channels] where the PyTorch model took [batch, channels, height, width].
  model.json   a TF.js layers model (tf.LayersModel.save(), or Keras through tensorflowjs_converter), its
               weight files beside it.

Options
  --out FILE       where to save the wasmnn model           [MODEL with the extension .wnn]
  --weights KIND   weight storage: f32 (exact), f16, int8    [f32]
  -h, --help       this text
`;

/** Parses the arguments after `import`; undefined when help was asked for. */
export function parseImportOptions(args: string[]): ImportOptions | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args, strict: true, allowPositionals: true,
      options: { out: { type: 'string' }, weights: { type: 'string', default: 'f32' }, help: { type: 'boolean', short: 'h', default: false } },
    });
  } catch (e) {
    throw new UsageError(String((e as Error).message).split(/\.\s/)[0], "Run 'wasmnn import --help' for the options.");
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  const hint = "Run 'wasmnn import --help' for the options.";
  if (positionals.length !== 1) throw new UsageError(`import takes one model file, got ${positionals.length}`, hint);
  const source = positionals[0];
  if (!/\.(onnx|json)$/i.test(source)) throw new UsageError(`the model must be an .onnx file or a TF.js model.json; got '${source}'`, hint);
  if (!existsSync(source) || !statSync(source).isFile()) throw new UsageError(`no such file: ${source}`, hint);
  const weights = values.weights!;
  if (weights !== 'f32' && weights !== 'f16' && weights !== 'int8') throw new UsageError(`--weights must be one of f32, f16, int8; got '${weights}'`, hint);
  const out = values.out ?? source.replace(/\.(onnx|json)$/i, '.wnn');
  if (out.trim() === '') throw new UsageError('--out needs a file name', hint);
  return { source, out, weights };
}

export async function importModel(opts: ImportOptions): Promise<void> {
  const { model, kind } = await loadModelFile(opts.source);
  const onnx = kind === 'onnx';
  console.log(model.summary(null));
  // a model saved with its steps open takes any number of them
  const shape: (number | string)[] = model.network.variableSteps ? ['steps', ...model.inputShape.slice(1)] : model.inputShape;
  console.log(`input: [batch, ${shape.join(', ')}]${onnx && shape.length === 3 ? ' (NHWC: channels last; PyTorch\'s NCHW images need transposing, nn.nchwToNhwc)' : ''}`);
  console.log(saveModel({ save: () => model.save({ includeOptimizer: false, weights: opts.weights }) }, opts.out));
  model.dispose();
}
