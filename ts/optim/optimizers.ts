// Optimisers: each step is one kernel call over the model's whole contiguous parameter block (Keras formulas, see
// assembly/optim.ts). Optional clipping first: by value, and by the global norm of all gradients.
import type { Kernels } from '../backend/kernels';
import { ValueError } from '../backend/errors';
import { asSchedule, type Schedule } from './schedules';

export interface ClipOptions {
  /** Rescale all gradients together when their global L2 norm exceeds this. */
  clipnorm?: number;
  /** Clip every gradient element to [-clipvalue, clipvalue]. */
  clipvalue?: number;
}

/** Where one model keeps what the optimiser needs: params, grads and `stateCount` state arrays of n floats. */
export interface ParameterBlock {
  params: number;
  grads: number;
  states: number[];
  n: number;
}

export abstract class Optimizer {
  readonly schedule: Schedule;
  abstract readonly name: string;
  /** How many state arrays (each as long as the parameter block) this optimiser keeps. */
  abstract readonly stateCount: number;
  /** The value the state arrays start from. */
  readonly initialState: number = 0;

  constructor(learningRate: number | Schedule, readonly clip: ClipOptions = {}) {
    this.schedule = asSchedule(learningRate);
    for (const key of ['clipnorm', 'clipvalue'] as const) {
      const v = clip[key];
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new ValueError(`${key} must be a finite number > 0, got ${v}`);
    }
  }

  /** Applies one update at optimiser step `step` (0-based) to the block. */
  apply(k: Kernels, block: ParameterBlock, step: number): void {
    const { grads, n } = block;
    if (this.clip.clipvalue !== undefined) k.clip_by_value(grads, n, this.clip.clipvalue);
    if (this.clip.clipnorm !== undefined) {
      const norm = Math.sqrt(k.vec_sum_squares(grads, n));
      if (norm > this.clip.clipnorm) k.vec_scale(grads, n, this.clip.clipnorm / norm);
    }
    this.update(k, block, this.schedule.at(step), step + 1);
  }

  protected abstract update(k: Kernels, block: ParameterBlock, lr: number, t: number): void;

  /** The configuration saved with a model. */
  abstract getConfig(): Record<string, unknown>;
  protected base(): Record<string, unknown> {
    return { learningRate: { name: this.schedule.name, config: this.schedule.config }, ...this.clip };
  }
}

export class SGD extends Optimizer {
  readonly name = 'sgd';
  readonly stateCount = 0;
  protected update(k: Kernels, b: ParameterBlock, lr: number): void {
    k.sgd_step(b.params, b.grads, b.n, lr);
  }
  getConfig() {
    return this.base();
  }
}

export class Momentum extends Optimizer {
  readonly name = 'momentum';
  readonly stateCount = 1;
  constructor(learningRate: number | Schedule, readonly momentum = 0.9, readonly nesterov = false, clip: ClipOptions = {}) {
    super(learningRate, clip);
    unitInterval(momentum, 'momentum');
  }
  protected update(k: Kernels, b: ParameterBlock, lr: number): void {
    k.momentum_step(b.params, b.grads, b.states[0], b.n, lr, this.momentum, this.nesterov ? 1 : 0);
  }
  getConfig() {
    return { ...this.base(), momentum: this.momentum, nesterov: this.nesterov };
  }
}

export class RMSProp extends Optimizer {
  readonly name = 'rmsprop';
  readonly stateCount = 1;
  constructor(learningRate: number | Schedule, readonly rho = 0.9, readonly epsilon = 1e-7, clip: ClipOptions = {}) {
    super(learningRate, clip);
    unitInterval(rho, 'rho');
    positive(epsilon, 'epsilon');
  }
  protected update(k: Kernels, b: ParameterBlock, lr: number): void {
    k.rmsprop_step(b.params, b.grads, b.states[0], b.n, lr, this.rho, this.epsilon);
  }
  getConfig() {
    return { ...this.base(), rho: this.rho, epsilon: this.epsilon };
  }
}

