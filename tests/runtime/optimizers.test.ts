// Each optimiser's update through a real model against its formula computed here (TF.js' formulas, PyTorch's for
// AdamW; agreement.test.ts runs TF.js itself), and each learning-rate schedule against Keras' formula written with Math.
//
// The hand-made case: one dense unit, linear, MSE, three samples in one batch (shuffle off), so one epoch is one
// step and the gradient at parameters θ = (w1, w2, b) is known in closed form: with r_i = x_i·w + b − y_i,
// dL/dw_j = (2/n)·Σ r_i·x_ij and dL/db = (2/n)·Σ r_i. The reference runs the optimiser's formula in f64 on θ,
// recomputing that gradient after each step; the model runs in f32, hence the 1e-5 relative tolerance.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { close, flatWeights, throwsError } from './helpers';

const { train, schedules } = nn;

const X = [[1, 2], [3, -1], [-2, 0.5]];
const Y = [0.5, 1, -1];
const THETA0 = [0.3, -0.2, 0.1]; // w1, w2, b: the order of getWeights (kernel [2, 1], then bias [1])

function gradient(theta: number[]): number[] {
  const g = [0, 0, 0];
  X.forEach((x, i) => {
    const r = x[0] * theta[0] + x[1] * theta[1] + theta[2] - Y[i];
    g[0] += (2 / X.length) * r * x[0];
    g[1] += (2 / X.length) * r * x[1];
    g[2] += (2 / X.length) * r;
  });
  return g;
}

/** An optimiser's formula: the new θ from θ, g and the 1-based step t; `s` keeps its state between steps. */
type Rule = (theta: number[], g: number[], t: number, s: Record<string, number[]>) => number[];

function reference(rule: Rule, steps: number): number[] {
  let theta = THETA0.slice();
  const state: Record<string, number[]> = {};
  for (let t = 1; t <= steps; t++) theta = rule(theta, gradient(theta), t, state);
  return theta;
}

async function trained(optimizer: nn.Optimizer, steps: number): Promise<Float32Array> {
  const m = nn.sequential({ seed: 1, layers: [nn.layers.dense({ inputShape: [2], units: 1 })] });
  m.compile({ optimizer, loss: 'meanSquaredError' });
  m.setWeights([nn.tensor([THETA0[0], THETA0[1]], [2, 1]), nn.tensor([THETA0[2]], [1])]);
  await m.fit(nn.tensor2d(X.map((r) => r.slice())), Y.slice(), { epochs: steps, batchSize: X.length, shuffle: false });
  const w = flatWeights(m);
  m.dispose();
  return w;
}

function sameAs(got: Float32Array, want: number[], what: string): void {
  // the update must have moved the weights, or the comparison would say little
  if (want.every((v, i) => Math.abs(v - THETA0[i]) < 1e-4)) throw new Error(`${what}: the reference did not move`);
  want.forEach((v, i) => close(got[i], v, `${what} θ[${i}]`, 1e-5, 1e-7));
}

const zip = (a: number[], b: number[], f: (x: number, y: number, i: number) => number) => a.map((x, i) => f(x, b[i], i));
const init = (s: Record<string, number[]>, key: string, value = 0) => (s[key] ??= [value, value, value]);

// ---------------------------------------------------------------------------------------------------------------------
const optimizers = suite('optimizers');
optimizers.before(async () => {
  await nn.ready();
});

