// The text tab's files for `wasmnn prepare-playground --lstm FILE --gpt FILE`: the character models trained by
// `wasmnn train --dataset moby-dick --model lstm|gpt` (each with its vocabulary beside it, FILE.vocab.json), checked
// and copied into OUT/text/ with a list the page reads first:
//   text/lstm.wnn, text/lstm.vocab.json, text/gpt.wnn, text/gpt.vocab.json
//   text/models.json  { lstm?: TextModelInfo, gpt?: TextModelInfo }: what the pickers offer; one slot given alone
//                     replaces that slot and keeps the other
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as nn from 'wasmnn';
import { UsageError } from './options';
import { vocabularyPath } from './results';

export const TEXT_SLOTS = ['lstm', 'gpt'] as const;
export type TextSlot = (typeof TEXT_SLOTS)[number];

/** What the page says about a character model and offers for it. */
export interface TextModelInfo {
  file: string;
  vocabulary: string;
  /** Where it came from (the file given), and its layers in order. */
  source: string;
  layers: string;
  params: number;
  /** Characters the model takes at once (its input steps); a GPT's prompt is cropped to the last ones. */
  steps: number;
  vocabularySize: number;
  /** The attention layers whose scores the heatmap shows (GPT): index in model.layers, name and heads. */
  attention: { index: number; name: string; heads: number }[];
}

/** Checks each model given and copies it with its vocabulary into `out`/text/; returns the lines to print. */
export function prepareTextModels(out: string, given: Partial<Record<TextSlot, string>>): string[] {
  const dir = join(out, 'text');
  const listFile = join(dir, 'models.json');
  const list: Partial<Record<TextSlot, TextModelInfo>> = existsSync(listFile) ? JSON.parse(readFileSync(listFile, 'utf8')) : {};
  const lines: string[] = [];
  // every model checked before anything is written: a mistake in the second leaves the first slot as it was
  const checked = TEXT_SLOTS.filter((slot) => given[slot] !== undefined).map((slot) => ({ slot, file: given[slot]!, ...inspect(slot, given[slot]!) }));
  mkdirSync(dir, { recursive: true });
  for (const { slot, file, info, bytes } of checked) {
    writeFileSync(join(dir, info.file), bytes);
    copyFileSync(vocabularyPath(file), join(dir, info.vocabulary));
    list[slot] = info;
    lines.push(`wrote ${join(dir, info.file)} (${(bytes.length / 2 ** 20).toFixed(2)} MiB) and ${info.vocabulary}: ${info.layers}, ${info.params.toLocaleString('en-US')} weights, ` +
      `${info.steps} characters at once${info.attention.length ? `, ${info.attention.length} attention layers` : ''}`);
  }
  writeFileSync(listFile, JSON.stringify(list, null, 2) + '\n');
  lines.push(`wrote ${listFile} (the text tab's models: ${TEXT_SLOTS.filter((s) => list[s]).join(', ') || 'none'})`);
  return lines;
}

/** Loads a character model and its vocabulary, checks that they fit each other and the slot, and describes them;
 *  the bytes are the model saved again without its optimizer state (the page only generates: a third of the size). */
function inspect(slot: TextSlot, file: string): { info: TextModelInfo; bytes: Uint8Array } {
  const flag = `--${slot}`;
  if (!existsSync(file)) throw new UsageError(`${flag}: no such model file: ${file}`, '');
  const vocabFile = vocabularyPath(file);
  if (!existsSync(vocabFile)) {
    throw new UsageError(`${flag}: no vocabulary beside the model: ${vocabFile} (the text tab takes a model saved by 'wasmnn train --dataset moby-dick')`, '');
  }
  let vocabulary: nn.data.CharVocabulary;
  try {
    vocabulary = nn.data.CharVocabulary.fromJSON(JSON.parse(readFileSync(vocabFile, 'utf8')));
  } catch (e) {
    throw new UsageError(`${flag}: ${vocabFile} is not a character vocabulary: ${(e as Error).message}`, '');
  }
  let model: nn.Sequential;
  try {
    model = nn.loadModel(readFileSync(file));
  } catch (e) {
    throw new UsageError(`${flag}: ${file}: ${(e as Error).message}`, '');
  }
  try {
    const [steps] = model.inputShape;
    const out = model.outputShape[model.outputShape.length - 1];
    if (model.inputShape.length !== 1) throw new UsageError(`${flag}: ${file} is no character model: its input is [${model.inputShape.join(', ')}], not [steps] of character ids`, '');
    if (out !== vocabulary.size) throw new UsageError(`${flag}: ${file} gives ${out} classes but its vocabulary has ${vocabulary.size} ids: not the vocabulary it was trained with`, '');
    const L = nn.layers;
    const attention = model.layers.flatMap((l, index) =>
      l instanceof L.MultiHeadAttention || l instanceof L.TransformerDecoder ? [{ index, name: l.name, heads: l.numHeads }] : []);
    const recurrent = model.layers.some((l) => l instanceof L.LSTM || l instanceof L.GRU || l instanceof L.SimpleRNN);
    if (slot === 'gpt' && attention.length === 0) throw new UsageError(`${flag}: ${file} has no attention layer: train it with --model gpt`, '');
    if (slot === 'lstm' && !recurrent) throw new UsageError(`${flag}: ${file} has no recurrent layer: train it with --model lstm (or gru)`, '');
    try {
      nn.generate(model, { prompt: [vocabulary.size - 1], length: 1, seed: 1 }); // the page steps it: check it can
    } catch (e) {
      throw new UsageError(`${flag}: ${file} cannot generate text: ${(e as Error).message}`, '');
    }
    const info = {
      file: `${slot}.wnn`, vocabulary: `${slot}.vocab.json`, source: basename(file),
      layers: runs(model.layers.map((l) => l.className)).join(' → '), params: model.countParams(),
      steps, vocabularySize: vocabulary.size, attention,
    };
    return { info, bytes: model.save({ includeOptimizer: false }) };
  } finally {
    model.dispose();
  }
}

/** Repeats in a row as one name with a count: [A, B, B, B, C] -> [A, B ×3, C]. */
function runs(names: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < names.length;) {
    let j = i;
    while (j < names.length && names[j] === names[i]) j++;
    out.push(j - i > 1 ? `${names[i]} ×${j - i}` : names[i]);
    i = j;
  }
  return out;
}
