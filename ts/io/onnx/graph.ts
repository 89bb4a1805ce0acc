// The shape of an ONNX graph, as the importer needs it: one data input, one output, and between them a chain of
// nodes where a tensor may fork into two branches only when both meet again in one Add (a residual block). The
// walk turns the graph into a list of items (a node, a GELU written out in five nodes, or a residual block with its
// inner branch and its shortcut); anything else is a ValueError naming the node where the chain breaks.
// Tensors are data (computed from the input), constants (initializers, Constant nodes and what is computed from
// them), or shape values (Shape of a data tensor, and arithmetic on it: PyTorch's x.view(x.size(0), -1)).
import type { OnnxGraph, OnnxNode, OnnxTensor } from './proto';
import { floatValues, intValues, DT } from './proto';
import { ValueError } from '../../backend/errors';

export type Item =
  | { kind: 'node'; node: OnnxNode }
  | { kind: 'gelu'; node: OnnxNode }
  | { kind: 'residual'; inner: Item[]; shortcut: Item[]; add: OnnxNode };

export interface Chain {
  input: string;
  output: string;
  items: Item[];
  /** Constant tensors by name: initializers and Constant nodes' values. */
  constants: Map<string, OnnxTensor>;
  /** The node that makes each tensor (for shape values computed from Shape nodes). */
  producers: Map<string, OnnxNode>;
  /** For a node of several outputs the chain may go on with (LSTM: Y, Y_h, Y_c): the one it does. */
  follow: Map<OnnxNode, string>;
}

/** Ops whose chain may go on from any one of their outputs (the others unused). */
const ANY_OUTPUT = new Set(['LSTM', 'GRU', 'RNN']);

/** Ops whose output describes a tensor's shape rather than its values: they never count as a use of data. */
const SHAPE_OPS = new Set(['Shape', 'Size']);

/** Residual blocks inside residual blocks: more is refused rather than recursed into. */
const MAX_NESTING = 16;

/** The chain of a graph; `where` names the model in errors. */
export function chainOf(graph: OnnxGraph): Chain {
  const constants = new Map<string, OnnxTensor>();
  for (const t of graph.initializers) constants.set(t.name, t);
  // graph inputs that are also initializers are weights listed as inputs (older exporters): not data inputs
  const inputs = graph.inputs.filter((v) => !constants.has(v.name));
  if (inputs.length !== 1) {
    throw new ValueError(`onnx: the graph must have one input (besides its weights), it has ${inputs.length}${inputs.length ? `: ${inputs.map((v) => `'${v.name}'`).join(', ')}` : ''}`);
  }
  if (graph.outputs.length !== 1) throw new ValueError(`onnx: the graph must have one output, it has ${graph.outputs.length}`);
  const input = inputs[0].name;
  const output = graph.outputs[0].name;
  const nodes = foldStackedStates(graph.nodes, constants, output);

  const data = new Set<string>([input]);
  const known = new Set<string>([input, ...constants.keys()]);
  const producers = new Map<string, OnnxNode>();
  const uses = new Map<string, OnnxNode[]>(); // data tensor -> the nodes that read it (once per input slot)
  for (const node of nodes) {
    const label = nodeLabel(node);
    for (const name of node.inputs) {
      if (name !== '' && !known.has(name)) throw new ValueError(`onnx: ${label} reads '${name}', which no earlier node, input or initializer makes`);
    }
    const dataIn = node.inputs.filter((n) => data.has(n));
    if (node.opType === 'Constant') {
      const value = node.attributes.get('value')?.t;
      if (!value) throw new ValueError(`onnx: ${label} is a Constant without a tensor 'value' (only that form is supported)`);
      if (node.outputs.length !== 1) throw new ValueError(`onnx: ${label} must have one output`);
      constants.set(node.outputs[0], value);
    }
    for (const name of node.outputs) {
      if (name === '') continue;
      if (known.has(name)) throw new ValueError(`onnx: ${label} writes '${name}', which is already defined`);
      known.add(name);
      producers.set(name, node);
      if (dataIn.length && !SHAPE_OPS.has(node.opType)) data.add(name);
    }
    if (!SHAPE_OPS.has(node.opType)) for (const name of dataIn) (uses.get(name) ?? uses.set(name, []).get(name)!).push(node);
  }
  if (!data.has(output)) throw new ValueError(`onnx: the graph's output '${output}' does not depend on its input '${input}'`);

  const follow = new Map<OnnxNode, string>();
  const walker = new Walker(uses, data, constants, output, follow);
  const { items, end, merge } = walker.walk(input, null);
  if (merge) throw new ValueError(`onnx: ${nodeLabel(merge)} adds two tensors that do not fork from one tensor: the graph is not a chain (with residual blocks), which is what wasmnn imports`);
  if (end !== output) throw new ValueError(`onnx: the chain from the input ends at '${end}', not at the graph's output '${output}'`);
  return { input, output, items, constants, producers, follow };
}

