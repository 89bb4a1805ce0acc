// wasmnn's public API: `import * as nn from 'wasmnn'`.
export { ready } from './module';
export type { ReadyOptions } from './module';
export { Tensor, tensor, tensor1d, tensor2d, tensor3d, tensor4d } from './tensor';
export type { TensorLike, NestedArray } from './tensor';
export { WasmnnError, ShapeError, ValueError, StateError, NotFoundError } from './errors';
export { Random, permutation } from './random';
export { ACTIVATION_NAMES } from './activations';
export * as ops from './ops';
export * as data from './data/index';
export * as metrics from './metrics';
export * as report from './report/index';
