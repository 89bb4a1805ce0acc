// Text generation: continue a prompt of token ids one token at a time. The model is stepped, not re-run: a Stepper
// holds whatever state one more token needs (a recurrent model's carried h and c; a transformer's KV cache per
// attention layer) and turns one token id into the logits of the next. Steppers come from STEPPERS, a list of makers
// each model kind adds to; the recurrent one is below, the GPT one in generate-gpt.ts. The sampling is the same for
// every kind: temperature scaling and softmax in the module, top-k / top-p as a sort and f64 sums in JS (exact, so
// the same everywhere), the draw from a module generator seeded with `seed`: the same seed gives the same ids in
// every runtime.
import type { Sequential } from './model';
import type { Layer, Buffers, Env } from '../layers/layer';
import { Embedding } from '../layers/embedding';
import { Recurrent } from '../layers/recurrent';
import { Dense } from '../layers/dense';
import { Dropout } from '../layers/basic';
import { TimeDistributed } from '../layers/wrappers';
import { RNN, type Kernels } from '../backend/kernels';
import { ValueError, ShapeError } from '../backend/errors';
import { gptStepper } from './generate-gpt';
import type { Stepper, StepperMaker } from './stepper';

export type { Stepper, StepperMaker, StepperOptions } from './stepper';

export interface GenerateOptions {
  /** Token ids to start from (at least one), fed once, one step each. */
  prompt: ArrayLike<number>;
  /** New tokens to generate. */
  length: number;
  /** Logits are divided by it before the softmax: below 1 sharper, above 1 flatter (default 1). */
  temperature?: number;
  /** Draw only among the k likeliest tokens. */
  topK?: number;
  /** Draw only among the likeliest tokens whose probabilities add up to at least p, in (0, 1]. */
  topP?: number;
  /** Seed of the draws (default: a random one). */
  seed?: number;
  /** A transformer's KV cache (default true); false re-runs the window at every token (a reference, a baseline). */
  cache?: boolean;
}


export const STEPPERS: StepperMaker[] = [];

