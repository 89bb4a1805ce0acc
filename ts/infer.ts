// wasmnn/infer: load a saved model and predict, nothing more. The same layers, checkpoint reader, network and
// predict loop as the full library, over dist/wasmnn-infer.wasm (the forward kernels only, built from the same
// sources), so predictions have the same bits; no optimiser, loss, data, report or training-loop code is bundled.
import { readyWith, type ReadyOptions, type Backend } from './backend/module';
import './layers/catalog'; // the loader's layer table (the library's own)
import { readCheckpoint, decodeWeights } from './checkpoint/format';
import { reviveLayers } from './checkpoint/revive';
import { checkpointBytes } from './io/checkpoint-io';
import { Network } from './engine/network';
import { predict } from './train/training';
import { StateError } from './backend/errors';
import type { Tensor, TensorLike } from './tensor/tensor';

export type { ReadyOptions } from './backend/module';
export { Tensor, tensor } from './tensor/tensor';
export type { TensorLike } from './tensor/tensor';
export { WasmnnError, ShapeError, ValueError, StateError, NotFoundError, MemoryError } from './backend/errors';

/** Instantiates the inference module once (by default wasmnn-infer.wasm beside this script). */
export function ready(options: ReadyOptions = {}): Promise<Backend> {
  return readyWith(options, () => new URL('./wasmnn-infer.wasm', import.meta.url));
}

/** A loaded model that predicts: the checkpoint's layers and weights; its training state, if any, is ignored. */
export class InferenceModel {
  readonly name: string;
  #net: Network | null;

  constructor(name: string, net: Network) {
    this.name = name;
    this.#net = net;
  }

  get network(): Network {
    if (!this.#net) throw new StateError(`model '${this.name}' was disposed; load it again`);
    return this.#net;
  }
  get inputShape(): number[] {
    return this.network.layers[0].inputShape!.slice();
  }
  get outputShape(): number[] {
    return this.network.outputLayer.outputShape.slice();
  }

  /** The model's outputs for x, shape [samples, ...outputShape] (dropout off, batch norm on running statistics). */
  predict(x: TensorLike, args: { batchSize?: number } = {}): Tensor {
    return predict(this, x, args);
  }

  /** Frees the model's memory; any later use is a StateError. */
  dispose(): void {
    this.#net?.dispose();
    this.#net = null;
  }
}

/** Rebuilds a saved model from checkpoint bytes (after `await ready()`); every check of the full loader applies. */
export function loadModel(bytes: Uint8Array | ArrayBuffer): InferenceModel {
  const file = readCheckpoint(bytes);
  const layers = reviveLayers(file.topology);
  const weights = decodeWeights(file);
  // everything is valid: only now touch module memory; the weights are written, not initialised
  const net = new Network(layers, file.topology.inputShape, file.topology.seed, false);
  const f32 = net.env.heap.f32;
  net.layers.flatMap((l) => l.params).forEach((p, i) => f32.set(weights[i], p.ptr >> 2));
  return new InferenceModel(file.topology.name, net);
}

/** Loads a model from a file path, a URL (fetched; `file:` read from disk) or `indexeddb://key`. */
export async function loadModelFrom(source: string | URL): Promise<InferenceModel> {
  const bytes = await checkpointBytes(source);
  await ready();
  return loadModel(bytes);
}
