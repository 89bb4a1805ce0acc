// `wasmnn bundle MODEL.wnn --out DIR`: one model as a ready ES module for the edge. The JavaScript is wasmnn/infer/core
// and the entry points of the model's layer kinds only (dist/infer/, bundled and minified by esbuild); the module is
// dist/wasmnn-infer.wasm with every export but the kernels that JavaScript calls removed, and the code only they
// reached dropped (Binaryen's remove-unused-module-elements, then its size optimisations). The same kernels' code and
// the same layer classes as the library's, so predictions have the same bits.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import * as nn from 'wasmnn';
import { MissingPackageError } from './dataset';
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
  model.dispose();
  const kinds = layerKinds(topology);

  const { build } = await optional<typeof import('esbuild')>('esbuild');
  mkdirSync(opts.out, { recursive: true });
  const out = resolve(opts.out); // the entry imports the embedded files by absolute path
  const files = {
    js: join(out, `${opts.name}.js`), wasm: join(out, `${opts.name}.wasm`), weights: join(out, `${opts.name}.weights.bin`),
  };
  writeFileSync(files.weights, weights); // embedded weights are read from here by esbuild, then the file goes
  const bundleJs = async (wasmInline: boolean) => (await build({
    stdin: { contents: entrySource(topology, kinds, opts, files, wasmInline), resolveDir: DIST, sourcefile: `${opts.name}.entry.js`, loader: 'js' },
    bundle: true, format: 'esm', target: 'es2022', platform: 'neutral', minify: true, legalComments: 'none',
    write: false, logLevel: 'warning', loader: { '.wasm': 'binary', '.bin': 'binary' },
  })).outputFiles[0].contents;
  let js = await bundleJs(false);
  const pruned = await pruneModule(readFileSync(join(DIST, 'wasmnn-infer.wasm')), calledKernels(js));
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

/** The bundle's entry: the core, one import per layer kind, the topology, and the two-call API over one model. */
function entrySource(topology: Topology, kinds: string[], opts: BundleOptions, files: { wasm: string; weights: string }, wasmInline: boolean): string {
  const name = JSON.stringify(opts.name);
  return [
    `// ${opts.name}.js: ${basename(opts.model)} for the edge (wasmnn bundle): await load(), then predict(x)`,
    `import { ready, assembleModel, tensor, Tensor, ShapeError, StateError, ValueError } from './infer/core.js';`,
    ...kinds.map((k) => `import './infer/layers/${kindFile(k)}.js';`),
    wasmInline ? `import wasm from ${JSON.stringify(files.wasm)};` : `const wasm = new URL('./${opts.name}.wasm', import.meta.url);`,
    opts.embedWeights ? `import embedded from ${JSON.stringify(files.weights)};` : `const embedded = undefined;`,
    `const TOPOLOGY = ${JSON.stringify(topology)};`,
    `let model;`,
    BUNDLE_RUNTIME.replace(/NAME/g, name).replace('WEIGHTS_FILE', `./${opts.name}.weights.bin`),
  ].join('\n');
}

// The two calls (plain JavaScript, bundled as it is): NAME and WEIGHTS_FILE are filled in.
const BUNDLE_RUNTIME = `
/** Loads the weights (bytes, a URL, or a file path outside the browser; by default the file beside this one, or
 *  the ones inside it) and the module; a later load replaces the model. */
export async function load(weights = embedded ?? new URL('WEIGHTS_FILE', import.meta.url)) {
  const bytes = await bytesOf(weights);
  await ready({ wasm });
  const next = assembleModel(TOPOLOGY, bytes);
  model?.dispose();
  model = next;
}

/** The outputs for x (a Tensor, or one or more samples' numbers in row-major order) as { data, shape }. */
export function predict(x) {
  if (!model) throw new StateError(\`\${NAME}: call await load() before predict()\`);
  if (x instanceof Tensor) return model.predict(x);
  const per = TOPOLOGY.inputShape.reduce((a, b) => a * b, 1);
  const n = x?.length;
  if (!n || n % per) throw new ShapeError(\`\${NAME}: predict takes samples of \${per} numbers (input shape [\${TOPOLOGY.inputShape}]), got \${n ?? x}\`);
  return model.predict(tensor(x instanceof Float32Array ? x : Float32Array.from(x), [n / per, ...TOPOLOGY.inputShape]));
}

/** The input shape of one sample, and the output shape. */
export const inputShape = TOPOLOGY.inputShape;

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

/** Names of the module's exports that the bundled JavaScript calls (`k.gemm_nn(...)`). */
function calledKernels(js: Uint8Array): Set<string> {
  const text = new TextDecoder().decode(js);
  const called = new Set<string>();
  for (const m of text.matchAll(/\.([a-z][a-z0-9_]*)\(/g)) called.add(m[1]);
  return called;
}

/** The module with only `keep`'s kernels (and its memory, heap_base) exported, and what only the others used removed. */
async function pruneModule(wasm: Uint8Array, keep: Set<string>): Promise<{ bytes: Uint8Array; kernels: string[] }> {
  const binaryen = (await optional<typeof import('binaryen')>('binaryen')).default;
  const mod = binaryen.readBinary(wasm);
  try {
    mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.SignExt |
      binaryen.Features.NontrappingFPToInt | binaryen.Features.MutableGlobals | binaryen.Features.BulkMemory);
    const kernels: string[] = [];
    for (let i = mod.getNumExports() - 1; i >= 0; i--) {
      const info = binaryen.getExportInfo(mod.getExportByIndex(i));
      if (info.kind !== binaryen.ExternalFunction || info.name === 'heap_base') continue;
      if (keep.has(info.name)) kernels.push(info.name);
      else mod.removeExport(info.name);
    }
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(2);
    mod.runPasses(['remove-unused-module-elements']);
    mod.optimize();
    if (!mod.validate()) throw new Error('the pruned module does not validate');
    return { bytes: mod.emitBinary(), kernels: kernels.sort() };
  } finally {
    mod.dispose();
  }
}

/** A package the bundler needs at bundle time only (esbuild, binaryen): a clear line when it is missing. */
async function optional<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new MissingPackageError(`wasmnn bundle builds with the npm packages esbuild and binaryen, and ${name} is not installed: run 'npm install --save-dev esbuild binaryen'`);
  }
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
