// Normalisation over the last axis (channels): batch norm (statistics per channel over the batch and every
// position; running statistics for inference, kept in the model's state block), layer norm and RMS norm
// (statistics per position over its features). Keras' weight order: gamma, beta, moving_mean, moving_variance.
import { Layer, type Buffers, type Env, type LayerArgs, type ParamInit, type Reserve } from './layer';
import { resolveInitializer, initializerNameOf, ones, zeros, type Initializer, type InitializerName } from './initializers';
import { resolveRegularizer, type Regularizer } from './regularizers';
import { ValueError } from '../backend/errors';
import { NORM } from '../backend/kernels';

/** A normalisation kernel's pointers (byte addresses; 0 where the kernel does not read one). */
interface NormPointers {
  gamma: number;
  beta?: number;
  mean?: number;
  invstd: number;
  runningMean?: number;
  runningVar?: number;
  dgamma?: number;
  dbeta?: number;
}

/** Writes a norm kernel's parameter block (NORM's fields, in their order) at p, for x viewed as (rows, cols). */
function normBlock(env: Env, p: number, rows: number, cols: number, eps: number, ptrs: NormPointers, momentum = 0): number {
  const { gamma, beta = 0, mean = 0, invstd, runningMean = 0, runningVar = 0, dgamma = 0, dbeta = 0 } = ptrs;
  env.heap.i32.set([rows, cols, gamma, beta, mean, invstd, runningMean, runningVar, dgamma, dbeta, 0], p >> 2);
  env.heap.f32.set([eps, momentum], (p >> 2) + NORM.EPS);
  return p;
}

interface NormArgs extends LayerArgs {
  /** Only the last axis (-1, or its index counting the batch axis as Keras does). */
  axis?: number;
  epsilon?: number;
}

export interface BatchNormalizationArgs extends NormArgs {
  /** Weight of the old running statistics in each update; default 0.99. */
  momentum?: number;
  /** Default 1e-3. */
  epsilon?: number;
  betaInitializer?: Initializer | string;
  gammaInitializer?: Initializer | string;
  movingMeanInitializer?: Initializer | string;
  movingVarianceInitializer?: Initializer | string;
  betaRegularizer?: Regularizer | string;
  gammaRegularizer?: Regularizer | string;
}

abstract class Norm extends Layer {
  readonly epsilon: number;
  private readonly axis: number;

  constructor(args: NormArgs, defaultEpsilon: number, kind: string) {
    super(args);
    const eps = args.epsilon ?? defaultEpsilon;
    if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) throw new ValueError(`${kind}: epsilon must be a finite number > 0, got ${eps}`);
    this.epsilon = eps;
    this.axis = args.axis ?? -1;
  }

  /** Features normalised together (the last axis), and rows per sample (every other position). */
  protected get features(): number {
    return this.inputShape![this.inputShape!.length - 1];
  }
  protected get positions(): number {
    return this.inputSize / this.features;
  }

  protected setup(inputShape: number[]): number[] {
    if (this.axis !== -1 && this.axis !== inputShape.length) {
      throw new ValueError(`${this.name}: only the last axis (-1) can be normalised, got axis ${this.axis} for an input [${inputShape}]`);
    }
    this.declare(inputShape[inputShape.length - 1]);
    return inputShape.slice();
  }

  protected abstract declare(features: number): void;

  override getConfig(): Record<string, unknown> {
    savingOnly: return { ...super.getConfig(), axis: this.axis, epsilon: this.epsilon };
  }
}

/**
 * Batch normalisation. Training: y = (x - μ_B)/sqrt(σ²_B + ε)·γ + β with the batch's statistics per channel, and the
 * running ones move towards them (running = momentum·running + (1 - momentum)·batch). Inference uses the running ones.
 */
/** An initializer option as given (made when the layer is built, in paramInit), and the name it saves as (checked). */
interface InitOption {
  given: Initializer | string | undefined;
  name: string;
}
function initOption(given: Initializer | string | undefined, fallback: InitializerName): InitOption {
  return { given, name: initializerNameOf(given, fallback) };
}

