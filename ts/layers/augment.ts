// Seeded image augmentation (channels-last): random shifts, crops, horizontal flips and small rotations, as one
// nearest-neighbour resampling per image. The random numbers come from the module's generator and the only
// transcendental (the cosine of the angle) from the module's math, so every runtime makes the same images; all
// index arithmetic is on whole numbers (Q16 fixed point), which JS computes exactly.
//   layers.randomAugment({...})         a layer, active in training only (inference passes images through)
//   augment(images, n, h, w, c, {...}, seed)   the same transform as a dataset function
import { Layer, type Buffers, type Env, type LayerArgs, type Reserve } from './layer';
import { checkRank } from './geometry';
import { backend } from '../backend/module';
import type { Kernels } from '../backend/kernels';
import { ShapeError, ValueError } from '../backend/errors';

export interface AugmentOptions {
  /** Largest shift in pixels, the same for both axes or [rows, columns]; each image shifts by a whole number in [-s, s]. */
  shift?: number | [number, number];
  /** Largest crop in pixels: a window (h - k) x (w - k), k whole in [0, crop], at a random place, scaled back to h x w. */
  crop?: number;
  /** Mirror left-right with probability 1/2. */
  flip?: boolean;
  /** Largest rotation in degrees (either way), about the image centre. */
  rotation?: number;
  /** Value of pixels that come from outside the image; default 0. */
  fillValue?: number;
}

interface Checked {
  shiftY: number;
  shiftX: number;
  crop: number;
  flip: boolean;
  rotation: number;
  fillValue: number;
}

/** Uniform numbers drawn per image. */
const DRAWS = 7;
const ONE = 65536; // Q16

function checkOptions(options: AugmentOptions, h: number, w: number, what: string): Checked {
  if (options === null || typeof options !== 'object') throw new ValueError(`${what}: options must be an object`);
  const known = ['shift', 'crop', 'flip', 'rotation', 'fillValue'];
  for (const key of Object.keys(options)) if (!known.includes(key)) throw new ValueError(`${what}: unknown option '${key}'; known: ${known.join(', ')}`);
  const shift = options.shift ?? 0;
  const [sy, sx] = typeof shift === 'number' ? [shift, shift] : Array.isArray(shift) && shift.length === 2 ? shift : [NaN, NaN];
  if (!Number.isInteger(sy) || !Number.isInteger(sx) || sy < 0 || sx < 0 || sy >= h || sx >= w) {
    throw new ValueError(`${what}: shift must be a whole number of pixels (or [rows, columns]) in [0, image size), got ${JSON.stringify(options.shift)} for ${h}x${w} images`);
  }
  const crop = options.crop ?? 0;
  if (!Number.isInteger(crop) || crop < 0 || crop >= Math.min(h, w)) {
    throw new ValueError(`${what}: crop must be a whole number of pixels in [0, ${Math.min(h, w)}), got ${options.crop}`);
  }
  const rotation = options.rotation ?? 0;
  if (typeof rotation !== 'number' || !(rotation >= 0 && rotation <= 180)) throw new ValueError(`${what}: rotation must be in [0, 180] degrees, got ${options.rotation}`);
  const fillValue = options.fillValue ?? 0;
  if (!Number.isFinite(fillValue)) throw new ValueError(`${what}: fillValue must be a finite number, got ${options.fillValue}`);
  return { shiftY: sy, shiftX: sx, crop, flip: options.flip ?? false, rotation, fillValue };
}

/**
 * For one image, the source pixel (row·w + column) of every output pixel, or -1 outside the image, from the DRAWS
 * uniforms u[0..6]. The output pixel's centre, relative to the image centre (in half pixels), is flipped, scaled by
 * the crop, rotated and shifted; the nearest source pixel is taken.
 */
