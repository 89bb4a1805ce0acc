// Where the edge build's bytes go: each source file's share of the minified dist/infer.js (esbuild's metafile, the
// same bundle options as scripts/build.mjs's infer build), and each function's share of the inference module (asc's
// infer target built once more with names, to build/wasmnn-infer.names.wasm; the names are not in dist's file).
// Usage: node bench/edge-size.mjs   (after npm run build)
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const result = await build({
  bundle: true, format: 'esm', target: 'es2022', logLevel: 'warning', legalComments: 'none', platform: 'neutral',
  mainFields: ['module', 'main'], minify: true, dropLabels: ['trainingOnly'], entryPoints: ['ts/infer.ts'], outfile: 'dist/infer.js',
  metafile: true, write: false,
});
const js = result.outputFiles[0].contents;
const inputs = Object.entries(Object.values(result.metafile.outputs)[0].inputs).filter(([, v]) => v.bytesInOutput > 0);
console.log(`dist/infer.js: ${js.length} bytes minified, ${gzipSync(js, { level: 9 }).length} gzip -9`);
for (const [file, { bytesInOutput }] of inputs.sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)) {
  console.log(`  ${String(bytesInOutput).padStart(6)}  ${file}`);
}

const shipped = readFileSync('dist/wasmnn-infer.wasm');
mkdirSync('build', { recursive: true });
const named = 'build/wasmnn-infer.names.wasm';
execFileSync(process.execPath, ['node_modules/assemblyscript/bin/asc.js', 'assembly/infer.ts', '--target', 'infer', '--debug', '-o', named], { stdio: 'ignore' });
const wasm = readFileSync(named);
let p = 8;
const leb = () => {
  let value = 0, shift = 0, byte;
  do {
    byte = wasm[p++];
    value |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  return value >>> 0;
};
const text = (n) => wasm.subarray(p, (p += n)).toString();
const sizes = [], names = {};
while (p < wasm.length) {
  const id = wasm[p++], length = leb(), end = p + length;
  if (id === 10) {
    for (let n = leb(), i = 0; i < n; i++) {
      const size = leb();
      sizes.push(size);
      p += size;
    }
  } else if (id === 0 && text(leb()) === 'name') {
    while (p < end) {
      const sub = wasm[p++], subEnd = leb() + p;
      if (sub === 1) for (let n = leb(), i = 0; i < n; i++) names[leb()] = text(leb());
      p = subEnd;
    }
  }
  p = end;
}
const code = sizes.reduce((a, b) => a + b, 0);
console.log(`dist/wasmnn-infer.wasm: ${shipped.length} bytes, ${gzipSync(shipped, { level: 9 }).length} gzip -9; function bodies ${code} bytes:`);
for (const [size, i] of sizes.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0])) {
  console.log(`  ${String(size).padStart(6)}  ${(names[i] ?? `function ${i}`).replace(/^assembly\//, '')}`);
}
