// Activation names as TF.js and Keras spell them, mapped to the module's activation codes.
import { ValueError } from '../backend/errors';
import { ACTIVATION_CODES } from '../backend/kernels';

export type ActivationName = keyof typeof ACTIVATION_CODES | 'softmax';

/** A resolved activation: the module code (or softmax, which is row-wise) and its parameter. */
export interface Activation {
  name: ActivationName;
  code: number; // -1 for softmax
  alpha: number;
}

const ALIASES: Record<string, ActivationName> = {
  linear: 'linear', identity: 'linear', none: 'linear',
  step: 'step', heaviside: 'step',
  relu: 'relu',
  leakyrelu: 'leakyRelu', leaky_relu: 'leakyRelu',
  elu: 'elu',
  sigmoid: 'sigmoid', logistic: 'sigmoid',
  tanh: 'tanh',
  softplus: 'softplus',
  gelu: 'gelu',
  gelutanh: 'geluTanh', gelu_tanh: 'geluTanh', gelu_new: 'geluTanh',
  hardsigmoid: 'hardSigmoid', hard_sigmoid: 'hardSigmoid',
  softmax: 'softmax',
};

/** Default alpha: TF.js' leakyRelu uses 0.3, ELU uses 1. */
const DEFAULT_ALPHA: Partial<Record<ActivationName, number>> = { leakyRelu: 0.3, elu: 1 };

export const ACTIVATION_NAMES = Object.keys(ACTIVATION_CODES).concat('softmax') as ActivationName[];

export function resolveActivation(name: string | undefined | null, alpha?: number): Activation {
  const key = name == null ? 'linear' : String(name);
  const resolved = ALIASES[key] ?? ALIASES[key.toLowerCase()];
  if (!resolved) {
    throw new ValueError(`unknown activation '${key}'; known: ${ACTIVATION_NAMES.join(', ')}`);
  }
  if (alpha !== undefined && !Number.isFinite(alpha)) throw new ValueError(`activation alpha must be finite, got ${alpha}`);
  const code = resolved === 'softmax' ? -1 : ACTIVATION_CODES[resolved];
  return { name: resolved, code, alpha: alpha ?? DEFAULT_ALPHA[resolved] ?? 0 };
}
