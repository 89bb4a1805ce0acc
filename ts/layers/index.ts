// The `nn.layers` namespace: factories with TF.js' names.
export { dense, Dense } from './dense';
export { activation, dropout, flatten, reshape, rescaling, Activation, Dropout, Flatten, Reshape, Rescaling } from './basic';
export { Layer } from './layer';
export { conv1d, conv2d, Conv1D, Conv2D } from './conv';
export {
  maxPooling1d, maxPooling2d, averagePooling1d, averagePooling2d,
  globalAveragePooling1d, globalAveragePooling2d, globalMaxPooling1d, globalMaxPooling2d,
  MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D,
  GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
} from './pooling';
export { batchNormalization, layerNormalization, rmsNormalization, BatchNormalization, LayerNormalization, RMSNormalization } from './normalization';
export { residual, Residual } from './residual';
export { randomAugment, RandomAugment } from './augment';
export { embedding, Embedding } from './embedding';
export { simpleRNN, lstm, gru, SimpleRNN, LSTM, GRU } from './recurrent';
export { bidirectional, timeDistributed, Bidirectional, TimeDistributed } from './wrappers';
