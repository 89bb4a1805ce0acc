// Typed errors: every public entry validates its input and throws one of these, naming the problem.

/** Base class of every error wasmnn throws on purpose. */
export class WasmnnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name; // a user's subclass is named by its class; ours spell theirs out, which minifying keeps
  }
}
/** A tensor or buffer has the wrong shape or size. */
export class ShapeError extends WasmnnError {
  override name = 'ShapeError';
}
/** A value is out of range, not finite, of the wrong type, or unknown (activation, loss, optimiser names). */
export class ValueError extends WasmnnError {
  override name = 'ValueError';
}
/** The call is not allowed in the object's current state (fit before compile, use after dispose). */
export class StateError extends WasmnnError {
  override name = 'StateError';
}
/** A named thing (layer type, file, weight) does not exist. */
export class NotFoundError extends WasmnnError {
  override name = 'NotFoundError';
}
/** The module's memory cannot hold what a model (or an array) needs: wasm32 memory ends at 4 GiB, and a runtime
 *  may refuse to grow it before that. Whatever the failed call had allocated is given back; the module stays usable. */
export class MemoryError extends WasmnnError {
  override name = 'MemoryError';
  /** Bytes the failed allocation needed in all (a model's weights, a batch plan). */
  readonly bytesNeeded: number;
  /** The most a wasm32 module's memory can hold: 4 GiB. */
  readonly bytesLimit: number;
  /** The module's memory size, and the bytes of it in use, when the allocation failed. */
  readonly moduleBytes: number;
  readonly bytesInUse: number;

  constructor(message: string, figures: { bytesNeeded: number; bytesLimit: number; moduleBytes: number; bytesInUse: number }) {
    super(message);
    this.bytesNeeded = figures.bytesNeeded;
    this.bytesLimit = figures.bytesLimit;
    this.moduleBytes = figures.moduleBytes;
    this.bytesInUse = figures.bytesInUse;
  }
}
