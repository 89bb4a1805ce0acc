// Text data (nn.data): the character vocabulary, the Keras-style word tokenizer, padSequences, language-model windows
// and the seeded splits. Expectations are worked out by hand from Keras's documented semantics (Tokenizer,
// pad_sequences), not produced by the code under test.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { lcg, throwsError } from './helpers';

const { ready, ShapeError, StateError, ValueError } = nn;
const { charVocabulary, CharVocabulary, lmWindows, padSequences, splitIndices, splitTexts, takeRows, tokenizer, Tokenizer,
  trainTestSplit } = nn.data;

const rows = (a: { data: Int32Array; shape: number[] }) => {
  const [n, w] = a.shape;
  return Array.from({ length: n }, (_, i) => Array.from(a.data.subarray(i * w, (i + 1) * w)));
};
const arrays = (seqs: Int32Array[]) => seqs.map((s) => Array.from(s));

// ---------------------------------------------------------------------------------------------------------------------
const vocab = suite('text: charVocabulary');

vocab('sorted distinct characters from id 2; 0 pads, 1 is unknown', () => {
  const v = charVocabulary('hello world');
  assert.equal(v.chars, [' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
  assert.is(v.size, 10);
  assert.is(nn.data.PAD_ID, 0);
  assert.is(nn.data.UNKNOWN_ID, 1);
  const ids = v.encode('hello');
  assert.instance(ids, Int32Array);
  assert.equal(Array.from(ids), [5, 4, 6, 6, 7]);
  assert.equal(Array.from(v.encode('hex')), [5, 4, 1]);
  assert.is(v.decode([0, 5, 4, 1, 0]), 'he\ufffd');
  assert.is(v.decode(v.encode('world hello')), 'world hello');
  assert.is(v.idOf('w'), 9);
  assert.is(v.idOf('?'), 1);
  assert.is(v.charOf(2), ' ');
  assert.is(v.charOf(0), '');
});

vocab('characters are code points: a character outside the BMP is one id, sorted after the BMP', () => {
  const v = charVocabulary('a\u{1F600}b\u{1F600}\u00e9');
  assert.equal(v.chars, ['a', 'b', '\u00e9', '\u{1F600}']);
  const ids = v.encode('a\u{1F600}b\u{1F600}');
  assert.equal(Array.from(ids), [2, 5, 3, 5]);
  assert.is(v.decode(ids), 'a\u{1F600}b\u{1F600}');
  assert.equal(Array.from(v.encode('\u{1F601}a')), [1, 2]);
});

vocab('toJSON / fromJSON round trip through JSON text', () => {
  const v = charVocabulary('The whale\u2014\u201cthe\u201d whale!\n');
  const back = CharVocabulary.fromJSON(JSON.parse(JSON.stringify(v)));
  assert.equal(back.chars, v.chars);
  assert.is(back.size, v.size);
  assert.equal(Array.from(back.encode('whale\u2014!')), Array.from(v.encode('whale\u2014!')));
});

vocab('1.2 MB of text: one pass, and decode(encode(text)) gives it back', () => {
  const next = lcg(11);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz ,.;\n\u2014\u2019ABC';
  const parts: string[] = [];
  for (let i = 0; i < 1_200_000; i++) parts.push(alphabet[Math.floor(next() * alphabet.length)]);
  const text = parts.join('');
  const v = charVocabulary(text);
  assert.is(v.size, new Set(alphabet).size + 2);
  const ids = v.encode(text);
  assert.is(ids.length, text.length);
  assert.is(v.decode(ids), text);
});

vocab('errors: not a string, empty, unknown ids, bad JSON', () => {
  throwsError(() => charVocabulary(42 as never), ValueError, /expected a string, got 42/);
  throwsError(() => charVocabulary(''), ValueError, /empty/);
  const v = charVocabulary('abc');
  throwsError(() => v.decode([2, 5]), ValueError, /id 5 at index 1 is not an id of this vocabulary \(0\.\.4\)/);
  throwsError(() => v.decode([-1]), ValueError, /id -1/);
  throwsError(() => v.decode([2.5]), ValueError, /id 2\.5/);
  throwsError(() => v.decode('abc' as never), ValueError, /array of ids/);
  throwsError(() => v.encode(['a'] as never), ValueError, /expected a string, got an array/);
  throwsError(() => v.idOf('ab'), ValueError, /one character/);
  throwsError(() => v.charOf(7), ValueError, /id 7/);
  throwsError(() => CharVocabulary.fromJSON({ type: 'charVocabulary', chars: ['b', 'a'] }), ValueError, /chars\[1\].*out of order/);
  throwsError(() => CharVocabulary.fromJSON({ type: 'charVocabulary', chars: ['a', 'a'] }), ValueError, /repeated/);
  throwsError(() => CharVocabulary.fromJSON({ type: 'charVocabulary', chars: ['ab'] }), ValueError, /chars\[0\].*not one character/);
  throwsError(() => CharVocabulary.fromJSON({ chars: ['a'] } as never), ValueError, /charVocabulary/);
});

vocab.run();

// ---------------------------------------------------------------------------------------------------------------------
const tok = suite('text: tokenizer (Keras semantics)');

const SENTENCES = ['I love my dog', 'I love my cat', 'You love my dog!', 'Do you think my dog is amazing?'];

tok('wordIndex: by count, most frequent first, ties in order of first appearance, from 1', () => {
  const t = tokenizer().fitOnTexts(['I love my dog', 'I, love my cat', 'You love my dog!']);
  assert.equal([...t.wordIndex], [['love', 1], ['my', 2], ['i', 3], ['dog', 4], ['cat', 5], ['you', 6]]);
  assert.equal([...t.wordCounts], [['i', 2], ['love', 3], ['my', 3], ['dog', 2], ['cat', 1], ['you', 1]]);
  assert.is(t.documentCount, 3);
  assert.is(t.vocabularySize, 7);
});

tok('oovToken takes index 1 and stands for unknown words', () => {
  const t = tokenizer({ numWords: 100, oovToken: '<OOV>' }).fitOnTexts(SENTENCES);
  assert.equal([...t.wordIndex], [['<OOV>', 1], ['my', 2], ['love', 3], ['dog', 4], ['i', 5], ['you', 6], ['cat', 7],
    ['do', 8], ['think', 9], ['is', 10], ['amazing', 11]]);
  const seqs = t.textsToSequences(['i really love my dog', 'my dog loves my manatee']);
  assert.instance(seqs[0], Int32Array);
  assert.equal(arrays(seqs), [[5, 1, 3, 2, 4], [2, 4, 1, 2, 1]]);
  assert.equal(t.sequencesToTexts(seqs), ['i <OOV> love my dog', 'my dog <OOV> my <OOV>']);
  // as Keras: an index with no word (0, or past the end) reads as the oovToken
  assert.equal(t.sequencesToTexts([[0, 2, 99]]), ['<OOV> my <OOV>']);
});

tok('numWords keeps the numWords - 1 most frequent words', () => {
  const withOov = tokenizer({ numWords: 4, oovToken: '<OOV>' }).fitOnTexts(SENTENCES);
  assert.is(withOov.wordIndex.size, 11); // wordIndex keeps every word, as Keras
  assert.equal(arrays(withOov.textsToSequences(['i really love my dog'])), [[1, 1, 3, 2, 1]]);
  assert.equal(withOov.sequencesToTexts([[5, 3, 2]]), ['<OOV> love my']);
  assert.is(withOov.vocabularySize, 4);
  const without = tokenizer({ numWords: 4 }).fitOnTexts(SENTENCES); // my 1, love 2, dog 3, i 4, ...
  assert.equal(arrays(without.textsToSequences(['i really love my dog'])), [[2, 1, 3]]);
  assert.equal(without.sequencesToTexts([[4, 2, 1, 0, 3]]), ['love my dog']);
});

tok('filters: punctuation, tab and newline split words; the apostrophe stays; lower and split options', () => {
  const t = tokenizer();
  assert.is(t.filters, '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n');
  assert.equal(t.tokenize("Hello, World! It's-a test\tnew\nline"), ['hello', 'world', "it's", 'a', 'test', 'new', 'line']);
  assert.equal(t.tokenize('a\\b]c^d[e'), ['a', 'b', 'c', 'd', 'e']);
  assert.equal(tokenizer({ filters: '' }).tokenize('Hi, there!'), ['hi,', 'there!']);
  assert.equal(tokenizer({ lower: false }).tokenize('Hi THERE'), ['Hi', 'THERE']);
  assert.equal(tokenizer({ split: '|', filters: ',' }).tokenize('a b|c,d||E'), ['a b', 'c', 'd', 'e']);
  // filters outside the BMP and a split of several characters take the general path: replace, then split
  assert.equal(tokenizer({ filters: '\u{1F600}!', split: '--' }).tokenize('a--b\u{1F600}c!d----E'), ['a', 'b', 'c', 'd', 'e']);
  assert.equal(tokenizer({ split: '\t' }).tokenize('x y\tz!w'), ['x y', 'z', 'w']); // the space is no filter
  // a text given as tokens is only lowercased
  assert.equal(t.tokenize(['Hello,', 'World']), ['hello,', 'world']);
});

tok('charLevel: every character is a token, filters do not apply; sequencesToTexts joins with spaces', () => {
  const t = tokenizer({ charLevel: true }).fitOnTexts(['abca', 'Bd!']);
  assert.equal([...t.wordIndex], [['a', 1], ['b', 2], ['c', 3], ['d', 4], ['!', 5]]);
  assert.equal(arrays(t.textsToSequences(['Dab?'])), [[4, 1, 2]]);
  assert.equal(t.sequencesToTexts([[1, 2, 5]]), ['a b !']);
});

tok('wordDocs counts texts; fitOnTexts adds to earlier counts', () => {
  const t = tokenizer().fitOnTexts(['my dog my', 'dog']);
  assert.equal([...t.wordDocs], [['my', 1], ['dog', 2]]);
  t.fitOnTexts(['cat cat cat']);
  assert.equal([...t.wordIndex], [['cat', 1], ['my', 2], ['dog', 3]]);
  assert.is(t.documentCount, 3);
});

tok('toJSON / fromJSON: same configuration, counts, index and sequences', () => {
  const t = tokenizer({ numWords: 6, oovToken: '<unk>', filters: '!?' }).fitOnTexts(SENTENCES);
  const back = Tokenizer.fromJSON(JSON.parse(JSON.stringify(t)));
  assert.equal([...back.wordIndex], [...t.wordIndex]);
  assert.equal([...back.wordDocs], [...t.wordDocs]);
  assert.equal([back.numWords, back.oovToken, back.filters, back.documentCount], [6, '<unk>', '!?', 4]);
  const probe = ['Do you love my amazing cat, really?'];
  assert.equal(arrays(back.textsToSequences(probe)), arrays(t.textsToSequences(probe)));
});

tok('errors: bad options, use before fitting, bad texts and sequences, bad JSON', () => {
  throwsError(() => tokenizer({ numWords: 0 }), ValueError, /numWords.*got 0/);
  throwsError(() => tokenizer({ numWords: 2.5 }), ValueError, /numWords/);
  throwsError(() => tokenizer({ split: '' }), ValueError, /split/);
  throwsError(() => tokenizer({ oovToken: '' }), ValueError, /oovToken/);
  throwsError(() => tokenizer({ filters: 5 as never }), ValueError, /filters/);
  throwsError(() => tokenizer().textsToSequences(['a']), StateError, /fitOnTexts/);
  throwsError(() => tokenizer().sequencesToTexts([[1]]), StateError, /fitOnTexts/);
  throwsError(() => tokenizer().fitOnTexts('a text' as never), ValueError, /array of texts/);
  throwsError(() => tokenizer().tokenize(5 as never), ValueError, /tokenize: text 0 is 5/);
  throwsError(() => tokenizer().fitOnTexts(['ok', 7 as never]), ValueError, /text 1 is 7/);
  const t = tokenizer().fitOnTexts(['a b']);
  throwsError(() => t.sequencesToTexts([[1, 1.5]]), ValueError, /sequence 0, position 1: 1\.5/);
  throwsError(() => t.sequencesToTexts([5 as never]), ValueError, /sequence 0 is 5/);
  throwsError(() => Tokenizer.fromJSON({ type: 'other' } as never), ValueError, /tokenizer/);
  const json = t.toJSON();
  throwsError(() => Tokenizer.fromJSON({ ...json, wordCounts: [['a', 0]] }), ValueError, /wordCounts\[0\]/);
  throwsError(() => Tokenizer.fromJSON({ ...json, wordCounts: [['a', 1], ['a', 2]] }), ValueError, /twice/);
  throwsError(() => Tokenizer.fromJSON({ ...json, wordDocs: [['a', 1]] }), ValueError, /wordDocs of "b".*got undefined/);
  throwsError(() => Tokenizer.fromJSON({ ...json, wordDocs: [['a', 1], ['b', 2]] }), ValueError, /wordDocs of "b".*got 2/);
  throwsError(() => Tokenizer.fromJSON({ ...json, wordDocs: [...json.wordDocs, ['c', 1]] }), ValueError, /wordDocs lists a word/);
  throwsError(() => Tokenizer.fromJSON({ ...json, config: { ...json.config, numWords: -1 } }), ValueError, /numWords/);
});

tok.run();

// ---------------------------------------------------------------------------------------------------------------------
const pad = suite('text: padSequences (Keras semantics)');
const SEQS = [[1, 2, 3], [4, 5], [6], []];

pad('defaults: maxlen of the longest, padding and truncating pre, value 0, int32', () => {
  const p = padSequences(SEQS);
  assert.instance(p.data, Int32Array);
  assert.equal(p.shape, [4, 3]);
  assert.equal(rows(p), [[1, 2, 3], [0, 4, 5], [0, 0, 6], [0, 0, 0]]);
});

pad('padding post', () => {
  assert.equal(rows(padSequences(SEQS, { padding: 'post' })), [[1, 2, 3], [4, 5, 0], [6, 0, 0], [0, 0, 0]]);
});

pad('truncating pre keeps the end, post keeps the beginning', () => {
  assert.equal(rows(padSequences(SEQS, { maxlen: 2 })), [[2, 3], [4, 5], [0, 6], [0, 0]]);
  assert.equal(rows(padSequences(SEQS, { maxlen: 2, truncating: 'post' })), [[1, 2], [4, 5], [0, 6], [0, 0]]);
  assert.equal(rows(padSequences(SEQS, { maxlen: 2, truncating: 'post', padding: 'post' })), [[1, 2], [4, 5], [6, 0], [0, 0]]);
});

pad('value, a longer maxlen, Int32Array sequences, maxlen 0 and no sequences', () => {
  const p = padSequences([Int32Array.of(1, 2, 3), [4, 5], [6]], { maxlen: 4, padding: 'post', value: -1 });
  assert.equal(rows(p), [[1, 2, 3, -1], [4, 5, -1, -1], [6, -1, -1, -1]]);
  assert.equal(rows(padSequences([Int32Array.of(7, 8, 9, 10)], { maxlen: 2 })), [[9, 10]]);
  assert.equal(padSequences(SEQS, { maxlen: 0 }).shape, [4, 0]);
  assert.equal(padSequences([]).shape, [0, 0]);
});

pad('errors name the option or the sequence and position', () => {
  throwsError(() => padSequences(SEQS, { padding: 'middle' as never }), ValueError, /padding must be 'pre' or 'post'/);
  throwsError(() => padSequences(SEQS, { truncating: 'end' as never }), ValueError, /truncating/);
  throwsError(() => padSequences(SEQS, { maxlen: -1 }), ValueError, /maxlen.*-1/);
  throwsError(() => padSequences(SEQS, { maxlen: 1.5 }), ValueError, /maxlen/);
  throwsError(() => padSequences(SEQS, { value: 0.5 }), ValueError, /value/);
  throwsError(() => padSequences(SEQS, { dtype: 'float32' as never }), ValueError, /dtype.*int32/);
  throwsError(() => padSequences([[1, 2], [3, 2.5]]), ValueError, /sequence 1, position 1: 2\.5/);
  throwsError(() => padSequences([[1, 2 ** 31]]), ValueError, /sequence 0, position 1/);
  throwsError(() => padSequences([[1], 'ab' as never]), ValueError, /sequence 1 is "ab"/);
  throwsError(() => padSequences('abc' as never), ValueError, /array of sequences/);
});

pad.run();

// ---------------------------------------------------------------------------------------------------------------------
const win = suite('text: lmWindows');
const stream = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

win('next-token targets at every step; windows do not overlap by default', () => {
  const { x, y } = lmWindows(stream(10), { steps: 3 });
  assert.equal(x.shape, [3, 3]);
  assert.equal(y.shape, [3, 3]);
  assert.equal(rows(x), [[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
  assert.equal(rows(y), [[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
});

win('a stride, and the last-token-only targets', () => {
  const { x, y } = lmWindows(stream(10), { steps: 3, stride: 2, targets: 'last' });
  assert.equal(rows(x), [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6, 7, 8]]);
  assert.equal(y.shape, [4]);
  assert.equal(Array.from(y.data), [3, 5, 7, 9]);
  const one = lmWindows(stream(4), { steps: 3 });
  assert.equal([rows(one.x), rows(one.y)], [[[0, 1, 2]], [[1, 2, 3]]]);
  assert.equal(lmWindows(stream(11), { steps: 3, stride: 1 }).x.shape, [8, 3]);
});

win('errors: a short stream, bad steps, stride or targets, tokens not an Int32Array', () => {
  throwsError(() => lmWindows(stream(3), { steps: 3 }), ShapeError, /3 tokens is too short for one window of 3 steps/);
  throwsError(() => lmWindows(stream(10), { steps: 0 }), ValueError, /steps/);
  throwsError(() => lmWindows(stream(10), { steps: 2, stride: 1.5 }), ValueError, /stride/);
  throwsError(() => lmWindows(stream(10), { steps: 2, targets: 'all' as never }), ValueError, /targets/);
  throwsError(() => lmWindows([1, 2, 3] as never, { steps: 1 }), ValueError, /Int32Array/);
  throwsError(() => lmWindows(stream(10), undefined as never), ValueError, /steps/);
});

win.run();

// ---------------------------------------------------------------------------------------------------------------------
const split = suite('text: seeded splits');
split.before(async () => {
  await ready();
});

split('splitIndices: a partition of 0..n-1, the same for the same seed', () => {
  const a = splitIndices(10, { testSize: 0.3, seed: 5 });
  assert.is(a.train.length, 7);
  assert.is(a.test.length, 3);
  assert.equal([...a.train, ...a.test].sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const b = splitIndices(10, { testSize: 0.3, seed: 5 });
  assert.equal([Array.from(b.train), Array.from(b.test)], [Array.from(a.train), Array.from(a.test)]);
  const others = [6, 7, 8, 9].map((seed) => Array.from(splitIndices(10, { testSize: 0.3, seed }).test).join());
  assert.ok(others.some((t) => t !== Array.from(a.test).join()), 'another seed chooses other rows');
  assert.is(splitIndices(10, { testSize: 4 }).test.length, 4);
});

split('stratified: each class keeps its share, and the rows are those trainTestSplit chooses', () => {
  const labels = Int32Array.from({ length: 100 }, (_, i) => (i % 10 < 3 ? 1 : 0)); // 30 ones, 70 zeros
  const s = splitIndices(100, { testSize: 0.2, seed: 3, labels });
  const ones = (idx: Int32Array) => Array.from(idx).filter((i) => labels[i] === 1).length;
  assert.equal([s.test.length, ones(s.test), ones(s.train)], [20, 6, 24]);
  const x = Float32Array.from({ length: 100 }, (_, i) => i);
  const ref = trainTestSplit(x, labels, { rows: 100, cols: 1, testSize: 0.2, seed: 3, stratify: true });
  assert.equal(Array.from(s.train), Array.from(ref.xTrain));
  assert.equal(Array.from(s.test), Array.from(ref.xTest));
});

split('splitTexts: texts with their labels, stratified by default', () => {
  const texts = Array.from({ length: 50 }, (_, i) => `message ${i}`);
  const labels = Array.from({ length: 50 }, (_, i) => (i < 10 ? 1 : 0));
  const s = splitTexts(texts, labels, { testSize: 0.2, seed: 9 });
  assert.equal([s.xTrain.length, s.xTest.length], [40, 10]);
  assert.instance(s.yTest, Int32Array);
  assert.is(s.yTest.reduce((a, b) => a + b, 0), 2);
  s.xTest.forEach((t, i) => assert.is(s.yTest[i], labels[Number(t.split(' ')[1])]));
  const idx = splitIndices(50, { testSize: 0.2, seed: 9, labels });
  assert.equal(s.xTest, Array.from(idx.test, (i) => texts[i]));
  const again = splitTexts(texts, labels, { testSize: 0.2, seed: 9 });
  assert.equal(again.xTrain, s.xTrain);
});

split('takeRows gathers rows of a padded array', () => {
  const p = padSequences([[1, 2], [3], [4, 5]]);
  const t = takeRows(p, [2, 0]);
  assert.equal(t.shape, [2, 2]);
  assert.equal(rows(t), [[4, 5], [1, 2]]);
  throwsError(() => takeRows(p, [3]), ValueError, /index 3 at position 0 is not a row in 0\.\.2/);
  throwsError(() => takeRows({ data: new Int32Array(5), shape: [2, 2] }, [0]), ShapeError, /\[2, 2\] does not hold 5/);
});

split('errors: testSize, labels of the wrong length or not whole, texts not strings', () => {
  throwsError(() => splitIndices(10, { testSize: 0 }), ValueError, /testSize 0 leaves no rows/);
  throwsError(() => splitIndices(10, { testSize: 10 }), ValueError, /testSize 10/);
  throwsError(() => splitIndices(1), ValueError, /n must be/);
  throwsError(() => splitIndices(4, { labels: [0, 1, 0] }), ShapeError, /3 labels for 4 items/);
  throwsError(() => splitIndices(4, { labels: [0, 1, 0.5, 1] }), ValueError, /label 0\.5 at index 2/);
  throwsError(() => splitTexts(['a', 2 as never], [0, 1]), ValueError, /text 1 is 2/);
  throwsError(() => splitTexts(['a', 'b'], [0]), ShapeError, /1 labels for 2 items/);
});

split.run();
