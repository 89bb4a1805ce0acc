// The playground's Text tab: a character model (the LSTM or the GPT trained by `wasmnn train --dataset moby-dick`)
// continues the text typed, one character at a time as the worker draws it, and a heatmap shows where one head of
// one GPT layer looks within that text. Two workers (text-worker.js): one generates, one draws the heatmap. Stop ends
// the generating worker at once (generate is one call that cannot hear a message) and the next run starts a new one.
import { $, showError, tabs } from './ui.js';

const LIST = '../build/playground/text/models.json';
const NAMES = { lstm: 'LSTM', gpt: 'GPT' };
const HOW = [
  'node dist/cli.js train --dataset moby-dick --model lstm --epochs 1 --max-steps 2000 --out out/lstm.wnn',
  'node dist/cli.js train --dataset moby-dick --model gpt --epochs 1 --max-steps 2000 --out out/gpt.wnn',
  'node dist/cli.js prepare-playground --text-only --lstm out/lstm.wnn --gpt out/gpt.wnn',
];

const state = { models: null, generator: null, drawer: null, run: null, attentionId: 0, shown: false };
const given = $('continuation').querySelector('.given');
const fresh = $('continuation').querySelector('.new');

tabs((panel) => {
  if (panel === 'text' && !state.shown) start();
});

/** The first time the tab is shown: read which models are prepared, then load the chosen one. */
async function start() {
  state.shown = true;
  const res = await fetch(LIST).catch(() => null);
  state.models = res?.ok ? await res.json().catch(() => null) : null;
  const slots = Object.keys(NAMES).filter((s) => state.models?.[s]);
  if (slots.length === 0) return missing();
  for (const option of $('text-model').options) {
    const ready = slots.includes(option.value);
    option.disabled = !ready;
    option.textContent = `${NAMES[option.value]}${ready ? '' : ' (not prepared)'}`;
  }
  if (!slots.includes($('text-model').value)) $('text-model').value = slots[0];
  chooseModel();
}

function missing() {
  const box = $('text-missing');
  box.hidden = false;
  box.innerHTML = '<p><strong>No character model is prepared.</strong> Train the LSTM and the GPT on Moby Dick ' +
    '(some minutes each), add them to the playground, then reload this page:</p>';
  // a narrow screen wraps the commands between their words only, never at an option's hyphen ("--max-" / "steps")
  const pre = document.createElement('pre');
  HOW.forEach((line, i) => line.split(' ').forEach((word, j) => {
    if (j > 0) pre.append(' ');
    else if (i > 0) pre.append('\n');
    pre.append(Object.assign(document.createElement('span'), { textContent: word }));
  }));
  box.append(pre);
  $('text-model').disabled = true;
  $('slide').disabled = true;
  $('attention-pickers').hidden = true;
  $('attention-note').textContent = 'The heatmap needs the GPT: see above.';
  document.body.dataset.text = 'missing';
}

function textWorker(role) {
  const worker = new Worker(new URL('./text-worker.js', import.meta.url), { type: 'module', name: `text ${role}` });
  worker.onerror = (e) => {
    e.preventDefault();
    showError(`The text ${role} worker could not start (${e.message || 'its script or the library failed to load'}). ` +
      'Is the library built? Run `npm run build`, then reload.');
    if (role === 'generation') ended('failed');
  };
  return worker;
}

const slot = () => $('text-model').value;
const info = () => state.models?.[slot()];

function chooseModel() {
  const m = info();
  if (!m) return;
  $('text-model-note').textContent = `${NAMES[slot()]}: ${m.layers}, ${m.params.toLocaleString('en')} weights, ` +
    `${m.vocabularySize} character ids, trained on windows of ${m.steps} characters` +
    (m.attention.length ? `; it sees the last ${m.steps} characters` : '') + ` (${m.source}).`;
  generator().postMessage({ type: 'load', slot: slot(), info: m });
  showSlide();
  showLayers();
}

/** The GPT's choice past its window (nn.generate's slide), said in a line under the form; the LSTM has no window
 *  (it carries its state over any length), so the choice is off for it. */
function showSlide() {
  const m = info();
  const gpt = m.attention.length > 0;
  $('slide').disabled = !gpt || Boolean(state.run);
  const w = m.steps;
  $('slide-note').textContent = !gpt ? '' : $('slide').value === 'half'
    ? `Slide by half: once the text fills its ${w}-character window, the GPT restarts from the last ${w >> 1} ` +
      `characters and steps on with its cache: many times faster, each new character seeing ${w >> 1} to ${w} before it.`
    : `Slide by 1: once the text fills its ${w}-character window, the GPT re-runs the last ${w} characters for every ` +
      'new one, as nanoGPT does: each character sees a whole window, but it is slow.';
}

