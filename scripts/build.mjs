// Builds the runtime: dist/index.js (the library, one ESM file that runs anywhere), dist/infer.js (the inference-only
// edge build), dist/cli.js (the Node CLI),
// and the type declarations. The .wasm is built by `npm run build:wasm` (asc) into dist/ beside them.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const common = { bundle: true, format: 'esm', target: 'es2022', logLevel: 'warning', legalComments: 'none' };

// Each library entry names its declarations in its first line: Deno and JSR pair a JavaScript file with its types so.
const library = (name) => ({ ...common, entryPoints: [`ts/${name}.ts`], outfile: `dist/${name}.js`, platform: 'neutral',
  mainFields: ['module', 'main'], banner: { js: `// @ts-self-types="./${name}.d.ts"` } });
await build(library('index'));
// wasmnn/infer: load and predict only, minified (it loads dist/wasmnn-infer.wasm, built by asc's infer target); the
// layers' blocks labelled `trainingOnly:` (their backward passes) are dropped
await build({ ...library('infer'), minify: true, dropLabels: ['trainingOnly'] });
// wasmnn/infer/generate: generation for wasmnn/infer's models, a file of its own so wasmnn/infer does not grow; it
// throws wasmnn/infer's error classes, imported from dist/infer.js, not bundled again
await build({ ...library('infer-generate'), minify: true, plugins: [{ name: 'infer-errors', setup(b) {
  b.onResolve({ filter: /\/backend\/errors$/ }, () => ({ path: './infer.js', external: true }));
} }] });
await build({ ...library('embedded'), loader: { '.wasm': 'binary' } });
await buildInferEntries();
if (existsSync('ts/cli.ts')) {
  await build({
    ...common,
    entryPoints: ['ts/cli.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    // the CLI uses the library as users get it (dist/index.js through the package's exports); `wasmnn bundle` loads
    // esbuild and binaryen when it runs
    external: ['wasmnn', 'esbuild', 'binaryen'],
    banner: { js: '#!/usr/bin/env node' },
  });
}
/**
 * wasmnn/infer/core and one entry point per layer kind of ts/layers/catalog.ts (wasmnn/infer/layers/dense, ...), each
 * registering its class when imported: built together with code splitting into dist/infer/, so the core, the layer
 * base class and the registry are one module that every kind's file shares (shared code goes to chunk files there).
 * Not minified: a bundler (or `wasmnn bundle`) minifies the whole program; the training-only blocks are dropped.
 * dist/infer/bundle.js (ts/infer-bundle.ts) is built with them, for `wasmnn bundle` only.
 */
async function buildInferEntries() {
  const kinds = await catalogKinds();
  const files = catalogFiles();
  const entry = (className) => `kind:${className}`;
  // bundle.js: what `wasmnn bundle` builds a model's module from (its layer classes without the registry)
  const entryPoints = { 'core': 'ts/infer-core.ts', 'bundle': 'ts/infer-bundle.ts' };
  for (const className of kinds) {
    if (!files[className]) throw new Error(`ts/layers/catalog.ts: ${className} is in LAYERS but not imported by name from a file of ts/layers/`);
    entryPoints[`layers/${kindFile(className)}`] = entry(className);
  }
  rmSync('dist/infer', { recursive: true, force: true });
  await build({
    ...common, entryPoints, outdir: 'dist/infer', splitting: true, chunkNames: 'chunk-[hash]', platform: 'neutral',
    mainFields: ['module', 'main'], dropLabels: ['trainingOnly'],
    plugins: [{
      name: 'layer-kinds',
      setup(b) {
        b.onResolve({ filter: /^kind:/ }, (a) => ({ path: a.path.slice(5), namespace: 'kind' }));
        b.onLoad({ filter: /.*/, namespace: 'kind' }, (a) => ({
          resolveDir: process.cwd(), loader: 'ts',
          contents: `// wasmnn/infer/layers/${kindFile(a.path)}: registers ${a.path} with wasmnn/infer/core's loader when imported.\n` +
            `import { ${a.path} } from './ts/layers/${files[a.path]}';\nimport { registerLayer } from './ts/layers/registry';\n` +
            `registerLayer('${a.path}', (config) => ${a.path}.fromConfig(config));\nexport { ${a.path} };\n`,
        }));
      },
    }],
  });
  for (const className of kinds) {
    writeFileSync(`dist/infer/layers/${kindFile(className)}.d.ts`,
      `// Registers ${className} with wasmnn/infer/core's loader when imported.\nexport { ${className} } from '../../layers/index.js';\n`);
  }
}

/** The class names of ts/layers/catalog.ts's LAYERS (the catalog bundled and imported here: the one list). */
async function catalogKinds() {
  const out = await build({ ...common, entryPoints: ['ts/layers/catalog.ts'], write: false, platform: 'neutral' });
  const { LAYERS } = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].contents).toString('base64')}`);
  return Object.keys(LAYERS);
}

/** Class name -> the file of ts/layers/ it comes from, as catalog.ts imports it (each kind's entry imports only that). */
function catalogFiles() {
  const source = readFileSync('ts/layers/catalog.ts', 'utf8');
  const files = {};
  for (const [, names, file] of source.matchAll(/import\s*{([^}]*)}\s*from\s*'\.\/([\w-]+)'/g)) {
    for (const name of names.split(',').map((n) => n.trim()).filter(Boolean)) files[name] = file;
  }
  return files;
}

/** Conv2D -> conv2d, MaxPooling2D -> max-pooling2d: ts/infer-core.ts's layerEntryPoint() spells them the same way. */
function kindFile(className) {
  return className.replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase().replace(/_/g, '-');
}

// declarations of files that no longer exist must not ship
for (const f of existsSync('dist') ? readdirSync('dist', { recursive: true }) : []) {
  if (f.endsWith('.d.ts') && !f.startsWith(join('infer', 'layers'))) rmSync(join('dist', f));
}
try {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
} catch {
  console.error('type check failed (see above)');
  process.exit(1);
}
fullySpecifyDeclarations('dist');

// The sources import './tensor' (bundler style); Node's ESM resolution (TypeScript's `module: nodenext`) needs the
// file: './tensor.js' for tensor.d.ts, './layers/index.js' for a folder. Rewritten in the emitted .d.ts only, so they
// type-check under nodenext and bundler, and in Deno through the npm package; for JSR, deno.json's sloppy imports let
// `deno publish` turn './tensor.js' into './tensor.d.ts'. A specifier that names no declaration file stops the build.
function fullySpecifyDeclarations(dir) {
  const files = readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.d.ts')).map((f) => join(dir, f));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const specifier = /(\bfrom\s*|\bimport\s*|\bimport\(\s*)(['"])(\.\.?\/[^'"]*)\2/g; // from './x', import('../y')
    const fixed = text.replace(specifier, (all, lead, quote, spec) => {
      const target = join(dirname(file), spec);
      const base = spec.endsWith('.js') ? spec.slice(0, -3) : spec;
      if (existsSync(join(dirname(file), `${base}.d.ts`))) return `${lead}${quote}${base}.js${quote}`;
      if (existsSync(join(target, 'index.d.ts'))) return `${lead}${quote}${spec.replace(/\/$/, '')}/index.js${quote}`;
      throw new Error(`${file}: '${spec}' names no declaration file`);
    });
    if (fixed !== text) writeFileSync(file, fixed);
  }
}
