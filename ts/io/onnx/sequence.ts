// The ONNX ops of a PyTorch recurrent model (nn.Embedding; nn.LSTM, nn.GRU, nn.RNN with batch_first; opsets 13 to
// 17), and the layout ops around them. PyTorch's export of nn.LSTM(batch_first=True) is
//   Transpose(1, 0, 2) -> LSTM (X [steps, batch, in]; Y [steps, directions, batch, hidden]) -> Squeeze(1) or, both
//   ways, Transpose(0, 2, 1, 3) + Reshape(0, 0, -1) -> Transpose(1, 0, 2) -> [batch, steps, directions·hidden]
// with the initial states ConstantOfShape(0) of a shape computed from the input. Those moves of the batch axis are
// free in wasmnn, which always holds [batch, ...]: the state keeps where ONNX has the batch (batchAxis) and what
// wasmnn holds (held, the same values in the same order), and the LSTM op is a wasmnn lstm layer (or a bidirectional
// one) with the weights permuted to Keras's layout. A Gather or Slice of the last step folds into the layer
// (returnSequences false); y[:, -1] of a bidirectional layer is not its final state, and is refused by name. (The
// readings of h_n that are not a chain are made into one in graph.ts.)
import * as L from '../../layers/index';
import { Tensor } from '../../tensor/tensor';
import { ValueError } from '../../backend/errors';
import type { Layer } from '../../layers/layer';
import type { OnnxNode } from './proto';
import { nodeLabel } from './graph';
import { BATCH, normAxis, sameShape, type Context, type Op, type Spec, type State } from './spec';

const fail = (node: OnnxNode, why: string) => new ValueError(`onnx: ${nodeLabel(node)}: ${why}`);

/** The tensor's ONNX shape with the batch axis (BATCH) in its place. */
export function fullShape(state: State): number[] {
  const b = state.batchAxis ?? 0;
  return [...state.shape.slice(0, b), BATCH, ...state.shape.slice(b)];
}

export const show = (dims: number[]) => `[${dims.map((d) => (d === BATCH ? 'batch' : d)).join(', ')}]`;

/**
 * Makes wasmnn hold the sequence as `want` (the ONNX shape per sample an op reads, the same values): a reshape layer
 * where the last layer outputs another shape (a bidirectional layer's [steps, 2·hidden] read as [steps, 2, hidden]).
 */
export function hold(c: Context, node: OnnxNode, state: State, specs: Spec[], want: number[]): void {
  if (!state.held || sameShape(state.held, want)) return;
  const name = c.layerName({ ...node, name: `${node.name || node.outputs[0] || node.opType}_reshape` });
  const targetShape = want.slice();
  specs.push({ kind: 'other', name, weights: [], make: (base) => L.reshape({ ...base, targetShape }) });
  state.held = targetShape.slice();
}

/** Whether the chain reads its input as a sequence: it has a recurrent op, or begins with an embedding. */
export function isSequenceModel(items: { kind: string; node?: OnnxNode }[], constants: Map<string, unknown>): boolean {
  const first = items[0];
  if (first?.kind === 'node' && first.node && isEmbedding(first.node, constants)) return true;
  return items.some((i) => i.kind === 'node' && RECURRENT_OPS.has(i.node!.opType));
}

/** A Gather of rows of a constant table by the data (nn.Embedding). */
export function isEmbedding(node: OnnxNode, constants: Map<string, unknown>): boolean {
  return node.opType === 'Gather' && constants.has(node.inputs[0]) && !constants.has(node.inputs[1]);
}

const int = (n: OnnxNode, name: string, def: number): number => n.attributes.get(name)?.i ?? def;

const RECURRENT_OPS = new Set(['LSTM', 'GRU', 'RNN']);

/** Axes from the attribute (before opset 13) or the second input (from 13), normalised to the full rank. */
function axesOf(c: Context, node: OnnxNode, rank: number): number[] | null {
  const listed = node.attributes.get('axes')?.ints;
  const axes = c.opset < 13 ? (listed?.length ? listed : null) : node.inputs[1] ? c.ints(node.inputs[1], node) : null;
  if (!axes) return null;
  const norm = axes.map((a) => normAxis(a, rank));
  if (norm.some((a) => !(a >= 0 && a < rank)) || new Set(norm).size !== norm.length) throw fail(node, `axes [${axes}] do not fit a tensor of rank ${rank}`);
  return norm;
}

