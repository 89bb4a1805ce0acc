// `wasmnn bundle MODEL.wnn --out DIR`: one model as a ready ES module for the edge. The JavaScript is the bundle core
// (dist/infer/bundle.js: network, memory planner, predict loop, Tensor, errors) and the classes of the model's layer
// kinds, which make its layers from configs written into the module; esbuild bundles and minifies it, leaves out code
// the model never reaches (labelled statements) and shortens internal names. The module is dist/wasmnn-infer.wasm cut
// down to the kernels that JavaScript calls (prune-module.ts). The same kernels' code and the same layer classes as
// the library's, so predictions have the same bits.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import * as nn from 'wasmnn';
import { activationCodes, optional, pruneModule } from './prune-module';
import { layerKinds, readTopology, type Topology } from './model-file';

export interface BundleOptions {
  model: string;
  out: string;
  /** The weights inside the JavaScript (base64): load() needs no argument and fetches nothing. */
  embedWeights: boolean;
  /** The module's bytes inside the JavaScript: one file (besides the weights, unless embedded). */
  singleFile: boolean;
  /** The file names' stem: DIR/NAME.js, NAME.wasm, NAME.weights.bin. */
  name: string;
}

export interface BundleFile {
  path: string;
  bytes: number;
  gzip: number;
  brotli: number;
}

export interface BundleResult {
  kinds: string[];
  kernels: string[];
  js: BundleFile;
  wasm: BundleFile | null;
  weights: BundleFile | null;
}

// the package's built files, beside this CLI (dist/cli.js)
const DIST = fileURLToPath(new URL('.', import.meta.url));

export async function bundle(opts: BundleOptions): Promise<BundleResult> {
  const bytes = new Uint8Array(readFileSync(opts.model));
  await nn.ready();
  const model = nn.loadModel(bytes); // every check of the library's loader, before anything is written
  const { topology, weights } = deployable(model, readTopology(bytes));
  const activations = activationCodes(model);
  model.dispose();
  const kinds = layerKinds(topology);

  const { build } = await optional<typeof import('esbuild')>('esbuild');
  mkdirSync(opts.out, { recursive: true });
  const out = resolve(opts.out); // the entry imports the embedded files by absolute path
  const files = {
    js: join(out, `${opts.name}.js`), wasm: join(out, `${opts.name}.wasm`), weights: join(out, `${opts.name}.weights.bin`),
  };
  writeFileSync(files.weights, weights); // embedded weights are read from here by esbuild, then the file goes
  // the kernels' names are shortened with the members' (the module's exports renamed to match), and the second build
  // (the module inlined) takes the first one's names
  const module = readFileSync(join(DIST, 'wasmnn-infer.wasm'));
  const exported = WebAssembly.Module.exports(new WebAssembly.Module(module)).filter((e) => e.kind === 'function').map((e) => e.name);
  // code the model never reaches: the open-steps path of a model whose steps are fixed, and the layers' getConfig
  // (statements labelled savingOnly:) unless a layer of the bundle calls it (a wrapper copies its layer's config), and
  // the attention layers' KV-cache steps (labelled generationOnly: a bundle predicts, it does not generate)
  const openSteps = (topology.layers[0].config.inputShape as unknown[] | undefined)?.[0] === null;
  let dropLabels = [...(openSteps ? [] : ['openSteps']), 'savingOnly', 'generationOnly'];
  let mangleCache: Record<string, string | false> = {};
  const bundleJs = async (wasmInline: boolean) => {
    const result = await build({
      stdin: { contents: entrySource(topology, opts, files, wasmInline), resolveDir: DIST, sourcefile: `${opts.name}.entry.js`, loader: 'js' },
      bundle: true, format: 'esm', target: 'es2022', platform: 'neutral', minify: true, legalComments: 'none', dropLabels,
      mangleProps: internalProperties(topology, exported), mangleCache, write: false, logLevel: 'warning',
      loader: { '.wasm': 'binary', '.bin': 'binary' },
    });
    mangleCache = result.mangleCache ?? {};
    return result.outputFiles[0].contents;
  };
  let js = await bundleJs(false);
  if (calls(js, mangleCache.getConfig)) {
    dropLabels = dropLabels.filter((label) => label !== 'savingOnly');
    mangleCache = {};
    js = await bundleJs(false);
  }
  const called = namedKernels(js, exported, mangleCache);
  const pruned = await pruneModule(module, called, activations);
  writeFileSync(files.wasm, pruned.bytes);
  if (opts.singleFile) {
    js = await bundleJs(true); // the module's bytes inlined (esbuild's binary loader), the same code around them
    rmSync(files.wasm);
  }
  if (opts.embedWeights) rmSync(files.weights);
  writeFileSync(files.js, js);
  return {
    kinds, kernels: pruned.kernels,
    js: measure(files.js, js),
    wasm: opts.singleFile ? null : measure(files.wasm, pruned.bytes),
    weights: opts.embedWeights ? null : measure(files.weights, weights),
  };
}

