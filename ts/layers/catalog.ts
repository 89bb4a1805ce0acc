// The library's layers by class name, for the checkpoint loader (registered when ts/index.ts is imported; the
// inference build registers their forward cores instead, ts/layers/catalog-forward.ts).
import type { Layer } from './layer';
import { registerLayer, innerLayers } from './registry';
import { Dense } from './dense';
import { Activation, Dropout, Flatten, Reshape, Rescaling } from './basic';
import { Conv1D, Conv2D } from './conv';
import {
  MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D,
  GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
} from './pooling';
import { BatchNormalization, LayerNormalization, RMSNormalization } from './normalization';
import { Residual } from './residual';
import { RandomAugment } from '../augment';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Config = any;

const LAYERS: [string, (c: Config) => Layer][] = [
  ['Dense', (c) => new Dense(c)],
  ['Activation', (c) => new Activation(c)],
  ['Dropout', (c) => new Dropout(c)],
  ['Flatten', (c) => new Flatten(c)],
  ['Reshape', (c) => new Reshape(c)],
  ['Rescaling', (c) => new Rescaling(c)],
  ['Conv1D', (c) => new Conv1D(c)],
  ['Conv2D', (c) => new Conv2D(c)],
  ['MaxPooling1D', (c) => new MaxPooling1D(c)],
  ['MaxPooling2D', (c) => new MaxPooling2D(c)],
  ['AveragePooling1D', (c) => new AveragePooling1D(c)],
  ['AveragePooling2D', (c) => new AveragePooling2D(c)],
  ['GlobalAveragePooling1D', (c) => new GlobalAveragePooling1D(c)],
  ['GlobalAveragePooling2D', (c) => new GlobalAveragePooling2D(c)],
  ['GlobalMaxPooling1D', (c) => new GlobalMaxPooling1D(c)],
  ['GlobalMaxPooling2D', (c) => new GlobalMaxPooling2D(c)],
  ['BatchNormalization', (c) => new BatchNormalization(c)],
  ['LayerNormalization', (c) => new LayerNormalization(c)],
  ['RMSNormalization', (c) => new RMSNormalization(c)],
  ['Residual', (c) => new Residual({ ...c, layers: innerLayers(c.layers, 'residual') })],
  ['RandomAugment', (c) => new RandomAugment(c)],
];
for (const [name, make] of LAYERS) registerLayer(name, make);
