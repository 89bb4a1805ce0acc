// Multi-head self-attention on [steps, features] per sample (Keras's MultiHeadAttention with query = key = value):
//   q = x·Wq + bq, k = x·Wk + bk, v = x·Wv + bv     GEMMs over all batch·steps rows at once
//   o = softmax(q kᵀ / sqrt(keyDim)) v per head       attention_forward over every sample and head in one call
//   y = o·Wo + bo                                     one GEMM back to the features
// Weights in Keras's layout and order: query/key/value kernels [features, numHeads, keyDim] (value: valueDim) with
// biases [numHeads, keyDim], the output kernel [numHeads, valueDim, features] with its bias [features]. Stored
// row-major these are the GEMMs' [features, numHeads·keyDim] and [numHeads·valueDim, features] matrices, and the
// projections come out as attention_forward's [B, T, H, dk] layouts without a transpose.
// The probabilities [B, H, T, T] stay in the layer's buffers: backward needs them and model.attentionScores reads them.
// A padding mask from embedding({ maskZero }) (the network's b.inputMask, [B, T], 1 = a real step) reaches the
// kernels as ATT_MASK: padded keys get no weight (as PyTorch's key_padding_mask); the mask is passed on per step.
import { Layer, positiveInt, type Buffers, type Env, type LayerArgs, type ParamInit, type Reserve } from './layer';
import { glorotUniform, zeros } from './initializers';
import { ATT } from '../backend/kernels';
import { ShapeError, ValueError } from '../backend/errors';

export interface MultiHeadAttentionArgs extends LayerArgs {
  numHeads: number;
  /** Size of each head's query and key. */
  keyDim: number;
  /** Size of each head's value; default keyDim. */
  valueDim?: number;
  /** Dropout on the attention probabilities in training; default 0. */
  dropout?: number;
  /** Biases on the four projections; default true. */
  useBias?: boolean;
  /** Position t attends to positions <= t only (GPT); default false. */
  useCausalMask?: boolean;
}

/** A dropout rate in [0, 1). */
export function dropoutRate(v: unknown, what: string): number {
  const rate = v ?? 0;
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new ValueError(`${what} must be a number in [0, 1), got ${String(v)}`);
  return rate;
}

/** Keras's weight names in getWeights order (query, key, value, attention_output; kernel before bias). */
const PROJECTIONS = ['query', 'key', 'value', 'attention_output'] as const;

export class MultiHeadAttention extends Layer {
  /** Attention acts per query step: a padding mask passes on (and its padded keys get no weight). */
  protected override get keepsMask(): boolean {
    return true;
  }

  readonly className = 'MultiHeadAttention';
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly dropout: number;
  readonly useBias: boolean;
  readonly useCausalMask: boolean;

  constructor(args: MultiHeadAttentionArgs) {
    super(args);
    this.numHeads = positiveInt(args?.numHeads, 'multiHeadAttention: numHeads');
    this.keyDim = positiveInt(args.keyDim, 'multiHeadAttention: keyDim');
    this.valueDim = positiveInt(args.valueDim ?? this.keyDim, 'multiHeadAttention: valueDim');
    this.dropout = dropoutRate(args.dropout, 'multiHeadAttention: dropout');
    this.useBias = args.useBias ?? true;
    this.useCausalMask = args.useCausalMask ?? false;
    if (typeof this.useBias !== 'boolean') throw new ValueError(`multiHeadAttention: useBias must be true or false, got ${String(args.useBias)}`);
    if (typeof this.useCausalMask !== 'boolean') throw new ValueError(`multiHeadAttention: useCausalMask must be true or false, got ${String(args.useCausalMask)}`);
  }

  get steps(): number {
    return this.inputShape![0];
  }
  get features(): number {
    return this.inputShape![1];
  }

  protected setup(inputShape: number[]): number[] {
    if (inputShape.length !== 2) {
      throw new ShapeError(`${this.name}: multiHeadAttention is self-attention over a sequence [steps, features], got an input [${inputShape}]`);
    }
    const [, f] = inputShape;
    const h = this.numHeads, dk = this.keyDim, dv = this.valueDim;
    for (const [name, width] of [['query', dk], ['key', dk], ['value', dv]] as const) {
      // glorot over the matrix the GEMM multiplies: [features, heads·width]
      this.addParam(`${name}/kernel`, [f, h, width], { fanIn: f, fanOut: h * width });
      if (this.useBias) this.addParam(`${name}/bias`, [h, width], { fanIn: f, fanOut: h * width });
    }
    this.addParam('attention_output/kernel', [h, dv, f], { fanIn: h * dv, fanOut: f });
    if (this.useBias) this.addParam('attention_output/bias', [f], { fanIn: h * dv, fanOut: f });
    return inputShape.slice();
  }

