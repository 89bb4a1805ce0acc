// The `nn.layers` namespace: factories with TF.js' names.
export { dense, Dense } from './dense';
export { activation, dropout, flatten, reshape, Activation, Dropout, Flatten, Reshape } from './basic';
export { Layer } from './layer';
