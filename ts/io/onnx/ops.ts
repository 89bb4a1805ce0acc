// The ONNX ops of a PyTorch MLP or CNN (opsets 11 to 17), one row each: what layer (spec) each becomes and how its
// weights are laid out for wasmnn (see convert.ts for the NCHW -> NHWC rule and the flat permutation).
import * as L from '../../layers/index';
import { Tensor } from '../../tensor/tensor';
import { ValueError } from '../../backend/errors';
import type { OnnxNode } from './proto';
import { nodeLabel } from './graph';
import { BATCH, lastComputing, normAxis, sameShape, type Context, type Op, type Spec, type State } from './spec';
import { fullShape, hold, show } from './sequence';

/** Values per sample a flatten may make (its permutation is a table of that many indices). */
const MAX_FEATURES = 1 << 26;

const fail = (node: OnnxNode, why: string) => new ValueError(`onnx: ${nodeLabel(node)}: ${why}`);

const int = (n: OnnxNode, name: string, def: number): number => n.attributes.get(name)?.i ?? def;
const float = (n: OnnxNode, name: string, def: number): number => n.attributes.get(name)?.f ?? def;
const ints = (n: OnnxNode, name: string): number[] | null => {
  const a = n.attributes.get(name);
  return a ? a.ints : null;
};
const str = (n: OnnxNode, name: string, def: string): string => {
  const s = n.attributes.get(name)?.s;
  return s ? new TextDecoder().decode(s) : def;
};

function flatInput(node: OnnxNode, state: State): number {
  if (state.shape.length !== 1) throw fail(node, `it needs a flat input [features] per sample, it gets [${state.shape}] (flatten first)`);
  return state.shape[0];
}

/** An image [C, H, W] or a sequence [C, L] per sample: its channels and its spatial sizes. */
function spatialInput(node: OnnxNode, state: State): { ch: number; sizes: number[] } {
  if (state.shape.length !== 2 && state.shape.length !== 3) {
    throw fail(node, `it needs an image [channels, height, width] or a sequence [channels, length] per sample, it gets [${state.shape}]`);
  }
  return { ch: state.shape[0], sizes: state.shape.slice(1) };
}

/** A per-feature constant (bias, batch-norm statistic) of `n` values, from shapes like [n], [1, n], [n, 1, 1], [1]. */
function perFeature(c: Context, node: OnnxNode, index: number, n: number, what: string): Float32Array {
  const t = c.constant(node, index, what);
  const v = c.floats(node, index, what);
  if (v.length === n) {
    // the values must lie along one axis: [n], [1, n] (dense) or [n, 1, 1] / [1, n, 1, 1] (per channel)
    if (t.dims.filter((d) => d !== 1).length <= 1) return v;
  } else if (v.length === 1) return new Float32Array(n).fill(v[0]);
  throw fail(node, `its ${what} has shape [${t.dims}], which does not broadcast to ${n} features`);
}

/** Applies the flat permutation to per-feature values (index j takes ONNX feature perm[j]). */
function permute(values: Float32Array, perm: Int32Array | null): Float32Array {
  return perm ? Float32Array.from(perm, (p) => values[p]) : values;
}

function denseSpec(c: Context, node: OnnxNode, kernel: Float32Array, bias: Float32Array, inputs: number, units: number): Spec {
  const spec: Spec = {
    kind: 'dense', name: c.layerName(node), bias,
    weights: [new Tensor(kernel, [inputs, units]), new Tensor(bias, [units])],
    make: (base) => L.dense({ ...base, units, activation: spec.activation?.name ?? 'linear', alpha: spec.activation?.alpha }),
  };
  return spec;
}

/**
 * y = alpha·A·op(B) + beta·C with A the data [rows, K] (transA must be 0), B [K, N] or with transB [N, K].
 * Kernel row j takes B's row perm[j] (the flat permutation), scaled by alpha.
 */
