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
import { RandomAugment } from './augment';
import { LogSoftmax } from './log-softmax';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Config = any;

/** Each class is made from its saved config (new C(config)); a residual block first makes its inner layers. */
const LAYERS: [string, new (c: Config) => Layer][] = [
  ['Dense', Dense],
  ['Activation', Activation],
  ['Dropout', Dropout],
  ['Flatten', Flatten],
  ['Reshape', Reshape],
  ['Rescaling', Rescaling],
  ['Conv1D', Conv1D],
  ['Conv2D', Conv2D],
  ['MaxPooling1D', MaxPooling1D],
  ['MaxPooling2D', MaxPooling2D],
  ['AveragePooling1D', AveragePooling1D],
  ['AveragePooling2D', AveragePooling2D],
  ['GlobalAveragePooling1D', GlobalAveragePooling1D],
  ['GlobalAveragePooling2D', GlobalAveragePooling2D],
  ['GlobalMaxPooling1D', GlobalMaxPooling1D],
  ['GlobalMaxPooling2D', GlobalMaxPooling2D],
  ['BatchNormalization', BatchNormalization],
  ['LayerNormalization', LayerNormalization],
  ['RMSNormalization', RMSNormalization],
  ['Residual', Residual],
  ['RandomAugment', RandomAugment],
  ['LogSoftmax', LogSoftmax],
];
for (const [name, C] of LAYERS) {
  registerLayer(name, (c) => new C(name === 'Residual' ? { ...c, layers: innerLayers(c.layers, 'residual') } : c));
}
