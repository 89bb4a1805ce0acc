// Conv2D and Conv1D, channels-last (NHWC) with Keras' kernel layout [kh, kw, inChannels, filters] ([k, in, filters]
// for 1-D), so weights line up with TF.js and Keras. A convolution is lowered onto the SIMD matmul:
//   forward          cols = im2col(x) (P, K)     z = cols · W (P, F)       y = f(z + b)
//   filter gradient  dW = colsᵀ · dz             bias gradient db = Σ_rows dz
//   input gradient   dcols = dz · Wᵀ             dx = col2im(dcols)
// with P = batch·OH·OW output pixels and K = kh·kw·inChannels. Few input channels (MNIST's first layer) take the
// module's direct kernels instead (see useDirect). The im2col buffer is planned per batch capacity; a batch whose
// unfolded input would exceed COLS_BUDGET runs in chunks of samples. Conv1D is Conv2D on [1, steps, channels].
import { Layer, positiveInt, type Buffers, type Env, type LayerArgs, type ParamInit, type Reserve } from './layer';
import { MaxPooling2D } from './pooling';
import { checkPadding, checkRank, geoBlock, geometry, spatialTuple, writeGeo, GEO_LEN, type Geometry, type Padding } from './geometry';
import {
  biasActivationBackward, kernelOptionsConfig, kernelParamInit, resolveKernelForward, resolveKernelTraining,
  type KernelArgs, type KernelForward, type KernelTraining,
} from './kernel-options';
import type { Activation } from '../tensor/activations';
import { SPARSE } from '../backend/kernels';

export interface ConvArgs extends LayerArgs, KernelArgs {
  filters: number;
  kernelSize: number | number[];
  /** Default 1. */
  strides?: number | number[];
  /** 'valid' (default) or 'same'; conv1d also takes 'causal'. */
  padding?: Padding;
  /** Default 1. */
  dilationRate?: number | number[];
}

/** Floats of unfolded input (im2col) per chunk: beyond this a batch is unfolded a few samples at a time. */
const COLS_BUDGET = 1 << 22;

/**
 * Whether the direct filter-gradient kernel beats im2col + gemm_tn. It keeps the gradient in registers and sweeps
 * dy once per (tap, four input channels, 8 filters) when C is a multiple of 4, else per (filter row of three taps or
 * tap, input channel, 8 filters); im2col + GEMM pays for unfolding and packing a matrix whose K = kh·kw·C is too
 * short to amortise it. Measured (batch 64, one thread, direct vs im2col + gemm_tn):
 * - four channels a sweep, 3x3: 28x28 C=4 F=16 1.9 vs 3.7 ms, 13x13 C=8 F=16 0.96 vs 1.39, 14x14 C=16 F=16 2.8 vs
 *   3.5; 1x1 and 2x2 at C·F = 256 1.1-1.7x ahead; GEMM ahead at C=16 F=32 (5.2 vs 4.4) and for 5x5 from C=8 F=16
 *   (1.2 vs 1.1);
 * - three taps a sweep (C=1 and the like): 28x28 C=1 F=8 0.21 vs 1.45, C=1 F=32 1.1 vs 2.9;
 * - other widths, one sweep per tap: direct ahead for C <= 4 with F <= 16, behind from C=1 F=32 or C=3 F=16 on (dy
 *   no longer stays in cache over the sweeps).
 */
export function useDirect(inChannels: number, filters: number, kernelWidth: number): boolean {
  if (inChannels % 4 === 0 && kernelWidth <= 3) return inChannels * filters <= 256;
  if (kernelWidth === 3) return inChannels * filters <= 128;
  return inChannels <= 4 && filters <= 16 && inChannels * filters <= 32;
}

/**
 * Whether the output-stationary conv2d_forward beats im2col + gemm_nn (both give the same bits). Measured (batch 64,
 * 3x3 unless said, one thread, direct vs im2col): 28x28 C=1 F=8 0.54 vs 2.37 ms; 13x13 C=8 F=16 0.83 vs 1.01;
 * 16x16 C=3 F=16 0.93 vs 1.33; 28x28 C=1 F=32 2.8 vs 4.2; about even at 28x28 C=32 F=32; GEMM ahead from
 * 12x12 C=16 F=32 5x5 (5.8 vs 3.7) and 14x14 C=32 F=64 on, where its packed weights are reused over more rows.
 */
