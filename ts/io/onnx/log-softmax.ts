// LogSoftmax over the last axis: y = x - log Σ exp(x), PyTorch's usual last layer (F.log_softmax before nll_loss).
// wasmnn's activations have no log-softmax, so imported models get this layer; it is a user-defined layer as any
// user could write one (nn.layers.Layer and nn.registerLayer), and is registered so its models save and load.
import { Layer, type Buffers, type Env, type LayerArgs } from '../../layers/layer';
import { registerLayer } from '../../layers/registry';

export class LogSoftmax extends Layer {
  readonly className = 'LogSoftmax';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  protected setup(inputShape: number[]): number[] {
    return inputShape.slice();
  }

  private get cols(): number {
    return this.outputShape[this.outputShape.length - 1];
  }

  // x (rows·positions, cols) -> y, row by row
  forward(env: Env, _b: Buffers, x: number, y: number, rows: number): void {
    env.k.log_softmax_forward(x, y, rows * (this.outputSize / this.cols), this.cols);
  }

  // dx = dy - exp(y)·Σ dy per row
  backward(env: Env, _b: Buffers, _x: number, y: number, dy: number, dx: number, rows: number): void {
    if (dx) env.k.log_softmax_backward(y, dy, dx, rows * (this.outputSize / this.cols), this.cols);
  }
}

registerLayer('LogSoftmax', (c) => new LogSoftmax(c as LayerArgs));
