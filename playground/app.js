// The playground page's Digits tab: a drawing pad, the prediction as bars, and a training panel. The page itself runs
// no model: one worker predicts, another trains (worker.js), so the page stays responsive whatever they do.
// The Text tab is text.js.
import { drawingPad, showPixels } from './draw.js';
import { probabilityBars, trainingChart } from './charts.js';
import { MODEL_KINDS } from './models.js';
import { $, showError } from './ui.js';

const SHIPPED = '../build/playground/model.wnn';
const percent = (p, digits = 1) => `${(p * 100).toFixed(digits)}%`;

const bars = probabilityBars($('bars'));
const chart = trainingChart($('chart'));
const pad = drawingPad($('pad'), { onStrokeStart: () => ($('pad-hint').hidden = true), onStrokeEnd: predict });
const state = { slot: 'shipped', ready: { shipped: false, yours: false }, yours: null, pendingYours: null, predictions: 0 };
let trainer = null;

function startWorker(role) {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: role });
  worker.onerror = (e) => {
    e.preventDefault();
    showError(`The ${role} worker could not start (${e.message || 'its script or the library failed to load'}). ` +
      'Is the library built? Run `npm run build`, then reload.');
    if (role === 'training') trainingEnded();
  };
  return worker;
}

// ---- prediction
const predictor = startWorker('prediction');
predictor.onmessage = ({ data: msg }) => {
  if (msg.type === 'prediction') return showPrediction(msg);
  if (msg.type === 'loaded') return modelLoaded(msg.slot, msg.info);
  if (msg.type === 'error') {
    if (msg.during === 'load' && msg.slot === 'yours') {
      state.pendingYours = null;
      state.ready.yours = state.yours !== null; // the previous model of this slot is still there
    }
    if (msg.during === 'load' && msg.slot === 'shipped') $('shipped-label').textContent = 'Shipped model: missing';
    showError(msg.message);
  }
};
predictor.postMessage({ type: 'load', slot: 'shipped', url: SHIPPED });
fetch('../build/playground/model.json').then((r) => (r.ok ? r.json() : null)).then((info) => {
  if (info) $('shipped-label').textContent = `Shipped ${info.kind.toUpperCase()} (${percent(info.testAccuracy)} on the test set)`;
}, () => {});

function predict() {
  const pixels = pad.pixels();
  showPixels($('seen'), pixels);
  if (!pixels) return showPrediction(null);
  if (!state.ready[state.slot]) {
    $('confidence').textContent = 'The model is still loading…';
    return;
  }
  predictor.postMessage({ type: 'predict', slot: state.slot, pixels });
}

function showPrediction(msg) {
  const probs = msg ? Array.from(msg.probs) : null;
  bars.update(probs);
  const digit = $('digit');
  if (!probs) {
    digit.textContent = '?';
    $('confidence').textContent = 'Draw a digit to see what the model thinks.';
    return;
  }
  const top = probs.indexOf(Math.max(...probs));
  digit.textContent = String(top);
  digit.dataset.count = String(++state.predictions);
  $('confidence').textContent = `${percent(probs[top])} sure · ${msg.ms.toFixed(1)} ms in the worker`;
}

function modelLoaded(slot, info) {
  state.ready[slot] = true;
  if (slot === 'shipped') document.body.dataset.shipped = 'ready';
  if (slot === 'yours' && state.pendingYours) {
    state.yours = state.pendingYours;
    state.pendingYours = null;
    $('yours-label').textContent = `${state.yours.label} · ${info.params.toLocaleString('en')} weights`;
    const radio = document.querySelector('input[value="yours"]');
    radio.disabled = false;
    radio.checked = true;
    state.slot = 'yours';
    $('download').disabled = false;
  }
  if (!pad.empty && slot === state.slot) predict();
}

$('model-switch').addEventListener('change', (e) => {
  state.slot = e.target.value;
  if (!pad.empty) predict();
});
$('clear').onclick = () => {
  pad.clear();
  $('pad-hint').hidden = false;
  predict();
};

// ---- training
$('train-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const epochs = Math.max(1, Math.min(50, Math.round(Number($('epochs').value) || 1)));
  $('epochs').value = epochs;
  const run = { type: 'train', kind: $('kind').value, epochs, batchSize: Number($('batch').value), lr: Number($('lr').value) };
  trainer ??= startWorker('training');
  trainer.onmessage = ({ data }) => trainingMessage(data, run);
  trainer.postMessage(run);
  chart.reset(epochs);
  $('train').disabled = true;
  $('stop').disabled = false;
  $('progress').value = 0;
  $('test-accuracy').textContent = '–';
  $('test-accuracy').dataset.accuracy = '';
  $('train-status').textContent = 'Starting the training worker…';
});
$('stop').onclick = () => {
  trainer?.postMessage({ type: 'stop' });
  $('stop').disabled = true;
  $('train-status').textContent = 'Stopping after this batch…';
};

function trainingMessage(msg, run) {
  const status = $('train-status');
  if (msg.type === 'status') status.textContent = msg.text;
  else if (msg.type === 'progress') {
    const x = msg.epoch + (msg.batch + 1) / msg.batches;
    $('progress').value = x / msg.epochs;
    chart.add({ x, loss: msg.loss, accuracy: msg.accuracy });
    status.textContent = `Epoch ${msg.epoch + 1}/${msg.epochs} · batch ${msg.batch + 1}/${msg.batches} · ` +
      `loss ${msg.loss.toFixed(3)} · accuracy ${percent(msg.epochAccuracy)} · ${msg.seconds.toFixed(1)} s`;
  } else if (msg.type === 'done') {
    const out = $('test-accuracy');
    out.textContent = `${percent(msg.accuracy, 2)} of ${msg.nTest} test images (loss ${msg.loss.toFixed(3)})`;
    out.dataset.accuracy = msg.accuracy.toFixed(4);
    status.textContent = `${msg.stopped ? 'Stopped' : 'Done'}: ${run.kind.toUpperCase()} trained for ` +
      `${msg.seconds.toFixed(1)} s in the worker. It now reads your drawings; download it to keep it.`;
    const label = `Trained here: ${run.kind.toUpperCase()}, ${percent(msg.accuracy)}`;
    useYours(msg.bytes, label, `wasmnn-${run.kind}-mnist.wnn`);
    trainingEnded();
  } else if (msg.type === 'error') {
    status.textContent = 'Training failed.';
    showError(msg.message);
    trainingEnded();
  }
}

function trainingEnded() {
  $('train').disabled = false;
  $('stop').disabled = true;
}

// ---- your model: download, load
function useYours(bytes, label, fileName) {
  state.pendingYours = { bytes, label, fileName };
  state.ready.yours = false;
  predictor.postMessage({ type: 'load', slot: 'yours', bytes: bytes.slice(), name: fileName });
}

$('download').onclick = () => {
  const { bytes, fileName } = state.yours;
  const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(new Blob([bytes])), download: fileName });
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
};
$('load').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  e.target.value = '';
  if (file) useYours(new Uint8Array(await file.arrayBuffer()), `Loaded: ${file.name}`, file.name);
});

const describeKind = () => ($('model-note').textContent = MODEL_KINDS[$('kind').value]);
$('kind').onchange = describeKind;
describeKind();

$('isolation').textContent = crossOriginIsolated
  ? 'cross-origin isolated'
  : 'not cross-origin isolated: no COOP/COEP headers needed';
