// `wasmnn import`: a PyTorch ONNX export becomes a .wnn that the library loads and that predicts as the ONNX model
// does. Run: node --test tests/cli/ (after npm run build)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = (...args) => spawnSync(process.execPath, ['dist/cli.js', ...args], { cwd: root, encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'wasmnn-import-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const onnx = join(root, 'tests/runtime/fixtures/mlp-opset13.onnx');

test('import writes a .wnn that predicts what the ONNX model predicts, and prints the summary', async () => {
  const out = join(tmp, 'sub', 'mlp.wnn');
  const r = cli('import', onnx, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /a_Gemm \(Dense\) +\[null,16\] +208/);
  assert.match(r.stdout, /bn_BatchNormalization \(BatchNormalization\)/);
  assert.match(r.stdout, /Total params: 612/);
  assert.match(r.stdout, /input: \[batch, 12\]/);
  assert.match(r.stdout, /saved the model to .*mlp\.wnn \([\d.]+ KiB\)/);
  const nn = await import('wasmnn');
  await nn.ready();
  const fromWnn = nn.loadModel(readFileSync(out));
  const fromOnnx = nn.loadOnnxModel(readFileSync(onnx));
  const x = nn.tensor(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [2, 12]);
  assert.deepEqual(Array.from(fromWnn.predict(x).data), Array.from(fromOnnx.predict(x).data));
});

test('import of a PyTorch character model (Embedding, GRU, Linear): the summary, and info on the .wnn it writes', async () => {
  const charGru = join(root, 'tests/runtime/fixtures/char-gru-opset17.onnx');
  const out = join(tmp, 'char-gru.wnn');
  const r = cli('import', charGru, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /emb_Gather \(Embedding\) +\[null,9,6\] +72/);
  assert.match(r.stdout, /rnn_GRU \(GRU\) +\[null,8\] +384/);
  assert.match(r.stdout, /Total params: 564/);
  assert.match(r.stdout, /input: \[batch, 9\]/);
  const info = cli('info', out);
  assert.equal(info.status, 0, info.stderr);
  assert.match(info.stdout, /parameters: 564/);
  assert.match(info.stdout, /a bundle needs the layer kinds: Embedding, GRU, Dense, LogSoftmax/);
  const nn = await import('wasmnn');
  await nn.ready();
  const ids = nn.tensor(Float32Array.from({ length: 18 }, (_, i) => (i * 7) % 12), [2, 9]);
  const fromWnn = nn.loadModel(readFileSync(out)).predict(ids);
  assert.deepEqual(Array.from(fromWnn.data), Array.from(nn.loadOnnxModel(readFileSync(charGru)).predict(ids).data));
});

test('import: bad command lines exit 2, bad files exit 1, both with a message naming the problem', () => {
  const truncated = join(tmp, 'cut.onnx');
  writeFileSync(truncated, readFileSync(onnx).subarray(0, 100));
  const cases = [
    [['import'], 2, 'one model file'],
    [['import', join(tmp, 'missing.onnx')], 2, 'no such file'],
    [['import', onnx, '--weights', 'f8'], 2, '--weights'],
    [['import', 'README.md'], 2, '.onnx file or a TF.js model.json'],
    [['import', truncated, '--out', join(tmp, 'cut.wnn')], 1, 'onnx: malformed ModelProto at byte'],
  ];
  for (const [args, code, words] of cases) {
    const r = cli(...args);
    assert.equal(r.status, code, `${args.join(' ')}: exit code (${r.stderr})`);
    assert.ok(r.stderr.includes(words), `${args.join(' ')}: stderr was ${r.stderr}`);
  }
  assert.match(cli('import', '--help').stdout, /torch\.onnx\.export/);
});

test('import of a TF.js model saved with its steps open says so, and the .wnn takes any number of steps', async () => {
  // the fixture made by TF.js (scripts/make-tfjs-fixtures.mjs), written out as model.json + weights.bin
  const text = readFileSync(join(root, 'tests/runtime/fixtures/tfjs-models.ts'), 'utf8');
  const f = JSON.parse(/MODELS: Record<string, TfjsFixture> = (.*);\n/.exec(text)[1]).openSteps;
  const dir = join(tmp, 'open');
  mkdirSync(dir);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(f.modelJson));
  writeFileSync(join(dir, 'weights.bin'), Buffer.from(f.weights, 'base64'));
  const r = cli('import', join(dir, 'model.json'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /input: \[batch, steps\]/);
  const nn = await import('wasmnn');
  await nn.ready();
  const model = nn.loadModel(readFileSync(join(dir, 'model.wnn')));
  for (const run of [f, f.other]) {
    const y = model.predict(nn.tensor(Float32Array.from(run.input), [3, ...run.inputShape])).data;
    run.output.forEach((want, i) => assert.ok(Math.abs(y[i] - want) <= 1e-5, `${run.inputShape[0]} steps, output ${i}: ${y[i]} vs TF.js ${want}`));
  }
});