const BATCH_NORM_PARAMS = ['gamma', 'beta', 'moving_mean', 'moving_variance'];
/** Each parameter's initializer when none is given. */
const BATCH_NORM_INIT = [ones, zeros, zeros, ones];

export class BatchNormalization extends Norm {
  readonly className = 'BatchNormalization';
  readonly momentum: number;
  private readonly inits: InitOption[];
  private readonly regs: (Regularizer | null)[];

  constructor(args: BatchNormalizationArgs = {}) {
    super(args, 1e-3, 'batchNormalization');
    const momentum = args.momentum ?? 0.99;
    if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) throw new ValueError(`batchNormalization: momentum must be in [0, 1], got ${momentum}`);
    this.momentum = momentum;
    this.inits = [
      initOption(args.gammaInitializer, 'ones'), initOption(args.betaInitializer, 'zeros'),
      initOption(args.movingMeanInitializer, 'zeros'), initOption(args.movingVarianceInitializer, 'ones'),
    ];
    this.regs = [resolveRegularizer(args.gammaRegularizer), resolveRegularizer(args.betaRegularizer)];
  }

  protected declare(c: number): void {
    this.addParam('gamma', [c]);
    this.addParam('beta', [c]);
    this.addParam('moving_mean', [c], { trainable: false });
    this.addParam('moving_variance', [c], { trainable: false });
  }

  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    if (!training) return { block: reserve(NORM.LEN) };
    const c = this.features;
    const b: Buffers = { block: reserve(NORM.LEN), mean: reserve(c), invstd: reserve(c), scratch: reserve(capacity * this.inputSize) };
    if (!this.params[0].grad) b.dparams = reserve(2 * c); // frozen layer: the kernel still writes dgamma, dbeta
    return b;
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number, training: boolean): void {
    const [gamma, beta, mean, variance] = this.params;
    const r = rows * this.positions, c = this.features;
    const ptrs = { gamma: gamma.ptr, beta: beta.ptr, runningMean: mean.ptr, runningVar: variance.ptr };
    if (training && b.mean) {
      trainingOnly: env.k.batchnorm_forward_train(x, y, normBlock(env, b.block, r, c, this.epsilon, { ...ptrs, mean: b.mean, invstd: b.invstd }, this.momentum));
    } else {
      env.k.batchnorm_forward_infer(x, y, normBlock(env, b.block, r, c, this.epsilon, { ...ptrs, invstd: 0 }));
    }
  }

  protected override paramInit(name: string): ParamInit {
    trainingOnly: {
      const i = BATCH_NORM_PARAMS.indexOf(name);
      return { initializer: resolveInitializer(this.inits[i].given, BATCH_NORM_INIT[i]), regularizer: this.regs[i] };
    }
  }

  backward(env: Env, b: Buffers, x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      const [gamma, beta] = this.params;
      const c = this.features;
      const dgamma = gamma.grad || b.dparams, dbeta = beta.grad || b.dparams + c * 4;
      // the kernel always writes dx (and needs it apart from x and dy): the first layer writes into scratch
      const block = normBlock(env, b.block, rows * this.positions, c, this.epsilon, { gamma: gamma.ptr, dgamma, dbeta, mean: b.mean, invstd: b.invstd });
      env.k.batchnorm_backward(x, dy, dx || b.scratch, block);
    }
  }

  override getConfig(): Record<string, unknown> {
    savingOnly: return {
      ...super.getConfig(), momentum: this.momentum,
      gammaInitializer: this.inits[0].name, betaInitializer: this.inits[1].name,
      movingMeanInitializer: this.inits[2].name, movingVarianceInitializer: this.inits[3].name,
    };
  }
}

type LayerNormArgs = NormArgs & { gammaInitializer?: Initializer | string; betaInitializer?: Initializer | string };

/** Layer normalisation: each position's features to zero mean and unit variance, then ·γ + β. */
export class LayerNormalization extends Norm {
  readonly className = 'LayerNormalization';
  private readonly inits: InitOption[];

  constructor(args: LayerNormArgs = {}) {
    super(args, 1e-3, 'layerNormalization');
    this.inits = [initOption(args.gammaInitializer, 'ones'), initOption(args.betaInitializer, 'zeros')];
  }

