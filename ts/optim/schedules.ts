// Learning-rate schedules as functions of the optimiser step (Keras' LearningRateSchedule). pow and cos come from
// the module, so the same step gives the same learning rate in every runtime. Schedules compose: warmup(inner).
import { backend } from '../backend/module';
import { ValueError } from '../backend/errors';

export interface Schedule {
  readonly name: string;
  readonly config: Record<string, unknown>;
  /** The learning rate for optimiser step `step` (0-based). */
  at(step: number): number;
}

/** lr · rate^(step / decaySteps), or rate^floor(step / decaySteps) with staircase. */
export function exponentialDecay({ initialLearningRate, decaySteps, decayRate, staircase = false }:
  { initialLearningRate: number; decaySteps: number; decayRate: number; staircase?: boolean }): Schedule {
  positive(initialLearningRate, 'initialLearningRate');
  positive(decaySteps, 'decaySteps');
  positive(decayRate, 'decayRate');
  return {
    name: 'exponentialDecay',
    config: { initialLearningRate, decaySteps, decayRate, staircase },
    at(step) {
      const p = staircase ? Math.floor(step / decaySteps) : step / decaySteps;
      return initialLearningRate * backend().kernels.math_pow(decayRate, p);
    },
  };
}

/** Step decay: lr · factor^floor(step / every) (drop by `factor` every `every` steps). */
export function stepDecay({ initialLearningRate, every, factor = 0.5 }: { initialLearningRate: number; every: number; factor?: number }): Schedule {
  positive(initialLearningRate, 'initialLearningRate');
  positive(every, 'every');
  positive(factor, 'factor');
  return {
    name: 'stepDecay',
    config: { initialLearningRate, every, factor },
    at: (step) => initialLearningRate * backend().kernels.math_pow(factor, Math.floor(step / every)),
  };
}

/** Cosine annealing from lr to lr·alpha over decaySteps, then held. */
export function cosineDecay({ initialLearningRate, decaySteps, alpha = 0 }: { initialLearningRate: number; decaySteps: number; alpha?: number }): Schedule {
  positive(initialLearningRate, 'initialLearningRate');
  positive(decaySteps, 'decaySteps');
  return {
    name: 'cosineDecay',
    config: { initialLearningRate, decaySteps, alpha },
    at(step) {
      const fraction = Math.min(step, decaySteps) / decaySteps;
      return initialLearningRate * ((1 - alpha) * cosineFactor(fraction) + alpha);
    },
  };
}

/** Cosine annealing with warm restarts (SGDR): periods grow by tMul, peaks shrink by mMul. */
export function cosineDecayRestarts({ initialLearningRate, firstDecaySteps, tMul = 2, mMul = 1, alpha = 0 }:
  { initialLearningRate: number; firstDecaySteps: number; tMul?: number; mMul?: number; alpha?: number }): Schedule {
  positive(initialLearningRate, 'initialLearningRate');
  positive(firstDecaySteps, 'firstDecaySteps');
  positive(tMul, 'tMul');
  return {
    name: 'cosineDecayRestarts',
    config: { initialLearningRate, firstDecaySteps, tMul, mMul, alpha },
    at(step) {
      const k = backend().kernels;
      let fraction = step / firstDecaySteps;
      let restart: number;
      if (tMul === 1) {
        restart = Math.floor(fraction);
        fraction -= restart;
      } else {
        restart = Math.floor(k.math_log(1 - fraction * (1 - tMul)) / k.math_log(tMul));
        const completed = (1 - k.math_pow(tMul, restart)) / (1 - tMul);
        fraction = (fraction - completed) / k.math_pow(tMul, restart);
      }
      const peak = k.math_pow(mMul, restart);
      return initialLearningRate * ((1 - alpha) * peak * cosineFactor(fraction) + alpha);
    },
  };
}

/** Linear warm-up from lr/warmupSteps to the inner schedule's start over `warmupSteps`, then the inner schedule. */
export function warmup(inner: Schedule | number, warmupSteps: number): Schedule {
  positive(warmupSteps, 'warmupSteps');
  const after = asSchedule(inner);
  return {
    name: 'warmup',
    config: { warmupSteps, inner: { name: after.name, config: after.config } },
    at: (step) => (step < warmupSteps ? (after.at(0) * (step + 1)) / warmupSteps : after.at(step - warmupSteps)),
  };
}

export function constantRate(lr: number): Schedule {
  positive(lr, 'learning rate');
  return { name: 'constant', config: { learningRate: lr }, at: () => lr };
}

export function asSchedule(lr: Schedule | number): Schedule {
  return typeof lr === 'number' ? constantRate(lr) : lr;
}

function cosineFactor(fraction: number): number {
  return 0.5 * (1 + backend().kernels.math_cos(Math.PI * fraction));
}

function positive(v: number, what: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ValueError(`${what} must be a finite number > 0, got ${v}`);
}
