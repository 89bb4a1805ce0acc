// The finite-difference gradient check behind gradcheck.test.ts's table: the gradients one training pass writes
// (every trainable parameter, and the input) against central differences of the training objective J, evaluated
// through the same planned forward pass.
//
// The objective. A row with a loss checks J = loss + penalty, as fit computes it (the loss kernels are under test
// too). A row without one checks the layers alone with J = Σ r·y + penalty over the model's output y, r fixed
// uniforms in [-1, 1): backward starts from dJ/dy = r, and J is summed here in doubles, so a probe's two values differ
// only in the outputs the probed coordinate moves (the others are recomputed to the same bits) and the per-coordinate
// gradients stay O(1) whatever the layer's size (a mean-squared error over 8,000 outputs would make them ~1e-5 and
// the comparison empty).
//
// The input gradient. backward() does not compute dJ/dx for the first layer (nobody needs it), so every row's model
// starts with activation('linear'), which copies its input: its output gradient plan.grads[0] is then exactly dJ/dx,
// written by the next layer's backward, so the layers under test always produce their input gradient, and central
// differences are taken on plan.input itself.
//
// The tolerance policy, one for every row:  |analytic − numeric| <= ATOL + RTOL·max(|analytic|, |numeric|),
// ATOL = 5e-4, RTOL = 5e-3. With step h (eps, 5e-3 by default) the central difference (J(x+h) − J(x−h)) / 2h of f32
// forward passes carries
// - truncation h²/6·|J'''|: <= 4e-5 for the smooth activations and losses at these O(1) inputs (|J'''| <= 10), and
//   0 for piecewise-linear rows (relu, max pooling, linear layers under Σ r·y);
// - rounding: the two passes' J differ only through the outputs the coordinate moves, each an f32 sum a few ulp
//   (u = 2^-24 ≈ 6e-8) apart between the passes: for m ≈ 300 moved O(1) outputs (a wide conv's input pixel) about
//   √m·few·u ≈ 5e-6 in J, 5e-4 after dividing by 2h = 1e-2 at worst, ~1e-4 typically; a loss kernel's f32 J ≈ 1 is
//   off by an ulp or two, ~1e-5 after dividing. ATOL absorbs that;
// - the analytic side is f32 too: relative ~1e-6, far inside RTOL, which also absorbs truncation on large gradients
//   and the rounding of sums over many pixels (a conv's kernel gradient of ~100 sums to ~1e-3).
// Measured over the table: the closest coordinate uses 31% of its allowance (a residual block's), the largest
// absolute difference is 1.8e-3 (on a kernel gradient of ~10^2). A wrong term of a gradient (a factor 2, a sign, a
// lost bias, a tap or lane or row not summed) lands far outside. A row may take another step (eps) when its
// truncation or rounding needs it, never a looser tolerance.
//
// Kinks. relu, leakyRelu, elu (two formulas joined at 0: its second derivative jumps there, and its first too unless
// alpha = 1) and the max poolings are not smooth where the probe's step changes a sign or a winner. Each probe
// compares the network's discrete state (the sign pattern of every such layer's output, every max pooling's argmax)
// after each step with the unperturbed one: when one side changes it, the derivative is
// taken one-sided, second order, from the other side (3J(x) − 4J(x−h) + J(x−2h)) / 2h (exact for piecewise-linear
// rows); when both sides change, the step shrinks 8x, twice. A coordinate that still straddles a kink is not
// compared; a row may leave out at most 1% of its coordinates this way (asserted), and with these seeds none does.
//
// Coverage. Every coordinate of every parameter and of the input is probed when the tensor has at most `probes`
// (default 512) of them. A larger tensor is probed at random coordinates (seeded) that cover, along every axis, the
// first eight and the last four indices: every SIMD lane 0-3 of both vectors of an 8-wide block, every head and tail
// of the kernels' loops, and the first and last sample; that coverage is asserted for every tensor.
//
// Dropout and randomAugment draw on the model's training random stream on every training forward pass; the check
// saves that stream (16 bytes of module memory) once and restores it before every pass, so all passes see the same
// mask and the same transforms.
//
// The parameter gradients must also be the same bits when no input gradient is asked for: the layer under test then
// runs its backward with dx = 0, the path of a model's first layer.
//
// The central differences run in a plan with 3 spare rows filled with junk (big inputs, out-of-range labels), as
// fit's last, shorter batch is: nothing may read past `rows`. A plan made for exactly the rows then gives the same
// gradients to the bit (nothing writes past `rows` into a neighbouring buffer either).
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { lcg, sameBits, uniform } from './helpers';

