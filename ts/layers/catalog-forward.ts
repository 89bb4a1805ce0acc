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
import { RandomAugmentForward } from './augment';
import { LogSoftmax } from './log-softmax';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Config = any;

/** Each class is made from its saved config (new C(config)); a residual block first makes its inner layers. */
const LAYERS: [string, new (c: Config) => Layer][] = [
  ['Dense', DenseForward],
  ['Activation', ActivationForward],
  ['Dropout', DropoutForward],
  ['Flatten', Flatten],
  ['Reshape', Reshape],
  ['Rescaling', RescalingForward],
  ['Conv1D', Conv1DForward],
  ['Conv2D', Conv2DForward],
  ['MaxPooling1D', MaxPooling1D],
  ['MaxPooling2D', MaxPooling2D],
  ['AveragePooling1D', AveragePooling1D],
  ['AveragePooling2D', AveragePooling2D],
  ['GlobalAveragePooling1D', GlobalAveragePooling1D],
  ['GlobalAveragePooling2D', GlobalAveragePooling2D],
  ['GlobalMaxPooling1D', GlobalMaxPooling1D],
  ['GlobalMaxPooling2D', GlobalMaxPooling2D],
  ['BatchNormalization', BatchNormalizationForward],
  ['LayerNormalization', LayerNormalizationForward],
  ['RMSNormalization', RMSNormalizationForward],
  ['Residual', ResidualForward],
  ['RandomAugment', RandomAugmentForward],
  ['LogSoftmax', LogSoftmax],
];
for (const [name, C] of LAYERS) {
  registerLayer(name, (c) => new C(name === 'Residual' ? { ...c, layers: innerLayers(c.layers, 'residual') } : c));
}
