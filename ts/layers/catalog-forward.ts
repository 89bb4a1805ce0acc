// The forward cores by class name: what wasmnn/infer's loader makes (registered when ts/infer.ts is imported).
// The same classes' checks, shapes and forward passes as the library's layers (ts/layers/catalog.ts), without their
// backward passes and getConfig. Pooling, flatten and reshape are the library's own.
import type { Layer } from './layer';
import { registerLayer, innerLayers } from './registry';
import { DenseForward } from './dense';
import { ActivationForward, DropoutForward, Flatten, Reshape, RescalingForward } from './basic';
import { Conv1DForward, Conv2DForward } from './conv';
import {
  MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D,
  GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
} from './pooling';
import { BatchNormalizationForward, LayerNormalizationForward, RMSNormalizationForward } from './normalization';
import { ResidualForward } from './residual';
import { RandomAugmentForward } from '../augment';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Config = any;

const LAYERS: [string, (c: Config) => Layer][] = [
  ['Dense', (c) => new DenseForward(c)],
  ['Activation', (c) => new ActivationForward(c)],
  ['Dropout', (c) => new DropoutForward(c)],
  ['Flatten', (c) => new Flatten(c)],
  ['Reshape', (c) => new Reshape(c)],
  ['Rescaling', (c) => new RescalingForward(c)],
  ['Conv1D', (c) => new Conv1DForward(c)],
  ['Conv2D', (c) => new Conv2DForward(c)],
  ['MaxPooling1D', (c) => new MaxPooling1D(c)],
  ['MaxPooling2D', (c) => new MaxPooling2D(c)],
  ['AveragePooling1D', (c) => new AveragePooling1D(c)],
  ['AveragePooling2D', (c) => new AveragePooling2D(c)],
  ['GlobalAveragePooling1D', (c) => new GlobalAveragePooling1D(c)],
  ['GlobalAveragePooling2D', (c) => new GlobalAveragePooling2D(c)],
  ['GlobalMaxPooling1D', (c) => new GlobalMaxPooling1D(c)],
  ['GlobalMaxPooling2D', (c) => new GlobalMaxPooling2D(c)],
  ['BatchNormalization', (c) => new BatchNormalizationForward(c)],
  ['LayerNormalization', (c) => new LayerNormalizationForward(c)],
  ['RMSNormalization', (c) => new RMSNormalizationForward(c)],
  ['Residual', (c) => new ResidualForward({ ...c, layers: innerLayers(c.layers, 'residual') })],
  ['RandomAugment', (c) => new RandomAugmentForward(c)],
];
for (const [name, make] of LAYERS) registerLayer(name, make);
