// Rebuilding what a checkpoint's topology names: the layers (through the registry, matched against the weight
// manifest) and the compile settings (optimiser, learning-rate schedule, loss), each field checked by type.
import { sameShape, type Layer } from '../layers/layer';
import { layerFromConfig } from '../layers/registry';
import { SGD, Momentum, RMSProp, Adagrad, Adam, AdamW, type Optimizer } from '../optim/optimizers';
import { exponentialDecay, stepDecay, cosineDecay, cosineDecayRestarts, warmup, type Schedule } from '../optim/schedules';
import { resolveLoss, huber, LOSS_NAMES, type Loss } from '../optim/losses';
import { checkMetrics } from '../train/tracker';
import { boolean, decodeStates, finite, named, object, type CheckpointFile, type NamedConfig, type Topology } from './format';
import { NotFoundError, ShapeError, ValueError, WasmnnError } from '../backend/errors';

/** The layers, built on the saved input shape (shapes only, no memory) and matched against the weight manifest. */
export function reviveLayers(t: Topology): Layer[] {
  const layers = t.layers.map(({ className, config }, i) => {
    const where = `checkpoint layer ${i}`;
    // required: a missing name would be made from a counter (dense_7), which differs between processes and builds
    if (typeof config.name !== 'string') throw new ValueError(`${where}: name must be a string`);
    if (config.trainable !== undefined && typeof config.trainable !== 'boolean') throw new ValueError(`${where}: trainable must be true or false`);
    return layerFromConfig(className, config, where);
  });
  const first = layers[0].getConfig().inputShape as (number | null)[] | undefined;
  // open steps (null) match the steps the model was saved at
  if (!first || !sameShape(first.map((d, i) => d ?? t.inputShape[i]), t.inputShape)) {
    throw new ShapeError(`checkpoint: the model's input shape [${t.inputShape}] is not the first layer's inputShape [${first ?? ''}]`);
  }
  let shapeIn = t.inputShape;
  const params: { layer: string; name: string; shape: number[]; trainable: boolean }[] = [];
  layers.forEach((layer, i) => {
    try {
      layer.build(shapeIn);
    } catch (e) {
      if (e instanceof WasmnnError) throw e;
      throw new ValueError(`checkpoint layer ${i} (${layer.className}) cannot be built on [${shapeIn}]: ${(e as Error)?.message}`);
    }
    shapeIn = layer.outputShape;
    for (const p of layer.params) params.push({ layer: layer.name, name: p.name, shape: p.shape, trainable: p.trainable });
  });
  if (params.length !== t.weights.length) {
    throw new ShapeError(`checkpoint: the topology has ${params.length} weight tensors, the file ${t.weights.length}`);
  }
  params.forEach((p, i) => {
    const w = t.weights[i];
    if (w.layer !== p.layer || w.name !== p.name || !sameShape(w.shape, p.shape) || w.trainable !== p.trainable) {
      throw new ShapeError(`checkpoint weight ${i}: the file has ${w.layer}/${w.name} [${w.shape}]${w.trainable ? '' : ' (fixed)'}, ` +
        `the topology needs ${p.layer}/${p.name} [${p.shape}]${p.trainable ? '' : ' (fixed)'}`);
    }
  });
  return layers;
}

/**
 * The compile settings and training state of a checkpoint, checked as the library's loader revives them but without
 * building an optimiser or a loss: the library runs this before it revives them, and wasmnn/infer (which ignores them)
 * runs it too, so both builds accept and reject the same files. The ranges are the constructors' (optim/); the test
 * that mutates training checkpoints by the thousand (tests/runtime/infer.test.ts) fails when the two drift apart.
 */
export function checkTrainingSettings(file: CheckpointFile, layers: Layer[]): void {
  const t = file.topology;
  if (!t.compile) return;
  const { name, config } = t.compile.optimizer;
  const rules = Object.hasOwn(OPTIMIZER_RULES, name) ? OPTIMIZER_RULES[name] : undefined;
  if (!rules) throw new NotFoundError(`checkpoint: unknown optimizer '${name}'; known: ${Object.keys(OPTIMIZER_RULES).join(', ')}`);
  const where = `optimizer '${name}'`;
  const c = typed(config, OPTIMIZER_FIELDS, where);
  checkSchedule(config.learningRate, `${where}: learningRate`, 0);
  for (const [key, rule] of Object.entries({ clipnorm: 'positive', clipvalue: 'positive', ...rules[0] } as Record<string, Rule>)) inRange(c[key], rule, key);
  const loss = t.compile.loss;
  if (!LOSS_NAMES.includes(loss.name)) throw new NotFoundError(`checkpoint: unknown loss '${loss.name}'; known: ${LOSS_NAMES.join(', ')}`);
  if (loss.name === 'huber') inRange(typed(loss.config, { delta: 'number' }, 'loss huber').delta, 'positive', 'huber delta');
  if (file.trainingState && rules[1](c) !== t.stateArrays) {
    throw new ShapeError(`checkpoint: optimizer '${name}' keeps ${rules[1](c)} state arrays, the file holds ${t.stateArrays}`);
  }
  if (file.trainingState) decodeStates(file);
  checkMetrics(t.compile.metrics);
  const out = layers[layers.length - 1];
  if (loss.name === 'perceptron' && !(out.activation?.name === 'step' && out.outputShape.length === 1)) {
    throw new ValueError("the perceptron loss needs a last layer with activation 'step'");
  }
}

