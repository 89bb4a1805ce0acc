// The checkpoint format: one little-endian binary that every runtime writes and reads bit for bit.
//
//   0   "WNN1"                 magic
//   4   u32 version            1
//   8   u32 flags              bit 0: training state present; bits 1-2: weight encoding (0 f32, 1 f16, 2 int8)
//   12  u32 jsonLength
//   16  topology JSON (UTF-8): name, seed, inputShape, layers [{className, config}], compile {optimizer, loss,
//       metrics} or null, iterations, epoch?, stateArrays?, weights [{layer, name, shape, trainable}]
//       -> zero padding to a multiple of 4
//   weights in manifest order: f32; or f16; or int8: (min, scale) f32 pairs for every tensor, then 8-bit codes c
//       in 0..255 with w = min + scale·c (per-tensor affine)
//       -> zero padding to a multiple of 4
//   [flag bit 0] stateArrays optimiser arrays of n f32 each (n = trainable floats), then the 16-byte training
//       random stream (shuffles, dropout masks), so fit() continues exactly where it stopped
//   u32 CRC-32 (IEEE) of every byte before it
//
// Reading checks everything before any module memory is touched, and each problem is a typed error naming it.
import { Sequential } from './model';
import { sameShape, type Layer } from './layers/layer';
import { layerFromConfig } from './layers/registry';
import { SGD, Momentum, RMSProp, Adagrad, Adam, AdamW, type Optimizer } from './optimizers';
import { exponentialDecay, stepDecay, cosineDecay, cosineDecayRestarts, warmup, type Schedule } from './schedules';
import { resolveLoss, huber, LOSS_NAMES, type Loss } from './losses';
import { NotFoundError, ShapeError, StateError, ValueError, WasmnnError } from './errors';

export const CHECKPOINT_VERSION = 1;
const MAGIC = [0x57, 0x4e, 0x4e, 0x31]; // "WNN1"
const HEADER = 16;
const RNG_BYTES = 16;
const ENCODINGS = ['f32', 'f16', 'int8'] as const;
type Encoding = (typeof ENCODINGS)[number];
const BYTES_PER_WEIGHT: Record<Encoding, number> = { f32: 4, f16: 2, int8: 1 };
const MAX_FLOATS = 2 ** 31; // more than any module memory holds

export interface SaveOptions {
  /** Keep the compile settings, the optimiser's state and step count and the training random stream, so that
   *  fit() resumes exactly (default true). false: topology and weights only; the loaded model is not compiled. */
  includeOptimizer?: boolean;
  /** Weight storage: 'f32' (exact, default), 'f16' (half the size), 'int8' (a quarter: per-tensor affine). */
  weights?: Encoding;
  /** Epochs done so far, kept for fit(..., { initialEpoch }); checkpointInfo() reads it back. */
  epoch?: number;
}

interface WeightEntry {
  layer: string;
  name: string;
  shape: number[];
  trainable: boolean;
}

interface Topology {
  name: string;
  seed: number;
  inputShape: number[];
  layers: { className: string; config: Record<string, unknown> }[];
  compile: { optimizer: NamedConfig; loss: NamedConfig; metrics: string[] } | null;
  iterations: number;
  epoch?: number;
  stateArrays?: number;
  weights: WeightEntry[];
}

interface NamedConfig {
  name: string;
  config: Record<string, unknown>;
}

/** What a checkpoint holds, read without building the model. */
export interface CheckpointInfo {
  version: number;
  bytes: number;
  name: string;
  seed: number;
  inputShape: number[];
  layers: { className: string; name: string }[];
  /** The compile settings, or null when the model was saved uncompiled or without its optimiser. */
  compile: { optimizer: string; loss: string; metrics: string[] } | null;
  weights: Encoding;
  params: number;
  /** Whether the optimiser state and training random stream are there (training resumes exactly). */
  trainingState: boolean;
  iterations: number;
  epoch: number | undefined;
}

// ---------------------------------------------------------------------------------------------------- writing