export const ATOL = 5e-4;
export const RTOL = 5e-3;
/** Coordinates probed per tensor before the check samples them. */
export const PROBES = 512;
/** The share of a row's coordinates that may straddle a kink (and so go unchecked). */
const MAX_STRADDLING = 0.01;

type Layer = nn.layers.Layer;
/** Activations made of two pieces joined at 0 (see Kinks above). */
const PIECEWISE = new Set(['relu', 'leakyRelu', 'elu']);

export interface Row {
  name: string;
  /** The layers under test; the check puts activation('linear') in front of them (see above). */
  layers: () => Layer[];
  /** Input shape of one sample (default [3]). */
  inputShape?: number[];
  /** Samples in the batch (default 5: not a multiple of 4, so the kernels' row tails run). */
  rows?: number;
  /** A module loss (J = loss + penalty), with its targets y; without one J = Σ r·y + penalty (see above). */
  loss?: string | nn.losses.Loss;
  /** Class indices for the sparse loss, else targets of the output's size per sample. */
  y?: Float32Array | Int32Array;
  /** The input (default: uniforms in [-1.5, 1.5), seed 11). */
  x?: Float32Array;
  /** false where the input is not differentiable (token ids): its gradient is then not checked. */
  inputGradient?: boolean;
  /** Central-difference step (default 5e-3). */
  eps?: number;
  /** Coordinates probed per tensor before sampling (default 512). */
  probes?: number;
  /** The kernel paths its convolutions are checked on, once each (default: the library's choice only). */
  paths?: ConvPath[];
  /**
   * Tensors (matched against their 'layer i Class/param' name) whose gradient is 0 by an identity, not by accident:
   * attention's key bias (q·(k + b) shifts every score of a row by the same q·b, and softmax ignores a shift). They
   * are still compared coordinate by coordinate, and must be ~0 (<= ATOL) instead of far from it.
   */
  zeroGradients?: RegExp;
  /** What the row must exercise: a conv → max pool pair run by one kernel, or the pair's sparse backward. */
  expect?: 'paired' | 'sparse';
}

// ---- convolutions on a chosen kernel path -----------------------------------------------------------------------

/**
 * The kernels a convolution runs on: 'direct' (conv2d_forward, conv2d_direct_backward_filter; a 2x2 max pooling
 * above pairs with it, and the pair takes conv2d_backward_sparse when C % 4 = 0 and F >= 16), 'im2col' (im2col +
 * gemm_nn forward, gemm_tn filter gradient; never paired), or 'direct forward, gemm filter gradient' (paired, and the
 * pair's dense backward). The library picks by speed (useDirect, useDirectForward); every path gives the right
 * gradients for every geometry, and a row checks each one it names.
 */
export type ConvPath = 'direct' | 'im2col' | 'direct forward, gemm filter gradient';
let forced: ConvPath | null = null;

// Test-only subclasses: built while a path is forced, they take it (their fields are the library's choice, protected
// in Conv2D and Conv1D); otherwise they are the library's layers, className and all.
class PathConv2D extends nn.layers.Conv2D {
  protected override setup(inputShape: number[]): number[] {
    const out = super.setup(inputShape);
    if (forced) [this.directForward, this.direct] = [forced !== 'im2col', forced === 'direct'];
    return out;
  }
}
class PathConv1D extends nn.layers.Conv1D {
  protected override setup(inputShape: number[]): number[] {
    const out = super.setup(inputShape);
    if (forced) [this.directForward, this.direct] = [forced !== 'im2col', forced === 'direct'];
    return out;
  }
}
type ConvArgs = ConstructorParameters<typeof nn.layers.Conv2D>[0];
/** Conv2D and Conv1D as the table builds them: the library's layers, on the path a row's `paths` names. */
export const conv2d = (args: ConvArgs): Layer => new PathConv2D(args);
export const conv1d = (args: ConvArgs): Layer => new PathConv1D(args);

// ---- coordinates ------------------------------------------------------------------------------------------------

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Per axis, the indices a sampled tensor must be probed at: the first eight and the last four. */
function requiredIndices(size: number): number[] {
  const out = new Set<number>();
  for (let i = 0; i < Math.min(size, 8); i++) out.add(i);
  for (let i = Math.max(0, size - 4); i < size; i++) out.add(i);
  return [...out];
}

/** Flat indices of a row-major tensor `shape` at the coordinates `coords`. */
const flat = (shape: number[], coords: number[]) => coords.reduce((a, c, k) => a * shape[k] + c, 0);