type Rule = 'positive' | 'unit' | 'nonNegative';
/** Per optimiser: the ranges of its fields (a missing field takes the constructor's default, which is in range), and
 *  how many state arrays it keeps. */
const OPTIMIZER_RULES: Record<string, [Record<string, Rule>, (c: Fields) => number]> = {
  sgd: [{}, () => 0],
  momentum: [{ momentum: 'unit' }, () => 1],
  rmsprop: [{ rho: 'unit', momentum: 'unit', epsilon: 'positive' }, (c) => 1 + (c.momentum > 0 ? 1 : 0) + (c.centered ? 1 : 0)],
  adagrad: [{ initialAccumulatorValue: 'nonNegative', epsilon: 'positive' }, () => 1],
  adam: [{ beta1: 'unit', beta2: 'unit', epsilon: 'positive', weightDecay: 'nonNegative' }, () => 2],
  adamw: [{ beta1: 'unit', beta2: 'unit', epsilon: 'positive', weightDecay: 'nonNegative' }, () => 2],
};

function inRange(v: number | undefined, rule: Rule, what: string): void {
  if (v === undefined) return;
  if (rule === 'positive' && !(v > 0)) throw new ValueError(`${what} must be a finite number > 0, got ${v}`);
  if (rule === 'unit' && !(v >= 0 && v < 1)) throw new ValueError(`${what} must be in [0, 1), got ${v}`);
  if (rule === 'nonNegative' && !(v >= 0)) throw new ValueError(`${what} must be a finite number >= 0, got ${v}`);
}

/** reviveSchedule's checks without the schedule: the fields each factory requires to be finite and > 0. */
const SCHEDULE_POSITIVE: Record<string, string[]> = {
  exponentialDecay: ['initialLearningRate', 'decaySteps', 'decayRate'],
  stepDecay: ['initialLearningRate', 'every', 'factor?'],
  cosineDecay: ['initialLearningRate', 'decaySteps'],
  cosineDecayRestarts: ['initialLearningRate', 'firstDecaySteps', 'tMul?'],
};

function checkSchedule(value: unknown, where: string, depth: number): void {
  const { name, config } = named(value, where);
  if (name === 'constant') return inRange(finite(config.learningRate, `${where}: learningRate`), 'positive', 'learning rate');
  if (name === 'warmup') {
    if (depth >= 4) throw new ValueError(`${where}: warm-ups nested more than 4 deep`);
    const steps = finite(config.warmupSteps, `${where}: warmupSteps`);
    checkSchedule(config.inner, `${where}: inner`, depth + 1);
    return inRange(steps, 'positive', 'warmupSteps');
  }
  const fields = Object.hasOwn(SCHEDULE_FIELDS, name) ? SCHEDULE_FIELDS[name] : undefined;
  if (!fields) throw new NotFoundError(`${where}: unknown learning-rate schedule '${name}'; known: constant, warmup, ${Object.keys(SCHEDULE_FIELDS).join(', ')}`);
  const c = typed(config, fields, `${where} (${name})`);
  for (const field of SCHEDULE_POSITIVE[name]) {
    const key = field.replace('?', '');
    if (c[key] === undefined && field.endsWith('?')) continue;
    if (!(c[key] > 0)) throw new ValueError(`${key} must be a finite number > 0, got ${c[key]}`);
  }
}

/** The loader must rebuild the same optimiser and loss; a custom one cannot be saved (say so now, not at load). */
export function checkRevivable(compile: NonNullable<Topology['compile']>): void {
  try {
    const optimizer = reviveOptimizer(compile.optimizer);
    const loss = reviveLoss(compile.loss);
    const same = optimizer.name === compile.optimizer.name && JSON.stringify(optimizer.getConfig()) === JSON.stringify(compile.optimizer.config) &&
      loss.name === compile.loss.name && JSON.stringify(loss.config) === JSON.stringify(compile.loss.config);
    if (!same) throw new ValueError('the rebuilt settings differ from the model\'s');
  } catch (e) {
    throw new ValueError(`cannot save the compile settings (optimizer '${compile.optimizer.name}', loss '${compile.loss.name}'): ` +
      `${(e as Error).message}; save with { includeOptimizer: false } to keep the topology and weights only`);
  }
}

