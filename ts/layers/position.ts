// Position information for sequences [steps, features], added to the input (a sequential model has one path, so
// these add what KerasNLP's layers of the same names return for the caller to add):
//   sinePositionEncoding   PE(pos, 2i) = sin(pos / W^(2i/d)), PE(pos, 2i+1) = cos(pos / W^(2i/d)), W = maxWavelength;
//                          the table is written once per plan (position_encoding_add, f64 inside the module) and
//                          each pass adds it (position_table_add): the same bits as computing it every time
//   positionEmbedding      a learned table [sequenceLength, features], rows 0..steps-1 added
//   tokenAndPositionEmbedding  token ids [steps] in: token_embedding [vocabularySize, embeddingDim] looked up, plus a
//                          learned position table [sequenceLength, embeddingDim]; with maskZero (KerasNLP's mask_zero)
//                          id 0 is padding and the layer writes the [B, T] mask that the attention (padded keys get
//                          no weight), the blocks and global pooling (padded steps skipped) read, as embedding's
import { Layer, positiveInt, type Buffers, type Env, type LayerArgs, type ParamInit, type Reserve } from './layer';
import { glorotUniform, randomUniform } from './initializers';
import { ShapeError, ValueError } from '../backend/errors';

/** A sequence input [steps, features], checked against an optional longest length. */
function sequenceShape(layer: Layer, inputShape: number[], what: string, sequenceLength?: number): void {
  if (inputShape.length !== 2) throw new ShapeError(`${layer.name}: ${what} expects a sequence [steps, features], got an input [${inputShape}]`);
  checkLength(layer, inputShape[0], what, sequenceLength);
}

function checkLength(layer: Layer, steps: number, what: string, sequenceLength?: number): void {
  if (sequenceLength !== undefined && steps > sequenceLength) {
    throw new ShapeError(`${layer.name}: the input has ${steps} steps, longer than the ${what}'s sequenceLength ${sequenceLength} (it has no position beyond ${sequenceLength - 1})`);
  }
}

export interface SinePositionEncodingArgs extends LayerArgs {
  /** The longest wavelength, W in the formula; default 10000. */
  maxWavelength?: number;
}

export class SinePositionEncoding extends Layer {
  readonly className = 'SinePositionEncoding';
  readonly maxWavelength: number;

  constructor(args: SinePositionEncodingArgs = {}) {
    super(args);
    const w = args.maxWavelength ?? 10000;
    if (typeof w !== 'number' || !(w > 0) || !Number.isFinite(w)) throw new ValueError(`sinePositionEncoding: maxWavelength must be a finite number > 0, got ${String(w)}`);
    this.maxWavelength = w;
  }

  protected setup(inputShape: number[]): number[] {
    sequenceShape(this, inputShape, 'sinePositionEncoding');
    return inputShape.slice();
  }

  /** The table [steps, features], written on the plan's first forward pass (filled: 0 until then). */
  override reserve(reserve: Reserve): Buffers {
    return { table: reserve(this.inputSize), filled: 0 };
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number): void {
    const [t, f] = this.inputShape!;
    if (!b.filled) {
      env.k.vec_fill(b.table, t * f, 0);
      env.k.position_encoding_add(b.table, b.table, 1, t, f, 0, this.maxWavelength);
      b.filled = 1;
    }
    env.k.position_table_add(x, b.table, y, rows, t, f, 0);
  }

  override backward(env: Env, _b: Buffers, _x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: if (dx) env.k.vec_copy(dy, dx, rows * this.inputSize);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), maxWavelength: this.maxWavelength };
  }
}

export interface PositionEmbeddingArgs extends LayerArgs {
  /** The longest sequence: the table's rows. */
  sequenceLength: number;
}

/** The gradient of a position table [sequenceLength, d] from dy [rows, steps, d]: the batch sum, 0 past steps. */
function tableGrad(env: Env, dy: number, grad: number, rows: number, steps: number, d: number, sequenceLength: number): void {
  env.k.bias_grad(dy, grad, rows, steps * d, 0);
  if (steps < sequenceLength) env.k.vec_fill(grad + steps * d * 4, (sequenceLength - steps) * d, 0);
}

export class PositionEmbedding extends Layer {
  readonly className = 'PositionEmbedding';
  readonly sequenceLength: number;

  constructor(args: PositionEmbeddingArgs) {
    super(args);
    this.sequenceLength = positiveInt(args?.sequenceLength, 'positionEmbedding: sequenceLength');
  }

  protected setup(inputShape: number[]): number[] {
    sequenceShape(this, inputShape, 'positionEmbedding', this.sequenceLength);
    this.addParam('embeddings', [this.sequenceLength, inputShape[1]]);
    return inputShape.slice();
  }

  protected override paramInit(): ParamInit {
    trainingOnly: return { initializer: glorotUniform() };
  }

  forward(env: Env, _b: Buffers, x: number, y: number, rows: number): void {
    const [t, f] = this.inputShape!;
    env.k.position_table_add(x, this.params[0].ptr, y, rows, t, f, 0);
  }

