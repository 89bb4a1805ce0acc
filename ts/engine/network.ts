// The memory-owning core of a model. Parameters, gradients, optimiser state and non-trainable state are each one
// contiguous block, allocated once; a Plan holds every activation buffer for one batch capacity. Forward, backward
// and the optimiser step are kernel calls over those addresses; none of them allocates. Network places the blocks,
// plans and runs forward (all that wasmnn/infer bundles); TrainableNetwork, the library's, adds the optimiser's
// state, backward, the loss and the regularisers.
import { backend } from '../backend/module';
import type { Env, Layer, Buffers } from '../layers/layer';
import { outputSteps, type Loss } from '../optim/losses';
import type { Optimizer, ParameterBlock } from '../optim/optimizers';
import { ShapeError, StateError } from '../backend/errors';
import { groupDigits } from '../backend/memory';

const sameDims = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

export interface Plan {
  capacity: number;
  /** The steps it was laid out for (a model with open steps): it serves any number up to these. */
  steps: number;
  training: boolean;
  input: number;
  /** Output and output-gradient buffer of each layer (aliases for pass-through layers; gradients 0 in inference). */
  outputs: number[];
  grads: number[];
  buffers: Buffers[];
  /** Targets: class indices (i32) for sparse losses, or rows of the output's size; and per-sample weights. */
  labels: number;
  targets: number;
  weights: number;
  /** Where an inference plan's loss writes the gradient it does not need. */
  lossGrad: number;
  /** The padding mask [capacity, T] of the model's output (0: none): the loss skips the padded steps. */
  mask: number;
}

export class Network {
  readonly env: Env;
  readonly block: ParameterBlock = { params: 0, grads: 0, states: [], n: 0, settings: 0 };
  /** Non-trainable state (batch-norm statistics): saved with the weights, never touched by the optimiser. */
  stateBlock = { ptr: 0, n: 0 };
  readonly #initRng: number;
  /** paired[i]: layer i runs its forward and backward with layer i + 1's as one pair (Layer.pairWith). */
  protected readonly paired: boolean[];
  protected owned: number[] = [];
  #plans: Plan[] = [];
  #disposed = false;
  /** The first layer's inputShape leaves the steps open: useSteps sets them per call. */
  readonly variableSteps: boolean;
  #steps: number;

  /** `initialize` false leaves the weights unset, for a loader that writes every one of them next. */
  constructor(readonly layers: Layer[], inputShape: number[], seed: number, initialize = true) {
    const { kernels: k, heap } = backend();
    let shape = inputShape;
    for (const layer of layers) {
      layer.build(shape);
      shape = layer.outputShape;
    }
    this.variableSteps = layers[0].variableSteps;
    this.#steps = inputShape[0];
    let trainable = 0;
    let fixed = 0;
    for (const layer of layers) for (const p of layer.params) p.trainable ? (trainable += p.size) : (fixed += p.size);
    this.env = { k, heap, rng: 0 };
    // every block at once, all or none: a model too big for the module is a MemoryError that leaves nothing behind;
    // a network that only predicts has no gradients (its block is a stand-in of one float)
    const trains = this.trains;
    const [initRng, trainRng, params, grads, state] = this.allocAll([4, 4, trainable, trains ? trainable : 0, fixed],
      `the model's weights${trains ? ' and gradients' : ''} (${groupDigits(trainable + fixed)} parameters)`);
    // two streams from the seed: one for initial weights, one for training (dropout, shuffling), so adding a
    // dropout layer does not change the initial weights
    this.#initRng = initRng;
    k.rng_seed(initRng, seed >>> 0);
    k.rng_seed(trainRng, (seed ^ 0x9e3779b9) >>> 0);
    this.env.rng = trainRng;
    this.block.n = trainable;
    this.block.params = params;
    this.block.grads = grads;
    this.stateBlock = { ptr: state, n: fixed };
    this.paired = layers.map((layer, i) => i + 1 < layers.length && layer.pairWith(layers[i + 1]));
    this.#placeParameters(initialize);
  }