const gemm: Op = (c, node, state, specs) => {
  const k = flatInput(node, state);
  hold(c, node, state, specs, [k]);
  if (int(node, 'transA', 0) !== 0) throw fail(node, 'transA = 1 (a transposed data input) is not supported');
  const transB = int(node, 'transB', 0) !== 0;
  const alpha = float(node, 'alpha', 1), beta = float(node, 'beta', 1);
  const b = c.constant(node, 1, 'weight B');
  const w = c.floats(node, 1, 'weight B');
  if (b.dims.length !== 2 || b.dims[transB ? 1 : 0] !== k) throw fail(node, `its weight has shape [${b.dims}]${transB ? ' (transB)' : ''}, the input has ${k} features`);
  const n = b.dims[transB ? 0 : 1];
  const kernel = new Float32Array(k * n);
  for (let j = 0; j < k; j++) {
    const row = state.perm ? state.perm[j] : j;
    for (let o = 0; o < n; o++) kernel[j * n + o] = alpha * w[transB ? o * k + row : row * n + o];
  }
  const bias = node.inputs[2] ? perFeature(c, node, 2, n, 'bias C').map((v) => beta * v) : new Float32Array(n);
  specs.push(denseSpec(c, node, kernel, bias, k, n));
  state.shape = [n];
  if (state.held) state.held = [n];
  state.perm = null;
};

/**
 * A·B with B a constant [K, N]: a dense layer without bias (an Add of a constant after it becomes its bias). On a
 * sequence [steps, K] (PyTorch's Linear on every step of an LSTM's output), the same dense layer on each step.
 */
const matmul: Op = (c, node, state, specs) => {
  if (state.held && state.shape.length === 2 && !c.chain.constants.has(node.inputs[0])) return matmulSteps(c, node, state, specs);
  const k = flatInput(node, state);
  if ((state.batchAxis ?? 0) !== 0) throw fail(node, `it multiplies ${show(fullShape(state))}, whose batch is not the first axis`);
  hold(c, node, state, specs, [k]);
  if (!state.perm && c.chain.constants.has(node.inputs[0])) throw fail(node, 'the constant must be the second input');
  const b = c.constant(node, 1, 'weight');
  const w = c.floats(node, 1, 'weight');
  if (b.dims.length !== 2 || b.dims[0] !== k) throw fail(node, `its weight has shape [${b.dims}], the input has ${k} features`);
  const n = b.dims[1];
  const kernel = new Float32Array(k * n);
  for (let j = 0; j < k; j++) kernel.set(w.subarray((state.perm ? state.perm[j] : j) * n, (state.perm ? state.perm[j] : j) * n + n), j * n);
  specs.push(denseSpec(c, node, kernel, new Float32Array(n), k, n));
  state.shape = [n];
  if (state.held) state.held = [n];
  state.perm = null;
};

/** MatMul of a sequence [steps, K] (the batch before or after the steps) by a constant [K, N]: dense on every step. */
function matmulSteps(c: Context, node: OnnxNode, state: State, specs: Spec[]): void {
  const [steps, k] = state.shape;
  const b = c.constant(node, 1, 'weight');
  if (b.dims.length !== 2 || b.dims[0] !== k) throw fail(node, `its weight has shape [${b.dims}], the input ${show(fullShape(state))} has ${k} features`);
  hold(c, node, state, specs, state.shape);
  const n = b.dims[1];
  specs.push(denseSpec(c, node, c.floats(node, 1, 'weight').slice(), new Float32Array(n), k, n));
  state.shape = [steps, n];
  state.held = state.shape.slice();
}

/**
 * Add of a constant: the bias of the linear dense or conv layer just before (MatMul + Add); elsewhere, one number
 * added to everything is a rescaling layer.
 */
