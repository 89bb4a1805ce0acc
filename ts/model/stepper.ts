// What generate asks of a model kind: a Stepper turns one more token into the logits of the next (see generate.ts).
import type { Sequential } from './model';

/** What a maker may take from the generate call. */
export interface StepperOptions {
  cache?: boolean;
  /** Past a transformer's window: 'token' re-runs the last window at every token (nanoGPT), 'half' starts a new
   *  window from its last half once it is full (see GenerateOptions.slide). */
  slide?: 'token' | 'half';
}

/** One model's incremental inference: feed a token, get the address of the next token's logits [vocabulary]. */
export interface Stepper {
  readonly vocabulary: number;
  /** The ids a token may take, [0, inputDim). */
  readonly inputDim: number;
  feed(id: number, position: number): number;
  /** Feeds the whole prompt at once (positions from 0) where that is cheaper than one feed per token. */
  prime?(prompt: ArrayLike<number>): number;
  /** Throws a typed error when the stepper cannot take a prompt this long. */
  check?(promptLength: number): void;
  dispose(): void;
}

/** Makes a stepper for a model it knows, or returns null. Another model kind adds its maker here. */
export type StepperMaker = (model: Sequential, options?: StepperOptions) => Stepper | null;
