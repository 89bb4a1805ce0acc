// What the op table (ops.ts) and the converter (convert.ts) share: the state between layers, the layer specs, and
// the converter's services an op uses (constants, shape values, layer names).
import type { Layer } from '../../layers/layer';
export { sameShape } from '../../layers/layer';
import type { Tensor } from '../../tensor/tensor';
import type { OnnxNode, OnnxTensor } from './proto';
import type { Chain } from './graph';

/** The batch axis in shape values (Shape of a data tensor): its size is not known when importing. */
export const BATCH = -0x7ffffff0;

/**
 * What flows between two layers: the ONNX shape per sample, and the permutation of a flat tensor (null: none).
 * Sequences (the layout of recurrent models, see sequence.ts) add where the batch axis is and what wasmnn holds.
 */
export interface State {
  shape: number[];
  perm: Int32Array | null;
  /** The batch's axis in the ONNX tensor (0 unless a Transpose moved it: an LSTM op reads [steps, batch, ...]). */
  batchAxis?: number;
  /**
   * Set for a sequence layout: the ONNX axes but the batch are in wasmnn's memory order (no NCHW -> NHWC), and this is
   * the shape per sample the last layer outputs (the same values; a reshape layer is added where an op needs another).
   */
  held?: number[];
  /** The recurrent layer whose output sequence this is, with no layer since (a Gather of its last step folds into it). */
  recurrent?: Spec | null;
}

/** A layer before it is made: the folding steps may still change its activation or bias. */
export interface Spec {
  kind: 'dense' | 'conv' | 'bn' | 'rnn' | 'other';
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
  /** Acts on each value alone (activation, dropout, rescaling): it commutes with taking one step of a sequence. */
  elementwise?: boolean;
  /** A recurrent layer: it outputs every step (false: the last state), and whether it reads one way only, forwards. */
  sequences?: boolean;
  forwardOnly?: boolean;
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
  /** The output of a node with several (LSTM: Y, Y_h, Y_c) that the chain goes on with: its index. */
  followed(node: OnnxNode): number;
  /** Whether tensor `name` is all zeros: a constant, or ConstantOfShape(0) (sliced, reshaped...) of a computed shape. */
  zeros(name: string): boolean;
}

export type Op = (c: Context, node: OnnxNode, state: State, specs: Spec[]) => void;

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
