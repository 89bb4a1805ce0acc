// The CLI's text commands as a user runs them (dist/cli.js; build first), on tiny settings: `train --dataset
// moby-dick` and `generate`, `train --dataset spam` (recurrent and transformer), and their mistakes as one-line
// messages. Run: node --test tests/cli/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = (...args) => spawnSync(process.execPath, ['dist/cli.js', ...args], { cwd: root, encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'wasmnn-cli-text-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const model = join(tmp, 'moby', 'model.wnn');
const tiny = ['--units', '8', '--embed-dim', '8', '--seq-length', '16', '--max-steps', '2', '--val-limit', '8', '--sample-length', '20'];

test('train --dataset moby-dick: loss and bits per character per epoch, a sample after each, model, vocabulary, curves', () => {
  const curves = join(tmp, 'moby', 'curves.svg');
  const r = cli('train', '--dataset', 'moby-dick', '--model', 'gru', '--epochs', '2', ...tiny, '--out', model, '--curves', curves);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /embedding 8 -> GRU 8 -> dense 85 softmax; adam lr 0\.002, clipnorm 5, batch 32, 2 epochs of 2 steps/);
  const epochs = r.stdout.match(/^epoch [12]\/2 .*$/gm) ?? [];
  assert.equal(epochs.length, 2, r.stdout);
  for (const line of epochs) assert.match(line, /loss [\d.]+ \([\d.]+ bits\/char\)  val_loss [\d.]+ \([\d.]+ bits\/char\) .* chars\/s/);
  // near log2(85) bits per character: 2 steps of 8 units learn little, and the loss must be a real cross-entropy
  const bits = Number(/val_loss [\d.]+ \(([\d.]+) bits/.exec(epochs[0])[1]);
  assert.ok(bits > 3 && bits < 7, `bits per character ${bits}`);
  const samples = r.stdout.match(/^ {2}sample \(temperature 0\.8\): ".*"$/gm) ?? [];
  assert.equal(samples.length, 2, 'a sample after each epoch');
  assert.ok(samples[0].startsWith('  sample (temperature 0.8): "Call me '), samples[0]);
  assert.match(r.stdout, /validation: loss [\d.]+, [\d.]+ bits per character/);
  assert.match(r.stdout, /peak RSS: [\d.]+ MiB/);
  assert.ok(existsSync(model), 'the model');
  const vocab = JSON.parse(readFileSync(join(tmp, 'moby', 'model.vocab.json'), 'utf8'));
  assert.equal(vocab.type, 'charVocabulary');
  assert.equal(vocab.chars.length, 83);
  assert.match(readFileSync(curves, 'utf8'), /^<svg[^>]*>[\s\S]*data-name="validation"/);
});

test('generate: continues the prompt; the same seed gives the same text, another seed another', () => {
  const run = (...extra) => cli('generate', model, '--prompt', 'Call me', '--length', '60', ...extra);
  const a = run('--seed', '7');
  assert.equal(a.status, 0, a.stderr);
  assert.ok(a.stdout.startsWith('Call me'), a.stdout);
  assert.equal([...a.stdout.trimEnd()].length, 'Call me'.length + 60);
  assert.match(a.stderr, /^60 characters in [\d.]+ s/);
  const b = run('--seed', '7');
  assert.equal(b.stdout, a.stdout, 'same seed, same text');
  const c = run('--seed', '8');
  assert.notEqual(c.stdout, a.stdout, 'another seed, another text');
  const k = run('--seed', '7', '--top-k', '1');
  assert.equal(k.status, 0, k.stderr);
  // top-k 1 is greedy: the seed does not matter
  assert.equal(run('--seed', '9', '--top-k', '1').stdout, k.stdout);
  const p = run('--seed', '7', '--top-p', '0.5', '--temperature', '1.2');
  assert.equal(p.status, 0, p.stderr);
});

