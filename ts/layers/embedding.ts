// Embedding: token ids in, rows of a learned table out. x [B, T] holds the ids as the model's f32 input (whole
// numbers in [0, inputDim)); they are checked and turned into i32 in the module (embedding_ids), looked up
// (embedding_forward) and the table's gradient is their scatter-add (embedding_backward: an id repeated in a batch
// sums its rows in a fixed order). With maskZero, id 0 is padding: the layer writes a [B, T] mask (1 = real step)
// that the layers above read (a recurrent layer keeps the state over padded steps, see Layer.outputMask).
import { Layer, positiveInt, type Buffers, type Env, type LayerArgs, type ParamInit, type Reserve } from './layer';
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

  forward(env: Env, b: Buffers, x: number, y: number, rows: number): void {
    const { k } = env;
    const steps = this.inputSize, n = rows * steps;
    const bad = k.embedding_ids(x, b.ids, n, this.inputDim);
    if (bad >= 0) {
      const v = env.heap.f32[(x >> 2) + bad];
      const why = !(v >= 0) ? 'negative or not a number' : v !== Math.trunc(v) ? 'not a whole number' : `>= inputDim ${this.inputDim}`;
      throw new ValueError(`${this.name}: token id ${v} at sample ${Math.floor(bad / steps)}, step ${bad % steps} is ${why}; ids must be whole numbers in [0, ${this.inputDim})`);
    }
    if (b.mask) k.embedding_mask(b.ids, b.mask, n);
    // y [rows, T, outputDim] = table[ids]
    k.embedding_forward(b.ids, this.params[0].ptr, y, n, this.outputDim);
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

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), inputDim: this.inputDim, outputDim: this.outputDim, maskZero: this.maskZero,
      embeddingsInitializer: this.#initName, ...(this.#reg ? { embeddingsRegularizer: this.#reg.config } : {}),
    };
  }
}

export const embedding = (args: EmbeddingArgs): Embedding => new Embedding(args);
