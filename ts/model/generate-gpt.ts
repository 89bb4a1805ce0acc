// The GPT stepper: tokenAndPositionEmbedding -> transformerDecoder blocks and/or causal multiHeadAttention (dense
// layers, layer or RMS norms and dropout between; nanoGPT's final layer norm) -> a dense softmax over the vocabulary.
// Each attention layer keeps a KV cache: the prompt runs once over its positions and fills the caches, then every
// new token runs ONE position through the layers (attention_step against the cache, the norms and feed-forward on
// one row), not the window again. A model of decoder blocks, norms and dense layers steps a token in one module
// call (gpt_step, its program written at the first step), with its weights packed for the one-row products.
// With `cache: false` every token re-runs the whole window so far instead (the same layers from position 0): the
// reference the cache must match bit for bit, and the baseline of its speed.
// Past the position table (sequenceLength positions) the window is cropped to the last sequenceLength tokens, as
// nanoGPT does; learned absolute positions then shift, so each such token re-runs the cropped window. With
// `slide: 'half'` the window instead restarts from its last half when it is full: those tokens run once from
// position 0 (refilling the caches) and the tokens after them step through the caches again.
import type { Network } from '../engine/network';
import type { Stepper, StepperOptions } from './stepper';
import type { Buffers, Env, Layer } from '../layers/layer';
import type { TokenAndPositionEmbedding } from '../layers/position';
import type { MultiHeadAttention } from '../layers/attention';
import type { TransformerDecoder } from '../layers/transformer';
import type { Dense } from '../layers/dense';
import type { LayerNormalization, RMSNormalization } from '../layers/normalization';
import type { TimeDistributed } from '../layers/wrappers';
import { ShapeError, ValueError } from '../backend/errors';
import { GPT, rowPackedFloats } from '../backend/kernels';

// Layers are told apart by their className, not by instanceof: wasmnn/infer's models are made of that entry's own
// copies of the layer classes, and wasmnn/infer/generate steps them with this same code (as generate-rnn.ts does).
const kind = <T extends Layer>(className: string) => (l: Layer): l is T => l.className === className;
const isEmbedding = kind<TokenAndPositionEmbedding>('TokenAndPositionEmbedding');
const isAttention = kind<MultiHeadAttention>('MultiHeadAttention');
const isDecoder = kind<TransformerDecoder>('TransformerDecoder');
const isDense = kind<Dense>('Dense');
const isLayerNorm = kind<LayerNormalization>('LayerNormalization');
const isRMSNorm = kind<RMSNormalization>('RMSNormalization');

/** Windows (a prompt, a restart of slide 'half') up to this long are stepped one position at a time (see restart). */
const PRIME_STEPS = 32;

/** One layer's run over n positions from pos: x (n, in) -> its output (n, out). */
type Stage = (x: number, n: number, pos: number, last: boolean) => number;