/** The flat indices to probe: all of them, or (beyond `budget`) a seeded sample covering requiredIndices. */
export function probeIndices(shape: number[], budget: number, seed: number): number[] {
  const size = sizeOf(shape);
  if (size <= budget) return Array.from({ length: size }, (_, i) => i);
  const next = lcg(seed);
  const picked = new Set<number>();
  // every axis's required indices at once: probe k takes the k-th of each axis's shuffled list (the shorter lists
  // cycle), so as many probes as the longest list cover them all; then random coordinates up to the budget
  const lists = shape.map((d) => {
    const list = requiredIndices(d);
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
    return list;
  });
  const longest = Math.max(...lists.map((l) => l.length));
  for (let k = 0; k < longest; k++) picked.add(flat(shape, lists.map((l) => l[k % l.length])));
  while (picked.size < budget) picked.add(flat(shape, shape.map((d) => Math.floor(next() * d))));
  return [...picked].sort((a, b) => a - b);
}

/** The (axis, index) pairs of requiredIndices that none of `indices` has: empty when the coverage is complete. */
export function missingCoverage(shape: number[], indices: number[]): string[] {
  const seen = shape.map(() => new Set<number>());
  for (let f of indices) {
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      seen[axis].add(f % shape[axis]);
      f = Math.floor(f / shape[axis]);
    }
  }
  const missing: string[] = [];
  shape.forEach((d, axis) => {
    for (const i of requiredIndices(d)) if (!seen[axis].has(i)) missing.push(`axis ${axis} index ${i}`);
  });
  return missing;
}

// ---- the check --------------------------------------------------------------------------------------------------

export interface Mismatch {
  what: string;
  analytic: number;
  numeric: number;
}

export interface Outcome {
  mismatches: Mismatch[];
  /** Coordinates compared, and those left out because every step straddled a kink. */
  probed: number;
  /** Coordinates whose step crossed a kink on one side (taken one-sided). */
  oneSided: number;
  straddling: string[];
  /** The largest |analytic − numeric| / (ATOL + RTOL·max(|a|, |n|)) seen: how close the row came to failing. */
  worst: number;
  /** The largest |analytic − numeric| seen. */
  largest: number;
  /** The analytic gradients: every trainable parameter's, then the input's. */
  gradients: { what: string; grads: Float32Array }[];
}


/**
 * Checks one row on one conv path in a plan with `spare` junk rows (probe false: only computes its gradients);
 * the assertions name the row.
 */
export function gradcheck(row: Row, path: ConvPath | null, spare: number, probe = true): Outcome {
  const inputShape = row.inputShape ?? [3];
  forced = path;
  const m = nn.sequential({ seed: 7, layers: [nn.layers.activation({ activation: 'linear', inputShape }), ...row.layers()] });
  try {
    m.network; // built (and paired) here, with the path forced
  } finally {
    forced = null;
  }
  try {
    return check(row, path, spare, probe, m);
  } finally {
    m.dispose();
  }
}

