// The library's layers by class name: the one table the checkpoint loader of both builds (ts/index.ts and
// wasmnn/infer's ts/infer.ts import this file) makes layers from. A new layer is one row here; the tests then
// check that it round-trips through save and load, predicts the same bits in wasmnn/infer, is imported from TF.js
// where TF.js has it, and is in README's list, and name it when it does not.
import type { Layer } from './layer';
import { registerLayer } from './registry';
import { Dense } from './dense';
import { Activation, Dropout, Flatten, Reshape, Rescaling } from './basic';
import { Conv1D, Conv2D } from './conv';
import {
  MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D,
  GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
} from './pooling';
import { BatchNormalization, LayerNormalization, RMSNormalization } from './normalization';
import { Residual } from './residual';
import { RandomAugment } from './augment';
import { Embedding } from './embedding';
import { SimpleRNN, LSTM, GRU } from './recurrent';
import { Bidirectional, TimeDistributed } from './wrappers';

/** A layer class as the loader sees it: made from its saved config (Layer.fromConfig: new C(config) by default). */
export interface LayerClass {
  fromConfig(config: Record<string, unknown>): Layer;
}

/** Class name (what getConfig's layer saves as className) -> class. */
export const LAYERS: Record<string, LayerClass> = {
  Dense,
  Activation,
  Dropout,
  Flatten,
  Reshape,
  Rescaling,
  Conv1D,
  Conv2D,
  MaxPooling1D,
  MaxPooling2D,
  AveragePooling1D,
  AveragePooling2D,
  GlobalAveragePooling1D,
  GlobalAveragePooling2D,
  GlobalMaxPooling1D,
  GlobalMaxPooling2D,
  BatchNormalization,
  LayerNormalization,
  RMSNormalization,
  Residual,
  RandomAugment,
  Embedding,
  SimpleRNN,
  LSTM,
  GRU,
  Bidirectional,
  TimeDistributed,
};
for (const [name, C] of Object.entries(LAYERS)) registerLayer(name, (config) => C.fromConfig(config));
