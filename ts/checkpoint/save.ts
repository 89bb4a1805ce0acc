// Writing a model as a checkpoint: the weights through a codec, the compile settings (checked to be revivable), the
// optimiser's state and the training random stream, in the container of format.ts. It reads the model through the
// few members it needs (SavableModel), so the checkpoint sits below the model on the ladder.
import type { TrainableNetwork } from '../engine/network';
import type { Compiled } from '../train/fit-model';
import { ENCODINGS, BYTES_PER_WEIGHT, encodeF16, encodeInt8, weightSectionBytes, type Encoding } from './codecs';
import { RNG_BYTES, align4, checkFinite, describe, writeCheckpoint, type Topology, type WeightEntry } from './format';
import { checkRevivable } from './revive';
import { StateError, ValueError } from '../backend/errors';

export interface SaveOptions {
  /** Keep the compile settings, the optimiser's state and step count and the training random stream, so that
   *  fit() resumes exactly (default true). false: topology and weights only; the loaded model is not compiled. */
  includeOptimizer?: boolean;
  /** Weight storage: 'f32' (exact, default), 'f16' (half the size), 'int8' (a quarter: per-tensor affine). */
  weights?: Encoding;
  /** Epochs done so far, kept for fit(..., { initialEpoch }); checkpointInfo() reads it back. */
  epoch?: number;
}

/** The parts of a model that saving reads (a Sequential has them). */
export interface SavableModel {
  readonly name: string;
  readonly seed: number;
  readonly inputShape: number[];
  readonly iterations: number;
  readonly isDisposed: boolean;
  readonly isCompiled: boolean;
  readonly network: TrainableNetwork;
  readonly compiledWith: Compiled;
}

/** The model as checkpoint bytes (builds the model first if it has not been used yet). */
export function encodeModel(model: SavableModel, options: SaveOptions = {}): Uint8Array {
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
  return writeCheckpoint(topology, encoding, weightBytes, stateBytes);
}

function checkSaveOptions(options: SaveOptions): SaveOptions {
  if (options === null || typeof options !== 'object') throw new ValueError(`save options must be an object, got ${describe(options)}`);
  const { includeOptimizer, weights, epoch } = options;
  if (includeOptimizer !== undefined && typeof includeOptimizer !== 'boolean') throw new ValueError(`includeOptimizer must be true or false, got ${String(includeOptimizer)}`);
  if (weights !== undefined && !ENCODINGS.includes(weights)) throw new ValueError(`weights must be one of ${ENCODINGS.join(', ')}, got ${String(weights)}`);
  if (epoch !== undefined && !(Number.isSafeInteger(epoch) && epoch >= 0)) throw new ValueError(`epoch must be a whole number >= 0, got ${String(epoch)}`);
  return options;
}

function compiledOrNull(model: SavableModel) {
  return model.isCompiled ? model.compiledWith : null;
}

