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
await build({ ...library('embedded'), loader: { '.wasm': 'binary' } });
if (existsSync('ts/cli.ts')) {
  await build({
    ...common,
    entryPoints: ['ts/cli.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    external: ['wasmnn'], // the CLI uses the library as users get it: dist/index.js through the package's exports
    banner: { js: '#!/usr/bin/env node' },
  });
}
// declarations of files that no longer exist must not ship
for (const f of existsSync('dist') ? readdirSync('dist', { recursive: true }) : []) {
  if (f.endsWith('.d.ts')) rmSync(join('dist', f));
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
