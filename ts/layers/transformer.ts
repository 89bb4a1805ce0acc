// KerasNLP's transformer blocks on [steps, features]: self-attention and a feed-forward network, each with a
// residual connection and a layer norm, in one layer that holds its sub-layers (Keras's names) and runs them over
// all batch·steps rows:
//   post-LN (normalizeFirst false):  x = ln1(x + drop(attn(x)));    y = ln2(x + drop(ffn(x)))
//   pre-LN  (normalizeFirst true):   x = x + drop(attn(ln1(x)));    y = x + drop(ffn(ln2(x)))
// with ffn(x) = dense(features)(dense(intermediateDim, activation)(x)) and heads of features / numHeads. The attention
// output's bias, the dropout and the residual sum are one pass (residual_add). transformerEncoder attends over the
// whole sequence; transformerDecoder is decoder-only (GPT): causal self-attention and no cross-attention.
// getWeights order is KerasNLP's build order: the encoder builds its feed-forward norm before the dense layers, the
// decoder after them.
import { Layer, positiveInt, type Buffers, type Env, type LayerArgs, type Reserve } from './layer';
import { MultiHeadAttention, dropoutRate } from './attention';
import { Dense } from './dense';
import { LayerNormalization } from './normalization';
import { resolveActivation } from '../tensor/activations';
import { DEC, rowPackedFloats } from '../backend/kernels';
import { ShapeError, ValueError } from '../backend/errors';

export interface TransformerArgs extends LayerArgs {
  intermediateDim: number;
  numHeads: number;
  /** Dropout inside the attention, after it and after the feed-forward network; default 0. */
  dropout?: number;
  /** The feed-forward network's hidden activation: 'relu' (default, as KerasNLP) or 'gelu'. */
  activation?: string;
  layerNormEpsilon?: number;
  /** Pre-LN (GPT-2) instead of post-LN (the original transformer); default false. */
  normalizeFirst?: boolean;
}

/** Buffers of one plan, by role (see forward). */
interface BlockPlan {
  rows: number;
  attn: Buffers;
  ln1: Buffers;
  ln2: Buffers;
  dense1: Buffers;
  dense2: Buffers;
}

abstract class TransformerBlock extends Layer {
  /** A block acts per step: a padding mask passes on, and its attention gives padded keys no weight. */
  protected override get keepsMask(): boolean {
    return true;
  }

  readonly intermediateDim: number;
  readonly numHeads: number;
  readonly dropout: number;
  readonly activationName: string;
  readonly layerNormEpsilon: number;
  readonly normalizeFirst: boolean;
  /** Built in setup, once the features are known. */
  attention: MultiHeadAttention | null = null;
  private ln1: LayerNormalization | null = null;
  private ln2: LayerNormalization | null = null;
  private dense1: Dense | null = null;
  private dense2: Dense | null = null;
  private readonly plans = new WeakMap<Buffers, BlockPlan>();

