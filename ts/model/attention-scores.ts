// model.attentionScores: the attention probabilities of one attention layer (a multiHeadAttention, or the one inside
// a transformer block) for an input, [batch, heads, steps, steps]. The layers keep them from every forward pass (the
// backward pass reads them); this runs the inference forward pass and copies them out, block by block as predict.
import type { Network } from '../engine/network';
import type { Buffers, Layer } from '../layers/layer';
import { MultiHeadAttention } from '../layers/attention';
import { TransformerDecoder, TransformerEncoder } from '../layers/transformer';
import { Tensor, type TensorLike } from '../tensor/tensor';
import { checkBatchFinite, checkBatchSize, checkInputs } from '../train/validate';
import { NotFoundError, ValueError } from '../backend/errors';

export interface AttentionScoresArgs {
  /** The attention layer: its name or its index in model.layers; default the first one. */
  layer?: string | number;
  batchSize?: number;
}

/** The layer's attention and where its probabilities are in a plan's buffers. */
function attentionOf(layer: Layer): { heads: number; probs: (b: Buffers) => number } | null {
  if (layer instanceof MultiHeadAttention) return { heads: layer.numHeads, probs: (b) => layer.probabilities(b) };
  if (layer instanceof TransformerEncoder || layer instanceof TransformerDecoder) {
    return { heads: layer.numHeads, probs: (b) => layer.probabilities(b) };
  }
  return null;
}

/** Index of the chosen attention layer in net.layers (typed errors naming the choices). */
function choose(layers: Layer[], which: string | number | undefined): number {
  const candidates = layers.map((l, i) => [l, i] as const).filter(([l]) => attentionOf(l));
  const names = candidates.map(([l, i]) => `${i}: ${l.name}`).join(', ');
  if (candidates.length === 0) throw new NotFoundError('attentionScores: the model has no attention layer (multiHeadAttention, transformerEncoder or transformerDecoder)');
  if (which === undefined) return candidates[0][1];
  let index: number;
  if (typeof which === 'number') {
    if (!Number.isInteger(which) || which < 0 || which >= layers.length) throw new NotFoundError(`attentionScores: no layer ${which}; the attention layers are ${names}`);
    index = which;
  } else if (typeof which === 'string') {
    index = layers.findIndex((l) => l.name === which);
    if (index < 0) throw new NotFoundError(`attentionScores: no layer named '${which}'; the attention layers are ${names}`);
  } else {
    throw new ValueError(`attentionScores: layer must be a layer name or index, got ${typeof which}`);
  }
  if (!attentionOf(layers[index])) throw new ValueError(`attentionScores: layer ${index} (${layers[index].name}) has no attention; the attention layers are ${names}`);
  return index;
}

export function attentionScores(model: { network: Network; inputShape: number[] }, x: TensorLike, args: AttentionScoresArgs = {}): Tensor {
  const net = model.network;
  const index = choose(net.layers, args?.layer);
  const batchSize = checkBatchSize(args.batchSize ?? 256);
  const layer = net.layers[index];
  const { heads, probs } = attentionOf(layer)!;
  const steps = layer.inputShape![0];
  const samples = checkInputs(x, model.inputShape, 'x', false);
  const per = heads * steps * steps;
  const out = new Float32Array(samples.n * per);
  if (samples.n > 0) {
    const plan = net.plan(net.inferenceRows(Math.min(batchSize, samples.n)), false);
    const rowSize = net.layers[0].inputSize;
    const at = probs(plan.buffers[index]) >> 2;
    for (let start = 0; start < samples.n; start += plan.capacity) {
      const rows = Math.min(plan.capacity, samples.n - start);
      net.env.heap.f32.set(samples.data.subarray(start * rowSize, (start + rows) * rowSize), plan.input >> 2);
      checkBatchFinite(net.env.k, plan.input, samples.data, start, rows, rowSize);
      net.forward(plan, rows, false, false);
      out.set(net.env.heap.f32.subarray(at, at + rows * per), start * per);
    }
  }
  return new Tensor(out, [samples.n, heads, steps, steps]);
}
