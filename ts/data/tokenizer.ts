// A word tokenizer in the manner of Keras's Tokenizer (keras.preprocessing.text), with its defaults and semantics:
// - a text is lowercased (lower), each character of `filters` becomes `split`, the text is split on `split`, and
//   empty pieces are dropped; with charLevel every character is a token (no filters). A text may also be given as
//   an array of tokens, which are only lowercased.
// - fitOnTexts counts words; wordIndex numbers them by count, most frequent first (ties in order of first
//   appearance), from 1: 0 is never a word (it is padding). With oovToken, the token takes index 1.
// - textsToSequences keeps only words whose index is below numWords (the numWords - 1 most frequent) and known
//   words; the others become the oovToken's index when there is one, else are dropped.
// - sequencesToTexts is its inverse, joining with spaces (as Keras, an id with no word, 0 included, becomes the
//   oovToken when there is one, else is dropped).
// One difference from Keras: an oovToken that also occurs as a word in the texts keeps index 1 and is not indexed
// twice (Keras would give it a second index and overwrite the first).
import { StateError, ValueError } from '../backend/errors';
import { describe, isArrayLike } from './describe';

/** Keras's default filters: ASCII punctuation except the apostrophe, plus tab and newline. */
export const DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n';

export interface TokenizerOptions {
  /** Keep the numWords - 1 most frequent words (indices 1..numWords-1); default all. */
  numWords?: number;
  /** Characters replaced by `split` before splitting. Default DEFAULT_FILTERS. */
  filters?: string;
  /** Lowercase the texts (default true). */
  lower?: boolean;
  /** The separator words are split on (default ' '). */
  split?: string;
  /** Every character is a token (default false). */
  charLevel?: boolean;
  /** The token that stands for words out of the vocabulary (index 1); default none: such words are dropped. */
  oovToken?: string;
}

export interface TokenizerJSON {
  type: 'tokenizer';
  config: Required<Omit<TokenizerOptions, 'numWords' | 'oovToken'>> & { numWords: number | null; oovToken: string | null };
  documentCount: number;
  /** [word, count] in order of first appearance: wordIndex is rebuilt from them. */
  wordCounts: [string, number][];
  /** [word, number of texts it occurs in], in the same order. */
  wordDocs: [string, number][];
}

/** A text: a string, or already a list of tokens. */
export type TextInput = string | readonly string[];

export class Tokenizer {
  readonly numWords: number | undefined;
  readonly filters: string;
  readonly lower: boolean;
  readonly split: string;
  readonly charLevel: boolean;
  readonly oovToken: string | undefined;
  /** How many texts fitOnTexts has seen. */
  documentCount = 0;
  /** Each word's count over all texts, in order of first appearance. */
  readonly wordCounts = new Map<string, number>();
  /** Each word's number of texts it occurs in. */
  readonly wordDocs = new Map<string, number>();
  /** Word -> index (1 = the most frequent word, or the oovToken). Every word seen, beyond numWords too. */
  wordIndex = new Map<string, number>();
  /** Index -> word: indexWord[i] is the word of index i (indexWord[0] is undefined). */
  indexWord: (string | undefined)[] = [];
  private fitted = false;
  // What fitOnTexts counts into, one slot per word in order of first appearance: one Map look-up per token, and
  // the text a slot last appeared in (instead of a Set of each text's words) for wordDocs.
  private readonly slots = new Map<string, number>();
  private readonly words: string[] = [];
  private readonly counts: number[] = [];
  private readonly docs: number[] = [];
  private readonly lastDoc: number[] = [];
  private readonly filterRe: RegExp | undefined;
  /** Code unit -> 1 if it separates words (a filter or the split), when all of them are single BMP code units. */
  private readonly breaks: Uint8Array | undefined;

