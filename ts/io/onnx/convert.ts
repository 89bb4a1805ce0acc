// From the chain of an ONNX graph (graph.ts) to wasmnn layers and their weights. ONNX images are NCHW, wasmnn's
// NHWC: a tensor [C, H, W] per sample is held as [H, W, C], conv kernels [F, C, kh, kw] become Keras' [kh, kw, C, F],
// and a flatten of [C, H, W] yields the values in (h, w, c) order: the flat tensor carries that permutation
// (wasmnn index j holds ONNX index perm[j]) until a dense layer absorbs it into the order of its kernel's rows, so
// every output is the same as PyTorch's. Each op is a spec (a layer to make, its weights) so that an activation or a
// bias that follows a dense or conv layer can still be folded into it before the layer is made. A recurrent model's
// sequences keep ONNX's order instead, wherever the batch axis is (sequence.ts).
import type { Layer } from '../../layers/layer';
import * as L from '../../layers/index';
import { Tensor } from '../../tensor/tensor';
import { ValueError } from '../../backend/errors';
import type { OnnxNode, OnnxTensor } from './proto';
import { floatValues, intValues } from './proto';
import { nodeLabel, type Chain, type Item } from './graph';
import { OPS as CORE_OPS } from './ops';
import { SEQUENCE_OPS, fullShape, hold, isSequenceModel, show as showFull } from './sequence';
import { BATCH, lastComputing, sameShape, type Context, type Op, type Spec, type State } from './spec';

const OPS: Record<string, Op> = { ...CORE_OPS, ...SEQUENCE_OPS };

/** The ops the importer maps (and Add of two branches: a residual block; PyTorch's five-node GELU: gelu). */
export const ONNX_OPS: readonly string[] = Object.keys(OPS);

/** Ops that read a tensor whatever axis its batch is on (elementwise ones, the layout ops, the recurrent ones, and
 *  MatMul + Add, per step). */
