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
  const built = opts.model === 'logreg' ? logreg(opts, ds) : opts.model === 'cnn' ? cnn(opts, ds) : mlp(opts, ds);
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

/** conv(8, 3x3, relu) -> maxPool 2 -> conv(16, 3x3, relu) -> maxPool 2 -> flatten -> dense softmax. */
function cnn(opts: TrainOptions, ds: Dataset): Built {
  if (!ds.image) throw new UsageError(`--model cnn needs images; ${ds.name} is a table`);
  const [h, w, c] = ds.image;
  const { conv2d, maxPooling2d, flatten, dense } = nn.layers;
  const model = nn.sequential({
    layers: [
      ...inputLayers(ds, ds.image),
      conv2d({ ...(ds.scale ? {} : { inputShape: ds.image }), filters: 8, kernelSize: 3, activation: 'relu' }),
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
    description: `cnn ${h}x${w}x${c}: conv 8 3x3 relu, max pool 2, conv 16 3x3 relu, max pool 2, dense ${ds.classes.length} softmax`,
    binary: false,
    input: (x, n) => asInput(x, [n, h, w, c]),
    targets: (y) => y,
  };
}

/** Whether this wasmnn has the layers the CNN needs. */
export const hasConv = () => typeof (nn.layers as Record<string, unknown>).conv2d === 'function';

function optimizer({ optimizer: name, lr, schedule }: TrainOptions, steps: number): nn.Optimizer {
  const rate = schedule === 'cosine' ? nn.schedules.cosineDecay({ initialLearningRate: lr, decaySteps: steps }) : lr;
  // Every optimiser takes a schedule (the Optimizer base class does); some factories are typed for numbers only.
  const make = nn.train[name] as (rate: number | nn.schedules.Schedule, ...rest: unknown[]) => nn.Optimizer;
  return name === 'momentum' ? make(rate, 0.9) : make(rate);
}
