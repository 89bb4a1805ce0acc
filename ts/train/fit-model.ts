// What the training loops need of a model: its network, its compile settings and a few counters. A Sequential has
// all of them; naming them here keeps the loops below the model on the ladder (the model calls the loops).
import type { TrainableNetwork } from '../engine/network';
import type { Loss } from '../optim/losses';
import type { Optimizer } from '../optim/optimizers';
import type { CallbackModel } from './callbacks';

export interface Compiled {
  optimizer: Optimizer;
  loss: Loss;
  metrics: string[];
  /** Whether the loss runs fused with the output activation. */
  fused: boolean;
}

export interface FitModel extends CallbackModel {
  readonly network: TrainableNetwork;
  /** The compiled settings; throws when compile() has not been called. */
  readonly compiledWith: Compiled;
  readonly inputShape: number[];
  readonly outputShape: number[];
  /** Optimiser steps taken so far (drives schedules and Adam's bias correction). */
  iterations: number;
}
