// `wasmnn bundle` as a user runs it, and what it writes run in Node, Deno, Bun and a Chromium page: the same bits as
// the library's predict; plus wasmnn/infer/core's registration (a kind nobody imported is named with its import).
// Build first. Run: node --test tests/cli/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nn from '../../dist/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tmp = join(root, 'build', `bundle-test-${process.pid}`); // inside the repository: Deno reads it, the server serves it
mkdirSync(tmp, { recursive: true });
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const cli = (...args) => spawnSync(process.execPath, ['dist/cli.js', ...args], { cwd: root, encoding: 'utf8' });

await nn.ready();
const L = nn.layers;
// a CNN with the CLI's kinds (dropout and augmentation are left out of the bundle: the identity at inference), a
// residual MLP (a kind inside a kind) and a recurrent model over padded ids (a bundle shortens the members' names:
// every kind's code must run under them), each trained a step so batch norm's statistics are not their initial values
const models = {
  cnn: nn.sequential({ seed: 11, layers: [
    L.rescaling({ inputShape: [10, 10, 1], scale: 1 / 255 }), L.randomAugment({ shift: 1 }),
    L.conv2d({ filters: 4, kernelSize: 3, useBias: false }), L.batchNormalization(), L.activation({ activation: 'relu' }),
    L.maxPooling2d({ poolSize: 2 }), L.flatten(), L.dense({ units: 8, activation: 'relu' }), L.dropout({ rate: 0.3 }),
    L.dense({ units: 3, activation: 'softmax' })] }),
  residual: nn.sequential({ seed: 12, layers: [
    L.dense({ inputShape: [6], units: 8, activation: 'gelu' }),
    L.residual({ layers: [L.dense({ units: 8, activation: 'tanh' }), L.layerNormalization()] }), L.dense({ units: 2 })] }),
  sequence: nn.sequential({ seed: 13, layers: [
    L.embedding({ inputShape: [7], inputDim: 20, outputDim: 6, maskZero: true }),
    L.bidirectional({ layer: L.lstm({ units: 5, returnSequences: true }) }), L.gru({ units: 4, returnSequences: true }),
    L.globalAveragePooling1d(), L.dense({ units: 3, activation: 'sigmoid' })] }),
};
const inputs = {};
for (const [name, m] of Object.entries(models)) {
  const per = m.inputShape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: 3 * per }, (_, i) => name === 'sequence' ? (i * 7) % 5 + (i % 3 === 0 ? 0 : 1) :
    ((i * 7919) % 251) * (name === 'cnn' ? 1 : 1 / 251) - (name === 'cnn' ? 0 : 0.5));
  m.compile({ optimizer: nn.train.sgd(0.05), loss: 'meanSquaredError' });
  await m.fit(nn.tensor(x, [3, ...m.inputShape]), nn.tensor(new Float32Array(3 * m.outputShape[0]).fill(0.25), [3, ...m.outputShape]), { epochs: 1, batchSize: 3 });
  writeFileSync(join(tmp, `${name}.wnn`), m.save());
  inputs[name] = { x, want: Array.from(new Uint32Array(m.predict(nn.tensor(x, [3, ...m.inputShape])).data.buffer)) };
}

/** A script that loads a bundle and prints the bits of its predictions for x (the same code in every runtime). */
function runner(dir, x) {
  return `import { load, predict } from './${dir}/model.js';\n` +
    `await load();\nconst x = new Float32Array(${JSON.stringify(Array.from(x))});\n` +
    `const out = Array.from(new Uint32Array(predict(x).data.buffer));\n` +
    `(globalThis.console.log)(JSON.stringify(out));\nexport default out;\n`;
}

const bundles = [];
for (const name of Object.keys(models)) {
  for (const flags of [[], ['--single-file', '--embed-weights']]) {
    const dir = `${name}${flags.length ? '-single' : ''}`;
    // a relative --out, as a user types it
    const r = cli('bundle', join(tmp, `${name}.wnn`), '--out', join('build', `bundle-test-${process.pid}`, dir), ...flags);
    bundles.push({ name, dir, flags, result: r });
    writeFileSync(join(tmp, `run-${dir}.mjs`), runner(dir, inputs[name].x));
  }
}

test('wasmnn bundle writes the module, its pruned .wasm and the weights, and reports their sizes', () => {
  for (const { dir, flags, result } of bundles) {
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, flags.length ? /in all \(the weights inside\)/ : /code \(JS \+ wasm, weights apart\)/);
    assert.equal(existsSync(join(tmp, dir, 'model.wasm')), flags.length === 0, `${dir}: model.wasm`);
    assert.equal(existsSync(join(tmp, dir, 'model.weights.bin')), flags.length === 0, `${dir}: model.weights.bin`);
  }
  const cnn = bundles.find((b) => b.dir === 'cnn').result.stdout;
  assert.match(cnn, /layer kinds: Rescaling, Conv2D, BatchNormalization, Activation, MaxPooling2D, Flatten, Dense\n/, 'dropout and augmentation left out');
  assert.ok(!/layer_normalization|gemm_tn|adam_step|layernorm_forward/.test(cnn), 'no kernel the CNN does not call');
  assert.match(bundles.find((b) => b.dir === 'residual').result.stdout, /layer kinds: Dense, Residual, LayerNormalization\n/);
});

const runtimes = {
  node: (file) => spawnSync(process.execPath, [file], { cwd: tmp, encoding: 'utf8' }),
  deno: (file) => spawnSync(join(root, 'node_modules/.bin/deno'), ['run', '--no-prompt', `--allow-read=${tmp}`, file], { cwd: tmp, encoding: 'utf8' }),
  bun: (file) => spawnSync(join(root, 'node_modules/.bin/bun'), [file], { cwd: tmp, encoding: 'utf8' }),
};