  /**
   * With open steps, makes the layers take `steps` (their shapes follow; the parameters, which do not depend on the
   * steps, stay where they are); a plan laid out for at least these steps serves the call. Else nothing.
   */
  useSteps(steps: number): void {
    if (!this.variableSteps || steps === this.#steps) return;
    // (`wasmnn bundle` drops the openSteps: statements from a model whose steps are fixed: they are never reached)
    openSteps: {
      try {
        this.#buildFor(steps);
      } catch (e) {
        this.#buildFor(this.#steps); // back as it was
        throw e;
      }
      this.#steps = steps;
    }
  }

  #buildFor(steps: number): void {
    openSteps: {
      let shape = [steps, ...this.layers[0].inputShape!.slice(1)];
      for (const layer of this.layers) {
        const placed = layer.params;
        layer.build(shape);
        if (layer.params.length !== placed.length || layer.params.some((p, i) => !sameDims(p.shape, placed[i].shape))) {
          layer.params = placed; // the placed ones, for the way back
          throw new ShapeError(`${layer.name}: its weights depend on the number of steps, so the model cannot take inputShape [null, ...]`);
        }
        layer.params.forEach((p, i) => Object.assign(p, { ptr: placed[i].ptr, grad: placed[i].grad, trainable: placed[i].trainable }));
        shape = layer.outputShape;
      }
    }
  }

  get outputLayer(): Layer {
    return this.layers[this.layers.length - 1];
  }

  /** Whether the network keeps gradients (TrainableNetwork's do): read once, by the constructor. */
  protected get trains(): boolean {
    return false;
  }

  #placeParameters(initialize: boolean): void {
    let t = this.block.params, g = this.block.grads, s = this.stateBlock.ptr;
    for (const layer of this.layers) {
      for (const p of layer.params) {
        if (p.trainable) {
          p.ptr = t; p.grad = this.trains ? g : 0;
          t += p.size * 4; g += p.size * 4;
        } else {
          p.ptr = s; p.grad = 0;
          s += p.size * 4;
        }
        if (initialize) p.initializer.fill(this.env.k, this.#initRng, p.ptr, p.size, p.fanIn, p.fanOut);
      }
    }
    if (this.trains) this.env.k.vec_fill(this.block.grads, this.block.n, 0);
  }

  /**
   * Rows per inference block for a batch of up to `rows`: as many as keep one block's activations (the input and
   * every layer's output) within INFERENCE_BLOCK_FLOATS, so that a layer's output is still in cache when the next
   * layer reads it and the plan stays small. Samples are independent at inference, so the block size changes no
   * result. Predicting 10,000 MNIST images with the reference CNN plans about 1 MB of activations instead of 1 GB this
   * way (the benchmark's peak RSS 317 MiB instead of 1,027), at the same speed or better.
   */
  inferenceRows(rows: number): number {
    let floats = this.layers[0].inputSize;
    for (const layer of this.layers) if (!layer.passThrough(false)) floats += layer.outputSize;
    return Math.max(1, Math.min(rows, Math.floor(INFERENCE_BLOCK_FLOATS / floats)));
  }

  /** The plan for `capacity` rows (training plans also hold gradients); made once and kept. */
  plan(capacity: number, training: boolean): Plan {
    this.check();
    // a plan serves any batch up to its capacity (kernels take the actual rows)
    const found = this.#plans.find((p) => p.capacity >= capacity && p.steps >= this.#steps && p.training === training);
    if (found) return found;
    // keep at most one plan of each kind: a larger batch replaces the old plan's memory
    const old = this.#plans.findIndex((p) => p.training === training);
    if (old >= 0) this.#releasePlan(this.#plans.splice(old, 1)[0]);
    const plan = this.#makePlan(capacity, training);
    this.#plans.push(plan);
    return plan;
  }

