// LogSoftmax over the last axis: y = x - log Σ exp(x), PyTorch's usual last layer (F.log_softmax before nll_loss),
// so that imported PyTorch models end as they did. No parameters; the kernels are assembly/activations.ts'.
import { Layer, type Buffers, type Env, type LayerArgs } from './layer';

export class LogSoftmax extends Layer {
  readonly className = 'LogSoftmax';

  protected setup(inputShape: number[]): number[] {
    return inputShape.slice();
  }

  /** Rows of the softmax: every position of every sample; columns: the last axis. */
  private get cols(): number {
    return this.outputShape[this.outputShape.length - 1];
  }

  // y(rows·positions, cols) = x - logsumexp(x) per row
  forward(env: Env, _b: Buffers, x: number, y: number, rows: number): void {
    env.k.log_softmax_forward(x, y, rows * (this.outputSize / this.cols), this.cols);
  }

  // dx = dy - exp(y)·Σ dy per row
  backward(env: Env, _b: Buffers, _x: number, y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      if (dx) env.k.log_softmax_backward(y, dy, dx, rows * (this.outputSize / this.cols), this.cols);
    }
  }
}

export const logSoftmax = (args: LayerArgs = {}): LogSoftmax => new LogSoftmax(args);