for (const [runtime, run] of Object.entries(runtimes)) {
  test(`the bundles predict the library's bits in ${runtime}`, () => {
    for (const { name, dir } of bundles) {
      const r = run(join(tmp, `run-${dir}.mjs`));
      assert.equal(r.status, 0, `${dir}: ${r.stderr}`);
      assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()), inputs[name].want, `${dir} in ${runtime}`);
    }
  });
}

test('the bundles predict the library\'s bits in a Chromium page', async () => {
  const { serve } = await import('../../scripts/serve.mjs');
  const { launchChromium } = await import('../../scripts/chromium.mjs');
  writeFileSync(join(tmp, 'index.html'), '<!doctype html><title>bundle</title>');
  const server = await serve(tmp, 0);
  const browser = await launchChromium('bundle-test');
  try {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/index.html`);
    for (const { name, dir } of bundles) {
      const got = await page.evaluate(async (file) => (await import(file)).default, `${server.url}/run-${dir}.mjs`);
      assert.deepEqual(got, inputs[name].want, `${dir} in Chromium`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
});

test('a bundle rejects weights that are not its model\'s with a whole message', async () => {
  const { load, predict } = await import(join(tmp, 'cnn', 'model.js'));
  assert.throws(() => predict([1]), (e) => e.name === 'StateError' && /call await load\(\) before predict\(\)/.test(e.message));
  const weights = readFileSync(join(tmp, 'cnn', 'model.weights.bin'));
  await assert.rejects(load(weights.subarray(8)), (e) => e.name === 'ShapeError' && /the weights are \d+ bytes; model '\w+' has \d+ floats, \d+ bytes/.test(e.message));
  const nan = Uint8Array.from(weights);
  new DataView(nan.buffer).setFloat32(4 * 50, NaN, true); // conv kernel 36, gamma, beta, moving mean 4 each: a variance
  await assert.rejects(load(nan), (e) => e.name === 'ValueError' && /weight batch_normalization_\d+\/moving_variance holds a value that is not finite/.test(e.message));
  await load(weights);
  assert.throws(() => predict([1, 2, 3]), (e) => e.name === 'ShapeError' && /samples of 100 numbers/.test(e.message));
});

test('wasmnn/infer/core loads the kinds imported; a missing one is a NotFoundError naming the import that adds it', async () => {
  const core = await import('../../dist/infer/core.js');
  await import('../../dist/infer/layers/dense.js');
  await core.ready();
  const bytes = readFileSync(join(tmp, 'cnn.wnn'));
  assert.throws(() => core.loadModel(bytes), (e) => e instanceof core.NotFoundError &&
    /unknown layer class 'Rescaling'.*knows Dense.*import 'wasmnn\/infer\/layers\/rescaling'/.test(e.message));
  for (const kind of ['rescaling', 'random-augment', 'conv2d', 'batch-normalization', 'activation', 'max-pooling2d', 'flatten', 'dropout']) {
    await import(`../../dist/infer/layers/${kind}.js`);
  }
  const model = core.loadModel(bytes);
  const { x, want } = inputs.cnn;
  assert.deepEqual(Array.from(new Uint32Array(model.predict(core.tensor(x, [3, 10, 10, 1])).data.buffer)), want);
  model.dispose();
});

test("the CLI's MNIST MLP and CNN bundle to at most 40 KB of code (JS + wasm, weights apart)", () => {
  // the architectures of `wasmnn train` (--model mlp and --model cnn, ts/cli/models.ts) on MNIST; the sizes do not
  // depend on the weights, so the models are saved untrained
  const models = {
    mlp: nn.sequential({ seed: 1, layers: [L.rescaling({ inputShape: [784], scale: 1 / 255 }),
      L.dense({ units: 256, activation: 'relu' }), L.dense({ units: 128, activation: 'relu' }), L.dense({ units: 10, activation: 'softmax' })] }),
    cnn: nn.sequential({ seed: 1, layers: [L.rescaling({ inputShape: [28, 28, 1], scale: 1 / 255 }), L.randomAugment({ shift: 2 }),
      ...[16, 32].flatMap((filters) => [L.conv2d({ filters, kernelSize: 5, useBias: false }), L.batchNormalization(),
        L.activation({ activation: 'relu' }), L.maxPooling2d({ poolSize: 2 })]),
      L.flatten(), L.dense({ units: 128, activation: 'relu' }), L.dropout({ rate: 0.3 }), L.dense({ units: 10, activation: 'softmax' })] }),
  };
  for (const [name, model] of Object.entries(models)) {
    writeFileSync(join(tmp, `cli-${name}.wnn`), model.save());
    const r = cli('bundle', join(tmp, `cli-${name}.wnn`), '--out', join(tmp, `cli-${name}`));
    assert.equal(r.status, 0, r.stderr);
    const code = ['model.js', 'model.wasm'].reduce((a, f) => a + readFileSync(join(tmp, `cli-${name}`, f)).length, 0);
    assert.ok(code <= 40 * 1024, `the CLI's ${name}: ${code} bytes of code, more than 40 KB`);
  }
});

test('bundle: a bad command line exits 2 naming the problem', () => {
  for (const [args, words] of [[['bundle'], 'one model file'], [['bundle', join(tmp, 'cnn.wnn')], '--out DIR is required'], [['bundle', join(tmp, 'none.wnn'), '--out', tmp], 'no such file']]) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(words), `${args.join(' ')}: stderr was ${r.stderr}`);
  }
});
