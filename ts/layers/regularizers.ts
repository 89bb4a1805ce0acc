// Kernel penalties with TF.js' meaning: l2 adds l2·ΣW² to the loss (the textbook's λ/2‖W‖² is l2 = λ/2),
// l1 adds l1·Σ|W|. Each returns its penalty and adds its gradient into the parameter's gradient, in the module.
import type { Kernels } from '../backend/kernels';
import { ValueError } from '../backend/errors';

export interface Regularizer {
  readonly name: string;
  readonly config: { l1: number; l2: number };
  /** Adds the penalty's gradient into g and returns the penalty. */
  apply(k: Kernels, w: number, g: number, n: number): number;
}

export function l1l2({ l1 = 0, l2 = 0 }: { l1?: number; l2?: number } = {}): Regularizer {
  for (const [name, v] of [['l1', l1], ['l2', l2]] as const) {
    if (!Number.isFinite(v) || v < 0) throw new ValueError(`regularizer ${name} must be a finite number >= 0, got ${v}`);
  }
  return {
    name: 'l1l2',
    config: { l1, l2 },
    apply(k, w, g, n) {
      let penalty = 0;
      trainingOnly: { // (wasmnn/infer's build drops this block: see Layer.backward)
        if (l1 > 0) penalty += k.l1_penalty(w, g, n, l1);
        if (l2 > 0) penalty += k.l2_penalty(w, g, n, l2);
      }
      return penalty;
    },
  };
}
export const l1 = ({ l1: value = 0.01 }: { l1?: number } = {}): Regularizer => ({ ...l1l2({ l1: value }), name: 'l1' });
export const l2 = ({ l2: value = 0.01 }: { l2?: number } = {}): Regularizer => ({ ...l1l2({ l2: value }), name: 'l2' });

/**
 * The regularizers a config may name: the one list layers check names against. BY_NAME must have exactly these keys
 * (the compiler checks it).
 */
export const REGULARIZER_NAMES = ['l1', 'l2', 'l1l2'] as const;
const BY_NAME: Record<(typeof REGULARIZER_NAMES)[number], () => Regularizer> = { l1, l2, l1l2: () => l1l2({ l1: 0.01, l2: 0.01 }) };

export function resolveRegularizer(r: Regularizer | string | undefined | null): Regularizer | null {
  if (r == null) return null;
  if (isRegularizer(r)) return r;
  checkRegularizer(r);
  return BY_NAME[r as (typeof REGULARIZER_NAMES)[number]]();
}

/** Checks a regularizer option without making it: what resolveRegularizer accepts. */
export function checkRegularizer(r: unknown): void {
  if (r != null && !isRegularizer(r) && !(REGULARIZER_NAMES as readonly unknown[]).includes(r)) {
    throw new ValueError(`unknown regularizer '${String(r)}'; known: ${REGULARIZER_NAMES.join(', ')}`);
  }
}

function isRegularizer(r: unknown): r is Regularizer {
  return typeof r === 'object' && typeof (r as Regularizer | null)?.apply === 'function';
}
