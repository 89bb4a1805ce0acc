// The ladder of ts/: every folder has a rung, and a file imports only from its own folder or from a lower rung, so
// there is no import cycle and nothing low knows about what is built on it. Type-only imports count: they are
// dependencies of the design even though the bundle drops them. Run: node --test tests/structure/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// folder of ts/ -> rung, lowest first ('.' is ts/ itself: the entry points index, infer, embedded, cli)
const LADDER = {
  backend: 0, // the module, its memory, the kernels' types, the typed errors
  tensor: 1, // tensors, ops, random streams, activations by name
  layers: 2, // layers, their initializers and regularizers, augmentation
  optim: 2, // losses, optimisers, learning-rate schedules
  data: 2, // CSV, IDX, one-hot, scaling, splits
  report: 2, // progress lines and SVG charts
  engine: 3, // the network: places, plans and runs the layers over module memory
  train: 4, // fit, evaluate, predict; callbacks, metrics, input checks
  checkpoint: 5, // the checkpoint file: container, weight codecs, revival, writing a model
  model: 6, // Sequential, summary, perceptron
  io: 7, // save/load of a model, checkpoints to places, the TF.js importer
  cli: 8, // the command line (it imports the package, not these files)
  '.': 9,
};

const TS = join(dirname(fileURLToPath(import.meta.url)), '../../ts');

/** Every relative import of a TypeScript source: static, type-only, re-exports, side-effect and dynamic. */
export function importsOf(source) {
  const found = [];
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) if (m[1].startsWith('.')) found.push(m[1]);
  return found;
}

/** files: { 'dir/name.ts': source } with paths relative to ts/. Returns the problems, each one line. */
export function checkLadder(files, ladder) {
  const problems = [];
  const graph = new Map();
  const folderOf = (f) => (f.includes('/') ? f.slice(0, f.indexOf('/')) : '.');
  for (const [file, source] of Object.entries(files)) {
    const from = folderOf(file);
    if (!(from in ladder)) problems.push(`${file}: folder '${from}' has no rung in the ladder table`);
    const edges = [];
    for (const spec of importsOf(source)) {
      const base = posix.normalize(posix.join(posix.dirname(file), spec));
      if (base.startsWith('..')) continue; // outside ts/ (the built .wasm, the playground's models)
      const target = [base, `${base}.ts`, `${base}.d.ts`, `${base}/index.ts`].find((c) => c in files);
      if (!target) {
        problems.push(`${file}: imports '${spec}', which is no file in ts/`);
        continue;
      }
      edges.push([target, spec]);
      const to = folderOf(target);
      if (from !== to && from in ladder && to in ladder && ladder[to] >= ladder[from]) {
        problems.push(`${file}: imports '${spec}' (${target}): rung ${from} (${ladder[from]}) may import only lower rungs, ` +
          `and ${to} is ${ladder[to] === ladder[from] ? 'on the same rung' : 'above it'} (${ladder[to]})`);
      }
    }
    graph.set(file, edges);
  }
  // cycles, also within one folder: depth-first search; a back edge closes a cycle, reported once per set of files
  const state = new Map(); // file -> 1 on the stack, 2 done
  const stack = [];
  const seen = new Set();
  const visit = (file) => {
    state.set(file, 1);
    stack.push(file);
    for (const [target] of graph.get(file) ?? []) {
      if (state.get(target) === 1) {
        const cycle = stack.slice(stack.indexOf(target)).concat(target);
        const key = [...new Set(cycle)].sort().join(' ');
        if (!seen.has(key)) {
          seen.add(key);
          problems.push(`import cycle: ${cycle.join(' -> ')}`);
        }
      } else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, 2);
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return problems;
}

function readTree(dir) {
  const files = {};
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) files[relative(dir, p).split('\\').join('/')] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return files;
}

test('ts/ has no import cycle and no import up the ladder', () => {
  const files = readTree(TS);
  assert.ok(Object.keys(files).length > 40, `read ${Object.keys(files).length} files from ${TS}`);
  assert.deepEqual(checkLadder(files, LADDER), []);
});

test('the check finds a cycle, an import up the ladder, a folder without a rung and a missing file', () => {
  const ladder = { low: 0, high: 1, '.': 2 };
  const problems = checkLadder({
    'low/a.ts': "import { b } from './b';\nimport type { H } from '../high/h';",
    'low/b.ts': "export { a } from './a';",
    'high/h.ts': "import { a } from '../low/a';\nconst m = await import('../low/gone');",
    'odd/x.ts': "import '../index';",
    'index.ts': "export * from './high/h';",
  }, ladder);
  assert.deepEqual(problems.sort(), [
    "high/h.ts: imports '../low/gone', which is no file in ts/",
    'import cycle: high/h.ts -> low/a.ts -> high/h.ts',
    'import cycle: low/a.ts -> low/b.ts -> low/a.ts',
    "low/a.ts: imports '../high/h' (high/h.ts): rung low (0) may import only lower rungs, and high is above it (1)",
    "odd/x.ts: folder 'odd' has no rung in the ladder table",
  ].sort());
});
