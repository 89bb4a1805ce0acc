// Dense: y = f(x·W + b). Forward is one matmul and one fused bias+activation pass; backward is the activation
// derivative, two matmuls (Xᵀ·dZ for W, dZ·Wᵀ for x) and a column sum for b. As Keras's, it acts on the last axis:
// an input [steps, features] (a sequence) is steps rows per sample, each mapped alone.
import { Layer, positiveInt, type Buffers, type Env, type LayerArgs, type ParamInit, type Reserve } from './layer';
import {
  biasActivationBackward, kernelOptionsConfig, kernelParamInit, resolveKernelForward, resolveKernelTraining,
  type KernelArgs, type KernelForward, type KernelTraining,
} from './kernel-options';
import type { Activation } from '../tensor/activations';
import { ShapeError } from '../backend/errors';

export interface DenseArgs extends LayerArgs, KernelArgs {
  units: number;
}

export class Dense extends Layer {
  readonly className = 'Dense';
  readonly units: number;
  readonly act: Activation;
  readonly useBias: boolean;
  protected readonly opts: KernelForward;
  protected readonly training: KernelTraining;

  constructor(args: DenseArgs) {
    super(args);
    this.units = positiveInt(args?.units, 'dense: units');
    this.opts = resolveKernelForward(args);
    ({ act: this.act, useBias: this.useBias } = this.opts);
    this.training = resolveKernelTraining(args);
  }

  override get activation(): Activation {
    return this.act;
  }

  protected setup(inputShape: number[]): number[] {
    if (inputShape.length !== 1 && inputShape.length !== 2) {
      throw new ShapeError(`${this.name}: dense expects an input [features] or [steps, features], got [${inputShape}]; add a flatten layer first`);
    }
    const features = inputShape[inputShape.length - 1];
    this.addParam('kernel', [features, this.units]);
    if (this.useBias) this.addParam('bias', [this.units], { fanIn: features });
    return [...inputShape.slice(0, -1), this.units];
  }

  /** Rows of the products per sample: 1, or the steps of a sequence. */
  get steps(): number {
    return this.inputShape!.length === 2 ? this.inputShape![0] : 1;
  }

  protected override get keepsMask(): boolean {
    return true;
  }

  /** The pre-activation z needs its own buffer unless the output is linear (then y is z). */
  override reserve(reserve: Reserve, capacity: number): Buffers {
    return this.act.name === 'linear' ? {} : { z: reserve(capacity * this.outputSize) };
  }

  override logits(b: Buffers, _x: number, y: number): number {
    return b.z ?? y;
  }

  /**
   * The buffers whose last forward pass was a training pass with the exact GELU: their z holds the slope gelu'(z)
   * (bias_gelu_slope_forward), which the backward pass multiplies by, instead of the pre-activation. The slope
   * shares the forward's exponential, so keeping it costs a few multiplies; it lives in z, so no plan pays memory.
   */
  private readonly slopeKept = new WeakSet<Buffers>();

  forward(env: Env, b: Buffers, x: number, y: number, samples: number, training: boolean, logitsOnly: boolean): void {
    const rows = samples * this.steps;
    if (training && b.z && this.act.name === 'gelu' && !logitsOnly) {
      trainingOnly: {
        const { k } = env;
        const [kernel, bias] = this.params;
        k.gemm_nn(x, kernel.ptr, b.z, rows, this.inputShape![this.inputShape!.length - 1], this.units, 0);
        k.bias_gelu_slope_forward(b.z, bias ? bias.ptr : 0, y, rows, this.units);
        this.slopeKept.add(b);
        return;
      }
    }
    this.slopeKept.delete(b);
    this.forwardRows(env, b, x, y, rows, logitsOnly);
  }

  /** The forward pass over `rows` rows of features (a sample's steps, or one step when generating). */
  forwardRows(env: Env, b: Buffers, x: number, y: number, rows: number, logitsOnly: boolean): void {
    const { k } = env;
    const [kernel, bias] = this.params;
    const z = b.z ?? y;
    // z(rows, units) = x(rows, in) · W(in, units)
    k.gemm_nn(x, kernel.ptr, z, rows, this.inputShape![this.inputShape!.length - 1], this.units, 0);
    if (logitsOnly || this.act.code < 0) {
      k.bias_act_forward(z, bias ? bias.ptr : 0, z, rows, this.units, 0, 0);
      if (!logitsOnly) k.softmax_forward(z, y, rows, this.units);
    } else {
      k.bias_act_forward(z, bias ? bias.ptr : 0, y, rows, this.units, this.act.code, this.act.alpha);
    }
  }

  protected override paramInit(name: string): ParamInit {
    trainingOnly: return kernelParamInit(this.training, name);
  }

  override backward(env: Env, b: Buffers, x: number, y: number, dy: number, dx: number, samples: number): void {
    trainingOnly: {
      const { k } = env;
      const [kernel, bias] = this.params;
      const inputs = this.inputShape![this.inputShape!.length - 1];
      const rows = samples * this.steps;
      biasActivationBackward(k, this.act, this.fusedActivation, b.z ?? y, y, dy, bias ? bias.grad : 0, rows, this.units, this.slopeKept.has(b));
      // dW(in, units) = xᵀ(in, rows) · dz(rows, units)
      if (kernel.grad) k.gemm_tn(x, dy, kernel.grad, inputs, rows, this.units, 0);
      // dx(rows, in) = dz(rows, units) · Wᵀ
      if (dx) k.gemm_nt(dy, kernel.ptr, dx, rows, this.units, inputs, 0);
    }
  }

  override getConfig(): Record<string, unknown> {
    savingOnly: return {
      ...super.getConfig(), units: this.units, ...kernelOptionsConfig(this.opts, this.training),
    };
  }
}

export const dense = (args: DenseArgs): Dense => new Dense(args);