  protected declare(features: number): void {
    this.addParam('gamma', [features]);
    this.addParam('beta', [features]);
  }

  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    const rows = capacity * this.positions;
    const b: Buffers = { block: reserve(NORM.LEN), mean: reserve(rows), invstd: reserve(rows) };
    if (training && !this.params[0].grad) b.dparams = reserve(2 * this.features);
    return b;
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number): void {
    this.forwardRows(env, b, x, y, rows * this.positions);
  }

  /** The forward pass over `rows` positions (a sample's steps, or the new ones when generating): each row is
   *  normalised on its own, so a row gives the same bits alone as in the whole window. */
  forwardRows(env: Env, b: Buffers, x: number, y: number, rows: number): void {
    env.k.layernorm_forward(x, y, this.block(env, b, rows));
  }

  /** Writes the kernel's parameter block for `rows` rows into b's and returns its address (a fused kernel's too). */
  block(env: Env, b: Buffers, rows: number): number {
    const [gamma, beta] = this.params;
    return normBlock(env, b.block, rows, this.features, this.epsilon, { gamma: gamma.ptr, beta: beta.ptr, mean: b.mean, invstd: b.invstd });
  }

  protected override paramInit(name: string): ParamInit {
    trainingOnly: return { initializer: resolveInitializer(this.inits[name === 'gamma' ? 0 : 1].given, name === 'gamma' ? ones : zeros) };
  }

  backward(env: Env, b: Buffers, x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      const [gamma, beta] = this.params;
      const dgamma = gamma.grad || b.dparams, dbeta = beta.grad || b.dparams + this.features * 4;
      // each dx element is written after its dy is read, so the first layer can write dx over dy (which it owns)
      const ptrs = { gamma: gamma.ptr, dgamma, dbeta, mean: b.mean, invstd: b.invstd };
      env.k.layernorm_backward(x, dy, dx || dy, normBlock(env, b.block, rows * this.positions, this.features, this.epsilon, ptrs));
    }
  }
}

type RMSNormArgs = NormArgs & { scaleInitializer?: Initializer | string };

/** RMS normalisation: each position's features divided by their root mean square, then ·scale (no centring). */
export class RMSNormalization extends Norm {
  readonly className = 'RMSNormalization';
  private readonly init: InitOption;

  constructor(args: RMSNormArgs = {}) {
    super(args, 1e-6, 'rmsNormalization');
    this.init = initOption(args.scaleInitializer, 'ones');
  }

  protected declare(features: number): void {
    this.addParam('scale', [features]);
  }

  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    const b: Buffers = { block: reserve(NORM.LEN), invrms: reserve(capacity * this.positions) };
    if (training && !this.params[0].grad) b.dparams = reserve(this.features);
    return b;
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number): void {
    this.forwardRows(env, b, x, y, rows * this.positions);
  }

  /** The forward pass over `rows` positions, each on its own (as LayerNormalization.forwardRows). */
  forwardRows(env: Env, b: Buffers, x: number, y: number, rows: number): void {
    env.k.rmsnorm_forward(x, y, this.block(env, b, rows));
  }

  /** Writes the kernel's parameter block for `rows` rows into b's and returns its address (as LayerNormalization's). */
  block(env: Env, b: Buffers, rows: number): number {
    return normBlock(env, b.block, rows, this.features, this.epsilon, { gamma: this.params[0].ptr, invstd: b.invrms });
  }

  protected override paramInit(): ParamInit {
    trainingOnly: return { initializer: resolveInitializer(this.init.given, ones) };
  }

  backward(env: Env, b: Buffers, x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      const [scale] = this.params;
      const ptrs = { gamma: scale.ptr, dgamma: scale.grad || b.dparams, invstd: b.invrms };
      env.k.rmsnorm_backward(x, dy, dx || dy, normBlock(env, b.block, rows * this.positions, this.features, this.epsilon, ptrs));
    }
  }
}

export const batchNormalization = (args?: BatchNormalizationArgs) => new BatchNormalization(args);
export const layerNormalization = (args?: LayerNormArgs) => new LayerNormalization(args);
export const rmsNormalization = (args?: RMSNormArgs) => new RMSNormalization(args);
