// Standardisation per column: (x - mean) / std, with the population std (divide by rows). Sums are in float64.
import { ShapeError, StateError, ValueError } from '../backend/errors';

export interface ScalerJSON {
  type: 'standardScaler';
  mean: number[];
  std: number[];
}

export class StandardScaler {
  /** Column means; empty until fit. */
  mean = new Float64Array(0);
  /** Column scales: the std, or 1 for a column of zero variance (left unscaled, only centred). */
  std = new Float64Array(0);

  /** Learns mean and std of x, (rows, cols) row-major. */
  fit(x: Float32Array, rows: number, cols: number): this {
    checkShape(x, rows, cols, 'fit');
    if (rows < 1) throw new ValueError('StandardScaler.fit: needs at least one row');
    const mean = new Float64Array(cols);
    const std = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += x[r * cols + c];
    for (let c = 0; c < cols; c++) mean[c] /= rows;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const d = x[r * cols + c] - mean[c];
        std[c] += d * d;
      }
    }
    for (let c = 0; c < cols; c++) std[c] = std[c] === 0 ? 1 : Math.sqrt(std[c] / rows);
    this.mean = mean;
    this.std = std;
    return this;
  }

  /** Returns a new (rows, cols) array of standardised values. */
  transform(x: Float32Array, rows: number, cols: number): Float32Array {
    checkShape(x, rows, cols, 'transform');
    if (this.mean.length === 0) throw new StateError('StandardScaler.transform: call fit (or fromJSON) first');
    if (cols !== this.mean.length) {
      throw new ShapeError(`StandardScaler.transform: x has ${cols} columns, the scaler was fit on ${this.mean.length}`);
    }
    const out = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) out[r * cols + c] = (x[r * cols + c] - this.mean[c]) / this.std[c];
    }
    return out;
  }

  fitTransform(x: Float32Array, rows: number, cols: number): Float32Array {
    return this.fit(x, rows, cols).transform(x, rows, cols);
  }

  toJSON(): ScalerJSON {
    return { type: 'standardScaler', mean: Array.from(this.mean), std: Array.from(this.std) };
  }

  /** Restores a scaler saved with toJSON (float64 numbers survive JSON exactly). */
  fromJSON(json: ScalerJSON): this {
    if (json?.type !== 'standardScaler' || json.mean?.length !== json.std?.length) {
      throw new ValueError('StandardScaler.fromJSON: expected { type: "standardScaler", mean, std } of equal lengths');
    }
    if (json.std.some((s) => !(s > 0))) throw new ValueError('StandardScaler.fromJSON: every std must be positive');
    this.mean = Float64Array.from(json.mean);
    this.std = Float64Array.from(json.std);
    return this;
  }
}

export function standardScaler(): StandardScaler {
  return new StandardScaler();
}

function checkShape(x: Float32Array, rows: number, cols: number, method: string): void {
  if (x.length !== rows * cols) {
    throw new ShapeError(`StandardScaler.${method}: x has ${x.length} values, expected rows * cols = ${rows} * ${cols}`);
  }
}
