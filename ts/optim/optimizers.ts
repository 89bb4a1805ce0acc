// Optimisers: each step is one kernel call over the model's whole contiguous parameter block. The formulas are
// TF.js' (so TF.js code ported by changing the import trains the same way), PyTorch's for AdamW, which TF.js lacks;
// see assembly/optim.ts. Optional clipping first: by value, and by the global norm of all gradients.
import type { Kernels } from '../backend/kernels';
import { ValueError } from '../backend/errors';
import { asSchedule, type Schedule } from './schedules';

export interface ClipOptions {
  /** Rescale all gradients together when their global L2 norm exceeds this. */
  clipnorm?: number;
  /** Clip every gradient element to [-clipvalue, clipvalue]. */
  clipvalue?: number;
}

/** Where one model keeps what the optimiser needs: params, grads and `stateCount` state arrays of n floats, and a
 *  settings block of OPTIMIZER_SETTINGS_WORDS words that a step's kernel reads its hyperparameters from. */
export interface ParameterBlock {
  params: number;
  grads: number;
  states: number[];
  n: number;
  settings: number;
}

/** Words in a settings block: Adam's six (lr, β1, β2, eps, weight decay, t) and room to spare. */
export const OPTIMIZER_SETTINGS_WORDS = 8;

export abstract class Optimizer {
  readonly schedule: Schedule;
  abstract readonly name: string;
  /** How many state arrays (each as long as the parameter block) this optimiser keeps. */
  abstract readonly stateCount: number;
  /** The value the state arrays start from. */
  readonly initialState: number = 0;
  /** Words of the settings block that the step's kernel reads. */
  readonly settingsWords = OPTIMIZER_SETTINGS_WORDS;

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

  #view: DataView | null = null;
  /** Writes f32 words (then one i32 word, `t`, when given) into the block's settings (the layout is the kernel's). */
  protected writeSettings(k: Kernels, b: ParameterBlock, words: number[], t?: number): void {
    if (this.#view?.buffer !== k.memory.buffer) this.#view = new DataView(k.memory.buffer); // memory grew: new buffer
    const view = this.#view;
    words.forEach((w, i) => view.setFloat32(b.settings + 4 * i, w, true));
    if (t !== undefined) view.setInt32(b.settings + 4 * words.length, t, true);
  }

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

/** TF.js' momentum (PyTorch's too): acc = momentum·acc + g; p −= lr·acc, or with Nesterov p −= lr·(g + momentum·acc). */
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

/** TF.js' RMSProp: ms = ρ·ms + (1 − ρ)·g²; step = lr·g/√(ms + eps) (centered: √(ms − mg² + eps), mg the mean
 *  gradient, as TF's kernel: TF.js subtracts eps there); with momentum mom = momentum·mom + step; p −= mom. */
export class RMSProp extends Optimizer {
  readonly name = 'rmsprop';
  /** ms, then mom when momentum > 0, then mg when centered. */
  readonly stateCount: number;
  constructor(learningRate: number | Schedule, readonly rho = 0.9, readonly momentum = 0, readonly epsilon = 1e-7,
    readonly centered = false, clip: ClipOptions = {}) {
    super(learningRate, clip);
    unitInterval(rho, 'rho');
    unitInterval(momentum, 'momentum');
    positive(epsilon, 'epsilon');
    if (typeof centered !== 'boolean') throw new ValueError(`centered must be true or false, got ${String(centered)}`);
    this.stateCount = 1 + (momentum > 0 ? 1 : 0) + (centered ? 1 : 0);
  }
  protected update(k: Kernels, b: ParameterBlock, lr: number): void {
    this.writeSettings(k, b, [lr, this.rho, this.momentum, this.epsilon]);
    const mom = this.momentum > 0 ? b.states[1] : 0;
    const mg = this.centered ? b.states[this.stateCount - 1] : 0;
    k.rmsprop_step(b.params, b.grads, b.states[0], mom, mg, b.n, b.settings);
  }
  getConfig() {
    return { ...this.base(), rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}

/** TF.js' Adagrad: acc (from initialAccumulatorValue) += g²; p −= lr·g/√(acc + eps). */
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

/** TF.js' and PyTorch's Adam: m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; p −= lr·m̂/(√v̂ + eps), with
 *  m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t): eps is added to the bias-corrected root (Keras adds it to √v). */
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
    this.writeSettings(k, b, [lr, this.beta1, this.beta2, this.epsilon, this.weightDecay], t);
    k.adam_step(b.params, b.grads, b.states[0], b.states[1], b.n, b.settings);
  }
  getConfig() {
    return { ...this.base(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay };
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter; PyTorch's AdamW): p −= lr·wd·p, then the Adam step above.
 *  TF.js has no AdamW. */
export class AdamW extends Adam {
  override readonly name = 'adamw';
}

/** The `nn.train` namespace: TF.js' factory signatures, with an options object last for clipping. */
export const train = {
  sgd: (learningRate: number | Schedule = 0.01, clip?: ClipOptions) => new SGD(learningRate, clip),
  momentum: (learningRate: number | Schedule = 0.01, momentum = 0.9, useNesterov = false, clip?: ClipOptions) =>
    new Momentum(learningRate, momentum, useNesterov, clip),
  rmsprop: (learningRate: number | Schedule = 0.001, decay = 0.9, momentum = 0, epsilon = 1e-7, centered = false, clip?: ClipOptions) =>
    new RMSProp(learningRate, decay, momentum, epsilon, centered, clip),
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