/**
 * The topology the bundle holds and its weights file. Layers that are the identity at inference (no parameters, a
 * pass-through outside training, the same shape out as in: dropout, random augmentation) are left out: the network
 * would only copy through them. The weights: float32 little-endian in the topology's order (wasmnn/infer/core's
 * assembleModel writes them into module memory as they are and checks them there).
 */
function deployable(model: nn.Sequential, saved: Topology): { topology: Topology; weights: Uint8Array } {
  const layers = model.network.layers;
  const kept = saved.layers.filter((_, i) => !identityAtInference(layers[i]));
  if (kept.length === 0) kept.push(saved.layers[0]);
  if (kept[0] !== saved.layers[0]) kept[0] = { ...kept[0], config: { ...kept[0].config, inputShape: saved.inputShape } };
  const params = layers.flatMap((l) => l.params);
  const floats = params.reduce((a, p) => a + p.size, 0);
  const weights = new Uint8Array(floats * 4);
  const heap = model.network.env.heap;
  let at = 0;
  for (const p of params) {
    weights.set(heap.u8.subarray(p.ptr, p.ptr + p.size * 4), at);
    at += p.size * 4;
  }
  return { topology: { ...saved, layers: kept, compile: null, iterations: 0 }, weights };
}

/** A layer the network only copies through at inference: no parameters, a pass-through, the same shape out as in. */
export function identityAtInference(layer: nn.layers.Layer): boolean {
  const a = layer.inputShape, b = layer.outputShape;
  return layer.params.length === 0 && layer.passThrough(false) && !!a && a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The bundle's entry: the bundle core (dist/infer/bundle.js), the model's layers made by their classes from the
 * smallest configs that make the same layers (slimConfig), and the two-call API over one model. Kinds that only
 * appear inside another layer (a residual block's) are made by that layer's fromConfig through the registry, so
 * their registering entry points are imported too.
 */
function entrySource(topology: Topology, opts: BundleOptions, files: { wasm: string; weights: string }, wasmInline: boolean): string {
  const name = JSON.stringify(opts.name);
  const top = [...new Set(topology.layers.map((l) => l.className))];
  const nested = layerKinds({ layers: topology.layers.flatMap((l) => innerSaved(l.config)) });
  const make = topology.layers.map((l) => `${l.className}.fromConfig(${JSON.stringify(slimConfig(l.className, l.config))})`);
  return [
    `// ${opts.name}.js: ${basename(opts.model)} for the edge (wasmnn bundle): await load(), then predict(x)`,
    `import { ready, assembleLayers, tensor, Tensor, ShapeError, StateError, ValueError, ${top.join(', ')} } from './infer/bundle.js';`,
    ...nested.map((k) => `import './infer/layers/${kindFile(k)}.js';`),
    wasmInline ? `import wasm from ${JSON.stringify(files.wasm)};` : `const wasm = new URL('./${opts.name}.wasm', import.meta.url);`,
    opts.embedWeights ? `import embedded from ${JSON.stringify(files.weights)};` : `const embedded = undefined;`,
    `const MODEL = ${JSON.stringify(topology.name)}, SEED = ${JSON.stringify(topology.seed)}, INPUT = ${JSON.stringify(topology.inputShape)};`,
    `const layers = () => [${make.join(', ')}];`,
    `let model;`,
    BUNDLE_RUNTIME.replace(/NAME/g, name).replace('WEIGHTS_FILE', `./${opts.name}.weights.bin`),
  ].join('\n');
}

/** The layers saved inside a layer's config ({ className, config } entries at any depth: a residual block's). */
function innerSaved(config: unknown): Topology['layers'] {
  if (Array.isArray(config)) return config.flatMap(innerSaved);
  if (config === null || typeof config !== 'object') return [];
  const o = config as Record<string, unknown>;
  if (typeof o.className === 'string' && o.config && typeof o.config === 'object') return [o as unknown as Topology['layers'][number]];
  return Object.values(o).flatMap(innerSaved);
}

/**
 * The config the bundle makes a layer from: the saved one without the keys whose absence changes nothing (the class
 * makes a layer whose getConfig() is the saved config again: the defaults), and without its regularisers (penalties
 * of training only). Checked here with the library's classes, key by key.
 */
export function slimConfig(className: string, saved: Record<string, unknown>): Record<string, unknown> {
  const C = (nn.layers as unknown as Record<string, { fromConfig(c: Record<string, unknown>): nn.layers.Layer }>)[className];
  const inference = Object.fromEntries(Object.entries(saved).filter(([key]) => !key.endsWith('Regularizer')));
  const same = (config: Record<string, unknown>) => {
    try {
      const again = C.fromConfig(config).getConfig();
      return JSON.stringify(sorted(Object.fromEntries(Object.entries(again).filter(([key]) => !key.endsWith('Regularizer'))))) === JSON.stringify(sorted(inference));
    } catch {
      return false;
    }
  };
  if (!C || !same(inference)) return inference;
  let slim = inference;
  for (const key of Object.keys(inference)) {
    if (key === 'name') continue;
    const { [key]: _, ...without } = slim;
    if (same(without)) slim = without;
  }
  return slim;
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
}

// The two calls (plain JavaScript, bundled as it is): NAME and WEIGHTS_FILE are filled in.
const BUNDLE_RUNTIME = `
/** Loads the weights (bytes, a URL, or a file path outside the browser; by default the file beside this one, or
 *  the ones inside it) and the module; a later load replaces the model. */
export async function load(weights = embedded ?? new URL('WEIGHTS_FILE', import.meta.url)) {
  const bytes = await bytesOf(weights);
  await ready(wasm);
  const next = assembleLayers(MODEL, layers(), INPUT, SEED, bytes);
  model?.dispose();
  model = next;
}

/** The outputs for x (a Tensor, or one or more samples' numbers in row-major order) as { data, shape }. */
export function predict(x) {
  if (!model) throw new StateError(\`\${NAME}: call await load() before predict()\`);
  if (x instanceof Tensor) return model.predict(x);
  const per = INPUT.reduce((a, b) => a * b, 1);
  const n = x?.length;
  if (!n || n % per) throw new ShapeError(\`\${NAME}: predict takes samples of \${per} numbers (input shape [\${INPUT}]), got \${n ?? x}\`);
  return model.predict(tensor(x instanceof Float32Array ? x : Float32Array.from(x), [n / per, ...INPUT]));
}

/** The input shape of one sample, and the output shape. */
export const inputShape = INPUT;

async function bytesOf(source) {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  const g = globalThis;
  const local = g.Deno || g.process?.versions?.node;
  const url = source instanceof URL ? source : /^[a-z][a-z\\d+.-]+:/i.test(source) || !local ? new URL(source, g.location?.href) : null;
  if (local && (!url || url.protocol === 'file:')) {
    const fs = 'node:fs/promises';
    return new Uint8Array(g.Deno ? await g.Deno.readFile(url ?? source) : await (await import(fs)).readFile(url ?? source));
  }
  const response = await fetch(url);
  if (!response.ok) throw new ValueError(\`\${NAME}: could not fetch the weights from \${url}: HTTP \${response.status}\`);
  return new Uint8Array(await response.arrayBuffer());
}
`;

/**
 * Members of wasmnn's layers, network and memory planner that only its own code reads or writes, by a literal name
 * (never through a string, nor from outside a bundle): esbuild shortens them in a bundle. Public members (a Tensor's,
 * an error's) and configuration keys are not among them; a name that is also a key of the bundle's layer configs is
 * left whole (the configs are written as JSON, whose quoted keys esbuild keeps). The kernels' names (the module's
 * function exports) are shortened too, and the pruned module's exports renamed to match.
 */
const INTERNAL_PROPERTIES = [
  'configuredInputShape', 'fusedActivation', 'variableSteps', 'outputShape', 'outputSize', 'inputSize', 'paramCount',
  'params', 'passThrough', 'outputMask', 'keepsMask', 'pairWith', 'forwardPair', 'backwardPair', 'addParam', 'paramInit',
  'checkInput', 'getConfig', 'logits', 'reserve', 'forward', 'backward', 'initializer', 'regularizer', 'fanIn', 'fanOut',
  'ptr', 'grad', 'env', 'heap', 'directForward', 'reluOnly', 'chunkRows', 'pixels', 'patch', 'geo', 'block', 'opts', 'act',
  'direct', 'pool', 'unpool', 'mode', 'twoByTwo', 'argmax', 'lastDim', 'positions', 'features', 'capacity', 'outputs', 'grads',
  'buffers', 'lossGrad', 'stateBlock', 'paired', 'owned', 'inferenceRows', 'isDisposed', 'allocAll', 'outputLayer',
  'useSteps', 'network', 'plan', 'check', 'training', 'padBefore', 'padTop', 'padLeft', 'kernelInit', 'biasInit',
  'kernelInitName', 'biasInitName', 'kernelReg', 'biasReg', 'inits', 'runningMean', 'runningVar', 'invstd', 'alloc',
  'release', 'trains',
];

function internalProperties(topology: Topology, kernels: string[]): RegExp {
  const keys = new Set<string>();
  const visit = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') for (const [key, value] of Object.entries(v)) keys.add(key), visit(value);
  };
  visit(topology.layers);
  return new RegExp(`^(${[...INTERNAL_PROPERTIES, ...kernels].filter((name) => !keys.has(name)).join('|')})$`);
}

/** The kernels the bundled JavaScript reads (`k.<short name>`), each with its short name. */
function namedKernels(js: Uint8Array, exported: string[], mangleCache: Record<string, string | false>): Map<string, string> {
  const named = new Map<string, string>();
  for (const name of exported) {
    // (a kernel whose name is also a config key keeps it)
    const short = mangleCache[name];
    const as = typeof short === 'string' ? short : name;
    if (calls(js, as)) named.set(name, as);
  }
  return named;
}

/** Whether the bundled JavaScript reads a member of this (shortened) name: `.name` not followed by more of a name. */
function calls(js: Uint8Array, member: string | false | undefined): boolean {
  return typeof member === 'string' && new RegExp(`\\.${member.replace(/\$/g, '\\$')}(?![\\w$])`).test(new TextDecoder().decode(js));
}

/** Conv2D -> conv2d, MaxPooling2D -> max-pooling2d: the file names scripts/build.mjs gives the kinds' entry points. */
export function kindFile(className: string): string {
  return className.replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase().replace(/_/g, '-');
}

function measure(path: string, bytes: Uint8Array): BundleFile {
  return {
    path, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** What `wasmnn bundle` prints. */
export function bundleReport(r: BundleResult, cwd = process.cwd()): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const row = (f: BundleFile) => `  ${relative(cwd, f.path).padEnd(40)} ${kb(f.bytes).padStart(9)} ${kb(f.gzip).padStart(9)} ${kb(f.brotli).padStart(9)}`;
  const code = [r.js, ...(r.wasm ? [r.wasm] : [])];
  const sum = (k: 'bytes' | 'gzip' | 'brotli') => code.reduce((a, f) => a + f[k], 0);
  return [
    `layer kinds: ${r.kinds.join(', ')}`,
    `kernels: ${r.kernels.join(', ')}`,
    `  ${'file'.padEnd(40)} ${'raw'.padStart(9)} ${'gzip'.padStart(9)} ${'brotli'.padStart(9)}`,
    ...code.map(row),
    `  ${(r.weights ? 'code (JS + wasm, weights apart)' : 'in all (the weights inside)').padEnd(40)} ${kb(sum('bytes')).padStart(9)} ${kb(sum('gzip')).padStart(9)} ${kb(sum('brotli')).padStart(9)}`,
    ...(r.weights ? [row(r.weights)] : ['  the weights are inside the JavaScript']),
  ].join('\n');
}
