// Sequential models with the TF.js layers API: add, compile, fit, evaluate, predict, summary, get/setWeights, dispose.
// The network (and all its memory) is made when the model is first needed with a known input shape; compile adds
// the optimiser's state; the first fit or predict for a batch size plans that batch's buffers.
import { TrainableNetwork } from '../engine/network';
import { Layer } from '../layers/layer';
import { Tensor, type TensorLike } from '../tensor/tensor';
import { resolveLoss, type Loss } from '../optim/losses';
import { resolveOptimizer, type Optimizer } from '../optim/optimizers';
import { checkMetrics } from '../train/tracker';
import { ShapeError, StateError, ValueError } from '../backend/errors';
import { fit, evaluate, predict, type FitArgs, type History } from '../train/training';
import type { Compiled } from '../train/fit-model';
import type { SampleWeight } from '../train/validate';
import { formatSummary } from './summary';
import { encodeModel, type SaveOptions } from '../checkpoint/save';
import { attentionScores, type AttentionScoresArgs } from './attention-scores';

export interface SequentialArgs {
  layers?: Layer[];
  name?: string;
  /** Seed of the initial weights, dropout masks and shuffling: the same seed gives the same bits everywhere. */
  seed?: number;
}

export interface CompileArgs {
  optimizer: Optimizer | string;
  loss: Loss | string;
  metrics?: string[] | string;
}

let modelCounter = 0;

export class Sequential {
  readonly name: string;
  readonly layers: Layer[] = [];
  readonly seed: number;
  stopTraining = false;
  /** Optimiser steps taken so far (drives schedules and Adam's bias correction). */
  iterations = 0;
  private net: TrainableNetwork | null = null;
  private compiled: Compiled | null = null;
  private disposed = false;
  /** A fit() is running: its loop holds the plan, the optimiser and its state between awaited callbacks. */
  private fitting = false;