  constructor(options: TokenizerOptions = {}) {
    if (options === null || typeof options !== 'object') throw new ValueError(`tokenizer: options must be an object, got ${describe(options)}`);
    const { numWords, filters = DEFAULT_FILTERS, lower = true, split = ' ', charLevel = false, oovToken } = options;
    if (numWords !== undefined && numWords !== null && !(Number.isInteger(numWords) && numWords >= 1)) {
      throw new ValueError(`tokenizer: numWords must be a whole number >= 1 (or left out for all words), got ${numWords}`);
    }
    if (typeof filters !== 'string') throw new ValueError(`tokenizer: filters must be a string of characters, got ${describe(filters)}`);
    if (typeof split !== 'string' || split.length === 0) throw new ValueError(`tokenizer: split must be a non-empty string, got ${describe(split)}`);
    if (typeof lower !== 'boolean') throw new ValueError(`tokenizer: lower must be true or false, got ${describe(lower)}`);
    if (typeof charLevel !== 'boolean') throw new ValueError(`tokenizer: charLevel must be true or false, got ${describe(charLevel)}`);
    if (oovToken !== undefined && oovToken !== null && (typeof oovToken !== 'string' || oovToken === '')) {
      throw new ValueError(`tokenizer: oovToken must be a non-empty string, got ${describe(oovToken)}`);
    }
    this.numWords = numWords ?? undefined;
    this.filters = filters;
    this.lower = lower;
    this.split = split;
    this.charLevel = charLevel;
    this.oovToken = oovToken ?? undefined;
    // one character class of the filters' code points ('u': a filter may be outside the BMP)
    const escaped = Array.from(filters, (c) => (/[\\\]^-]/.test(c) ? '\\' + c : c)).join('');
    this.filterRe = filters.length ? new RegExp(`[${escaped}]`, 'gu') : undefined;
    // The usual case, a one-character split and filters in the BMP: words are the runs between any of them, found
    // in one scan (the same words as replacing and splitting, without the two intermediate strings).
    const units = [...filters, split].map((c) => c.charCodeAt(0));
    if (split.length === 1 && [...filters].every((c) => c.length === 1) && units.every((u) => u < 0xd800 || u > 0xdfff)) {
      this.breaks = new Uint8Array(0x10000);
      for (const u of units) this.breaks[u] = 1;
    }
  }

  /** The ids textsToSequences can produce are below this: the inputDim of an embedding that reads them. */
  get vocabularySize(): number {
    const all = Math.max(this.indexWord.length, 1);
    if (this.numWords === undefined) return all;
    // the oovToken's index 1 is produced even when numWords is 1, as in Keras
    return Math.min(Math.max(this.numWords, this.oovToken === undefined ? 1 : 2), all);
  }

  /** The tokens of one text, as fitOnTexts and textsToSequences see them. */
  tokenize(text: TextInput): string[] {
    checkTexts([text], 'tokenize');
    return this.tokens(text);
  }

  private tokens(text: TextInput): string[] {
    if (typeof text !== 'string') {
      return text.map((t) => (this.lower ? t.toLowerCase() : t));
    }
    const lowered = this.lower ? text.toLowerCase() : text;
    if (this.charLevel) return Array.from(lowered);
    if (this.breaks) return scanWords(lowered, this.breaks);
    const spaced = this.filterRe ? lowered.replace(this.filterRe, this.split) : lowered;
    return spaced.split(this.split).filter((w) => w !== '');
  }

  /** Counts the words of the texts (adding to what earlier calls counted) and renumbers wordIndex. */
  fitOnTexts(texts: readonly TextInput[]): this {
    checkTexts(texts, 'fitOnTexts');
    const { slots, words, counts, docs, lastDoc } = this;
    for (const text of texts) {
      const doc = this.documentCount++;
      for (const w of this.tokens(text)) {
        let k = slots.get(w);
        if (k === undefined) {
          k = words.length;
          slots.set(w, k);
          words.push(w);
          counts.push(0);
          docs.push(0);
          lastDoc.push(-1);
        }
        counts[k]++;
        if (lastDoc[k] !== doc) {
          lastDoc[k] = doc;
          docs[k]++;
        }
      }
    }
    this.publishCounts();
    this.reindex();
    return this;
  }

  /** wordCounts and wordDocs from the slots. */
  private publishCounts(): void {
    this.wordCounts.clear();
    this.wordDocs.clear();
    this.words.forEach((w, k) => {
      this.wordCounts.set(w, this.counts[k]);
      this.wordDocs.set(w, this.docs[k]);
    });
  }

  /** Each text as the indices of its words (see the file's comment for numWords and oovToken). */
  textsToSequences(texts: readonly TextInput[]): Int32Array[] {
    this.checkFitted('textsToSequences');
    checkTexts(texts, 'textsToSequences');
    const limit = this.numWords ?? Infinity;
    const oov = this.oovToken === undefined ? undefined : this.wordIndex.get(this.oovToken);
    return texts.map((text) => {
      const tokens = this.tokens(text);
      const ids = new Int32Array(tokens.length);
      let n = 0;
      for (const w of tokens) {
        const i = this.wordIndex.get(w);
        if (i !== undefined && i < limit) ids[n++] = i;
        else if (oov !== undefined) ids[n++] = oov;
      }
      return n === ids.length ? ids : ids.slice(0, n);
    });
  }

  /** Each sequence of indices as its words joined by spaces (see the file's comment). */
  sequencesToTexts(sequences: readonly ArrayLike<number>[]): string[] {
    this.checkFitted('sequencesToTexts');
    if (!Array.isArray(sequences)) throw new ValueError(`sequencesToTexts: expected an array of sequences, got ${describe(sequences)}`);
    const limit = this.numWords ?? Infinity;
    const oovWord = this.oovToken === undefined ? undefined : this.oovToken;
    return sequences.map((seq, s) => {
      if (!isArrayLike(seq)) {
        throw new ValueError(`sequencesToTexts: sequence ${s} is ${describe(seq)}, not an array of indices`);
      }
      const words: string[] = [];
      for (let j = 0; j < seq.length; j++) {
        const i = seq[j];
        if (!Number.isInteger(i)) throw new ValueError(`sequencesToTexts: sequence ${s}, position ${j}: ${i} is not a whole number`);
        const word = i >= 0 ? this.indexWord[i] : undefined;
        if (word !== undefined && i < limit) words.push(word);
        else if (oovWord !== undefined) words.push(oovWord);
      }
      return words.join(' ');
    });
  }

  toJSON(): TokenizerJSON {
    return {
      type: 'tokenizer',
      config: {
        numWords: this.numWords ?? null, filters: this.filters, lower: this.lower, split: this.split,
        charLevel: this.charLevel, oovToken: this.oovToken ?? null,
      },
      documentCount: this.documentCount,
      wordCounts: [...this.wordCounts],
      wordDocs: [...this.wordDocs],
    };
  }

  /** A tokenizer saved with toJSON, with the same configuration, counts and wordIndex. */
  static fromJSON(json: TokenizerJSON): Tokenizer {
    if (json?.type !== 'tokenizer' || typeof json.config !== 'object' || !Array.isArray(json.wordCounts) || !Array.isArray(json.wordDocs)) {
      throw new ValueError('Tokenizer.fromJSON: expected { type: "tokenizer", config, documentCount, wordCounts, wordDocs }');
    }
    const { numWords, oovToken, ...rest } = json.config;
    const t = new Tokenizer({ ...rest, numWords: numWords ?? undefined, oovToken: oovToken ?? undefined });
    if (!(Number.isInteger(json.documentCount) && json.documentCount >= 0)) {
      throw new ValueError(`Tokenizer.fromJSON: documentCount must be a whole number >= 0, got ${json.documentCount}`);
    }
    t.documentCount = json.documentCount;
    const counts = readCounts(json.wordCounts, 'wordCounts');
    const docs = readCounts(json.wordDocs, 'wordDocs');
    for (const [w, n] of counts) {
      const d = docs.get(w);
      if (d === undefined || d > n || d > t.documentCount) {
        throw new ValueError(`Tokenizer.fromJSON: wordDocs of ${JSON.stringify(w)} must be 1..min(its count, documentCount), got ${d}`);
      }
      t.slots.set(w, t.words.length);
      t.words.push(w);
      t.counts.push(n);
      t.docs.push(d);
      t.lastDoc.push(-1);
    }
    if (docs.size !== counts.size) throw new ValueError('Tokenizer.fromJSON: wordDocs lists a word that wordCounts does not');
    t.publishCounts();
    t.reindex();
    return t;
  }

  /** wordIndex from wordCounts: the oovToken first, then by count (a stable sort keeps first appearance on ties). */
  private reindex(): void {
    const words = [...this.wordCounts].sort((a, b) => b[1] - a[1]).map(([w]) => w);
    const ordered = this.oovToken === undefined ? words : [this.oovToken, ...words.filter((w) => w !== this.oovToken)];
    this.wordIndex = new Map(ordered.map((w, i) => [w, i + 1]));
    this.indexWord = [undefined, ...ordered];
    this.fitted = true;
  }

  private checkFitted(method: string): void {
    if (!this.fitted) throw new StateError(`${method}: the tokenizer has no vocabulary yet; call fitOnTexts (or Tokenizer.fromJSON) first`);
  }
}