/** The model as checkpoint bytes (builds the model first if it has not been used yet). */
export function saveModel(model: Sequential, options: SaveOptions = {}): Uint8Array {
  if (!(model instanceof Sequential)) throw new ValueError(`saveModel takes a Sequential model, got ${describe(model)}`);
  if (model.isDisposed) throw new StateError(`model '${model.name}' was disposed; there is nothing to save`);
  const { includeOptimizer = true, weights: encoding = 'f32', epoch } = checkSaveOptions(options);
  const net = model.network;
  const f32 = net.env.heap.f32;
  const compiled = includeOptimizer ? compiledOrNull(model) : null;
  const params = net.layers.flatMap((l) => l.params.map((p) => ({ layer: l.name, p })));
  const manifest: WeightEntry[] = params.map(({ layer, p }) => ({ layer, name: p.name, shape: p.shape.slice(), trainable: p.trainable }));
  params.forEach(({ layer, p }) => checkFinite(f32, p.ptr >> 2, p.size, `weight ${layer}/${p.name}`));

  const total = params.reduce((a, { p }) => a + p.size, 0);
  const weightBytes = new Uint8Array(align4(weightSectionBytes(encoding, total, params.length)));
  let at = encoding === 'int8' ? params.length * 8 : 0;
  params.forEach(({ layer, p }, i) => {
    const values = f32.subarray(p.ptr >> 2, (p.ptr >> 2) + p.size);
    if (encoding === 'f32') weightBytes.set(net.env.heap.u8.subarray(p.ptr, p.ptr + p.size * 4), at);
    else if (encoding === 'f16') encodeF16(values, weightBytes, at, `${layer}/${p.name}`);
    else encodeInt8(values, weightBytes, i * 8, at);
    at += p.size * BYTES_PER_WEIGHT[encoding];
  });

  let compile: Topology['compile'] = null;
  let stateBytes: Uint8Array | null = null;
  if (compiled) {
    compile = {
      optimizer: { name: compiled.optimizer.name, config: compiled.optimizer.getConfig() },
      loss: { name: compiled.loss.name, config: { ...compiled.loss.config } },
      metrics: compiled.metrics.slice(),
    };
    checkRevivable(compile);
    const { states, n } = net.block;
    states.forEach((ptr, i) => checkFinite(f32, ptr >> 2, n, `optimizer state ${i}`));
    stateBytes = new Uint8Array(states.length * n * 4 + RNG_BYTES);
    states.forEach((ptr, i) => stateBytes!.set(net.env.heap.u8.subarray(ptr, ptr + n * 4), i * n * 4));
    stateBytes.set(net.env.heap.u8.subarray(net.env.rng, net.env.rng + RNG_BYTES), states.length * n * 4);
  }
  const topology: Topology = {
    name: model.name,
    seed: model.seed,
    inputShape: model.inputShape,
    layers: net.layers.map((l) => ({ className: l.className, config: l.getConfig() })),
    compile,
    iterations: model.iterations,
    ...(epoch !== undefined ? { epoch } : {}),
    ...(compiled ? { stateArrays: net.block.states.length } : {}),
    weights: manifest,
  };
  const json = new TextEncoder().encode(JSON.stringify(topology));
  const weightsAt = align4(HEADER + json.length);
  const stateAt = weightsAt + weightBytes.length;
  const crcAt = stateAt + (stateBytes?.length ?? 0);
  const out = new Uint8Array(crcAt + 4);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, CHECKPOINT_VERSION, true);
  view.setUint32(8, (compiled ? 1 : 0) | (ENCODINGS.indexOf(encoding) << 1), true);
  view.setUint32(12, json.length, true);
  out.set(json, HEADER);
  out.set(weightBytes, weightsAt);
  if (stateBytes) out.set(stateBytes, stateAt);
  view.setUint32(crcAt, crc32(out, 0, crcAt), true);
  return out;
}

function checkSaveOptions(options: SaveOptions): SaveOptions {
  if (options === null || typeof options !== 'object') throw new ValueError(`save options must be an object, got ${describe(options)}`);
  const { includeOptimizer, weights, epoch } = options;
  if (includeOptimizer !== undefined && typeof includeOptimizer !== 'boolean') throw new ValueError(`includeOptimizer must be true or false, got ${String(includeOptimizer)}`);
  if (weights !== undefined && !ENCODINGS.includes(weights)) throw new ValueError(`weights must be one of ${ENCODINGS.join(', ')}, got ${String(weights)}`);
  if (epoch !== undefined && !(Number.isSafeInteger(epoch) && epoch >= 0)) throw new ValueError(`epoch must be a whole number >= 0, got ${String(epoch)}`);
  return options;
}

