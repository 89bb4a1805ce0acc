// The benchmarks' one command-line parser (bench/args.mjs): each kind of option, the order of presets, and errors
// that name the flag. Run: node --test tests/scripts/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flag, helpText, int, ints, oneOf, parseArgs, preset, someOf, systemOptions, text, unflag, words } from '../../bench/args.mjs';

const SYSTEMS = ['wasmnn', 'torch'];
const options = {
  '--iters': int('iters', 2000, 'training steps'),
  '--contexts': ints('contexts', [64, 128], 'contexts', 2),
  '--no-scaling': unflag('scaling', 'skip the scaling'),
  '--quick': preset({ iters: 200, sweep: [] }, 'short'),
  '--profile': flag('profile', 'profile'),
  '--mode': oneOf('mode', 'main', ['main', 'scaling'], 'mode'),
  '--cells': someOf('cells', ['lstm', 'gru'], ['lstm', 'gru'], 'cells'),
  '--model': text('model', null, 'a file', 'FILE'),
  ...systemOptions(SYSTEMS, { children: ['wasmnn'] }),
};

test('defaults when the command line is empty', () => {
  assert.deepEqual(parseArgs([], options), {
    help: false, iters: 2000, contexts: [64, 128], scaling: true, profile: false, mode: 'main', cells: ['lstm', 'gru'],
    model: null, only: SYSTEMS, markdown: false, child: null,
  });
});

test('every kind of option reads its value', () => {
  const o = parseArgs(['--iters', '3', '--contexts', '64,256', '--no-scaling', '--profile', '--mode', 'scaling',
    '--cells', 'gru', '--model', 'm.wnn', '--only', 'torch', '--markdown', '--child', 'wasmnn'], options);
  assert.deepEqual(o, {
    help: false, iters: 3, contexts: [64, 256], scaling: false, profile: true, mode: 'scaling', cells: ['gru'],
    model: 'm.wnn', only: ['torch'], markdown: true, child: 'wasmnn',
  });
});

test('a preset applies where it stands: later flags override it, earlier ones are overridden', () => {
  assert.equal(parseArgs(['--quick', '--iters', '50'], options).iters, 50);
  assert.equal(parseArgs(['--iters', '50', '--quick'], options).iters, 200);
  assert.deepEqual(parseArgs(['--quick'], options).sweep, []);
});

test('defaults are copies: changing one run\'s list leaves the next run\'s default alone', () => {
  parseArgs([], options).only.push('tfjs');
  assert.deepEqual(parseArgs([], options).only, SYSTEMS);
});

test('words without a flag, where the options take them', () => {
  const gemm = { '': words('runtimes', ['node', 'deno'], 'runtimes'), '--markdown': flag('markdown', 'tables') };
  assert.deepEqual(parseArgs([], gemm), { help: false, runtimes: [], markdown: false });
  assert.deepEqual(parseArgs(['deno', '--markdown', 'node'], gemm), { help: false, runtimes: ['deno', 'node'], markdown: true });
  assert.throws(() => parseArgs(['nodes'], gemm), { message: 'runtimes: unknown "nodes" (known: node, deno)' });
  assert.throws(() => parseArgs(['3'], options), { message: 'unexpected argument 3' });
  assert.throws(() => parseArgs(['--'], options), { message: 'unknown option --' });
  assert.match(helpText('x', gemm), /^ {2}\[node\|deno\]\.\.\. +runtimes$/m);
});

test('--help and -h set help', () => {
  assert.equal(parseArgs(['--help'], options).help, true);
  assert.equal(parseArgs(['-h'], options).help, true);
});

test('errors name the flag', () => {
  const fails = (argv, message) => assert.throws(() => parseArgs(argv, options), { message });
  fails(['--bogus'], 'unknown option --bogus');
  fails(['--iters'], '--iters needs a value (N)');
  fails(['--iters', '--profile'], '--iters needs a value (N)');
  fails(['--iters', '0'], '--iters takes a whole number >= 1, got "0"');
  fails(['--iters', '2.5'], '--iters takes a whole number >= 1, got "2.5"');
  fails(['--contexts', '64,1'], '--contexts takes whole numbers >= 2, got "1"');
  fails(['--contexts', '64,'], '--contexts takes whole numbers >= 2, got ""');
  fails(['--mode', 'fast'], '--mode: unknown "fast" (known: main, scaling)');
  fails(['--only', 'wasmnn,tf,jax'], '--only: unknown "tf", "jax" (known: wasmnn, torch)');
  fails(['--child', 'torch'], '--child: unknown "torch" (known: wasmnn)');
});

test('the help text lists every option with its argument and default', () => {
  const lines = helpText('usage: x', options).split('\n');
  assert.equal(lines[0], 'usage: x');
  for (const name of [...Object.keys(options), '--help']) assert.ok(lines.some((l) => l.trimStart().startsWith(name)), name);
  assert.ok(lines.some((l) => /^ {2}--iters N +training steps \(default 2000\)$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^ {2}--contexts N,N,\.\.\. +contexts \(default 64,128\)$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^ {2}--profile +profile$/.test(l)), lines.join('\n'));
});
