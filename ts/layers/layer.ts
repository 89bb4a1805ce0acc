// The layer contract. A layer declares its parameters when built (the model places them in one contiguous block),
// reserves its per-batch buffers when the model plans a batch size, and then runs forward and backward as a few
// kernel calls over those pointers. Backward passes WRITE parameter gradients (each step starts fresh).
// A layer is one class with everything side by side: config checks, shapes, parameters (and how they start:
// paramInit), buffers, forward, backward and getConfig. wasmnn/infer bundles the same classes (its loader never
// calls backward or initialises a parameter), so both builds accept and reject the same configs and predict the same
// bits. A layer that holds other layers (Residual) revives them itself, in its static fromConfig.
import type { Heap } from '../backend/memory';
import type { Kernels } from '../backend/kernels';
import type { Initializer } from './initializers';
import type { Regularizer } from './regularizers';
import type { Activation } from '../tensor/activations';
import { ShapeError, StateError, ValueError } from '../backend/errors';

/** Everything a layer's kernels need: the module's functions, its memory, and the model's dropout stream. */
export interface Env {
  k: Kernels;
  heap: Heap;
  /** Address of the model's training random stream (dropout masks). */
  rng: number;
}

export interface Param {
  name: string;
  shape: number[];
  size: number;
  initializer: Initializer;
  regularizer: Regularizer | null;
  /** Trainable parameters live in the optimiser's block; the others (batch-norm statistics) in the state block. */
  trainable: boolean;
  fanIn: number;
  fanOut: number;
  /** Addresses, set when the model places its blocks; grad is 0 for non-trainable parameters. */
  ptr: number;
  grad: number;
}

/** Reserves `floats` floats (or i32s) in module memory for the plan being made. */
export type Reserve = (floats: number) => number;

/** Buffers of one layer for one planned batch capacity. */
export type Buffers = Record<string, number>;

export interface LayerArgs {
  name?: string;
  /** One sample's shape; [null, ...] (a sequence's steps left open) takes any number of steps. */
  inputShape?: (number | null)[];
  batchInputShape?: (number | null)[];
  trainable?: boolean;
}

/** How a parameter starts (the network fills it when it is not loaded) and what penalty it carries. */
export interface ParamInit {
  initializer: Initializer;
  regularizer?: Regularizer | null;
}

/** A parameter wasmnn/infer made: its weights are loaded, never initialised. */
const LOADED: ParamInit = {
  initializer: {
    name: 'loaded', config: {},
    fill() {
      throw new StateError('this parameter belongs to a wasmnn/infer model: its weights are loaded, not initialised');
    },
  },
};

let counter = 0;

export abstract class Layer {
  abstract readonly className: string;

  /** The layer saved as `config` (what its getConfig() returned): new C(config), unless the class knows better. */
  static fromConfig(this: new (config: never) => Layer, config: Record<string, unknown>): Layer {
    return new this(config as never);
  }

  #givenName: string | undefined;
  inputShape: number[] | null = null;
  outputShape: number[] = [];
  params: Param[] = [];
  trainable: boolean;
  /** Set by the model when the loss fuses with this (last) layer's activation. */
  fusedActivation = false;
  protected readonly configuredInputShape: (number | null)[] | null;

  constructor(args: LayerArgs = {}) {
    this.#givenName = args.name;
    this.trainable = args.trainable ?? true;
    const shape = args.inputShape ?? (args.batchInputShape ? args.batchInputShape.slice(1) : null);
    // the steps of a sequence may be left open (null): the model then takes any number of them
    if (shape) checkShape(Array.isArray(shape) ? shape.map((d, i) => (i === 0 && d === null ? 1 : d)) : shape, `${args.name ?? 'layer'}: inputShape`);
    this.configuredInputShape = shape ? shape.slice() : null;
  }