// ------------------------------------------------------------------------------------ optimiser, schedule, loss

type Kind = 'number' | 'boolean' | 'object';

/** The keys of `config` named in `spec`, each checked to be of its kind when present (others are left out). */
function typed(config: Record<string, unknown>, spec: Record<string, Kind>, where: string): Fields {
  const out: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(spec)) {
    const v = config[key];
    if (v === undefined) continue;
    if (kind === 'number') finite(v, `${where}: ${key}`);
    else if (kind === 'boolean') boolean(v, `${where}: ${key}`);
    else object(v, `${where}: ${key}`);
    out[key] = v;
  }
  return out;
}

const OPTIMIZER_FIELDS: Record<string, Kind> = {
  clipnorm: 'number', clipvalue: 'number', momentum: 'number', nesterov: 'boolean', rho: 'number', epsilon: 'number',
  initialAccumulatorValue: 'number', beta1: 'number', beta2: 'number', weightDecay: 'number', centered: 'boolean',
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;
type Clip = { clipnorm?: number; clipvalue?: number };
const OPTIMIZERS: Record<string, (lr: number | Schedule, c: Fields, clip: Clip) => Optimizer> = {
  sgd: (lr, _c, clip) => new SGD(lr, clip),
  momentum: (lr, c, clip) => new Momentum(lr, c.momentum, c.nesterov, clip),
  rmsprop: (lr, c, clip) => new RMSProp(lr, c.rho, c.momentum, c.epsilon, c.centered, clip),
  adagrad: (lr, c, clip) => new Adagrad(lr, c.initialAccumulatorValue, c.epsilon, clip),
  adam: (lr, c, clip) => new Adam(lr, c.beta1, c.beta2, c.epsilon, c.weightDecay, clip),
  adamw: (lr, c, clip) => new AdamW(lr, c.beta1, c.beta2, c.epsilon, c.weightDecay, clip),
};

export function reviveOptimizer({ name, config }: NamedConfig): Optimizer {
  if (!Object.hasOwn(OPTIMIZERS, name)) throw new NotFoundError(`checkpoint: unknown optimizer '${name}'; known: ${Object.keys(OPTIMIZER_RULES).join(', ')}`);
  const where = `optimizer '${name}'`;
  const c = typed(config, OPTIMIZER_FIELDS, where);
  const clip: Clip = {};
  if (c.clipnorm !== undefined) clip.clipnorm = c.clipnorm;
  if (c.clipvalue !== undefined) clip.clipvalue = c.clipvalue;
  return OPTIMIZERS[name](reviveSchedule(config.learningRate, `${where}: learningRate`, 0), c, clip);
}

/** Each schedule's saved fields and their kinds (checkSchedule and reviveSchedule both read this). */
const SCHEDULE_FIELDS: Record<string, Record<string, Kind>> = {
  exponentialDecay: { initialLearningRate: 'number', decaySteps: 'number', decayRate: 'number', staircase: 'boolean' },
  stepDecay: { initialLearningRate: 'number', every: 'number', factor: 'number' },
  cosineDecay: { initialLearningRate: 'number', decaySteps: 'number', alpha: 'number' },
  cosineDecayRestarts: { initialLearningRate: 'number', firstDecaySteps: 'number', tMul: 'number', mMul: 'number', alpha: 'number' },
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const SCHEDULES: Record<string, (c: any) => Schedule> = { exponentialDecay, stepDecay, cosineDecay, cosineDecayRestarts };

function reviveSchedule(value: unknown, where: string, depth: number): number | Schedule {
  const { name, config } = named(value, where);
  if (name === 'constant') return finite(config.learningRate, `${where}: learningRate`);
  if (name === 'warmup') {
    if (depth >= 4) throw new ValueError(`${where}: warm-ups nested more than 4 deep`);
    const steps = finite(config.warmupSteps, `${where}: warmupSteps`);
    return warmup(reviveSchedule(config.inner, `${where}: inner`, depth + 1), steps);
  }
  if (!Object.hasOwn(SCHEDULES, name)) throw new NotFoundError(`${where}: unknown learning-rate schedule '${name}'; known: constant, warmup, ${Object.keys(SCHEDULES).join(', ')}`);
  return SCHEDULES[name](typed(config, SCHEDULE_FIELDS[name], `${where} (${name})`));
}

export function reviveLoss({ name, config }: NamedConfig): Loss {
  if (!LOSS_NAMES.includes(name)) throw new NotFoundError(`checkpoint: unknown loss '${name}'; known: ${LOSS_NAMES.join(', ')}`);
  return name === 'huber' ? huber(typed(config, { delta: 'number' }, 'loss huber')) : resolveLoss(name);
}