function check(row: Row, path: ConvPath | null, spare: number, probeAll: boolean, m: nn.Sequential): Outcome {
  const inputShape = row.inputShape ?? [3];
  const net = m.network;
  let loss: nn.losses.Loss | null = null, fused = false;
  if (row.loss !== undefined) {
    m.compile({ optimizer: 'sgd', loss: row.loss });
    ({ loss, fused } = m.compiledWith);
  }
  net.inputGradients = true; // the input gradient is checked too
  const heap = net.env.heap;
  const inSize = sizeOf(inputShape), outSize = net.outputLayer.outputSize;
  const rows = row.rows ?? 5;
  const x = row.x ?? uniform(rows * inSize, 11, -1.5, 1.5);
  assert.is(x.length, rows * inSize, `${row.name}: x holds rows · input size values`);
  const plan = net.plan(rows + spare, true);
  const last = net.layers.length - 1;
  heap.f32.fill(1e3, (plan.input >> 2) + rows * inSize, (plan.input >> 2) + (rows + spare) * inSize);
  heap.i32.fill(99, (plan.labels >> 2) + rows, (plan.labels >> 2) + rows + spare);
  heap.f32.fill(-1e3, (plan.targets >> 2) + rows * outSize, (plan.targets >> 2) + (rows + spare) * outSize);
  heap.f32.set(x, plan.input >> 2);
  if (loss && row.y) {
    if (loss.targets === 'sparse') heap.i32.set(row.y, plan.labels >> 2);
    else heap.f32.set(row.y, plan.targets >> 2);
  }
  const r = uniform(rows * outSize, 12, -1, 1);
  const rngState = heap.u8.slice(net.env.rng, net.env.rng + 16);

  const run = (): number => {
    heap.u8.set(rngState, net.env.rng); // the same dropout mask and augmentation on every pass
    net.forward(plan, rows, true, fused);
    if (loss) return net.loss(plan, loss, rows, fused, false);
    const f32 = heap.f32, y = plan.outputs[last] >> 2;
    let sum = 0;
    for (let i = 0; i < rows * outSize; i++) sum += r[i] * f32[y + i];
    return sum;
  };
  const penalized = net.layers.some((l) => l.params.some((p) => p.regularizer));
  const objective = penalized ? () => run() + net.penalty() : run;

  // the discrete state: relu/leakyRelu sign patterns and max-pooling winners (see Kinks above)
  const kinks: { ptr: number; n: number; signs: boolean }[] = [];
  net.layers.forEach((layer, i) => {
    const act = layer.activation?.name;
    if (PIECEWISE.has(act ?? '') && plan.outputs[i]) kinks.push({ ptr: plan.outputs[i], n: rows * layer.outputSize, signs: true });
    // a block with a relu inside says where its hidden outputs are
    const inner = (layer as { piecewise?: (b: unknown, rows: number) => { ptr: number; n: number }[] }).piecewise;
    for (const k of inner?.call(layer, plan.buffers[i], rows) ?? []) kinks.push({ ...k, signs: true });
    const argmax = plan.buffers[i].argmax;
    if (argmax) kinks.push({ ptr: argmax, n: rows * layer.outputSize, signs: false });
  });
  const state = (): number => {
    const f32 = heap.f32, i32 = heap.i32;
    let h = 0x811c9dc5;
    for (const k of kinks) {
      const at = k.ptr >> 2;
      if (k.signs) for (let i = 0; i < k.n; i++) h = Math.imul(h ^ +(f32[at + i] > 0), 0x01000193);
      else for (let i = 0; i < k.n; i++) h = Math.imul(h ^ i32[at + i], 0x01000193);
    }
    return h >>> 0;
  };

  /** One training pass: forward, the objective's gradient, backward, the regularisers' gradients. */
  const pass = () => {
    heap.u8.set(rngState, net.env.rng);
    net.forward(plan, rows, true, fused);
    if (loss) net.loss(plan, loss, rows, fused, false);
    else heap.f32.set(r, plan.grads[last] >> 2);
    net.backward(plan, rows);
    net.regularize();
  };
  pass();
  // the gradients, read before anything else runs (penalty() uses the gradient block)
  let n = 0;
  const tensors: { what: string; shape: number[]; ptr: number; grad: number; grads: Float32Array }[] = [];
  for (const [i, layer] of net.layers.entries()) {
    for (const p of layer.params) {
      if (!p.trainable) continue;
      tensors.push({ what: `layer ${i} ${layer.className}/${p.name}`, shape: p.shape, ptr: p.ptr, grad: p.grad, grads: heap.f32.slice(p.grad >> 2, (p.grad >> 2) + p.size) });
      n += p.size;
    }
  }
  assert.is(n, net.block.n, `${row.name}: the trainable parameters fill the block`);
  const input = { what: 'input', shape: [rows, ...inputShape], ptr: plan.input, grad: plan.grads[0], grads: heap.f32.slice(plan.grads[0] >> 2, (plan.grads[0] >> 2) + rows * inSize) };
  // the same parameter gradients, to the bit, without the input gradient: the layer under test then takes the path
  // of a model's first layer (dx = 0)
  net.inputGradients = false;
  pass();
  net.inputGradients = true;
  for (const t of tensors) {
    sameBits(heap.f32.slice(t.grad >> 2, (t.grad >> 2) + t.grads.length), t.grads, `${row.name}: ${t.what}'s gradient without the input gradient`);
  }
  if (row.inputGradient !== false) tensors.push(input);
  const out: Outcome = {
    mismatches: [], probed: 0, oneSided: 0, straddling: [], worst: 0, largest: 0,
    gradients: tensors.map((t) => ({ what: t.what, grads: t.grads })),
  };
  if (!probeAll) return out;
  const j0 = objective();
  const s0 = state();

  const eps = row.eps ?? 5e-3;
  /** J and whether the discrete state stayed, with the f32 at `i` set to v (the value actually stored is returned). */
  const at = (i: number, v: number) => {
    const f32 = heap.f32;
    f32[i] = v;
    const stored = f32[i];
    const j = objective();
    return { t: stored, j, same: state() === s0 };
  };
  const probe = (address: number, analytic: number, what: string) => {
    const i = address >> 2;
    const saved = heap.f32[i];
    let numeric: number | null = null;
    for (let h = eps, tries = 0; tries < 3 && numeric === null; h /= 8, tries++) {
      const up = at(i, saved + h), down = at(i, saved - h);
      if (up.same && down.same) numeric = (up.j - down.j) / (up.t - down.t); // the f32 steps actually taken
      else if (up.same || down.same) {
        // one-sided, second order, through x, x ± h, x ± 2h on the side that keeps the state (unequal f32 steps)
        const one = up.same ? up : down, two = at(i, saved + (up.same ? 2 * h : -2 * h));
        if (two.same) {
          out.oneSided++;
          const a = one.t - saved, b = two.t - saved;
          numeric = (-(a + b) / (a * b)) * j0 + (b / (a * (b - a))) * one.j + (-a / (b * (b - a))) * two.j;
        }
      }
    }
    heap.f32[i] = saved;
    if (numeric === null) {
      out.straddling.push(what);
      return;
    }
    out.probed++;
    const err = Math.abs(analytic - numeric), allowed = ATOL + RTOL * Math.max(Math.abs(analytic), Math.abs(numeric));
    out.worst = Math.max(out.worst, err / allowed);
    out.largest = Math.max(out.largest, err);
    if (!(err <= allowed)) out.mismatches.push({ what, analytic, numeric });
  };

  let all = 0;
  tensors.forEach((t, k) => {
    const indices = probeIndices(t.shape, row.probes ?? PROBES, 101 + k);
    const missing = missingCoverage(t.shape, indices);
    assert.ok(missing.length === 0, `${row.name}: ${t.what} [${t.shape}] probes miss ${missing.join(', ')}`);
    // the check must not pass by looking at nothing: every tensor has gradients far from zero
    const largest = t.grads.reduce((a, g) => Math.max(a, Math.abs(g)), 0);
    if (row.zeroGradients?.test(t.what)) assert.ok(largest <= ATOL, `${row.name}: ${t.what}'s gradient is 0 by an identity, got ${largest}`);
    else assert.ok(largest > 20 * ATOL, `${row.name}: ${t.what}'s gradients are all ~0 (largest ${largest}); the row checks nothing`);
    for (const j of indices) probe(t.ptr + 4 * j, t.grads[j], `${t.what}[${j}]`);
    all += indices.length;
  });
  assert.ok(out.straddling.length <= MAX_STRADDLING * all,
    `${row.name}: ${out.straddling.length} of ${all} coordinates straddle a kink at every step (${out.straddling.slice(0, 5).join(', ')}): the row needs other data`);

  if (row.expect) {
    // what the row is about must happen: a pair (its first layer's output is never planned), its sparse backward
    const pairs = net.layers.map((_, i) => i).filter((i) => plan.outputs[i] === 0 && !net.layers[i].passThrough(true));
    const wanted = path !== 'im2col';
    assert.is(pairs.length > 0, wanted, `${row.name} on the ${path ?? 'default'} path: ${wanted ? 'no' : 'a'} conv → max pool pair`);
    if (row.expect === 'sparse' && wanted) {
      const sparse = pairs.some((i) => plan.buffers[i].sparse);
      assert.is(sparse, path !== 'direct forward, gemm filter gradient', `${row.name} on the ${path ?? 'default'} path: the sparse backward`);
    }
  }
  return out;
}

/**
 * Runs a row on one path: central differences in the plan with spare rows, then one pass in a plan made for exactly
 * its rows, whose gradients must be the same bits; fails naming the coordinates that disagree.
 */
export function checkRow(row: Row, path: ConvPath | null): Outcome {
  const outcome = gradcheck(row, path, 3);
  const bad = outcome.mismatches;
  if (bad.length) {
    const shown = bad.slice(0, 6).map((b) => `${b.what}: analytic ${b.analytic.toPrecision(6)}, numeric ${b.numeric.toPrecision(6)}`);
    assert.unreachable(`${bad.length} gradient(s) disagree:\n  ${shown.join('\n  ')}`);
  }
  const exact = gradcheck(row, path, 0, false);
  exact.gradients.forEach((g, k) => sameBits(g.grads, outcome.gradients[k].grads, `${row.name}: ${g.what}'s gradient in a plan of exactly its rows`));
  return outcome;
}
