// The recurrent stepper: embedding -> recurrent layers (dropout between) -> dense layers ending in a softmax over the
// vocabulary, one step at a time. A plan for one row is made once (each layer's output, a recurrent layer's block,
// state and one-step workspace), every state starting at zero; feed() runs each layer on one step, carrying the state.
// Layers are told apart by their className, not by instanceof: wasmnn/infer bundles its own copy of each layer class,
// and its models are stepped by this same code (wasmnn/infer/generate). Everything runs through the layers' own
// methods and the network's kernels and memory.
import type { Network } from '../engine/network';
import type { Layer, Buffers, Env } from '../layers/layer';
import type { Embedding } from '../layers/embedding';
import type { Recurrent } from '../layers/recurrent';
import type { Dense } from '../layers/dense';
import type { TimeDistributed } from '../layers/wrappers';
import type { Stepper } from './stepper';
import { RNN, type Kernels } from '../backend/kernels';
import { ValueError, ShapeError } from '../backend/errors';

type Stage = { layer: Layer; run: (x: number) => number };

const RECURRENT = new Set(['SimpleRNN', 'LSTM', 'GRU']);
const isRecurrent = (l: Layer): l is Recurrent => RECURRENT.has(l.className);
const isDense = (l: Layer): l is Dense => l.className === 'Dense';

export function recurrentStepper(model: { readonly network: Network }): Stepper | null {
  const net = model.network;
  // dropout is a copy at inference; timeDistributed(dense) is the dense on each step
  const layers = net.layers.filter((l) => l.className !== 'Dropout')
    .map((l) => (l.className === 'TimeDistributed' && isDense((l as TimeDistributed).layer) ? (l as TimeDistributed).layer : l));
  const [first, ...rest] = layers;
  const last = layers[layers.length - 1];
  if (first.className !== 'Embedding' || !rest.some(isRecurrent)) return null;
  if (!rest.every((l) => isRecurrent(l) || isDense(l))) return null;
  if (!isDense(last) || last.act.name !== 'softmax') return null;
  const embedding = first as Embedding;
  const env: Env = net.env;
  const { k, heap } = env;
  const sizes: number[] = [];
  const layout: ((ptrs: () => number) => Stage)[] = [];
  const want = (floats: number) => sizes.push(Math.max(1, floats) * 4);
  want(1); // the token id (i32)
  want(embedding.outputDim);
  for (const layer of rest) {
    if (isRecurrent(layer)) {
      if (layer.goBackwards) throw new ShapeError(`generate: ${layer.name} reads its steps backwards, which cannot run one step at a time`);
      want(RNN.LEN); want(layer.stateFloats(1)); want(layer.askModule((k, p) => k.rnn_step_work_floats(layer.cell, p), 1, 1, false));
      layout.push((next) => {
        const block = next(), state = next(), work = next();
        layer.writeBlock(heap.i32, heap.f32, block, 1, 1, 0, 0, 0);
        // a sequence-in, last-state-out layer still outputs h after every step
        heap.i32[(block >> 2) + RNN.FLAGS] &= ~(RNN.GO_BACKWARDS | RNN.RETURN_SEQUENCES | RNN.ZERO_PADDED);
        k.vec_fill(state, layer.stateFloats(1), 0);
        return { layer, run: (x) => (stepCell(k, layer.cell, x, state, work, block), state) };
      });
    } else {
      const dense = layer as Dense;
      dense.reserve((floats) => (want(floats), 0), 1);
      want(dense.units);
      layout.push((next) => {
        const b: Buffers = dense.reserve(() => next(), 1);
        const y = next();
        return { layer, run: (x) => (dense.forwardRows(env, b, x, y, 1, dense === last), dense === last ? dense.logits(b, x, y) : y) };
      });
    }
  }
  const ptrs = heap.allocAll(sizes, "generate's one-step plan");
  let at = 0;
  const next = () => ptrs[at++];
  const ids = next(), embedded = next();
  const stages = layout.map((make) => make(next));
  const table = embedding.params[0].ptr;
  let disposed = false;
  return {
    vocabulary: last.units,
    inputDim: embedding.inputDim,
    feed(id: number, position: number): number {
      // one id: checked here (a generated id may lie past a smaller embedding's table)
      if (!(Number.isInteger(id) && id >= 0 && id < embedding.inputDim)) throw new ValueError(`generate: token ${position} = ${id} is not an id in [0, ${embedding.inputDim})`);
      heap.i32[ids >> 2] = id;
      k.embedding_forward(ids, table, embedded, 1, embedding.outputDim);
      let x = embedded;
      for (const stage of stages) x = stage.run(x);
      return x;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const ptr of ptrs) heap.release(ptr);
    },
  };
}

/** One step of a cell from its carried state (h, an LSTM's h then c), read and replaced: x [1, in]. */
function stepCell(k: Kernels, cell: number, x: number, state: number, work: number, block: number): void {
  if (cell === RNN.CELL_LSTM) k.lstm_step(x, state, work, block);
  else if (cell === RNN.CELL_GRU) k.gru_step(x, state, work, block);
  else k.simple_rnn_step(x, state, work, block);
}
