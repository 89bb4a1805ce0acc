// `wasmnn attention MODEL --text TEXT`: where a character model's attention goes. Runs the text through the model
// (its vocabulary beside it, MODEL.vocab.json), takes one head of one attention layer (model.attentionScores) and
// writes it as an SVG heatmap, query characters down, key characters across; prints each character's strongest link.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import * as nn from 'wasmnn';
import { UsageError, nonNegativeInt, parseArgsError } from './options';
import { vocabularyPath, writeFile } from './results';

export interface AttentionOptions {
  model: string;
  text: string;
  /** An index in model.layers or a layer name; undefined: the last attention layer. */
  layer?: string | number;
  head: number;
  out: string;
}

export const ATTENTION_HELP = `Usage: wasmnn attention MODEL --text TEXT [options]

Shows where a character model's attention goes (MODEL: a model whose input is character ids, with its
vocabulary MODEL.vocab.json beside it, as 'wasmnn train --dataset moby-dick' saves it). Writes one head of
one attention layer as an SVG heatmap (rows: query characters, columns: key characters; grey cells are
exactly 0, as a causal mask's future) and prints, for each character, the one it attends to most.
A text shorter than the model's steps is padded at the end; the padding is not drawn.

  --text TEXT           the characters to look at (at most the model's steps)          [required]
  --layer L             attention layer: index in the model's layers or name (also a
                        transformer block)                                  [the last attention layer]
  --head H              head of that layer, from 0                                         [0]
  --out FILE.svg        where the heatmap goes                          [MODEL.attention.svg]
  -h, --help            this text
`;

/** Parses the arguments after `attention`; undefined when help was asked for. */
export function parseAttentionOptions(args: string[]): AttentionOptions | undefined {
  return oneLine(() => parse(args));
}

/** attention's mistakes are one line each: the message names the option and the value, no hint follows. */
function oneLine<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw withoutHint(e);
  }
}

function withoutHint(e: unknown): unknown {
  return e instanceof UsageError && e.hint ? new UsageError(e.message, '') : e;
}

function parse(args: string[]): AttentionOptions | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        text: { type: 'string' },
        layer: { type: 'string' },
        head: { type: 'string', default: '0' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw parseArgsError(e);
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length ? `attention takes one model file, got ${positionals.length}: ${positionals.join(' ')}` : 'attention needs a model file: wasmnn attention MODEL --text TEXT');
  }
  const model = positionals[0];
  if (!existsSync(model) || !statSync(model).isFile()) throw new UsageError(`no such model file: ${model}`);
  if (values.text === undefined || values.text === '') throw new UsageError('attention needs --text with at least one character');
  const layer = values.layer === undefined ? undefined : values.layer.trim() === '' ? bad('--layer is empty') : /^\d+$/.test(values.layer.trim()) ? Number(values.layer) : values.layer;
  const out = values.out ?? `${extname(model) ? model.slice(0, -extname(model).length) : model}.attention.svg`;
  return { model, text: values.text, layer, head: nonNegativeInt('--head', values.head!), out };
}

function bad(message: string): never {
  throw new UsageError(message, '');
}

/** The strongest link of each query position: the key with the largest weight (the first of equals). */
export function strongestLinks(weights: ArrayLike<number>, n: number): { key: number; weight: number }[] {
  return Array.from({ length: n }, (_, q) => {
    let key = 0;
    for (let k = 1; k < n; k++) if (weights[q * n + k] > weights[q * n + key]) key = k;
    return { key, weight: weights[q * n + key] };
  });
}

export async function attention(opts: AttentionOptions): Promise<void> {
  await nn.ready();
  try {
    await run(opts);
  } catch (e) {
    throw withoutHint(e);
  }
}

async function run(opts: AttentionOptions): Promise<void> {
  const vocabFile = vocabularyPath(opts.model);
  if (!existsSync(vocabFile)) {
    throw new UsageError(`no vocabulary beside the model: ${vocabFile} (attention takes a character model saved with its vocabulary)`);
  }
  const vocabulary = nn.data.CharVocabulary.fromJSON(JSON.parse(readFileSync(vocabFile, 'utf8')));
  const model = nn.loadModel(readFileSync(opts.model));
  try {
    const chars = Array.from(opts.text); // code points, as the vocabulary counts them
    const ids = vocabulary.encode(opts.text);
    const unknown = ids.indexOf(nn.data.UNKNOWN_ID);
    if (unknown >= 0) throw new UsageError(`--text: character ${JSON.stringify(chars[unknown])} at position ${unknown} is not in the model's vocabulary`);
    const shape = model.inputShape;
    const steps = shape[0];
    if (shape.length !== 1 || typeof steps !== 'number') throw new UsageError(`${opts.model} is no character model: its input is [${shape.join(', ')}], not [steps] of character ids`);
    if (chars.length > steps) throw new UsageError(`--text has ${chars.length} characters; the model takes at most ${steps}`);
    const attentive = model.layers.map((l, i) => [l, i] as const).filter(([l]) =>
      l instanceof nn.layers.MultiHeadAttention || l instanceof nn.layers.TransformerEncoder || l instanceof nn.layers.TransformerDecoder);
    if (attentive.length === 0) throw new UsageError(`${opts.model} has no attention layer (multiHeadAttention, transformerEncoder or transformerDecoder)`);
    const layer = opts.layer ?? attentive[attentive.length - 1][1];
    const input = new Float32Array(steps); // padded with PAD_ID (0) past the text
    input.set(ids);
    let scores: nn.Tensor;
    try {
      scores = model.attentionScores(nn.tensor(input, [1, steps]), { layer });
    } catch (e) {
      // the layer choice is the only thing left to go wrong: say it as a command-line mistake
      if (e instanceof nn.NotFoundError || e instanceof nn.ValueError) throw new UsageError(`--layer: ${e.message.replace(/^attentionScores: /, '')}`);
      throw e;
    }
    const [, heads] = scores.shape;
    if (opts.head >= heads) throw new UsageError(`--head ${opts.head} is out of range: the layer has ${heads} head${heads === 1 ? '' : 's'} (0 to ${heads - 1})`);
    const index = typeof layer === 'number' ? layer : model.layers.findIndex((l) => l.name === layer);
    const name = model.layers[index].name;
    const n = chars.length;
    const map = new Float32Array(n * n); // the text's corner of the head's steps x steps map
    const base = opts.head * steps * steps;
    for (let q = 0; q < n; q++) map.set(scores.data.subarray(base + q * steps, base + q * steps + n), q * n);
    const svg = nn.report.heatmapSvg(map, chars, chars, { title: `${name} (layer ${index}), head ${opts.head} of ${heads}` });
    writeFile(opts.out, svg);
    console.log(`attention of ${name} (layer ${index}), head ${opts.head} of ${heads}; strongest link of each character:`);
    const width = String(n - 1).length;
    strongestLinks(map, n).forEach(({ key, weight }, q) => {
      console.log(`  ${String(q).padStart(width)} ${JSON.stringify(chars[q])} -> ${String(key).padStart(width)} ${JSON.stringify(chars[key])}  ${weight.toFixed(3)}`);
    });
    console.log(`heatmap: ${opts.out}`);
  } finally {
    model.dispose();
  }
}
