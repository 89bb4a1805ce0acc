// Layers that wrap a layer, as Keras's: Bidirectional runs a recurrent layer over the sequence both ways and merges
// the two outputs; TimeDistributed applies a layer to every step alone. Like a residual block, a wrapper exposes its
// inner layers' parameters as its own (the same Param objects: placed in the model's blocks, stepped by the optimiser)
// and saves its inner layer as { className, config }.
import { Layer, type Buffers, type Env, type LayerArgs, type Reserve } from './layer';
import { Recurrent } from './recurrent';
import { layerFromConfig } from './registry';
import type { Activation } from '../tensor/activations';
import { ShapeError, ValueError } from '../backend/errors';

export type MergeMode = 'concat' | 'sum' | 'ave' | 'mul';
const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum', 'ave', 'mul'];

export interface BidirectionalArgs extends LayerArgs {
  /** A recurrent layer (simpleRNN, lstm, gru): the forward direction; a copy reading backwards is made from it. */
  layer: Layer;
  mergeMode?: MergeMode;
}

/** A saved inner layer { className, config }, revived through the loader's table. */
function innerLayer(saved: unknown, where: string): Layer {
  const { className, config } = (saved ?? {}) as { className?: unknown; config?: unknown };
  if (typeof className !== 'string' || config === null || typeof config !== 'object') throw new ValueError(`${where}: layer must be { className, config }`);
  return layerFromConfig(className, config as Record<string, unknown>, where);
}

/**
 * Bidirectional: y = merge(forward(x), reverse(backward(x))) where backward reads the steps from the last (Keras
 * reverses its sequence output back into time order before merging). With a padding mask both directions keep their
 * state over padded steps and output zeros there (Keras's zero_output_for_mask).
 */
export class Bidirectional extends Layer {
  readonly className = 'Bidirectional';

  static override fromConfig(config: Record<string, unknown>): Layer {
    return new Bidirectional({ ...config, layer: innerLayer(config.layer, 'bidirectional') } as BidirectionalArgs);
  }

  readonly forwardLayer: Recurrent;
  readonly backwardLayer: Recurrent;
  readonly mergeMode: MergeMode;
  readonly inner: Recurrent[];

  constructor(args: BidirectionalArgs) {
    super(args);
    const layer = args?.layer;
    if (!(layer instanceof Recurrent)) throw new ValueError('bidirectional: layer must be a recurrent layer (simpleRNN, lstm, gru)');
    const mergeMode = args.mergeMode ?? 'concat';
    if (!MERGE_MODES.includes(mergeMode)) throw new ValueError(`bidirectional: mergeMode must be one of ${MERGE_MODES.join(', ')}, got ${String(mergeMode)}`);
    this.mergeMode = mergeMode;
    this.forwardLayer = layer;
    const config = layer.getConfig();
    delete config.inputShape;
    this.backwardLayer = layerFromConfig(layer.className, { ...config, name: `backward_${layer.name}`, goBackwards: !layer.goBackwards }) as Recurrent;
    this.inner = [this.forwardLayer, this.backwardLayer];
  }

  get returnSequences(): boolean {
    return this.forwardLayer.returnSequences;
  }

  protected setup(inputShape: number[]): number[] {
    for (const layer of this.inner) {
      if (!this.trainable) layer.trainable = false;
      layer.zeroPadded = this.returnSequences;
      layer.build(inputShape);
    }
    for (const layer of this.inner) this.params.push(...layer.params);
    const out = this.forwardLayer.outputShape.slice();
    if (this.mergeMode === 'concat') out[out.length - 1] *= 2;
    return out;
  }