/** A Keras-style word tokenizer (see Tokenizer). */
export function tokenizer(options: TokenizerOptions = {}): Tokenizer {
  return new Tokenizer(options);
}

/** The runs of a text between code units marked in `breaks`. */
function scanWords(text: string, breaks: Uint8Array): string[] {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    if (breaks[text.charCodeAt(i)]) {
      if (start >= 0) words.push(text.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  if (start >= 0) words.push(text.slice(start));
  return words;
}

function checkTexts(texts: readonly TextInput[], method: string): void {
  if (!Array.isArray(texts)) throw new ValueError(`${method}: expected an array of texts, got ${describe(texts)}`);
  texts.forEach((t, i) => {
    if (typeof t === 'string') return;
    if (!Array.isArray(t) || t.some((w) => typeof w !== 'string')) {
      throw new ValueError(`${method}: text ${i} is ${describe(t)}, not a string or an array of strings`);
    }
  });
}

function readCounts(pairs: [string, number][], what: string): Map<string, number> {
  const into = new Map<string, number>();
  pairs.forEach((p, i) => {
    if (!Array.isArray(p) || typeof p[0] !== 'string' || !(Number.isInteger(p[1]) && p[1] >= 1)) {
      throw new ValueError(`Tokenizer.fromJSON: ${what}[${i}] must be [word, count >= 1], got ${JSON.stringify(p)}`);
    }
    if (into.has(p[0])) throw new ValueError(`Tokenizer.fromJSON: ${what} lists ${JSON.stringify(p[0])} twice`);
    into.set(p[0], p[1]);
  });
  return into;
}