const lr = 0.05;
const cases: [string, () => nn.Optimizer, Rule][] = [
  ['sgd', () => train.sgd(lr), (p, g) => zip(p, g, (pi, gi) => pi - lr * gi)],
  // TF.js (and PyTorch): the accumulator sums gradients, the rate multiplies it at each step
  ['momentum 0.9', () => train.momentum(lr, 0.9), (p, g, _t, s) => {
    const acc = init(s, 'acc');
    return p.map((pi, i) => {
      acc[i] = 0.9 * acc[i] + g[i];
      return pi - lr * acc[i];
    });
  }],
  ['momentum 0.8, nesterov', () => train.momentum(lr, 0.8, true), (p, g, _t, s) => {
    const acc = init(s, 'acc');
    return p.map((pi, i) => {
      acc[i] = 0.8 * acc[i] + g[i];
      return pi - lr * (g[i] + 0.8 * acc[i]);
    });
  }],
  // with a schedule, TF.js' accumulator and Keras' velocity (v = μ·v − lr·g) part: this is TF.js'
  ['momentum 0.9 with a step decay of the rate', () => train.momentum(schedules.stepDecay({ initialLearningRate: lr, every: 1, factor: 0.5 }), 0.9), (p, g, t, s) => {
    const acc = init(s, 'acc');
    return p.map((pi, i) => {
      acc[i] = 0.9 * acc[i] + g[i];
      return pi - lr * 0.5 ** (t - 1) * acc[i];
    });
  }],
  ...[[0, false], [0.7, false], [0, true], [0.7, true]].map(([mu, centered]): [string, () => nn.Optimizer, Rule] => [
    `rmsprop (ε inside the root), momentum ${mu}${centered ? ', centered' : ''}`,
    () => train.rmsprop(lr, 0.9, mu as number, 1e-2, centered as boolean), rmspropRule(mu as number, centered as boolean, 1e-2)]),
  ['adagrad (accumulator starts at 0.1)', () => train.adagrad(lr, 0.1), (p, g, _t, s) => {
    const acc = init(s, 'acc', 0.1);
    return p.map((pi, i) => {
      acc[i] += g[i] * g[i];
      return pi - (lr * g[i]) / Math.sqrt(acc[i] + 1e-7);
    });
  }],
  // TF.js and PyTorch: p −= lr·m̂/(√v̂ + ε), ε added to the bias-corrected root (Keras adds it to √v)
  ...[1e-7, 1e-2].map((eps): [string, () => nn.Optimizer, Rule] => [`adam, bias correction, ε ${eps}`, () => train.adam(lr, 0.9, 0.999, eps), adamRule(eps, 0)]),
  // decoupled weight decay: p −= lr·wd·p first, then the Adam step
  ['adamw weight decay 0.1', () => train.adamw(lr, 0.1), adamRule(1e-7, 0.1)],
];

function adamRule(eps: number, wd: number, rate = lr): Rule {
  return (p, g, t, s) => {
    const m = init(s, 'm'), v = init(s, 'v');
    return p.map((pi, i) => {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      const mHat = m[i] / (1 - 0.9 ** t), vHat = v[i] / (1 - 0.999 ** t);
      const decayed = pi - rate * wd * pi;
      return decayed - (rate * mHat) / (Math.sqrt(vHat) + eps);
    });
  };
}

/** TF.js' RMSProp; centered as TF's kernel (√(ms − mg² + ε)). */
function rmspropRule(mu: number, centered: boolean, eps: number): Rule {
  return (p, g, _t, s) => {
    const ms = init(s, 'ms'), mom = init(s, 'mom'), mg = init(s, 'mg');
    return p.map((pi, i) => {
      ms[i] = 0.9 * ms[i] + 0.1 * g[i] * g[i];
      mg[i] = 0.9 * mg[i] + 0.1 * g[i];
      const step = (lr * g[i]) / Math.sqrt((centered ? ms[i] - mg[i] * mg[i] : ms[i]) + eps);
      mom[i] = mu * mom[i] + step;
      return pi - (mu > 0 ? mom[i] : step);
    });
  };
}

for (const [name, make, rule] of cases) {
  optimizers(`${name}: 1, 2 and 3 steps against the formula`, async () => {
    for (const steps of [1, 2, 3]) sameAs(await trained(make(), steps), reference(rule, steps), `${name}, ${steps} step(s)`);
  });
}

optimizers('the same optimisers by name use their default settings', async () => {
  sameAs(await trained(nn.train.adam(), 2), reference(adamRule(1e-7, 0, 0.001), 2), "'adam' defaults");
  const byName = nn.sequential({ seed: 1, layers: [nn.layers.dense({ inputShape: [2], units: 1 })] });
  byName.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
  byName.setWeights([nn.tensor([THETA0[0], THETA0[1]], [2, 1]), nn.tensor([THETA0[2]], [1])]);
  await byName.fit(nn.tensor2d(X.map((r) => r.slice())), Y.slice(), { epochs: 2, batchSize: 3, shuffle: false });
  sameAs(flatWeights(byName), reference(adamRule(1e-7, 0, 0.001), 2), "compile({ optimizer: 'adam' })");
  byName.dispose();
});