  /** The layer's name: given, or made from its class like Keras does (dense_1, dropout_2, ...). */
  get name(): string {
    return (this.#givenName ??= `${snakeCase(this.className)}_${++counter}`);
  }
  set name(value: string) {
    this.#givenName = value;
  }

  /** Floats per sample of the output. */
  get outputSize(): number {
    return this.outputShape.reduce((a, b) => a * b, 1);
  }
  get inputSize(): number {
    return (this.inputShape ?? []).reduce((a, b) => a * b, 1);
  }
  get paramCount(): number {
    return this.params.reduce((a, p) => a + p.size, 0);
  }

  /** Whether the configured input leaves the number of steps open (inputShape [null, ...]). */
  get variableSteps(): boolean {
    return this.configuredInputShape?.[0] === null;
  }

  /** Fixes the input shape, computes the output shape and declares the parameters. */
  build(inputShape: number[]): void {
    if (this.configuredInputShape && !sameShape(this.configuredInputShape.map((d, i) => d ?? inputShape[i]), inputShape)) {
      throw new ShapeError(`${this.name}: configured inputShape [${this.configuredInputShape}] does not match the incoming [${inputShape}]`);
    }
    this.inputShape = inputShape.slice();
    this.params = [];
    this.outputShape = this.setup(inputShape);
  }

  /** Declares parameters with addParam and returns the output shape. */
  protected abstract setup(inputShape: number[]): number[];

  /** The initialiser and regulariser of the parameter `name` (every layer with parameters has its own; its body is
   *  one statement labelled `trainingOnly:`, see backward). */
  protected paramInit(name: string): ParamInit {
    throw new StateError(`${this.className}: no initializer for its parameter '${name}'`);
  }

  protected addParam(name: string, shape: number[], options: { trainable?: boolean; fanIn?: number; fanOut?: number } = {}): Param {
    const size = shape.reduce((a, b) => a * b, 1);
    // how it starts and what penalty it carries matter to training only: wasmnn/infer loads every weight
    let init = LOADED;
    trainingOnly: init = this.paramInit(name);
    const { initializer, regularizer = null } = init;
    const param: Param = {
      name, shape, size, initializer,
      regularizer,
      trainable: (options.trainable ?? true) && this.trainable,
      fanIn: options.fanIn ?? (shape.length > 1 ? shape[0] : size),
      fanOut: options.fanOut ?? shape[shape.length - 1],
      ptr: 0, grad: 0,
    };
    this.params.push(param);
    return param;
  }

  /**
   * Checks the model's input when this layer is the first (fit calls it before anything changes, so a bad value
   * leaves the model as it was): an embedding's token ids. `data` holds rows of inputSize values.
   */
  checkInput(_data: ArrayLike<number>, _what: string): void {}

  /** True when the output is the input itself (no buffer of its own): reshapes, and dropout outside training. */
  passThrough(_training: boolean): boolean {
    return false;
  }

  /**
   * The padding mask [B, T] (f32, 1 = a real step) of this layer's output, given its input's (`inputMask`, 0 for
   * none; the network also puts it in the layer's buffers as b.inputMask): an embedding with maskZero makes one,
   * layers that act per step (dense, activation, dropout, timeDistributed, a recurrent layer returning sequences)
   * pass it on, and the others (pooling, a recurrent layer returning its last state) consume or drop it. The mask the
   * last layer passes on weights the loss per step.
   */
  outputMask(_b: Buffers, inputMask: number): number {
    return this.keepsMask ? inputMask : 0;
  }

  /** Whether outputMask passes the input's mask on (layers that act on each step alone). */
  protected get keepsMask(): boolean {
    return false;
  }

  /** Reserves the layer's own per-batch buffers (beyond its output and output gradient, which the model owns). */
  reserve(_reserve: Reserve, _capacity: number, _training: boolean): Buffers {
    return {};
  }

  /** y = layer(x) for `rows` samples. With logitsOnly (a fused loss follows), stop before the output activation. */
  abstract forward(env: Env, b: Buffers, x: number, y: number, rows: number, training: boolean, logitsOnly: boolean): void;

  /**
   * Writes the parameter gradients and, when dx is not 0, the input gradient. dy may be overwritten (it is this
   * layer's own output-gradient buffer). With fusedActivation, dy already holds dLoss/d(pre-activation).
   * Its body (and a pair's backward's) is one block labelled `trainingOnly:`: wasmnn/infer's build drops such blocks
   * (esbuild's dropLabels) and what only they use, so the edge build carries no backward code (a missing label
   * costs only bytes; bench/edge-size.mjs shows where they go).
   */
  abstract backward(env: Env, b: Buffers, x: number, y: number, dy: number, dx: number, rows: number): void;

  /**
   * Pairs this layer with `next`, the layer above it, when one kernel can run both forward passes (a convolution and
   * the max pooling of its output): the network then runs the pair's forwardPair and backwardPair instead of either
   * layer's own passes, and never writes this layer's output. Called once, after build.
   */
  pairWith(_next: Layer): boolean {
    return false;
  }

  /** The pair's forward (after pairWith): this layer's input x in, the next layer's output y out. */
  forwardPair(_env: Env, _b: Buffers, _bNext: Buffers, _x: number, _y: number, _rows: number): void {
    throw new StateError(`${this.name}: not paired with the layer above`);
  }

  /**
   * The pair's backward: dy is the next layer's output gradient and y its output; dz, this layer's output-gradient
   * buffer, is free to use; writes the parameter gradients and, when dx is not 0, the gradient of x.
   */
  backwardPair(_env: Env, _b: Buffers, _bNext: Buffers, _x: number, _y: number, _dy: number, _dz: number, _dx: number, _rows: number): void {
    throw new StateError(`${this.name}: not paired with the layer above`);
  }

  /** The output activation, for layers that have one (Dense, Activation, Conv): fusion and summary use it. */
  get activation(): Activation | null {
    return null;
  }

  /** Where the pre-activation is after forward(..., logitsOnly = true). */
  logits(_b: Buffers, _x: number, y: number): number {
    return y;
  }

  /**
   * The layer's constructor arguments, for saving (TF.js getConfig). The statements labelled `savingOnly:` in the
   * layers' getConfig are dropped by `wasmnn bundle` when nothing in the bundle calls getConfig (it makes its layers
   * from configs it wrote itself, and never saves).
   */
  getConfig(): Record<string, unknown> {
    savingOnly: return { name: this.name, trainable: this.trainable, ...(this.configuredInputShape ? { inputShape: this.configuredInputShape } : {}) };
  }
}

/** Keras' layer-name spelling: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, RMSNormalization -> rms_normalization. */
export function snakeCase(name: string): string {
  return name.replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

export function checkShape(shape: unknown, what: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(`${what} must be an array of whole numbers >= 1, got ${JSON.stringify(shape)}`);
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ValueError(`${what} must be a whole number >= 1, got ${String(v)}`);
  return v;
}
