// Embedding: token ids in, rows of a learned table out. x [B, T] holds the ids as the model's f32 input (whole
// numbers in [0, inputDim)); they are checked and turned into i32 in the module (embedding_ids), looked up
// (embedding_forward) and the table's gradient is their scatter-add (embedding_backward: an id repeated in a batch
// sums its rows in a fixed order). With maskZero, id 0 is padding: the layer writes a [B, T] mask (1 = real step)
// that the layers above read (a recurrent layer keeps the state over padded steps, see Layer.outputMask).
import { Layer, positiveInt, type Buffers, type Env, type LayerArgs, type Param, type ParamInit, type Reserve } from './layer';
import { resolveInitializer, initializerNameOf, randomUniform, type Initializer } from './initializers';
import { resolveRegularizer, type Regularizer } from './regularizers';
import { ShapeError, ValueError } from '../backend/errors';

export interface EmbeddingArgs extends LayerArgs {
  inputDim: number;
  outputDim: number;
  /** Id 0 is padding: later layers skip those steps (the vocabulary then has inputDim - 1 real tokens). */
  maskZero?: boolean;
  embeddingsInitializer?: Initializer | string;
  embeddingsRegularizer?: Regularizer | string;
}

export class Embedding extends Layer {
  readonly className = 'Embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly maskZero: boolean;
  readonly #init: Initializer | string | undefined;
  readonly #initName: string;
  readonly #reg: Regularizer | null;
  /** The recurrent layer this one runs with as a pair (pairWith), or null. */
  #above: TakesIds | null = null;

  constructor(args: EmbeddingArgs) {
    super(args);
    this.inputDim = positiveInt(args?.inputDim, 'embedding: inputDim');
    this.outputDim = positiveInt(args.outputDim, 'embedding: outputDim');
    if (args.maskZero !== undefined && typeof args.maskZero !== 'boolean') throw new ValueError(`embedding: maskZero must be true or false, got ${String(args.maskZero)}`);
    this.maskZero = args.maskZero ?? false;
    this.#init = args.embeddingsInitializer;
    // Keras's default: uniform in [-0.05, 0.05)
    this.#initName = initializerNameOf(args.embeddingsInitializer, 'randomUniform');
    this.#reg = resolveRegularizer(args.embeddingsRegularizer);
  }

  protected setup(inputShape: number[]): number[] {
    if (inputShape.length !== 1) {
      throw new ShapeError(`${this.name}: embedding expects token ids [steps], got an input of shape [${inputShape}]`);
    }
    this.addParam('embeddings', [this.inputDim, this.outputDim]);
    return [inputShape[0], this.outputDim];
  }

  protected override paramInit(): ParamInit {
    trainingOnly: return { initializer: resolveInitializer(this.#init, randomUniform), regularizer: this.#reg };
  }

  /** ids [capacity, T] i32, and with maskZero the mask [capacity, T] the layers above read. */
  override reserve(reserve: Reserve, capacity: number): Buffers {
    const n = capacity * this.inputSize;
    return this.maskZero ? { ids: reserve(n), mask: reserve(n) } : { ids: reserve(n) };
  }

  override outputMask(b: Buffers): number {
    return b.mask ?? 0;
  }

  override checkInput(data: ArrayLike<number>, what: string): void {
    const steps = this.inputSize;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!(v >= 0 && v < this.inputDim && v === Math.trunc(v))) throw this.badId(v, i, steps, what);
    }
  }

  private badId(v: number, at: number, steps: number, what: string): ValueError {
    const why = !(v >= 0) ? 'negative or not a number' : v !== Math.trunc(v) ? 'not a whole number' : `>= inputDim ${this.inputDim}`;
    return new ValueError(`${what}: token id ${v} at sample ${Math.floor(at / steps)}, step ${at % steps} is ${why}; ${this.name} takes whole numbers in [0, ${this.inputDim})`);
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number): void {
    this.#ids(env, b, x, rows);
    // y [rows, T, outputDim] = table[ids]
    env.k.embedding_forward(b.ids, this.params[0].ptr, y, rows * this.inputSize, this.outputDim);
  }

  /** ids [rows, T] i32 from x, checked, and with maskZero the mask. */
  #ids(env: Env, b: Buffers, x: number, rows: number): void {
    const { k } = env;
    const steps = this.inputSize, n = rows * steps;
    const bad = k.embedding_ids(x, b.ids, n, this.inputDim);
    // predict and evaluate meet a bad id here (fit checked every one before it started)
    if (bad >= 0) throw this.badId(env.heap.f32[(x >> 2) + bad], bad, steps, 'x');
    if (b.mask) k.embedding_mask(b.ids, b.mask, n);
  }

  backward(env: Env, b: Buffers, _x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      const { k } = env;
      const n = rows * this.inputSize;
      const table = this.params[0];
      if (table.grad) k.embedding_backward(b.ids, dy, table.grad, n, this.inputDim, this.outputDim, 0);
      // ids are not differentiable: their gradient is 0
      if (dx) k.vec_fill(dx, n, 0);
    }
  }

  /**
   * Under a recurrent layer the two run as a pair: the recurrent kernels read the ids and the table, so that their
   * products with the input kernel run over the table's rows when it has fewer than the batch has steps (a character
   * model's 65 rows against 32 x 64), and write the table's gradient. Only with a trainable table (the network
   * skips the backward of a pair whose first layer is frozen).
   */
  override pairWith(next: Layer): boolean {
    if (!takesIds(next) || !next.takesIds() || !this.params[0].trainable) return false;
    next.embedded = { vocab: this.inputDim, table: this.params[0] };
    this.#above = next;
    return true;
  }

  override forwardPair(env: Env, b: Buffers, bNext: Buffers, x: number, y: number, rows: number): void {
    this.#ids(env, b, x, rows);
    this.#above!.forwardIds(env, bNext, b.ids, y, rows);
  }

  override backwardPair(env: Env, b: Buffers, bNext: Buffers, _x: number, y: number, dy: number, _dz: number, dx: number, rows: number): void {
    trainingOnly: {
      // the forward's block: the recurrent kernels write the table's gradient
      this.#above!.backward(env, bNext, 0, y, dy, 0, rows);
      if (dx) env.k.vec_fill(dx, rows * this.inputSize, 0);
    }
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), inputDim: this.inputDim, outputDim: this.outputDim, maskZero: this.maskZero,
      embeddingsInitializer: this.#initName, ...(this.#reg ? { embeddingsRegularizer: this.#reg.config } : {}),
    };
  }
}

/**
 * What a layer above offers to run as a pair with an embedding (Recurrent does). Asked by shape, not instanceof, so
 * that a bundle with an embedding and no recurrent layer does not carry the recurrent layers.
 */
interface TakesIds extends Layer {
  embedded: { vocab: number; table: Param } | null;
  takesIds(): boolean;
  forwardIds(env: Env, b: Buffers, ids: number, y: number, rows: number): void;
}

function takesIds(layer: Layer): layer is TakesIds {
  return typeof (layer as Partial<TakesIds>).forwardIds === 'function';
}

export const embedding = (args: EmbeddingArgs): Embedding => new Embedding(args);
