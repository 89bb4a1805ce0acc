// The module's export contract (ts/backend/kernels.ts's KERNELS) against what was built and what the runtime calls:
// dist/wasmnn.wasm exports exactly the table's kernels, dist/wasmnn-infer.wasm a subset, each with the table's
// parameter count and result; every kernel in the table is called somewhere in ts/; the activation codes of
// ts/backend/kernels.ts are assembly/activations.ts's, and its parameter blocks' fields (NORM, SPARSE, ATT, DEC, GPT, RNN) assembly's.
// Node only (reads files); run after `npm run build`.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

/** ts/backend/kernels.ts's exports, bundled from the source (the table is not part of the public API). */
async function contract() {
  const out = await build({ entryPoints: ['ts/backend/kernels.ts'], bundle: true, format: 'esm', write: false, logLevel: 'warning' });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].contents).toString('base64')}`);
}

/** name -> { params, results } of every exported function of a wasm binary (its type, function and export sections). */
function exportedFunctions(bytes) {
  let p = 8;
  const u = () => {
    let value = 0, shift = 0, byte;
    do {
      byte = bytes[p++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  const types = [], funcs = [], exports = new Map();
  let imported = 0;
  while (p < bytes.length) {
    const id = bytes[p++], size = u(), end = p + size;
    if (id === 1) {
      for (let n = u(), i = 0; i < n; i++) {
        p++; // 0x60, func
        const params = u();
        p += params;
        const results = u();
        p += results;
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = u(), i = 0; i < n; i++) {
        p += u(); p += u(); // module, name
        const kind = bytes[p++];
        if (kind === 0) { funcs.push(types[u()]); imported++; } else throw new Error('the module imports only functions, if anything');
      }
    } else if (id === 3) {
      for (let n = u(), i = 0; i < n; i++) funcs.push(types[u()]);
    } else if (id === 7) {
      for (let n = u(), i = 0; i < n; i++) {
        const length = u();
        const name = new TextDecoder().decode(bytes.subarray(p, (p += length)));
        const kind = bytes[p++], index = u();
        if (kind === 0) exports.set(name, index);
        else if (kind !== 2) exports.set(name, null); // a global or table: not a kernel
      }
    }
    p = end;
  }
  return new Map([...exports].map(([name, index]) => [name, index === null ? null : funcs[index]]));
}

/** A table row ('a b c -> number') as the function type it promises. */
function promised(signature) {
  const [params, result] = signature.split('->').map((s) => s.trim());
  return { params: params ? params.split(/\s+/).length : 0, results: result ? 1 : 0 };
}

const { KERNELS, ACTIVATION_CODES, NORM, SPARSE, ATT, DEC, GPT, RNN } = await contract();

for (const [file, exactly] of [['dist/wasmnn.wasm', true], ['dist/wasmnn-infer.wasm', false]]) {
  test(`${file} exports ${exactly ? 'exactly the kernels of' : 'kernels of'} ts/backend/kernels.ts's KERNELS, with their parameters`, () => {
    const built = exportedFunctions(readFileSync(file));
    const problems = [];
    for (const [name, type] of built) {
      if (!(name in KERNELS)) problems.push(`${name}: exported by ${file} but not in KERNELS (add its row, or drop its export line in assembly/)`);
      else if (type === null) problems.push(`${name}: exported by ${file} as something other than a function`);
      else {
        const want = promised(KERNELS[name]);
        if (type.params !== want.params || type.results !== want.results) {
          problems.push(`${name}: KERNELS says ${want.params} parameters and ${want.results ? 'a result' : 'no result'} ('${KERNELS[name]}'), ${file} has ${type.params} and ${type.results ? 'a result' : 'no result'}`);
        }
      }
    }
    if (exactly) {
      for (const name of Object.keys(KERNELS)) if (!built.has(name)) problems.push(`${name}: in KERNELS but not exported by ${file} (its line in assembly/index.ts)`);
    }
    assert.deepEqual(problems, []);
  });
}

for (const file of ['dist/infer.js', 'dist/infer-generate.js']) {
  test(`${file} calls only kernels that dist/wasmnn-infer.wasm exports (the training-only code is dropped)`, () => {
    const js = readFileSync(file, 'utf8');
    const built = exportedFunctions(readFileSync('dist/wasmnn-infer.wasm'));
    const stray = Object.keys(KERNELS).filter((name) => !built.has(name) && new RegExp(`\\.${name}\\(`).test(js));
    assert.deepEqual(stray.map((name) => `${name}: called by ${file} but not exported by wasmnn-infer.wasm (label the training-only code that calls it trainingOnly:, or add the kernel to assembly/infer.ts)`), []);
  });
}

/** Every .ts file under ts/, as text. */
function sources(dir = 'ts') {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [[path, readFileSync(path, 'utf8')]] : [];
  });
}

// Kernels written and specified ahead of the layers that will call them, each with the issue that adds the layer.
// Not in the inference module until then; the test below fails once one of them is called, so the list only shrinks.
const AWAITING_LAYERS = {};

test('every kernel of KERNELS is called somewhere in ts/ (an export no code uses is removed, or used)', () => {
  const text = sources().filter(([path]) => path !== join('ts', 'backend', 'kernels.ts')).map(([, s]) => s).join('\n');
  const called = (name) => new RegExp(`\\.${name}\\(`).test(text);
  const unused = Object.keys(KERNELS).filter((name) => !called(name) && !(name in AWAITING_LAYERS));
  assert.deepEqual(unused.map((name) => `${name}: in KERNELS and exported, but nothing in ts/ calls it`), []);
  const arrived = Object.keys(AWAITING_LAYERS).filter(called);
  assert.deepEqual(arrived.map((name) => `${name}: called now; take it off AWAITING_LAYERS`), []);
  const unknown = Object.keys(AWAITING_LAYERS).filter((name) => !(name in KERNELS));
  assert.deepEqual(unknown.map((name) => `${name}: on AWAITING_LAYERS but not in KERNELS`), []);
});

test("the activation codes of ts/backend/kernels.ts are assembly/activations.ts's ACT_* constants", () => {
  const source = readFileSync('assembly/activations.ts', 'utf8');
  const assembly = {};
  for (const [, name, code] of source.matchAll(/^export const ACT_(\w+): i32 = (\d+);/gm)) {
    assembly[name.toLowerCase().replace(/_([a-z])/g, (_, c) => c.toUpperCase())] = Number(code);
  }
  assert.ok(Object.keys(assembly).length >= 10, 'read the ACT_* constants');
  assert.deepEqual({ ...ACTIVATION_CODES }, assembly);
});

for (const [block, fields, file] of [['NORM', NORM, 'assembly/norm.ts'], ['SPARSE', SPARSE, 'assembly/conv-sparse.ts'], ['ATT', ATT, 'assembly/attention.ts'], ['DEC', DEC, 'assembly/decoder.ts'], ['GPT', GPT, 'assembly/gpt.ts'], ['RNN', RNN, 'assembly/recurrent.ts']]) {
  test(`the fields of ts/backend/kernels.ts's ${block} block are ${file}'s ${block}_* constants`, () => {
    const source = readFileSync(file, 'utf8');
    const assembly = Object.fromEntries([...source.matchAll(new RegExp(`^export const ${block}_(\\w+)(?:: i32)? = (\\d+);`, 'gm'))].map(([, name, i]) => [name, Number(i)]));
    assert.ok(Object.keys(assembly).length >= 5, `read the ${block}_* constants`);
    assert.deepEqual({ ...fields }, assembly);
  });
}