export class Adagrad extends Optimizer {
  readonly name = 'adagrad';
  readonly stateCount = 1;
  override readonly initialState: number;
  constructor(learningRate: number | Schedule, initialAccumulatorValue = 0.1, readonly epsilon = 1e-7, clip: ClipOptions = {}) {
    super(learningRate, clip);
    if (!(initialAccumulatorValue >= 0 && Number.isFinite(initialAccumulatorValue))) {
      throw new ValueError(`initialAccumulatorValue must be a finite number >= 0, got ${initialAccumulatorValue}`);
    }
    this.initialState = initialAccumulatorValue;
    positive(epsilon, 'epsilon');
  }
  protected update(k: Kernels, b: ParameterBlock, lr: number): void {
    k.adagrad_step(b.params, b.grads, b.states[0], b.n, lr, this.epsilon);
  }
  getConfig() {
    return { ...this.base(), initialAccumulatorValue: this.initialState, epsilon: this.epsilon };
  }
}

export class Adam extends Optimizer {
  readonly name: string = 'adam';
  readonly stateCount = 2;
  constructor(learningRate: number | Schedule, readonly beta1 = 0.9, readonly beta2 = 0.999, readonly epsilon = 1e-7,
    readonly weightDecay = 0, clip: ClipOptions = {}) {
    super(learningRate, clip);
    unitInterval(beta1, 'beta1');
    unitInterval(beta2, 'beta2');
    positive(epsilon, 'epsilon');
    if (!(weightDecay >= 0 && Number.isFinite(weightDecay))) throw new ValueError(`weightDecay must be a finite number >= 0, got ${weightDecay}`);
  }
  protected update(k: Kernels, b: ParameterBlock, lr: number, t: number): void {
    k.adam_step(b.params, b.grads, b.states[0], b.states[1], b.n, lr, this.beta1, this.beta2, this.epsilon, t, this.weightDecay);
  }
  getConfig() {
    return { ...this.base(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay };
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter): p -= lr·wd·p before the Adam step. */
export class AdamW extends Adam {
  override readonly name = 'adamw';
}

/** The `nn.train` namespace: TF.js' factory signatures, with an options object last for clipping. */
export const train = {
  sgd: (learningRate: number | Schedule = 0.01, clip?: ClipOptions) => new SGD(learningRate, clip),
  momentum: (learningRate: number | Schedule = 0.01, momentum = 0.9, useNesterov = false, clip?: ClipOptions) =>
    new Momentum(learningRate, momentum, useNesterov, clip),
  rmsprop: (learningRate: number | Schedule = 0.001, rho = 0.9, epsilon = 1e-7, clip?: ClipOptions) => new RMSProp(learningRate, rho, epsilon, clip),
  adagrad: (learningRate: number | Schedule = 0.01, initialAccumulatorValue = 0.1, clip?: ClipOptions) =>
    new Adagrad(learningRate, initialAccumulatorValue, 1e-7, clip),
  adam: (learningRate: number | Schedule = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7, clip?: ClipOptions) =>
    new Adam(learningRate, beta1, beta2, epsilon, 0, clip),
  adamw: (learningRate: number | Schedule = 0.001, weightDecay = 0.004, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7, clip?: ClipOptions) =>
    new AdamW(learningRate, beta1, beta2, epsilon, weightDecay, clip),
};

export const OPTIMIZER_NAMES = /* @__PURE__ */ Object.keys(train); // pure: bundles without optimisers drop it

/** An optimiser object, or its name with default settings. */
export function resolveOptimizer(opt: Optimizer | string): Optimizer {
  if (opt instanceof Optimizer) return opt;
  const make = (train as Record<string, () => Optimizer>)[String(opt).toLowerCase()];
  if (!make) throw new ValueError(`unknown optimizer '${String(opt)}'; known: ${OPTIMIZER_NAMES.join(', ')}`);
  return make();
}

function unitInterval(v: number, what: string): void {
  if (!(v >= 0 && v < 1)) throw new ValueError(`${what} must be in [0, 1), got ${v}`);
}
function positive(v: number, what: string): void {
  if (!(v > 0 && Number.isFinite(v))) throw new ValueError(`${what} must be a finite number > 0, got ${v}`);
}
