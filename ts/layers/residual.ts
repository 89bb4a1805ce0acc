// Residual block: y = F(x) + shortcut(x), where F is a chain of inner layers and the shortcut is x itself, or with
// `projection: true` a 1x1 convolution (strided like the block) for blocks that change the channel count or size.
// The block is one layer to the model: it exposes its inner layers' parameters as its own (the same Param objects,
// so they are placed in the model's blocks and stepped by the optimiser) and runs the inner layers over buffers it
// reserves in its own plan. Saved, it is its config with its inner layers' [{ className, config }]; fromConfig
// revives them through the loader's table.
import { Layer, sameShape, type Buffers, type Env, type LayerArgs, type Reserve } from './layer';
import { Conv2D, Conv1D } from './conv';
import { innerLayers } from './registry';
import { ShapeError, ValueError } from '../backend/errors';

export interface ResidualArgs extends LayerArgs {
  layers: Layer[];
  /** Add a 1x1 convolution on the shortcut so its shape matches the inner layers' output (ResNet's projection). */
  projection?: boolean;
}

/** Buffers of one plan: per inner layer its output, output gradient and own buffers. */
interface InnerPlan {
  training: boolean;
  outputs: number[];
  grads: number[];
  buffers: Buffers[];
  /** The projected shortcut and its input gradient (with projection). */
  shortcut: number;
  shortcutGrad: number;
  shortcutBuffers: Buffers;
}

export class Residual extends Layer {
  readonly className = 'Residual';

  /** A saved block: its inner layers are made first, each from its own { className, config }. */
  static override fromConfig(config: Record<string, unknown>): Layer {
    return new Residual({ ...config, layers: innerLayers(config.layers, 'residual') });
  }

  readonly inner: Layer[];
  readonly projection: boolean;
  /** The 1x1 convolution on the shortcut, made at build time when `projection` is set. */
  shortcut: Layer | null = null;
  protected readonly plans = new WeakMap<Buffers, InnerPlan>();

  constructor(args: ResidualArgs) {
    super(args);
    const inner = args?.layers;
    if (!Array.isArray(inner) || inner.length === 0 || !inner.every((l) => l instanceof Layer)) {
      throw new ValueError('residual: layers must be a non-empty list of layers (nn.layers.*)');
    }
    if (new Set(inner).size !== inner.length) throw new ValueError('residual: the same layer object appears twice in layers');
    this.inner = inner.slice();
    this.projection = args.projection ?? false;
  }

  protected setup(inputShape: number[]): number[] {
    let shape = inputShape;
    for (const layer of this.inner) {
      if (!this.trainable) layer.trainable = false;
      layer.build(shape);
      shape = layer.outputShape;
    }
    if (this.projection) this.shortcut = this.makeProjection(inputShape, shape);
    else if (!sameShape(shape, inputShape)) {
      const channels = shape.length === inputShape.length && sameShape(shape.slice(0, -1), inputShape.slice(0, -1))
        ? ` (channels ${inputShape[inputShape.length - 1]} in, ${shape[shape.length - 1]} out)` : '';
      throw new ShapeError(`${this.name}: the block's layers turn its input [${inputShape}] into [${shape}]${channels}, so the input cannot be added to the output; keep the shape (padding 'same', stride 1, as many filters as input channels) or pass projection: true`);
    }
    for (const layer of this.inner) this.params.push(...layer.params);
    if (this.shortcut) this.params.push(...this.shortcut.params);
    return shape.slice();
  }

  /** A 1x1 convolution from the block's input to its output shape, strided to match. */
  private makeProjection(inputShape: number[], out: number[]): Layer {
    const rank = inputShape.length - 1;
    const fail = () => new ShapeError(`${this.name}: no 1x1 projection maps the input [${inputShape}] to the block's output [${out}]`);
    if ((rank !== 1 && rank !== 2) || out.length !== inputShape.length) throw fail();
    const strides = inputShape.slice(0, -1).map((d, i) => Math.max(1, Math.round(d / out[i])));
    const args = { filters: out[rank], kernelSize: 1, strides, padding: 'same' as const, useBias: false, name: `${this.name}/projection`, trainable: this.trainable };
    const conv = rank === 2 ? new Conv2D(args) : new Conv1D(args);
    conv.build(inputShape);
    if (!sameShape(conv.outputShape, out)) throw fail();
    return conv;
  }

  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    const plan: InnerPlan = { training, outputs: [], grads: [], buffers: [], shortcut: 0, shortcutGrad: 0, shortcutBuffers: {} };
    for (const layer of this.inner) {
      // every inner layer gets its own buffers, pass-through layers too (they run as a copy), so the block's
      // input and output gradient are never aliased inside it
      plan.outputs.push(reserve(capacity * layer.outputSize));
      plan.grads.push(training ? reserve(capacity * layer.outputSize) : 0);
      plan.buffers.push(layer.reserve(reserve, capacity, training));
    }
    if (this.shortcut) {
      plan.shortcut = reserve(capacity * this.outputSize);
      plan.shortcutGrad = training ? reserve(capacity * this.inputSize) : 0;
      plan.shortcutBuffers = this.shortcut.reserve(reserve, capacity, training);
    }
    const b: Buffers = {};
    this.plans.set(b, plan);
    return b;
  }

  protected planOf(b: Buffers): InnerPlan {
    const plan = this.plans.get(b);
    if (!plan) throw new ShapeError(`${this.name}: these buffers were not reserved by this block`);
    return plan;
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number, training: boolean): void {
    const plan = this.planOf(b);
    let input = x;
    this.inner.forEach((layer, i) => {
      const out = plan.outputs[i];
      if (layer.passThrough(plan.training)) env.k.vec_copy(input, out, rows * layer.outputSize);
      else layer.forward(env, plan.buffers[i], input, out, rows, training, false);
      input = out;
    });
    if (this.shortcut) {
      this.shortcut.forward(env, plan.shortcutBuffers, x, plan.shortcut, rows, training, false);
      env.k.vec_add(input, plan.shortcut, y, rows * this.outputSize);
    } else {
      env.k.vec_add(input, x, y, rows * this.outputSize);
    }
  }

  backward(env: Env, b: Buffers, x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      const plan = this.planOf(b);
      const last = this.inner.length - 1;
      // dL/dF(x) = dy; the inner layers may overwrite their output gradient, and dy is still needed for the shortcut
      env.k.vec_copy(dy, plan.grads[last], rows * this.outputSize);
      for (let i = last; i >= 0; i--) {
        const layer = this.inner[i];
        const gin = i === 0 ? dx : plan.grads[i - 1];
        if (layer.passThrough(true)) {
          if (gin) env.k.vec_copy(plan.grads[i], gin, rows * layer.inputSize);
        } else if (gin || layer.params.length > 0) {
          layer.backward(env, plan.buffers[i], i === 0 ? x : plan.outputs[i - 1], plan.outputs[i], plan.grads[i], gin, rows);
        }
      }
      if (this.shortcut) {
        this.shortcut.backward(env, plan.shortcutBuffers, x, plan.shortcut, dy, dx ? plan.shortcutGrad : 0, rows);
        if (dx) env.k.vec_add_inplace(dx, plan.shortcutGrad, rows * this.inputSize);
      } else if (dx) {
        env.k.vec_add_inplace(dx, dy, rows * this.inputSize);
      }
    }
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), projection: this.projection,
      layers: this.inner.map((l) => ({ className: l.className, config: l.getConfig() })),
    };
  }
}

export const residual = (args: ResidualArgs): Residual => new Residual(args);
