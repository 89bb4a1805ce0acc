// `wasmnn info` and `wasmnn predict` on models trained elsewhere, read as they are: a PyTorch ONNX export (an MLP,
// a character GRU fed token ids) and a TF.js layers model.json with its weights; and on the .wnn `wasmnn import`
// writes of them. The predictions are the library's for the same file, and PyTorch's / TF.js' within float error.
// Build first. Run: node --test tests/cli/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nn from '../../dist/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = (...args) => spawnSync(process.execPath, ['dist/cli.js', ...args], { cwd: root, encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'wasmnn-predict-imported-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const fixtures = join(root, 'tests/runtime/fixtures');
const mlpOnnx = join(fixtures, 'mlp-opset13.onnx');
const gruOnnx = join(fixtures, 'char-gru-opset17.onnx');

/** A fixture of onnx-models.ts (made by scripts/make-onnx-fixtures.py): its inputs and PyTorch's outputs. */
function onnxFixture(name) {
  const text = readFileSync(join(fixtures, 'onnx-models.ts'), 'utf8');
  const entry = new RegExp(`^  ${name}: \\{ \\.\\.\\.(\\{.*\\}), input: (INPUT_\\w+) \\},$`, 'm').exec(text);
  const input = new RegExp(`^const ${entry[2]} = (\\[.*\\]);$`, 'm').exec(text);
  return { ...JSON.parse(entry[1]), input: JSON.parse(input[1]) };
}

/** The rows of a CSV file, one sample's values a line. */
function writeRows(file, values, perRow) {
  const lines = [];
  for (let i = 0; i < values.length; i += perRow) lines.push(values.slice(i, i + perRow).join(','));
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** The numbers of `predict`'s CSV (its header checked), the class column apart. */
function readPredictions(stdout, header) {
  const [head, ...lines] = stdout.trim().split('\n');
  assert.equal(head, header);
  return { classes: lines.map((l) => l.split(',')[0]), values: lines.flatMap((l) => l.split(',').slice(1).map(Number)) };
}

/** The library's predictions of the file for the samples (values, per-sample shape). */
async function library(load, values, shape) {
  await nn.ready();
  const model = await load();
  const y = Array.from(model.predict(nn.tensor(Float32Array.from(values), [values.length / shape.reduce((a, b) => a * b, 1), ...shape])).data);
  model.dispose();
  return y;
}

const argmax = (row) => String(row.indexOf(Math.max(...row)));

test('info on an ONNX MLP as it is: the format and opset, parameters, no optimiser state, the layer kinds', () => {
  const r = cli('info', mlpOnnx);
  assert.equal(r.status, 0, r.stderr);
  for (const words of ['a_Gemm (Dense)', 'Total params: 612', 'parameters: 612 (580 trainable)',
    `file: ${mlpOnnx}, an ONNX model (opset 13, IR version 7, written by pytorch 1.13.0)`, 'weights stored as float32, read as float32',
    'ONNX ops: Gemm, BatchNormalization, Relu,', 'optimizer state: none (an ONNX file', 'a bundle needs the layer kinds: Dense, BatchNormalization, Activation\n']) {
    assert.ok(r.stdout.includes(words), `info says '${words}': ${r.stdout}`);
  }
});

test('predict with an ONNX MLP as it is and with the .wnn import wrote: the library\'s outputs, PyTorch\'s within 1e-5', async () => {
  const f = onnxFixture('mlp_opset13');
  const csv = writeRows(join(tmp, 'mlp.csv'), f.input, 12);
  const want = await library(() => nn.loadOnnxModel(readFileSync(mlpOnnx)), f.input, [12]);
  want.forEach((v, i) => assert.ok(Math.abs(v - f.output[i]) <= 1e-5, `output ${i}: ${v} vs PyTorch ${f.output[i]}`));
  const wnn = join(tmp, 'mlp.wnn');
  assert.equal(cli('import', mlpOnnx, '--out', wnn).status, 0);
  for (const model of [mlpOnnx, wnn]) {
    const r = cli('predict', model, '--input', csv);
    assert.equal(r.status, 0, r.stderr);
    const got = readPredictions(r.stdout, 'class,p_0,p_1,p_2,p_3');
    assert.deepEqual(got.values, want, model);
    assert.deepEqual(got.classes, [0, 1, 2].map((i) => argmax(want.slice(4 * i, 4 * i + 4))));
    assert.match(r.stderr, /predicted 3 rows of/);
  }
  // the kind is read from the content: the ONNX file without its extension, the .wnn under another name
  for (const [from, to] of [[mlpOnnx, 'exported'], [wnn, 'saved.bin']]) {
    copyFileSync(from, join(tmp, to));
    const r = cli('predict', join(tmp, to), '--input', csv, '--format', 'jsonl');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').flatMap((l) => Object.values(JSON.parse(l).probabilities)), want, to);
  }
  const i = cli('info', wnn);
  assert.match(i.stdout, /a wasmnn checkpoint \(format version \d+\)/);
  assert.match(i.stdout, /a bundle needs the layer kinds: Dense, BatchNormalization, Activation\n/);
});

test('the ONNX character GRU: info, and predict on a CSV of token ids (the next id and its log-probabilities)', async () => {
  const i = cli('info', gruOnnx);
  assert.equal(i.status, 0, i.stderr);
  for (const words of ['rnn_GRU (GRU)', 'parameters: 564 (564 trainable)', 'an ONNX model (opset 17, IR version 8', 'ONNX ops: ', ' GRU, ',
    'optimizer state: none', 'a bundle needs the layer kinds: Embedding, GRU, Dense, LogSoftmax\n']) {
    assert.ok(i.stdout.includes(words), `info says '${words}': ${i.stdout}`);
  }
  const f = onnxFixture('char_gru_opset17');
  const ids = writeRows(join(tmp, 'ids.csv'), f.input, 9);
  const want = await library(() => nn.loadOnnxModel(readFileSync(gruOnnx)), f.input, [9]);
  want.forEach((v, k) => assert.ok(Math.abs(v - f.output[k]) <= 1e-5 * Math.max(1, Math.abs(f.output[k])), `output ${k}: ${v} vs PyTorch ${f.output[k]}`));
  const r = cli('predict', gruOnnx, '--input', ids);
  assert.equal(r.status, 0, r.stderr);
  const got = readPredictions(r.stdout, ['class', ...Array.from({ length: 12 }, (_, k) => `logp_${k}`)].join(','));
  assert.deepEqual(got.values, want);
  assert.deepEqual(got.classes, [0, 1, 2].map((s) => argmax(want.slice(12 * s, 12 * s + 12))));
  const j = cli('predict', gruOnnx, '--input', ids, '--format', 'jsonl');
  const first = JSON.parse(j.stdout.split('\n')[0]);
  assert.deepEqual(Object.values(first.logProbabilities), want.slice(0, 12));
});

test('a TF.js layers model (model.json + quantized weights): info and predict, the library\'s outputs, TF.js\' within 1e-5', async () => {
  const text = readFileSync(join(fixtures, 'tfjs-models.ts'), 'utf8');
  const f = JSON.parse(/MODELS: Record<string, TfjsFixture> = (.*);\n/.exec(text)[1]).mlp_uint8;
  const dir = join(tmp, 'web_model');
  mkdirSync(dir);
  const json = join(dir, 'model.json');
  writeFileSync(json, JSON.stringify(f.modelJson));
  writeFileSync(join(dir, 'weights.bin'), Buffer.from(f.weights, 'base64'));
  const i = cli('info', json);
  assert.equal(i.status, 0, i.stderr);
  for (const words of ['parameters: 308 (308 trainable)', `file: ${json}, a TF.js layers model (written by TensorFlow.js tfjs-layers v4.22.0)`,
    'stored as uint8 (quantized), read as float32', 'optimizer state: none (a TF.js layers model', 'a bundle needs the layer kinds: Dense, Activation (Dropout: the identity at inference, left out)']) {
    assert.ok(i.stdout.includes(words), `info says '${words}': ${i.stdout}`);
  }
  const csv = writeRows(join(tmp, 'tfjs.csv'), f.input, 8);
  const want = await library(() => nn.loadTfjsModelFrom(json), f.input, [8]);
  want.forEach((v, k) => assert.ok(Math.abs(v - f.output[k]) <= 1e-5, `output ${k}: ${v} vs TF.js ${f.output[k]}`));
  const r = cli('predict', json, '--input', csv);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readPredictions(r.stdout, 'class,p_0,p_1,p_2,p_3').values, want);
});

