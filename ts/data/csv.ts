// CSV of numeric features with an optional label column: RFC 4180 quoting ("" inside quotes), CRLF or LF line ends,
// blank lines skipped, a leading byte order mark ignored.
import { ValueError } from '../backend/errors';

export interface CsvOptions {
  /** Whether the first row names the columns. Default: detected (a column whose first value is not a number but
   *  whose second is). */
  header?: boolean;
  delimiter?: string;
  /** The column holding the targets: its name, or its index (negative counts from the end). */
  labelColumn?: string | number;
}

export interface Csv {
  /** Names of the feature columns, in order (the label column is not among them). Without a header: "0", "1", ... */
  columns: string[];
  /** Features, (rows, cols) row-major. */
  x: Float32Array;
  /** Targets: Int32Array when every label is an integer or a class name, else Float32Array. */
  y?: Float32Array | Int32Array;
  /** Class names in index order, when the label column is not numeric (sorted by code unit). */
  labels?: string[];
  rows: number;
  cols: number;
}

interface RawRecord {
  fields: string[];
  line: number; // 1-based line where the record starts
}

const isNumber = (s: string) => !Number.isNaN(parseDecimal(s));

/** A plain decimal number with optional sign, fraction, exponent and surrounding spaces; else NaN.
 *  (Number() alone would also take '', '0x1f', 'Infinity'.) A hand-written scan: files have millions of fields. */
function parseDecimal(s: string): number {
  let i = 0;
  let end = s.length;
  while (i < end && isSpace(s.charCodeAt(i))) i++;
  while (end > i && isSpace(s.charCodeAt(end - 1))) end--;
  let c = s.charCodeAt(i);
  if (c === 43 || c === 45) c = s.charCodeAt(++i); // + -
  let digits = 0;
  while (isDigit(c)) { digits++; c = s.charCodeAt(++i); }
  if (c === 46) { // .
    c = s.charCodeAt(++i);
    while (isDigit(c)) { digits++; c = s.charCodeAt(++i); }
  }
  if (digits === 0) return NaN;
  if (c === 101 || c === 69) { // e E
    c = s.charCodeAt(++i);
    if (c === 43 || c === 45) c = s.charCodeAt(++i);
    if (!isDigit(c)) return NaN;
    while (isDigit(c)) c = s.charCodeAt(++i);
  }
  return i === end ? Number(s) : NaN;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isSpace = (c: number) => c === 32 || c === 9;

export function parseCsv(text: string, options: CsvOptions = {}): Csv {
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new ValueError(`CSV: the delimiter must be one character other than a quote or a line end, got ${JSON.stringify(delimiter)}`);
  }
  // Records are parsed one at a time and converted at once, so a large file never holds all its fields as strings.
  const records = splitRecords(text, delimiter);
  const firstTwo = [records.next(), records.next()].filter((r) => !r.done).map((r) => r.value as RawRecord);
  if (firstTwo.length === 0) throw new ValueError('CSV: no rows');
  const width = firstTwo[0].fields.length;
  const header = options.header ?? detectHeader(firstTwo);
  const names = header ? firstTwo[0].fields.map((f) => f.trim()) : firstTwo[0].fields.map((_, i) => String(i));
  const label = options.labelColumn === undefined ? -1 : labelIndex(options.labelColumn, names);
  const features = names.map((_, i) => i).filter((i) => i !== label);
  const cols = features.length;

  let x: Float32Array = new Float32Array(1024 * cols);
  const labelValues: string[] = [];
  let rows = 0;
  const body = function* () {
    yield* header ? firstTwo.slice(1) : firstTwo;
    yield* records;
  };
  for (const r of body()) {
    if (r.fields.length !== width) {
      throw new ValueError(`CSV: line ${r.line} has ${r.fields.length} fields, the first row has ${width}`);
    }
    if ((rows + 1) * cols > x.length) x = grow(x);
    for (let col = 0; col < cols; col++) {
      const field = r.fields[features[col]];
      const value = parseDecimal(field);
      if (Number.isNaN(value)) {
        throw new ValueError(`CSV: row ${rows + 1} (line ${r.line}), column ${JSON.stringify(names[features[col]])}: ` +
          `${JSON.stringify(field)} is not a number`);
      }
      x[rows * cols + col] = value;
    }
    if (label >= 0) labelValues.push(r.fields[label].trim());
    rows++;
  }
  const result: Csv = { columns: features.map((c) => names[c]), x: x.slice(0, rows * cols), rows, cols };
  if (label >= 0) Object.assign(result, encodeLabels(labelValues));
  return result;
}