// ---- generation
function generator() {
  if (state.generator) return state.generator;
  const worker = (state.generator = textWorker('generation'));
  worker.onmessage = ({ data: msg }) => {
    const run = state.run;
    if (msg.type === 'loaded') {
      if (msg.slot === slot() && !run) $('generate').disabled = false;
      if (msg.slot === slot()) document.body.dataset.text = 'ready';
    } else if (msg.type === 'start' && run) {
      const notes = [];
      if (msg.cropped) notes.push(`the ${NAMES[run.slot]} sees the last ${Array.from(run.prompt).length - msg.cropped} characters of your text`);
      if (msg.unknown.length) notes.push(`it never saw ${msg.unknown.map((c) => JSON.stringify(c)).join(' ')}`);
      if (msg.slide === 'half') notes.push('its window slides by half');
      run.note = notes.length ? ` (${notes.join('; ')})` : '';
      fresh.dataset.slide = msg.slide ?? ''; // what the worker handed to nn.generate (nothing for the LSTM)
      status(`Generating with the ${NAMES[run.slot]}…${run.note}`);
    } else if (msg.type === 'tokens' && run) {
      run.node.appendData(msg.text);
      run.count = msg.count;
      fresh.dataset.updates = String(++run.updates);
      fresh.dataset.count = String(run.count); // characters drawn (a padding id draws as nothing)
      run.frame ||= requestAnimationFrame(() => showProgress(run));
    } else if (msg.type === 'done' && run) {
      const rate = msg.count / Math.max(msg.seconds, 1e-6);
      status(`Done: ${msg.count} characters in ${msg.seconds.toFixed(2)} s (${Math.round(rate).toLocaleString('en')} characters/s in the worker), ` +
        `seed ${run.seed}${run.note}.`);
      ended('done');
    } else if (msg.type === 'error') {
      if (msg.during === 'load') $('generate').disabled = true;
      status(msg.during === 'load' ? `The ${NAMES[msg.slot]} could not be loaded.` : 'Generation failed.');
      showError(msg.message);
      if (run) ended('failed');
    }
  };
  return worker;
}

/** Once a frame while characters stream in (a thousand a second would be a thousand layouts): the count, and the
 *  continuation scrolled to its end. */
function showProgress(run) {
  run.frame = 0;
  if (state.run !== run) return;
  status(`${run.count} of ${run.length} characters…${run.note}`);
  $('continuation').scrollTop = $('continuation').scrollHeight;
}

function status(text) {
  $('generate-status').textContent = text;
}

function number(id, { min, max, whole }) {
  const input = $(id);
  let v = Number(input.value);
  if (!Number.isFinite(v) || input.value.trim() === '') v = Number(input.defaultValue);
  if (whole) v = Math.round(v);
  v = Math.min(max, Math.max(min, v));
  input.value = String(v);
  return v;
}

$('generate-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (state.run || !info()) return;
  const prompt = $('prompt').value;
  if (prompt.length === 0) return status('Type a few words first: the model continues them.');
  const run = {
    slot: slot(), prompt, length: number('length', { min: 1, max: 5000, whole: true }),
    temperature: number('temperature', { min: 0.05, max: 5 }), topK: number('top-k', { min: 0, max: 1000, whole: true }),
    seed: number('seed', { min: 0, max: 2 ** 32 - 1, whole: true }), slide: $('slide').value,
    count: 0, updates: 0, note: '', frame: 0,
  };
  state.run = run;
  given.textContent = prompt;
  fresh.textContent = '';
  fresh.append((run.node = document.createTextNode('')));
  fresh.dataset.updates = fresh.dataset.count = '0';
  document.body.dataset.generation = 'running';
  $('generate').disabled = true;
  $('generate-stop').disabled = false;
  $('text-model').disabled = true;
  $('slide').disabled = true;
  status(`Starting the ${NAMES[run.slot]}…`);
  const worker = generator();
  worker.postMessage({ type: 'load', slot: run.slot, info: info() }); // a new worker (after Stop) loads it again
  worker.postMessage({ type: 'generate', slot: run.slot, prompt, length: run.length, temperature: run.temperature, topK: run.topK, seed: run.seed, slide: run.slide });
});

$('generate-stop').onclick = () => {
  if (!state.run) return;
  // generate is one synchronous call in the worker: ending the worker is what stops it at once
  state.generator.terminate();
  state.generator = null;
  status(`Stopped after ${state.run.count} of ${state.run.length} characters.`);
  ended('stopped');
};

