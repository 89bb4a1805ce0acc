// SimpleRNN, LSTM and GRU: one class for the time loop's bookkeeping (shapes, options, the kernels' parameter block,
// dropout, the padding mask), one small subclass per cell naming its kernels, gate count and defaults. The cells'
// math, the loop over steps and backpropagation through time are each one module call (assembly/recurrent.ts and
// the cell files): forward(x [B, T, in]) -> y [B, T, u] (returnSequences) or [B, u], backward from the same workspace.
// Weights in Keras's layouts and names: kernel [in, G u], recurrent_kernel [u, G u], bias [G u] (a GRU with
// resetAfter: [2, 3u], the input and the recurrent bias), gates i, f, c, o (LSTM) and z, r, h (GRU).
import { Layer, positiveInt, type Buffers, type Env, type LayerArgs, type Param, type ParamInit, type Reserve } from './layer';
import { resolveInitializer, initializerNameOf, glorotUniform, orthogonal, zeros, type Initializer } from './initializers';
import { resolveRegularizer, type Regularizer } from './regularizers';
import { resolveActivation, type Activation } from '../tensor/activations';
import { backend } from '../backend/module';
import { RNN, type Kernels } from '../backend/kernels';
import { ShapeError, ValueError } from '../backend/errors';

export interface RecurrentArgs extends LayerArgs {
  units: number;
  /** The output's (SimpleRNN) or the candidate's and cell output's (LSTM, GRU) activation: tanh. */
  activation?: string;
  /** The gates' activation (LSTM, GRU): sigmoid as Keras 3 (TF.js writes hardSigmoid). */
  recurrentActivation?: string;
  useBias?: boolean;
  kernelInitializer?: Initializer | string;
  recurrentInitializer?: Initializer | string;
  biasInitializer?: Initializer | string;
  kernelRegularizer?: Regularizer | string;
  recurrentRegularizer?: Regularizer | string;
  biasRegularizer?: Regularizer | string;
  /** Output every step's state [steps, units], not only the last [units]. */
  returnSequences?: boolean;
  /** Read the steps from the last to the first (the sequence output comes out reversed, as in Keras). */
  goBackwards?: boolean;
  /** Dropout of the inputs (one mask per sample, the same at every step) and of the state each step reads. */
  dropout?: number;
  recurrentDropout?: number;
}

export interface LSTMArgs extends RecurrentArgs {
  /** The forget gate's bias starts at 1 (Keras's default). */
  unitForgetBias?: boolean;
}

export interface GRUArgs extends RecurrentArgs {
  /** The reset gate acts after the recurrent product (Keras 3, PyTorch: the default), or before it (TF.js). */
  resetAfter?: boolean;
}

type Cell = typeof RNN.CELL_SIMPLE | typeof RNN.CELL_LSTM | typeof RNN.CELL_GRU;

export abstract class Recurrent extends Layer {
  abstract readonly cell: Cell;
  readonly units: number;
  readonly act: Activation;
  readonly recAct: Activation;
  readonly useBias: boolean;
  readonly returnSequences: boolean;
  readonly goBackwards: boolean;
  readonly dropout: number;
  readonly recurrentDropout: number;
  /** Padded steps output zeros instead of the state they keep (Keras's zero_output_for_mask: Bidirectional sets it). */
  zeroPadded = false;
  /**
   * The embedding below when the two run as a pair (Embedding.pairWith): the kernels read its token ids and table
   * instead of the looked-up rows, and write the table's gradient.
   */
  embedded: { vocab: number; table: Param } | null = null;
  readonly #init: { kernel?: Initializer | string; recurrent?: Initializer | string; bias?: Initializer | string };
  readonly #initNames: { kernel: string; recurrent: string; bias: string };
  readonly #regs: { kernel: Regularizer | null; recurrent: Regularizer | null; bias: Regularizer | null };

