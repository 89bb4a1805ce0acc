// Weight initialisers, all drawn from the model's seeded stream inside the module (Keras' definitions).
import type { Kernels } from '../backend/kernels';
import { ValueError } from '../backend/errors';

export interface Initializer {
  readonly name: string;
  readonly config: Record<string, number>;
  /** Fills `n` floats at `ptr`; fanIn/fanOut come from the parameter's shape. */
  fill(k: Kernels, rng: number, ptr: number, n: number, fanIn: number, fanOut: number): void;
}

// Keras draws "normal" variance-scaling weights from a normal truncated at 2 std, scaled so the result has the asked
// std: 0.8796... is the std of a unit normal truncated to [-2, 2].
const TRUNCATED_STD = 0.87962566103423978;

function varianceScaling(name: string, scale: number, mode: 'fanIn' | 'fanAvg', distribution: 'uniform' | 'normal'): Initializer {
  return {
    name,
    config: {},
    fill(k, rng, ptr, n, fanIn, fanOut) {
      const fan = mode === 'fanIn' ? fanIn : (fanIn + fanOut) / 2;
      const variance = scale / Math.max(1, fan);
      if (distribution === 'uniform') {
        const limit = Math.sqrt(3 * variance);
        k.rng_uniform(rng, ptr, n, -limit, limit);
      } else {
        k.rng_truncated_normal(rng, ptr, n, 0, Math.sqrt(variance) / TRUNCATED_STD);
      }
    },
  };
}

export const glorotUniform = (): Initializer => varianceScaling('glorotUniform', 1, 'fanAvg', 'uniform');
export const glorotNormal = (): Initializer => varianceScaling('glorotNormal', 1, 'fanAvg', 'normal');
export const heUniform = (): Initializer => varianceScaling('heUniform', 2, 'fanIn', 'uniform');
export const heNormal = (): Initializer => varianceScaling('heNormal', 2, 'fanIn', 'normal');
export const leCunUniform = (): Initializer => varianceScaling('leCunUniform', 1, 'fanIn', 'uniform');
export const leCunNormal = (): Initializer => varianceScaling('leCunNormal', 1, 'fanIn', 'normal');

export function constant({ value = 0 }: { value?: number } = {}): Initializer {
  finite(value, 'constant initializer value');
  return { name: 'constant', config: { value }, fill: (k, _rng, ptr, n) => k.vec_fill(ptr, n, value) };
}
export const zeros = (): Initializer => ({ ...constant({ value: 0 }), name: 'zeros', config: {} });
export const ones = (): Initializer => ({ ...constant({ value: 1 }), name: 'ones', config: {} });

export function randomNormal({ mean = 0, stddev = 0.05 }: { mean?: number; stddev?: number } = {}): Initializer {
  finite(mean, 'randomNormal mean');
  finite(stddev, 'randomNormal stddev');
  return { name: 'randomNormal', config: { mean, stddev }, fill: (k, rng, ptr, n) => k.rng_normal(rng, ptr, n, mean, stddev) };
}
export function truncatedNormal({ mean = 0, stddev = 0.05 }: { mean?: number; stddev?: number } = {}): Initializer {
  finite(mean, 'truncatedNormal mean');
  finite(stddev, 'truncatedNormal stddev');
  return { name: 'truncatedNormal', config: { mean, stddev }, fill: (k, rng, ptr, n) => k.rng_truncated_normal(rng, ptr, n, mean, stddev) };
}
export function randomUniform({ minval = -0.05, maxval = 0.05 }: { minval?: number; maxval?: number } = {}): Initializer {
  finite(minval, 'randomUniform minval');
  finite(maxval, 'randomUniform maxval');
  if (!(maxval > minval)) throw new ValueError(`randomUniform needs maxval > minval, got [${minval}, ${maxval})`);
  return { name: 'randomUniform', config: { minval, maxval }, fill: (k, rng, ptr, n) => k.rng_uniform(rng, ptr, n, minval, maxval) };
}