test('train --dataset moby-dick --model gpt: the character GPT trains on tiny settings, and generate continues its text', () => {
  const gpt = join(tmp, 'gpt', 'model.wnn');
  const r = cli('train', '--dataset', 'moby-dick', '--model', 'gpt', '--units', '16', '--seq-length', '16', '--max-steps', '3',
    '--val-limit', '8', '--sample-length', '40', '--epochs', '2', '--out', gpt, '--curves', join(tmp, 'gpt', 'curves.svg'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /token and position embedding 16 -> 4 pre-LN transformer decoders \(4 heads, feed-forward 64 GELU\) -> layer norm -> dense 85 softmax; adamw lr 0\.001, warm-up 1 step decaying to 0\.0001 \(cosine\), clipnorm 1, batch 12, 2 epochs of 3 steps/);
  assert.equal((r.stdout.match(/^epoch [12]\/2 .*val_loss [\d.]+ .*$/gm) ?? []).length, 2, r.stdout);
  // the samples run past the 16-character window (the cropped window is re-run)
  const samples = r.stdout.match(/^ {2}sample \(temperature 0\.8\): "Call me .*"$/gm) ?? [];
  assert.equal(samples.length, 2, r.stdout);
  const run = (...extra) => cli('generate', gpt, '--prompt', 'Call me', '--length', '30', ...extra);
  const a = run('--seed', '3');
  assert.equal(a.status, 0, a.stderr);
  assert.equal([...a.stdout.trimEnd()].length, 'Call me'.length + 30);
  assert.equal(run('--seed', '3').stdout, a.stdout, 'same seed, same text');
  // --slide half: the same text while the 16-character window holds it, then its own, the same for the same seed
  const h = run('--seed', '3', '--slide', 'half');
  assert.equal(h.status, 0, h.stderr);
  assert.equal([...h.stdout.trimEnd()].length, 'Call me'.length + 30);
  assert.equal(h.stdout.slice(0, 16), a.stdout.slice(0, 16), 'within the window both slides step the same');
  assert.equal(run('--seed', '3', '--slide', 'half').stdout, h.stdout, 'same seed, same text');
  // a prompt longer than the window is refused, naming the position embedding's sequenceLength
  const long = cli('generate', gpt, '--prompt', 'Call me Ishmael. Some years ago', '--length', '5');
  assert.notEqual(long.status, 0);
  assert.match(long.stderr, /sequenceLength 16/);
});

test('train --dataset spam: test accuracy, spam precision and recall, the confusion matrix, model and tokenizer', () => {
  const out = join(tmp, 'spam', 'model.wnn');
  const r = cli('train', '--dataset', 'spam', '--epochs', '1', '--limit', '300', '--maxlen', '40', '--units', '8', '--embed-dim', '8',
    '--max-steps', '3', '--out', out, '--curves', join(tmp, 'spam', 'curves.svg'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /SpamAssassin: 6046 messages \(1896 spam, 4150 ham\), split 80\/20 stratified \(seed 1\): 4837 training, 1209 test/);
  assert.match(r.stdout, /embedding 8 \(mask zero\) -> LSTM 8 -> dense 1 sigmoid/);
  assert.match(r.stdout, /test: loss [\d.]+ {2}accuracy [\d.]+% \(\d+ of 1209 right\) {2}spam precision [\d.]+% {2}recall [\d.]+%/);
  assert.match(r.stdout, /true \\ predicted \| +ham +spam/);
  assert.ok(existsSync(out), 'the model');
  const saved = JSON.parse(readFileSync(join(tmp, 'spam', 'model.tokenizer.json'), 'utf8'));
  assert.equal(saved.maxlen, 40);
  assert.equal(saved.tokenizer.type, 'tokenizer');
});

test('train --dataset spam --model bilstm: a bidirectional LSTM', () => {
  const r = cli('train', '--dataset', 'spam', '--model', 'bilstm', '--epochs', '1', '--limit', '100', '--maxlen', '20', '--units', '4',
    '--embed-dim', '4', '--max-steps', '2', '--out', join(tmp, 'bi', 'model.wnn'), '--curves', join(tmp, 'bi', 'curves.svg'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /embedding 4 \(mask zero\) -> bidirectional LSTM 2x4 \(concat\) -> dense 1 sigmoid/);
  assert.match(r.stdout, /test: loss [\d.]+ {2}accuracy/);
});

test('train --dataset spam --model transformer: an encoder classifier that trains, reports, saves, loads and predicts', async () => {
  const dir = join(tmp, 'tf');
  const out = join(dir, 'model.wnn');
  const r = cli('train', '--dataset', 'spam', '--model', 'transformer', '--epochs', '1', '--limit', '200', '--maxlen', '24', '--units', '8',
    '--embed-dim', '8', '--max-steps', '3', '--out', out, '--curves', join(dir, 'curves.svg'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /token and position embedding 8 \(mask zero\) -> transformer encoder \(2 heads, feed-forward 8, dropout 0\.1\) -> average over the real steps -> dropout 0\.1 -> dense 1 sigmoid; adam lr 0\.001/);
  assert.match(r.stdout, /^epoch 1\/1 +loss [\d.]+ +acc [\d.]+ +val_loss [\d.]+ +val_acc [\d.]+/m);
  assert.match(r.stdout, /test: loss [\d.]+ {2}accuracy [\d.]+% \(\d+ of 1209 right\) {2}spam precision [\d.]+% {2}recall [\d.]+%/);
  assert.match(r.stdout, /true \\ predicted \| +ham +spam/);
  assert.ok(existsSync(join(dir, 'curves.svg')), 'the curves');
  // padded at the end: a message's first word at position 0
  const saved = JSON.parse(readFileSync(join(dir, 'model.tokenizer.json'), 'utf8'));
  assert.deepEqual([saved.maxlen, saved.padding, saved.truncating], [24, 'post', 'post']);
  const nn = await import('wasmnn');
  await nn.ready();
  const model = nn.loadModel(readFileSync(out));
  assert.deepEqual(model.layers.map((l) => l.className), ['TokenAndPositionEmbedding', 'TransformerEncoder', 'GlobalAveragePooling1D', 'Dropout', 'Dense']);
  assert.equal(model.layers[0].getConfig().maskZero, true);
  const tokenizer = nn.data.Tokenizer.fromJSON(saved.tokenizer);
  const texts = ['Subject: free money, click here now', 'Subject: meeting notes\nsee you tomorrow', 'Subject: free money, click here now'];
  const ids = nn.data.padSequences(tokenizer.textsToSequences(texts), { maxlen: saved.maxlen, padding: saved.padding, truncating: saved.truncating });
  assert.ok(Array.from(ids.data.subarray(0, 24)).some((v) => v > 0), 'the words are in the vocabulary');
  const p = model.predict(nn.tensor(Float32Array.from(ids.data), [3, 24]));
  assert.deepEqual(p.shape, [3, 1]);
  assert.ok(Array.from(p.data).every((v) => v > 0 && v < 1), `probabilities of spam, got ${Array.from(p.data)}`);
  assert.equal(p.data[0], p.data[2], 'the same message, the same probability');
  assert.notEqual(p.data[0], p.data[1], 'different messages, different probabilities');
  model.dispose();
});

test('mistakes in the text commands are one line each, naming the problem', () => {
  // options are checked before the model is read: any file does for them
  const noVocab = join(tmp, 'novocab.wnn');
  writeFileSync(noVocab, 'not a model');
  const cases = [
    [['generate'], 2, 'generate needs a model file'],
    [['generate', join(tmp, 'missing.wnn')], 2, 'no such model file'],
    [['generate', noVocab], 2, 'no vocabulary beside the model'],
    [['generate', noVocab, '--length', '0'], 2, '--length must be at least 1'],
    [['generate', noVocab, '--length', 'ten'], 2, '--length needs a number'],
    [['generate', noVocab, '--temperature', '0'], 2, '--temperature must be greater than 0'],
    [['generate', noVocab, '--top-k', '1.5'], 2, '--top-k needs a whole number'],
    [['generate', noVocab, '--top-p', '2'], 2, '--top-p must be in (0, 1]'],
    [['generate', noVocab, '--prompt', ''], 2, '--prompt is empty'],
    [['generate', noVocab, '--slide', 'third'], 2, '--slide takes token or half'],
    [['generate', noVocab, '--bogus'], 2, "Unknown option '--bogus'"],
  ];
  for (const [args, code, words] of cases) {
    const r = cli(...args);
    assert.equal(r.status, code, `${args.join(' ')}: exit code (stderr ${r.stderr})`);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${args.join(' ')}: one line, got ${r.stderr}`);
    assert.ok(r.stderr.startsWith('wasmnn: ') && r.stderr.includes(words), `${args.join(' ')}: stderr was ${r.stderr}`);
  }
  // train's mistakes: the message, then where the options are listed
  const train = [
    [['train', '--dataset', 'moby-dick', '--model', 'bilstm'], '--model must be one of lstm, gru, gpt for --dataset moby-dick'],
    [['train', '--dataset', 'spam', '--model', 'cnn'], '--model must be one of lstm, gru, bilstm, transformer for --dataset spam'],
    [['train', '--model', 'lstm'], '--model lstm trains on text'],
    [['train', '--dataset', 'moby-dick', '--max-steps', '0'], '--max-steps must be at least 1'],
    [['train', '--dataset', 'spam', '--maxlen', 'x'], '--maxlen needs a number'],
    [['train', '--dataset', 'spam', '--model', 'transformer', '--embed-dim', '7'], '--embed-dim must be a multiple of 2 for --model transformer'],
    [['train', '--dataset', 'moby-dick', '--temperature=-1'], '--temperature must be greater than 0'],
    [['train', '--dataset', 'books'], '--dataset must be mnist, moby-dick, spam or a .csv file'],
  ];
  for (const [args, words] of train) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: exit code`);
    assert.equal(r.stderr.split('\n')[0], `wasmnn: ${r.stderr.split('\n')[0].slice(8)}`);
    assert.ok(r.stderr.split('\n')[0].includes(words), `${args.join(' ')}: stderr was ${r.stderr}`);
  }
});

test('help lists the text options and the generate command', () => {
  const t = cli('train', '--help');
  for (const flag of ['--max-steps', '--seq-length', '--maxlen', '--num-words', '--clipnorm', 'moby-dick', 'spam', 'bilstm', 'transformer']) {
    assert.ok(t.stdout.includes(flag), `train --help mentions ${flag}`);
  }
  const g = cli('generate', '--help');
  assert.equal(g.status, 0);
  for (const flag of ['--prompt', '--length', '--temperature', '--top-k', '--top-p', '--seed', '--slide']) assert.ok(g.stdout.includes(flag), flag);
  assert.ok(cli('help').stdout.includes('generate MODEL'));
});