/** Transpose that moves only the batch axis (the other axes keep their order): nothing to compute in wasmnn. */
const transpose: Op = (_c, node, state) => {
  const full = fullShape(state);
  const perm = node.attributes.get('perm')?.ints ?? full.map((_, i) => full.length - 1 - i);
  if (perm.length !== full.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) throw fail(node, `perm [${perm}] is not a permutation of ${full.length} axes`);
  const b = state.batchAxis ?? 0;
  const rest = perm.filter((p) => p !== b);
  if (rest.some((p, i) => i > 0 && p < rest[i - 1]) || (!state.held && perm.indexOf(b) !== b)) {
    throw fail(node, `perm [${perm}] of ${show(full)} reorders the axes of a sample; wasmnn imports only transposes that move the batch axis (PyTorch's batch_first around LSTM and GRU)`);
  }
  state.batchAxis = perm.indexOf(b);
};

/** Squeeze of size-1 axes of a sequence (the directions axis of a one-way LSTM's Y). */
const squeeze: Op = (c, node, state) => {
  const full = fullShape(state);
  const axes = axesOf(c, node, full.length);
  if (!axes) throw fail(node, 'a Squeeze without axes (of every size-1 axis, maybe the batch) is not supported');
  if (!state.held) throw fail(node, 'Squeeze is imported in sequence models (after an LSTM, GRU or embedding) only');
  for (const a of axes) if (full[a] !== 1) throw fail(node, `axis ${a} of ${show(full)} is not of size 1`);
  const kept = full.filter((_, i) => !axes.includes(i));
  setFull(state, kept);
};

/** Unsqueeze: a size-1 axis more (free). */
const unsqueeze: Op = (c, node, state) => {
  if (!state.held) throw fail(node, 'Unsqueeze is imported in sequence models (after an LSTM, GRU or embedding) only');
  const full = fullShape(state);
  const rank = full.length + (c.opset < 13 ? node.attributes.get('axes')?.ints.length ?? 0 : c.ints(node.inputs[1] ?? '', node).length);
  const axes = axesOf(c, node, rank);
  if (!axes || rank > 8) throw fail(node, 'it needs axes (at most 8 in all)');
  const out: number[] = [];
  for (let i = 0, j = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : full[j++]);
  setFull(state, out);
};

function setFull(state: State, full: number[]): void {
  const b = full.indexOf(BATCH);
  state.batchAxis = b;
  state.shape = full.filter((_, i) => i !== b);
}

/**
 * Gather with constant indices. Of a constant table by the data: nn.Embedding (ids [steps] -> [steps, dim]). Of the
 * data: one index (see pick).
 */
const gather: Op = (c, node, state, specs) => {
  if (c.chain.constants.has(node.inputs[0])) return embedding(c, node, state, specs);
  const full = fullShape(state);
  const axis = normAxis(int(node, 'axis', 0), full.length);
  const index = c.constant(node, 1, 'indices');
  const values = c.ints(node.inputs[1], node);
  if (values.length !== 1 || index.dims.length > 1) throw fail(node, `it gathers ${values.length} indices of shape [${index.dims}]; only one index (y[:, -1]) is supported`);
  pick(node, state, axis, values[0], index.dims.length === 1);
};

/**
 * Slice of the data: along each axis the whole of it (nothing to do), or one index (y[:, -1:]: see pick). Starts,
 * ends, axes and steps are inputs from opset 10, attributes before.
 */