const addConstant: Op = (c, node, state, specs) => {
  const index = c.chain.constants.has(node.inputs[0]) ? 0 : 1;
  const last = lastComputing(specs);
  const linear = last?.bias && (!last.activation || last.activation.name === 'linear') && (last.kind === 'dense' || last.kind === 'conv');
  if (!linear && c.floats(node, index, 'added constant').length === 1) return scalarAffine('Add')(c, node, state, specs);
  if (state.held) {
    // features on the last axis: the constant is [N] or [1, ..., N]
    const dims = c.constant(node, index, 'added constant').dims;
    const n = state.shape[state.shape.length - 1];
    const v = c.floats(node, index, 'added constant');
    const perFeature = dims.length <= fullShape(state).length && dims.slice(0, -1).every((d) => d === 1) && dims[dims.length - 1] === n;
    if (!linear || !(perFeature || v.length === 1)) {
      throw fail(node, `an Add of a constant [${dims}] to ${show(fullShape(state))} is imported only as the bias [${n}] of a linear MatMul just before it`);
    }
    for (let i = 0; i < n; i++) last!.bias![i] += v[perFeature ? i : 0];
    return;
  }
  const features = state.shape[0];
  const dims = c.constant(node, index, 'added constant').dims.filter((d, i, all) => !(d === 1 && all.slice(0, i).every((e) => e === 1)));
  // per channel of an image: [F, 1, 1] (a [F] would broadcast along the width), of a sequence [F, 1]; per feature: [F]
  if (dims.length > 0 && state.shape.length > 1 && !(dims.length === state.shape.length && dims.slice(1).every((d) => d === 1))) {
    throw fail(node, `an added constant of shape [${c.constant(node, index, 'added constant').dims}] is not one value per channel`);
  }
  if (!last?.bias || (last.activation && last.activation.name !== 'linear') || (last.kind !== 'dense' && last.kind !== 'conv')) {
    throw fail(node, 'an Add of a constant is imported only as the bias of a linear MatMul, Gemm or Conv just before it');
  }
  const v = perFeature(c, node, index, features, 'added constant');
  for (let i = 0; i < v.length; i++) last.bias[i] += v[i];
};

/**
 * An elementwise Mul, Div, Add or Sub with one number (x·255, x/255, x - 0.5, 1 - x): a rescaling layer,
 * y = x·scale + offset. Per-channel constants (normalisation by mean and std) are not supported.
 */
function scalarAffine(kind: 'Mul' | 'Div' | 'Add' | 'Sub'): Op {
  return (c, node, _state, specs) => {
    const first = c.chain.constants.has(node.inputs[0]);
    const index = first ? 0 : 1;
    const v = c.floats(node, index, 'constant');
    if (v.length !== 1) throw fail(node, `only ${kind} with one number is supported; this constant has shape [${c.constant(node, index, 'constant').dims}]`);
    const k = v[0];
    if (kind === 'Div' && first) throw fail(node, 'a number divided by the data is not supported');
    const [scale, offset] = kind === 'Mul' ? [k, 0] : kind === 'Div' ? [1 / k, 0] : kind === 'Add' ? [1, k] : first ? [-1, k] : [1, -k];
    if (!Number.isFinite(scale) || !Number.isFinite(offset)) throw fail(node, `the constant ${k} makes a scale of ${scale}`);
    specs.push({ kind: 'other', name: c.layerName(node), weights: [], elementwise: true, make: (base) => L.rescaling({ ...base, scale, offset }) });
  };
}

/**
 * One spatial axis of a window op: ONNX's explicit pads (or auto_pad) as wasmnn's 'valid' or 'same' (TF's rule:
 * out = ceil(size / stride), the smaller half of the padding first), when the windows are the same.
 */