  /**
   * A plan's blocks are laid out twice by the same code: once to learn their sizes, then over the blocks the heap
   * handed out for all of them at once (so a plan too big for the module leaves nothing behind).
   */
  #makePlan(capacity: number, training: boolean): Plan {
    const sizes: number[] = [];
    // the sizing pass hands out distinct non-zero stand-in addresses (a zero gradient address means "none")
    this.#layoutPlan(capacity, training, (floats) => sizes.push(Math.max(1, floats) * 4) * 16);
    const what = `the ${training ? 'training' : 'inference'} plan for batches of ${capacity}`;
    const ptrs = this.env.heap.allocAll(sizes, what);
    let next = 0;
    const plan = this.#layoutPlan(capacity, training, () => ptrs[next++]);
    planMemory.set(plan, ptrs);
    return plan;
  }

  #layoutPlan(capacity: number, training: boolean, reserve: (floats: number) => number): Plan {
    const first = this.layers[0];
    const outSize = this.outputLayer.outputSize;
    const input = reserve(capacity * first.inputSize);
    const outputs: number[] = [], grads: number[] = [], buffers: Buffers[] = [];
    let x = input, dx = 0, mask = 0;
    this.layers.forEach((layer, i) => {
      const last = i === this.layers.length - 1;
      if (layer.passThrough(training)) {
        outputs.push(x);
        grads.push(training && last && !dx ? reserve(capacity * outSize) : dx);
      } else {
        // a paired layer's output is never written: the pair writes the next layer's
        outputs.push(this.paired[i] ? 0 : reserve(capacity * layer.outputSize));
        grads.push(training ? reserve(capacity * layer.outputSize) : 0);
      }
      const b = layer.reserve(reserve, capacity, training);
      // the padding mask flows up from the layer that makes it (an embedding with maskZero) to those that read it
      if (mask) b.inputMask = mask;
      mask = layer.outputMask(b, mask);
      buffers.push(b);
      x = outputs[i];
      dx = grads[i];
    });
    return {
      capacity, steps: this.#steps, training, input, outputs, grads, buffers, mask,
      labels: reserve(capacity * outputSteps(this.outputLayer.outputShape)), targets: reserve(capacity * outSize),
      weights: reserve(capacity * outputSteps(this.outputLayer.outputShape)),
      lossGrad: training ? 0 : reserve(capacity * outSize),
    };
  }

  forward(plan: Plan, rows: number, training: boolean, logitsOnly: boolean): void {
    const last = this.layers.length - 1;
    let x = plan.input;
    for (let i = 0; i <= last; i++) {
      const layer = this.layers[i];
      if (this.paired[i]) {
        // layers i and i + 1 in one kernel: x in, layer i + 1's output out
        layer.forwardPair(this.env, plan.buffers[i], plan.buffers[i + 1], x, plan.outputs[i + 1], rows);
        x = plan.outputs[++i];
        continue;
      }
      const y = plan.outputs[i];
      if (x !== y || !layer.passThrough(plan.training)) layer.forward(this.env, plan.buffers[i], x, y, rows, training, logitsOnly && i === last);
      x = y;
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    for (const plan of this.#plans) this.#releasePlan(plan);
    this.#plans = [];
    for (const ptr of this.owned) this.env.heap.release(ptr);
    this.owned = [];
    this.#disposed = true;
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }

  check(): void {
    if (this.#disposed) throw new StateError('this model was disposed; build a new one');
  }

  #releasePlan(plan: Plan): void {
    for (const ptr of planMemory.get(plan) ?? []) this.env.heap.release(ptr);
    planMemory.delete(plan);
  }

  /** Blocks of these many floats (at least one each), all or none, owned by the network until dispose(). */
  protected allocAll(floats: number[], what: string): number[] {
    const ptrs = this.env.heap.allocAll(floats.map((n) => Math.max(1, n) * 4), what);
    this.owned.push(...ptrs);
    return ptrs;
  }
}

/** The library's network: Network with the optimiser's state arrays, backward, the loss and the regularisers. */
export class TrainableNetwork extends Network {
  /** Index of the first layer with trainable parameters (layers below it need no gradients). */
  readonly firstTrainable: number;
  /** Compute the gradient of every layer's input, down to the model's input (for gradient checks). */
  inputGradients = false;
  #scratch = { ptr: 0, words: 0 };

  constructor(layers: Layer[], inputShape: number[], seed: number, initialize = true) {
    super(layers, inputShape, seed, initialize);
    const first = layers.findIndex((l) => l.params.some((p) => p.trainable));
    this.firstTrainable = first < 0 ? layers.length : first;
  }

  protected override get trains(): boolean {
    return true;
  }

  /** A block of `words` 4-byte words at least, for fit's chores (the input scan, the epoch's permutation): kept
   *  with the network, replaced by a larger one when a call needs more, freed on dispose. */
  scratch(words: number): number {
    if (this.#scratch.words >= words) return this.#scratch.ptr;
    const [ptr] = this.allocAll([words], "fit's scratch block");
    if (this.#scratch.words) this.free(this.#scratch.ptr);
    this.#scratch = { ptr, words };
    return ptr;
  }

  /**
   * Reserves the optimiser's state arrays and sets them to its initial state (again on every compile). The arrays
   * it already has are reused; when more are needed and the module cannot hold them, nothing has changed.
   */
  prepareOptimizer(optimizer: Optimizer): void {
    const kept = Math.min(this.block.states.length, optimizer.stateCount);
    // the settings block (the step kernel's hyperparameters) is the same size for every optimiser: made once
    const settings = this.block.settings ? 0 : 1;
    const added = this.allocAll([...new Array(optimizer.stateCount - kept).fill(this.block.n), ...new Array(settings).fill(optimizer.settingsWords)],
      `the optimiser's state (${optimizer.stateCount} arrays of ${groupDigits(this.block.n)} floats)`);
    if (settings) this.block.settings = added.pop()!;
    for (const s of this.block.states.slice(kept)) this.free(s);
    this.block.states = [...this.block.states.slice(0, kept), ...added];
    for (const ptr of this.block.states) this.env.k.vec_fill(ptr, this.block.n, optimizer.initialState);
  }

  /** Input of layer i in a plan. */
  inputOf(plan: Plan, i: number): number {
    return i === 0 ? plan.input : plan.outputs[i - 1];
  }

  /**
   * Backward through every layer, writing all parameter gradients; the loss gradient is in the last grads buffer.
   * A layer's input gradient is computed only when a layer below it has something to train (so the first dense
   * layer after a rescaling or activation layer skips its largest product).
   */
  backward(plan: Plan, rows: number): void {
    const trainableBelow = this.inputGradients ? -1 : this.firstTrainable;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i];
      // the second layer of a pair: the first one's backwardPair runs both
      if (layer.passThrough(true) || this.paired[i - 1]) continue;
      const dx = i === 0 || i <= trainableBelow ? 0 : plan.grads[i - 1];
      if (!dx && i < this.firstTrainable) continue;
      if (this.paired[i]) {
        layer.backwardPair(this.env, plan.buffers[i], plan.buffers[i + 1], this.inputOf(plan, i), plan.outputs[i + 1], plan.grads[i + 1], plan.grads[i], dx, rows);
      } else {
        layer.backward(this.env, plan.buffers[i], this.inputOf(plan, i), plan.outputs[i], plan.grads[i], dx, rows);
      }
    }
  }

  /** Adds every regulariser's gradient and returns the total penalty. */
  regularize(): number {
    let penalty = 0;
    for (const layer of this.layers) for (const p of layer.params) if (p.regularizer && p.trainable) penalty += p.regularizer.apply(this.env.k, p.ptr, p.grad, p.size);
    return penalty;
  }

  /**
   * The loss of the last forward pass, writing its gradient; fused with the output activation where it can. A
   * sequence output is scored per step (outputSteps); with a padding mask the padded steps weigh 0 and the loss is
   * the mean over the real steps (Keras's masked mean), its gradient scaled to match. Loss weights (plan.weights,
   * one per sample or per step: classWeight, sampleWeight) multiply each row's loss; with a mask too, the mean is
   * Σ w·m·l / Σ m, as Keras's mask folded into the sample weights.
   */
  loss(plan: Plan, loss: Loss, samples: number, fused: boolean, sampleWeights: boolean): number {
    const { k } = this.env;
    const last = this.layers.length - 1;
    const layer = this.layers[last];
    const steps = outputSteps(layer.outputShape);
    const rows = samples * steps, cols = layer.outputSize / steps;
    const target = loss.targets === 'sparse' ? plan.labels : plan.targets;
    const grad = plan.training ? plan.grads[last] : plan.lossGrad;
    const w = sampleWeights ? plan.weights : plan.mask;
    // the padded steps weigh 0 whatever their weight (the weights are loaded afresh for every batch)
    if (sampleWeights && plan.mask) k.vec_mul(plan.weights, plan.mask, plan.weights, rows);
    const y = plan.outputs[last];
    let value: number;
    if (fused && loss.fused) {
      const z = layer.logits(plan.buffers[last], this.inputOf(plan, last), y);
      value = loss.fused(k, z, target, y, grad, rows, cols, w);
    } else {
      value = loss.compute(k, y, target, grad, rows, cols, w);
    }
    if (plan.mask) {
      // the kernels divide by every row; the real ones are the mask's sum (its squares: it holds 0 and 1)
      const real = k.vec_sum_squares(plan.mask, rows);
      const scale = real > 0 ? rows / real : 0;
      k.vec_scale(grad, rows * cols, scale);
      value *= scale;
    }
    return value;
  }

  /** Penalty of the regularisers without touching gradients (for evaluate). */
  penalty(): number {
    if (!this.layers.some((l) => l.params.some((p) => p.regularizer))) return 0;
    // the kernels add into a gradient: use the gradient block (not in use outside a step) and clear it afterwards
    const total = this.regularize();
    this.env.k.vec_fill(this.block.grads, this.block.n, 0);
    return total;
  }

  protected free(ptr: number): void {
    this.owned = this.owned.filter((p) => p !== ptr);
    this.env.heap.release(ptr);
  }
}

/** Floats of activations per inference block (1 MiB, about one core's L2 cache: a few dozen rows of a small CNN,
 *  a few hundred of an MLP, where the GEMM's packing of the weights costs well under 1% of its work). */
const INFERENCE_BLOCK_FLOATS = 1 << 18;

const planMemory = new WeakMap<Plan, number[]>();
