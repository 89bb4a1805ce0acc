// `wasmnn bundle MODEL.wnn --out DIR`: one model as a ready ES module for the edge. The JavaScript is wasmnn/infer/core
// and the entry points of the model's layer kinds only (dist/infer/, bundled and minified by esbuild); the module is
// dist/wasmnn-infer.wasm with every export but the kernels that JavaScript calls removed, and the code only they
// reached dropped (Binaryen's remove-unused-module-elements, then its size optimisations). The same kernels' code and
// the same layer classes as the library's, so predictions have the same bits.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import * as nn from 'wasmnn';
import { MissingPackageError } from './dataset';
import { layerKinds, readTopology } from './model-file';

export interface BundleOptions {
  model: string;
  out: string;
  /** The weights inside the JavaScript (base64): load() needs no argument and fetches nothing. */
  embedWeights: boolean;
  /** The module's bytes inside the JavaScript: one file (besides the weights, unless embedded). */
  singleFile: boolean;
  /** The file names' stem: DIR/NAME.js, NAME.wasm, NAME.wnn. */
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
  const kinds = layerKinds(readTopology(bytes));
  // the deployment checkpoint: topology and weights, in the encoding they were saved in, no optimiser state
  const weights = model.save({ includeOptimizer: false, weights: nn.checkpointInfo(bytes).weights });
  model.dispose();

  const { build } = await optional<typeof import('esbuild')>('esbuild');
  mkdirSync(opts.out, { recursive: true });
  const weightsFile = join(opts.out, `${opts.name}.wnn`);
  const wasmFile = join(opts.out, `${opts.name}.wasm`);
  const scratch = join(opts.out, `.${opts.name}.weights.bin`);
  if (opts.embedWeights) writeFileSync(scratch, weights);
  const entry = entrySource(kinds, opts, scratch);
  const result = await build({
    stdin: { contents: entry, resolveDir: DIST, sourcefile: `${opts.name}.entry.js`, loader: 'js' },
    bundle: true, format: 'esm', target: 'es2022', platform: 'neutral', minify: true, legalComments: 'none',
    write: false, logLevel: 'warning', loader: { '.wasm': 'binary', '.bin': 'binary' },
    banner: { js: `// ${opts.name}.js: ${basename(opts.model)} for the edge (wasmnn bundle): await load(weights?), then predict(x)` },
  });
  const js = result.outputFiles[0].contents;
  const pruned = await pruneModule(readFileSync(join(DIST, 'wasmnn-infer.wasm')), calledKernels(js));
  let code = js;
  if (opts.singleFile) {
    // the module's bytes inlined the way esbuild's binary loader would: the JS is bundled again with them
    writeFileSync(wasmFile, pruned.bytes);
    const again = await build({
      stdin: { contents: entrySource(kinds, opts, scratch, wasmFile), resolveDir: DIST, sourcefile: `${opts.name}.entry.js`, loader: 'js' },
      bundle: true, format: 'esm', target: 'es2022', platform: 'neutral', minify: true, legalComments: 'none',
      write: false, logLevel: 'warning', loader: { '.wasm': 'binary', '.bin': 'binary' },
      banner: { js: `// ${opts.name}.js: ${basename(opts.model)} for the edge (wasmnn bundle): await load(weights?), then predict(x)` },
    });
    code = again.outputFiles[0].contents;
  }
  const jsFile = join(opts.out, `${opts.name}.js`);
  writeFileSync(jsFile, code);
  const { rmSync } = await import('node:fs');
  rmSync(scratch, { force: true });
  if (opts.singleFile) rmSync(wasmFile, { force: true });
  else writeFileSync(wasmFile, pruned.bytes);
  if (!opts.embedWeights) writeFileSync(weightsFile, weights);
  return {
    kinds, kernels: pruned.kernels,
    js: measure(jsFile, code),
    wasm: opts.singleFile ? null : measure(wasmFile, pruned.bytes),
    weights: opts.embedWeights ? null : measure(weightsFile, weights),
  };
}

/** The bundle's entry: the core, one import per layer kind, and the two-call API over one model. */
function entrySource(kinds: string[], opts: BundleOptions, weightsPath: string, wasmPath?: string): string {
  const lines = [
    `import { ready, loadModel, tensor, Tensor, ShapeError, StateError } from './infer/core.js';`,
    ...kinds.map((k) => `import './infer/layers/${kindFile(k)}.js';`),
    wasmPath ? `import wasm from ${JSON.stringify(wasmPath)};` : `const wasm = new URL('./${opts.name}.wasm', import.meta.url);`,
    opts.embedWeights ? `import embedded from ${JSON.stringify(weightsPath)};` : `const embedded = null;`,
    `import { checkpointBytes } from './infer/core.js';`,
    `let model = null;`,
    `/** Loads the model's weights: bytes, a URL or a path (by default ${opts.embedWeights ? 'the ones inside this file' : `${opts.name}.wnn beside this file`}). */`,
    `export async function load(weights = embedded ?? new URL('./${opts.name}.wnn', import.meta.url)) {`,
    `  const bytes = weights instanceof Uint8Array || weights instanceof ArrayBuffer ? weights : await checkpointBytes(weights);`,
    `  await ready({ wasm });`,
    `  const next = loadModel(bytes);`,
    `  model?.dispose();`,
    `  model = next;`,
    `}`,
    `/** The model's outputs for x: one sample or a batch (a Tensor, or numbers in row-major order), as { data, shape }. */`,
    `export function predict(x) {`,
    `  if (!model) throw new StateError('call await load() before predict()');`,
    `  if (x instanceof Tensor) return model.predict(x);`,
    `  const per = model.inputShape.reduce((a, b) => a * b, 1);`,
    `  const n = x?.length ?? 0;`,
    `  if (!n || n % per) throw new ShapeError(\`predict takes samples of \${per} numbers (input shape [\${model.inputShape}]), got \${n}\`);`,
    `  return model.predict(tensor(x instanceof Float32Array ? x : Float32Array.from(x), [n / per, ...model.inputShape]));`,
    `}`,
    `/** The model's input and output shapes (after load). */`,
    `export const shapes = () => ({ input: model?.inputShape, output: model?.outputShape });`,
  ];
  return lines.join('\n');
}

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
    `  ${'code (JS + wasm, weights apart)'.padEnd(40)} ${kb(sum('bytes')).padStart(9)} ${kb(sum('gzip')).padStart(9)} ${kb(sum('brotli')).padStart(9)}`,
    ...(r.weights ? [row(r.weights)] : ['  the weights are inside the JavaScript']),
  ].join('\n');
}