const slice: Op = (c, node, state) => {
  const full = fullShape(state);
  const list = (i: number, attr: string): number[] | null => (c.opset < 10 ? node.attributes.get(attr)?.ints ?? null : node.inputs[i] ? c.ints(node.inputs[i], node) : null);
  const starts = list(1, 'starts'), ends = list(2, 'ends');
  if (!starts || !ends || starts.length !== ends.length) throw fail(node, 'it needs starts and ends of one length');
  const axes = list(3, 'axes') ?? starts.map((_, i) => i);
  const steps = list(4, 'steps') ?? starts.map(() => 1);
  if (axes.length !== starts.length || steps.length !== starts.length) throw fail(node, 'its axes and steps must be as many as its starts');
  // ONNX clamps: a negative bound counts from the end, then [0, size]
  const clamp = (v: number, size: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  const picks: [number, number][] = [];
  axes.forEach((a, i) => {
    const axis = normAxis(a, full.length);
    if (!(axis >= 0 && axis < full.length)) throw fail(node, `axis ${a} does not fit ${show(full)}`);
    if (steps[i] !== 1) throw fail(node, `step ${steps[i]}: only slices of step 1 are supported`);
    if (axis === (state.batchAxis ?? 0)) {
      if (starts[i] === 0 && ends[i] >= 2 ** 31 - 1) return; // the whole batch
      throw fail(node, 'it slices the batch axis');
    }
    const size = full[axis], start = clamp(starts[i], size), end = clamp(ends[i], size);
    if (start === 0 && end === size) return;
    if (end - start !== 1) throw fail(node, `it takes [${start}, ${end}) of axis ${axis} of ${show(full)}; only the whole axis or one index (y[:, -1:]) is supported`);
    picks.push([axis, start]);
  });
  for (const [axis, j] of picks) pick(node, state, axis, j, true);
};

/**
 * Index j of one axis of the data, the axis dropped (Gather of a scalar) or kept with size 1: of a size-1 axis
 * (free), or the last step of a one-way recurrent layer's sequence (y[:, -1]): that layer then returns its last
 * state only.
 */
function pick(node: OnnxNode, state: State, axis: number, index: number, keep: boolean): void {
  const full = fullShape(state);
  const b = state.batchAxis ?? 0;
  if (!(axis >= 0 && axis < full.length)) throw fail(node, `axis ${axis} does not fit ${show(full)}`);
  if (axis === b) throw fail(node, 'it takes an index of the batch axis');
  if (!state.held) throw fail(node, `${node.opType} of the data is imported in sequence models (after an LSTM, GRU or embedding) only`);
  const size = full[axis];
  const j = index < 0 ? index + size : index;
  if (!(j >= 0 && j < size)) throw fail(node, `index ${index} is outside the axis of ${size}`);
  const out = full.map((d, i) => (i === axis ? 1 : d)).filter((_, i) => keep || i !== axis);
  if (size === 1) return setFull(state, out);
  const rnn = state.recurrent;
  const stepAxis = axis === (b === 0 ? 1 : 0); // the steps are the first axis after (or before) the batch
  if (!rnn || !stepAxis || j !== size - 1) {
    throw fail(node, `index ${index} of axis ${axis} of ${show(full)}: wasmnn imports only the last step of an LSTM's or GRU's output sequence (y[:, -1]), with nothing but elementwise ops between`);
  }
  if (!rnn.forwardOnly) {
    throw fail(node, `the last step of ${rnn.name}'s output is not a state wasmnn keeps: one direction of it has read every step, the other one step only. Use its final states instead (torch.cat((h_n[-2], h_n[-1]), 1) in PyTorch), or every step`);
  }
  rnn.sequences = false;
  setFull(state, out);
  state.held = [state.shape.reduce((a, d) => a * d, 1)]; // the layer's last state [hidden]
  state.recurrent = null;
}

/** nn.Embedding: Gather(table [vocabulary, dim], ids) along axis 0; ids [steps] per sample (the model's input). */
function embedding(c: Context, node: OnnxNode, state: State, specs: Spec[]): void {
  if (int(node, 'axis', 0) !== 0) throw fail(node, `a Gather of a constant table along axis ${int(node, 'axis', 0)} is not an embedding (axis 0)`);
  const table = c.constant(node, 0, 'table');
  if (table.dims.length !== 2 || table.dims.some((d) => !(d >= 1))) throw fail(node, `its table has shape [${table.dims}]; an embedding's is [vocabulary, dim]`);
  if (!state.held || state.shape.length !== 1 || (state.batchAxis ?? 0) !== 0) {
    throw fail(node, `an embedding reads token ids [batch, steps], it gets ${show(fullShape(state))}`);
  }
  const [inputDim, outputDim] = table.dims;
  const values = c.floats(node, 0, 'table');
  specs.push({
    kind: 'other', name: c.layerName(node), weights: [new Tensor(values, [inputDim, outputDim])],
    make: (base) => L.embedding({ ...base, inputDim, outputDim }),
  });
  state.shape = [state.shape[0], outputDim];
  state.held = state.shape.slice();
}

type Cell = 'RNN' | 'LSTM' | 'GRU';
const DEFAULT_ACTIVATIONS: Record<Cell, string[]> = { RNN: ['Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'] };
/** Keras's gate order from ONNX's: LSTM i, f, c, o from ONNX's i, o, f, c; GRU z, r, h is the same. */
const GATES: Record<Cell, number[]> = { RNN: [0], LSTM: [0, 2, 3, 1], GRU: [0, 1, 2] };

/**
 * LSTM, GRU and RNN (ONNX's, as PyTorch exports nn.LSTM, nn.GRU and nn.RNN): X [steps, batch, in] (layout 0;
 * layout 1: [batch, steps, in]), W [dirs, G·hidden, in], R [dirs, G·hidden, hidden], B [dirs, 2·G·hidden] (the
 * input's and the recurrent bias), zero initial states. The chain goes on with Y (every step: returnSequences) or
 * Y_h (the last state).
 */
function recurrent(op: Cell): Op {
  return (c, node, state, specs) => {
    const gates = GATES[op].length;
    const layout = int(node, 'layout', 0);
    if (layout !== 0 && layout !== 1) throw fail(node, `layout ${layout} is not an ONNX value`);
    const full = fullShape(state);
    const xBatch = layout === 0 ? 1 : 0;
    if (!state.held || full.length !== 3 || (state.batchAxis ?? 0) !== xBatch) {
      throw fail(node, `its input X is ${show(full)}; it must be a sequence [${layout === 0 ? 'steps, batch' : 'batch, steps'}, features] (export nn.${op} with batch_first=True, with the batch axis of the graph's input first)`);
    }
    const [steps, features] = state.shape;
    for (const attr of ['clip', 'activation_alpha', 'activation_beta']) {
      if (node.attributes.has(attr)) throw fail(node, `the attribute '${attr}' is not supported (wasmnn's ${op} has no ${attr === 'clip' ? 'cell clipping' : 'activation parameters'})`);
    }
    if (op === 'LSTM' && int(node, 'input_forget', 0) !== 0) throw fail(node, 'the attribute \'input_forget\' = 1 (coupled input and forget gates) is not supported');
    const direction = new TextDecoder().decode(node.attributes.get('direction')?.s ?? new TextEncoder().encode('forward'));
    if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') throw fail(node, `direction '${direction}' is not an ONNX value`);
    const dirs = direction === 'bidirectional' ? 2 : 1;
    const acts = node.attributes.get('activations')?.strings;
    // nn.RNN(nonlinearity='relu') writes Relu: wasmnn's simpleRNN has it
    const relu = op === 'RNN' && acts?.length === dirs && acts.every((a) => new TextDecoder().decode(a) === 'Relu');
    if (acts && !relu) {
      const want = [...DEFAULT_ACTIVATIONS[op], ...(dirs === 2 ? DEFAULT_ACTIVATIONS[op] : [])];
      const got = acts.map((a) => new TextDecoder().decode(a));
      if (got.length !== want.length || got.some((a, i) => a !== want[i])) {
        throw fail(node, `the attribute 'activations' [${got.join(', ')}] is not ${op}'s default [${want.join(', ')}]${op === 'RNN' ? ' or Relu' : ''}, the only one${op === 'RNN' ? 's' : ''} wasmnn's ${op} has`);
      }
    }
    const resetAfter = op === 'GRU' ? int(node, 'linear_before_reset', 0) : 0;
    if (resetAfter !== 0 && resetAfter !== 1) throw fail(node, `linear_before_reset ${resetAfter} must be 0 or 1`);

    const w = c.constant(node, 1, 'weight W'), r = c.constant(node, 2, 'recurrence weight R');
    const hidden = w.dims[1] / gates;
    if (w.dims.length !== 3 || w.dims[0] !== dirs || w.dims[2] !== features || !Number.isSafeInteger(hidden) || hidden < 1) {
      throw fail(node, `W has shape [${w.dims}]; for ${dirs} direction(s) and ${features} input features it must be [${dirs}, ${gates}·hidden, ${features}]`);
    }
    if (int(node, 'hidden_size', hidden) !== hidden) throw fail(node, `hidden_size ${int(node, 'hidden_size', hidden)} differs from W's ${hidden}`);
    if (r.dims.length !== 3 || r.dims[0] !== dirs || r.dims[1] !== gates * hidden || r.dims[2] !== hidden) throw fail(node, `R has shape [${r.dims}], not [${dirs}, ${gates * hidden}, ${hidden}]`);
    const W = c.floats(node, 1, 'weight W'), R = c.floats(node, 2, 'recurrence weight R');
    const gu = gates * hidden;
    let B: Float32Array = new Float32Array(dirs * 2 * gu);
    if (node.inputs[3]) {
      const bt = c.constant(node, 3, 'bias B');
      if (bt.dims.length !== 2 || bt.dims[0] !== dirs || bt.dims[1] !== 2 * gu) throw fail(node, `B has shape [${bt.dims}], not [${dirs}, ${2 * gu}]`);
      B = c.floats(node, 3, 'bias B');
    }
    if (node.inputs[4]) {
      const lens = c.ints(node.inputs[4], node);
      if (lens.some((v) => v !== steps)) throw fail(node, `sequence_lens [${lens}] are not all the ${steps} steps; sequences of their own lengths are not supported (pad them, with an embedding's padding id)`);
    }
    const states = op === 'LSTM' ? [[5, 'initial_h'], [6, 'initial_c'], [7, 'peepholes P']] as const : [[5, 'initial_h']] as const;
    for (const [i, what] of states) {
      if (node.inputs[i] && !c.zeros(node.inputs[i])) throw fail(node, `its ${what} (input ${i} '${node.inputs[i]}') must be zeros; wasmnn's ${op} starts from a zero state${i === 7 ? ' and has no peepholes' : ''}`);
    }

    const out = c.followed(node);
    if (out === 2) throw fail(node, 'the chain goes on from Y_c, the cell state; wasmnn\'s LSTM outputs the hidden state (Y or Y_h)');
    if (direction === 'reverse' && out === 0) throw fail(node, 'Y of direction \'reverse\' is in the order of the steps; wasmnn\'s goBackwards outputs it in reading order (use Y_h, or direction bidirectional)');

    // Keras's layout per direction: kernel [in, G·u] (column g·u + j is ONNX's row GATES[g]·u + j), recurrent [u, G·u], bias
    const weights: Tensor[] = [];
    for (let d = 0; d < dirs; d++) {
      const kernel = new Float32Array(features * gu), rec = new Float32Array(hidden * gu);
      const wb = B.subarray(d * 2 * gu, d * 2 * gu + gu), rb = B.subarray(d * 2 * gu + gu, (d + 1) * 2 * gu);
      const bias = new Float32Array(resetAfter ? 2 * gu : gu);
      GATES[op].forEach((from, g) => {
        for (let j = 0; j < hidden; j++) {
          const row = from * hidden + j, col = g * hidden + j;
          for (let i = 0; i < features; i++) kernel[i * gu + col] = W[(d * gu + row) * features + i];
          for (let i = 0; i < hidden; i++) rec[i * gu + col] = R[(d * gu + row) * hidden + i];
          // GRU with linear_before_reset (PyTorch's): Keras's resetAfter, the recurrent bias apart ([2, 3u]); else summed
          if (resetAfter) (bias[col] = wb[row]), (bias[gu + col] = rb[row]);
          else bias[col] = wb[row] + rb[row];
        }
      });
      weights.push(new Tensor(kernel, [features, gu]), new Tensor(rec, [hidden, gu]), new Tensor(bias, resetAfter ? [2, gu] : [gu]));
    }
    const spec: Spec = {
      kind: 'rnn', name: c.layerName(node), weights, sequences: out === 0, forwardOnly: direction === 'forward',
      make: (base) => {
        const cell = (args: { name?: string; inputShape?: number[]; goBackwards: boolean }): Layer => {
          const common = { ...args, units: hidden, returnSequences: spec.sequences };
          if (op === 'RNN') return L.simpleRNN({ ...common, activation: relu ? 'relu' : 'tanh' });
          return op === 'LSTM' ? L.lstm({ ...common, unitForgetBias: false }) : L.gru({ ...common, resetAfter: resetAfter === 1 });
        };
        if (dirs === 1) return cell({ ...base, goBackwards: direction === 'reverse' });
        return L.bidirectional({ ...base, layer: cell({ name: `${base.name}_forward`, goBackwards: false }) });
      },
    };
    specs.push(spec);
    // Y: [steps, dirs, batch, hidden] (layout 1: [batch, steps, dirs, hidden]); Y_h: [dirs, batch, hidden] ([batch, dirs, hidden])
    if (out === 0) {
      state.shape = [steps, dirs, hidden];
      state.batchAxis = layout === 0 ? 2 : 0;
      state.held = [steps, dirs * hidden];
      state.recurrent = spec;
    } else {
      state.shape = [dirs, hidden];
      state.batchAxis = layout === 0 ? 1 : 0;
      state.held = [dirs * hidden];
      state.recurrent = null;
    }
  };
}

export const SEQUENCE_OPS: Record<string, Op> = {
  LSTM: recurrent('LSTM'),
  GRU: recurrent('GRU'),
  RNN: recurrent('RNN'),
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Gather: gather,
  Slice: slice,
};