function windowAxis(node: OnnxNode, size: number, k: number, s: number, d: number, axis: number, rank: number): { out: number; valid: boolean; same: boolean; centred: boolean; padded: boolean } {
  const auto = str(node, 'auto_pad', 'NOTSET');
  const pads = ints(node, 'pads') ?? new Array<number>(2 * rank).fill(0);
  if (pads.length !== 2 * rank || pads.some((p) => !Number.isSafeInteger(p) || p < 0)) throw fail(node, `pads [${pads}] must be ${2 * rank} whole numbers >= 0`);
  const span = (k - 1) * d + 1;
  let out: number, before: number;
  if (auto === 'VALID') (before = 0), (out = Math.floor((size - span) / s) + 1);
  else if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    out = Math.ceil(size / s);
    const total = Math.max((out - 1) * s + span - size, 0);
    before = auto === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
  } else if (auto === 'NOTSET') {
    before = pads[axis];
    const room = size + pads[axis] + pads[axis + rank] - span; // ONNX: all the begins, then all the ends
    out = (int(node, 'ceil_mode', 0) ? Math.ceil(room / s) : Math.floor(room / s)) + 1;
    if (int(node, 'ceil_mode', 0) && (out - 1) * s >= size + before) out--; // the last window must start inside
  } else throw fail(node, `auto_pad '${auto}' is not an ONNX value`);
  if (!(out >= 1)) throw fail(node, `the window (${k}, dilation ${d}) does not fit the input's ${size}`);
  const sameOut = Math.ceil(size / s);
  const sameBefore = Math.floor(Math.max((sameOut - 1) * s + span - size, 0) / 2);
  return {
    out,
    valid: before === 0 && size >= span && out === Math.floor((size - span) / s) + 1,
    same: out === sameOut && before === sameBefore,
    // (span - 1)/2 before: window i is centred on input i·s, as at stride 1 with 'same' padding
    centred: 2 * before === span - 1 && out === Math.floor((size - 1) / s) + 1,
    padded: before > 0 || (out - 1) * s + span > size,
  };
}

/**
 * The wasmnn padding of a 1-D or 2-D window op, its output sizes, whether any window reads padding, and whether it must run
 * at stride 1 and be subsampled. PyTorch's padding = k // 2 with stride 2 on an even size (every ResNet's stem and
 * downsampling) pads before, where TF's 'same' pads after; but its windows are centred on inputs 0, s, 2s, ..., so it
 * is the op at stride 1 with 'same' padding, keeping every s-th output (s² times the work of that one op).
 */
function windowPadding(node: OnnxNode, sizes: number[], k: number[], s: number[], d: number[]) {
  const axes = sizes.map((size, i) => windowAxis(node, size, k[i], s[i], d[i], i, sizes.length));
  const out = axes.map((a) => a.out), padded = axes.some((a) => a.padded);
  if (axes.every((a) => a.valid)) return { out, padded, padding: 'valid' as const, subsample: false };
  if (axes.every((a) => a.same)) return { out, padded, padding: 'same' as const, subsample: false };
  if (axes.every((a) => a.centred)) return { out, padded, padding: 'same' as const, subsample: true };
  throw fail(node, `its padding (pads [${ints(node, 'pads') ?? 'none'}], auto_pad ${str(node, 'auto_pad', 'NOTSET')}, strides [${s}]) on a ${sizes.join('x')} input is neither 'valid' nor TF's 'same', the two wasmnn has, nor centred windows`);
}

/** Every s-th pixel (a 1x1 max pooling of stride s): the strided part of a window op run at stride 1. */
function subsampleSpec(name: string, strides: number[]): Spec {
  const make = strides.length === 2 ? L.maxPooling2d : L.maxPooling1d;
  return { kind: 'other', name: `${name}_stride`, weights: [], subsample: true, make: (base) => make({ ...base, poolSize: 1, strides, padding: 'valid' }) };
}

/** A per-axis attribute (kernel_shape, strides, dilations): one whole number >= 1 per spatial axis. */
function tuple(node: OnnxNode, name: string, def: number[]): number[] {
  const v = ints(node, name) ?? def;
  if (v.length !== def.length || v.some((x) => !Number.isSafeInteger(x) || x < 1)) throw fail(node, `${name} [${v}] must be ${def.length} whole number(s) >= 1`);
  return v;
}

/**
 * Conv: X [C, H, W] with W [F, C, kh, kw] -> Keras' [kh, kw, C, F] (conv2d), or X [C, L] with W [F, C, k] ->
 * [k, C, F] (conv1d); optional bias [F]. group must be 1.
 */