export function gptStepper(model: { readonly network: Network }, options?: StepperOptions): Stepper | null {
  const net = model.network;
  const layers: Layer[] = net.layers.filter((l) => l.className !== 'Dropout')
    .map((l) => (l.className === 'TimeDistributed' && isDense((l as TimeDistributed).layer) ? (l as TimeDistributed).layer : l));
  const [first, ...rest] = layers;
  const last = layers[layers.length - 1];
  if (!isEmbedding(first)) return null;
  const attends = (l: Layer) => isDecoder(l) || (isAttention(l) && l.useCausalMask);
  // a norm and a dense layer act on each position alone: they run on the new rows only
  const perRow = (l: Layer) => isDense(l) || isLayerNorm(l) || isRMSNorm(l);
  if (!rest.some(attends) || !rest.every((l) => attends(l) || perRow(l))) return null;
  if (!isDense(last) || last.act.name !== 'softmax') return null;
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
    // gpt_step's program: one op per layer (its fields from OP_KIND on), written at the first single-row step; none
    // when a layer has no op (an attention layer of its own, a softmax inside the network)
    const programmable = cache && rest.every((l) => isDecoder(l) || !(isAttention(l) || (isDense(l) && l !== last && l.act.code < 0)));
    const ops: (() => number[])[] | null = programmable ? [] : null;
    let input = embedded; // the row the next layer reads when one position steps
    for (const layer of rest) {
      const y = reserve(layer.outputSize);
      if (isDense(layer)) {
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
        // the head's logits only (Dense.forwardRows with logitsOnly); another dense layer as forwardRows runs it
        const head = layer === last, z = b.z ?? y, out = head ? z : y;
        const packed = ops ? reserve(rowPackedFloats(inF, layer.units)) : 0;
        const from = input;
        ops?.push(() => {
          const [kernel, bias] = layer.params;
          if (packed) k.row_pack(kernel.ptr, packed, inF, layer.units);
          return [GPT.OP_DENSE, from, out, kernel.ptr, packed, bias ? bias.ptr : 0, inF, layer.units, head ? 0 : layer.act.code, head ? 0 : layer.act.alpha, z];
        });
        input = out;
      } else if (isLayerNorm(layer) || isRMSNorm(layer)) {
        // its mean / inverse-std rows reserved for one sample of T positions: room for any n <= T
        const b = layer.reserve(reserve, 1, false);
        stages.push((x, n) => {
          layer.forwardRows(env, b, x, y, n);
          return y;
        });
        const from = input;
        ops?.push(() => [isLayerNorm(layer) ? GPT.OP_LAYERNORM : GPT.OP_RMSNORM, from, y, layer.block(env, b, 1)]);
        input = y;
      } else {
        const block = layer as TransformerDecoder | MultiHeadAttention;
        const b = block.reserve(reserve, 1, false);
        const kv = isDecoder(block) ? block.reserveCache(reserve, cache) : block.reserveCache(reserve);
        stages.push((x, n, pos) => {
          block.forwardCached(env, b, kv, x, y, n, pos);
          if (isAttention(block) && block.outputBias) k.bias_act_forward(y, block.outputBias.ptr, y, n, block.features, 0, 0);
          return y;
        });
        const from = input;
        if (isDecoder(block)) ops?.push(() => [GPT.OP_DECODER, from, y, block.stepBlock(env, b, kv)]);
        input = y;
      }
    }
    const program = ops ? reserve(GPT.LEN + ops.length * GPT.OP_LEN) : 0;
    return { ids, embedded, stages, ops, program, logits: input };
  };
  const sizes: number[] = [];
  plan((floats) => (sizes.push(Math.max(1, floats) * 4), 0));
  const ptrs = heap.allocAll(sizes, "generate's KV-cache plan");
  let at = 0;
  const { ids, embedded, stages, ops, program, logits } = plan(() => ptrs[at++]);
  const [tokens, positions] = first.params;

  /** Writes gpt_step's program (the decoder blocks' and dense layers' packed weights with it). */
  let written = false;
  const writeProgram = () => {
    const head = [d, ids, tokens.ptr, positions.ptr, embedded, ops!.length];
    const i32 = heap.i32, at = program >> 2;
    i32.set(head, at);
    ops!.forEach((op, i) => {
      const fields = op();
      const o = at + GPT.LEN + i * GPT.OP_LEN;
      fields.forEach((v, j) => (j === GPT.OP_ALPHA ? (heap.f32[o + j] = v) : (heap.i32[o + j] = v)));
    });
    written = true;
  };

  /** A ValueError for the token at window position i that is not an id. */
  const notAnId = (position: number, id: number) => new ValueError(`generate: token ${position} = ${id} is not an id in [0, ${first.vocabularySize})`);

  /** The logits after the first n tokens of `window` at positions pos..pos+n-1 (pos 0, or one token after the cache's). */
  const run = (window: ArrayLike<number>, n: number, pos: number): number => {
    const i32 = heap.i32;
    for (let i = 0; i < n; i++) i32[(ids >> 2) + i] = window[i];
    const bad = k.embedding_check(ids, n, first.vocabularySize);
    if (bad >= 0) throw notAnId(pos + bad, window[bad]);
    k.embedding_forward(ids, tokens.ptr, embedded, n, d);
    k.position_table_add(embedded, positions.ptr, embedded, 1, n, d, pos);
    let x = embedded;
    for (let i = 0; i < stages.length; i++) x = stages[i](x, n, pos, i === stages.length - 1);
    return x;
  };

  /** The logits after token id at position pos, one position through the KV caches (holding positions 0..pos-1). */
  const step = (id: number, pos: number): number => {
    if (!program) {
      one[0] = id;
      return run(one, 1, pos);
    }
    // the id as the module would read it from an i32 (embedding_check's test)
    if ((id | 0) < 0 || (id | 0) >= first.vocabularySize) throw notAnId(pos, id);
    if (!written) writeProgram();
    k.gpt_step(program, id | 0, pos);
    return logits;
  };
  const one = [0];

  // the window's tokens: the last T fed (slide 'half': those since the window last restarted), plus room for one more
  const history = new Int32Array(T + 1);
  let held = 0;
  let count = 0; // tokens fed so far: the next one's position
  let disposed = false;
  /**
   * The logits after the window's tokens from position 0, filling the caches: a short window steps through them
   * token by token, as the tokens after it will, which is cheaper than the window's forward, whose GEMMs
   * pack every weight matrix once more for a few rows (the same bits either way). The character GPT, a window of
   * 8 / 16 / 32 / 48 / 64 tokens and one token after it: 0.86 / 1.3 / 2.3 / 3.4 / 4.4 ms stepped against
   * 1.3 / 1.3 / 2.2-2.4 / 2.9 / 3.7 ms through the window; slide 'half' (restarts of 32) 9,119 tokens per CPU-s
   * with this limit at 32, 8,333 at 16.
   */
  const restart = (): number => {
    if (!program || held > PRIME_STEPS) return run(history, held, 0);
    let z = 0;
    for (let i = 0; i < held; i++) z = step(history[i], i);
    return z;
  };
  const tooLong = (promptLength: number) => {
    if (promptLength > T) {
      throw new ShapeError(`generate: the prompt has ${promptLength} tokens, longer than the ${T} positions the model takes (${first.name}: tokenAndPositionEmbedding with sequenceLength ${first.sequenceLength}, no position beyond ${T - 1}); keep at most the last ${T}`);
    }
  };
  return {
    vocabulary: last.units,
    inputDim: first.vocabularySize,
    check: tooLong,
    prime(prompt: ArrayLike<number>): number {
      tooLong(prompt.length);
      for (let i = 0; i < prompt.length; i++) history[i] = prompt[i];
      held = count = prompt.length;
      return restart();
    },
    feed(id: number, position: number): number {
      if (position !== count) throw new ValueError(`generate: token ${position} fed after ${count} tokens`);
      count++;
      history[held++] = id;
      if (half) {
        // history is the window: the tokens since it last restarted, at positions from 0
        if (held > T) {
          const keep = Math.max(1, T >> 1);
          history.copyWithin(0, held - keep, held);
          held = keep;
          return restart();
        }
        return cache ? step(id, held - 1) : run(history, held, 0);
      }
      if (held > T) history.copyWithin(0, 1, held--);
      // one position against the cache while the window has room; else the whole (cropped) window from position 0
      if (cache && position > 0 && count <= T) return step(id, position);
      return run(history, held, 0);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const ptr of ptrs) heap.release(ptr);
    },
  };
}