  constructor(args: TransformerArgs, readonly kind: string, readonly causal: boolean) {
    super(args);
    this.intermediateDim = positiveInt(args?.intermediateDim, `${kind}: intermediateDim`);
    this.numHeads = positiveInt(args.numHeads, `${kind}: numHeads`);
    this.dropout = dropoutRate(args.dropout, `${kind}: dropout`);
    const act = args.activation ?? 'relu';
    if (act !== 'relu' && act !== 'gelu') throw new ValueError(`${kind}: activation must be 'relu' or 'gelu', got ${String(act)}`);
    this.activationName = act;
    const eps = args.layerNormEpsilon ?? 1e-5;
    if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) throw new ValueError(`${kind}: layerNormEpsilon must be a finite number > 0, got ${String(eps)}`);
    this.layerNormEpsilon = eps;
    this.normalizeFirst = args.normalizeFirst ?? false;
    if (typeof this.normalizeFirst !== 'boolean') throw new ValueError(`${kind}: normalizeFirst must be true or false, got ${String(args.normalizeFirst)}`);
    resolveActivation(act);
  }

  /** The sub-layers in getWeights order. */
  protected abstract order(parts: { attention: Layer; ln1: Layer; ln2: Layer; dense1: Layer; dense2: Layer }): Layer[];

  protected setup(inputShape: number[]): number[] {
    if (inputShape.length !== 2) throw new ShapeError(`${this.name}: ${this.kind} expects a sequence [steps, features], got an input [${inputShape}]`);
    const f = inputShape[1];
    if (f % this.numHeads !== 0) {
      throw new ShapeError(`${this.name}: ${f} features do not split into ${this.numHeads} heads (each head gets features / numHeads; choose numHeads dividing ${f})`);
    }
    const trainable = this.trainable;
    this.attention = new MultiHeadAttention({ name: 'self_attention_layer', numHeads: this.numHeads, keyDim: f / this.numHeads, dropout: this.dropout, useCausalMask: this.causal, trainable });
    this.ln1 = new LayerNormalization({ name: 'self_attention_layer_norm', epsilon: this.layerNormEpsilon, trainable });
    this.ln2 = new LayerNormalization({ name: 'feedforward_layer_norm', epsilon: this.layerNormEpsilon, trainable });
    this.dense1 = new Dense({ name: 'feedforward_intermediate_dense', units: this.intermediateDim, activation: this.activationName, trainable });
    this.dense2 = new Dense({ name: 'feedforward_output_dense', units: f, trainable });
    // the attention sees the sequence; the norms and dense layers run per position over batch·steps rows
    this.attention.build(inputShape);
    this.ln1.build([f]);
    this.ln2.build([f]);
    this.dense1.build([f]);
    this.dense2.build([this.intermediateDim]);
    for (const layer of this.order(this.parts())) {
      for (const p of layer.params) p.name = `${layer.name}/${p.name}`;
      this.params.push(...layer.params);
    }
    return inputShape.slice();
  }

  private parts() {
    return { attention: this.attention!, ln1: this.ln1!, ln2: this.ln2!, dense1: this.dense1!, dense2: this.dense2! };
  }

  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    const positions = capacity * this.inputShape![0];
    const n = positions * this.inputShape![1], m = positions * this.intermediateDim;
    const b: Buffers = {
      // forward: the attention's input (pre-LN: ln1(x)), its projected output z1, the first residual sum r1, the
      // attention half's output h (post-LN: ln1(r1); pre-LN: r1 itself), the feed-forward input (pre-LN: ln2(h)),
      // its hidden f1 and output z2, and the second residual sum r2 (post-LN; pre-LN writes y)
      n1: this.normalizeFirst ? reserve(n) : 0, z1: reserve(n), r1: reserve(n), h: this.normalizeFirst ? 0 : reserve(n),
      n2: this.normalizeFirst ? reserve(n) : 0, f1: reserve(m), z2: reserve(n), r2: this.normalizeFirst ? 0 : reserve(n),
    };
    if (training) {
      Object.assign(b, { gA: reserve(n), gB: reserve(n), gC: reserve(n), gF: reserve(m) });
      if (this.dropout > 0) Object.assign(b, { drop1: reserve(n), drop2: reserve(n) });
    }
    const { attention, ln1, ln2, dense1, dense2 } = this.parts();
    this.plans.set(b, {
      rows: positions,
      attn: attention.reserve(reserve, capacity, training),
      ln1: ln1.reserve(reserve, positions, training), ln2: ln2.reserve(reserve, positions, training),
      dense1: dense1.reserve(reserve, positions), dense2: dense2.reserve(reserve, positions),
    });
    return b;
  }

  private planOf(b: Buffers): BlockPlan {
    const plan = this.plans.get(b);
    if (!plan) throw new ShapeError(`${this.name}: these buffers were not reserved by this block`);
    return plan;
  }

  /** The attention layer's probabilities [rows, heads, steps, steps] of the last forward pass. */
  probabilities(b: Buffers): number {
    return this.attention!.probabilities(this.planOf(b).attn);
  }

  /** The feed-forward network's hidden outputs when its activation is piecewise (relu): where the gradient check
   *  watches for kinks. */
  piecewise(b: Buffers, rows: number): { ptr: number; n: number }[] {
    return this.activationName === 'relu' ? [{ ptr: b.f1, n: rows * this.inputShape![0] * this.intermediateDim }] : [];
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number, training: boolean): void {
    const plan = this.planOf(b);
    if (b.inputMask) plan.attn.inputMask = b.inputMask;
    this.run(env, b, x, y, rows * this.inputShape![0], training, (a, z) => this.attention!.forwardProjected(env, plan.attn, a, z, rows, training));
  }

  /**
   * Generation's KV cache of the block's attention (see MultiHeadAttention.reserveCache) and decoder_step's block;
   * with `packed`, room for its six weight matrices packed for the one-row products (row_pack: as many floats as the
   * weights, their widths rounded up to 32), which decoder_step then streams faster.
   */
  reserveCache(reserve: Reserve, packed = false): Buffers {
    const cache: Buffers = { ...this.attention!.reserveCache(reserve), step: reserve(DEC.LEN) };
    if (packed) cache.packed = reserve(this.packedShapes().reduce((sum, [k, n]) => sum + rowPackedFloats(k, n), 0));
    return cache;
  }

  /** (rows, columns) of the weights decoder_step multiplies a row by, in DEC's PQ..P2 order: WQ WK WV WO W1 W2. */
  private packedShapes(): [number, number][] {
    const a = this.attention!, f = this.inputShape![1], hk = a.numHeads * a.keyDim, hv = a.numHeads * a.valueDim;
    return [[f, hk], [f, hk], [f, hv], [hv, f], [f, this.intermediateDim], [this.intermediateDim, f]];
  }

  /**
   * The forward pass of one sample's positions pos..pos+n-1 in generation (b reserved for one sample, no training):
   * the attention through its KV cache, the norms and the feed-forward network on those n rows only. A decoder's
   * single new position is one decoder_step call (the same kernels on the same buffers, so the same bits).
   */
  forwardCached(env: Env, b: Buffers, cache: Buffers, x: number, y: number, n: number, pos: number): void {
    const plan = this.planOf(b);
    if (n === 1 && pos > 0 && this.causal && cache.step) {
      generationOnly: {
        if (pos >= this.inputShape![0]) throw new ShapeError(`${this.name}: the KV cache holds ${this.inputShape![0]} positions; got position ${pos}`);
        env.k.decoder_step(x, y, this.stepBlock(env, b, cache), pos);
        return;
      }
    }
    this.run(env, b, x, y, n, false, (a, z) => this.attention!.forwardCached(env, plan.attn, cache, a, z, n, pos));
  }

  private readonly stepWritten = new WeakSet<Buffers>();

  /** decoder_step's block for these buffers and caches (reserveCache's), written at the first call. */
  stepBlock(env: Env, b: Buffers, cache: Buffers): number {
    if (!this.stepWritten.has(cache)) this.writeStep(env, b, cache);
    return cache.step;
  }

  /** decoder_step's block for these buffers and caches (pointers only: written once per plan). */
  private writeStep(env: Env, b: Buffers, cache: Buffers): void {
    const { attention, ln1, ln2, dense1, dense2 } = this.parts();
    const plan = this.planOf(b);
    const f = this.inputShape![1];
    const ptr = (p: { ptr: number } | null | undefined) => (p ? p.ptr : 0);
    const at = (name: 'query' | 'key' | 'value' | 'attention_output') => [ptr(attention.param(name, 'kernel')), ptr(attention.param(name, 'bias'))];
    const [w1, b1] = dense1.params, [w2, b2] = dense2.params;
    const weights = [at('query')[0], at('key')[0], at('value')[0], at('attention_output')[0], w1.ptr, w2.ptr];
    // the packed copies (a generation's weights do not change while it runs): written here, at the first step
    // (generation's code, as decoder_step's call is: kept by wasmnn/infer, dropped by a bundle that only predicts)
    const packed = weights.map(() => 0);
    generationOnly: if (cache.packed) {
      let to = cache.packed;
      this.packedShapes().forEach(([rows, cols], i) => {
        env.k.row_pack(weights[i], to, rows, cols);
        packed[i] = to;
        to += rowPackedFloats(rows, cols) * 4;
      });
    }
    const fields = [
      f, attention.numHeads * attention.keyDim, attention.numHeads * attention.valueDim, this.intermediateDim,
      +this.normalizeFirst, dense1.act.code, 0,
      ln1.block(env, plan.ln1, 1), ln2.block(env, plan.ln2, 1), attention.cacheBlock(env, plan.attn, 1, 1),
      ...at('query'), ...at('key'), ...at('value'), ...at('attention_output'), w1.ptr, ptr(b1), w2.ptr, ptr(b2),
      cache.kCache, cache.vCache, plan.attn.q, plan.attn.k, plan.attn.v, plan.attn.o,
      b.n1, b.z1, b.r1, b.h, b.n2, plan.dense1.z ?? b.f1, b.f1, b.z2, b.r2, ...packed,
    ];
    if (fields.length !== DEC.LEN || dense2.act.code !== 0 || !attention.outputBias) throw new ShapeError(`${this.name}: decoder_step's block does not fit this block`);
    env.heap.i32.set(fields, cache.step >> 2);
    env.heap.f32[(cache.step >> 2) + DEC.ALPHA] = dense1.act.alpha;
    this.stepWritten.add(cache);
  }

  /** The block over n rows (positions), the attention half's projected output z from attend(its input, z). */
  private run(env: Env, b: Buffers, x: number, y: number, n: number, training: boolean, attend: (a: number, z: number) => void): void {
    const { k } = env;
    const { attention, ln1, ln2, dense1, dense2 } = this.parts();
    const plan = this.planOf(b);
    const f = this.inputShape![1];
    const dropout = training && this.dropout > 0 && !!b.drop1;
    if (dropout) {
      trainingOnly: {
        k.rng_dropout_mask(env.rng, b.drop1, n * f, this.dropout);
        k.rng_dropout_mask(env.rng, b.drop2, n * f, this.dropout);
      }
    }
    const bias = attention.outputBias!;
    // the attention half
    const a = this.normalizeFirst ? b.n1 : x;
    if (this.normalizeFirst) ln1.forward(env, plan.ln1, x, b.n1, n);
    attend(a, b.z1);
    k.residual_add(b.z1, bias.ptr, dropout ? b.drop1 : 0, x, b.r1, n, f);
    const h = this.normalizeFirst ? b.r1 : b.h;
    if (!this.normalizeFirst) ln1.forward(env, plan.ln1, b.r1, b.h, n);
    // the feed-forward half
    const fin = this.normalizeFirst ? b.n2 : h;
    if (this.normalizeFirst) ln2.forward(env, plan.ln2, h, b.n2, n);
    dense1.forward(env, plan.dense1, fin, b.f1, n, training, false);
    dense2.forward(env, plan.dense2, b.f1, b.z2, n, training, false);
    const r2 = this.normalizeFirst ? y : b.r2;
    k.residual_add(b.z2, 0, dropout ? b.drop2 : 0, h, r2, n, f);
    if (!this.normalizeFirst) ln2.forward(env, plan.ln2, b.r2, y, n);
  }

  override backward(env: Env, b: Buffers, x: number, y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      const { k } = env;
      const { attention, ln1, ln2, dense1, dense2 } = this.parts();
      const plan = this.planOf(b);
      const n = rows * this.inputShape![0], f = this.inputShape![1], nf = n * f;
      const drop = this.dropout > 0 && !!b.drop1;
      const pre = this.normalizeFirst;
      const h = pre ? b.r1 : b.h, fin = pre ? b.n2 : h;
      // dr2: the gradient of the second residual sum (post-LN: through ln2)
      let dr2 = dy;
      if (!pre) {
        ln2.backward(env, plan.ln2, b.r2, y, dy, b.gA, n);
        dr2 = b.gA;
      }
      // dz2 = dr2 ⊙ drop2 (a copy: dense2's backward may overwrite its dy)
      if (drop) k.vec_mul(dr2, b.drop2, b.gB, nf);
      else k.vec_copy(dr2, b.gB, nf);
      dense2.backward(env, plan.dense2, b.f1, b.z2, b.gB, b.gF, n);
      // dfin into gC; pre-LN: through ln2 into gB (free again)
      dense1.backward(env, plan.dense1, fin, b.f1, b.gF, b.gC, n);
      let dh = b.gC;
      if (pre) {
        ln2.backward(env, plan.ln2, h, b.n2, b.gC, b.gB, n);
        dh = b.gB;
      }
      k.vec_add_inplace(dh, dr2, nf); // + the residual path
      // dr1: post-LN through ln1 (into gA, dr2 is done with)
      let dr1 = dh;
      if (!pre) {
        ln1.backward(env, plan.ln1, b.r1, b.h, dh, b.gA, n);
        dr1 = b.gA;
      }
      // dz1 = dr1 ⊙ drop1, into the buffer dr1 is not in
      const dz1 = dr1 === b.gC ? b.gB : b.gC;
      if (drop) k.vec_mul(dr1, b.drop1, dz1, nf);
      else k.vec_copy(dr1, dz1, nf);
      const bias = attention.outputBias!;
      if (bias.grad) k.bias_grad(dz1, bias.grad, n, f, 0);
      if (pre) {
        // dr1 is in gB, dz1 in gC: the attention's input gradient goes to gA, then through ln1 to dx
        attention.backwardProjected(env, plan.attn, b.n1, dz1, b.gA, rows);
        ln1.backward(env, plan.ln1, x, b.n1, b.gA, dx, n);
      } else {
        attention.backwardProjected(env, plan.attn, x, dz1, dx, rows);
      }
      if (dx) k.vec_add_inplace(dx, dr1, nf);
    }
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), intermediateDim: this.intermediateDim, numHeads: this.numHeads, dropout: this.dropout,
      activation: this.activationName, layerNormEpsilon: this.layerNormEpsilon, normalizeFirst: this.normalizeFirst,
    };
  }
}