function sourceMap(map: Int32Array, h: number, w: number, o: Checked, u: Float32Array, ui: number, k: Kernels): void {
  const ty = Math.floor(u[ui] * (2 * o.shiftY + 1)) - o.shiftY;
  const tx = Math.floor(u[ui + 1] * (2 * o.shiftX + 1)) - o.shiftX;
  const flip = o.flip && u[ui + 2] < 0.5 ? -1 : 1;
  const angle = (2 * u[ui + 3] - 1) * o.rotation * (Math.PI / 180);
  const cos = angle === 0 ? ONE : Math.round(k.math_cos(angle) * ONE);
  const sin = angle === 0 ? 0 : Math.round(k.math_cos(angle - Math.PI / 2) * ONE);
  const cut = Math.floor(u[ui + 4] * (o.crop + 1)); // pixels cut from each axis
  const cy = Math.floor(u[ui + 5] * (cut + 1)), cx = Math.floor(u[ui + 6] * (cut + 1)); // window's top-left corner
  // scale (window / image) in Q16, and the window centre's offset from the image centre in half pixels
  const sy = Math.round(((h - cut) * ONE) / h), sx = Math.round(((w - cut) * ONE) / w);
  const offY = 2 * (ty + cy) - cut, offX = 2 * (tx + cx) - cut;
  let i = 0;
  for (let oy = 0; oy < h; oy++) {
    const v = 2 * oy - (h - 1); // centred row, half pixels
    for (let ox = 0; ox < w; ox++, i++) {
      const u2 = flip * (2 * ox - (w - 1));
      // rotate (Q16) then scale (Q16): a Q32 value in half pixels, exact in doubles for images up to 2^14 pixels wide
      const ry = sin * u2 + cos * v, rx = cos * u2 - sin * v;
      const syQ = Math.floor((ry * sy) / ONE) + (offY + h - 1) * ONE; // Q16, half pixels from the top edge's centre
      const sxQ = Math.floor((rx * sx) / ONE) + (offX + w - 1) * ONE;
      // half pixels -> pixels, rounded to the nearest
      const py = Math.floor((syQ + ONE) / (2 * ONE)), px = Math.floor((sxQ + ONE) / (2 * ONE));
      map[i] = py >= 0 && py < h && px >= 0 && px < w ? py * w + px : -1;
    }
  }
}

/** dst[image i] = src[image i] resampled through map (hw pixels of c channels each). */
function gather(src: Float32Array, srcAt: number, dst: Float32Array, dstAt: number, map: Int32Array, mapAt: number, hw: number, c: number, fill: number): void {
  for (let p = 0; p < hw; p++) {
    const s = map[mapAt + p];
    const d = dstAt + p * c;
    if (s < 0) for (let j = 0; j < c; j++) dst[d + j] = fill;
    else for (let j = 0, from = srcAt + s * c; j < c; j++) dst[d + j] = src[from + j];
  }
}

/** Augmented copies of n images (n, h, w, c), seeded: the same seed gives the same images in every runtime. */
export function augment(images: Float32Array, n: number, h: number, w: number, c: number, options: AugmentOptions, seed: number): Float32Array {
  if (!(images instanceof Float32Array)) throw new ValueError('augment: images must be a Float32Array (n, h, w, c)');
  for (const [v, name] of [[n, 'n'], [h, 'h'], [w, 'w'], [c, 'c']] as const) {
    if (!Number.isInteger(v) || v < (name === 'n' ? 0 : 1)) throw new ValueError(`augment: ${name} must be a whole number, got ${v}`);
  }
  if (images.length !== n * h * w * c) throw new ShapeError(`augment: ${images.length} values are not ${n} images of ${h}x${w}x${c}`);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new ValueError(`augment: seed must be a whole number in [0, 2^32), got ${seed}`);
  const o = checkOptions(options, h, w, 'augment');
  const { kernels: k, heap } = backend();
  // both or neither: a second alloc that fails must not leave the first behind
  const [state, draws] = heap.allocAll([16, n * DRAWS * 4], `augment's random draws for ${n} images`);
  try {
    k.rng_seed(state, seed >>> 0);
    k.rng_uniform(state, draws, n * DRAWS, 0, 1);
    const u = heap.f32.slice(draws >> 2, (draws >> 2) + n * DRAWS);
    const out = new Float32Array(images.length);
    const map = new Int32Array(h * w);
    for (let i = 0; i < n; i++) {
      sourceMap(map, h, w, o, u, i * DRAWS, k);
      gather(images, i * h * w * c, out, i * h * w * c, map, 0, h * w, c, o.fillValue);
    }
    return out;
  } finally {
    heap.release(draws);
    heap.release(state);
  }
}

