// What a `wasmnn bundle` module is built from (dist/infer/bundle.js, not a public entry point): the module loader, the
// layer classes (the bundle's own code makes its model's layers, so it needs neither the checkpoint reader nor the
// layer registry), the Network with its predict loop, Tensor and the typed errors. esbuild keeps only what the
// bundle's entry uses: the classes of its model's layer kinds.
import { readyWith, type Backend, type ReadyOptions } from './backend/module';

export { assembleLayers } from './model/inference-model';
export { Tensor, tensor } from './tensor/tensor';
export { ShapeError, StateError, ValueError } from './backend/errors';
export * from './layers/index';

/** Instantiates the bundle's module (its bytes, or the URL of its .wasm) once. */
export function ready(wasm: NonNullable<ReadyOptions['wasm']>): Promise<Backend> {
  return readyWith({ wasm }, () => new URL(String(wasm)));
}
