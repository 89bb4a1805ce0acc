import { ValueError } from '../backend/errors';

/** Returns (labels.length, numClasses) row-major with a 1 at each row's label. */
export function oneHot(labels: ArrayLike<number>, numClasses: number): Float32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ValueError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  }
  const out = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new ValueError(`oneHot: label ${label} at index ${i} is not a class in 0..${numClasses - 1}`);
    }
    out[i * numClasses + label] = 1;
  }
  return out;
}