  override outputMask(_b: Buffers, inputMask: number): number {
    return this.returnSequences ? inputMask : 0;
  }

  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    const n = capacity * this.forwardLayer.outputSize;
    const b: Buffers = { yf: reserve(n), yb: reserve(n), rev: reserve(n) };
    if (training) Object.assign(b, { dyf: reserve(n), dyb: reserve(n), dyTime: reserve(n), dxb: reserve(capacity * this.inputSize) });
    this.inner.forEach((layer, i) => {
      for (const [key, ptr] of Object.entries(layer.reserve(reserve, capacity, training))) b[`${i}.${key}`] = ptr;
    });
    return b;
  }

  readonly #split = new WeakMap<Buffers, Buffers[]>();

  /** The inner layer i's buffers (with the input's padding mask), split out of the plan's once. */
  private innerBuffers(b: Buffers, i: number): Buffers {
    let split = this.#split.get(b);
    if (!split) {
      split = this.inner.map((_, j) => {
        const out: Buffers = {};
        for (const [key, ptr] of Object.entries(b)) if (key.startsWith(`${j}.`)) out[key.slice(2)] = ptr;
        if (b.inputMask) out.inputMask = b.inputMask;
        return out;
      });
      this.#split.set(b, split);
    }
    return split[i];
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number, training: boolean): void {
    const { k } = env;
    const [f, bk] = this.inner;
    f.forward(env, this.innerBuffers(b, 0), x, b.yf, rows, training);
    bk.forward(env, this.innerBuffers(b, 1), x, b.yb, rows, training);
    // the backward layer's sequence comes out in its reading order: back into time order
    const yb = this.returnSequences ? (this.reverseSteps(k, b.yb, b.rev, rows), b.rev) : b.yb;
    const u = this.forwardLayer.units, n = rows * this.forwardLayer.outputSize;
    if (this.mergeMode === 'concat') {
      const rowsOut = n / u;
      for (let r = 0; r < rowsOut; r++) {
        k.vec_copy(b.yf + ((r * u) << 2), y + ((2 * r * u) << 2), u);
        k.vec_copy(yb + ((r * u) << 2), y + (((2 * r + 1) * u) << 2), u);
      }
    } else if (this.mergeMode === 'mul') {
      k.vec_mul(b.yf, yb, y, n);
    } else {
      k.vec_add(b.yf, yb, y, n);
      if (this.mergeMode === 'ave') k.vec_scale(y, n, 0.5);
    }
  }

  /** out [rows, T, u] = x with its steps in reverse order. */
  private reverseSteps(k: Env['k'], x: number, out: number, rows: number): void {
    const T = this.forwardLayer.steps, u = this.forwardLayer.units;
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < T; t++) k.vec_copy(x + (((r * T + t) * u) << 2), out + (((r * T + T - 1 - t) * u) << 2), u);
    }
  }

  backward(env: Env, b: Buffers, x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      const { k } = env;
      const [f, bk] = this.inner;
      const u = this.forwardLayer.units, n = rows * this.forwardLayer.outputSize;
      const yb = this.returnSequences ? b.rev : b.yb;
      // dyf, and the backward layer's in time order (into rev, or dyb directly for a last state)
      const dybTime = this.returnSequences ? b.dyTime : b.dyb;
      if (this.mergeMode === 'concat') {
        const rowsOut = n / u;
        for (let r = 0; r < rowsOut; r++) {
          k.vec_copy(dy + ((2 * r * u) << 2), b.dyf + ((r * u) << 2), u);
          k.vec_copy(dy + (((2 * r + 1) * u) << 2), dybTime + ((r * u) << 2), u);
        }
      } else if (this.mergeMode === 'mul') {
        k.vec_mul(dy, yb, b.dyf, n);
        k.vec_mul(dy, b.yf, dybTime, n);
      } else {
        const s = this.mergeMode === 'ave' ? 0.5 : 1;
        k.vec_affine(dy, b.dyf, n, s, 0);
        k.vec_affine(dy, dybTime, n, s, 0);
      }
      if (this.returnSequences) this.reverseSteps(k, dybTime, b.dyb, rows);
      f.backward(env, this.innerBuffers(b, 0), x, b.yf, b.dyf, dx, rows);
      bk.backward(env, this.innerBuffers(b, 1), x, b.yb, b.dyb, dx ? b.dxb : 0, rows);
      if (dx) k.vec_add_inplace(dx, b.dxb, rows * this.inputSize);
    }
  }

  override getConfig(): Record<string, unknown> {
    const layer = this.forwardLayer;
    return { ...super.getConfig(), mergeMode: this.mergeMode, layer: { className: layer.className, config: layer.getConfig() } };
  }
}

export interface TimeDistributedArgs extends LayerArgs {
  layer: Layer;
}

/** TimeDistributed: the inner layer on every step of [steps, ...features] alone (its rows are samples x steps). */
export class TimeDistributed extends Layer {
  readonly className = 'TimeDistributed';

  static override fromConfig(config: Record<string, unknown>): Layer {
    return new TimeDistributed({ ...config, layer: innerLayer(config.layer, 'timeDistributed') } as TimeDistributedArgs);
  }

  readonly layer: Layer;
  readonly inner: Layer[];

  constructor(args: TimeDistributedArgs) {
    super(args);
    if (!(args?.layer instanceof Layer)) throw new ValueError('timeDistributed: layer must be a layer (nn.layers.*)');
    if (args.layer instanceof Recurrent || args.layer instanceof Bidirectional) throw new ValueError('timeDistributed: a recurrent layer already runs over the steps');
    this.layer = args.layer;
    this.inner = [this.layer];
  }

  get steps(): number {
    return this.inputShape![0];
  }

  protected setup(inputShape: number[]): number[] {
    if (inputShape.length < 2) throw new ShapeError(`${this.name}: timeDistributed expects a sequence [steps, ...features], got [${inputShape}]`);
    if (!this.trainable) this.layer.trainable = false;
    this.layer.build(inputShape.slice(1));
    this.params.push(...this.layer.params);
    return [inputShape[0], ...this.layer.outputShape];
  }

  protected override get keepsMask(): boolean {
    return true;
  }

  override get activation(): Activation | null {
    return this.layer.activation;
  }

  override logits(b: Buffers, x: number, y: number): number {
    return this.layer.logits(b, x, y);
  }

  override passThrough(training: boolean): boolean {
    return this.layer.passThrough(training);
  }

  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    return this.layer.reserve(reserve, capacity * this.steps, training);
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number, training: boolean, logitsOnly: boolean): void {
    this.layer.forward(env, b, x, y, rows * this.steps, training, logitsOnly);
  }

  backward(env: Env, b: Buffers, x: number, y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      this.layer.fusedActivation = this.fusedActivation;
      this.layer.backward(env, b, x, y, dy, dx, rows * this.steps);
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), layer: { className: this.layer.className, config: this.layer.getConfig() } };
  }
}

export const bidirectional = (args: BidirectionalArgs): Bidirectional => new Bidirectional(args);
export const timeDistributed = (args: TimeDistributedArgs): TimeDistributed => new TimeDistributed(args);
