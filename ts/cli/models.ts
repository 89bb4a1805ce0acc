// The networks `wasmnn train` can build, compiled with the chosen optimiser, and how their data is shaped.
import * as nn from 'wasmnn';
import type { Dataset, Labels } from './dataset';
import { UsageError, type TrainOptions } from './options';

export interface Built {
  model: nn.Sequential;
  /** e.g. "mlp 784-256-128-10 (relu, softmax)". */
  description: string;
  /** One sigmoid output read with a 0.5 threshold, instead of one softmax output per class. */
  binary: boolean;
  /** The samples as the model's input tensor. */
  input(x: Float32Array | Uint8Array, n: number): nn.Tensor<Float32Array | Uint8Array>;
  /** The labels as fit and evaluate take them for the model's loss. */
  targets(y: Labels, n: number): Labels | nn.Tensor;
}

/** `steps`: the optimiser steps of the whole run, over which a cosine schedule decays. */
export function buildModel(opts: TrainOptions, ds: Dataset, steps: number): Built {
  const built = (BUILDERS[opts.model] ?? mlp)(opts, ds);
  const loss = built.binary ? 'binaryCrossentropy' : 'sparseCategoricalCrossentropy';
  built.model.compile({ optimizer: optimizer(opts, steps), loss, metrics: ['accuracy'] });
  return built;
}

/** The first layers: byte data is scaled inside the model, so only bytes are held in memory. */
function inputLayers(ds: Dataset, shape: number[]): nn.layers.Layer[] {
  return ds.scale ? [nn.layers.rescaling({ inputShape: shape, scale: ds.scale })] : [];
}

/** Samples as a tensor of the model's input shape, bytes kept as bytes. */
function asInput(x: Float32Array | Uint8Array, shape: number[]): nn.Tensor<Float32Array | Uint8Array> {
  return x instanceof Uint8Array ? nn.tensor(x, shape, 'uint8') : nn.tensor(x, shape);
}

function mlp(opts: TrainOptions, ds: Dataset): Built {
  const layers: nn.layers.Layer[] = inputLayers(ds, [ds.features]);
  opts.layers.forEach((units, i) => {
    const inputShape = i === 0 && layers.length === 0 ? { inputShape: [ds.features] } : {};
    layers.push(nn.layers.dense({ ...inputShape, units, activation: opts.activation }));
    if (opts.dropout > 0) layers.push(nn.layers.dropout({ rate: opts.dropout }));
  });
  const classes = ds.classes.length;
  const inputShape = layers.length === 0 ? { inputShape: [ds.features] } : {};
  layers.push(nn.layers.dense({ ...inputShape, units: classes, activation: 'softmax' }));
  const sizes = [ds.features, ...opts.layers, classes].join('-');
  const dropout = opts.dropout > 0 ? `, dropout ${opts.dropout}` : '';
  return {
    model: nn.sequential({ layers, seed: opts.seed }),
    description: `mlp ${sizes} (${opts.layers.length ? `${opts.activation}, ` : ''}softmax${dropout})`,
    binary: false,
    input: (x, n) => asInput(x, [n, ds.features]),
    targets: (y) => y,
  };
}

/** Logistic regression: one sigmoid unit trained with binary cross-entropy. */
function logreg(opts: TrainOptions, ds: Dataset): Built {
  return {
    model: nn.sequential({
      layers: [...inputLayers(ds, [ds.features]), nn.layers.dense({ ...(ds.scale ? {} : { inputShape: [ds.features] }), units: 1, activation: 'sigmoid' })],
      seed: opts.seed,
    }),
    description: `logistic regression ${ds.features}-1 (sigmoid)`,
    binary: true,
    input: (x, n) => asInput(x, [n, ds.features]),
    targets: (y, n) => nn.tensor2d(Float32Array.from(y), [n, 1]),
  };
}

