// The library with the module's bytes inlined (`import * as nn from 'wasmnn/embedded'`): for bundlers and places
// where a .wasm file beside the script cannot be fetched or read. Everything else is the same library.
import wasm from '../dist/wasmnn.wasm';
import { ready as readyModule, type ReadyOptions, type Backend } from './backend/module';

export * from './index';

/** Instantiates the inlined module once (a `wasm` option still wins). */
export function ready(options: ReadyOptions = {}): Promise<Backend> {
  return readyModule({ wasm: options.wasm ?? wasm });
}
