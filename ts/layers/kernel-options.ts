// The options shared by layers with a kernel and a bias (dense, conv): activation and useBias (what the forward pass
// needs), and the initializers and regularizers (what training needs), resolved once with the same defaults
// (Glorot-uniform kernel, zero bias) and written back to a config.
import { resolveActivation, type Activation } from '../tensor/activations';
import { resolveInitializer, initializerNameOf, glorotUniform, zeros, type Initializer } from './initializers';
import { resolveRegularizer, type Regularizer } from './regularizers';
import type { ParamInit } from './layer';
import type { Kernels } from '../backend/kernels';

export interface KernelArgs {
  activation?: string;
  /** Slope of leakyRelu / scale of elu. */
  alpha?: number;
  useBias?: boolean;
  kernelInitializer?: Initializer | string;
  biasInitializer?: Initializer | string;
  kernelRegularizer?: Regularizer | string;
  biasRegularizer?: Regularizer | string;
}

/** What the forward pass needs. */
export interface KernelForward {
  act: Activation;
  useBias: boolean;
}

/**
 * The training side: how the kernel and bias start (the options as given, made when the layer is built, in
 * paramInit; their names checked here) and what they are penalised by.
 */
export interface KernelTraining {
  kernelInit: Initializer | string | undefined;
  biasInit: Initializer | string | undefined;
  kernelInitName: string;
  biasInitName: string;
  kernelReg: Regularizer | null;
  biasReg: Regularizer | null;
}

export function resolveKernelForward(args: KernelArgs): KernelForward {
  return { act: resolveActivation(args.activation, args.alpha), useBias: args.useBias ?? true };
}

export function resolveKernelTraining(args: KernelArgs): KernelTraining {
  return {
    kernelInit: args.kernelInitializer,
    biasInit: args.biasInitializer,
    kernelInitName: initializerNameOf(args.kernelInitializer, 'glorotUniform'),
    biasInitName: initializerNameOf(args.biasInitializer, 'zeros'),
    kernelReg: resolveRegularizer(args.kernelRegularizer),
    biasReg: resolveRegularizer(args.biasRegularizer),
  };
}

/** paramInit of a layer whose parameters are 'kernel' and 'bias'. */
export function kernelParamInit(t: KernelTraining, name: string): ParamInit {
  return name === 'kernel'
    ? { initializer: resolveInitializer(t.kernelInit, glorotUniform), regularizer: t.kernelReg }
    : { initializer: resolveInitializer(t.biasInit, zeros), regularizer: t.biasReg };
}

/** The config entries of the options (alpha and regularizers only when set), in the order the layers wrote them. */
export function kernelOptionsConfig(f: KernelForward, t: KernelTraining): Record<string, unknown> {
  return {
    activation: f.act.name, ...(f.act.alpha ? { alpha: f.act.alpha } : {}),
    useBias: f.useBias, kernelInitializer: t.kernelInitName, biasInitializer: t.biasInitName,
    ...(t.kernelReg ? { kernelRegularizer: t.kernelReg.config } : {}),
    ...(t.biasReg ? { biasRegularizer: t.biasReg.config } : {}),
  };
}

/**
 * The backward pass of a dense or conv layer's bias and activation, over its (rows, cols) output: dz = dy ⊙ f'(z)
 * in place in dy (skipped when the loss already gave dLoss/dz), then the bias gradient. relu takes one pass for
 * both (relu_bias_grad; z may be relu's output y, which is positive exactly where z is); so does an activation whose
 * slope the forward pass kept in z's buffer (`slopeInZ`: slope_bias_grad, or a product without a bias).
 */
export function biasActivationBackward(k: Kernels, act: Activation, fused: boolean, z: number, y: number, dy: number,
  biasGrad: number, rows: number, cols: number, slopeInZ = false): void {
  if (!fused && slopeInZ) {
    if (biasGrad) k.slope_bias_grad(z, dy, biasGrad, rows, cols, 0);
    else k.vec_mul(dy, z, dy, rows * cols);
    return;
  }
  if (!fused && act.name === 'relu' && biasGrad) {
    k.relu_bias_grad(z, dy, biasGrad, rows, cols, 0);
    return;
  }
  if (!fused && act.name !== 'linear') {
    if (act.code < 0) k.softmax_backward(y, dy, dy, rows, cols);
    else k.act_backward(z, y, dy, dy, rows * cols, act.code, act.alpha);
  }
  if (biasGrad) k.bias_grad(dy, biasGrad, rows, cols, 0);
}