export function useDirectForward(inChannels: number, filters: number): boolean {
  return inChannels * filters <= 256;
}

abstract class Conv extends Layer {
  readonly filters: number;
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly dilationRate: number[];
  readonly padding: Padding;
  readonly act: Activation;
  readonly useBias: boolean;
  protected readonly opts: KernelForward;
  protected readonly training: KernelTraining;
  protected geo!: Geometry;
  protected block!: Int32Array;
  protected direct = false;
  protected directForward = false;
  /** The max pooling above that this layer's forward kernel computes as well (pairWith), or null. */
  protected pool: MaxPooling2D | null = null;

  constructor(readonly rank: 1 | 2, args: ConvArgs) {
    super(args);
    const kind = rank === 2 ? 'conv2d' : 'conv1d';
    this.filters = positiveInt(args?.filters, `${kind}: filters`);
    this.kernelSize = spatialTuple(args.kernelSize, rank, `${kind}: kernelSize`);
    this.strides = spatialTuple(args.strides, rank, `${kind}: strides`, new Array(rank).fill(1));
    this.dilationRate = spatialTuple(args.dilationRate, rank, `${kind}: dilationRate`, new Array(rank).fill(1));
    this.padding = checkPadding(args.padding, `${kind}: padding`, rank === 1 ? ['valid', 'same', 'causal'] : ['valid', 'same']);
    this.opts = resolveKernelForward(args);
    ({ act: this.act, useBias: this.useBias } = this.opts);
    this.training = resolveKernelTraining(args);
  }

  override get activation(): Activation {
    return this.act;
  }

  protected setup(inputShape: number[]): number[] {
    checkRank(this.name, this.rank === 2 ? 'conv2d' : 'conv1d', inputShape, this.rank);
    const hwc = this.rank === 2 ? inputShape : [1, ...inputShape];
    const one = this.rank === 2 ? [] : [1];
    const g = geometry(this.name, hwc, [...one, ...this.kernelSize], [...one, ...this.strides], [...one, ...this.dilationRate], this.padding);
    this.geo = g;
    this.block = geoBlock(g);
    this.direct = useDirect(g.c, this.filters, g.kw);
    this.directForward = useDirectForward(g.c, this.filters);
    const taps = this.kernelSize.reduce((a, b) => a * b, 1);
    this.addParam('kernel', [...this.kernelSize, g.c, this.filters], { fanIn: taps * g.c, fanOut: taps * this.filters });
    if (this.useBias) this.addParam('bias', [this.filters], { fanIn: taps * g.c });
    return this.rank === 2 ? [g.oh, g.ow, this.filters] : [g.ow, this.filters];
  }

  /** Output pixels per sample, and floats of one im2col row. */
  protected get pixels(): number {
    return this.geo.oh * this.geo.ow;
  }
  protected get patch(): number {
    return this.geo.kh * this.geo.kw * this.geo.c;
  }
  /** Samples per im2col chunk for a plan of `capacity` rows. */
  private chunkRows(capacity: number): number {
    return Math.max(1, Math.min(capacity, Math.floor(COLS_BUDGET / (this.pixels * this.patch))));
  }

