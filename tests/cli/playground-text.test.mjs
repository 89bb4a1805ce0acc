// `wasmnn prepare-playground --text-only --lstm FILE --gpt FILE` (dist/cli.js; build first): the text tab's character
// models, trained here on tiny settings, checked and copied with their vocabularies, listed in text/models.json; and
// its mistakes as one-line messages. Run: node --test tests/cli/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = (...args) => spawnSync(process.execPath, ['dist/cli.js', ...args], { cwd: root, encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'wasmnn-cli-playground-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const tiny = ['--dataset', 'moby-dick', '--epochs', '1', '--max-steps', '2', '--seq-length', '16', '--units', '16', '--embed-dim', '8', '--val-limit', '4', '--sample-length', '5', '--quiet'];
const model = (kind) => join(tmp, `${kind}.wnn`);

test('prepare-playground --text-only: both models checked and copied with their vocabularies, listed for the page', () => {
  for (const kind of ['lstm', 'gpt']) {
    const r = cli('train', ...tiny, '--model', kind, '--out', model(kind), '--curves', join(tmp, `${kind}.svg`));
    assert.equal(r.status, 0, r.stderr);
  }
  const out = join(tmp, 'pg');
  const r = cli('prepare-playground', '--text-only', '--lstm', model('lstm'), '--gpt', model('gpt'), '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /lstm\.wnn .*Embedding → LSTM → Dense/);
  assert.match(r.stdout, /gpt\.wnn .*TokenAndPositionEmbedding → TransformerDecoder ×4 → LayerNormalization → Dense, [\d,]+ weights, 16 characters at once, 4 attention layers/);
  assert.ok(!existsSync(join(out, 'mnist.bin.gz')) && !existsSync(join(out, 'model.wnn')), '--text-only leaves MNIST alone');
  const list = JSON.parse(readFileSync(join(out, 'text', 'models.json'), 'utf8'));
  assert.deepEqual(Object.keys(list), ['lstm', 'gpt']);
  assert.equal(list.gpt.steps, 16);
  assert.deepEqual(list.gpt.attention.map((a) => a.heads), [4, 4, 4, 4]);
  assert.deepEqual(list.lstm.attention, []);
  for (const kind of ['lstm', 'gpt']) {
    assert.equal(readFileSync(join(out, 'text', `${kind}.vocab.json`), 'utf8'), readFileSync(join(tmp, `${kind}.vocab.json`), 'utf8'));
    // saved without the optimizer's moments: smaller than the training checkpoint, and it generates the same text
    assert.ok(statSync(join(out, 'text', `${kind}.wnn`)).size < statSync(model(kind)).size, `${kind}: no optimizer state`);
    const g = (file) => cli('generate', file, '--prompt', 'Call me', '--length', '20', '--seed', '5').stdout;
    assert.equal(g(join(out, 'text', `${kind}.wnn`)), g(model(kind)), `${kind}: the copy generates what the original does`);
  }
  // one slot given alone replaces that slot and keeps the other
  const again = cli('prepare-playground', '--text-only', '--gpt', model('gpt'), '--out', out);
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(out, 'text', 'models.json'), 'utf8'))), ['lstm', 'gpt']);
});

test('prepare-playground: a wrong model or vocabulary is a one-line mistake naming the flag', () => {
  const out = join(tmp, 'bad');
  const noVocab = join(tmp, 'novocab.wnn');
  copyFileSync(model('gpt'), noVocab);
  const wrongVocab = join(tmp, 'wrongvocab.wnn');
  copyFileSync(model('gpt'), wrongVocab);
  writeFileSync(join(tmp, 'wrongvocab.vocab.json'), JSON.stringify({ type: 'charVocabulary', chars: ['a', 'b'] }));
  for (const [args, message] of [
    [['--text-only'], '--text-only needs --lstm FILE or --gpt FILE'],
    [['--text-only', '--gpt', join(tmp, 'nothing.wnn')], '--gpt: no such model file'],
    [['--text-only', '--gpt', noVocab], '--gpt: no vocabulary beside the model'],
    [['--text-only', '--gpt', wrongVocab], 'but its vocabulary has 4 ids'],
    [['--text-only', '--gpt', model('lstm')], 'has no attention layer: train it with --model gpt'],
    [['--text-only', '--lstm', model('gpt')], 'has no recurrent layer'],
  ]) {
    const r = cli('prepare-playground', ...args, '--out', out);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(message), `${args.join(' ')}: ${r.stderr}`);
  }
  const help = cli('prepare-playground', '--help');
  for (const flag of ['--lstm', '--gpt', '--text-only']) assert.ok(help.stdout.includes(flag), flag);
});