test('a corrupt or unsupported model file: exit 1 and one line naming the file and the problem', () => {
  const cut = join(tmp, 'cut.onnx');
  writeFileSync(cut, readFileSync(mlpOnnx).subarray(0, 300));
  const text = join(tmp, 'notes.txt');
  writeFileSync(text, 'not a model\n');
  const badJson = join(tmp, 'bad.json');
  writeFileSync(badJson, '{"modelTopology": ');
  const noWeights = join(tmp, 'lonely');
  mkdirSync(noWeights);
  const tfjs = JSON.parse(/MODELS: Record<string, TfjsFixture> = (.*);\n/.exec(readFileSync(join(fixtures, 'tfjs-models.ts'), 'utf8'))[1]).mlp;
  writeFileSync(join(noWeights, 'model.json'), JSON.stringify(tfjs.modelJson));
  const cases = [
    [cut, 'onnx: malformed ModelProto at byte'],
    [text, 'not a model file wasmnn reads (a .wnn checkpoint, an .onnx file or a TF.js model.json); it starts with 6e 6f 74 20'],
    [badJson, 'tfjs model: model.json is not valid JSON'],
    [join(noWeights, 'model.json'), join(noWeights, 'weights.bin')],
  ];
  const csv = writeRows(join(tmp, 'any.csv'), [1, 2, 3], 3);
  for (const [file, words] of cases) {
    for (const args of [['info', file], ['predict', file, '--input', csv]]) {
      const r = cli(...args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line: ${r.stderr}`);
      assert.ok(lines[0].startsWith('wasmnn: ') && lines[0].includes(file) && lines[0].includes(words), `${args.join(' ')}: ${r.stderr}`);
    }
  }
});
