// Saving and loading a Sequential model as one checkpoint (the format is ../checkpoint/format.ts). Loading builds a
// Sequential, so this file sits above the model on the ladder; model.save() writes through ../checkpoint/save.ts.
import { Sequential } from '../model/model';
import { readCheckpoint, decodeWeights, decodeStates, describe } from '../checkpoint/format';
import { reviveLayers, reviveOptimizer, reviveLoss, checkTrainingSettings } from '../checkpoint/revive';
import { encodeModel, type SaveOptions } from '../checkpoint/save';
import { ShapeError, ValueError } from '../backend/errors';

/** The model as checkpoint bytes (builds the model first if it has not been used yet). */
export function saveModel(model: Sequential, options: SaveOptions = {}): Uint8Array {
  if (!(model instanceof Sequential)) throw new ValueError(`saveModel takes a Sequential model, got ${describe(model)}`);
  return encodeModel(model, options);
}

/** Rebuilds a saved model: topology, weights and, when saved with it, the compiled optimiser's exact state. */
export function loadModel(bytes: Uint8Array | ArrayBuffer): Sequential {
  const file = readCheckpoint(bytes);
  const { topology: t } = file;
  const layers = reviveLayers(t);
  checkTrainingSettings(file, layers); // what wasmnn/infer checks too, in the same order
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