/** The CLI's CNN (`--model cnn`): the accurate one of bench/cnn.mjs --accuracy (99.5% on MNIST in 10 epochs). */
function cnn(opts: TrainOptions, ds: Dataset): Built {
  const image = needImages(opts, ds);
  const [h, w, c] = image;
  const { conv2d, batchNormalization, activation, maxPooling2d, flatten, dense, dropout, randomAugment } = nn.layers;
  // convolutions without bias: the batch norm after each one has its own shift (beta)
  const block = (filters: number, first: boolean): nn.layers.Layer[] => [
    conv2d({ ...(first && !ds.scale ? { inputShape: image } : {}), filters, kernelSize: 5, useBias: false }),
    batchNormalization(), activation({ activation: 'relu' }), maxPooling2d({ poolSize: 2 }),
  ];
  const shift = Math.min(2, h - 1, w - 1);
  const model = nn.sequential({
    layers: [
      ...inputLayers(ds, image),
      ...(shift > 0 ? [randomAugment({ ...(ds.scale ? {} : { inputShape: image }), shift })] : []),
      ...block(16, shift === 0),
      ...block(32, false),
      flatten(),
      dense({ units: 128, activation: 'relu' }),
      dropout({ rate: 0.3 }),
      dense({ units: ds.classes.length, activation: 'softmax' }),
    ],
    seed: opts.seed,
  });
  return {
    model,
    description: `cnn ${h}x${w}x${c}: random shifts of up to ${shift} px (training only), conv 16 5x5 + batch norm + relu, ` +
      `max pool 2, conv 32 5x5 + batch norm + relu, max pool 2, dense 128 relu, dropout 0.3, dense ${ds.classes.length} softmax`,
    binary: false,
    input: (x, n) => asInput(x, [n, h, w, c]),
    targets: (y) => y,
  };
}

/** The reference CNN of issue 4 and bench/cnn.mjs (`--model cnn-small`): conv(8, 3x3, relu) -> maxPool 2 ->
 *  conv(16, 3x3, relu) -> maxPool 2 -> flatten -> dense softmax. */
function cnnSmall(opts: TrainOptions, ds: Dataset): Built {
  const image = needImages(opts, ds);
  const [h, w, c] = image;
  const { conv2d, maxPooling2d, flatten, dense } = nn.layers;
  const model = nn.sequential({
    layers: [
      ...inputLayers(ds, image),
      conv2d({ ...(ds.scale ? {} : { inputShape: image }), filters: 8, kernelSize: 3, activation: 'relu' }),
      maxPooling2d({ poolSize: 2 }),
      conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
      maxPooling2d({ poolSize: 2 }),
      flatten(),
      dense({ units: ds.classes.length, activation: 'softmax' }),
    ],
    seed: opts.seed,
  });
  return {
    model,
    description: `cnn-small ${h}x${w}x${c}: conv 8 3x3 relu, max pool 2, conv 16 3x3 relu, max pool 2, dense ${ds.classes.length} softmax`,
    binary: false,
    input: (x, n) => asInput(x, [n, h, w, c]),
    targets: (y) => y,
  };
}

function needImages(opts: TrainOptions, ds: Dataset): [number, number, number] {
  if (!ds.image) throw new UsageError(`--model ${opts.model} needs images; ${ds.name} is a table`);
  return ds.image;
}

/** The builders by model name; any other name (mlp) is the MLP. */
const BUILDERS: Record<string, (opts: TrainOptions, ds: Dataset) => Built> = { logreg, cnn, 'cnn-small': cnnSmall };

/** Whether this wasmnn has the layers the CNN needs. */

function optimizer({ optimizer: name, lr, schedule }: TrainOptions, steps: number): nn.Optimizer {
  const rate = schedule === 'cosine' ? nn.schedules.cosineDecay({ initialLearningRate: lr, decaySteps: steps }) : lr;
  // Every optimiser takes a schedule (the Optimizer base class does); some factories are typed for numbers only.
  const make = nn.train[name] as (rate: number | nn.schedules.Schedule, ...rest: unknown[]) => nn.Optimizer;
  return name === 'momentum' ? make(rate, 0.9) : make(rate);
}