  /** relu is applied by the forward kernels themselves, and its derivative reads y as well as z (y > 0 ⇔ z > 0). */
  private get reluOnly(): boolean {
    return this.act.name === 'relu';
  }

  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    const b: Buffers = { geo: reserve(GEO_LEN), chunk: this.chunkRows(capacity) };
    if (this.act.name !== 'linear' && !this.reluOnly) b.z = reserve(capacity * this.pixels * this.filters);
    // the direct forward needs the unfolded buffer only for the backward pass
    if (!this.directForward || training) b.cols = reserve(b.chunk * this.pixels * this.patch);
    // the sparse backward's scratch: the weights and the filter gradient's sums, filter by filter, and one row of dcols
    if (training && this.sparseBackward) {
      b.sparse = reserve(2 * this.patch * this.filters + this.patch);
      b.sparseBlock = reserve(SPARSE.LEN);
    }
    return b;
  }

  override logits(b: Buffers, _x: number, y: number): number {
    return b.z ?? y;
  }

  /**
   * Pairs with a 2x2 max pooling above: conv2d_forward_maxpool runs the pooling's windows as its blocks of pixels and
   * writes only the pooled maxima, with the same bits as the two layers (1.24-1.36x the two kernels at MNIST's
   * layers; an odd last row and column are not computed). Needs the output-stationary kernel, relu or no activation
   * (relu's derivative at a maximum is then the pooling's y > 0), whole blocks of eight filters, and every tap of
   * the pooled pixels inside x.
   */
  override pairWith(next: Layer): boolean {
    const g = this.geo;
    const inside = g.padTop === 0 && g.padLeft === 0 &&
      (2 * (g.oh >> 1) - 1) * g.sh + (g.kh - 1) * g.dh < g.h && (2 * (g.ow >> 1) - 1) * g.sw + (g.kw - 1) * g.dw < g.w;
    const paired = next instanceof MaxPooling2D && next.twoByTwo && this.rank === 2 && this.directForward &&
      this.filters % 8 === 0 && (this.reluOnly || this.act.name === 'linear') && inside;
    this.pool = paired ? next : null;
    return paired;
  }

  override forwardPair(env: Env, b: Buffers, bNext: Buffers, x: number, y: number, rows: number): void {
    const [kernel, bias] = this.params;
    writeGeo(env.heap, b.geo, this.block, rows);
    env.k.conv2d_forward_maxpool(x, kernel.ptr, bias ? bias.ptr : 0, y, bNext.argmax ?? 0, b.geo, this.filters, this.reluOnly ? 1 : 0);
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number, _training: boolean, logitsOnly: boolean): void {
    const { k, heap } = env;
    const [kernel, bias] = this.params;
    const F = this.filters;
    const P = rows * this.pixels;
    const z = b.z ?? y;
    const relu = this.reluOnly && !logitsOnly ? 1 : 0;
    if (this.directForward) {
      writeGeo(heap, b.geo, this.block, rows);
      k.conv2d_forward(x, kernel.ptr, bias ? bias.ptr : 0, z, b.geo, F, relu);
    } else {
      const inBytes = this.inputSize * 4, outBytes = this.pixels * F * 4;
      for (let s = 0; s < rows; s += b.chunk) {
        const n = Math.min(b.chunk, rows - s);
        writeGeo(heap, b.geo, this.block, n);
        k.im2col(x + s * inBytes, b.cols, b.geo);
        // z(P, F) = cols(P, K) · W(K, F)
        k.gemm_nn(b.cols, kernel.ptr, z + s * outBytes, n * this.pixels, this.patch, F, 0);
      }
      if (!logitsOnly && this.act.code >= 0) {
        // bias and activation in one pass (z keeps the pre-activation unless z = y)
        if (bias || this.act.name !== 'linear') k.bias_act_forward(z, bias ? bias.ptr : 0, y, P, F, this.act.code, this.act.alpha);
        return;
      }
      if (bias) k.bias_act_forward(z, bias.ptr, z, P, F, 0, 0);
    }
    // z holds conv + bias (relu layers: relu(conv + bias), and z = y)
    if (logitsOnly || z === y) return;
    if (this.act.code < 0) k.softmax_forward(z, y, P, F);
    else k.act_forward(z, y, P * F, this.act.code, this.act.alpha);
  }

  protected override paramInit(name: string): ParamInit {
    trainingOnly: return kernelParamInit(this.training, name);
  }

  /**
   * Whether the pair's backward takes conv2d_backward_sparse: dz under a 2x2 max pooling is nonzero at one pixel in
   * four of each channel at most, and the kernel does only the nonzero filters' work, with the dense kernels' bits
   * where the filter gradient is the direct kernel's (its (n, oy, ox) sums). Measured at MNIST's second layer (C=8,
   * F=16, batch 64): 0.8-1.1 against 1.4 ms for the direct filter gradient, bias_grad, gemm_nt and col2im; about even
   * at C=4 F=8, whose pixels have too few nonzero filters to pay for their scatter into dx.
   */
  private get sparseBackward(): boolean {
    return this.pool !== null && this.direct && this.geo.c % 4 === 0 && this.filters >= 16;
  }

  backward(env: Env, b: Buffers, x: number, y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      const [, bias] = this.params;
      biasActivationBackward(env.k, this.act, this.fusedActivation, b.z ?? y, y, dy, bias ? bias.grad : 0, rows * this.pixels, this.filters);
      this.filterAndInputGradients(env, b, x, dy, dx, rows);
    }
  }

  /** The pair's backward: the pooling writes dz, the pre-activation's gradient (relu's derivative from its y), then
   *  the bias and filter gradients and dx as in backward. */
  override backwardPair(env: Env, b: Buffers, bNext: Buffers, x: number, y: number, dy: number, dz: number, dx: number, rows: number): void {
    trainingOnly: {
      const [kernel, bias] = this.params;
      this.pool!.backwardInPair(env, bNext, y, dy, dz, rows, this.act.name === 'relu');
      if (b.sparse) {
        writeGeo(env.heap, b.geo, this.block, rows);
        env.heap.i32.set([kernel.ptr, kernel.grad, bias?.grad ?? 0, b.sparse, this.filters], b.sparseBlock >> 2); // SPARSE's order
        env.k.conv2d_backward_sparse(x, dz, dx, b.geo, b.sparseBlock);
        return;
      }
      if (bias?.grad) env.k.bias_grad(dz, bias.grad, rows * this.pixels, this.filters, 0);
      this.filterAndInputGradients(env, b, x, dz, dx, rows);
    }
  }

  /** The filter gradient (the 'kernel' parameter's) and dx from dz, the gradient of the pre-activation. */
  private filterAndInputGradients(env: Env, b: Buffers, x: number, dz: number, dx: number, rows: number): void {
    trainingOnly: {
      const { k, heap } = env;
      const [kernel] = this.params;
      const F = this.filters, K = this.patch;
      if (this.direct && kernel.grad) {
        writeGeo(heap, b.geo, this.block, rows);
        k.conv2d_direct_backward_filter(x, dz, kernel.grad, b.geo, F, 0);
      }
      const filterGrad = !this.direct && kernel.grad !== 0;
      if (!filterGrad && !dx) return;
      // the im2col forward still holds its unfolded x when the whole batch was one chunk
      const unfolded = !this.directForward && rows <= b.chunk;
      const inBytes = this.inputSize * 4, outBytes = this.pixels * F * 4;
      for (let s = 0; s < rows; s += b.chunk) {
        const n = Math.min(b.chunk, rows - s);
        const pc = n * this.pixels;
        const dzc = dz + s * outBytes;
        writeGeo(heap, b.geo, this.block, n);
        if (filterGrad) {
          if (!unfolded) k.im2col(x + s * inBytes, b.cols, b.geo);
          // dW(K, F) (+)= cols(P, K)ᵀ · dz(P, F)
          k.gemm_tn(b.cols, dzc, kernel.grad, K, pc, F, s > 0 ? 1 : 0);
        }
        if (dx) {
          // dcols(P, K) = dz(P, F) · W(K, F)ᵀ, into the cols buffer (its x patches are no longer needed)
          k.gemm_nt(dzc, kernel.ptr, b.cols, pc, F, K, 0);
          k.col2im(b.cols, dx + s * inBytes, b.geo, 0);
        }
      }
    }
  }

  override getConfig(): Record<string, unknown> {
    const unwrap = (v: number[]) => (this.rank === 1 ? v[0] : v);
    savingOnly: return {
      ...super.getConfig(), filters: this.filters, kernelSize: unwrap(this.kernelSize), strides: unwrap(this.strides),
      padding: this.padding, dilationRate: unwrap(this.dilationRate),
      ...kernelOptionsConfig(this.opts, this.training),
    };
  }
}

/** 2-D convolution over [height, width, channels] with a kernel [kh, kw, channels, filters]. */
export class Conv2D extends Conv {
  readonly className = 'Conv2D';
  constructor(args: ConvArgs) {
    super(2, args);
  }
}

/** 1-D convolution over [steps, channels] with a kernel [k, channels, filters]. */
export class Conv1D extends Conv {
  readonly className = 'Conv1D';
  constructor(args: ConvArgs) {
    super(1, args);
  }
}

export const conv2d = (args: ConvArgs): Conv2D => new Conv2D(args);
export const conv1d = (args: ConvArgs): Conv1D => new Conv1D(args);
