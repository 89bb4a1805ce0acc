// The options shared by layers with a kernel and a bias (dense, conv): activation, useBias, initializers and
// regularizers, resolved once with the same defaults (Glorot-uniform kernel, zero bias) and written back to a config.
import { resolveActivation, type Activation } from '../activations';
import { resolveInitializer, glorotUniform, zeros, type Initializer } from '../initializers';
import { resolveRegularizer, type Regularizer } from '../regularizers';

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

export interface KernelOptions {
  act: Activation;
  useBias: boolean;
  kernelInit: Initializer;
  biasInit: Initializer;
  kernelReg: Regularizer | null;
  biasReg: Regularizer | null;
}

export function resolveKernelOptions(args: KernelArgs): KernelOptions {
  return {
    act: resolveActivation(args.activation, args.alpha),
    useBias: args.useBias ?? true,
    kernelInit: resolveInitializer(args.kernelInitializer, glorotUniform),
    biasInit: resolveInitializer(args.biasInitializer, zeros),
    kernelReg: resolveRegularizer(args.kernelRegularizer),
    biasReg: resolveRegularizer(args.biasRegularizer),
  };
}

/** The config entries of the options (alpha and regularizers only when set), in the order the layers wrote them. */
export function kernelOptionsConfig(o: KernelOptions): Record<string, unknown> {
  return {
    activation: o.act.name, ...(o.act.alpha ? { alpha: o.act.alpha } : {}),
    useBias: o.useBias, kernelInitializer: o.kernelInit.name, biasInitializer: o.biasInit.name,
    ...(o.kernelReg ? { kernelRegularizer: o.kernelReg.config } : {}),
    ...(o.biasReg ? { biasRegularizer: o.biasReg.config } : {}),
  };
}