/**
 * Keras's orthogonal: a normal draw (the model's seeded stream, in the module) made orthonormal, the rows of a
 * [rows, cols] weight when rows <= cols (an LSTM's recurrent kernel [u, 4u]), else its columns, times `gain`. Keras
 * takes the Q of a QR decomposition with the signs of R's diagonal made positive, which is what Gram-Schmidt gives;
 * it runs here in f64 with + - * / and sqrt only, each correctly rounded, so every runtime gets the same bits.
 */
export function orthogonal({ gain = 1 }: { gain?: number } = {}): Initializer {
  finite(gain, 'orthogonal gain');
  return {
    name: 'orthogonal', config: { gain },
    fill(k, rng, ptr, n, _fanIn, fanOut) {
      k.rng_normal(rng, ptr, n, 0, 1);
      const f32 = new Float32Array(k.memory.buffer, ptr, n);
      const cols = fanOut, rows = n / cols;
      // vectors: the rows (rows <= cols) or the columns, each of length `len`
      const byRows = rows <= cols;
      const count = byRows ? rows : cols, len = byRows ? cols : rows;
      const at = (v: number, i: number) => (byRows ? v * cols + i : i * cols + v);
      const q = new Float64Array(count * len);
      for (let v = 0; v < count; v++) for (let i = 0; i < len; i++) q[v * len + i] = f32[at(v, i)];
      for (let v = 0; v < count; v++) {
        const a = v * len;
        for (let w = 0; w < v; w++) {
          let dot = 0;
          for (let i = 0; i < len; i++) dot += q[w * len + i] * q[a + i];
          for (let i = 0; i < len; i++) q[a + i] -= dot * q[w * len + i];
        }
        let norm = 0;
        for (let i = 0; i < len; i++) norm += q[a + i] * q[a + i];
        norm = Math.sqrt(norm);
        for (let i = 0; i < len; i++) q[a + i] /= norm;
      }
      for (let v = 0; v < count; v++) for (let i = 0; i < len; i++) f32[at(v, i)] = gain * q[v * len + i];
    },
  };
}

/**
 * The initializers a config may name (TF.js spelling): the one list layers check names against. BY_NAME must have
 * exactly these keys (the compiler checks it).
 */
export const INITIALIZER_NAMES = [
  'glorotUniform', 'glorotNormal', 'heUniform', 'heNormal', 'leCunUniform', 'leCunNormal', 'zeros', 'ones',
  'randomNormal', 'randomUniform', 'truncatedNormal', 'constant', 'orthogonal',
] as const;
export type InitializerName = (typeof INITIALIZER_NAMES)[number];

const BY_NAME: Record<InitializerName, (config?: never) => Initializer> = {
  glorotUniform, glorotNormal, heUniform, heNormal, leCunUniform, leCunNormal, zeros, ones,
  randomNormal, randomUniform, truncatedNormal, constant, orthogonal,
};

/** An initializer object, or its name in TF.js (camelCase) or Keras (snake_case) spelling. */
export function resolveInitializer(init: Initializer | string | undefined, fallback: () => Initializer): Initializer {
  if (init === undefined) return fallback();
  if (isInitializer(init)) return init;
  return BY_NAME[initializerName(init)]();
}

/** Checks an initializer option without making it: what resolveInitializer accepts. */
export function checkInitializer(init: unknown): void {
  if (init !== undefined && !isInitializer(init)) initializerName(init);
}

/** The name of what resolveInitializer(init, fallback) makes, checked but not made (a layer's config saves it). */
export function initializerNameOf(init: Initializer | string | undefined, fallback: InitializerName): string {
  if (init === undefined) return fallback;
  return isInitializer(init) ? init.name : initializerName(init);
}

function isInitializer(init: unknown): init is Initializer {
  return typeof init === 'object' && typeof (init as Initializer | null)?.fill === 'function';
}

function initializerName(init: unknown): InitializerName {
  const key = String(init).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()).replace(/^lecun/, 'leCun');
  if (!(INITIALIZER_NAMES as readonly string[]).includes(key)) throw new ValueError(`unknown initializer '${String(init)}'; known: ${INITIALIZER_NAMES.join(', ')}`);
  return key as InitializerName;
}

function finite(v: number, what: string): void {
  if (!Number.isFinite(v)) throw new ValueError(`${what} must be a finite number, got ${v}`);
}
