// Rebuilding what a checkpoint's topology names: the layers (through the registry, matched against the weight
// manifest) and the compile settings (optimiser, learning-rate schedule, loss), each field checked by type.
import { sameShape, type Layer } from '../layers/layer';
import { layerFromConfig } from '../layers/registry';
import { SGD, Momentum, RMSProp, Adagrad, Adam, AdamW, type Optimizer } from '../optim/optimizers';
import { exponentialDecay, stepDecay, cosineDecay, cosineDecayRestarts, warmup, type Schedule } from '../optim/schedules';
import { resolveLoss, huber, LOSS_NAMES, type Loss } from '../optim/losses';
import { boolean, finite, named, object, type NamedConfig, type Topology } from './format';
import { NotFoundError, ShapeError, ValueError, WasmnnError } from '../backend/errors';

/** The layers, built on the saved input shape (shapes only, no memory) and matched against the weight manifest. */
export function reviveLayers(t: Topology): Layer[] {
  const layers = t.layers.map(({ className, config }, i) => {
    const where = `checkpoint layer ${i}`;
    if (config.name !== undefined && typeof config.name !== 'string') throw new ValueError(`${where}: name must be a string`);
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
  if (!Object.hasOwn(OPTIMIZERS, name)) throw new NotFoundError(`checkpoint: unknown optimizer '${name}'; known: ${Object.keys(OPTIMIZERS).join(', ')}`);
  const where = `optimizer '${name}'`;
  const c = typed(config, OPTIMIZER_FIELDS, where);
  const clip: Clip = {};
  if (c.clipnorm !== undefined) clip.clipnorm = c.clipnorm;
  if (c.clipvalue !== undefined) clip.clipvalue = c.clipvalue;
  return OPTIMIZERS[name](reviveSchedule(config.learningRate, `${where}: learningRate`, 0), c, clip);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const SCHEDULES: Record<string, [Record<string, Kind>, (c: any) => Schedule]> = {
  exponentialDecay: [{ initialLearningRate: 'number', decaySteps: 'number', decayRate: 'number', staircase: 'boolean' }, exponentialDecay],
  stepDecay: [{ initialLearningRate: 'number', every: 'number', factor: 'number' }, stepDecay],
  cosineDecay: [{ initialLearningRate: 'number', decaySteps: 'number', alpha: 'number' }, cosineDecay],
  cosineDecayRestarts: [{ initialLearningRate: 'number', firstDecaySteps: 'number', tMul: 'number', mMul: 'number', alpha: 'number' }, cosineDecayRestarts],
};

function reviveSchedule(value: unknown, where: string, depth: number): number | Schedule {
  const { name, config } = named(value, where);
  if (name === 'constant') return finite(config.learningRate, `${where}: learningRate`);
  if (name === 'warmup') {
    if (depth >= 4) throw new ValueError(`${where}: warm-ups nested more than 4 deep`);
    const steps = finite(config.warmupSteps, `${where}: warmupSteps`);
    return warmup(reviveSchedule(config.inner, `${where}: inner`, depth + 1), steps);
  }
  const known = Object.hasOwn(SCHEDULES, name) ? SCHEDULES[name] : undefined;
  if (!known) throw new NotFoundError(`${where}: unknown learning-rate schedule '${name}'; known: constant, warmup, ${Object.keys(SCHEDULES).join(', ')}`);
  return known[1](typed(config, known[0], `${where} (${name})`));
}

export function reviveLoss({ name, config }: NamedConfig): Loss {
  if (!LOSS_NAMES.includes(name)) throw new NotFoundError(`checkpoint: unknown loss '${name}'; known: ${LOSS_NAMES.join(', ')}`);
  return name === 'huber' ? huber(typed(config, { delta: 'number' }, 'loss huber')) : resolveLoss(name);
}