export interface RandomAugmentArgs extends LayerArgs, AugmentOptions {}

/** Augments every training batch (fresh draws from the model's training stream); inference passes images through. */
export class RandomAugment extends Layer {
  readonly className = 'RandomAugment';
  protected readonly options: AugmentOptions;
  protected checked!: Checked;

  constructor(args: RandomAugmentArgs = {}) {
    const { name, inputShape, batchInputShape, trainable, ...options } = args;
    super({ name, inputShape, batchInputShape, trainable });
    this.options = options;
    checkOptions(options, Infinity, Infinity, 'randomAugment');
  }

  protected setup(inputShape: number[]): number[] {
    checkRank(this.name, 'randomAugment', inputShape, 2);
    this.checked = checkOptions(this.options, inputShape[0], inputShape[1], this.name);
    return inputShape.slice();
  }

  override passThrough(training: boolean): boolean {
    return !training;
  }

  override reserve(reserve: Reserve, capacity: number, training: boolean): Buffers {
    if (!training) return {};
    const [h, w] = this.inputShape!;
    return { draws: reserve(capacity * DRAWS), map: reserve(capacity * h * w) };
  }

  forward(env: Env, b: Buffers, x: number, y: number, rows: number, training: boolean): void {
    const { k, heap } = env;
    const [h, w, c] = this.inputShape!;
    if (!training || !b.draws) return k.vec_copy(x, y, rows * this.inputSize);
    trainingOnly: { // the augmentation itself: the edge build passes images through (see Layer.backward)
      k.rng_uniform(env.rng, b.draws, rows * DRAWS, 0, 1);
      const u = heap.f32.subarray(b.draws >> 2, (b.draws >> 2) + rows * DRAWS);
      const maps = heap.i32.subarray(b.map >> 2, (b.map >> 2) + rows * h * w);
      const f32 = heap.f32;
      for (let i = 0; i < rows; i++) {
        const map = maps.subarray(i * h * w, (i + 1) * h * w);
        sourceMap(map, h, w, this.checked, u, i * DRAWS, k);
        gather(f32, (x >> 2) + i * h * w * c, f32, (y >> 2) + i * h * w * c, map, 0, h * w, c, this.checked.fillValue);
      }
    }
  }

  /** dx = the adjoint of the resampling: each output pixel's gradient added to its source pixel. */
  backward(env: Env, b: Buffers, _x: number, _y: number, dy: number, dx: number, rows: number): void {
    trainingOnly: {
      if (!dx) return;
      const [h, w, c] = this.inputShape!;
      const f32 = env.heap.f32, maps = env.heap.i32;
      const hw = h * w;
      env.k.vec_fill(dx, rows * this.inputSize, 0);
      for (let i = 0; i < rows; i++) {
        const m = (b.map >> 2) + i * hw, g = (dy >> 2) + i * hw * c, d = (dx >> 2) + i * hw * c;
        for (let p = 0; p < hw; p++) {
          const s = maps[m + p];
          if (s >= 0) for (let j = 0; j < c; j++) f32[d + s * c + j] += f32[g + p * c + j];
        }
      }
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), ...this.options };
  }
}

export const randomAugment = (args?: RandomAugmentArgs): RandomAugment => new RandomAugment(args);