  constructor(args: RecurrentArgs, what: string) {
    super(args);
    this.units = positiveInt(args?.units, `${what}: units`);
    this.act = resolveActivation(args.activation ?? 'tanh');
    this.recAct = resolveActivation(args.recurrentActivation ?? 'sigmoid');
    for (const a of [this.act, this.recAct]) if (a.code < 0) throw new ValueError(`${what}: softmax is not an activation of a recurrent cell`);
    this.useBias = flag(args.useBias, true, `${what}: useBias`);
    this.returnSequences = flag(args.returnSequences, false, `${what}: returnSequences`);
    this.goBackwards = flag(args.goBackwards, false, `${what}: goBackwards`);
    this.dropout = rate(args.dropout, `${what}: dropout`);
    this.recurrentDropout = rate(args.recurrentDropout, `${what}: recurrentDropout`);
    this.#init = { kernel: args.kernelInitializer, recurrent: args.recurrentInitializer, bias: args.biasInitializer };
    this.#initNames = {
      kernel: initializerNameOf(args.kernelInitializer, 'glorotUniform'),
      recurrent: initializerNameOf(args.recurrentInitializer, 'orthogonal'),
      bias: initializerNameOf(args.biasInitializer, 'zeros'),
    };
    this.#regs = {
      kernel: resolveRegularizer(args.kernelRegularizer),
      recurrent: resolveRegularizer(args.recurrentRegularizer),
      bias: resolveRegularizer(args.biasRegularizer),
    };
  }

  /** Gates per unit: 1, 4, 3. */
  abstract get gates(): number;
  /** The cell's flags beyond the common ones (a GRU's resetAfter). */
  protected get cellFlags(): number {
    return 0;
  }
  protected get biasShape(): number[] {
    return [this.gates * this.units];
  }
  /** The cell's kernels over the block p (see assembly/recurrent.ts): all steps forward, backward through time. */
  protected abstract runForward(k: Kernels, x: number, y: number, work: number, p: number): void;
  protected abstract runBackward(k: Kernels, dy: number, dx: number, work: number, p: number): void;

  get steps(): number {
    return this.inputShape![0];
  }
  get features(): number {
    return this.inputShape![1];
  }

  protected setup(inputShape: number[]): number[] {
    if (inputShape.length !== 2) {
      const below = inputShape.length === 1 ? ' (a recurrent layer below it needs returnSequences: true to feed it a sequence; a flat input needs reshape or embedding first)' : '';
      throw new ShapeError(`${this.name}: a recurrent layer expects a sequence [steps, features] per sample, got [${inputShape}]${below}`);
    }
    const [, features] = inputShape;
    const gu = this.gates * this.units;
    this.addParam('kernel', [features, gu]);
    this.addParam('recurrent_kernel', [this.units, gu]);
    if (this.useBias) this.addParam('bias', this.biasShape, { fanIn: features, fanOut: gu });
    return this.returnSequences ? [inputShape[0], this.units] : [this.units];
  }

  protected override paramInit(name: string): ParamInit {
    trainingOnly: {
      if (name === 'kernel') return { initializer: resolveInitializer(this.#init.kernel, glorotUniform), regularizer: this.#regs.kernel };
      if (name === 'recurrent_kernel') return { initializer: resolveInitializer(this.#init.recurrent, orthogonal), regularizer: this.#regs.recurrent };
      return { initializer: this.biasInitializer(resolveInitializer(this.#init.bias, zeros)), regularizer: this.#regs.bias };
    }
  }

  /** The bias's initializer (an LSTM's unitForgetBias sets its forget gate's slice to 1). */
  protected biasInitializer(init: Initializer): Initializer {
    return init;
  }

  override outputMask(_b: Buffers, inputMask: number): number {
    return this.returnSequences ? inputMask : 0;
  }

  /**
   * Per plan: the parameter block, the workspace of a forward + backward pair at the capacity, and in training the
   * dropout masks (the inputs' [B, in] and the masked inputs [B, T, in]; the state's [B, u]) and, for frozen
   * weights, gradients the kernels write and nobody reads.
   */
  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    const b: Buffers = { block: reserve(RNN.LEN), work: reserve(this.workFloats(capacity, training)) };
    if (training && this.dropout > 0) {
      b.inMask = reserve(capacity * this.features);
      b.dropped = reserve(capacity * this.inputSize);
    }
    if (training && this.recurrentDropout > 0) b.recMask = reserve(capacity * this.units);
    if (training) for (const p of this.params) if (!p.grad) b[`frozen_${p.name}`] = reserve(p.size);
    return b;
  }

  /** The workspace's floats, asked of the module (rnn_work_floats) through a block written for the purpose. */
  workFloats(capacity: number, training: boolean): number {
    return this.askModule((k, p) => k.rnn_work_floats(this.cell, p), capacity, this.steps, training && this.recurrentDropout > 0);
  }

  /** Floats of the carried state for a batch: h, and an LSTM's c. */
  stateFloats(batch: number): number {
    return (this.cell === RNN.CELL_LSTM ? 2 : 1) * batch * this.units;
  }

  /** What `ask` reads from a block written for `batch` samples of `steps` (sizes of workspaces). */
  askModule(ask: (k: Kernels, p: number) => number, batch: number, steps: number, recDropout: boolean): number {
    const { kernels: k, heap } = backend();
    const p = heap.alloc(RNN.LEN * 4, "a recurrent layer's size query");
    try {
      this.writeBlock(heap.i32, heap.f32, p, batch, steps, 0, recDropout ? 1 : 0, 0);
      return ask(k, p);
    } finally {
      heap.release(p);
    }
  }

  /** The kernels' parameter block at p for `rows` samples of `steps` (flags: the layer's, plus extra; ids: the paired embedding's checked token ids). */
  writeBlock(i32: Int32Array, f32: Float32Array, p: number, rows: number, steps: number, mask: number, recMask: number, extra: number, b: Buffers = {}, ids = 0): void {
    const o = p >> 2;
    const [kernel, recurrent, bias] = this.params as (Param | undefined)[];
    i32[o + RNN.BATCH] = rows;
    i32[o + RNN.STEPS] = steps;
    i32[o + RNN.INPUT] = this.features;
    i32[o + RNN.UNITS] = this.units;
    i32[o + RNN.ACT] = this.act.code;
    i32[o + RNN.REC_ACT] = this.recAct.code;
    f32[o + RNN.ALPHA] = this.act.alpha;
    i32[o + RNN.FLAGS] = (this.goBackwards ? RNN.GO_BACKWARDS : 0) | (this.returnSequences ? RNN.RETURN_SEQUENCES : 0) |
      (this.zeroPadded ? RNN.ZERO_PADDED : 0) | this.cellFlags | extra;
    i32[o + RNN.KERNEL] = kernel?.ptr ?? 0;
    i32[o + RNN.RECURRENT] = recurrent?.ptr ?? 0;
    i32[o + RNN.BIAS] = bias?.ptr ?? 0;
    i32[o + RNN.MASK] = mask;
    i32[o + RNN.DKERNEL] = kernel?.grad || b.frozen_kernel || 0;
    i32[o + RNN.DRECURRENT] = recurrent?.grad || b.frozen_recurrent_kernel || 0;
    i32[o + RNN.DBIAS] = bias ? bias.grad || b.frozen_bias || 0 : 0;
    i32[o + RNN.REC_DROPOUT] = recMask;
    const e = this.embedded;
    i32[o + RNN.IDS] = ids;
    i32[o + RNN.TABLE] = e?.table.ptr ?? 0;
    i32[o + RNN.VOCAB] = e?.vocab ?? 0; // also when sizing the workspace (its table region)
    i32[o + RNN.DTABLE] = ids ? e?.table.grad ?? 0 : 0;
  }

  /**
   * Whether an embedding below can hand this layer its ids and table (Embedding.pairWith): not with dropout on the
   * inputs or the state (the pair's forward has no training flag, and dropped inputs are no longer table rows).
   */
  takesIds(): boolean {
    return this.dropout === 0 && this.recurrentDropout === 0;
  }

  /** forward from the paired embedding's checked token ids [rows, T] (i32) and its table, instead of x. */
  forwardIds(env: Env, b: Buffers, ids: number, y: number, rows: number): void {
    this.writeBlock(env.heap.i32, env.heap.f32, b.block, rows, this.steps, b.inputMask ?? 0, 0, 0, b, ids);
    this.runForward(env.k, 0, y, b.work, b.block);
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number, training: boolean): void {
    const { k, heap } = env;
    let input = x, recMask = 0;
    trainingOnly: if (training) {
      if (b.inMask) {
        input = b.dropped;
        k.rng_dropout_mask(env.rng, b.inMask, rows * this.features, this.dropout);
        maskSteps(k, x, b.inMask, b.dropped, rows, this.steps, this.features);
      }
      if (b.recMask) {
        k.rng_dropout_mask(env.rng, b.recMask, rows * this.units, this.recurrentDropout);
        recMask = b.recMask;
      }
    }
    this.writeBlock(heap.i32, heap.f32, b.block, rows, this.steps, b.inputMask ?? 0, recMask, 0, b);
    this.runForward(k, input, y, b.work, b.block);
  }

  backward(env: Env, b: Buffers, _x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      // the block is the forward's (same plan): the weights' gradients are written, dx when asked
      this.runBackward(env.k, dy, dx, b.work, b.block);
      if (dx && b.inMask) maskSteps(env.k, dx, b.inMask, dx, rows, this.steps, this.features);
    }
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), units: this.units, activation: this.act.name, ...(this.act.alpha ? { alpha: this.act.alpha } : {}),
      ...(this.gates > 1 ? { recurrentActivation: this.recAct.name } : {}),
      useBias: this.useBias, returnSequences: this.returnSequences, goBackwards: this.goBackwards,
      dropout: this.dropout, recurrentDropout: this.recurrentDropout,
      kernelInitializer: this.#initNames.kernel, recurrentInitializer: this.#initNames.recurrent, biasInitializer: this.#initNames.bias,
      ...(this.#regs.kernel ? { kernelRegularizer: this.#regs.kernel.config } : {}),
      ...(this.#regs.recurrent ? { recurrentRegularizer: this.#regs.recurrent.config } : {}),
      ...(this.#regs.bias ? { biasRegularizer: this.#regs.bias.config } : {}),
    };
  }
}

export class SimpleRNN extends Recurrent {
  readonly className = 'SimpleRNN';
  readonly cell = RNN.CELL_SIMPLE;
  constructor(args: RecurrentArgs) {
    super(args, 'simpleRNN');
  }
  get gates(): number {
    return 1;
  }
  protected runForward(k: Kernels, x: number, y: number, work: number, p: number): void {
    k.simple_rnn_forward(x, y, work, p);
  }
  protected runBackward(k: Kernels, dy: number, dx: number, work: number, p: number): void {
    trainingOnly: k.simple_rnn_backward(dy, dx, work, p);
  }
}

export class LSTM extends Recurrent {
  readonly className = 'LSTM';
  readonly cell = RNN.CELL_LSTM;
  readonly unitForgetBias: boolean;
  constructor(args: LSTMArgs) {
    super(args, 'lstm');
    this.unitForgetBias = flag(args.unitForgetBias, true, 'lstm: unitForgetBias');
  }
  get gates(): number {
    return 4;
  }
  protected override biasInitializer(init: Initializer): Initializer {
    if (!this.unitForgetBias) return init;
    const u = this.units;
    // i, f, c, o: the forget gate's slice [u, 2u) starts at 1 (Keras: concat(init(u), ones(u), init(2u)))
    return { ...init, fill: (k, rng, ptr, n, fanIn, fanOut) => { init.fill(k, rng, ptr, n, fanIn, fanOut); k.vec_fill(ptr + u * 4, u, 1); } };
  }
  protected runForward(k: Kernels, x: number, y: number, work: number, p: number): void {
    k.lstm_forward(x, y, work, p);
  }
  protected runBackward(k: Kernels, dy: number, dx: number, work: number, p: number): void {
    trainingOnly: k.lstm_backward(dy, dx, work, p);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), unitForgetBias: this.unitForgetBias };
  }
}

export class GRU extends Recurrent {
  readonly className = 'GRU';
  readonly cell = RNN.CELL_GRU;
  readonly resetAfter: boolean;
  constructor(args: GRUArgs) {
    super(args, 'gru');
    this.resetAfter = flag(args.resetAfter, true, 'gru: resetAfter');
  }
  get gates(): number {
    return 3;
  }
  protected override get cellFlags(): number {
    return this.resetAfter ? RNN.RESET_AFTER : 0;
  }
  protected override get biasShape(): number[] {
    return this.resetAfter ? [2, 3 * this.units] : [3 * this.units];
  }
  protected runForward(k: Kernels, x: number, y: number, work: number, p: number): void {
    k.gru_forward(x, y, work, p);
  }
  protected runBackward(k: Kernels, dy: number, dx: number, work: number, p: number): void {
    trainingOnly: k.gru_backward(dy, dx, work, p);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), resetAfter: this.resetAfter };
  }
}

/** out[b, t] = x[b, t] · mask[b] for every step t: the inputs' dropout, one mask [B, n] per sample (as Keras and
 *  TF.js); x and out [B, T, n] may be the same. Training only (wasmnn/infer drops it with its callers). */
function maskSteps(k: Kernels, x: number, mask: number, out: number, rows: number, T: number, n: number): void {
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < T; t++) {
      const at = ((r * T + t) * n) << 2;
      k.vec_mul(x + at, mask + ((r * n) << 2), out + at, n);
    }
  }
}

function flag(v: unknown, fallback: boolean, what: string): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ValueError(`${what} must be true or false, got ${String(v)}`);
  return v;
}

function rate(v: unknown, what: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new ValueError(`${what} must be in [0, 1), got ${String(v)}`);
  return v;
}

export const simpleRNN = (args: RecurrentArgs): SimpleRNN => new SimpleRNN(args);
export const lstm = (args: LSTMArgs): LSTM => new LSTM(args);
export const gru = (args: GRUArgs): GRU => new GRU(args);