const BATCH_ANYWHERE = new Set(['LSTM', 'GRU', 'RNN', 'Transpose', 'Squeeze', 'Unsqueeze', 'Reshape', 'Gather', 'Slice',
  'MatMul', 'Add', 'Relu', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh', 'Softplus', 'Gelu', 'Dropout', 'Identity']);
/** Ops that read a sequence (after an LSTM, GRU or embedding): those, and the ones of features on the last axis. */
const ON_SEQUENCES = new Set([...BATCH_ANYWHERE, 'Gemm', 'Flatten', 'Softmax', 'LogSoftmax', 'Mul', 'Div', 'Sub']);

export class Converter implements Context {
  private readonly names = new Set<string>();
  /** The ONNX shape of each data tensor converted so far, the batch axis BATCH (Shape nodes read it). */
  readonly shapes = new Map<string, number[]>();

  constructor(readonly chain: Chain, readonly opset: number, readonly staticBatch: number | null) {}

  /** The layers of the whole chain, their weights in parameter order, and the model's (NHWC) input shape. */
  run(inputShape: number[]): { layers: Layer[]; weights: Tensor[]; inputShape: number[] } {
    // a recurrent model takes its input as PyTorch does ([batch, steps, features] or ids [batch, steps]); an image
    // model NHWC
    const sequence = isSequenceModel(this.chain.items, this.chain.constants);
    const state: State = { shape: inputShape.slice(), perm: null, ...(sequence ? { held: inputShape.slice(), batchAxis: 0 } : {}) };
    this.shapes.set(this.chain.input, [BATCH, ...inputShape]);
    const specs = this.items(this.chain.items, state);
    if (specs.length === 0) throw new ValueError('onnx: the graph computes nothing wasmnn holds as a layer (only Identity or Dropout nodes)');
    if (state.perm) {
      throw new ValueError('onnx: the graph ends with a flattened image; its values would come out in NHWC order, not PyTorch\'s NCHW order (add a Linear layer after the flatten)');
    }
    if (state.held) {
      const last = this.chain.items[this.chain.items.length - 1];
      const node = last?.kind === 'residual' ? last.add : last?.node;
      if ((state.batchAxis ?? 0) !== 0) throw new ValueError(`onnx: the graph's output ${showFull(fullShape(state))} has its batch on axis ${state.batchAxis}; wasmnn's models output [batch, ...]`);
      if (node) hold(this, node, state, specs, state.shape);
    }
    const nhwc = sequence ? inputShape.slice() : toNhwc(inputShape);
    const layers = specs.map((s, i) => s.make({ name: s.name, ...(i === 0 ? { inputShape: nhwc } : {}) }));
    return { layers, weights: specs.flatMap((s) => s.weights), inputShape: nhwc };
  }

  items(items: Item[], state: State): Spec[] {
    const specs: Spec[] = [];
    for (const item of items) {
      if (item.kind === 'residual') specs.push(this.residual(item, state));
      else if (item.kind === 'gelu') this.op('Gelu', item.node, state, specs, OPS.Gelu);
      else {
        const op = OPS[item.node.opType];
        if (!op || item.node.domain !== '' && item.node.domain !== 'ai.onnx') {
          throw new ValueError(`onnx: ${nodeLabel(item.node)}${item.node.domain ? ` in domain '${item.node.domain}'` : ''} at opset ${this.opset} is an op wasmnn cannot import; it imports ${ONNX_OPS.join(', ')}`);
        }
        this.op(item.node.opType, item.node, state, specs, op);
      }
    }
    return specs;
  }

  private op(kind: string, node: OnnxNode, state: State, specs: Spec[], op: Op): void {
    if ((state.batchAxis ?? 0) !== 0 && !BATCH_ANYWHERE.has(kind)) {
      throw new ValueError(`onnx: ${nodeLabel(node)} reads ${showFull(fullShape(state))}, whose batch is not the first axis; there wasmnn imports ${[...BATCH_ANYWHERE].join(', ')}`);
    }
    if (state.held && !ON_SEQUENCES.has(kind)) {
      throw new ValueError(`onnx: ${nodeLabel(node)} reads a sequence ${showFull(fullShape(state))} (a recurrent model's, channels last); there wasmnn imports ${[...ON_SEQUENCES].join(', ')}`);
    }
    const before = specs.length;
    op(this, node, state, specs);
    // a layer made since the recurrent one (but one of each value alone): its last step is no longer its last state
    if (specs.slice(before).some((s) => s !== state.recurrent && !s.elementwise)) state.recurrent = null;
    const out = kind === 'Gelu' ? node.outputs[0] : this.chain.follow.get(node) ?? node.outputs.find((o) => o !== '');
    if (out) this.shapes.set(out, fullShape(state));
  }

  followed(node: OnnxNode): number {
    const out = this.chain.follow.get(node) ?? node.outputs.find((o) => o !== '');
    return node.outputs.indexOf(out ?? '');
  }

  zeros(name: string, depth = 0): boolean {
    const t = this.chain.constants.get(name);
    try {
      if (t) return floatValues(t, `constant '${name}'`).every((v) => v === 0);
      const from = this.chain.producers.get(name);
      if (!from || depth > 32) return false;
      switch (from.opType) {
        case 'ConstantOfShape': {
          const value = from.attributes.get('value')?.t;
          return !value || floatValues(value, `${nodeLabel(from)} value`).every((v) => v === 0);
        }
        // what PyTorch does to the zeros of a stacked LSTM's initial states (one layer's slice of them), and the like
        case 'Slice': case 'Identity': case 'Squeeze': case 'Unsqueeze': case 'Expand': case 'Reshape': case 'Cast': case 'Transpose': case 'Gather':
          return this.zeros(from.inputs[0], depth + 1);
        default:
          return false;
      }
    } catch (e) {
      if (e instanceof ValueError) return false;
      throw e;
    }
  }

  /** A residual block: its inner branch converted from the fork's state; the shortcut is x or a 1x1 convolution. */
  private residual(item: Item & { kind: 'residual' }, state: State): Spec {
    if (state.perm) throw new ValueError(`onnx: ${nodeLabel(item.add)}: a residual block over a flattened image is not supported`);
    if (state.held) throw new ValueError(`onnx: ${nodeLabel(item.add)}: a residual block in a recurrent model is not supported`);
    const start: State = { shape: state.shape.slice(), perm: null };
    const inner = this.items(item.inner, state);
    if (state.perm) throw new ValueError(`onnx: ${nodeLabel(item.add)}: a residual branch that flattens an image is not supported`);
    const name = this.layerName(item.add);
    const innerWeights = inner.flatMap((s) => s.weights);
    let shortcutWeights: Tensor[] = [];
    if (item.shortcut.length === 0) {
      if (!sameShape(start.shape, state.shape)) {
        throw new ValueError(`onnx: ${nodeLabel(item.add)} adds [${state.shape}] to its input [${start.shape}]: the shapes differ`);
      }
    } else {
      const { kernel, bias } = projection(this, item.shortcut, start, state, item.add);
      shortcutWeights = [kernel];
      if (bias.some((v) => v !== 0)) foldBias(inner, bias, item.add);
    }
    this.shapes.set(item.add.outputs[0], fullShape(state));
    return {
      kind: 'other', name, weights: [...innerWeights, ...shortcutWeights],
      make: (base) => L.residual({ ...base, projection: item.shortcut.length > 0, layers: inner.map((s) => s.make({ name: s.name })) }),
    };
  }

  /** A unique layer name made from the node's name (PyTorch's '/block1/conv1/Conv' -> 'block1_conv1_Conv'). */
  layerName(node: OnnxNode): string {
    const base = (node.name || node.outputs[0] || node.opType).replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '') || node.opType.toLowerCase();
    let name = base;
    for (let i = 2; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** A constant input of the node (an initializer or a Constant node's value). */
  constant(node: OnnxNode, index: number, what: string): OnnxTensor {
    const name = node.inputs[index];
    const t = name ? this.chain.constants.get(name) : undefined;
    if (!t) throw new ValueError(`onnx: ${nodeLabel(node)}: its ${what} (input ${index}${name ? ` '${name}'` : ''}) must be a constant tensor (an initializer)`);
    return t;
  }

  floats(node: OnnxNode, index: number, what: string): Float32Array {
    return floatValues(this.constant(node, index, what), `${nodeLabel(node)} ${what}`);
  }

  /** A shape value: a constant, or computed from Shape nodes of data tensors (the batch axis is BATCH). */
  ints(name: string, node: OnnxNode, depth = 0): number[] {
    const t = this.chain.constants.get(name);
    if (t) return intValues(t, `${nodeLabel(node)} input '${name}'`);
    const from = this.chain.producers.get(name);
    if (!from || depth > 32) throw new ValueError(`onnx: ${nodeLabel(node)}: '${name}' must be a constant shape`);
    const args = (i: number) => this.ints(from.inputs[i] ?? '', from, depth + 1);
    switch (from.opType) {
      case 'Shape': {
        const full = this.shapes.get(from.inputs[0]);
        if (!full) throw new ValueError(`onnx: ${nodeLabel(from)}: the shape of '${from.inputs[0]}' is not known here`);
        // opset 15's start and end: negative counts from the end, out of range clamps (slice does both)
        return full.slice(from.attributes.get('start')?.i ?? 0, from.attributes.get('end')?.i ?? full.length);
      }
      case 'Gather': {
        if ((from.attributes.get('axis')?.i ?? 0) !== 0) throw new ValueError(`onnx: ${nodeLabel(from)}: only axis 0 of a shape can be gathered`);
        const data = args(0);
        return args(1).map((i) => {
          const j = i < 0 ? i + data.length : i;
          if (!(j >= 0 && j < data.length)) throw new ValueError(`onnx: ${nodeLabel(from)}: index ${i} is outside a shape of ${data.length}`);
          return data[j];
        });
      }
      case 'Unsqueeze': case 'Squeeze': case 'Cast': case 'Identity':
        return args(0);
      case 'Concat':
        return from.inputs.flatMap((_, i) => args(i));
      default:
        throw new ValueError(`onnx: ${nodeLabel(node)}: its shape comes from ${nodeLabel(from)}, which the importer cannot evaluate`);
    }
  }
}

/** The channels-last shape wasmnn holds for an ONNX per-sample shape: [C, H, W] -> [H, W, C], [C, L] -> [L, C]. */
export function toNhwc(shape: number[]): number[] {
  return shape.length > 1 ? [...shape.slice(1), shape[0]] : shape.slice();
}

/**
 * Adds a per-feature bias to the last inner layer of a block (the shortcut convolution's bias, moved there:
 * F(x) + (Wx + b) = (F(x) + b) + Wx); that layer must be linear.
 */
export function foldBias(specs: Spec[], bias: Float32Array, node: OnnxNode): void {
  const last = lastComputing(specs);
  if (!last?.bias || last.bias.length !== bias.length || (last.activation && last.activation.name !== 'linear')) {
    throw new ValueError(`onnx: ${nodeLabel(node)}: the shortcut's bias can only be folded into a linear dense, conv or batch-norm layer at the end of the other branch`);
  }
  for (let i = 0; i < bias.length; i++) last.bias[i] += bias[i];
}

/** The shortcut branch [Conv 1x1] or [Conv 1x1, BatchNormalization] as wasmnn's projection: kernel, and its bias. */
function projection(c: Context, items: Item[], start: State, end: State, add: OnnxNode): { kernel: Tensor; bias: Float32Array } {
  const nodes = items.map((i) => (i.kind === 'node' ? i.node : null));
  const [conv, bn] = nodes;
  const fail = (why: string) => new ValueError(`onnx: ${nodeLabel(add)}: the shortcut branch must be a 1x1 convolution (with a batch norm) for a residual block; ${why}`);
  if (!conv || conv.opType !== 'Conv' || nodes.length > 2 || (nodes.length === 2 && bn?.opType !== 'BatchNormalization')) throw fail(`it is ${nodes.map((n) => n?.opType ?? 'GELU').join(', ')}`);
  const state: State = { shape: start.shape.slice(), perm: null };
  const specs: Spec[] = [];
  OPS.Conv(c, conv, state, specs);
  if (bn) OPS.BatchNormalization(c, bn, state, specs);
  const spec = specs[0];
  if (specs.some((s) => s.subsample)) throw fail('its padding is not that of a 1x1 convolution');
  const cfg = conv.attributes;
  const k = spec.weights[0].shape.slice(0, -2);
  if (k.some((v) => v !== 1)) throw fail(`its kernel is ${k.join('x')}`);
  if (!sameShape(state.shape, end.shape)) throw fail(`it makes [${state.shape}], the other branch [${end.shape}]`);
  // wasmnn's projection strides by round(size in / size out), with 'same' padding (none for a 1x1 window)
  const strides = cfg.get('strides')?.ints ?? start.shape.slice(1).map(() => 1);
  if (start.shape.slice(1).some((size, i) => Math.max(1, Math.round(size / end.shape[i + 1])) !== strides[i])) throw fail(`strides [${strides}] do not map onto it`);
  let kernel = spec.weights[0].data as Float32Array;
  let bias = spec.bias ?? new Float32Array(spec.weights[0].shape[3]);
  if (bn) {
    // batch norm in eval mode folded into the convolution: y = (Wx + b - mean)·γ/√(var + ε) + β
    const [gamma, beta, mean, variance] = specs[1].weights.map((t) => t.data);
    const eps = specs[1].epsilon!;
    const f = gamma.length;
    const scale = Float32Array.from(gamma, (g, i) => g / Math.sqrt(variance[i] + eps));
    kernel = Float32Array.from(kernel, (v, i) => v * scale[i % f]);
    bias = Float32Array.from(bias, (b, i) => (b - mean[i]) * scale[i] + beta[i]);
  }
  return { kernel: new Tensor(kernel, spec.weights[0].shape), bias };
}