/** What the folds below look up: constant values (initializers, Constant nodes), who makes and how many read each tensor. */
function indexOf(nodes: OnnxNode[], constants: Map<string, OnnxTensor>) {
  const values = new Map(constants);
  const producers = new Map<string, { node: OnnxNode; index: number }>();
  const readers = new Map<string, number>();
  for (const node of nodes) {
    if (node.opType === 'Constant' && node.attributes.get('value')?.t && node.outputs.length === 1) values.set(node.outputs[0], node.attributes.get('value')!.t!);
    node.outputs.forEach((o, index) => producers.set(o, { node, index }));
    for (const i of node.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  }
  const taken = new Set<string>();
  /** A name no tensor of the graph has. */
  const fresh = (base: string): string => {
    let name = base;
    while (values.has(name) || producers.has(name) || readers.has(name) || taken.has(name)) name += '_';
    taken.add(name);
    return name;
  };
  /** A new constant int64 tensor. */
  const constant = (base: string, dims: number[], ints: number[]): string => {
    const name = fresh(base);
    constants.set(name, { name, dims, dataType: DT.INT64, floatData: [], int32Data: [], int64Data: ints, doubleData: [], rawData: null, external: false });
    return name;
  };
  /** The one index of a Gather along axis 0 by a constant, or null. */
  const gatherIndex = (g: OnnxNode | undefined): number | null => {
    const t = g?.opType === 'Gather' && (g.attributes.get('axis')?.i ?? 0) === 0 ? values.get(g.inputs[1] ?? '') : undefined;
    if (!t || t.dims.length > 1) return null;
    try {
      const v = intValues(t, 'index');
      return v.length === 1 ? v[0] : null;
    } catch {
      return null;
    }
  };
  /**
   * Where index k of a recurrent op's final states lies: the op's Y_h itself, or a Concat along axis 0 of several
   * (a stacked one's h_n): the Y_h tensor, the index inside it, its directions, and the Concat (null for none).
   */
  const finalState = (t: string, k: number): { yh: string; k: number; dirs: number; concat: OnnxNode | null } | null => {
    const from = producers.get(t);
    const dirsOf = (name: string): number => {
      const p = producers.get(name);
      if (!p || !ANY_OUTPUT.has(p.node.opType) || p.index < 1) return 0;
      const dir = p.node.attributes.get('direction')?.s;
      return dir && new TextDecoder().decode(dir) === 'bidirectional' ? 2 : 1;
    };
    const parts = from?.node.opType === 'Concat' && from.node.attributes.get('axis')?.i === 0 ? from.node.inputs : [t];
    const sizes = parts.map(dirsOf);
    if (sizes.includes(0)) return null;
    const total = sizes.reduce((a, b) => a + b, 0);
    let j = k < 0 ? k + total : k;
    if (!(j >= 0 && j < total)) return null;
    let at = 0;
    while (j >= sizes[at]) j -= sizes[at++];
    return { yh: parts[at], k: j, dirs: sizes[at], concat: parts.length > 1 || parts[0] !== t ? from!.node : null };
  };
  return { producers, readers, fresh, constant, gatherIndex, finalState };
}

/**
 * PyTorch's readings of nn.LSTM's and nn.GRU's final states h_n that are not a chain, made into one:
 * - h_n[k] of a stacked one (PyTorch concatenates every layer's Y_h along axis 0 and gathers one): the Gather reads
 *   that layer's Y_h, and the Concat goes, so the layers below go on from Y only;
 * - torch.cat((h_n[-2], h_n[-1]), 1), a bidirectional one's two directions side by side: the same values as
 *   h_n.transpose(0, 1).reshape(n, -1), which replaces the two Gathers and their Concat.
 */
function foldStackedStates(nodes: OnnxNode[], constants: Map<string, OnnxTensor>, output: string): OnnxNode[] {
  let ix = indexOf(nodes, constants);
  const dropped = new Set<OnnxNode>();
  const both = nodes.flatMap((cat): OnnxNode[] => {
    const [a, b] = cat.inputs.map((i) => ix.producers.get(i));
    const axis = cat.attributes.get('axis')?.i;
    if (cat.opType !== 'Concat' || cat.inputs.length !== 2 || (axis !== 1 && axis !== -1) || !a || !b || a.node.inputs[0] !== b.node.inputs[0]) return [cat];
    const source = a.node.inputs[0];
    const [ka, kb] = [ix.gatherIndex(a.node), ix.gatherIndex(b.node)];
    if (ka === null || kb === null || ix.readers.get(source) !== 2 || ix.readers.get(cat.inputs[0]) !== 1 || ix.readers.get(cat.inputs[1]) !== 1) return [cat];
    if ([source, ...cat.inputs].includes(output)) return [cat];
    const [fa, fb] = [ix.finalState(source, ka), ix.finalState(source, kb)];
    if (!fa || !fb || fa.yh !== fb.yh || fa.dirs !== 2 || fa.k !== 0 || fb.k !== 1) return [cat];
    dropped.add(a.node).add(b.node);
    if (fa.concat) dropped.add(fa.concat);
    const label = cat.name || cat.outputs[0];
    const t = ix.fresh(`${label}:directions`);
    const perm = { name: 'perm', type: 7, floats: [], ints: [1, 0, 2], strings: null };
    return [
      { name: `${label}/transpose`, opType: 'Transpose', domain: '', inputs: [fa.yh], outputs: [t], attributes: new Map([['perm', perm]]) },
      { name: label, opType: 'Reshape', domain: '', inputs: [t, ix.constant(`${label}:shape`, [2], [0, -1])], outputs: cat.outputs.slice(), attributes: new Map() },
    ];
  }).filter((n) => !dropped.has(n));
  ix = indexOf(both, constants);
  const out = both.map((g) => {
    const k = ix.gatherIndex(g);
    if (k === null || g.inputs[0] === output || ix.readers.get(g.inputs[0]) !== 1) return g;
    const f = ix.finalState(g.inputs[0], k);
    if (!f?.concat) return g;
    dropped.add(f.concat);
    const dims = g.inputs[1] && constants.get(g.inputs[1])?.dims.length === 1 ? [1] : [];
    return { ...g, inputs: [f.yh, ix.constant(`${g.inputs[1]}:layer_state`, dims, [f.k]), ...g.inputs.slice(2)] };
  });
  return out.filter((n) => !dropped.has(n));
}

export function nodeLabel(node: OnnxNode): string {
  return `node '${node.name || node.outputs[0] || '?'}' (${node.opType})`;
}

const notChain = (node: OnnxNode, why: string) =>
  new ValueError(`onnx: the graph is not a chain at ${nodeLabel(node)}: ${why}; wasmnn imports chains of nodes, with residual blocks (a fork whose two branches meet in one Add)`);

class Walker {
  constructor(private uses: Map<string, OnnxNode[]>, private data: Set<string>, private constants: Map<string, OnnxTensor>,
    private output: string, private follow: Map<OnnxNode, string>) {}

  /**
   * The items from tensor t on, until the graph's output (end = output) or until an Add of two data tensors that
   * this walk cannot resolve (returned as merge, for the fork that opened the branch). `first` forces the first node.
   */
  walk(t: string, first: OnnxNode | null, depth = 0): { items: Item[]; end: string; merge: OnnxNode | null } {
    if (depth > MAX_NESTING) throw new ValueError(`onnx: residual blocks nested more than ${MAX_NESTING} deep at tensor '${t}'`);
    const items: Item[] = [];
    for (let step = 0; ; step++) {
      const users = step === 0 && first ? [first] : this.uses.get(t) ?? [];
      if (users.length === 0) {
        if (t === this.output) return { items, end: t, merge: null };
        throw new ValueError(`onnx: tensor '${t}' is read by no node and is not the graph's output: the graph is not a chain`);
      }
      if (t === this.output) throw notChain(users[0], `it reads the graph's output '${t}', which must be the chain's end`);
      if (users.length === 1) {
        const node = users[0];
        const dataIn = node.inputs.filter((n) => this.data.has(n));
        if (dataIn.length === 2 && node.opType === 'Add') return { items, end: t, merge: node };
        if (dataIn.length !== 1) throw notChain(node, `it reads ${dataIn.length} tensors computed from the input`);
        if (node.outputs.filter((o) => o !== '').length === 0) throw notChain(node, 'it has no output');
        items.push({ kind: 'node', node });
        t = this.dataOutput(node);
        continue;
      }
      if (users.length > 2) throw notChain(users[2], `tensor '${t}' is read by ${users.length} nodes`);
      const gelu = this.gelu(t, users);
      if (gelu) {
        items.push({ kind: 'gelu', node: gelu });
        t = gelu.outputs[0];
        continue;
      }
      const block = this.residual(t, users, depth);
      items.push(block);
      t = block.add.outputs[0];
    }
  }

  /** A fork at t whose two branches meet in one Add: the longer branch is the block's inner chain. */
  private residual(t: string, users: OnnxNode[], depth: number): Item & { kind: 'residual' } {
    const branches = users.map((u) => (this.directMerge(u, t) ? { items: [] as Item[], end: t, merge: u } : this.walk(t, u, depth + 1)));
    const [a, b] = branches;
    if (!a.merge || !b.merge || a.merge !== b.merge) {
      throw notChain(users[0], `tensor '${t}' forks into branches that do not meet in one Add`);
    }
    const add = a.merge;
    const ins = add.inputs.filter((n) => n !== '');
    if (ins.length !== 2 || !ins.includes(a.end) || !ins.includes(b.end) || (a.end === b.end && a.items.length + b.items.length > 0)) {
      throw notChain(add, `it does not add the two branches that fork at '${t}'`);
    }
    if (add.outputs.length !== 1) throw notChain(add, 'it must have one output');
    // the shortcut is the empty branch, or the one that is a 1x1 convolution (with its batch norm): ResNet's shapes
    const isShortcut = (items: Item[]) => items.length === 0 || (items[0].kind === 'node' && items[0].node.opType === 'Conv' && items.length <= 2);
    const [inner, shortcut] = isShortcut(b.items) && !(isShortcut(a.items) && a.items.length < b.items.length) ? [a.items, b.items] : [b.items, a.items];
    if (inner.length === 0) throw notChain(add, `both branches from '${t}' are empty`);
    return { kind: 'residual', inner, shortcut, add };
  }

  /** Whether node u is an Add that reads t directly (an identity shortcut). */
  private directMerge(u: OnnxNode, t: string): boolean {
    return u.opType === 'Add' && u.inputs.includes(t) && u.inputs.some((n) => n !== t && this.data.has(n));
  }

  private dataOutput(node: OnnxNode): string {
    const outs = node.outputs.filter((o) => o !== '');
    if (ANY_OUTPUT.has(node.opType)) {
      const used = outs.filter((o) => this.uses.has(o) || o === this.output);
      if (used.length !== 1) throw notChain(node, used.length ? `${used.length} of its outputs are used (${used.map((o) => `'${o}'`).join(', ')}); the chain goes on from one` : 'none of its outputs is used');
      this.follow.set(node, used[0]);
      return used[0];
    }
    // Dropout may name its mask output; nothing may read it
    for (const extra of outs.slice(1)) {
      if (this.uses.has(extra) || extra === this.output) throw notChain(node, `its second output '${extra}' is used`);
    }
    return outs[0];
  }

  /**
   * PyTorch's exact GELU, x·½(1 + erf(x/√2)), exported as five nodes: Div(x, √2), Erf, Add(·, 1), Mul(x, ·),
   * Mul(·, ½). Returns the last Mul when the fork at x is that pattern.
   */
  private gelu(x: string, users: OnnxNode[]): OnnxNode | null {
    const div = users.find((u) => u.opType === 'Div' && u.inputs[0] === x && this.scalar(u.inputs[1], Math.SQRT2));
    const mul = users.find((u) => u.opType === 'Mul' && u !== div);
    if (!div || !mul) return null;
    const erf = this.only(div.outputs[0]);
    if (erf?.opType !== 'Erf') return null;
    const add = this.only(erf.outputs[0]);
    if (add?.opType !== 'Add' || !add.inputs.some((n) => this.scalar(n, 1))) return null;
    if (this.only(add.outputs[0]) !== mul || !mul.inputs.includes(x) || !mul.inputs.includes(add.outputs[0])) return null;
    const half = this.only(mul.outputs[0]);
    if (half?.opType !== 'Mul' || !half.inputs.some((n) => this.scalar(n, 0.5))) return null;
    return half;
  }

  /** The single node that reads t, or null. */
  private only(t: string | undefined): OnnxNode | null {
    const u = t === undefined ? undefined : this.uses.get(t);
    return u && u.length === 1 ? u[0] : null;
  }

  private scalar(name: string | undefined, want: number): boolean {
    const t = name === undefined ? undefined : this.constants.get(name);
    if (!t) return false;
    try {
      const v = floatValues(t, `constant '${name}'`);
      return v.length === 1 && Math.abs(v[0] - want) <= 1e-6 * want;
    } catch {
      return false;
    }
  }
}
