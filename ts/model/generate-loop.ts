// The sampling loop every generate shares (the library's nn.generate and wasmnn/infer/generate): check the options,
// make a stepper for the model, feed the prompt, then per new token scale the logits by the temperature and take
// their softmax in the module, keep the topK / topP likeliest as a sort and f64 sums in JS (exact, so the same
// everywhere), and draw from a module generator seeded with `seed`: the same seed gives the same ids in every
// runtime and in both builds. It touches the model only through its network's kernels and memory (net.env), so it
// serves a model of either build.
import type { Network } from '../engine/network';
import type { Stepper, StepperOptions } from './stepper';
import { ValueError } from '../backend/errors';

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
  /**
   * How a transformer's window moves once the tokens fill it (learned positions: a window always starts at position
   * 0). 'token' (default, nanoGPT's generate): the window slides one token a step, the last sequenceLength tokens
   * re-run at every token. 'half': when the window is full, a new one starts from its last half (those tokens run
   * once and refill the KV cache) and the next tokens step through the cache until it is full again; each token
   * then sees between half a window and a whole window of context, at a KV-cache step's cost.
   */
  slide?: 'token' | 'half';
  /** Called with each new token id as soon as it is drawn (t: its index in the output), so a caller can stream the
   *  text; returning false ends the generation there and generate returns the ids so far. */
  onToken?: (id: number, t: number) => boolean | void;
}

/** The models the recurrent and GPT steppers know, for the error when neither does (both builds step the same). */
export const STEPPABLE = 'token ids in (an embedding first), recurrent layers or causal attention ' +
  '(tokenAndPositionEmbedding, transformerDecoder blocks, layer norms), and dense layers on top ending in a softmax over the vocabulary';

/** What the loop needs of a model: its name (for errors) and its network. */
export interface Steppable {
  readonly name: string;
  readonly network: Network;
}

/**
 * The `length` token ids that follow `prompt` (prompt excluded), stepped by the first of `makers` that knows the
 * model; `kinds` says which models they know, for the error when none does.
 */
export function generateWith<M extends Steppable>(model: M, options: GenerateOptions,
  makers: readonly ((model: M, options?: StepperOptions) => Stepper | null)[], kinds: string): Int32Array {
  const { prompt, length, temperature = 1, topK, topP, seed = Math.floor(Math.random() * 2 ** 32), cache = true, slide = 'token', onToken } = options ?? ({} as GenerateOptions);
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
  if (slide !== 'token' && slide !== 'half') throw new ValueError(`generate: slide must be 'token' or 'half', got ${String(slide)}`);
  if (onToken !== undefined && typeof onToken !== 'function') throw new ValueError(`generate: onToken must be a function, got ${typeof onToken}`);
  const net = model.network;
  let stepper: Stepper | null = null;
  for (const make of makers) if (!stepper) stepper = make(model, { cache, slide });
  if (!stepper) throw new ValueError(`generate: model '${model.name}' cannot be stepped: it needs ${kinds}`);
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
    // topK / topP's order: likelier first, ties by the lower id (one comparator for the whole generation)
    let view = heap.f32;
    const likelier = (a: number, b: number) => view[(probs >> 2) + b] - view[(probs >> 2) + a] || a - b;
    for (let t = 0; t < length; t++) {
      // p = softmax(z / temperature), in the module
      k.vec_affine(logits, scaled, V, 1 / temperature, 0);
      k.softmax_forward(scaled, probs, 1, V);
      k.rng_uniform(rng, draw, 1, 0, 1);
      view = heap.f32; // no view, array or closure per token: a generation step allocates nothing
      const id = sample(view, probs >> 2, V, view[draw >> 2], order, likelier, topK, topP);
      out[t] = id;
      if (onToken?.(id, t) === false) return out.slice(0, t + 1);
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
 * likeliest whose sum reaches topP (ties broken by the lower id: `likelier` orders ids so). Sums are f64 in a fixed
 * order. p: the V probabilities at f32[at ..].
 */
function sample(f32: Float32Array, at: number, V: number, u: number, order: Int32Array, likelier: (a: number, b: number) => number,
  topK?: number, topP?: number): number {
  let kept = V;
  for (let i = 0; i < V; i++) order[i] = i;
  if (topK !== undefined || topP !== undefined) {
    order.sort(likelier);
    if (topK !== undefined) kept = Math.min(kept, topK);
    if (topP !== undefined) {
      let sum = 0, n = 0;
      while (n < kept && sum < topP) sum += f32[at + order[n++]];
      kept = Math.max(1, n);
    }
  }
  let total = 0;
  for (let i = 0; i < kept; i++) total += f32[at + order[i]];
  const target = u * total;
  let sum = 0;
  for (let i = 0; i < kept; i++) {
    sum += f32[at + order[i]];
    if (target < sum) return order[i];
  }
  return order[kept - 1];
}
