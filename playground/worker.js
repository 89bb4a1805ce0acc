// The playground's Web Worker: the page runs two of them, one that predicts and one that trains, so neither
// training nor a prediction ever blocks the page. Both load the built library and its .wasm from /dist/.
//   predict side  {type:'load', slot, url | bytes}  -> {type:'loaded', slot, info} | {type:'error', slot, message}
//                 {type:'predict', slot, pixels}    -> {type:'prediction', probs, ms}
//   train side    {type:'train', kind, epochs, batchSize, lr} -> {type:'status'|'progress'|'epoch'|'done'|'error', ...}
//                 {type:'stop'}: ends the run after the current batch; the model trained so far is tested and kept
import * as nn from '../dist/index.js';
import { buildModel, asInput, MODEL_KINDS } from './models.js';

const DATA_URL = new URL('../build/playground/mnist.bin.gz', import.meta.url);
const PREPARE = 'run `npm run serve` (it prepares the files) or `node dist/cli.js prepare-playground`';
const models = {}; // slot -> model, on the predict side
let data; // MNIST, on the train side
let stopRequested = false;

self.onmessage = async ({ data: msg }) => {
  try {
    await nn.ready();
    if (msg.type === 'load') await load(msg);
    else if (msg.type === 'predict') predict(msg);
    else if (msg.type === 'train') await train(msg);
    else if (msg.type === 'stop') stopRequested = true;
  } catch (e) {
    self.postMessage({ type: 'error', slot: msg.slot, during: msg.type, message: e?.message ?? String(e) });
  }
};

async function load({ slot, url, bytes, name }) {
  if (url) {
    const res = await fetch(new URL(url, import.meta.url));
    if (!res.ok) throw new Error(`The shipped model (${url.replace(/^.*\//, '')}) is missing (HTTP ${res.status}): ${PREPARE}.`);
    bytes = new Uint8Array(await res.arrayBuffer());
  }
  let model;
  try {
    model = nn.loadModel(bytes);
  } catch (e) {
    throw new Error(`Could not load ${name ?? 'the model'}: ${e.message}`);
  }
  const inputs = model.inputShape.reduce((a, b) => a * b, 1);
  const outputs = model.outputShape.reduce((a, b) => a * b, 1);
  if (inputs !== 784 || outputs !== 10) {
    model.dispose();
    throw new Error(`${name ?? 'the model'} takes ${model.inputShape.join('x')} inputs and gives ${outputs} outputs; ` +
      'the playground needs a model of 28x28 digit images (784 inputs) and 10 classes');
  }
  models[slot]?.dispose();
  models[slot] = model;
  self.postMessage({ type: 'loaded', slot, info: { layers: model.layers.length, params: model.countParams() } });
}

function predict({ slot, pixels }) {
  const model = models[slot];
  if (!model) throw new Error('no model is loaded for this prediction');
  const started = performance.now();
  const probs = Float32Array.from(model.predict(asInput(nn, model, pixels, 1)).data);
  self.postMessage({ type: 'prediction', slot, probs, ms: performance.now() - started });
}

async function loadData() {
  if (data) return data;
  self.postMessage({ type: 'status', text: 'Loading MNIST from the server…' });
  const res = await fetch(DATA_URL);
  if (!res.ok) throw new Error(`The training data (mnist.bin.gz) is missing (HTTP ${res.status}): ${PREPARE}.`);
  const bytes = new Uint8Array(await new Response(res.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  // format: "WNMNIST1", u32 nTrain, u32 nTest, u16 rows, u16 cols, train images, train labels, test images, test labels
  const view = new DataView(bytes.buffer);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== 'WNMNIST1') throw new Error(`mnist.bin.gz is not in the expected format: ${PREPARE}.`);
  const nTrain = view.getUint32(8, true), nTest = view.getUint32(12, true);
  const size = view.getUint16(16, true) * view.getUint16(18, true);
  let at = 20;
  const take = (n) => bytes.subarray(at, (at += n));
  data = { nTrain, nTest, xTrain: take(nTrain * size), yTrain: take(nTrain), xTest: take(nTest * size), yTest: take(nTest) };
  return data;
}

async function train({ kind, epochs, batchSize, lr }) {
  stopRequested = false;
  const { nTrain, nTest, xTrain, yTrain, xTest, yTest } = await loadData();
  const batches = Math.ceil(nTrain / batchSize);
  const model = buildModel(nn, kind, { lr, steps: epochs * batches, seed: 1 });
  const started = performance.now();
  // about 40 points per epoch for the chart: the loss and accuracy of the batches since the last one (fit's logs
  // hold the batch's loss and the epoch's running accuracy); every 100 ms a pause lets a 'stop' message in
  const every = Math.max(1, Math.round(batches / 40));
  let lastPause = 0, lossSum = 0, lossCount = 0, lastEpoch = 0, seenBefore = 0, rightBefore = 0;
  self.postMessage({ type: 'status', text: `Training the ${kind.toUpperCase()} on ${nTrain} images…` });
  const onBatchEnd = async (batch, logs) => {
    lossSum += logs.loss;
    lossCount++;
    const last = batch === batches - 1;
    if (!last && ((batch + 1) % every !== 0 || batches - batch - 1 < every / 2)) return; // no tiny last interval
    const now = performance.now();
    const seen = Math.min((batch + 1) * batchSize, nTrain), right = logs.accuracy * seen;
    self.postMessage({
      type: 'progress', epoch: lastEpoch, epochs, batch, batches, loss: lossSum / lossCount,
      accuracy: (right - rightBefore) / (seen - seenBefore), epochAccuracy: logs.accuracy, seconds: (now - started) / 1000,
    });
    lossSum = lossCount = 0;
    seenBefore = seen;
    rightBefore = right;
    if (now - lastPause < 100) return;
    lastPause = now;
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (stopRequested) throw new Stopped();
  };
  const onEpochBegin = (epoch) => void ((lastEpoch = epoch), (seenBefore = rightBefore = 0));
  const onEpochEnd = (epoch, logs) => self.postMessage({ type: 'epoch', epoch, epochs, logs });
  let stopped = false;
  try {
    await model.fit(asInput(nn, model, xTrain, nTrain), yTrain, {
      epochs, batchSize, shuffle: true, callbacks: { onBatchEnd, onEpochBegin, onEpochEnd },
    });
  } catch (e) {
    if (!(e instanceof Stopped)) throw e;
    stopped = true;
  }
  const seconds = (performance.now() - started) / 1000;
  self.postMessage({ type: 'status', text: `Testing on ${nTest} images…` });
  const { accuracy, loss } = model.evaluate(asInput(nn, model, xTest, nTest), yTest, { batchSize: 500 });
  const bytes = model.save().slice();
  model.dispose();
  self.postMessage({ type: 'done', kind, description: MODEL_KINDS[kind], stopped, seconds, accuracy, loss, nTest, bytes }, [bytes.buffer]);
}

class Stopped extends Error {}
