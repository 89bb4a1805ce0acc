// A typed wrapper over the kernels for direct use: arrays resident in module memory, and calls that check sizes
// before the module sees a pointer, so nothing is ever written out of bounds. The model engine calls the raw
// kernels itself (its buffers are checked once, when they are planned).
import { backend } from '../backend/module';
import { resolveActivation } from './activations';
import { ShapeError, StateError, ValueError } from '../backend/errors';

/** A Float32 array that lives in the module's memory. */
export class ModuleArray {
  private address: number;

  constructor(readonly length: number) {
    if (!Number.isInteger(length) || length < 0) throw new ShapeError(`array length must be a whole number >= 0, got ${length}`);
    this.address = backend().heap.alloc(length * 4);
  }

  /** Byte address in the module's memory. */
  get ptr(): number {
    if (this.address < 0) throw new StateError('this ModuleArray was disposed');
    return this.address;
  }

  /** A live view of the data; valid until the module's memory grows, so take it again after any allocation. */
  get data(): Float32Array {
    const start = this.ptr >> 2;
    return backend().heap.f32.subarray(start, start + this.length);
  }

  /** Copies `values` in; their length must match. */
  write(values: ArrayLike<number>): this {
    if (values.length !== this.length) throw new ShapeError(`cannot write ${values.length} values into an array of ${this.length}`);
    this.data.set(values);
    return this;
  }

  /** A copy of the data, owned by JS. */
  read(): Float32Array {
    return this.data.slice();
  }

  dispose(): void {
    if (this.address >= 0) backend().heap.release(this.address);
    this.address = -1;
  }
}

/** A new resident array: of `length` zeros, or holding a copy of `values`. */
export function array(init: number | ArrayLike<number>): ModuleArray {
  if (typeof init === 'number') {
    const a = new ModuleArray(init);
    a.data.fill(0);
    return a;
  }
  checkNumbers(init, 'array');
  return new ModuleArray(init.length).write(init);
}

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  /** Add the product onto c instead of overwriting it. */
  accumulate?: boolean;
}

/**
 * c(m,n) = op(a)·op(b), with op(a) of shape (m,k) and op(b) of shape (k,n). With transposeA, a is stored (k,m);
 * with transposeB, b is stored (n,k).
 */