function grow(x: Float32Array): Float32Array {
  const bigger = new Float32Array(x.length * 2);
  bigger.set(x);
  return bigger;
}

function labelIndex(column: string | number, names: string[]): number {
  if (typeof column === 'string') {
    const i = names.indexOf(column);
    if (i < 0) throw new ValueError(`CSV: no column named ${JSON.stringify(column)}; the columns are ${names.join(', ')}`);
    return i;
  }
  const i = column < 0 ? names.length + column : column;
  if (!Number.isInteger(column) || i < 0 || i >= names.length) {
    throw new ValueError(`CSV: label column ${column} is out of range for ${names.length} columns`);
  }
  return i;
}

/** Numbers stay numbers (Int32Array if all integers); anything else becomes class indices. */
function encodeLabels(values: string[]): { y: Float32Array | Int32Array; labels?: string[] } {
  if (values.every(isNumber)) {
    const numbers = values.map(Number);
    const integral = numbers.every((v) => Number.isInteger(v) && Math.abs(v) <= 0x7fffffff);
    return { y: integral ? Int32Array.from(numbers) : Float32Array.from(numbers) };
  }
  const labels = [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(labels.map((name, i) => [name, i]));
  return { y: Int32Array.from(values, (v) => index.get(v)!), labels };
}

function detectHeader(records: RawRecord[]): boolean {
  const first = records[0].fields;
  if (records.length === 1) return !first.some(isNumber);
  const second = records[1].fields;
  return first.some((f, i) => !isNumber(f) && isNumber(second[i]));
}

/** Yields the records of raw fields one by one, honouring quotes. Blank lines are dropped. */
function* splitRecords(text: string, delimiter: string): Generator<RawRecord> {
  let fields: string[] = [];
  let field = '';
  let quotedRecord = false; // a record of one empty field is a blank line unless it had quotes
  let line = 1;
  let start = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const takeRecord = (): RawRecord | undefined => {
    fields.push(field);
    const keep = fields.length > 1 || field.trim() !== '' || quotedRecord;
    const record = keep ? { fields, line: start } : undefined;
    fields = [];
    field = '';
    quotedRecord = false;
    return record;
  };
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"' && field.trim() === '') {
      quotedRecord = true;
      field = '';
      i++;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close < 0) throw new ValueError(`CSV: unterminated quoted field starting on line ${start}`);
        const part = text.slice(i, close);
        for (let k = part.indexOf('\n'); k >= 0; k = part.indexOf('\n', k + 1)) line++;
        field += part;
        i = close + 1;
        if (text[i] !== '"') break;
        field += '"'; // "" is an escaped quote
        i++;
      }
      while (text[i] === ' ' || text[i] === '\t') i++;
      const next = text[i];
      if (i < text.length && next !== delimiter && next !== '\n' && next !== '\r') {
        throw new ValueError(`CSV: line ${line}: unexpected ${JSON.stringify(next)} after a closing quote`);
      }
    } else if (ch === delimiter) {
      fields.push(field);
      field = '';
      i++;
    } else if (ch === '\n' || ch === '\r') {
      const record = takeRecord();
      if (record) yield record;
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      start = ++line;
    } else {
      // Plain text up to the next delimiter, line end or quote, taken as one slice.
      let j = i + 1;
      for (; j < text.length; j++) {
        const c = text[j];
        if (c === delimiter || c === '\n' || c === '\r' || c === '"') break;
      }
      field += text.slice(i, j);
      i = j;
    }
  }
  const last = takeRecord();
  if (last) yield last;
}