const conv: Op = (c, node, state, specs) => {
  const { ch, sizes } = spatialInput(node, state);
  if (int(node, 'group', 1) !== 1) throw fail(node, `group ${int(node, 'group', 1)} (grouped or depthwise convolution) is not supported`);
  const wt = c.constant(node, 1, 'weight');
  const wv = c.floats(node, 1, 'weight');
  if (wt.dims.length !== sizes.length + 2 || wt.dims[1] !== ch) throw fail(node, `its weight has shape [${wt.dims}], the input is [${state.shape}]`);
  const f = wt.dims[0], k = wt.dims.slice(2), ones = k.map(() => 1);
  const kernelShape = tuple(node, 'kernel_shape', k);
  if (kernelShape.some((v, i) => v !== k[i])) throw fail(node, `kernel_shape [${kernelShape}] differs from its weight's [${k}]`);
  const strides = tuple(node, 'strides', ones), dilations = tuple(node, 'dilations', ones);
  const { padding, out, subsample } = windowPadding(node, sizes, k, strides, dilations);
  // [F, C, taps] -> [taps, C, F]: the taps are row-major in both layouts
  const taps = k.reduce((a, b) => a * b, 1);
  const kernel = new Float32Array(wv.length);
  for (let o = 0; o < f; o++) for (let i = 0; i < ch; i++) for (let t = 0; t < taps; t++) kernel[(t * ch + i) * f + o] = wv[(o * ch + i) * taps + t];
  const bias = node.inputs[2] ? perFeature(c, node, 2, f, 'bias').slice() : new Float32Array(f);
  const make = sizes.length === 2 ? L.conv2d : L.conv1d;
  const spec: Spec = {
    kind: 'conv', name: c.layerName(node), bias,
    weights: [new Tensor(kernel, [...k, ch, f]), new Tensor(bias, [f])],
    make: (base) => make({
      ...base, filters: f, kernelSize: k, strides: subsample ? ones : strides, dilationRate: dilations, padding,
      activation: spec.activation?.name ?? 'linear', alpha: spec.activation?.alpha,
    }),
  };
  specs.push(spec);
  if (subsample) specs.push(subsampleSpec(spec.name, strides));
  state.shape = [f, ...out];
};

function pool(mode: 'max' | 'avg'): Op {
  return (c, node, state, specs) => {
    const { ch, sizes } = spatialInput(node, state);
    const ones = sizes.map(() => 1);
    if (!ints(node, 'kernel_shape')) throw fail(node, 'it has no kernel_shape');
    const size = tuple(node, 'kernel_shape', ones), strides = tuple(node, 'strides', ones);
    const dilations = tuple(node, 'dilations', ones);
    if (dilations.some((v) => v !== 1)) throw fail(node, `dilations [${dilations}] are not supported for pooling`);
    const { padding, out, padded, subsample } = windowPadding(node, sizes, size, strides, ones);
    // wasmnn's average pooling divides by the real cells of each window (count_include_pad = 0)
    if (mode === 'avg' && padded && int(node, 'count_include_pad', 0) !== 0) {
      throw fail(node, 'count_include_pad = 1 with windows over the padding is not supported (wasmnn counts only real cells; export with count_include_pad=False)');
    }
    const make = sizes.length === 2 ? (mode === 'max' ? L.maxPooling2d : L.averagePooling2d) : (mode === 'max' ? L.maxPooling1d : L.averagePooling1d);
    const name = c.layerName(node);
    specs.push({ kind: 'other', name, weights: [], make: (base) => make({ ...base, poolSize: size, strides: subsample ? ones : strides, padding }) });
    if (subsample) specs.push(subsampleSpec(name, strides));
    state.shape = [ch, ...out];
  };
}

