// What the op table (ops.ts) and the converter (convert.ts) share: the state between layers, the layer specs, and
// the converter's services an op uses (constants, shape values, layer names).
import type { Layer } from '../../layers/layer';
export { sameShape } from '../../layers/layer';
import type { Tensor } from '../../tensor/tensor';
import type { OnnxNode, OnnxTensor } from './proto';
import type { Chain } from './graph';

/** The batch axis in shape values (Shape of a data tensor): its size is not known when importing. */
export const BATCH = -0x7ffffff0;

/** What flows between two layers: the ONNX shape per sample, and the permutation of a flat tensor (null: none). */
export interface State {
  shape: number[];
  perm: Int32Array | null;
}

/** A layer before it is made: the folding steps may still change its activation or bias. */
export interface Spec {
  kind: 'dense' | 'conv' | 'bn' | 'other';
  make(base: { name: string; inputShape?: number[] }): Layer;
  name: string;
  /** In the layer's parameter order; bias below is the same array as the bias tensor's data. */
  weights: Tensor[];
  activation?: { name: string; alpha?: number };
  /** The bias values (dense, conv: weights[1]; batch norm: beta), where a constant Add is folded. */
  bias?: Float32Array;
  /** A batch norm's epsilon (to fold it into a shortcut's convolution). */
  epsilon?: number;
  /** Keeps every s-th output of the window op before it (see ops.ts' windowPadding): elementwise ops pass it. */
  subsample?: boolean;
}

/** The last spec that computes something: a subsample commutes with activations and biases, so they look past it. */
export function lastComputing(specs: Spec[]): Spec | undefined {
  const last = specs[specs.length - 1];
  return last?.subsample ? specs[specs.length - 2] : last;
}

/** The converter as the ops see it. */
export interface Context {
  readonly chain: Chain;
  readonly opset: number;
  /** The batch size of the graph's input when it is a number (a Reshape may name it), else null. */
  readonly staticBatch: number | null;
  layerName(node: OnnxNode): string;
  /** A constant input of the node, or a ValueError naming it. */
  constant(node: OnnxNode, index: number, what: string): OnnxTensor;
  floats(node: OnnxNode, index: number, what: string): Float32Array;
  /** A shape value (constant, or computed from Shape nodes; the batch axis is BATCH). */
  ints(name: string, node: OnnxNode): number[];
}

export type Op = (c: Context, node: OnnxNode, state: State, specs: Spec[]) => void;

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
