// Training callbacks with TF.js' hook names, and early stopping (with restoreBestWeights, which TF.js lacks).
import { ValueError } from '../backend/errors';

export type Logs = Record<string, number>;

/** The part of a model a callback may use. */
export interface CallbackModel {
  stopTraining: boolean;
  /** Copies all weights (trainable and state) into `into`, allocated by the caller once. */
  snapshotWeights(into?: Float32Array): Float32Array;
  restoreWeights(snapshot: Float32Array): void;
}

export interface CallbackHooks {
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs?: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs?: Logs): void | Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Callback extends CallbackHooks {}
/** Base class for callbacks that need the model (like Keras' Callback): hooks are optional methods. */
export class Callback {
  model: CallbackModel | null = null;
  setModel(model: CallbackModel): void {
    this.model = model;
  }
}

export interface EarlyStoppingArgs {
  monitor?: string;
  minDelta?: number;
  patience?: number;
  mode?: 'auto' | 'min' | 'max';
  baseline?: number;
  restoreBestWeights?: boolean;
}

export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly restoreBestWeights: boolean;
  readonly baseline: number | undefined;
  private readonly sign: 1 | -1; // +1: lower is better
  private best = Infinity;
  private wait = 0;
  private bestWeights: Float32Array | undefined;
  stoppedEpoch = -1;
  bestEpoch = -1;

  constructor({ monitor = 'val_loss', minDelta = 0, patience = 0, mode = 'auto', baseline, restoreBestWeights = false }: EarlyStoppingArgs = {}) {
    super();
    if (!(Number.isInteger(patience) && patience >= 0)) throw new ValueError(`earlyStopping: patience must be a whole number >= 0, got ${patience}`);
    if (!(Number.isFinite(minDelta) && minDelta >= 0)) throw new ValueError(`earlyStopping: minDelta must be a number >= 0, got ${minDelta}`);
    if (!['auto', 'min', 'max'].includes(mode)) throw new ValueError(`earlyStopping: mode must be auto, min or max, got ${mode}`);
    this.monitor = monitor;
    this.minDelta = minDelta;
    this.patience = patience;
    this.baseline = baseline;
    this.restoreBestWeights = restoreBestWeights;
    const maximise = mode === 'max' || (mode === 'auto' && /acc|precision|recall|auc|f1/.test(monitor));
    this.sign = maximise ? -1 : 1;
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = -1;
    this.bestEpoch = -1;
    this.best = this.baseline !== undefined ? this.sign * this.baseline : Infinity;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const value = logs[this.monitor];
    if (value === undefined) {
      throw new ValueError(`earlyStopping monitors '${this.monitor}', which is not among the logged values: ${Object.keys(logs).join(', ')}`);
    }
    const score = this.sign * value; // lower is better
    if (score < this.best - this.minDelta) {
      this.best = score;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBestWeights && this.model) this.bestWeights = this.model.snapshotWeights(this.bestWeights);
      return;
    }
    this.wait++;
    if (this.wait > this.patience - 1 && epoch > 0 && this.model) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
      if (this.restoreBestWeights && this.bestWeights) this.model.restoreWeights(this.bestWeights);
    }
  }
}

export const callbacks = {
  earlyStopping: (args?: EarlyStoppingArgs) => new EarlyStopping(args),
};

/** Calls a hook on every callback in order, awaiting those that return a promise. */
export async function callHooks(list: CallbackHooks[], hook: keyof CallbackHooks, ...args: unknown[]): Promise<void> {
  for (const cb of list) {
    const fn = cb[hook] as ((...a: unknown[]) => unknown) | undefined;
    if (fn) {
      const r = fn.apply(cb, args);
      if (r && typeof (r as Promise<void>).then === 'function') await r;
    }
  }
}