/** Global pooling: [C, H, W] -> [C, 1, 1], held as [1, 1, C] (global pooling to [C], then a free reshape); 1-D alike. */
function globalPool(mode: 'max' | 'avg'): Op {
  return (c, node, state, specs) => {
    const { ch, sizes } = spatialInput(node, state);
    const name = c.layerName(node);
    const make = sizes.length === 2 ? (mode === 'max' ? L.globalMaxPooling2d : L.globalAveragePooling2d) : (mode === 'max' ? L.globalMaxPooling1d : L.globalAveragePooling1d);
    const ones = sizes.map(() => 1);
    specs.push({ kind: 'other', name, weights: [], make: (base) => make(base) });
    specs.push({ kind: 'other', name: `${name}_keepdims`, weights: [], make: (base) => L.reshape({ ...base, targetShape: [...ones, ch] }) });
    state.shape = [ch, ...ones];
  };
}

/**
 * To one feature axis: an image [C, H, W] is flattened by wasmnn in (h, w, c) order (a sequence [C, L] in (l, c)
 * order), so the state keeps the permutation.
 */
function flattenTo(c: Context, node: OnnxNode, state: State, specs: Spec[]): void {
  if (state.shape.length === 1) return;
  const { ch, sizes } = spatialInput(node, state);
  const positions = sizes.reduce((a, b) => a * b, 1);
  if (ch * positions > MAX_FEATURES) throw fail(node, `it flattens [${state.shape}] into more than ${MAX_FEATURES} features`);
  specs.push({ kind: 'other', name: c.layerName(node), weights: [], make: (base) => L.flatten(base) });
  state.shape = [ch * positions];
  if (ch === 1 || positions === 1) return;
  const perm = new Int32Array(ch * positions);
  for (let p = 0; p < positions; p++) for (let i = 0; i < ch; i++) perm[p * ch + i] = i * positions + p;
  state.perm = perm;
}

const flatten: Op = (c, node, state, specs) => {
  const axis = normAxis(int(node, 'axis', 1), state.shape.length + 1);
  if (axis !== 1) throw fail(node, `axis ${int(node, 'axis', 1)}: only a flatten that keeps the batch axis (axis 1) is supported`);
  if (state.held) {
    // a sequence's values are in wasmnn's order already: only the shape changes (a reshape where an op needs it)
    state.shape = [state.shape.reduce((a, d) => a * d, 1)];
    return;
  }
  flattenTo(c, node, state, specs);
};

/** Reshape to a constant shape whose first axis is the batch: to [batch, -1] (a flatten) or to the same shape. */
const reshape: Op = (c, node, state, specs) => {
  if (state.held) return reshapeSequence(c, node, state);
  const target = c.ints(node.inputs[1] ?? '', node);
  const full = [BATCH, ...state.shape];
  const keepZero = int(node, 'allowzero', 0) === 0;
  const dims = target.map((d, i) => (d === 0 && keepZero ? (i < full.length ? full[i] : NaN) : d));
  const size = state.shape.reduce((a, b) => a * b, 1);
  if (dims.length === 0 || !(dims[0] === BATCH || dims[0] === -1 || (c.staticBatch !== null && dims[0] === c.staticBatch))) {
    throw fail(node, `its shape [${target.map((d) => (d === BATCH ? 'batch' : d))}] does not keep the batch axis first`);
  }
  const rest = dims.slice(1);
  const unknown = rest.filter((d) => d === -1).length;
  if (unknown > 1 || (unknown === 1 && dims[0] === -1) || rest.some((d) => d !== -1 && !(Number.isSafeInteger(d) && d > 0))) {
    throw fail(node, `its shape [${target.map((d) => (d === BATCH ? 'batch' : d))}] is not a shape wasmnn can resolve`);
  }
  const known = rest.reduce((a, d) => (d === -1 ? a : a * d), 1);
  const resolved = rest.map((d) => (d === -1 ? size / known : d));
  if (resolved.reduce((a, b) => a * b, 1) !== size || resolved.some((d) => !Number.isInteger(d))) {
    throw fail(node, `cannot reshape [${state.shape}] (${size} values per sample) to [${resolved}]`);
  }
  if (sameShape(resolved, state.shape)) return;
  if (resolved.length === 1) return flattenTo(c, node, state, specs);
  throw fail(node, `a reshape from [${state.shape}] to [${resolved}] is not supported (only flattening)`);
};

