// The text tab's Web Worker: continues a prompt with a character model (nn.generate, seeded; the GPT with its KV
// cache) and posts every character as it is drawn, and reads the GPT's attention over a text (model.attentionScores,
// drawn by nn.report.heatmapSvg). The page runs two: one generates, one draws the heatmap, so neither waits for the
// other. generate runs to its end in one call, so the page stops a run by ending this worker and starting a new one.
//   {type:'load', slot, info}                                  -> {type:'loaded', slot} | {type:'error', ...}
//   {type:'generate', slot, prompt, length, temperature, topK, seed, slide}
//        -> {type:'start', cropped, unknown, slide}, {type:'tokens', text, count} as characters are drawn, {type:'done', count, seconds}
//   {type:'attention', id, slot, text, layer, head, cell}      -> {type:'attention', id, svg, n, cropped, layer, head, heads, cell}
import * as nn from '../dist/index.js';

const TEXT_DIR = new URL('../build/playground/text/', import.meta.url);
const PREPARE = 'train them with `node dist/cli.js train --dataset moby-dick --model lstm|gpt`, then add them with ' +
  '`node dist/cli.js prepare-playground --text-only --lstm FILE --gpt FILE`';
const loaded = {}; // slot -> { model, vocabulary, info }
let queue = Promise.resolve(); // one message at a time, in order: a generate posted right after its load waits for it

self.onmessage = ({ data: msg }) => {
  queue = queue.then(() => handle(msg));
};

async function handle(msg) {
  try {
    await nn.ready();
    if (msg.type === 'load') await load(msg);
    else if (msg.type === 'generate') generate(msg);
    else if (msg.type === 'attention') attention(msg);
  } catch (e) {
    self.postMessage({ type: 'error', slot: msg.slot, during: msg.type, id: msg.id, message: e?.message ?? String(e) });
  }
}

async function load({ slot, info }) {
  if (loaded[slot]) return self.postMessage({ type: 'loaded', slot });
  const get = async (name) => {
    const res = await fetch(new URL(name, TEXT_DIR));
    if (!res.ok) throw new Error(`The ${slot.toUpperCase()}'s ${name} is missing (HTTP ${res.status}): ${PREPARE}.`);
    return res;
  };
  const [bytes, vocab] = await Promise.all([get(info.file).then((r) => r.arrayBuffer()), get(info.vocabulary).then((r) => r.json())]);
  const vocabulary = nn.data.CharVocabulary.fromJSON(vocab);
  const model = nn.loadModel(new Uint8Array(bytes));
  loaded[slot] = { model, vocabulary, info };
  self.postMessage({ type: 'loaded', slot });
}

function using(slot) {
  if (!loaded[slot]) throw new Error(`the ${slot.toUpperCase()} is not loaded`);
  return loaded[slot];
}

/** The ids of the last `keep` characters of `text` (all when keep is undefined), and what was left out or unknown. */
function encode(vocabulary, text, keep) {
  const chars = Array.from(text); // code points, as the vocabulary counts them
  const cropped = keep !== undefined && chars.length > keep ? chars.length - keep : 0;
  const kept = chars.slice(cropped);
  const ids = vocabulary.encode(kept.join(''));
  const unknown = [...new Set(kept.filter((_, i) => ids[i] === nn.data.UNKNOWN_ID))];
  return { chars: kept, ids, cropped, unknown };
}

function generate({ slot, prompt, length, temperature, topK, seed, slide }) {
  const { model, vocabulary, info } = using(slot);
  // a GPT sees at most its steps (the position table), and past them slides its window as asked ('token' or
  // 'half', nn.generate's slide); the LSTM carries its state over any length
  const gpt = info.attention.length > 0;
  const { ids, cropped, unknown } = encode(vocabulary, prompt, gpt ? info.steps : undefined);
  self.postMessage({ type: 'start', cropped, unknown, slide: gpt ? slide : undefined });
  const started = performance.now();
  // each character leaves as soon as it is drawn, but at most one message every 15 ms: a fast model drawing thousands
  // a second would otherwise keep the page busy with messages (the text is the same however it is cut)
  let pending = '', posted = 0, sent = 0;
  const post = (count) => {
    self.postMessage({ type: 'tokens', text: pending, count });
    pending = '';
    posted = performance.now();
    sent = count;
  };
  const out = nn.generate(model, {
    prompt: ids, length, temperature, seed, ...(topK ? { topK } : {}), ...(gpt ? { slide } : {}),
    onToken: (id, t) => {
      pending += vocabulary.charOf(id);
      if (performance.now() - posted >= 15) post(t + 1);
    },
  });
  if (sent < out.length) post(out.length); // the rest (a padding id draws as nothing, but it counts)
  self.postMessage({ type: 'done', count: out.length, seconds: (performance.now() - started) / 1000 });
}

function attention({ id, slot, text, layer, head, cell }) {
  const { model, vocabulary, info } = using(slot);
  const steps = info.steps;
  const { chars, ids, cropped } = encode(vocabulary, text, steps);
  const n = ids.length;
  if (n === 0) return self.postMessage({ type: 'attention', id, svg: '', n: 0, cropped, layer, head, heads: 0, cell });
  const input = new Float32Array(steps); // padded with 0 past the text: the causal mask keeps the text's rows as they are
  input.set(ids);
  const scores = model.attentionScores(nn.tensor(input, [1, steps]), { layer });
  const heads = scores.shape[1];
  if (!(head >= 0 && head < heads)) throw new Error(`head ${head} is out of range: the layer has ${heads} heads`);
  const map = new Float32Array(n * n); // the text's corner of the head's steps x steps map
  const base = head * steps * steps;
  for (let q = 0; q < n; q++) map.set(scores.data.subarray(base + q * steps, base + q * steps + n), q * n);
  const name = model.layers[layer].name;
  const svg = nn.report.heatmapSvg(map, chars, chars, { title: `${name}, head ${head} of ${heads}`, cell });
  self.postMessage({ type: 'attention', id, svg, n, cropped, layer, head, heads, cell });
}