optimizers("RMSprop takes TF.js' arguments (lr, decay, momentum, epsilon, centered) and checks them", () => {
  const r = train.rmsprop(0.02, 0.8, 0.5, 1e-6, true);
  assert.equal([r.rho, r.momentum, r.epsilon, r.centered, r.stateCount], [0.8, 0.5, 1e-6, true, 3]);
  assert.is(train.rmsprop(0.02).stateCount, 1, 'no momentum, not centered: one state array');
  throwsError(() => train.rmsprop(0.01, 0.9, 1.5), nn.ValueError, /momentum must be in \[0, 1\), got 1.5/);
  throwsError(() => train.rmsprop(0.01, 0.9, 0, 0), nn.ValueError, /epsilon must be a finite number > 0, got 0/);
  throwsError(() => train.rmsprop(0.01, 0.9, 0, 1e-7, 'yes' as unknown as boolean), nn.ValueError, /centered must be true or false, got yes/);
});

optimizers("Adam's step counter continues across fit calls", async () => {
  const m = nn.sequential({ seed: 1, layers: [nn.layers.dense({ inputShape: [2], units: 1 })] });
  m.compile({ optimizer: train.adam(lr), loss: 'meanSquaredError' });
  m.setWeights([nn.tensor([THETA0[0], THETA0[1]], [2, 1]), nn.tensor([THETA0[2]], [1])]);
  for (let i = 0; i < 3; i++) await m.fit(nn.tensor2d(X.map((r) => r.slice())), Y.slice(), { epochs: 1, batchSize: 3, shuffle: false });
  sameAs(flatWeights(m), reference(adamRule(1e-7, 0), 3), 'three fits of one step');
  m.dispose();
});

optimizers('clipnorm rescales the gradient to that global norm; clipvalue clips each element', async () => {
  const g0 = gradient(THETA0);
  const norm = Math.hypot(...g0);
  const c = norm / 4; // the norm is above it: clipping applies
  sameAs(await trained(train.sgd(lr, { clipnorm: c }), 1), zip(THETA0, g0, (p, g) => p - (lr * g * c) / norm), 'clipnorm');
  sameAs(await trained(train.sgd(lr, { clipnorm: norm * 2 }), 1), zip(THETA0, g0, (p, g) => p - lr * g), 'clipnorm above the norm: no change');
  const cv = Math.abs(g0[1]) / 2; // clips at least one element, check that it is not all of them
  const clipped = g0.map((g) => Math.max(-cv, Math.min(cv, g)));
  if (clipped.every((g, i) => g !== g0[i])) throw new Error('choose a clipvalue that leaves some element alone');
  sameAs(await trained(train.sgd(lr, { clipvalue: cv }), 1), zip(THETA0, clipped, (p, g) => p - lr * g), 'clipvalue');
});

optimizers('a schedule sets the learning rate of each step (0-based step count)', async () => {
  const s = schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5 });
  const rule: Rule = (p, g, t) => zip(p, g, (pi, gi) => pi - 0.1 * 0.5 ** ((t - 1) / 2) * gi);
  sameAs(await trained(train.sgd(s), 3), reference(rule, 3), 'sgd with exponentialDecay');
  const w = schedules.warmup(0.1, 4);
  const warm: Rule = (p, g, t) => zip(p, g, (pi, gi) => pi - ((0.1 * t) / 4) * gi);
  sameAs(await trained(train.sgd(w), 3), reference(warm, 3), 'sgd with warmup');
});

// ---------------------------------------------------------------------------------------------------------------------
const rates = suite('schedules');
rates.before(async () => {
  await nn.ready();
});

/** Compares schedule.at(step) with the formula for steps 0..last, relative tolerance 1e-6 (and 1e-12·lr0 near 0). */
function sequence(schedule: nn.schedules.Schedule, formula: (step: number) => number, last: number, lr0: number): void {
  for (let step = 0; step <= last; step++) close(schedule.at(step), formula(step), `${schedule.name} at step ${step}`, 1e-6, 1e-12 * lr0);
}