/**
 * Reshape of a sequence, whose batch may be on any axis (PyTorch's Reshape(0, 0, -1) joins a bidirectional LSTM's
 * directions in [steps, batch, 2, hidden]). The axes before the batch and those after it are reshaped apart (so the
 * values keep their order in wasmnn's [batch, ...]): nothing to compute, the shape changes.
 */
function reshapeSequence(c: Context, node: OnnxNode, state: State): void {
  const target = c.ints(node.inputs[1] ?? '', node);
  const full = fullShape(state);
  const keepZero = int(node, 'allowzero', 0) === 0;
  const dims = target.map((d, i) => (d === 0 && keepZero ? (i < full.length ? full[i] : NaN) : d));
  let at = dims.indexOf(BATCH);
  if (at < 0 && (state.batchAxis ?? 0) === 0 && (dims[0] === -1 || (c.staticBatch !== null && dims[0] === c.staticBatch))) at = 0;
  const b = state.batchAxis ?? 0;
  const bad = () => fail(node, `a reshape of ${show(full)} to [${target.map((d) => (d === BATCH ? 'batch' : d))}] does not keep the batch apart from the other axes`);
  if (at < 0 || dims.filter((d, i) => i !== at && (d === BATCH || d === -1)).length > 1 || dims.some((d, i) => i !== at && d !== -1 && !(Number.isSafeInteger(d) && d > 0))) throw bad();
  const size = (a: number[]) => a.reduce((x, d) => x * d, 1);
  // each side's -1 takes what its side has left
  const side = (want: number[], have: number[]) => {
    const known = size(want.filter((d) => d !== -1));
    const out = want.map((d) => (d === -1 ? size(have) / known : d));
    if (size(out) !== size(have) || out.some((d) => !Number.isInteger(d) || d < 1)) throw bad();
    return out;
  };
  const before = side(dims.slice(0, at), state.shape.slice(0, b)), after = side(dims.slice(at + 1), state.shape.slice(b));
  state.shape = [...before, ...after];
  state.batchAxis = before.length;
}

/** Batch norm (inference): per channel of an image, or per feature of a flat tensor (in the permuted order). */
const batchNorm: Op = (c, node, state, specs) => {
  if (int(node, 'training_mode', 0) !== 0) throw fail(node, 'training_mode = 1: export the model in eval mode');
  const features = state.shape.length > 1 ? state.shape[0] : flatInput(node, state);
  const perm = state.shape.length > 1 ? null : state.perm;
  const [gamma, beta, mean, variance] = ['scale', 'bias', 'mean', 'variance'].map((what, i) => permute(perFeature(c, node, i + 1, features, what).slice(), perm));
  const epsilon = float(node, 'epsilon', 1e-5), momentum = float(node, 'momentum', 0.9);
  if (!(epsilon > 0)) throw fail(node, `epsilon ${epsilon} must be > 0`);
  specs.push({
    kind: 'bn', name: c.layerName(node), bias: beta, epsilon,
    weights: [gamma, beta, mean, variance].map((v) => new Tensor(v, [features])),
    // ONNX's momentum is the weight of the running statistics, as wasmnn's is
    make: (base) => L.batchNormalization({ ...base, epsilon, momentum: momentum >= 0 && momentum <= 1 ? momentum : 0.9 }),
  });
};

/** An elementwise activation: folded into the linear dense or conv layer just before it, else its own layer. */
function activation(name: string, alpha?: (n: OnnxNode) => number): Op {
  return (c, node, _state, specs) => {
    const act = { name, alpha: alpha?.(node) };
    const last = lastComputing(specs);
    if ((last?.kind === 'dense' || last?.kind === 'conv') && !last.activation) {
      last.activation = act;
      return;
    }
    specs.push({ kind: 'other', name: c.layerName(node), weights: [], elementwise: true, make: (base) => L.activation({ ...base, activation: act.name, alpha: act.alpha }) });
  };
}

