// Pooling, channels-last: max and average over windows (2-D on [height, width, channels], 1-D on [steps, channels]),
// and global pooling to [channels]. Max pooling keeps the index of each maximum (an i32 buffer per plan) so that its
// backward pass is a scatter; windows in 'same' padding only count their real cells (TF's rule).
import { Layer, type Buffers, type Env, type LayerArgs, type Reserve } from './layer';
import { checkPadding, checkRank, geoBlock, geometry, spatialTuple, writeGeo, GEO_LEN, type Geometry, type Padding } from './geometry';

export interface PoolingArgs extends LayerArgs {
  /** Window size; default 2. */
  poolSize?: number | number[];
  /** Default: the pool size (windows side by side). */
  strides?: number | number[];
  /** 'valid' (default) or 'same'. */
  padding?: Padding;
}

abstract class Pool extends Layer {
  readonly poolSize: number[];
  readonly strides: number[];
  readonly padding: Padding;
  private geo!: Geometry;
  private block!: Int32Array;

  constructor(readonly rank: 1 | 2, readonly mode: 'max' | 'avg', args: PoolingArgs = {}) {
    super(args);
    const kind = this.kind;
    this.poolSize = spatialTuple(args.poolSize, rank, `${kind}: poolSize`, new Array(rank).fill(2));
    this.strides = spatialTuple(args.strides ?? undefined, rank, `${kind}: strides`, this.poolSize);
    this.padding = checkPadding(args.padding, `${kind}: padding`);
  }

  private get kind(): string {
    return `${this.mode === 'max' ? 'maxPooling' : 'averagePooling'}${this.rank}d`;
  }

  protected setup(inputShape: number[]): number[] {
    checkRank(this.name, this.kind, inputShape, this.rank);
    const hwc = this.rank === 2 ? inputShape : [1, ...inputShape];
    const one = this.rank === 2 ? [] : [1];
    const g = geometry(this.name, hwc, [...one, ...this.poolSize], [...one, ...this.strides], [1, 1], this.padding);
    this.geo = g;
    this.block = geoBlock(g);
    return this.rank === 2 ? [g.oh, g.ow, g.c] : [g.ow, g.c];
  }

  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    // only a backward pass reads the argmax: inference plans go without (the kernel then skips it)
    const b: Buffers = { geo: reserve(GEO_LEN) };
    if (this.mode === 'max' && training) b.argmax = reserve(capacity * this.outputSize);
    return b;
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number): void {
    writeGeo(env.heap, b.geo, this.block, rows);
    this.pool(env, b, x, y);
  }

  backward(env: Env, b: Buffers, _x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      if (!dx) return;
      writeGeo(env.heap, b.geo, this.block, rows);
      this.unpool(env, b, dy, dx);
    }
  }

  /** The kernels over the windows written in b.geo: y from x, and dx from dy. In the subclasses of each mode, so that
   *  a program with max pooling only carries no call of the average's kernels (nor a bundle's module their code). */
  protected abstract pool(env: Env, b: Buffers, x: number, y: number): void;
  protected abstract unpool(env: Env, b: Buffers, dy: number, dx: number): void;

  /** 2x2 windows side by side, no padding: the max pooling a convolution below can compute (Conv2D.pairWith). */
  get twoByTwo(): boolean {
    return this.mode === 'max' && this.rank === 2 && this.padding === 'valid' && [...this.poolSize, ...this.strides].every((v) => v === 2);
  }

  /**
   * backward within a pair (the convolution below computed this pooling): x was never written, and with `relu` it
   * was a relu's output, so dx is written as the gradient of the relu's input: dy passes only where y > 0.
   */
  backwardInPair(env: Env, b: Buffers, y: number, dy: number, dx: number, rows: number, relu: boolean): void {
    trainingOnly: {
      writeGeo(env.heap, b.geo, this.block, rows);
      env.k.maxpool_backward(dy, b.argmax, dx, b.geo, 0, relu ? y : 0);
    }
  }

  override getConfig(): Record<string, unknown> {
    const unwrap = (v: number[]) => (this.rank === 1 ? v[0] : v);
    savingOnly: return { ...super.getConfig(), poolSize: unwrap(this.poolSize), strides: unwrap(this.strides), padding: this.padding };
  }
}

abstract class MaxPool extends Pool {
  constructor(rank: 1 | 2, args?: PoolingArgs) {
    super(rank, 'max', args);
  }
  protected pool(env: Env, b: Buffers, x: number, y: number): void {
    env.k.maxpool_forward(x, y, b.argmax ?? 0, b.geo);
  }
  protected unpool(env: Env, b: Buffers, dy: number, dx: number): void {
    trainingOnly: env.k.maxpool_backward(dy, b.argmax, dx, b.geo, 0, 0);
  }
}

abstract class AveragePool extends Pool {
  constructor(rank: 1 | 2, args?: PoolingArgs) {
    super(rank, 'avg', args);
  }
  protected pool(env: Env, b: Buffers, x: number, y: number): void {
    env.k.avgpool_forward(x, y, b.geo);
  }
  protected unpool(env: Env, b: Buffers, dy: number, dx: number): void {
    trainingOnly: env.k.avgpool_backward(dy, dx, b.geo, 0);
  }
}

export class MaxPooling2D extends MaxPool {
  readonly className = 'MaxPooling2D';
  constructor(args?: PoolingArgs) {
    super(2, args);
  }
}
export class AveragePooling2D extends AveragePool {
  readonly className = 'AveragePooling2D';
  constructor(args?: PoolingArgs) {
    super(2, args);
  }
}
export class MaxPooling1D extends MaxPool {
  readonly className = 'MaxPooling1D';
  constructor(args?: PoolingArgs) {
    super(1, args);
  }
}
export class AveragePooling1D extends AveragePool {
  readonly className = 'AveragePooling1D';
  constructor(args?: PoolingArgs) {
    super(1, args);
  }
}