  constructor({ layers = [], name, seed }: SequentialArgs = {}) {
    if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) {
      throw new ValueError(`seed must be a whole number in [0, 2^32), got ${seed}`);
    }
    this.name = name ?? `sequential_${++modelCounter}`;
    this.seed = seed ?? Math.floor(Math.random() * 2 ** 32);
    for (const layer of layers) this.add(layer);
  }

  /** Appends a layer; only before the model has been built. */
  add(layer: Layer): void {
    this.checkAlive();
    if (!(layer instanceof Layer)) throw new ValueError(`add() takes a layer (nn.layers.*), got ${typeof layer}`);
    if (this.net) throw new StateError('cannot add layers to a model that has already been built (compiled, fitted or used)');
    if (this.layers.length === 0 && !layer.getConfig().inputShape) {
      throw new ShapeError(`the first layer (${layer.name}) needs an inputShape`);
    }
    this.layers.push(layer);
  }

  /** The network, built on first use. */
  get network(): TrainableNetwork {
    this.checkAlive();
    if (!this.net) {
      if (this.layers.length === 0) throw new StateError('the model has no layers');
      // steps left open (null) start at 1: every call sets the steps of its data (Network.useSteps)
      const inputShape = (this.layers[0].getConfig().inputShape as (number | null)[]).map((d) => d ?? 1);
      this.net = new TrainableNetwork(this.layers, inputShape, this.seed);
    }
    return this.net;
  }

  get inputShape(): number[] {
    return this.network.layers[0].inputShape!.slice();
  }
  get outputShape(): number[] {
    return this.network.outputLayer.outputShape.slice();
  }

  compile(args: CompileArgs): void {
    this.checkAlive();
    this.checkNotFitting('compile()', 'it would replace the optimiser and its state under the running fit');
    if (!args || typeof args !== 'object') throw new ValueError('compile() takes { optimizer, loss, metrics }');
    // resolve everything before changing anything
    const optimizer = resolveOptimizer(args.optimizer);
    const loss = resolveLoss(args.loss);
    const metrics = checkMetrics(args.metrics);
    const net = this.network;
    const out = net.outputLayer;
    // fusion treats each row of the loss (a sample, or a step of a sequence output) as one softmax row
    const fused = !!loss.fusesWith && out.activation?.name === loss.fusesWith && out.outputShape.length <= 2;
    if (loss.name === 'perceptron' && !fused) throw new ValueError("the perceptron loss needs a last layer with activation 'step'");
    net.prepareOptimizer(optimizer);
    for (const layer of net.layers) layer.fusedActivation = false;
    out.fusedActivation = fused;
    this.compiled = { optimizer, loss, metrics, fused };
    this.iterations = 0;
  }

  get isCompiled(): boolean {
    return this.compiled !== null;
  }

  /** The compiled settings; throws when compile() has not been called. */
  get compiledWith(): Compiled {
    this.checkAlive();
    if (!this.compiled) throw new StateError('the model must be compiled before fit or evaluate: call model.compile({ optimizer, loss })');
    return this.compiled;
  }

  /** Trains on (x, y); one fit() at a time (TF.js refuses a second one too). */
  async fit(x: TensorLike, y: unknown, args: FitArgs = {}): Promise<History> {
    this.checkAlive();
    if (this.fitting) throw new StateError(`cannot start training model '${this.name}' because another fit() call is ongoing: await it first`);
    this.fitting = true;
    try {
      return await fit(this, x, y, args);
    } finally {
      this.fitting = false;
    }
  }

  /** Loss and metrics over (x, y), by name, as plain numbers; sampleWeight weighs the loss per sample ([n]) or per
   *  step of a sequence output ([n, steps]). */
  evaluate(x: TensorLike, y: unknown, args: { batchSize?: number; sampleWeight?: SampleWeight } = {}): Record<string, number> {
    return evaluate(this, x, y, args);
  }

  /** The model's outputs for x (inference: dropout off, batch norm on running statistics). */
  predict(x: TensorLike, args: { batchSize?: number } = {}): Tensor {
    return predict(this, x, args);
  }

  /**
   * The attention probabilities of an attention layer (multiHeadAttention, or a transformer block's) for x:
   * [batch, heads, steps, steps], row t the weights position t gives every position. `layer`: name or index.
   */
  attentionScores(x: TensorLike, args?: AttentionScoresArgs): Tensor {
    return attentionScores(this, x, args);
  }

  /** A table of layers, output shapes and parameter counts; printed with printFn (console.log) and returned. */
  summary(printFn: ((line: string) => void) | null = console.log): string {
    const text = formatSummary(this.name, this.network.layers);
    if (printFn) printFn(text);
    return text;
  }

  /** Copies of all weights in Keras order (dense: kernel [in, units], bias [units]). */
  getWeights(): Tensor[] {
    const f32 = this.network.env.heap.f32;
    return this.network.layers.flatMap((l) => l.params.map((p) => new Tensor(f32.slice(p.ptr >> 2, (p.ptr >> 2) + p.size), p.shape)));
  }

  /** Replaces all weights (same order and shapes as getWeights); checked completely before anything is written. */
  setWeights(weights: Tensor[]): void {
    this.checkNotFitting('setWeights()', 'it would change the weights under the running fit and its optimiser state');
    const params = this.network.layers.flatMap((l) => l.params.map((p) => ({ layer: l.name, p })));
    if (!Array.isArray(weights) || weights.length !== params.length) {
      throw new ShapeError(`setWeights expects ${params.length} tensors, got ${Array.isArray(weights) ? weights.length : typeof weights}`);
    }
    params.forEach(({ layer, p }, i) => {
      const w = weights[i];
      if (!(w instanceof Tensor) || w.size !== p.size || w.shape.length !== p.shape.length || w.shape.some((d, j) => d !== p.shape[j])) {
        throw new ShapeError(`weight ${i} (${layer}/${p.name}) must have shape [${p.shape}], got ${w instanceof Tensor ? `[${w.shape}]` : typeof w}`);
      }
      for (let j = 0; j < w.size; j++) {
        if (!Number.isFinite(w.data[j])) throw new ValueError(`weight ${i} (${layer}/${p.name}) holds ${w.data[j]} at index ${j}`);
      }
    });
    const f32 = this.network.env.heap.f32;
    params.forEach(({ p }, i) => f32.set(weights[i].data, p.ptr >> 2));
  }

  /** All weights in one array (trainable block, then state block): for early stopping and checkpoints. */
  snapshotWeights(into?: Float32Array): Float32Array {
    const net = this.network;
    const n = net.block.n + net.stateBlock.n;
    const out = into && into.length === n ? into : new Float32Array(n);
    const f32 = net.env.heap.f32;
    out.set(f32.subarray(net.block.params >> 2, (net.block.params >> 2) + net.block.n));
    out.set(f32.subarray(net.stateBlock.ptr >> 2, (net.stateBlock.ptr >> 2) + net.stateBlock.n), net.block.n);
    return out;
  }

  restoreWeights(snapshot: Float32Array): void {
    const net = this.network;
    if (snapshot.length !== net.block.n + net.stateBlock.n) throw new ShapeError(`snapshot has ${snapshot.length} values, the model ${net.block.n + net.stateBlock.n}`);
    const f32 = net.env.heap.f32;
    f32.set(snapshot.subarray(0, net.block.n), net.block.params >> 2);
    f32.set(snapshot.subarray(net.block.n), net.stateBlock.ptr >> 2);
  }

  /** The model as one checkpoint (topology, weights, optimiser state): nn.loadModel(bytes) rebuilds it anywhere. */
  save(options?: SaveOptions): Uint8Array {
    return encodeModel(this, options);
  }

  countParams(): number {
    return this.network.layers.reduce((a, l) => a + l.paramCount, 0);
  }

  /** Frees all of the model's memory; any later use is a StateError. */
  dispose(): void {
    if (this.disposed) return;
    this.checkNotFitting('dispose()', 'the running fit still uses its memory; set stopTraining and dispose after fit() resolves');
    this.net?.dispose();
    this.net = null;
    this.disposed = true;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private checkAlive(): void {
    if (this.disposed) throw new StateError(`model '${this.name}' was disposed; build a new one`);
  }

  private checkNotFitting(call: string, why: string): void {
    if (this.fitting) throw new StateError(`cannot call ${call} on model '${this.name}' while its fit() is running: ${why}`);
  }
}

export const sequential = (args?: SequentialArgs): Sequential => new Sequential(args);
