// The GPT stepper: tokenAndPositionEmbedding -> transformerDecoder blocks and/or causal multiHeadAttention (dense
// layers, layer or RMS norms and dropout between; nanoGPT's final layer norm) -> a dense softmax over the vocabulary.
// Each attention layer keeps a KV cache: the prompt runs once over its positions and fills the caches, then every
// new token runs ONE position through the layers (attention_step against the cache, the norms and feed-forward on
// one row), not the window again.
// With `cache: false` every token re-runs the whole window so far instead (the same layers from position 0): the
// reference the cache must match bit for bit, and the baseline of its speed.
// Past the position table (sequenceLength positions) the window is cropped to the last sequenceLength tokens, as
// nanoGPT does; learned absolute positions then shift, so each such token re-runs the cropped window. With
// `slide: 'half'` the window instead restarts from its last half when it is full: those tokens run once from
// position 0 (refilling the caches) and the tokens after them step through the caches again.
import type { Sequential } from './model';
import type { Stepper, StepperOptions } from './stepper';
import type { Buffers, Env, Layer } from '../layers/layer';
import { TokenAndPositionEmbedding } from '../layers/position';
import { MultiHeadAttention } from '../layers/attention';
import { TransformerDecoder } from '../layers/transformer';
import { Dense } from '../layers/dense';
import { LayerNormalization, RMSNormalization } from '../layers/normalization';
import { Dropout } from '../layers/basic';
import { TimeDistributed } from '../layers/wrappers';
import { ShapeError, ValueError } from '../backend/errors';

/** One layer's run over n positions from pos: x (n, in) -> its output (n, out). */
type Stage = (x: number, n: number, pos: number, last: boolean) => number;

export function gptStepper(model: Sequential, options?: StepperOptions): Stepper | null {
  const net = model.network;
  const layers: Layer[] = net.layers.filter((l) => !(l instanceof Dropout)).map((l) => (l instanceof TimeDistributed && l.layer instanceof Dense ? l.layer : l));
  const [first, ...rest] = layers;
  const last = layers[layers.length - 1];
  if (!(first instanceof TokenAndPositionEmbedding)) return null;
  const attends = (l: Layer) => l instanceof TransformerDecoder || (l instanceof MultiHeadAttention && l.useCausalMask);
  // a norm and a dense layer act on each position alone: they run on the new rows only
  const perRow = (l: Layer) => l instanceof Dense || l instanceof LayerNormalization || l instanceof RMSNormalization;
  if (!rest.some(attends) || !rest.every((l) => attends(l) || perRow(l))) return null;
  if (!(last instanceof Dense) || last.act.name !== 'softmax') return null;
  // the cache steps every position as a real token; a padding mask (id 0 hidden from every query) it does not keep
  if (first.maskZero) throw new ValueError(`generate: ${first.name} has maskZero (id 0 is padding, hidden from attention), which stepping with the KV cache does not apply; build the language model without maskZero`);
  const env: Env = net.env;
  const { k, heap } = env;
  const T = first.inputShape![0], d = first.embeddingDim;
  const cache = options?.cache ?? true;
  const half = options?.slide === 'half';

  // the plan for one sample of up to T positions, made twice: sizes first, then with the addresses of one allocation
  const plan = (reserve: (floats: number) => number) => {
    const ids = reserve(T), embedded = reserve(T * d);
    const stages: Stage[] = [];
    for (const layer of rest) {
      const y = reserve(layer.outputSize);
      if (layer instanceof Dense) {
        const b = layer.reserve(reserve, 1);
        const inF = layer.inputShape![layer.inputShape!.length - 1];
        stages.push((x, n, _pos, lastStage) => {
          // the vocabulary's softmax only for the last position: its logits are what the sampler reads
          if (lastStage && layer === last) {
            const row = x + (n - 1) * inF * 4;
            layer.forwardRows(env, b, row, y, 1, true);
            return layer.logits(b, row, y);
          }
          layer.forwardRows(env, b, x, y, n, false);
          return y;
        });
      } else if (layer instanceof LayerNormalization || layer instanceof RMSNormalization) {
        // its mean / inverse-std rows reserved for one sample of T positions: room for any n <= T
        const b = layer.reserve(reserve, 1, false);
        stages.push((x, n) => {
          layer.forwardRows(env, b, x, y, n);
          return y;
        });
      } else {
        const block = layer as TransformerDecoder | MultiHeadAttention;
        const b = block.reserve(reserve, 1, false);
        const kv = block instanceof TransformerDecoder ? block.reserveCache(reserve, cache) : block.reserveCache(reserve);
        stages.push((x, n, pos) => {
          block.forwardCached(env, b, kv, x, y, n, pos);
          if (block instanceof MultiHeadAttention && block.outputBias) k.bias_act_forward(y, block.outputBias.ptr, y, n, block.features, 0, 0);
          return y;
        });
      }
    }
    return { ids, embedded, stages };
  };
  const sizes: number[] = [];
  plan((floats) => (sizes.push(Math.max(1, floats) * 4), 0));
  const ptrs = heap.allocAll(sizes, "generate's KV-cache plan");
  let at = 0;
  const { ids, embedded, stages } = plan(() => ptrs[at++]);
  const [tokens, positions] = first.params;

  /** The logits after the tokens `window` at positions pos..pos+n-1 (pos 0, or one token after the cache's). */
  const run = (window: ArrayLike<number>, pos: number): number => {
    const n = window.length;
    for (let i = 0; i < n; i++) heap.i32[(ids >> 2) + i] = window[i];
    const bad = k.embedding_check(ids, n, first.vocabularySize);
    if (bad >= 0) throw new ValueError(`generate: token ${pos + bad} = ${window[bad]} is not an id in [0, ${first.vocabularySize})`);
    k.embedding_forward(ids, tokens.ptr, embedded, n, d);
    k.position_table_add(embedded, positions.ptr, embedded, 1, n, d, pos);
    let x = embedded;
    stages.forEach((stage, i) => (x = stage(x, n, pos, i === stages.length - 1)));
    return x;
  };

  const history: number[] = [];
  let count = 0; // tokens fed so far: the next one's position
  let disposed = false;
  return {
    vocabulary: last.units,
    inputDim: first.vocabularySize,
    check(promptLength: number) {
      if (promptLength > T) {
        throw new ShapeError(`generate: the prompt has ${promptLength} tokens, longer than the ${T} positions the model takes (${first.name}: tokenAndPositionEmbedding with sequenceLength ${first.sequenceLength}, no position beyond ${T - 1}); keep at most the last ${T}`);
      }
    },
    prime(prompt: ArrayLike<number>): number {
      history.length = 0;
      for (let i = 0; i < prompt.length; i++) history.push(prompt[i]);
      count = prompt.length;
      return run(history, 0);
    },
    feed(id: number, position: number): number {
      if (position !== count) throw new ValueError(`generate: token ${position} fed after ${count} tokens`);
      count++;
      history.push(id);
      if (half) {
        // history is the window: the tokens since it last restarted, at positions from 0
        if (history.length > T) history.splice(0, history.length - Math.max(1, T >> 1));
        else if (cache) return run([id], history.length - 1);
        return run(history, 0);
      }
      if (history.length > T) history.shift();
      // one position against the cache while the window has room; else the whole (cropped) window from position 0
      if (cache && position > 0 && count <= T) return run([id], position);
      return run(history, 0);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const ptr of ptrs) heap.release(ptr);
    },
  };
}