rates('exponentialDecay: lr·rate^(step/decaySteps), and with staircase rate^floor(step/decaySteps)', () => {
  sequence(schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 7, decayRate: 0.8 }), (t) => 0.1 * 0.8 ** (t / 7), 60, 0.1);
  sequence(schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 7, decayRate: 0.8, staircase: true }), (t) => 0.1 * 0.8 ** Math.floor(t / 7), 60, 0.1);
});

rates('stepDecay: lr·factor^floor(step/every)', () => {
  sequence(schedules.stepDecay({ initialLearningRate: 0.3, every: 5, factor: 0.25 }), (t) => 0.3 * 0.25 ** Math.floor(t / 5), 40, 0.3);
  sequence(schedules.stepDecay({ initialLearningRate: 0.3, every: 5 }), (t) => 0.3 * 0.5 ** Math.floor(t / 5), 40, 0.3);
});

rates('cosineDecay: lr·((1 − α)·½(1 + cos(π·min(step, T)/T)) + α), held after T', () => {
  const keras = (lr: number, T: number, alpha: number) => (t: number) => lr * ((1 - alpha) * 0.5 * (1 + Math.cos((Math.PI * Math.min(t, T)) / T)) + alpha);
  sequence(schedules.cosineDecay({ initialLearningRate: 0.2, decaySteps: 30, alpha: 0.1 }), keras(0.2, 30, 0.1), 45, 0.2);
  sequence(schedules.cosineDecay({ initialLearningRate: 0.2, decaySteps: 30 }), keras(0.2, 30, 0), 45, 0.2);
});

/** Keras' CosineDecayRestarts, written out. */
function restarts(lr: number, first: number, tMul: number, mMul: number, alpha: number) {
  return (step: number) => {
    let fraction = step / first;
    let i: number;
    if (tMul === 1) {
      i = Math.floor(fraction);
      fraction -= i;
    } else {
      i = Math.floor(Math.log(1 - fraction * (1 - tMul)) / Math.log(tMul));
      const done = (1 - tMul ** i) / (1 - tMul);
      fraction = (fraction - done) / tMul ** i;
    }
    return lr * ((1 - alpha) * mMul ** i * 0.5 * (1 + Math.cos(Math.PI * fraction)) + alpha);
  };
}

rates('cosineDecayRestarts: periods grow by tMul, peaks shrink by mMul', () => {
  sequence(schedules.cosineDecayRestarts({ initialLearningRate: 0.5, firstDecaySteps: 10, tMul: 2, mMul: 0.5, alpha: 0.1 }), restarts(0.5, 10, 2, 0.5, 0.1), 160, 0.5);
  sequence(schedules.cosineDecayRestarts({ initialLearningRate: 0.5, firstDecaySteps: 10, tMul: 1, mMul: 0.8 }), restarts(0.5, 10, 1, 0.8, 0), 60, 0.5);
  sequence(schedules.cosineDecayRestarts({ initialLearningRate: 0.5, firstDecaySteps: 10 }), restarts(0.5, 10, 2, 1, 0), 160, 0.5);
  // the restarts are where they should be: a full peak right after each period ends (10, 30, 70)
  const s = schedules.cosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 10, tMul: 2, mMul: 0.5 });
  for (const [step, peak] of [[0, 1], [10, 0.5], [30, 0.25], [70, 0.125]]) close(s.at(step), peak, `peak at ${step}`, 1e-6);
});

rates('warmup: linear from lr/W up to the inner schedule\'s start over W steps, then the inner schedule (composes)', () => {
  sequence(schedules.warmup(0.4, 8), (t) => (t < 8 ? (0.4 * (t + 1)) / 8 : 0.4), 20, 0.4);
  const inner = schedules.cosineDecay({ initialLearningRate: 0.2, decaySteps: 30, alpha: 0.1 });
  const cos = (t: number) => 0.2 * (0.9 * 0.5 * (1 + Math.cos((Math.PI * Math.min(t, 30)) / 30)) + 0.1);
  sequence(schedules.warmup(inner, 5), (t) => (t < 5 ? (cos(0) * (t + 1)) / 5 : cos(t - 5)), 50, 0.2);
  const stepped = schedules.warmup(schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5, staircase: true }), 3);
  sequence(stepped, (t) => (t < 3 ? (0.1 * (t + 1)) / 3 : 0.1 * 0.5 ** Math.floor((t - 3) / 4)), 30, 0.1);
});

optimizers.run();
rates.run();
