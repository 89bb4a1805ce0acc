// TF.js layers-format models (model.json + weight files, as tf.LayersModel.save() and tensorflowjs' Keras converter
// write them) into wasmnn Sequential models: Sequential models, and functional models whose layers form one chain.
// model.json's topology names each layer's class and its Keras config in
// snake_case; its weights manifest lists the weights (name, shape, dtype) in the order their bytes follow each other
// in the weight files, group after group. Layers are converted one by one; weights are matched to each wasmnn
// parameter by name (`<layer>/<param>`, e.g. dense_Dense1/kernel), because the manifest's order is TF.js' own
// (batch-norm statistics come after every trainable weight) and need not be wasmnn's. Weights quantized by the
// converter (uint8 / uint16 codes with a scale and min, or float16) are expanded to float32 as TF.js does.
import { Sequential } from '../model/model';
import { Tensor } from '../tensor/tensor';
import type { Layer } from '../layers/layer';
import { Dense } from '../layers/dense';
import { Activation, Dropout, Flatten, Reshape, Rescaling } from '../layers/basic';
import { Conv1D, Conv2D } from '../layers/conv';
import {
  MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D,
  GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
} from '../layers/pooling';
import { BatchNormalization, LayerNormalization } from '../layers/normalization';
import { Embedding } from '../layers/embedding';
import { SimpleRNN, LSTM, GRU } from '../layers/recurrent';
import { Bidirectional, TimeDistributed, type MergeMode } from '../layers/wrappers';
import { ready } from '../backend/module';
import { decodeF16 } from '../checkpoint/codecs';
import { NotFoundError, ShapeError, ValueError, WasmnnError } from '../backend/errors';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Config = Record<string, any>;

/** One weight of the manifest, with where its bytes are in the concatenated weight data. */
interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: Quantization;
  offset: number;
  bytes: number;
}

/** The manifest's `quantization`: w = code * scale + min for uint8 / uint16 codes, or IEEE half floats. */
interface Quantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  scale: number;
  min: number;
}

/** What a converted layer needs beyond its constructor: weights a Keras option left out, filled with a constant. */
interface Converted {
  layer: Layer;
  /** wasmnn parameter name -> the value of every element when the TF.js model has no such weight. */
  implicit?: Record<string, number>;
  /** The manifest's name of parameter i (once built), where it is not `<layer>/<param>` (wrapped layers). */
  weightName?: (i: number) => string;
}

type Converter = (c: Config, base: Config) => Converted;