/** Global pooling: [height, width, channels] (or [steps, channels]) to [channels]. */
abstract class GlobalPool extends Layer {
  constructor(readonly rank: 1 | 2, readonly mode: 'max' | 'avg', args: LayerArgs = {}) {
    super(args);
  }

  protected setup(inputShape: number[]): number[] {
    checkRank(this.name, `global${this.mode === 'max' ? 'Max' : 'Average'}Pooling${this.rank}d`, inputShape, this.rank);
    return [inputShape[inputShape.length - 1]];
  }

  /** Positions pooled per sample and channel. */
  private get positions(): number {
    return this.inputSize / this.outputSize;
  }

  /**
   * Over a sequence with a padding mask (an embedding's maskZero), only the real steps are pooled (Keras): each
   * sample's real steps are gathered into `packed` and pooled there; their gradient is scattered back, the padded
   * steps' is 0. A sample with no real step pools to 0. The buffers are there for any 1-D input (the mask is known
   * only when the plan is laid out).
   */
  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    const b: Buffers = this.mode === 'max' ? { argmax: reserve(capacity * this.outputSize) } : {};
    if (this.rank === 1) {
      b.packed = reserve(capacity * this.inputSize);
      if (training) b.dpacked = reserve(capacity * this.inputSize);
    }
    return b;
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number): void {
    if (b.inputMask) return this.forwardMasked(env, b, x, y, rows);
    if (this.mode === 'max') env.k.global_maxpool_forward(x, y, b.argmax, rows, this.positions, this.outputSize);
    else env.k.global_avgpool_forward(x, y, rows, this.positions, this.outputSize);
  }

  /** Calls `each(r, t, at)` for the real steps t of sample r, `at` their rank among them; returns their count. */
  private realSteps(env: Env, mask: number, r: number, each: (t: number, at: number) => void): number {
    const T = this.positions, m = (mask >> 2) + r * T, f32 = env.heap.f32;
    let count = 0;
    for (let t = 0; t < T; t++) if (f32[m + t] !== 0) each(t, count++);
    return count;
  }

  private forwardMasked(env: Env, b: Buffers, x: number, y: number, rows: number): void {
    const { k } = env;
    const T = this.positions, C = this.outputSize;
    for (let r = 0; r < rows; r++) {
      const packed = b.packed + ((r * T * C) << 2), out = y + ((r * C) << 2);
      const count = this.realSteps(env, b.inputMask, r, (t, at) => k.vec_copy(x + (((r * T + t) * C) << 2), packed + ((at * C) << 2), C));
      if (count === 0) k.vec_fill(out, C, 0);
      else if (this.mode === 'max') k.global_maxpool_forward(packed, out, b.argmax + ((r * C) << 2), 1, count, C);
      else k.global_avgpool_forward(packed, out, 1, count, C);
    }
  }

  backward(env: Env, b: Buffers, _x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      if (!dx) return;
      if (b.inputMask) {
        const { k } = env;
        const T = this.positions, C = this.outputSize;
        k.vec_fill(dx, rows * T * C, 0);
        for (let r = 0; r < rows; r++) {
          const dpacked = b.dpacked + ((r * T * C) << 2), dyr = dy + ((r * C) << 2);
          const count = this.realSteps(env, b.inputMask, r, () => {});
          if (count === 0) continue;
          if (this.mode === 'max') k.global_maxpool_backward(dyr, b.argmax + ((r * C) << 2), dpacked, 1, count, C);
          else k.global_avgpool_backward(dyr, dpacked, 1, count, C);
          this.realSteps(env, b.inputMask, r, (t, at) => k.vec_copy(dpacked + ((at * C) << 2), dx + (((r * T + t) * C) << 2), C));
        }
        return;
      }
      if (this.mode === 'max') env.k.global_maxpool_backward(dy, b.argmax, dx, rows, this.positions, this.outputSize);
      else env.k.global_avgpool_backward(dy, dx, rows, this.positions, this.outputSize);
    }
  }
}

export class GlobalAveragePooling2D extends GlobalPool {
  readonly className = 'GlobalAveragePooling2D';
  constructor(args?: LayerArgs) {
    super(2, 'avg', args);
  }
}
export class GlobalMaxPooling2D extends GlobalPool {
  readonly className = 'GlobalMaxPooling2D';
  constructor(args?: LayerArgs) {
    super(2, 'max', args);
  }
}
export class GlobalAveragePooling1D extends GlobalPool {
  readonly className = 'GlobalAveragePooling1D';
  constructor(args?: LayerArgs) {
    super(1, 'avg', args);
  }
}
export class GlobalMaxPooling1D extends GlobalPool {
  readonly className = 'GlobalMaxPooling1D';
  constructor(args?: LayerArgs) {
    super(1, 'max', args);
  }
}

export const maxPooling2d = (args?: PoolingArgs) => new MaxPooling2D(args);
export const averagePooling2d = (args?: PoolingArgs) => new AveragePooling2D(args);
export const maxPooling1d = (args?: PoolingArgs) => new MaxPooling1D(args);
export const averagePooling1d = (args?: PoolingArgs) => new AveragePooling1D(args);
export const globalAveragePooling2d = (args?: LayerArgs) => new GlobalAveragePooling2D(args);
export const globalMaxPooling2d = (args?: LayerArgs) => new GlobalMaxPooling2D(args);
export const globalAveragePooling1d = (args?: LayerArgs) => new GlobalAveragePooling1D(args);
export const globalMaxPooling1d = (args?: LayerArgs) => new GlobalMaxPooling1D(args);