/** Softmax and LogSoftmax over features, or over the channels of an image (held last, as wasmnn's softmax takes). */
function softmax(log: boolean): Op {
  return (c, node, state, specs) => {
    const rank = state.shape.length + 1;
    if (state.held) {
      // a sequence holds its features last, as wasmnn's softmax reads them
      const axis = normAxis(int(node, 'axis', c.opset < 13 ? 1 : -1), rank);
      if (axis !== rank - 1 || (rank > 2 && c.opset < 13) || (state.batchAxis ?? 0) === rank - 1) {
        throw fail(node, `axis ${int(node, 'axis', c.opset < 13 ? 1 : -1)} at opset ${c.opset} on ${show(fullShape(state))}: only a softmax over the last axis (the features) is supported`);
      }
      hold(c, node, state, specs, state.shape);
      const name = c.layerName(node);
      specs.push({ kind: 'other', name, weights: [], make: (base) => (log ? L.logSoftmax(base) : L.activation({ ...base, activation: 'softmax' })) });
      return;
    }
    // before opset 13 the input is seen as 2-D [prod(dims before axis), prod(dims from axis)]; from 13 on, one axis
    const axis = normAxis(int(node, 'axis', c.opset < 13 ? 1 : -1), rank);
    const positions = state.shape.slice(1).reduce((a, b) => a * b, 1);
    const ok = axis === 1 && (rank === 2 || c.opset >= 13 || positions === 1);
    if (!ok) throw fail(node, `axis ${int(node, 'axis', c.opset < 13 ? 1 : -1)} at opset ${c.opset} on [batch, ${state.shape}]: only a softmax over the features (or an image's channels) is supported`);
    const name = c.layerName(node);
    specs.push({ kind: 'other', name, weights: [], make: (base) => (log ? L.logSoftmax(base) : L.activation({ ...base, activation: 'softmax' })) });
  };
}

/** Dropout: PyTorch's eval export drops it; when present it becomes a dropout layer (active only in fit). */
const dropout: Op = (c, node, _state, specs) => {
  const ratio = node.inputs[1] ? c.floats(node, 1, 'ratio')[0] : float(node, 'ratio', 0.5);
  if (!(ratio >= 0 && ratio < 1)) throw fail(node, `ratio ${ratio} must be in [0, 1)`);
  specs.push({ kind: 'other', name: c.layerName(node), weights: [], elementwise: true, make: (base) => L.dropout({ ...base, rate: ratio }) });
};

export const OPS: Record<string, Op> = {
  Gemm: gemm,
  MatMul: matmul,
  Add: addConstant,
  Sub: scalarAffine('Sub'),
  Mul: scalarAffine('Mul'),
  Div: scalarAffine('Div'),
  Conv: conv,
  BatchNormalization: batchNorm,
  Relu: activation('relu'),
  LeakyRelu: activation('leakyRelu', (n) => float(n, 'alpha', 0.01)),
  Elu: activation('elu', (n) => float(n, 'alpha', 1)),
  Sigmoid: activation('sigmoid'),
  Tanh: activation('tanh'),
  Softplus: activation('softplus'),
  Gelu: (c, node, state, specs) => {
    const approximate = node.opType === 'Gelu' ? str(node, 'approximate', 'none') : 'none';
    if (approximate !== 'none' && approximate !== 'tanh') throw fail(node, `approximate '${approximate}' is not an ONNX value`);
    activation(approximate === 'tanh' ? 'geluTanh' : 'gelu')(c, node, state, specs);
  },
  Softmax: softmax(false),
  LogSoftmax: softmax(true),
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
  Flatten: flatten,
  Reshape: reshape,
  Dropout: dropout,
  Identity: () => {},
};
