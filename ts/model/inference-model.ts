// A model that only predicts, over the Network's planned memory: what wasmnn/infer's loaders return and what a
// `wasmnn bundle` module holds. Its layers come from a checkpoint's topology (wasmnn/infer/core) or are made by the
// bundle's own code; either way the weights arrive as bytes and are written and checked here.
import { Network } from '../engine/network';
import type { Layer } from '../layers/layer';
import { predict } from '../train/training';
import { ShapeError, StateError, ValueError } from '../backend/errors';
import type { Tensor, TensorLike } from '../tensor/tensor';

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

/**
 * The model of layers (not built yet) with its weights as bytes: float32, little-endian, in the layers' parameter
 * order, nothing else. The bytes go straight into module memory and are checked there (finite: one SIMD pass), which
 * is what makes a bundle's cold start short.
 */
export function assembleLayers(name: string, layers: Layer[], inputShape: number[], seed: number, weights: Uint8Array): InferenceModel {
  const net = new Network(layers, inputShape, seed, false);
  const floats = net.block.n + net.stateBlock.n;
  if (!(weights instanceof Uint8Array) || weights.length !== floats * 4) {
    net.dispose();
    throw new ShapeError(`the weights are ${weights?.length} bytes; model '${name}' has ${floats} floats, ${floats * 4} bytes`);
  }
  const { heap, k } = net.env;
  let at = 0;
  for (const layer of net.layers) {
    for (const p of layer.params) {
      heap.u8.set(weights.subarray(at, (at += p.size * 4)), p.ptr);
      if (k.vec_has_non_finite(p.ptr, p.size)) {
        net.dispose();
        throw new ValueError(`weight ${layer.name}/${p.name} holds a value that is not finite; weights are finite numbers only`);
      }
    }
  }
  return new InferenceModel(name, net);
}