  /** The parameter `projection/kernel` or `projection/bias` (bias: null without biases). */
  param(projection: (typeof PROJECTIONS)[number], kind: 'kernel' | 'bias') {
    const suffix = `${projection}/${kind}`;
    return this.params.find((p) => p.name === suffix || p.name.endsWith(`/${suffix}`)) ?? null;
  }

  /** The output projection's bias (a block adds it in its fused residual pass). */
  get outputBias() {
    return this.param('attention_output', 'bias');
  }

  protected override paramInit(name: string): ParamInit {
    trainingOnly: return { initializer: name.endsWith('kernel') ? glorotUniform() : zeros() };
  }

  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    const t = this.steps, h = this.numHeads;
    const qk = capacity * t * h * this.keyDim, vo = capacity * t * h * this.valueDim;
    const b: Buffers = {
      att: reserve(ATT.LEN), q: reserve(qk), k: reserve(qk), v: reserve(vo), o: reserve(vo),
      probs: reserve(capacity * h * t * t),
    };
    if (training) {
      Object.assign(b, { scratch: reserve(ATT.ROWS * t), dq: reserve(qk), dk: reserve(qk), dv: reserve(vo), dout: reserve(vo) });
      if (this.dropout > 0) b.drop = reserve(capacity * h * t * t);
    }
    return b;
  }

  /** Where the probabilities [rows, heads, steps, steps] of the last forward pass are. */
  probabilities(b: Buffers): number {
    return b.probs;
  }

  /** Writes the attention block for `rows` samples; dropout only in training. */
  private block(env: Env, b: Buffers, rows: number, dropout: boolean): number {
    const i32 = env.heap.i32;
    const fields = [rows, this.steps, this.numHeads, this.keyDim, this.valueDim, +this.useCausalMask,
      b.inputMask ?? 0, dropout ? b.drop : 0, b.probs, b.scratch ?? 0, 0, 0];
    i32.set(fields, b.att >> 2);
    return b.att;
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number, training: boolean): void {
    this.forwardProjected(env, b, x, y, rows, training);
    const bias = this.outputBias;
    if (bias) env.k.bias_act_forward(y, bias.ptr, y, rows * this.steps, this.features, 0, 0);
  }

  /**
   * Everything but the output projection's bias: z (rows·steps, features) = attention(x)·Wo. A transformer block adds
   * the bias in its residual pass (residual_add) instead of a pass of its own.
   */
  forwardProjected(env: Env, b: Buffers, x: number, z: number, rows: number, training: boolean): void {
    const { k } = env;
    const n = rows * this.steps, f = this.features;
    const hv = this.numHeads * this.valueDim;
    this.project(env, b, x, n);
    const dropout = training && this.dropout > 0 && !!b.drop;
    if (dropout) {
      trainingOnly: k.rng_dropout_mask(env.rng, b.drop, rows * this.numHeads * this.steps * this.steps, this.dropout);
    }
    k.attention_forward(b.q, b.k, b.v, b.o, this.block(env, b, rows, dropout));
    // z (n, features) = o (n, heads·valueDim) · Wo (heads·valueDim, features)
    k.gemm_nn(b.o, this.param('attention_output', 'kernel')!.ptr, z, n, hv, f, 0);
  }

  /** q, k, v (n, heads·width) = x (n, features) · W (features, heads·width) + b, into b.q, b.k, b.v. */
  private project(env: Env, b: Buffers, x: number, n: number): void {
    const { k } = env;
    const f = this.features, hk = this.numHeads * this.keyDim, hv = this.numHeads * this.valueDim;
    for (const [name, out, width] of [['query', b.q, hk], ['key', b.k, hk], ['value', b.v, hv]] as const) {
      k.gemm_nn(x, this.param(name, 'kernel')!.ptr, out, n, f, width, 0);
      const bias = this.param(name, 'bias');
      if (bias) k.bias_act_forward(out, bias.ptr, out, n, width, 0, 0);
    }
  }

  /** Generation's KV cache for one sample: kCache [heads, keyDim, steps] (transposed), vCache [steps, heads, valueDim]. */
  reserveCache(reserve: Reserve): Buffers {
    const t = this.steps, h = this.numHeads;
    return { kCache: reserve(h * this.keyDim * t), vCache: reserve(t * h * this.valueDim) };
  }

  /**
   * forwardProjected for one sample in generation, with the KV cache: z (n, features) for the n positions
   * pos..pos+n-1 of x (n, features). From pos 0 (a prompt) the n positions attend causally to each other and their
   * keys and values fill the cache (attention_cache_fill); after that one position at a time (n = 1) attends to the
   * cache (attention_step), the work of one position instead of the window's. b: this layer's buffers for one sample.
   */
  forwardCached(env: Env, b: Buffers, cache: Buffers, x: number, z: number, n: number, pos: number): void {
    // kept by wasmnn/infer (wasmnn/infer/generate steps its models); `wasmnn bundle`, which only predicts, drops it
    generationOnly: {
      const { k } = env;
      const t = this.steps, h = this.numHeads, dk = this.keyDim, dv = this.valueDim;
      if (!this.useCausalMask) throw new ShapeError(`${this.name}: a KV cache needs causal attention (useCausalMask), else an early position would see later ones`);
      if (pos + n > t || (pos > 0 && n !== 1)) throw new ShapeError(`${this.name}: the KV cache takes a prompt from position 0 or one position after it, within ${t} steps; got ${n} at ${pos}`);
      this.project(env, b, x, n);
      this.cacheBlock(env, b, n, pos);
      if (pos === 0) {
        k.attention_forward(b.q, b.k, b.v, b.o, b.att);
        k.attention_cache_fill(b.k, b.v, cache.kCache, cache.vCache, b.att);
      } else {
        k.attention_step(b.q, b.k, b.v, cache.kCache, cache.vCache, b.o, b.att);
      }
      k.gemm_nn(b.o, this.param('attention_output', 'kernel')!.ptr, z, n, h * dv, this.features, 0);
    }
  }

  /** Writes the cache kernels' attention block (one sample, n positions from pos, causal) and returns its address. */
  cacheBlock(env: Env, b: Buffers, n: number, pos: number): number {
    env.heap.i32.set([1, n, this.numHeads, this.keyDim, this.valueDim, 1, 0, 0, b.probs, 0, this.steps, pos], b.att >> 2);
    return b.att;
  }

  override backward(env: Env, b: Buffers, x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      const bias = this.outputBias;
      if (bias?.grad) env.k.bias_grad(dy, bias.grad, rows * this.steps, this.features, 0);
      this.backwardProjected(env, b, x, dy, dx, rows);
    }
  }

  /**
   * The backward pass of forwardProjected: dz (rows·steps, features) is the gradient of its output; writes every
   * parameter gradient but the output bias's, and dx (when not 0). The forward pass's training buffers must be intact.
   */
  backwardProjected(env: Env, b: Buffers, x: number, dz: number, dx: number, rows: number): void {
    trainingOnly: {
      const { k } = env;
      const n = rows * this.steps, f = this.features;
      const hk = this.numHeads * this.keyDim, hv = this.numHeads * this.valueDim;
      const wo = this.param('attention_output', 'kernel')!;
      // dWo (heads·dv, features) = oᵀ · dz;  dout (n, heads·dv) = dz · Woᵀ
      if (wo.grad) k.gemm_tn(b.o, dz, wo.grad, hv, n, f, 0);
      k.gemm_nt(dz, wo.ptr, b.dout, n, f, hv, 0);
      // dq, dk, dv through the stored probabilities (the block is the forward's: same rows, same dropout mask)
      k.attention_backward(b.q, b.k, b.v, b.dout, b.dq, b.dk, b.dv, b.att);
      let first = true;
      for (const [name, grad, width] of [['query', b.dq, hk], ['key', b.dk, hk], ['value', b.dv, hv]] as const) {
        const kernel = this.param(name, 'kernel')!, bias = this.param(name, 'bias');
        // dW (features, heads·width) = xᵀ · dproj;  db = Σ rows dproj;  dx (+)= dproj · Wᵀ
        if (kernel.grad) k.gemm_tn(x, grad, kernel.grad, f, n, width, 0);
        if (bias?.grad) k.bias_grad(grad, bias.grad, n, width, 0);
        if (dx) k.gemm_nt(grad, kernel.ptr, dx, n, width, f, first ? 0 : 1);
        first = false;
      }
    }
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), numHeads: this.numHeads, keyDim: this.keyDim, valueDim: this.valueDim,
      dropout: this.dropout, useBias: this.useBias, useCausalMask: this.useCausalMask,
    };
  }
}

export const multiHeadAttention = (args: MultiHeadAttentionArgs): MultiHeadAttention => new MultiHeadAttention(args);