function compiledOrNull(model: Sequential) {
  return model.isCompiled ? model.compiledWith : null;
}

/** The loader must rebuild the same optimiser and loss; a custom one cannot be saved (say so now, not at load). */
function checkRevivable(compile: NonNullable<Topology['compile']>): void {
  try {
    const optimizer = reviveOptimizer(compile.optimizer);
    const loss = reviveLoss(compile.loss);
    const same = optimizer.name === compile.optimizer.name && JSON.stringify(optimizer.getConfig()) === JSON.stringify(compile.optimizer.config) &&
      loss.name === compile.loss.name && JSON.stringify(loss.config) === JSON.stringify(compile.loss.config);
    if (!same) throw new ValueError('the rebuilt settings differ from the model\'s');
  } catch (e) {
    throw new ValueError(`cannot save the compile settings (optimizer '${compile.optimizer.name}', loss '${compile.loss.name}'): ` +
      `${(e as Error).message}; save with { includeOptimizer: false } to keep the topology and weights only`);
  }
}

function checkFinite(f32: Float32Array, from: number, n: number, what: string): void {
  for (let i = 0; i < n; i++) {
    const v = f32[from + i];
    if (v - v !== 0) throw new ValueError(`${what} holds ${v} at index ${i}; a checkpoint holds finite numbers only`);
  }
}

// ---------------------------------------------------------------------------------------------------- reading

