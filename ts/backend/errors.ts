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