/** Rejects a causal-mask option on an encoder, saying why. */
function noCausalMask(args: TransformerArgs & { useCausalMask?: unknown }): TransformerArgs {
  if (args?.useCausalMask) {
    throw new ValueError('transformerEncoder: useCausalMask cannot be used: an encoder lets every position see the whole sequence (KerasNLP\'s TransformerEncoder has no causal mask); for causal self-attention use transformerDecoder');
  }
  return args;
}

export class TransformerEncoder extends TransformerBlock {
  readonly className = 'TransformerEncoder';

  constructor(args: TransformerArgs) {
    super(noCausalMask(args), 'transformerEncoder', false);
  }

  protected order(p: { attention: Layer; ln1: Layer; ln2: Layer; dense1: Layer; dense2: Layer }): Layer[] {
    return [p.attention, p.ln1, p.ln2, p.dense1, p.dense2];
  }
}

export class TransformerDecoder extends TransformerBlock {
  readonly className = 'TransformerDecoder';

  constructor(args: TransformerArgs & { useCausalMask?: unknown }) {
    if (args?.useCausalMask === false) {
      throw new ValueError('transformerDecoder: useCausalMask false is not supported: this decoder-only block is causal by design (each position sees itself and the positions before it); use transformerEncoder to attend over the whole sequence');
    }
    super(args, 'transformerDecoder', true);
  }

  protected order(p: { attention: Layer; ln1: Layer; ln2: Layer; dense1: Layer; dense2: Layer }): Layer[] {
    return [p.attention, p.ln1, p.dense1, p.dense2, p.ln2];
  }
}

export const transformerEncoder = (args: TransformerArgs): TransformerEncoder => new TransformerEncoder(args);
export const transformerDecoder = (args: TransformerArgs): TransformerDecoder => new TransformerDecoder(args);
