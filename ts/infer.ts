// wasmnn/infer: load a saved model and predict, nothing more: the inference core (ts/infer-core.ts) with every layer
// kind of the catalog registered. A bundler user who wants only some kinds imports wasmnn/infer/core and the kinds'
// entry points (wasmnn/infer/layers/<kind>) instead.
import { readyWith, type ReadyOptions, type Backend } from './backend/module';
import './layers/catalog'; // the loader's layer table (the library's own)
import { registerOthersHint, setMissingLayerHint } from './layers/registry';

export { InferenceModel, loadModel, loadModelFrom, Tensor, tensor, registerLayer, registeredLayers } from './infer-core';
export { WasmnnError, ShapeError, ValueError, StateError, NotFoundError, MemoryError } from './infer-core';
export type { ReadyOptions, TensorLike, LayerFactory } from './infer-core';

// every wasmnn kind is registered: a class the loader does not know is not one of them, as in the library
setMissingLayerHint(registerOthersHint);

/** Instantiates the inference module once (by default wasmnn-infer.wasm beside this script). */
export function ready(options: ReadyOptions = {}): Promise<Backend> {
  return readyWith(options, () => new URL('./wasmnn-infer.wasm', import.meta.url));
}