/** Rebuilds a saved model: topology, weights and, when saved with it, the compiled optimiser's exact state. */
export function loadModel(bytes: Uint8Array | ArrayBuffer): Sequential {
  const file = readCheckpoint(bytes);
  const { topology: t } = file;
  const layers = reviveLayers(t);
  const compile = t.compile ? { optimizer: reviveOptimizer(t.compile.optimizer), loss: reviveLoss(t.compile.loss), metrics: t.compile.metrics } : null;
  if (compile && file.trainingState && compile.optimizer.stateCount !== t.stateArrays) {
    throw new ShapeError(`checkpoint: optimizer '${compile.optimizer.name}' keeps ${compile.optimizer.stateCount} state arrays, the file holds ${t.stateArrays}`);
  }
  const weights = decodeWeights(file);
  const states = file.trainingState ? decodeStates(file) : null;
  // everything is valid: only now touch module memory
  const model = new Sequential({ layers, name: t.name, seed: t.seed });
  try {
    const net = model.network;
    if (compile) model.compile(compile);
    const f32 = net.env.heap.f32;
    net.layers.flatMap((l) => l.params).forEach((p, i) => f32.set(weights[i], p.ptr >> 2));
    if (states) {
      net.block.states.forEach((ptr, i) => net.env.heap.f32.set(states.arrays[i], ptr >> 2));
      net.env.heap.u8.set(states.rng, net.env.rng);
    }
    model.iterations = t.iterations; // compile() starts a new count; a resumed optimiser continues this one
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** What a checkpoint holds (fully validated as a file, without building the model). */
export function checkpointInfo(bytes: Uint8Array | ArrayBuffer): CheckpointInfo {
  const { topology: t, encoding, trainingState, length } = readCheckpoint(bytes);
  return {
    version: CHECKPOINT_VERSION, bytes: length, name: t.name, seed: t.seed, inputShape: t.inputShape.slice(),
    layers: t.layers.map((l) => ({ className: l.className, name: typeof l.config.name === 'string' ? l.config.name : '' })),
    compile: t.compile ? { optimizer: t.compile.optimizer.name, loss: t.compile.loss.name, metrics: t.compile.metrics.slice() } : null,
    weights: encoding, params: t.weights.reduce((a, w) => a + size(w.shape), 0),
    trainingState, iterations: t.iterations, epoch: t.epoch,
  };
}

export interface CheckpointFile {
  bytes: Uint8Array;
  length: number;
  topology: Topology;
  encoding: Encoding;
  trainingState: boolean;
  weightsAt: number;
  stateAt: number;
  trainableFloats: number;
}

/** The file's layout and topology, with every byte accounted for and the checksum verified. */
export function readCheckpoint(input: Uint8Array | ArrayBuffer): CheckpointFile {
  const bytes = asBytes(input);
  const length = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  if (MAGIC.some((b, i) => i < length && bytes[i] !== b)) {
    throw new ValueError(`not a wasmnn checkpoint: it starts with ${hex(bytes.subarray(0, 4))}, not "WNN1"`);
  }
  if (length < HEADER + 4) throw new ValueError(`checkpoint truncated: ${length} bytes, less than the ${HEADER + 4}-byte header and checksum`);
  const version = view.getUint32(4, true);
  if (version > CHECKPOINT_VERSION) throw new ValueError(`checkpoint format version ${version} is newer than this wasmnn reads (${CHECKPOINT_VERSION}): update wasmnn`);
  if (version < 1) throw new ValueError(`checkpoint format version ${version} is not valid`);
  const flags = view.getUint32(8, true);
  if (flags >>> 3) throw new ValueError(`checkpoint flags 0x${flags.toString(16)} set bits this wasmnn does not know`);
  const encoding = ENCODINGS[(flags >>> 1) & 3];
  if (!encoding) throw new ValueError(`checkpoint weight encoding ${(flags >>> 1) & 3} is not known (0 f32, 1 f16, 2 int8)`);
  const trainingState = (flags & 1) === 1;
  const jsonLength = view.getUint32(12, true);
  if (HEADER + jsonLength + 4 > length) {
    throw new ValueError(`checkpoint truncated: the header announces ${jsonLength} bytes of topology, the file has ${length} bytes in all`);
  }
  const crcOk = crc32(bytes, 0, length - 4) === view.getUint32(length - 4, true);
  // the topology says how long the file must be; a length error is clearer than a checksum error for a cut file
  let topology: Topology | undefined;
  let problem: unknown;
  try {
    topology = parseTopology(bytes.subarray(HEADER, HEADER + jsonLength), trainingState, encoding);
  } catch (e) {
    problem = e;
  }
  const weightsAt = align4(HEADER + jsonLength);
  let expected = -1, weightsEnd = 0, stateAt = 0, trainableFloats = 0;
  if (topology) {
    const floats = topology.weights.reduce((a, w) => a + size(w.shape), 0);
    trainableFloats = topology.weights.reduce((a, w) => a + (w.trainable ? size(w.shape) : 0), 0);
    weightsEnd = weightsAt + weightSectionBytes(encoding, floats, topology.weights.length);
    stateAt = align4(weightsEnd);
    expected = stateAt + (trainingState ? (topology.stateArrays ?? 0) * trainableFloats * 4 + RNG_BYTES : 0) + 4;
  }
  if (expected >= 0 && expected !== length) {
    throw new ValueError(expected > length
      ? `checkpoint truncated: ${length} bytes where its topology needs ${expected}`
      : `checkpoint has ${length - expected} unexpected bytes after its end (${expected} bytes)`);
  }
  if (!crcOk) throw new ValueError('checkpoint checksum mismatch: the file is corrupted');
  if (!topology) throw problem;
  for (const [from, to] of [[HEADER + jsonLength, weightsAt], [weightsEnd, stateAt]]) {
    for (let i = from; i < to; i++) if (bytes[i] !== 0) throw new ValueError(`checkpoint padding byte ${i} is ${bytes[i]}, not 0`);
  }
  return { bytes, length, topology, encoding, trainingState, weightsAt, stateAt, trainableFloats };
}

function asBytes(input: unknown): Uint8Array {
  // a Node Buffer is a Uint8Array whose slice() shares memory (readF32 relies on a copy): view it as a plain one
  if (input instanceof Uint8Array && input.constructor === Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new ValueError(`a checkpoint is bytes (Uint8Array or ArrayBuffer), got ${describe(input)}`);
}

let utf8: TextDecoder | undefined;

/** The topology JSON, checked field by field (types, ranges, sizes) before anything is built from it. */
function parseTopology(json: Uint8Array, trainingState: boolean, encoding: Encoding): Topology {
  let raw: unknown;
  try {
    raw = JSON.parse((utf8 ??= new TextDecoder('utf-8', { fatal: true })).decode(json));
  } catch (e) {
    throw new ValueError(`checkpoint topology is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  const o = object(raw, 'topology');
  const layers = array(o.layers, 'topology.layers').map((l, i) => {
    const entry = object(l, `layers[${i}]`);
    return { className: string(entry.className, `layers[${i}].className`), config: object(entry.config, `layers[${i}].config`) };
  });
  if (layers.length === 0) throw new ValueError('checkpoint topology has no layers');
  let compile: Topology['compile'] = null;
  if (o.compile !== null) {
    const c = object(o.compile, 'topology.compile');
    compile = {
      optimizer: named(c.optimizer, 'compile.optimizer'),
      loss: named(c.loss, 'compile.loss'),
      metrics: array(c.metrics, 'compile.metrics').map((m, i) => string(m, `compile.metrics[${i}]`)),
    };
  }
  let total = 0;
  const weights = array(o.weights, 'topology.weights').map((w, i) => {
    const e = object(w, `weights[${i}]`);
    const entry: WeightEntry = {
      layer: string(e.layer, `weights[${i}].layer`), name: string(e.name, `weights[${i}].name`),
      shape: shape(e.shape, `weights[${i}].shape`), trainable: boolean(e.trainable, `weights[${i}].trainable`),
    };
    total += size(entry.shape);
    if (total > MAX_FLOATS) throw new ShapeError(`checkpoint weights hold more than 2^31 floats`);
    return entry;
  });
  const topology: Topology = {
    name: string(o.name, 'topology.name'),
    seed: integer(o.seed, 'topology.seed', 0, 2 ** 32 - 1),
    inputShape: shape(o.inputShape, 'topology.inputShape'),
    layers, compile, weights,
    iterations: integer(o.iterations, 'topology.iterations', 0, Number.MAX_SAFE_INTEGER),
  };
  if (o.epoch !== undefined) topology.epoch = integer(o.epoch, 'topology.epoch', 0, Number.MAX_SAFE_INTEGER);
  if (trainingState) {
    if (!compile) throw new ValueError('checkpoint holds training state but no compile settings');
    topology.stateArrays = integer(o.stateArrays, 'topology.stateArrays', 0, 8);
  }
  return topology;
}

/** The layers, built on the saved input shape (shapes only, no memory) and matched against the weight manifest. */
export function reviveLayers(t: Topology): Layer[] {
  const layers = t.layers.map(({ className, config }, i) => {
    const where = `checkpoint layer ${i}`;
    if (config.name !== undefined && typeof config.name !== 'string') throw new ValueError(`${where}: name must be a string`);
    if (config.trainable !== undefined && typeof config.trainable !== 'boolean') throw new ValueError(`${where}: trainable must be true or false`);
    return layerFromConfig(className, config, where);
  });
  const first = layers[0].getConfig().inputShape as number[] | undefined;
  if (!first || !sameShape(first, t.inputShape)) {
    throw new ShapeError(`checkpoint: the model's input shape [${t.inputShape}] is not the first layer's inputShape [${first ?? ''}]`);
  }
  let shapeIn = t.inputShape;
  const params: { layer: string; name: string; shape: number[]; trainable: boolean }[] = [];
  layers.forEach((layer, i) => {
    try {
      layer.build(shapeIn);
    } catch (e) {
      if (e instanceof WasmnnError) throw e;
      throw new ValueError(`checkpoint layer ${i} (${layer.className}) cannot be built on [${shapeIn}]: ${(e as Error)?.message}`);
    }
    shapeIn = layer.outputShape;
    for (const p of layer.params) params.push({ layer: layer.name, name: p.name, shape: p.shape, trainable: p.trainable });
  });
  if (params.length !== t.weights.length) {
    throw new ShapeError(`checkpoint: the topology has ${params.length} weight tensors, the file ${t.weights.length}`);
  }
  params.forEach((p, i) => {
    const w = t.weights[i];
    if (w.layer !== p.layer || w.name !== p.name || !sameShape(w.shape, p.shape) || w.trainable !== p.trainable) {
      throw new ShapeError(`checkpoint weight ${i}: the file has ${w.layer}/${w.name} [${w.shape}]${w.trainable ? '' : ' (fixed)'}, ` +
        `the topology needs ${p.layer}/${p.name} [${p.shape}]${p.trainable ? '' : ' (fixed)'}`);
    }
  });
  return layers;
}

export function decodeWeights(file: CheckpointFile): Float32Array[] {
  const { bytes, encoding, topology } = file;
  let at = file.weightsAt + (encoding === 'int8' ? topology.weights.length * 8 : 0);
  return topology.weights.map((w, i) => {
    const n = size(w.shape);
    const values = encoding === 'f32' ? readF32(bytes, at, n) : encoding === 'f16' ? decodeF16(bytes, at, n) :
      decodeInt8(bytes, file.weightsAt + i * 8, at, n, `${w.layer}/${w.name}`);
    checkFinite(values, 0, n, `checkpoint weight ${w.layer}/${w.name}`);
    at += n * BYTES_PER_WEIGHT[encoding];
    return values;
  });
}

function decodeStates(file: CheckpointFile): { arrays: Float32Array[]; rng: Uint8Array } {
  const n = file.trainableFloats;
  const arrays: Float32Array[] = [];
  for (let i = 0; i < file.topology.stateArrays!; i++) {
    arrays.push(readF32(file.bytes, file.stateAt + i * n * 4, n));
    checkFinite(arrays[i], 0, n, `checkpoint optimizer state ${i}`);
  }
  const from = file.stateAt + arrays.length * n * 4;
  const rng = file.bytes.slice(from, from + RNG_BYTES);
  if (rng.every((b) => b === 0)) throw new ValueError('checkpoint training random state is all zeros, which the generator cannot leave');
  return { arrays, rng };
}

// ------------------------------------------------------------------------------------ optimiser, schedule, loss

type Kind = 'number' | 'boolean' | 'object';

/** The keys of `config` named in `spec`, each checked to be of its kind when present (others are left out). */
function typed(config: Record<string, unknown>, spec: Record<string, Kind>, where: string): Fields {
  const out: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(spec)) {
    const v = config[key];
    if (v === undefined) continue;
    if (kind === 'number') finite(v, `${where}: ${key}`);
    else if (kind === 'boolean') boolean(v, `${where}: ${key}`);
    else object(v, `${where}: ${key}`);
    out[key] = v;
  }
  return out;
}

const OPTIMIZER_FIELDS: Record<string, Kind> = {
  clipnorm: 'number', clipvalue: 'number', momentum: 'number', nesterov: 'boolean', rho: 'number', epsilon: 'number',
  initialAccumulatorValue: 'number', beta1: 'number', beta2: 'number', weightDecay: 'number', centered: 'boolean',
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;
type Clip = { clipnorm?: number; clipvalue?: number };
const OPTIMIZERS: Record<string, (lr: number | Schedule, c: Fields, clip: Clip) => Optimizer> = {
  sgd: (lr, _c, clip) => new SGD(lr, clip),
  momentum: (lr, c, clip) => new Momentum(lr, c.momentum, c.nesterov, clip),
  rmsprop: (lr, c, clip) => new RMSProp(lr, c.rho, c.momentum, c.epsilon, c.centered, clip),
  adagrad: (lr, c, clip) => new Adagrad(lr, c.initialAccumulatorValue, c.epsilon, clip),
  adam: (lr, c, clip) => new Adam(lr, c.beta1, c.beta2, c.epsilon, c.weightDecay, clip),
  adamw: (lr, c, clip) => new AdamW(lr, c.beta1, c.beta2, c.epsilon, c.weightDecay, clip),
};

function reviveOptimizer({ name, config }: NamedConfig): Optimizer {
  if (!Object.hasOwn(OPTIMIZERS, name)) throw new NotFoundError(`checkpoint: unknown optimizer '${name}'; known: ${Object.keys(OPTIMIZERS).join(', ')}`);
  const where = `optimizer '${name}'`;
  const c = typed(config, OPTIMIZER_FIELDS, where);
  const clip: Clip = {};
  if (c.clipnorm !== undefined) clip.clipnorm = c.clipnorm;
  if (c.clipvalue !== undefined) clip.clipvalue = c.clipvalue;
  return OPTIMIZERS[name](reviveSchedule(config.learningRate, `${where}: learningRate`, 0), c, clip);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const SCHEDULES: Record<string, [Record<string, Kind>, (c: any) => Schedule]> = {
  exponentialDecay: [{ initialLearningRate: 'number', decaySteps: 'number', decayRate: 'number', staircase: 'boolean' }, exponentialDecay],
  stepDecay: [{ initialLearningRate: 'number', every: 'number', factor: 'number' }, stepDecay],
  cosineDecay: [{ initialLearningRate: 'number', decaySteps: 'number', alpha: 'number' }, cosineDecay],
  cosineDecayRestarts: [{ initialLearningRate: 'number', firstDecaySteps: 'number', tMul: 'number', mMul: 'number', alpha: 'number' }, cosineDecayRestarts],
};

function reviveSchedule(value: unknown, where: string, depth: number): number | Schedule {
  const { name, config } = named(value, where);
  if (name === 'constant') return finite(config.learningRate, `${where}: learningRate`);
  if (name === 'warmup') {
    if (depth >= 4) throw new ValueError(`${where}: warm-ups nested more than 4 deep`);
    const steps = finite(config.warmupSteps, `${where}: warmupSteps`);
    return warmup(reviveSchedule(config.inner, `${where}: inner`, depth + 1), steps);
  }
  const known = Object.hasOwn(SCHEDULES, name) ? SCHEDULES[name] : undefined;
  if (!known) throw new NotFoundError(`${where}: unknown learning-rate schedule '${name}'; known: constant, warmup, ${Object.keys(SCHEDULES).join(', ')}`);
  return known[1](typed(config, known[0], `${where} (${name})`));
}

function reviveLoss({ name, config }: NamedConfig): Loss {
  if (!LOSS_NAMES.includes(name)) throw new NotFoundError(`checkpoint: unknown loss '${name}'; known: ${LOSS_NAMES.join(', ')}`);
  return name === 'huber' ? huber(typed(config, { delta: 'number' }, 'loss huber')) : resolveLoss(name);
}

// ---------------------------------------------------------------------------------------------- weight codings

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readF32(bytes: Uint8Array, at: number, n: number): Float32Array {
  if (LITTLE_ENDIAN) return new Float32Array(bytes.slice(at, at + n * 4).buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, n * 4);
  return Float32Array.from({ length: n }, (_, i) => view.getFloat32(i * 4, true));
}

/** IEEE half precision, rounded to nearest even; values beyond ±65504 are an error rather than infinities. */
function encodeF16(values: Float32Array, out: Uint8Array, at: number, what: string): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const e = ((x >>> 23) & 0xff) - 127 + 15;
    let mant = x & 0x7fffff;
    let h: number;
    if (e <= 0) {
      // subnormal half (or zero): the 24-bit significand shifted into 10 bits, rounded to nearest even
      if (e < -10) h = 0;
      else {
        mant |= 0x800000;
        const shift = 14 - e;
        h = mant >>> shift;
        const rest = mant - h * 2 ** shift, half = 2 ** (shift - 1);
        if (rest > half || (rest === half && h & 1)) h++;
      }
    } else {
      h = (e << 10) | (mant >>> 13);
      const rest = mant & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // a carry into the exponent is the right rounding
    }
    if (h >= 0x7c00) throw new ValueError(`weight ${what} holds ${values[i]} at index ${i}, beyond float16's ±65504; save with weights: 'f32'`);
    h |= sign;
    out[at + 2 * i] = h & 0xff;
    out[at + 2 * i + 1] = h >>> 8;
  }
}

/** 2^(e - 25): a half's value is (1024 + mantissa)·2^(e - 25), and a subnormal's mantissa·2^-24. */
const HALF_SCALE = Float64Array.from({ length: 32 }, (_, e) => 2 ** (e - 25));

/** n IEEE halves at bytes[at..], little-endian, exactly as float32 (also the TF.js importer's float16 weights). */
export function decodeF16(bytes: Uint8Array, at: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const h = bytes[at + 2 * i] | (bytes[at + 2 * i + 1] << 8);
    const e = (h >>> 10) & 0x1f, m = h & 0x3ff;
    const v = e === 0 ? m * HALF_SCALE[1] : e === 31 ? (m ? NaN : Infinity) : (1024 + m) * HALF_SCALE[e];
    out[i] = h & 0x8000 ? -v : v;
  }
  return out;
}

/** Bytes of the weight section (before padding): int8 adds a (min, scale) pair of f32 per tensor. */
function weightSectionBytes(encoding: Encoding, floats: number, tensors: number): number {
  return floats * BYTES_PER_WEIGHT[encoding] + (encoding === 'int8' ? tensors * 8 : 0);
}

/** Per-tensor affine 8-bit codes: w ≈ min + scale·c with c in 0..255; (min, scale) as f32 at pairAt. */
function encodeInt8(values: Float32Array, out: Uint8Array, pairAt: number, at: number): void {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  const scale = Math.fround((max - min) / 255);
  for (let i = 0; i < values.length; i++) out[at + i] = scale > 0 ? Math.min(255, Math.round((values[i] - min) / scale)) : 0;
  const view = new DataView(out.buffer, out.byteOffset);
  view.setFloat32(pairAt, min, true);
  view.setFloat32(pairAt + 4, scale, true);
}

function decodeInt8(bytes: Uint8Array, pairAt: number, at: number, n: number, what: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const min = view.getFloat32(pairAt, true), scale = view.getFloat32(pairAt + 4, true);
  if (!(Number.isFinite(min) && Number.isFinite(scale) && scale >= 0)) {
    throw new ValueError(`checkpoint weight ${what}: int8 min ${min} and scale ${scale} must be finite, scale >= 0`);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = min + scale * bytes[at + i];
  return out;
}

// ----------------------------------------------------------------------------------------------------- helpers

let crcTables: Int32Array | undefined;

/**
 * CRC-32 (IEEE 802.3, the zlib/PNG one) of bytes[from..to). Eight bytes a step through eight tables ("slicing by
 * 8"): about 4x the byte-at-a-time loop, which was a third of loading a 2.7 MB checkpoint.
 */
export function crc32(bytes: Uint8Array, from = 0, to = bytes.length): number {
  const t = (crcTables ??= makeCrcTables());
  let c = -1;
  let i = from;
  for (; i + 8 <= to; i += 8) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t[1792 + (c & 0xff)] ^ t[1536 + ((c >>> 8) & 0xff)] ^ t[1280 + ((c >>> 16) & 0xff)] ^ t[1024 + (c >>> 24)] ^
      t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < to; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Table k (at 256·k) gives the CRC of a byte followed by k zero bytes; table 0 is the usual byte table. */
function makeCrcTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) t[256 * k + n] = (t[256 * (k - 1) + n] >>> 8) ^ t[t[256 * (k - 1) + n] & 0xff];
  }
  return t;
}

/** v, when `ok`; else the ValueError "checkpoint <where> must be <want>, got <v>". */
function expect<T>(ok: boolean, v: unknown, where: string, want: string): T {
  if (!ok) throw new ValueError(`checkpoint ${where} must be ${want}, got ${describe(v)}`);
  return v as T;
}
function object(v: unknown, where: string): Record<string, unknown> {
  return expect(v !== null && typeof v === 'object' && !Array.isArray(v), v, where, 'an object');
}
function array(v: unknown, where: string): unknown[] {
  return expect(Array.isArray(v), v, where, 'an array');
}
function string(v: unknown, where: string): string {
  return expect(typeof v === 'string', v, where, 'a string');
}
function boolean(v: unknown, where: string): boolean {
  return expect(typeof v === 'boolean', v, where, 'true or false');
}
function finite(v: unknown, where: string): number {
  return expect(typeof v === 'number' && Number.isFinite(v), v, where, 'a finite number');
}
function integer(v: unknown, where: string, min: number, max: number): number {
  return expect(Number.isInteger(v) && (v as number) >= min && (v as number) <= max, v, where, `a whole number in [${min}, ${max}]`);
}
function shape(v: unknown, where: string): number[] {
  const dims = array(v, where);
  if (dims.length > 8) throw new ShapeError(`checkpoint ${where} has ${dims.length} dimensions, more than 8`);
  return dims.map((d, i) => integer(d, `${where}[${i}]`, 1, MAX_FLOATS));
}
function named(v: unknown, where: string): NamedConfig {
  const o = object(v, where);
  return { name: string(o.name, `${where}.name`), config: object(o.config, `${where}.config`) };
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}
function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : ((v as object).constructor?.name ?? 'an object');
}
