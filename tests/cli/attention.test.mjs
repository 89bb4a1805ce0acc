// `wasmnn attention` as a user runs it, on a tiny transformer character model trained here through the library and
// saved with its vocabulary: the heatmap's cells and labels, the causal zeros, the printed strongest links against
// the library's own attention scores, and the mistakes as one-line messages. Build first. Run: node --test tests/cli/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nn from '../../dist/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = (...args) => spawnSync(process.execPath, ['dist/cli.js', ...args], { cwd: root, encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'wasmnn-cli-attention-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const STEPS = 12;
const TEXT = 'the cat sat on the mat. the rat ate the hat. ';
const modelFile = join(tmp, 'chars.wnn');
const L = nn.layers;

// next-character windows of the text; two causal blocks with 2 and 4 heads, trained a few epochs
async function trainModel() {
  await nn.ready();
  const vocabulary = nn.data.CharVocabulary.fromText(TEXT);
  const ids = vocabulary.encode(TEXT.repeat(3));
  const n = ids.length - STEPS - 1;
  const x = new Float32Array(n * STEPS), y = new Float32Array(n * STEPS);
  for (let i = 0; i < n; i++) for (let t = 0; t < STEPS; t++) { x[i * STEPS + t] = ids[i + t]; y[i * STEPS + t] = ids[i + t + 1]; }
  const model = nn.sequential({ seed: 7, layers: [
    L.tokenAndPositionEmbedding({ inputShape: [STEPS], vocabularySize: vocabulary.size, sequenceLength: STEPS, embeddingDim: 8 }),
    L.transformerDecoder({ intermediateDim: 16, numHeads: 2, name: 'block0' }),
    L.transformerDecoder({ intermediateDim: 16, numHeads: 4, name: 'block1' }),
    L.timeDistributed({ layer: L.dense({ units: vocabulary.size, activation: 'softmax' }) }),
  ] });
  model.compile({ optimizer: nn.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  const history = await model.fit(nn.tensor(x, [n, STEPS]), nn.tensor(y, [n, STEPS]), { epochs: 4, batchSize: 16, verbose: 0 });
  writeFileSync(modelFile, model.save());
  writeFileSync(join(tmp, 'chars.vocab.json'), JSON.stringify(vocabulary.toJSON()));
  return { model, vocabulary, history };
}
const trained = await trainModel();

const cells = (svg) => [...svg.matchAll(/<rect class="cell"[^>]*fill="([^"]+)"/g)].map((m) => m[1]);

test('attention: an SVG heatmap of text length squared cells, labelled, titled; causal zeros grey; strongest links printed', () => {
  assert.ok(trained.history.history.loss.at(-1) < trained.history.history.loss[0], 'the model learned something');
  const text = 'the cat sat';
  const out = join(tmp, 'map.svg');
  const r = cli('attention', modelFile, '--text', text, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const svg = readFileSync(out, 'utf8');
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  const fills = cells(svg);
  assert.equal(fills.length, text.length * text.length);
  assert.equal([...svg.matchAll(/class="row-label"/g)].length, text.length);
  assert.equal([...svg.matchAll(/class="col-label"/g)].length, text.length);
  assert.ok(svg.includes('>␣</text>'), 'a space is drawn visibly');
  assert.match(svg, /block1 \(layer 2\), head 0 of 4/, 'the default: the last attention layer, head 0');
  assert.ok(svg.includes('class="scale"'));
  // causal: every cell right of the diagonal is exactly 0 (grey), every other one has weight
  fills.forEach((fill, i) => {
    const q = Math.floor(i / text.length), k = i % text.length;
    assert.equal(fill === '#e4e4e4', k > q, `cell ${q},${k}: ${fill}`);
  });
  // the printed links are the library's: argmax of each row of head 0 of block1
  const ids = new Float32Array(STEPS);
  ids.set(trained.vocabulary.encode(text));
  const scores = trained.model.attentionScores(nn.tensor(ids, [1, STEPS]), { layer: 'block1' });
  const lines = r.stdout.trim().split('\n').filter((l) => /->/.test(l));
  assert.equal(lines.length, text.length);
  lines.forEach((line, q) => {
    const row = scores.data.subarray(q * STEPS, q * STEPS + text.length);
    const best = row.indexOf(Math.max(...row));
    const m = line.match(/^\s*(\d+) (".*") ->\s*(\d+) (".*")\s+([\d.]+)$/);
    assert.ok(m, line);
    assert.deepEqual([Number(m[1]), JSON.parse(m[2]), Number(m[3]), JSON.parse(m[4])], [q, text[q], best, text[best]]);
    assert.equal(Number(m[5]), Number(row[best].toFixed(3)));
  });
});

test('attention: --layer by index or name, --head; the default output beside the model', () => {
  const text = 'the mat.';
  const byName = cli('attention', modelFile, '--text', text, '--layer', 'block0', '--head', '1');
  assert.equal(byName.status, 0, byName.stderr);
  assert.match(byName.stdout, /block0 \(layer 1\), head 1 of 2/);
  const svgFile = join(tmp, 'chars.attention.svg');
  assert.ok(existsSync(svgFile));
  assert.equal(cells(readFileSync(svgFile, 'utf8')).length, text.length ** 2);
  const byIndex = cli('attention', modelFile, '--text', text, '--layer', '1', '--head', '1');
  assert.equal(byIndex.stdout, byName.stdout, 'index 1 is block0');
  const full = cli('attention', modelFile, '--text', 'the cat sat.', '--out', join(tmp, 'full.svg'));
  assert.equal(full.status, 0, full.stderr);
  assert.equal(cells(readFileSync(join(tmp, 'full.svg'), 'utf8')).length, STEPS * STEPS, 'a text as long as the steps');
});

test('attention: mistakes are one line each, naming the problem', () => {
  const noVocab = join(tmp, 'novocab.wnn');
  writeFileSync(noVocab, readFileSync(modelFile));
  const cases = [
    [['attention'], 'attention needs a model file'],
    [['attention', join(tmp, 'missing.wnn'), '--text', 'a'], 'no such model file'],
    [['attention', modelFile], 'attention needs --text'],
    [['attention', noVocab, '--text', 'the'], 'no vocabulary beside the model'],
    [['attention', modelFile, '--text', 'the', '--layer', 'nope'], "--layer: no layer named 'nope'; the attention layers are 1: block0, 2: block1"],
    [['attention', modelFile, '--text', 'the', '--layer', '0'], '--layer: layer 0 (token_and_position_embedding'],
    [['attention', modelFile, '--text', 'the', '--layer', '9'], '--layer: no layer 9'],
    [['attention', modelFile, '--text', 'the', '--head', '4'], '--head 4 is out of range: the layer has 4 heads (0 to 3)'],
    [['attention', modelFile, '--text', 'the', '--layer', 'block0', '--head', '2'], '--head 2 is out of range: the layer has 2 heads (0 to 1)'],
    [['attention', modelFile, '--text', 'the', '--head=-1'], '--head must be at least 0'],
    [['attention', modelFile, '--text', 'the Dog'], '--text: character "D" at position 4 is not in the model\'s vocabulary'],
    [['attention', modelFile, '--text', 'the cat sat on'], '--text has 14 characters; the model takes at most 12'],
    [['attention', modelFile, '--text', 'the', '--bogus'], "Unknown option '--bogus'"],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: one line, got ${r.stderr}`);
    assert.ok(lines[0].startsWith('wasmnn: ') && lines[0].includes(message), `${args.join(' ')}: ${lines[0]}`);
  }
});

test('attention --help, and the command in the main help', () => {
  const h = cli('attention', '--help');
  assert.equal(h.status, 0);
  for (const flag of ['--text', '--layer', '--head', '--out']) assert.ok(h.stdout.includes(flag), flag);
  assert.ok(cli('help').stdout.includes('attention MODEL'));
});