export function matmul(a: ModuleArray, b: ModuleArray, c: ModuleArray, m: number, k: number, n: number, options: MatmulOptions = {}): void {
  for (const [name, v] of [['m', m], ['k', k], ['n', n]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ShapeError(`matmul: ${name} must be a whole number >= 1, got ${v}`);
  }
  checkArray(a, m * k, 'matmul: a', options.transposeA ? `(${k}, ${m})` : `(${m}, ${k})`);
  checkArray(b, k * n, 'matmul: b', options.transposeB ? `(${n}, ${k})` : `(${k}, ${n})`);
  checkArray(c, m * n, 'matmul: c', `(${m}, ${n})`);
  if (options.transposeA && options.transposeB) throw new ValueError('matmul: transposing both a and b is not supported');
  const kernels = backend().kernels;
  const gemm = options.transposeA ? kernels.gemm_tn : options.transposeB ? kernels.gemm_nt : kernels.gemm_nn;
  gemm(a.ptr, b.ptr, c.ptr, m, k, n, options.accumulate ? 1 : 0);
}

/** y = f(x) elementwise (softmax is row-wise: pass its row width as `cols`). */
export function activate(name: string, x: ModuleArray, y: ModuleArray, options: { alpha?: number; cols?: number } = {}): void {
  const act = resolveActivation(name, options.alpha);
  checkArray(y, x.length, `${act.name}: y`, `(${x.length})`);
  const k = backend().kernels;
  if (act.code >= 0) return k.act_forward(x.ptr, y.ptr, x.length, act.code, act.alpha);
  const cols = rowWidth(x.length, options.cols);
  k.softmax_forward(x.ptr, y.ptr, x.length / cols, cols);
}

/** dz = dy ⊙ f'(z), with y = f(z) (for softmax, the Jacobian-vector product over rows of width `cols`). */
export function activateBackward(name: string, z: ModuleArray, y: ModuleArray, dy: ModuleArray, dz: ModuleArray, options: { alpha?: number; cols?: number } = {}): void {
  const act = resolveActivation(name, options.alpha);
  for (const [label, arr] of [['y', y], ['dy', dy], ['dz', dz]] as const) checkArray(arr, z.length, `${act.name} backward: ${label}`, `(${z.length})`);
  const k = backend().kernels;
  if (act.code >= 0) return k.act_backward(z.ptr, y.ptr, dy.ptr, dz.ptr, z.length, act.code, act.alpha);
  const cols = rowWidth(z.length, options.cols);
  k.softmax_backward(y.ptr, dy.ptr, dz.ptr, z.length / cols, cols);
}

/** The dense epilogue in one pass: z(rows,cols) += bias, y = f(z). */
export function biasActivation(z: ModuleArray, bias: ModuleArray | null, y: ModuleArray, rows: number, cols: number, name = 'linear', alpha?: number): void {
  const act = resolveActivation(name, alpha);
  checkArray(z, rows * cols, 'biasActivation: z', `(${rows}, ${cols})`);
  checkArray(y, rows * cols, 'biasActivation: y', `(${rows}, ${cols})`);
  if (bias) checkArray(bias, cols, 'biasActivation: bias', `(${cols})`);
  const k = backend().kernels;
  if (act.code >= 0) return k.bias_act_forward(z.ptr, bias ? bias.ptr : 0, y.ptr, rows, cols, act.code, act.alpha);
  k.bias_act_forward(z.ptr, bias ? bias.ptr : 0, z.ptr, rows, cols, 0, 0);
  k.softmax_forward(z.ptr, y.ptr, rows, cols);
}

/** db(cols) = column sums of dz(rows, cols), or += with accumulate. */
export function biasGrad(dz: ModuleArray, db: ModuleArray, rows: number, cols: number, accumulate = false): void {
  checkArray(dz, rows * cols, 'biasGrad: dz', `(${rows}, ${cols})`);
  checkArray(db, cols, 'biasGrad: db', `(${cols})`);
  backend().kernels.bias_grad(dz.ptr, db.ptr, rows, cols, accumulate ? 1 : 0);
}

/** Row-wise log-softmax and its backward pass. */
export function logSoftmax(x: ModuleArray, y: ModuleArray, rows: number, cols: number): void {
  checkArray(x, rows * cols, 'logSoftmax: x', `(${rows}, ${cols})`);
  checkArray(y, rows * cols, 'logSoftmax: y', `(${rows}, ${cols})`);
  backend().kernels.log_softmax_forward(x.ptr, y.ptr, rows, cols);
}
export function logSoftmaxBackward(y: ModuleArray, dy: ModuleArray, dx: ModuleArray, rows: number, cols: number): void {
  for (const [label, arr] of [['y', y], ['dy', dy], ['dx', dx]] as const) checkArray(arr, rows * cols, `logSoftmaxBackward: ${label}`, `(${rows}, ${cols})`);
  backend().kernels.log_softmax_backward(y.ptr, dy.ptr, dx.ptr, rows, cols);
}

function rowWidth(length: number, cols: number | undefined): number {
  const c = cols ?? length;
  if (!Number.isInteger(c) || c < 1 || length % c !== 0) throw new ShapeError(`softmax: row width ${cols} does not divide ${length}`);
  return c;
}

function checkArray(a: unknown, length: number, what: string, shape: string): void {
  if (!(a instanceof ModuleArray)) throw new ValueError(`${what} must be a ModuleArray (nn.ops.array), got ${describe(a)}`);
  if (a.length !== length) throw new ShapeError(`${what} must hold ${shape} = ${length} values, got ${a.length}`);
}

function checkNumbers(values: ArrayLike<number>, what: string): void {
  if (!(values instanceof Float32Array) && !Array.isArray(values) && !ArrayBuffer.isView(values)) {
    throw new ValueError(`${what}: expected a Float32Array or an array of numbers, got ${describe(values)}`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}