function ended(how) {
  $('continuation').scrollTop = $('continuation').scrollHeight;
  state.run = null;
  document.body.dataset.generation = how;
  $('generate').disabled = false;
  $('generate-stop').disabled = true;
  $('text-model').disabled = false;
  showSlide();
}

$('text-model').onchange = chooseModel;
$('slide').onchange = showSlide;

// ---- the attention heatmap (the GPT only)
function drawer() {
  if (state.drawer) return state.drawer;
  const worker = (state.drawer = textWorker('attention'));
  worker.onmessage = ({ data: msg }) => {
    if (msg.type === 'attention' && msg.id === state.attentionId) showHeatmap(msg);
    else if (msg.type === 'error' && (msg.during === 'load' || msg.id === state.attentionId)) {
      $('attention-note').textContent = 'The heatmap could not be drawn.';
      showError(msg.message);
    }
  };
  return worker;
}

/** The layer picker: the chosen model's attention layers (the last one first chosen, as `wasmnn attention` does). */
function showLayers() {
  const m = info();
  const layers = m?.attention ?? [];
  const picker = $('attention-layer');
  picker.innerHTML = '';
  layers.forEach(({ index, name }, i) => picker.append(Object.assign(new Option(`block ${i + 1} of ${layers.length}`, String(index)), { title: name })));
  picker.value = layers.length ? String(layers[layers.length - 1].index) : '';
  $('attention-pickers').hidden = layers.length === 0;
  if (layers.length === 0) {
    $('attention-head').innerHTML = '';
    $('heatmap').innerHTML = '';
    $('heatmap').dataset.n = '0';
    $('attention-note').textContent = `The ${NAMES[slot()]} has no attention: choose the GPT to see where it looks.`;
    return;
  }
  drawer().postMessage({ type: 'load', slot: slot(), info: m });
  showHeads();
}

function showHeads() {
  const layer = info().attention.find((l) => String(l.index) === $('attention-layer').value);
  const picker = $('attention-head');
  const chosen = Math.min(Number(picker.value) || 0, layer.heads - 1);
  picker.innerHTML = '';
  for (let h = 0; h < layer.heads; h++) picker.append(new Option(String(h), String(h)));
  picker.value = String(chosen);
  requestHeatmap();
}

let typing = 0;
function requestHeatmap() {
  clearTimeout(typing);
  if (!info()?.attention.length) return;
  const text = $('prompt').value;
  $('attention-note').textContent = text ? 'Reading your text…' : 'Type some text to see where the GPT looks.';
  // cells of 18 px, down to 12 on a narrow screen so that the map fits it (the SVG's margins take about 150 px);
  // still too wide (a phone, a long text), it is shrunk to the card (showHeatmap)
  const n = Math.min(Array.from(text).length, info().steps);
  const cell = Math.max(12, Math.min(18, Math.floor(($('heatmap').clientWidth - 150) / Math.max(n, 1))));
  drawer().postMessage({
    type: 'attention', id: ++state.attentionId, slot: slot(), text, cell,
    layer: Number($('attention-layer').value), head: Number($('attention-head').value),
  });
}

function showHeatmap(msg) {
  const box = $('heatmap');
  box.innerHTML = msg.svg; // built by nn.report.heatmapSvg in our worker; every label is escaped there
  box.dataset.n = String(msg.n);
  box.dataset.cell = String(msg.cell);
  // shrunk to the card's width when it is wider (a phone, a long text): the whole map and its colour scale stay in
  // sight, and a phone's pinch zoom reads the small labels; never drawn larger than its size
  box.querySelector('svg')?.style.setProperty('--natural', `${box.querySelector('svg').getAttribute('width')}px`);
  if (msg.n === 0) return ($('attention-note').textContent = 'Type some text to see where the GPT looks.');
  $('attention-note').textContent = 'Each row is a character of your text, each cell how much it attends to the ' +
    'character of that column (darker: more). The causal mask leaves the future grey.' +
    (msg.cropped ? ` The GPT sees the last ${msg.n} characters; the first ${msg.cropped} are left out.` : '');
}

$('attention-layer').onchange = showHeads;
let resizing = 0, lastWidth = 0;
addEventListener('resize', () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => {
    const width = $('heatmap').clientWidth; // another width can mean another cell size
    if (width !== lastWidth && $('heatmap').dataset.n > 0) requestHeatmap();
    lastWidth = width;
  }, 200);
});
$('attention-head').onchange = requestHeatmap;
$('prompt').addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(requestHeatmap, 250);
});