/** The `length` token ids that follow `prompt` (prompt excluded). */
export function generate(model: Sequential, options: GenerateOptions): Int32Array {
  const { prompt, length, temperature = 1, topK, topP, seed = Math.floor(Math.random() * 2 ** 32), cache = true } = options ?? ({} as GenerateOptions);
  if (!prompt || typeof prompt.length !== 'number' || prompt.length < 1) throw new ValueError('generate: prompt must hold at least one token id');
  for (let i = 0; i < prompt.length; i++) {
    if (!Number.isInteger(prompt[i])) throw new ValueError(`generate: prompt[${i}] = ${prompt[i]} is not a whole token id`);
  }
  if (!Number.isInteger(length) || length < 0) throw new ValueError(`generate: length must be a whole number >= 0, got ${length}`);
  if (!(typeof temperature === 'number' && temperature > 0 && Number.isFinite(temperature))) throw new ValueError(`generate: temperature must be a finite number > 0, got ${temperature}`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) throw new ValueError(`generate: topK must be a whole number >= 1, got ${topK}`);
  if (topP !== undefined && !(typeof topP === 'number' && topP > 0 && topP <= 1)) throw new ValueError(`generate: topP must be in (0, 1], got ${topP}`);
  if (!(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) throw new ValueError(`generate: seed must be a whole number in [0, 2^32), got ${seed}`);
  if (typeof cache !== 'boolean') throw new ValueError(`generate: cache must be true or false, got ${String(cache)}`);
  const net = model.network;
  let stepper: Stepper | null = null;
  for (const make of STEPPERS) if (!stepper) stepper = make(model, { cache });
  if (!stepper) throw new ValueError(`generate: model '${model.name}' cannot be stepped: it needs token ids in (an embedding first), recurrent layers or causal attention (tokenAndPositionEmbedding, transformerDecoder blocks, layer norms), and dense layers on top ending in a softmax over the vocabulary`);
  for (let i = 0; i < prompt.length; i++) {
    if (prompt[i] < 0 || prompt[i] >= stepper.inputDim) {
      stepper.dispose();
      throw new ValueError(`generate: prompt[${i}] = ${prompt[i]} is not a token id in [0, ${stepper.inputDim})`);
    }
  }
  try {
    stepper.check?.(prompt.length);
  } catch (e) {
    stepper.dispose();
    throw e;
  }
  const { k, heap } = net.env;
  const V = stepper.vocabulary;
  // the sampler's blocks: its generator, the scaled logits and their softmax, one uniform
  const [rng, scaled, probs, draw] = heap.allocAll([16, V * 4, V * 4, 16], "generate's sampling buffers");
  try {
    k.rng_seed(rng, seed >>> 0);
    const out = new Int32Array(length);
    let logits = 0;
    if (stepper.prime) logits = stepper.prime(prompt);
    else for (let i = 0; i < prompt.length; i++) logits = stepper.feed(prompt[i], i);
    const order = new Int32Array(V);
    for (let t = 0; t < length; t++) {
      // p = softmax(z / temperature), in the module
      k.vec_affine(logits, scaled, V, 1 / temperature, 0);
      k.softmax_forward(scaled, probs, 1, V);
      k.rng_uniform(rng, draw, 1, 0, 1);
      const p = heap.f32.subarray(probs >> 2, (probs >> 2) + V);
      const id = sample(p, heap.f32[draw >> 2], order, topK, topP);
      out[t] = id;
      if (t + 1 < length) logits = stepper.feed(id, prompt.length + t);
    }
    return out;
  } finally {
    for (const ptr of [rng, scaled, probs, draw]) heap.release(ptr);
    stepper.dispose();
  }
}

/**
 * The token at uniform u in [0, 1) of p's cumulative sum over the kept tokens: all, or the topK likeliest, or the
 * likeliest whose sum reaches topP (ties broken by the lower id). Sums are f64 in a fixed order.
 */
function sample(p: Float32Array, u: number, order: Int32Array, topK?: number, topP?: number): number {
  const V = p.length;
  let kept = V;
  for (let i = 0; i < V; i++) order[i] = i;
  if (topK !== undefined || topP !== undefined) {
    order.sort((a, b) => p[b] - p[a] || a - b);
    if (topK !== undefined) kept = Math.min(kept, topK);
    if (topP !== undefined) {
      let sum = 0, n = 0;
      while (n < kept && sum < topP) sum += p[order[n++]];
      kept = Math.max(1, n);
    }
  }
  let total = 0;
  for (let i = 0; i < kept; i++) total += p[order[i]];
  const target = u * total;
  let sum = 0;
  for (let i = 0; i < kept; i++) {
    sum += p[order[i]];
    if (target < sum) return order[i];
  }
  return order[kept - 1];
}

// ---- recurrent models: embedding -> recurrent layers (dropout between) -> dense layers, one step at a time ----

type Stage = { layer: Layer; run: (x: number) => number };

/** The recurrent stepper: a plan for one row made once (each layer's output, a recurrent layer's block, state and
 *  one-step workspace), every state starting at zero; feed() runs each layer on one step. */
function recurrentStepper(model: Sequential): Stepper | null {
  const net = model.network;
  // dropout is a copy at inference; timeDistributed(dense) is the dense on each step
  const layers = net.layers.filter((l) => !(l instanceof Dropout)).map((l) => (l instanceof TimeDistributed && l.layer instanceof Dense ? l.layer : l));
  const [first, ...rest] = layers;
  const last = layers[layers.length - 1];
  if (!(first instanceof Embedding) || !rest.some((l) => l instanceof Recurrent)) return null;
  if (!rest.every((l) => l instanceof Recurrent || l instanceof Dense)) return null;
  if (!(last instanceof Dense) || last.act.name !== 'softmax') return null;
  const env: Env = net.env;
  const { k, heap } = env;
  const sizes: number[] = [];
  const layout: ((ptrs: () => number) => Stage)[] = [];
  const want = (floats: number) => sizes.push(Math.max(1, floats) * 4);
  want(1); // the token id (i32)
  want(first.outputDim);
  for (const layer of rest) {
    if (layer instanceof Recurrent) {
      if (layer.goBackwards) throw new ShapeError(`generate: ${layer.name} reads its steps backwards, which cannot run one step at a time`);
      want(RNN.LEN); want(layer.stateFloats(1)); want(layer.askModule((k, p) => k.rnn_step_work_floats(layer.cell, p), 1, 1, false));
      layout.push((next) => {
        const block = next(), state = next(), work = next();
        layer.writeBlock(heap.i32, heap.f32, block, 1, 1, 0, 0, 0);
        // a sequence-in, last-state-out layer still outputs h after every step
        heap.i32[(block >> 2) + RNN.FLAGS] &= ~(RNN.GO_BACKWARDS | RNN.RETURN_SEQUENCES | RNN.ZERO_PADDED);
        k.vec_fill(state, layer.stateFloats(1), 0);
        return { layer, run: (x) => (stepCell(k, layer.cell, x, state, work, block), state) };
      });
    } else {
      const dense = layer as Dense;
      dense.reserve((floats) => (want(floats), 0), 1);
      want(dense.units);
      layout.push((next) => {
        const b: Buffers = dense.reserve(() => next(), 1);
        const y = next();
        return { layer, run: (x) => (dense.forwardRows(env, b, x, y, 1, dense === last), dense === last ? dense.logits(b, x, y) : y) };
      });
    }
  }
  const ptrs = heap.allocAll(sizes, "generate's one-step plan");
  let at = 0;
  const next = () => ptrs[at++];
  const ids = next(), embedded = next();
  const stages = layout.map((make) => make(next));
  const table = first.params[0].ptr;
  let disposed = false;
  return {
    vocabulary: last.units,
    inputDim: first.inputDim,
    feed(id: number, position: number): number {
      heap.i32[ids >> 2] = id;
      if (k.embedding_check(ids, 1, first.inputDim) >= 0) throw new ValueError(`generate: token ${position} = ${id} is not an id in [0, ${first.inputDim})`);
      k.embedding_forward(ids, table, embedded, 1, first.outputDim);
      let x = embedded;
      for (const stage of stages) x = stage.run(x);
      return x;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const ptr of ptrs) heap.release(ptr);
    },
  };
}

/** One step of a cell from its carried state (h, an LSTM's h then c), read and replaced: x [1, in]. */
function stepCell(k: Kernels, cell: number, x: number, state: number, work: number, block: number): void {
  if (cell === RNN.CELL_LSTM) k.lstm_step(x, state, work, block);
  else if (cell === RNN.CELL_GRU) k.gru_step(x, state, work, block);
  else k.simple_rnn_step(x, state, work, block);
}

STEPPERS.push(recurrentStepper, gptStepper);
