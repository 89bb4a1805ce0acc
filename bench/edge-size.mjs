// Where the edge build's bytes go: each source file's share of the minified dist/infer.js (esbuild's metafile, the
// same bundle options as scripts/build.mjs's infer build), and each function's share of the inference module (asc's
// infer target built once more with names, to build/wasmnn-infer.names.wasm; the names are not in dist's file). Then
// the same build without the sequence layers (recurrent, wrappers, embedding, position, attention, transformer: the
// catalog rewritten without them, the module pruned to the kernels the rest calls, as `wasmnn bundle` prunes it),
// which tells their share of wasmnn/infer from the rest's.
// Usage: node bench/edge-size.mjs   (after npm run build)
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import binaryen from 'binaryen';

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

// the share of the sequence layers: wasmnn/infer built without them
const SEQUENCE_FILES = ['recurrent', 'wrappers', 'embedding', 'position', 'attention', 'transformer'];
const catalog = readFileSync('ts/layers/catalog.ts', 'utf8');
const dropped = [];
const reduced = catalog.replace(/import\s*{([^}]*)}\s*from\s*'\.\/([\w-]+)';\n/g, (line, names, file) => {
  if (!SEQUENCE_FILES.includes(file)) return line;
  dropped.push(...names.split(',').map((n) => n.trim()).filter(Boolean));
  return '';
}).replace(/^  (\w+),\n/gm, (row, name) => (dropped.includes(name) ? '' : row));
const without = await build({
  bundle: true, format: 'esm', target: 'es2022', logLevel: 'warning', legalComments: 'none', platform: 'neutral',
  mainFields: ['module', 'main'], minify: true, dropLabels: ['trainingOnly'], entryPoints: ['ts/infer.ts'], write: false,
  plugins: [{ name: 'catalog-without-sequences', setup(b) {
    b.onLoad({ filter: /layers[\\/]catalog\.ts$/ }, () => ({ contents: reduced, loader: 'ts' }));
  } }],
});
const jsWithout = without.outputFiles[0].contents;
const calls = new Set([...new TextDecoder().decode(jsWithout).matchAll(/\.([a-z][a-z0-9_]*)\(/g)].map((m) => m[1]));
const mod = binaryen.readBinary(shipped);
mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.SignExt | binaryen.Features.NontrappingFPToInt |
  binaryen.Features.MutableGlobals | binaryen.Features.BulkMemory);
for (let i = mod.getNumExports() - 1; i >= 0; i--) {
  const info = binaryen.getExportInfo(mod.getExportByIndex(i));
  if (info.kind === binaryen.ExternalFunction && info.name !== 'heap_base' && !calls.has(info.name)) mod.removeExport(info.name);
}
binaryen.setOptimizeLevel(3);
binaryen.setShrinkLevel(2);
mod.runPasses(['remove-unused-module-elements']);
mod.optimize();
const wasmWithout = mod.emitBinary();
mod.dispose();
const measured = (parts) => {
  const all = Buffer.concat(parts.map((p) => Buffer.from(p)));
  const gz = parts.reduce((a, p) => a + gzipSync(p, { level: 9 }).length, 0);
  const br = parts.reduce((a, p) => a + brotliCompressSync(p).length, 0);
  return `${all.length} bytes raw, ${gz} gzip -9, ${br} brotli (JS ${parts[0].length} + wasm ${parts[1].length})`;
};
console.log(`wasmnn/infer, every kind: ${measured([js, shipped])}`);
console.log(`wasmnn/infer without the sequence layers (${dropped.join(', ')}): ${measured([jsWithout, wasmWithout])}`);
