// A character vocabulary for character-level models: the distinct characters of a text, sorted by code point, take
// ids from 2 up; id 0 is padding (what padSequences and a maskZero embedding treat as "no token") and id 1 an unknown
// character (one the text it was built from did not have). A model's output layer needs `size` classes.
// Characters are code points, so an emoji is one token, as in Python's str (the PyTorch benchmark builds the same ids).
import { ValueError } from '../backend/errors';
import { describe, isArrayLike } from './describe';

export const PAD_ID = 0;
export const UNKNOWN_ID = 1;
const FIRST_ID = 2;
/** What decode writes for UNKNOWN_ID. */
const REPLACEMENT = '\ufffd';

export interface CharVocabularyJSON {
  type: 'charVocabulary';
  /** The characters in id order: chars[i] has id i + 2. */
  chars: string[];
}

export class CharVocabulary {
  /** The characters in id order: chars[i] has id i + 2. */
  readonly chars: readonly string[];
  /** BMP code unit -> id (0: not in the vocabulary). A table, not a Map: one array read per character. */
  private readonly bmp = new Int32Array(0x10000);
  /** Code points above the BMP -> id. */
  private readonly astral = new Map<number, number>();

  /** The characters must be distinct single code points in increasing order (see charVocabulary and fromJSON). */
  private constructor(chars: string[]) {
    this.chars = Object.freeze(chars);
    chars.forEach((c, i) => {
      const cp = c.codePointAt(0)!;
      if (cp < 0x10000) this.bmp[cp] = FIRST_ID + i;
      else this.astral.set(cp, FIRST_ID + i);
    });
  }

  /** The number of ids, the reserved two included: the inputDim of an embedding, the units of the softmax. */
  get size(): number {
    return this.chars.length + FIRST_ID;
  }

  /** The vocabulary of a text: its distinct characters in code point order. One pass over the text. */
  static fromText(text: string): CharVocabulary {
    if (typeof text !== 'string') throw new ValueError(`charVocabulary: expected a string, got ${describe(text)}`);
    if (text.length === 0) throw new ValueError('charVocabulary: the text is empty');
    const seen = new Uint8Array(0x10000);
    const astral = new Set<number>();
    for (let i = 0; i < text.length; i++) {
      const cp = codePointAt(text, i);
      if (cp < 0x10000) seen[cp] = 1;
      else { astral.add(cp); i++; }
    }
    const chars: string[] = [];
    for (let cp = 0; cp < 0x10000; cp++) if (seen[cp]) chars.push(String.fromCharCode(cp));
    for (const cp of [...astral].sort((a, b) => a - b)) chars.push(String.fromCodePoint(cp));
    return new CharVocabulary(chars);
  }

  static fromJSON(json: CharVocabularyJSON): CharVocabulary {
    if (json?.type !== 'charVocabulary' || !Array.isArray(json.chars)) {
      throw new ValueError('CharVocabulary.fromJSON: expected { type: "charVocabulary", chars: [...] }');
    }
    let previous = -1;
    json.chars.forEach((c, i) => {
      const cp = typeof c === 'string' ? c.codePointAt(0) : undefined;
      if (cp === undefined || String.fromCodePoint(cp) !== c) {
        throw new ValueError(`CharVocabulary.fromJSON: chars[${i}] is ${JSON.stringify(c)}, not one character`);
      }
      if (cp <= previous) {
        throw new ValueError(`CharVocabulary.fromJSON: chars[${i}] ${JSON.stringify(c)} is out of order or repeated ` +
          '(the characters are distinct, in code point order)');
      }
      previous = cp;
    });
    return new CharVocabulary(json.chars.slice());
  }

  toJSON(): CharVocabularyJSON {
    return { type: 'charVocabulary', chars: this.chars.slice() };
  }

  /** The id of one character: UNKNOWN_ID (1) when the vocabulary does not have it. */
  idOf(char: string): number {
    const cp = typeof char === 'string' ? char.codePointAt(0) : undefined;
    if (cp === undefined || String.fromCodePoint(cp) !== char) {
      throw new ValueError(`CharVocabulary.idOf: expected one character, got ${describe(char)}`);
    }
    return this.lookup(cp);
  }

  /** The character of an id: '' for padding, U+FFFD for unknown. */
  charOf(id: number): string {
    this.checkId(id, 'charOf', '');
    return id === PAD_ID ? '' : id === UNKNOWN_ID ? REPLACEMENT : this.chars[id - FIRST_ID];
  }

  /** The ids of a text's characters, one per code point; characters the vocabulary lacks become UNKNOWN_ID. */
  encode(text: string): Int32Array {
    if (typeof text !== 'string') throw new ValueError(`CharVocabulary.encode: expected a string, got ${describe(text)}`);
    const ids = new Int32Array(text.length); // code units >= code points: trimmed below if there were pairs
    const bmp = this.bmp;
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0xd800 || c > 0xdbff) { // not a high surrogate: the common case, one table read
        const id = bmp[c];
        ids[n++] = id === 0 ? UNKNOWN_ID : id;
        continue;
      }
      const cp = codePointAt(text, i);
      if (cp >= 0x10000) i++;
      ids[n++] = this.lookup(cp);
    }
    return n === ids.length ? ids : ids.slice(0, n);
  }

  /** The text of a sequence of ids. Padding (0) is skipped, unknown (1) shows as U+FFFD; other ids must exist. */
  decode(ids: ArrayLike<number>): string {
    if (!isArrayLike(ids)) {
      throw new ValueError(`CharVocabulary.decode: expected an array of ids, got ${describe(ids)}`);
    }
    const strings = ['', REPLACEMENT, ...this.chars]; // id -> its text
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const s = strings[id];
      if (s === undefined || !Number.isInteger(id)) this.checkId(id, 'decode', ` at index ${i}`);
      text += s;
    }
    return text;
  }

  private lookup(cp: number): number {
    const id = cp < 0x10000 ? this.bmp[cp] : this.astral.get(cp) ?? 0;
    return id === 0 ? UNKNOWN_ID : id;
  }

  private checkId(id: number, method: string, where: string): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) {
      throw new ValueError(`CharVocabulary.${method}: id ${id}${where} is not an id of this vocabulary (0..${this.size - 1})`);
    }
  }
}

/** The character vocabulary of a text (see CharVocabulary). */
export function charVocabulary(text: string): CharVocabulary {
  return CharVocabulary.fromText(text);
}

/** The code point at code unit i: a surrogate pair's, or the code unit itself (a lone surrogate stays one char). */
function codePointAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= text.length) return c;
  const d = text.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff ? (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000 : c;
}
