// Rosenblatt's perceptron: one step unit trained by w ← w + η(y − ŷ)x, sample by sample. It is a Sequential of one
// dense 'step' unit with the perceptron loss and plain SGD at batch size 1, so it runs on the same kernels.
import { sequential, type Sequential } from './model';
import { dense } from '../layers/dense';
import { train } from '../optim/optimizers';
import { Tensor, type TensorLike } from '../tensor/tensor';
import { ValueError } from '../backend/errors';

export interface PerceptronArgs {
  inputs: number;
  learningRate?: number;
  maxEpochs?: number;
  /** Visit the samples in a new seeded order each epoch (off: the classic fixed order). */
  shuffle?: boolean;
  seed?: number;
}

export interface PerceptronResult {
  /** True when an epoch went by without a single mistake. */
  converged: boolean;
  epochs: number;
  /** Mistakes made in each epoch. */
  mistakes: number[];
}

export class Perceptron {
  readonly model: Sequential;
  private readonly maxEpochs: number;
  private readonly shuffle: boolean;

  constructor({ inputs, learningRate = 1, maxEpochs = 100, shuffle = false, seed = 0 }: PerceptronArgs) {
    if (!Number.isInteger(maxEpochs) || maxEpochs < 1) throw new ValueError(`maxEpochs must be a whole number >= 1, got ${maxEpochs}`);
    this.maxEpochs = maxEpochs;
    this.shuffle = shuffle;
    this.model = sequential({ seed, layers: [dense({ inputShape: [inputs], units: 1, activation: 'step', kernelInitializer: 'zeros' })] });
    this.model.compile({ optimizer: train.sgd(learningRate), loss: 'perceptron', metrics: ['accuracy'] });
  }

  /** Trains until an epoch has no mistakes or maxEpochs pass; y holds 0/1 targets. */
  async fit(x: TensorLike, y: ArrayLike<number> | Tensor): Promise<PerceptronResult> {
    const targets = y instanceof Tensor ? y.data : Float32Array.from(y);
    for (let i = 0; i < targets.length; i++) {
      if (targets[i] !== 0 && targets[i] !== 1) throw new ValueError(`perceptron targets must be 0 or 1, got y[${i}] = ${targets[i]}`);
    }
    const mistakes: number[] = [];
    for (let epoch = 0; epoch < this.maxEpochs; epoch++) {
      const h = await this.model.fit(x, new Tensor(targets, [targets.length, 1]), { epochs: 1, batchSize: 1, shuffle: this.shuffle });
      // the loss is the mean |y − ŷ| of the predictions made before each update: the epoch's error rate
      const wrong = Math.round(h.history.loss[0] * targets.length);
      mistakes.push(wrong);
      if (wrong === 0) return { converged: true, epochs: epoch + 1, mistakes };
    }
    return { converged: false, epochs: this.maxEpochs, mistakes };
  }

  /** 0/1 predictions. */
  predict(x: TensorLike): Float32Array {
    return this.model.predict(x).data;
  }

  /** The weight vector and the bias. */
  get weights(): { w: Float32Array; b: number } {
    const [w, b] = this.model.getWeights();
    return { w: w.data, b: b.data[0] };
  }

  dispose(): void {
    this.model.dispose();
  }
}
