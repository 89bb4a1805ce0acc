// The options shared by layers with a kernel and a bias (dense, conv): activation and useBias (what the forward pass
// needs), and the initializers and regularizers (what training needs), resolved once with the same defaults
// (Glorot-uniform kernel, zero bias) and written back to a config.
import { resolveActivation, type Activation } from '../activations';
import { resolveInitializer, glorotUniform, zeros, type Initializer } from '../initializers';
import { resolveRegularizer, type Regularizer } from '../regularizers';
import type { ParamInit } from './layer';

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

/** The training side: how the kernel and bias start and what they are penalised by. */
export interface KernelTraining {
  kernelInit: Initializer;
  biasInit: Initializer;
  kernelReg: Regularizer | null;
  biasReg: Regularizer | null;
}

export function resolveKernelForward(args: KernelArgs): KernelForward {
  return { act: resolveActivation(args.activation, args.alpha), useBias: args.useBias ?? true };
}

export function resolveKernelTraining(args: KernelArgs): KernelTraining {
  return {
    kernelInit: resolveInitializer(args.kernelInitializer, glorotUniform),
    biasInit: resolveInitializer(args.biasInitializer, zeros),
    kernelReg: resolveRegularizer(args.kernelRegularizer),
    biasReg: resolveRegularizer(args.biasRegularizer),
  };
}

/** paramInit of a layer whose parameters are 'kernel' and 'bias'. */
export function kernelParamInit(t: KernelTraining, name: string): ParamInit {
  return name === 'kernel' ? { initializer: t.kernelInit, regularizer: t.kernelReg } : { initializer: t.biasInit, regularizer: t.biasReg };
}

/** The config entries of the options (alpha and regularizers only when set), in the order the layers wrote them. */
export function kernelOptionsConfig(f: KernelForward, t: KernelTraining): Record<string, unknown> {
  return {
    activation: f.act.name, ...(f.act.alpha ? { alpha: f.act.alpha } : {}),
    useBias: f.useBias, kernelInitializer: t.kernelInit.name, biasInitializer: t.biasInit.name,
    ...(t.kernelReg ? { kernelRegularizer: t.kernelReg.config } : {}),
    ...(t.biasReg ? { biasRegularizer: t.biasReg.config } : {}),
  };
}