  override backward(env: Env, _b: Buffers, _x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      const [t, f] = this.inputShape!;
      const table = this.params[0];
      if (table.grad) tableGrad(env, dy, table.grad, rows, t, f, this.sequenceLength);
      if (dx) env.k.vec_copy(dy, dx, rows * t * f);
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), sequenceLength: this.sequenceLength };
  }
}

export interface TokenAndPositionEmbeddingArgs extends LayerArgs {
  vocabularySize: number;
  sequenceLength: number;
  embeddingDim: number;
  /** Id 0 is padding: the layers above skip those steps (as embedding's maskZero); default false. */
  maskZero?: boolean;
}

export class TokenAndPositionEmbedding extends Layer {
  readonly className = 'TokenAndPositionEmbedding';
  readonly vocabularySize: number;
  readonly sequenceLength: number;
  readonly embeddingDim: number;
  readonly maskZero: boolean;

  constructor(args: TokenAndPositionEmbeddingArgs) {
    super(args);
    this.vocabularySize = positiveInt(args?.vocabularySize, 'tokenAndPositionEmbedding: vocabularySize');
    this.sequenceLength = positiveInt(args.sequenceLength, 'tokenAndPositionEmbedding: sequenceLength');
    this.embeddingDim = positiveInt(args.embeddingDim, 'tokenAndPositionEmbedding: embeddingDim');
    if (args.maskZero !== undefined && typeof args.maskZero !== 'boolean') throw new ValueError(`tokenAndPositionEmbedding: maskZero must be true or false, got ${String(args.maskZero)}`);
    this.maskZero = args.maskZero ?? false;
  }

  protected setup(inputShape: number[]): number[] {
    if (inputShape.length !== 1) throw new ShapeError(`${this.name}: tokenAndPositionEmbedding takes token ids [steps], got an input [${inputShape}]`);
    checkLength(this, inputShape[0], 'tokenAndPositionEmbedding', this.sequenceLength);
    this.addParam('token_embedding/embeddings', [this.vocabularySize, this.embeddingDim]);
    this.addParam('position_embedding/embeddings', [this.sequenceLength, this.embeddingDim]);
    return [inputShape[0], this.embeddingDim];
  }

  protected override paramInit(name: string): ParamInit {
    // Keras's Embedding starts uniform in ±0.05; KerasNLP's PositionEmbedding glorot-uniform
    trainingOnly: return { initializer: name.startsWith('token') ? randomUniform({ minval: -0.05, maxval: 0.05 }) : glorotUniform() };
  }

  /** The ids as i32, one per sample and step, and with maskZero the mask [capacity, steps] the layers above read. */
  override reserve(reserve: Reserve, capacity: number): Buffers {
    const n = capacity * this.inputShape![0];
    return this.maskZero ? { ids: reserve(n), mask: reserve(n) } : { ids: reserve(n) };
  }

  override outputMask(b: Buffers): number {
    return b.mask ?? 0;
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number): void {
    const { k } = env;
    const t = this.inputShape![0], d = this.embeddingDim;
    const bad = k.embedding_ids(x, b.ids, rows * t, this.vocabularySize);
    if (bad >= 0) {
      const value = env.heap.f32[(x >> 2) + bad];
      throw new ValueError(`${this.name}: sample ${Math.floor(bad / t)} step ${bad % t} holds ${value}, not a token id (a whole number in [0, ${this.vocabularySize}), the vocabularySize)`);
    }
    if (b.mask) k.embedding_mask(b.ids, b.mask, rows * t);
    const [tokens, positions] = this.params;
    k.embedding_forward(b.ids, tokens.ptr, y, rows * t, d);
    k.position_table_add(y, positions.ptr, y, rows, t, d, 0);
  }

  override backward(env: Env, b: Buffers, _x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      const t = this.inputShape![0], d = this.embeddingDim;
      const [tokens, positions] = this.params;
      if (tokens.grad) env.k.embedding_backward(b.ids, dy, tokens.grad, rows * t, this.vocabularySize, d, 0);
      if (positions.grad) tableGrad(env, dy, positions.grad, rows, t, d, this.sequenceLength);
      // ids have no gradient: a caller that asks for one gets zeros
      if (dx) env.k.vec_fill(dx, rows * t, 0);
    }
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), vocabularySize: this.vocabularySize, sequenceLength: this.sequenceLength, embeddingDim: this.embeddingDim,
      maskZero: this.maskZero,
    };
  }
}

export const sinePositionEncoding = (args?: SinePositionEncodingArgs): SinePositionEncoding => new SinePositionEncoding(args);
export const positionEmbedding = (args: PositionEmbeddingArgs): PositionEmbedding => new PositionEmbedding(args);
export const tokenAndPositionEmbedding = (args: TokenAndPositionEmbeddingArgs): TokenAndPositionEmbedding => new TokenAndPositionEmbedding(args);