/** TF.js / Keras class name -> the wasmnn layer for its config. base holds name, trainable and the input shape. */
const CONVERTERS: Record<string, Converter> = {
  Dense: (c, base) => ({ layer: new Dense({ ...base, units: c.units, activation: activation(c.activation), useBias: c.use_bias ?? true }) }),
  Conv2D: (c, base) => ({ layer: new Conv2D(convArgs(c, base)) }),
  Conv1D: (c, base) => ({ layer: new Conv1D(convArgs(c, base)) }),
  MaxPooling2D: (c, base) => ({ layer: new MaxPooling2D(poolArgs(c, base)) }),
  MaxPooling1D: (c, base) => ({ layer: new MaxPooling1D(poolArgs(c, base)) }),
  AveragePooling2D: (c, base) => ({ layer: new AveragePooling2D(poolArgs(c, base)) }),
  AveragePooling1D: (c, base) => ({ layer: new AveragePooling1D(poolArgs(c, base)) }),
  GlobalAveragePooling2D: (c, base) => ({ layer: new GlobalAveragePooling2D(globalPoolArgs(c, base)) }),
  GlobalAveragePooling1D: (c, base) => ({ layer: new GlobalAveragePooling1D(globalPoolArgs(c, base)) }),
  GlobalMaxPooling2D: (c, base) => ({ layer: new GlobalMaxPooling2D(globalPoolArgs(c, base)) }),
  GlobalMaxPooling1D: (c, base) => ({ layer: new GlobalMaxPooling1D(globalPoolArgs(c, base)) }),
  Flatten: (c, base) => (channelsLast(c), { layer: new Flatten(base) }),
  Dropout: (c, base) => ({ layer: new Dropout({ ...base, rate: c.rate }) }),
  Reshape: (c, base) => ({ layer: new Reshape({ ...base, targetShape: c.target_shape }) }),
  Rescaling: (c, base) => ({ layer: new Rescaling({ ...base, scale: c.scale, offset: c.offset ?? 0 }) }),
  Activation: (c, base) => ({ layer: new Activation({ ...base, activation: activation(c.activation) }) }),
  ReLU: (c, base) => {
    if ((c.max_value ?? null) !== null || (c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) {
      throw new ValueError('only a plain ReLU (no max_value, negative_slope or threshold) can be imported');
    }
    return { layer: new Activation({ ...base, activation: 'relu' }) };
  },
  LeakyReLU: (c, base) => ({ layer: new Activation({ ...base, activation: 'leakyRelu', alpha: c.alpha ?? c.negative_slope ?? 0.3 }) }),
  ELU: (c, base) => ({ layer: new Activation({ ...base, activation: 'elu', alpha: c.alpha ?? 1 }) }),
  Softmax: (c, base) => {
    if (lastAxis(c.axis ?? -1) !== -1) throw new ValueError(`only a softmax over the last axis can be imported, got axis ${JSON.stringify(c.axis)}`);
    return { layer: new Activation({ ...base, activation: 'softmax' }) };
  },
  BatchNormalization: (c, base) => ({
    layer: new BatchNormalization({ ...base, axis: lastAxis(c.axis ?? -1), momentum: c.momentum ?? 0.99, epsilon: c.epsilon ?? 1e-3 }),
    implicit: { ...(c.scale === false ? { gamma: 1 } : {}), ...(c.center === false ? { beta: 0 } : {}) },
  }),
  Embedding: (c, base) => ({ layer: new Embedding({ ...base, inputDim: c.input_dim, outputDim: c.output_dim, maskZero: c.mask_zero ?? false }) }),
  // an imported model keeps its own activations and GRU form: TF.js writes hard_sigmoid, and no reset_after (its GRU
  // resets before the recurrent product, Keras 2's default)
  SimpleRNN: (c, base) => ({ layer: new SimpleRNN(recurrentArgs(c, base)) }),
  LSTM: (c, base) => ({ layer: new LSTM({ ...recurrentArgs(c, base), unitForgetBias: c.unit_forget_bias ?? true }) }),
  GRU: (c, base) => ({ layer: new GRU({ ...recurrentArgs(c, base), resetAfter: c.reset_after ?? false }) }),
  // a wrapper's inner layer is converted as a layer of its own; its weights are named under the wrapper's name
  // (TF.js: <bidirectional>/forward_<layer>/kernel, <bidirectional>/backward_<layer>/kernel, <timeDistributed>/kernel)
  Bidirectional: (c, base) => {
    const inner = wrapped(c, { name: c.layer?.config?.name ?? 'layer' });
    const layer = new Bidirectional({ ...base, layer: inner.layer, mergeMode: (c.merge_mode ?? 'concat') as MergeMode });
    const weightName = (i: number) => {
      const forward = layer.forwardLayer.params, backward = layer.backwardLayer.params;
      return i < forward.length
        ? `${base.name}/forward_${inner.layer.name}/${forward[i].name}`
        : `${base.name}/backward_${inner.layer.name}/${backward[i - forward.length].name}`;
    };
    return { layer, weightName };
  },
  TimeDistributed: (c, base) => {
    const inner = wrapped(c, { name: c.layer?.config?.name ?? 'layer' });
    return { layer: new TimeDistributed({ ...base, layer: inner.layer }), weightName: (i: number) => `${base.name}/${inner.layer.params[i].name}` };
  },
  LayerNormalization: (c, base) => ({
    layer: new LayerNormalization({ ...base, axis: lastAxis(c.axis ?? -1), epsilon: c.epsilon ?? 1e-3 }),
    implicit: { ...(c.scale === false ? { gamma: 1 } : {}), ...(c.center === false ? { beta: 0 } : {}) },
  }),
};

/** The TF.js layer classes this importer converts (InputLayer is read for the input shape). */
export const TFJS_LAYERS: readonly string[] = ['InputLayer', ...Object.keys(CONVERTERS)];

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/**
 * A TF.js layers-format model as a wasmnn Sequential model (after nn.ready()). modelJson is model.json's object or
 * text; weights is its weight files' bytes, the manifest's groups (and each group's paths) concatenated in order,
 * or a list of them in that order.
 */
export function loadTfjsModel(modelJson: object | string, weights: ArrayBuffer | Uint8Array | (Uint8Array | ArrayBuffer)[]): Sequential {
  const json = parseJson(modelJson);
  const layerConfigs = modelLayers(json);
  const manifest = readManifest(json);
  const data = concatBytes(weights);
  const needed = manifest.reduce((a, w) => a + w.bytes, 0);
  if (data.length !== needed) {
    throw new ShapeError(`tfjs model: the weights manifest describes ${needed} bytes, the weight data has ${data.length}`);
  }
  const converted = convertLayers(layerConfigs);
  const model = new Sequential({ layers: converted.map((c) => c.layer), name: modelName(json), seed: 0 });
  try {
    void model.network; // builds the layers: their parameters are known from here on
    model.setWeights(converted.flatMap((c) => c.layer.params.map((p, i) => weightFor(c, p.name, p.shape, manifest, data, c.weightName?.(i)))));
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * Loads model.json and its weight files, which are found relative to it: a URL (fetched), or a file path or
 * file: URL in Node, Deno and Bun.
 */
export async function loadTfjsModelFrom(source: string | URL): Promise<Sequential> {
  const base = location(source);
  await ready();
  const json = parseJson(new TextDecoder().decode(await readBytes(base)));
  const groups = Array.isArray(json.weightsManifest) ? json.weightsManifest : [];
  const paths = groups.flatMap((g: Config, i: number) => {
    if (!Array.isArray(g?.paths) || g.paths.some((p: unknown) => typeof p !== 'string')) throw new ValueError(`tfjs model: weightsManifest[${i}].paths must be a list of file names`);
    return g.paths as string[];
  });
  const files = await Promise.all(paths.map((p) => readBytes(relative(base, p))));
  return loadTfjsModel(json, files);
}

// ------------------------------------------------------------------------------------------------ topology

function parseJson(modelJson: object | string): Config {
  if (typeof modelJson === 'string') {
    try {
      modelJson = JSON.parse(modelJson) as object;
    } catch (e) {
      throw new ValueError(`tfjs model: model.json is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (modelJson === null || typeof modelJson !== 'object' || Array.isArray(modelJson)) {
    throw new ValueError(`tfjs model: model.json must be an object, got ${modelJson === null ? 'null' : typeof modelJson}`);
  }
  return modelJson as Config;
}

/** The topology: model.json's modelTopology, which Keras' converter wraps in model_config. */
function topologyOf(json: Config): Config {
  let t = json.modelTopology ?? json;
  if (t && t.model_config) t = t.model_config;
  if (!t || typeof t !== 'object') throw new ValueError('tfjs model: model.json has no modelTopology');
  return t;
}

/** The model's layer configs in order: a Sequential model's, or a functional model's when they form one chain. */
function modelLayers(json: Config): Config[] {
  const t = topologyOf(json);
  if (t.class_name === 'Model' || t.class_name === 'Functional') return chainLayers(t.config ?? {}, t.class_name);
  if (t.class_name !== 'Sequential') {
    throw new ValueError(`tfjs model: only Sequential models and functional models that are plain chains can be imported, this one is a ${String(t.class_name)}`);
  }
  const layers = Array.isArray(t.config) ? t.config : t.config?.layers;
  if (!Array.isArray(layers) || layers.length === 0) throw new ValueError('tfjs model: the Sequential model has no layers');
  return layers;
}

/**
 * A functional model (TF.js 'Model', Keras 'Functional') whose layers form one chain: one input, one output, and
 * every layer fed by exactly one layer and feeding at most one, so it is a Sequential model written as a graph.
 * Its layers are returned from the input to the output. inbound_nodes are TF.js' [[[layer, node, tensor, kwargs]]].
 */
function chainLayers(c: Config, kind: string): Config[] {
  const fail = (why: string) => new ValueError(`tfjs model: a ${kind} model can be imported only when its layers form one chain (one input, one output, each layer fed by the one before); ${why}`);
  const layers = c.layers;
  if (!Array.isArray(layers) || layers.length === 0) throw fail('this one has no layers');
  const nameOf = (l: Config): unknown => l?.name ?? l?.config?.name;
  const end = (list: unknown, what: string): unknown => {
    if (!Array.isArray(list) || list.length !== 1 || !Array.isArray(list[0])) throw fail(`it has ${Array.isArray(list) ? list.length : 'no'} ${what}`);
    return list[0][0];
  };
  const input = end(c.input_layers, 'inputs'), output = end(c.output_layers, 'outputs');
  const byName = new Map<unknown, Config>(layers.map((l: Config) => [nameOf(l), l]));
  const consumer = new Map<unknown, Config>();
  for (const l of layers) {
    const nodes = l?.inbound_nodes;
    if (l?.class_name === 'InputLayer') continue;
    if (!Array.isArray(nodes) || nodes.length !== 1 || !Array.isArray(nodes[0]) || nodes[0].length !== 1 || !Array.isArray(nodes[0][0])) {
      throw fail(`layer '${String(nameOf(l))}' is not applied once to one input`);
    }
    const from = nodes[0][0][0];
    if (consumer.has(from)) throw fail(`layer '${String(from)}' feeds more than one layer`);
    consumer.set(from, l);
  }
  const order: Config[] = [];
  for (let l = byName.get(input); l && order.length < layers.length; l = consumer.get(nameOf(l))) order.push(l);
  if (order.length !== layers.length || nameOf(order[order.length - 1]) !== output) {
    throw fail(`not every layer is on the path from '${String(input)}' to '${String(output)}'`);
  }
  return order;
}

function modelName(json: Config): string | undefined {
  const name = topologyOf(json).config?.name;
  return typeof name === 'string' && name ? name : undefined;
}

function convertLayers(configs: Config[]): Converted[] {
  let inputShape: (number | null)[] | undefined;
  const out: Converted[] = [];
  configs.forEach((entry, i) => {
    const className = entry?.class_name;
    const c: Config = entry?.config ?? {};
    const name = typeof c.name === 'string' && c.name ? c.name : `layer_${i}`;
    if (typeof className !== 'string') throw new ValueError(`tfjs model: layer ${i} has no class_name`);
    const shape = c.batch_input_shape ?? c.batch_shape;
    if (className === 'InputLayer') {
      inputShape = sampleShape(shape, name);
      return;
    }
    const convert = CONVERTERS[className];
    if (!convert) {
      throw new NotFoundError(`tfjs model: layer '${name}' is a ${className}, which wasmnn cannot import; it imports ${TFJS_LAYERS.join(', ')}`);
    }
    const base: Config = { name, trainable: c.trainable ?? true };
    if (out.length === 0) {
      const given = shape ? sampleShape(shape, name) : inputShape;
      if (!given) throw new ShapeError(`tfjs model: the first layer '${name}' has no batch_input_shape`);
      base.inputShape = given;
    }
    try {
      out.push(convert(c, base));
    } catch (e) {
      const Err = e instanceof WasmnnError ? (e.constructor as new (m: string) => WasmnnError) : ValueError;
      throw new Err(`tfjs model: layer '${name}' (${className}): ${(e as Error)?.message ?? String(e)}`);
    }
  });
  if (out.length === 0) throw new ValueError('tfjs model: the model has no layers besides its input');
  return out;
}

/**
 * [null, ...dims] -> dims. Every dimension must be known but a sequence's steps, the first of dims: TF.js writes
 * [null, null, ...] for a model built with inputShape [null, ...], and wasmnn plans such a model per (batch, steps).
 */
function sampleShape(shape: unknown, name: string): (number | null)[] {
  if (!Array.isArray(shape) || shape.length < 2) throw new ShapeError(`tfjs model: layer '${name}' has no valid batch_input_shape: ${JSON.stringify(shape)}`);
  const dims = shape.slice(1);
  if (dims.some((d, i) => !(Number.isInteger(d) && d >= 1) && !(i === 0 && d === null))) {
    throw new ShapeError(`tfjs model: layer '${name}' has input shape ${JSON.stringify(shape)}; wasmnn needs every dimension known but the batch and a sequence's steps (the first after the batch)`);
  }
  return dims as (number | null)[];
}

function activation(name: unknown): string {
  if (name === undefined || name === null) return 'linear';
  if (typeof name !== 'string') throw new ValueError(`activation must be a name, got ${JSON.stringify(name)}`);
  return name;
}

function channelsLast(c: Config): void {
  const format = c.data_format ?? 'channels_last';
  if (format !== 'channels_last') throw new ValueError(`data_format '${format}' is not supported; wasmnn is channels_last`);
}

/** Keras' axis: -1, the last index, or a one-element list of either. */
function lastAxis(axis: unknown): number {
  const a = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
  if (typeof a !== 'number') throw new ValueError(`only one normalisation axis (the last) is supported, got ${JSON.stringify(axis)}`);
  return a;
}

function convArgs(c: Config, base: Config) {
  channelsLast(c);
  if ((c.groups ?? 1) !== 1) throw new ValueError(`grouped convolutions (groups ${c.groups}) are not supported`);
  return {
    ...base, filters: c.filters, kernelSize: c.kernel_size, strides: c.strides ?? 1, padding: c.padding ?? 'valid',
    dilationRate: c.dilation_rate ?? 1, activation: activation(c.activation), useBias: c.use_bias ?? true,
  };
}

/** The layer inside a wrapper's config, converted. */
function wrapped(c: Config, base: Config): Converted {
  const className = c.layer?.class_name;
  const convert = typeof className === 'string' ? CONVERTERS[className] : undefined;
  if (!convert || className === 'Bidirectional' || className === 'TimeDistributed') {
    throw new NotFoundError(`the wrapped layer is a ${String(className)}, which wasmnn cannot import inside a wrapper`);
  }
  return convert(c.layer.config ?? {}, base);
}

function recurrentArgs(c: Config, base: Config) {
  if (c.stateful) throw new ValueError('stateful recurrent layers are not supported');
  if (c.unroll) throw new ValueError('unroll is not supported');
  return {
    ...base, units: c.units, activation: activation(c.activation ?? 'tanh'), recurrentActivation: activation(c.recurrent_activation ?? 'hard_sigmoid'),
    useBias: c.use_bias ?? true, returnSequences: c.return_sequences ?? false, goBackwards: c.go_backwards ?? false,
    dropout: c.dropout ?? 0, recurrentDropout: c.recurrent_dropout ?? 0,
  };
}

function poolArgs(c: Config, base: Config) {
  channelsLast(c);
  return { ...base, poolSize: c.pool_size ?? 2, strides: c.strides ?? undefined, padding: c.padding ?? 'valid' };
}

function globalPoolArgs(c: Config, base: Config) {
  channelsLast(c);
  if (c.keepdims) throw new ValueError('keepdims is not supported');
  return base;
}

// ------------------------------------------------------------------------------------------------ weights

function readManifest(json: Config): ManifestEntry[] {
  const groups = json.weightsManifest ?? [];
  if (!Array.isArray(groups)) throw new ValueError('tfjs model: weightsManifest must be a list of weight groups');
  const out: ManifestEntry[] = [];
  let offset = 0;
  groups.forEach((g: Config, gi: number) => {
    if (!Array.isArray(g?.weights)) throw new ValueError(`tfjs model: weightsManifest[${gi}].weights must be a list`);
    g.weights.forEach((w: Config, wi: number) => {
      const where = `weightsManifest[${gi}].weights[${wi}]`;
      if (typeof w?.name !== 'string' || !Array.isArray(w.shape) || w.shape.some((d: unknown) => !Number.isInteger(d) || (d as number) < 0)) {
        throw new ValueError(`tfjs model: ${where} needs a name and a shape of whole numbers`);
      }
      const quantization = w.quantization === undefined ? undefined : readQuantization(w.quantization, w.name);
      const dtype = String(quantization?.dtype ?? w.dtype ?? 'float32');
      const per = DTYPE_BYTES[dtype];
      if (per === undefined) throw new ValueError(`tfjs model: weight '${w.name}' has dtype '${dtype}', which wasmnn cannot read`);
      const bytes = w.shape.reduce((a: number, b: number) => a * b, 1) * per;
      out.push({ name: w.name.replace(/:0$/, ''), shape: w.shape, dtype: String(w.dtype ?? 'float32'), quantization, offset, bytes });
      offset += bytes;
    });
  });
  return out;
}

/** A manifest entry's `quantization`, checked as TF.js checks it (uint8 / uint16 need a finite scale and min). */
function readQuantization(q: Config, name: string): Quantization {
  const dtype = q?.dtype;
  if (dtype !== 'uint8' && dtype !== 'uint16' && dtype !== 'float16') {
    throw new ValueError(`tfjs model: weight '${name}' has quantization dtype ${JSON.stringify(dtype)}; TF.js quantizes to 'uint8', 'uint16' or 'float16'`);
  }
  if (dtype === 'float16') return { dtype, scale: 1, min: 0 };
  if (!Number.isFinite(q.scale) || !Number.isFinite(q.min)) {
    throw new ValueError(`tfjs model: weight '${name}' is quantized to ${dtype} without a finite scale and min (got ${JSON.stringify(q.scale)}, ${JSON.stringify(q.min)})`);
  }
  return { dtype, scale: q.scale, min: q.min };
}

function concatBytes(weights: ArrayBuffer | Uint8Array | (Uint8Array | ArrayBuffer)[]): Uint8Array {
  if (weights instanceof ArrayBuffer) return new Uint8Array(weights);
  if (weights instanceof Uint8Array) return weights;
  const list: unknown[] = Array.isArray(weights) ? weights : [];
  if (!Array.isArray(weights) || list.some((w) => !(w instanceof Uint8Array || w instanceof ArrayBuffer))) {
    throw new ValueError('tfjs model: weights must be an ArrayBuffer, a Uint8Array or a list of them (the weight files in order)');
  }
  const parts = list.map((w) => (w instanceof Uint8Array ? w : new Uint8Array(w as ArrayBuffer)));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The wasmnn parameter's values: the manifest's `<layer>/<param>` weight (or one under a scope ending so). */
function weightFor(c: Converted, param: string, shape: number[], manifest: ManifestEntry[], data: Uint8Array, name?: string): Tensor {
  const layer = c.layer.name;
  const key = name ?? `${layer}/${param}`;
  const entry = manifest.find((w) => w.name === key) ?? manifest.find((w) => w.name.endsWith(`/${key}`));
  const size = shape.reduce((a, b) => a * b, 1);
  if (!entry) {
    const fill = c.implicit?.[param];
    if (fill !== undefined) return new Tensor(new Float32Array(size).fill(fill), shape);
    throw new NotFoundError(`tfjs model: weight '${key}' (shape [${shape}]) is not in the weights manifest`);
  }
  if (entry.dtype !== 'float32') {
    throw new ValueError(`tfjs model: weight '${entry.name}' is stored as ${entry.quantization ? `${entry.dtype} quantized to ${entry.quantization.dtype}` : entry.dtype}; wasmnn imports float32 weights only`);
  }
  const entrySize = entry.shape.reduce((a, b) => a * b, 1);
  if (entrySize !== size || entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`tfjs model: weight '${entry.name}' has shape [${entry.shape}], layer '${layer}' needs [${shape}]`);
  }
  // copy (the offset need not be aligned) and read little-endian whatever the platform
  const view = new DataView(data.buffer, data.byteOffset + entry.offset, entry.bytes);
  const values = new Float32Array(size);
  const q = entry.quantization;
  if (!q) for (let i = 0; i < size; i++) values[i] = view.getFloat32(i * 4, true);
  else if (q.dtype === 'float16') values.set(decodeF16(data, entry.offset, size));
  else {
    // TF.js' own expansion: code * scale + min in double precision, rounded once to float32
    const code = q.dtype === 'uint8' ? (i: number) => view.getUint8(i) : (i: number) => view.getUint16(i * 2, true);
    for (let i = 0; i < size; i++) values[i] = code(i) * q.scale + q.min;
  }
  return new Tensor(values, shape);
}

// ------------------------------------------------------------------------------------------------ files and URLs

interface RuntimeGlobals {
  Deno?: { readFile(p: string | URL): Promise<Uint8Array> };
  process?: { versions?: { node?: string } };
}
const g = globalThis as unknown as RuntimeGlobals;

/** Where model.json is: a URL to fetch, or a file (a path, or a file: URL) where there is a file system. */
type Location = { kind: 'url'; url: URL | string } | { kind: 'file'; path: string | URL };

function location(source: string | URL): Location {
  if (source instanceof URL) return source.protocol === 'file:' ? { kind: 'file', path: source } : { kind: 'url', url: source };
  if (typeof source !== 'string' || !source) throw new ValueError(`loadTfjsModelFrom takes a path or URL of model.json, got ${String(source)}`);
  if (/^file:/i.test(source)) return { kind: 'file', path: new URL(source) };
  if (/^[a-z][a-z0-9+.-]*:/i.test(source) && !/^[a-z]:[\\/]/i.test(source)) return { kind: 'url', url: source };
  return g.Deno || g.process?.versions?.node ? { kind: 'file', path: source } : { kind: 'url', url: source };
}

/** A weight file named in the manifest, beside model.json. */
function relative(base: Location, path: string): Location {
  if (base.kind === 'file') {
    if (base.path instanceof URL) return { kind: 'file', path: new URL(path, base.path) };
    const cut = Math.max(base.path.lastIndexOf('/'), base.path.lastIndexOf('\\'));
    return { kind: 'file', path: base.path.slice(0, cut + 1) + path };
  }
  const pageBase = (globalThis as { location?: { href: string } }).location?.href;
  return { kind: 'url', url: new URL(path, new URL(String(base.url), pageBase)) };
}

async function readBytes(where: Location): Promise<Uint8Array> {
  if (where.kind === 'url') {
    let response: Response;
    try {
      response = await fetch(where.url);
    } catch (e) {
      throw new NotFoundError(`could not fetch ${String(where.url)}: ${(e as Error).message}`);
    }
    if (!response.ok) throw new NotFoundError(`could not fetch ${String(where.url)}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }
  try {
    if (g.Deno) return await g.Deno.readFile(where.path);
    const name = 'node:fs/promises'; // a variable, so bundlers for the browser leave it alone
    const fs = (await import(/* @vite-ignore */ name)) as { readFile(p: string | URL): Promise<Uint8Array> };
    return new Uint8Array(await fs.readFile(where.path));
  } catch (e) {
    const err = e as { code?: string; name?: string };
    if (err?.code === 'ENOENT' || err?.name === 'NotFound') throw new NotFoundError(`no file at ${String(where.path)}`);
    throw e;
  }
}
