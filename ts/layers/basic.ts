// Layers without parameters: Activation, Dropout (inverted: scaled in training, identity otherwise), Flatten, Reshape,
// Rescaling.
import { Layer, checkShape, type Buffers, type Env, type LayerArgs, type Reserve } from './layer';
import { resolveActivation, type Activation as ActivationFn } from '../tensor/activations';
import { ShapeError, ValueError } from '../backend/errors';

export interface ActivationArgs extends LayerArgs {
  activation: string;
  alpha?: number;
}

export class Activation extends Layer {
  readonly className = 'Activation';
  readonly act: ActivationFn;
  constructor(args: ActivationArgs) {
    super(args);
    this.act = resolveActivation(args?.activation, args.alpha);
  }
  override get activation(): ActivationFn {
    return this.act;
  }
  protected override get keepsMask(): boolean {
    return true;
  }
  protected setup(inputShape: number[]): number[] {
    return inputShape.slice();
  }
  override logits(_b: Buffers, x: number): number {
    return x;
  }
  forward(env: Env, _b: Buffers, x: number, y: number, rows: number, _training: boolean, logitsOnly: boolean): void {
    if (logitsOnly) return; // the fused loss reads x and writes y
    const n = rows * this.outputSize;
    if (this.act.code >= 0) env.k.act_forward(x, y, n, this.act.code, this.act.alpha);
    else env.k.softmax_forward(x, y, rows * (this.outputSize / this.lastDim), this.lastDim);
  }
  protected get lastDim(): number {
    return this.outputShape[this.outputShape.length - 1];
  }
  backward(env: Env, _b: Buffers, x: number, y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      if (!dx) return;
      const n = rows * this.outputSize;
      if (this.fusedActivation) env.k.vec_copy(dy, dx, n);
      else if (this.act.code >= 0) env.k.act_backward(x, y, dy, dx, n, this.act.code, this.act.alpha);
      else env.k.softmax_backward(y, dy, dx, rows * (this.outputSize / this.lastDim), this.lastDim);
    }
  }
  override getConfig(): Record<string, unknown> {
    savingOnly: return { ...super.getConfig(), activation: this.act.name, ...(this.act.alpha ? { alpha: this.act.alpha } : {}) };
  }
}

export interface DropoutArgs extends LayerArgs {
  rate: number;
}

export class Dropout extends Layer {
  readonly className = 'Dropout';
  readonly rate: number;
  constructor(args: DropoutArgs) {
    super(args);
    const rate = args?.rate;
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new ValueError(`dropout: rate must be in [0, 1), got ${rate}`);
    this.rate = rate;
  }
  protected override get keepsMask(): boolean {
    return true;
  }
  protected setup(inputShape: number[]): number[] {
    return inputShape.slice();
  }
  override passThrough(training: boolean): boolean {
    return !training || this.rate === 0;
  }
  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    return training && this.rate > 0 ? { mask: reserve(capacity * this.outputSize) } : {};
  }
  forward(env: Env, b: Buffers, x: number, y: number, rows: number, training: boolean): void {
    if (x === y) return;
    const n = rows * this.outputSize;
    if (!training || !b.mask) return env.k.vec_copy(x, y, n);
    trainingOnly: {
      env.k.rng_dropout_mask(env.rng, b.mask, n, this.rate);
      env.k.vec_mul(x, b.mask, y, n);
    }
  }
  backward(env: Env, b: Buffers, _x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      if (!dx || dx === dy) return;
      const n = rows * this.outputSize;
      if (b.mask) env.k.vec_mul(dy, b.mask, dx, n);
      else env.k.vec_copy(dy, dx, n);
    }
  }
  override getConfig(): Record<string, unknown> {
    savingOnly: return { ...super.getConfig(), rate: this.rate };
  }
}

/** Flatten: [h, w, c] -> [h·w·c]; row-major data needs no copy. */
export class Flatten extends Layer {
  readonly className = 'Flatten';
  protected setup(inputShape: number[]): number[] {
    return [inputShape.reduce((a, b) => a * b, 1)];
  }
  override passThrough(): boolean {
    return true;
  }
  forward(): void {}
  backward(): void {}
}

export interface RescalingArgs extends LayerArgs {
  scale: number;
  offset?: number;
}

/** Rescaling: y = x·scale + offset (Keras' Rescaling), e.g. scale 1/255 to feed uint8 images. */
export class Rescaling extends Layer {
  readonly className = 'Rescaling';
  readonly scale: number;
  readonly offset: number;
  constructor(args: RescalingArgs) {
    super(args);
    const { scale, offset = 0 } = args ?? {};
    if (!Number.isFinite(scale) || !Number.isFinite(offset)) throw new ValueError(`rescaling: scale and offset must be finite numbers, got ${scale} and ${offset}`);
    this.scale = scale;
    this.offset = offset;
  }
  protected setup(inputShape: number[]): number[] {
    return inputShape.slice();
  }
  forward(env: Env, _b: Buffers, x: number, y: number, rows: number): void {
    env.k.vec_affine(x, y, rows * this.outputSize, this.scale, this.offset);
  }
  backward(env: Env, _b: Buffers, _x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      if (dx) env.k.vec_affine(dy, dx, rows * this.outputSize, this.scale, 0);
    }
  }
  override getConfig(): Record<string, unknown> {
    savingOnly: return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}

export interface ReshapeArgs extends LayerArgs {
  targetShape: number[];
}

export class Reshape extends Layer {
  readonly className = 'Reshape';
  readonly targetShape: number[];
  constructor(args: ReshapeArgs) {
    super(args);
    checkShape(args?.targetShape, 'reshape: targetShape');
    this.targetShape = args.targetShape.slice();
  }
  protected setup(inputShape: number[]): number[] {
    const have = inputShape.reduce((a, b) => a * b, 1);
    const want = this.targetShape.reduce((a, b) => a * b, 1);
    if (have !== want) throw new ShapeError(`${this.name}: cannot reshape [${inputShape}] (${have} values) to [${this.targetShape}] (${want} values)`);
    return this.targetShape.slice();
  }
  override passThrough(): boolean {
    return true;
  }
  forward(): void {}
  backward(): void {}
  override getConfig(): Record<string, unknown> {
    savingOnly: return { ...super.getConfig(), targetShape: this.targetShape };
  }
}

export const activation = (args: ActivationArgs) => new Activation(args);
export const dropout = (args: DropoutArgs) => new Dropout(args);
export const flatten = (args: LayerArgs = {}) => new Flatten(args);
export const reshape = (args: ReshapeArgs) => new Reshape(args);
export const rescaling = (args: RescalingArgs) => new Rescaling(args);
