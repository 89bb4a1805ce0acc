// Losses by name (TF.js camelCase or Keras snake_case), each a kernel in assembly/losses.ts. Cross-entropies fuse with
// the output activation they belong to (softmax, sigmoid): the model then hands the kernel the logits, which is
// both one pass fewer and stable for large logits.
import type { Kernels } from '../backend/kernels';
import { ValueError } from '../backend/errors';

type Unfused = (k: Kernels, pred: number, target: number, grad: number, rows: number, cols: number, w: number) => number;
type Fused = (k: Kernels, logits: number, target: number, probOut: number, grad: number, rows: number, cols: number, w: number) => number;

export interface Loss {
  readonly name: string;
  /** 'sparse': targets are class indices (one per sample); 'dense': targets have the output's shape. */
  readonly targets: 'sparse' | 'dense';
  /** What accuracy means with this loss. */
  readonly accuracy: 'sparse' | 'categorical' | 'binary' | 'auto';
  readonly compute: Unfused;
  /** The output activation this loss fuses with, and the fused kernel. */
  readonly fusesWith?: 'softmax' | 'sigmoid' | 'step';
  readonly fused?: Fused;
  readonly config: Record<string, number>;
}

export const meanSquaredError = (): Loss => ({
  name: 'meanSquaredError', targets: 'dense', accuracy: 'auto', config: {},
  compute: (k, p, t, g, r, c, w) => k.loss_mse(p, t, g, r, c, w),
});
export const meanAbsoluteError = (): Loss => ({
  name: 'meanAbsoluteError', targets: 'dense', accuracy: 'auto', config: {},
  compute: (k, p, t, g, r, c, w) => k.loss_mae(p, t, g, r, c, w),
});
export function huber({ delta = 1 }: { delta?: number } = {}): Loss {
  if (!(delta > 0 && Number.isFinite(delta))) throw new ValueError(`huber delta must be a finite number > 0, got ${delta}`);
  return {
    name: 'huber', targets: 'dense', accuracy: 'auto', config: { delta },
    compute: (k, p, t, g, r, c, w) => k.loss_huber(p, t, g, r, c, w, delta),
  };
}
export const binaryCrossentropy = (): Loss => ({
  name: 'binaryCrossentropy', targets: 'dense', accuracy: 'binary', config: {},
  compute: (k, p, t, g, r, c, w) => k.loss_bce(p, t, g, r, c, w),
  fusesWith: 'sigmoid',
  fused: (k, z, t, y, g, r, c, w) => k.loss_sigmoid_bce(z, t, y, g, r, c, w),
});
export const categoricalCrossentropy = (): Loss => ({
  name: 'categoricalCrossentropy', targets: 'dense', accuracy: 'categorical', config: {},
  compute: (k, p, t, g, r, c, w) => k.loss_cce(p, t, g, r, c, w),
  fusesWith: 'softmax',
  fused: (k, z, t, y, g, r, c, w) => k.loss_softmax_cce(z, t, y, g, r, c, w),
});
export const sparseCategoricalCrossentropy = (): Loss => ({
  name: 'sparseCategoricalCrossentropy', targets: 'sparse', accuracy: 'sparse', config: {},
  compute: (k, p, t, g, r, c, w) => k.loss_sparse_cce(p, t, g, r, c, w),
  fusesWith: 'softmax',
  fused: (k, z, t, y, g, r, c, w) => k.loss_softmax_sparse_cce(z, t, y, g, r, c, w),
});
/**
 * The perceptron criterion on a step output: the gradient handed to the pre-activation is (ŷ − y) per sample,
 * so SGD with batch size 1 is Rosenblatt's rule w ← w + η(y − ŷ)x. The reported loss is the error rate.
 */
export const perceptron = (): Loss => ({
  name: 'perceptron', targets: 'dense', accuracy: 'binary', config: {},
  compute: (k, p, t, g, r, c, w) => k.loss_mae(p, t, g, r, c, w),
  fusesWith: 'step',
  fused: (k, z, t, y, g, r, c, w) => {
    k.act_forward(z, y, r * c, 1, 0);
    return k.loss_mae(y, t, g, r, c, w); // straight through the step: d/dz taken as d/dŷ
  },
});

const BY_NAME: Record<string, () => Loss> = {
  meanSquaredError, mse: meanSquaredError, mean_squared_error: meanSquaredError,
  meanAbsoluteError, mae: meanAbsoluteError, mean_absolute_error: meanAbsoluteError,
  huber, huberLoss: huber, huber_loss: huber,
  binaryCrossentropy, binary_crossentropy: binaryCrossentropy,
  categoricalCrossentropy, categorical_crossentropy: categoricalCrossentropy,
  sparseCategoricalCrossentropy, sparse_categorical_crossentropy: sparseCategoricalCrossentropy,
  perceptron,
};

/**
 * Steps of a sequence output: an output [steps, classes] (a recurrent layer's returnSequences, dense on top) is
 * scored per step, as Keras does: the loss, its targets ([n, steps] class indices or [n, steps, classes]) and the
 * accuracy count steps x samples rows of `classes`. Any other output is one row per sample.
 */
export function outputSteps(outputShape: readonly number[]): number {
  return outputShape.length === 2 ? outputShape[0] : 1;
}

export const LOSS_NAMES = ['meanSquaredError', 'meanAbsoluteError', 'huber', 'binaryCrossentropy', 'categoricalCrossentropy', 'sparseCategoricalCrossentropy', 'perceptron'];

export function resolveLoss(loss: Loss | string): Loss {
  if (typeof loss === 'object' && loss && typeof loss.compute === 'function') return loss;
  const make = BY_NAME[String(loss)];
  if (!make) throw new ValueError(`unknown loss '${String(loss)}'; known: ${LOSS_NAMES.join(', ')}`);
  return make();
}
