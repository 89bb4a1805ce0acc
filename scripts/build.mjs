// Builds the runtime: dist/index.js (the library, one ESM file that runs anywhere), dist/infer.js (the inference-only
// edge build), dist/cli.js (the Node CLI),
// and the type declarations. The .wasm is built by `npm run build:wasm` (asc) into dist/ beside them.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const common = { bundle: true, format: 'esm', target: 'es2022', logLevel: 'warning', legalComments: 'none' };

await build({ ...common, entryPoints: ['ts/index.ts'], outfile: 'dist/index.js', platform: 'neutral', mainFields: ['module', 'main'] });
// wasmnn/infer: load and predict only, minified (it loads dist/wasmnn-infer.wasm, built by asc's infer target); the
// layers' blocks labelled `trainingOnly:` (their backward passes) are dropped
await build({ ...common, entryPoints: ['ts/infer.ts'], outfile: 'dist/infer.js', platform: 'neutral', mainFields: ['module', 'main'], minify: true, dropLabels: ['trainingOnly'] });
await build({ ...common, entryPoints: ['ts/embedded.ts'], outfile: 'dist/embedded.js', platform: 'neutral', mainFields: ['module', 'main'], loader: { '.wasm': 'binary' } });
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
try {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
} catch {
  console.error('type check failed (see above)');
  process.exit(1);
}
