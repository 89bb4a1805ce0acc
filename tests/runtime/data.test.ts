// Data helpers: IDX and CSV parsing, the seeded split, the scaler and one-hot encoding.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { throwsError } from './helpers';

const { ready, ShapeError, StateError, ValueError } = nn;
const { mnistImages, mnistLabels, oneHot, parseCsv, parseIdx, standardScaler, trainTestSplit } = nn.data;

const bytes = (...b: number[]) => new Uint8Array(b);

// ---------------------------------------------------------------------------------------------------------------------
const idx = suite('data: IDX');

idx('ubyte [2, 3]', () => {
  const f = bytes(0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 2, 253, 254, 255);
  const { shape, data } = parseIdx(f);
  assert.equal(shape, [2, 3]);
  assert.instance(data, Uint8Array);
  assert.equal(Array.from(data), [0, 1, 2, 253, 254, 255]);
});

idx('byte, short, int: big-endian and signed', () => {
  const b = parseIdx(bytes(0, 0, 0x09, 1, 0, 0, 0, 3, 0x7f, 0x80, 0xff));
  assert.instance(b.data, Int8Array);
  assert.equal(Array.from(b.data), [127, -128, -1]);
  const s = parseIdx(bytes(0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe));
  assert.instance(s.data, Int16Array);
  assert.equal(Array.from(s.data), [258, -2]);
  const i = parseIdx(bytes(0, 0, 0x0c, 1, 0, 0, 0, 2, 0x01, 0x02, 0x03, 0x04, 0x80, 0, 0, 0));
  assert.instance(i.data, Int32Array);
  assert.equal(Array.from(i.data), [16909060, -2147483648]);
});

idx('float and double', () => {
  const f = parseIdx(bytes(0, 0, 0x0d, 1, 0, 0, 0, 2, 0x3f, 0xc0, 0, 0, 0xc1, 0x20, 0, 0));
  assert.instance(f.data, Float32Array);
  assert.equal(Array.from(f.data), [1.5, -10]);
  const d = parseIdx(bytes(0, 0, 0x0e, 1, 0, 0, 0, 1, 0xc0, 0, 0, 0, 0, 0, 0, 0));
  assert.instance(d.data, Float64Array);
  assert.equal(Array.from(d.data), [-2]);
});

idx('zero dimensions is one scalar; a view into a larger buffer is read at its offset', () => {
  assert.equal(Array.from(parseIdx(bytes(0, 0, 0x08, 0, 42)).data), [42]);
  const backing = bytes(9, 9, 9, 0, 0, 0x08, 1, 0, 0, 0, 1, 7, 9);
  const { shape, data } = parseIdx(backing.subarray(3, 12));
  assert.equal(shape, [1]);
  assert.equal(Array.from(data), [7]);
});

idx('errors: truncated, bad magic, unknown type, size mismatch', () => {
  throwsError(() => parseIdx(bytes(0, 0, 8)), ValueError, /truncated.*3 bytes/);
  throwsError(() => parseIdx(bytes(0, 0, 8, 2, 0, 0, 0, 1)), ValueError, /truncated.*needs 12/);
  throwsError(() => parseIdx(bytes(0, 0, 8, 1, 0, 0, 0, 4, 1, 2)), ValueError, /truncated.*\[4\].*needs 12.*has 10/);
  throwsError(() => parseIdx(bytes(0x1f, 0x8b, 8, 1)), ValueError, /bad magic.*0x1f 0x8b/);
  throwsError(() => parseIdx(bytes(0, 0, 0x0a, 1, 0, 0, 0, 1, 5)), ValueError, /unknown data type 0x0a/);
  throwsError(() => parseIdx(bytes(0, 0, 0x0c, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0)), ValueError, /size mismatch.*needs 12.*has 13/);
});

idx('mnistImages scales to [0, 1]; mnistLabels', () => {
  const img = mnistImages(bytes(0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 255, 51, 102));
  assert.equal([img.n, img.rows, img.cols], [2, 1, 2]);
  assert.instance(img.x, Float32Array);
  assert.equal(Array.from(img.x), [0, 1, Math.fround(0.2), Math.fround(0.4)]);
  const labels = mnistLabels(bytes(0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9));
  assert.equal(Array.from(labels), [7, 0, 9]);
  throwsError(() => mnistLabels(bytes(0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 1, 5)), ValueError, /labels.*1 dimensions/);
  throwsError(() => mnistImages(bytes(0, 0, 0x09, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 5)), ValueError, /ubyte/);
});

idx.run();

// ---------------------------------------------------------------------------------------------------------------------
const csv = suite('data: CSV');

csv('header detected, string labels become sorted class indices', () => {
  const r = parseCsv('a,b,species\n1,2,virginica\n3.5,-4e-1,setosa\n5,6,virginica\n', { labelColumn: 'species' });
  assert.equal(r.columns, ['a', 'b']);
  assert.equal([r.rows, r.cols], [3, 2]);
  assert.equal(Array.from(r.x), [1, 2, 3.5, Math.fround(-0.4), 5, 6]);
  assert.equal(r.labels, ['setosa', 'virginica']);
  assert.instance(r.y, Int32Array);
  assert.equal(Array.from(r.y!), [1, 0, 1]);
});

csv('no header detected; numeric labels; label column by (negative) index', () => {
  const r = parseCsv('1,2,0\n3,4,1\n', { labelColumn: -1 });
  assert.equal(r.columns, ['0', '1']);
  assert.equal(r.rows, 2);
  assert.instance(r.y, Int32Array);
  assert.equal(Array.from(r.y!), [0, 1]);
  assert.is(r.labels, undefined);
  const f = parseCsv('0.5,1\n2,3\n', { labelColumn: 0 });
  assert.instance(f.y, Float32Array);
  assert.equal(Array.from(f.y!), [0.5, 2]);
  assert.equal(Array.from(f.x), [1, 3]);
});

csv('a label column of class names without a header', () => {
  const r = parseCsv('1,cat\n2,dog\n3,cat\n', { labelColumn: 1 });
  assert.equal(r.rows, 3);
  assert.equal(r.labels, ['cat', 'dog']);
  assert.equal(Array.from(r.y!), [0, 1, 0]);
});

csv('quotes, escaped quotes, delimiters and line breaks inside quotes, CRLF, blank and trailing lines', () => {
  const text = '\ufeff"x, one",y,"the ""label"""\r\n"1",2,"a,b"\r\n\r\n3 , 4 ,"multi\r\nline"\r\n\r\n';
  const r = parseCsv(text, { labelColumn: 2 });
  assert.equal(r.columns, ['x, one', 'y']);
  assert.equal(Array.from(r.x), [1, 2, 3, 4]);
  assert.equal(r.labels, ['a,b', 'multi\r\nline']);
  const named = parseCsv(text, { labelColumn: 'the "label"' });
  assert.equal(Array.from(named.y!), [0, 1]);
});

csv('explicit header flag and delimiter; no label column', () => {
  const r = parseCsv('1;2\n3;4', { header: true, delimiter: ';' });
  assert.equal(r.columns, ['1', '2']);
  assert.equal(Array.from(r.x), [3, 4]);
  assert.is(r.y, undefined);
  assert.is(parseCsv('x\ty\n5\t6\n', { delimiter: '\t' }).x[1], 6);
});

csv('errors name the row, line and column', () => {
  throwsError(() => parseCsv('a,b\n1,2\n3,oops\n'), ValueError, /row 2 \(line 3\), column "b": "oops" is not a number/);
  throwsError(() => parseCsv('a,b\n1,\n'), ValueError, /row 1 \(line 2\), column "b": "" is not a number/);
  throwsError(() => parseCsv('1,2\n3\n'), ValueError, /line 2 has 1 fields, the first row has 2/);
  throwsError(() => parseCsv('1,"2\n3,4\n'), ValueError, /unterminated quoted field starting on line 1/);
  throwsError(() => parseCsv('"1"x,2\n'), ValueError, /unexpected "x" after a closing quote/);
  throwsError(() => parseCsv('a,b\n1,2\n', { labelColumn: 'c' }), ValueError, /no column named "c"/);
  throwsError(() => parseCsv('1,2\n', { labelColumn: 2 }), ValueError, /out of range/);
  throwsError(() => parseCsv('\n\r\n'), ValueError, /no rows/);
  throwsError(() => parseCsv('1,2', { delimiter: '"' }), ValueError, /delimiter/);
});

csv.run();

// ---------------------------------------------------------------------------------------------------------------------
const split = suite('data: trainTestSplit');
split.before(async () => {
  await ready();
});

/** 40 rows: row r has features [r, -r] and label r % 4 === 0 ? 1 : 0 (10 of class 1, 30 of class 0). */
function dataset(rows = 40) {
  const x = new Float32Array(rows * 2);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    x[2 * r] = r;
    x[2 * r + 1] = -r;
    y[r] = r % 4 === 0 ? 1 : 0;
  }
  return { x, y };
}

/** Every row lands in exactly one part, with its own label. Returns the row ids of each part. */
function checkPartition(s: { xTrain: Float32Array; xTest: Float32Array; yTrain: ArrayLike<number>; yTest: ArrayLike<number> }, rows: number) {
  const seen = new Set<number>();
  const ids = (x: Float32Array, y: ArrayLike<number>) => {
    const out: number[] = [];
    for (let i = 0; i < y.length; i++) {
      const r = x[2 * i];
      assert.is(x[2 * i + 1], -r, 'features stay together');
      assert.is(y[i], r % 4 === 0 ? 1 : 0, 'label stays with its row');
      assert.not.ok(seen.has(r), `row ${r} appears twice`);
      seen.add(r);
      out.push(r);
    }
    return out;
  };
  const train = ids(s.xTrain, s.yTrain);
  const test = ids(s.xTest, s.yTest);
  assert.is(seen.size, rows);
  return { train, test };
}

const count = (a: ArrayLike<number>, v: number) => Array.from(a).filter((x) => x === v).length;

split('sizes and a partition of the rows', () => {
  const { x, y } = dataset();
  const s = trainTestSplit(x, y, { rows: 40, cols: 2 });
  assert.is(s.yTest.length, 10);
  assert.is(s.yTrain.length, 30);
  assert.instance(s.yTrain, Int32Array);
  checkPartition(s, 40);
  assert.is(trainTestSplit(x, y, { rows: 40, cols: 2, testSize: 7 }).yTest.length, 7);
  assert.is(trainTestSplit(x, y, { rows: 40, cols: 2, testSize: 0.1 }).yTest.length, 4);
});

split('stratified: each class keeps its share (largest remainder)', () => {
  const { x, y } = dataset();
  for (const seed of [0, 1, 2, 3]) {
    const s = trainTestSplit(x, y, { rows: 40, cols: 2, testSize: 0.2, seed });
    assert.is(count(s.yTest, 1), 2, 'class 1: 10 * 8 / 40');
    assert.is(count(s.yTest, 0), 6, 'class 0: 30 * 8 / 40');
    // 10 test rows: shares 2.5 and 7.5 tie on the remainder, so the lower class takes the extra row.
    const t = trainTestSplit(x, y, { rows: 40, cols: 2, testSize: 10, seed });
    assert.equal([count(t.yTest, 0), count(t.yTest, 1)], [8, 2]);
    checkPartition(t, 40);
  }
  // 7 test rows: shares 5.25 and 1.75, the larger remainder (class 1) takes the extra row.
  const u = trainTestSplit(x, y, { rows: 40, cols: 2, testSize: 7 });
  assert.equal([count(u.yTest, 0), count(u.yTest, 1)], [5, 2]);
});

split('deterministic for a seed, different for another seed', () => {
  const { x, y } = dataset();
  const a = checkPartition(trainTestSplit(x, y, { rows: 40, cols: 2, seed: 7 }), 40);
  const b = checkPartition(trainTestSplit(x, y, { rows: 40, cols: 2, seed: 7 }), 40);
  const c = checkPartition(trainTestSplit(x, y, { rows: 40, cols: 2, seed: 8 }), 40);
  assert.equal(a, b);
  assert.not.equal(a.test, c.test);
  assert.not.equal(a.test.slice().sort((p, q) => p - q), a.test, 'the test part is shuffled, not in row order');
});

split('unstratified for float targets; one-hot rows move together', () => {
  const { x, y } = dataset();
  const s = trainTestSplit(x, Float32Array.from(y), { rows: 40, cols: 2, testSize: 0.5, seed: 3 });
  assert.instance(s.yTest, Float32Array);
  checkPartition(s, 40);
  const hot = oneHot(y, 2);
  const h = trainTestSplit(x, hot, { rows: 40, cols: 2, seed: 3 });
  assert.is(h.yTest.length, 20);
  for (let i = 0; i < 10; i++) {
    const label = h.xTest[2 * i] % 4 === 0 ? 1 : 0;
    assert.equal([h.yTest[2 * i], h.yTest[2 * i + 1]], label ? [0, 1] : [1, 0]);
  }
});

split('errors', () => {
  const { x, y } = dataset();
  throwsError(() => trainTestSplit(x, y, { rows: 40, cols: 3 }), ShapeError, /x has 80 values/);
  throwsError(() => trainTestSplit(x, y.subarray(1), { rows: 40, cols: 2 }), ShapeError, /y has 39 values/);
  throwsError(() => trainTestSplit(x, y, { rows: 40, cols: 2, testSize: 0 }), ValueError, /testSize 0/);
  throwsError(() => trainTestSplit(x, y, { rows: 40, cols: 2, testSize: 40 }), ValueError, /testSize 40/);
  throwsError(() => trainTestSplit(x, y, { rows: 40, cols: 2, testSize: 0.001 }), ValueError, /testSize/);
});

split.run();

// ---------------------------------------------------------------------------------------------------------------------
const scaler = suite('data: standardScaler');

scaler('mean and population std per column; a constant column is only centred', () => {
  // columns: [1, 2, 3, 4] -> mean 2.5, std sqrt(1.25); [5, 5, 5, 5] -> mean 5, std treated as 1; [0, 0, 0, 8] -> 2, sqrt(12)
  const x = Float32Array.from([1, 5, 0, 2, 5, 0, 3, 5, 0, 4, 5, 8]);
  const s = standardScaler().fit(x, 4, 3);
  assert.equal(Array.from(s.mean), [2.5, 5, 2]);
  assert.equal(Array.from(s.std), [Math.sqrt(1.25), 1, Math.sqrt(12)]);
  const z = s.transform(x, 4, 3);
  assert.instance(z, Float32Array);
  assert.is(z[0], Math.fround(-1.5 / Math.sqrt(1.25)));
  assert.is(z[1], 0);
  assert.is(z[11], Math.fround(6 / Math.sqrt(12)));
  for (let c = 0; c < 3; c++) {
    let sum = 0;
    for (let r = 0; r < 4; r++) sum += z[r * 3 + c];
    assert.ok(Math.abs(sum) < 1e-6, `column ${c} has mean 0`);
  }
  assert.equal(standardScaler().fitTransform(x, 4, 3), z);
  assert.equal(Array.from(x.subarray(0, 3)), [1, 5, 0], 'input untouched');
});

scaler('JSON round trip is exact; errors', () => {
  const x = Float32Array.from([0.1, 7, 0.2, -3, 0.7, 11]);
  const s = standardScaler().fit(x, 3, 2);
  const t = standardScaler().fromJSON(JSON.parse(JSON.stringify(s)));
  assert.equal(t.transform(x, 3, 2), s.transform(x, 3, 2));
  throwsError(() => standardScaler().transform(x, 3, 2), StateError, /fit/);
  throwsError(() => s.transform(x, 2, 3), ShapeError, /3 columns.*fit on 2/);
  throwsError(() => s.fit(x, 4, 2), ShapeError, /6 values/);
  throwsError(() => standardScaler().fromJSON({ type: 'standardScaler', mean: [1], std: [0] }), ValueError, /positive/);
});

scaler.run();

// ---------------------------------------------------------------------------------------------------------------------
const hot = suite('data: oneHot');

hot('rows of zeros with a one at the label', () => {
  assert.equal(Array.from(oneHot([2, 0, 1], 3)), [0, 0, 1, 1, 0, 0, 0, 1, 0]);
  assert.equal(Array.from(oneHot(new Uint8Array([1]), 2)), [0, 1]);
  assert.is(oneHot([], 4).length, 0);
});

hot('out-of-range labels', () => {
  throwsError(() => oneHot([0, 3], 3), ValueError, /label 3 at index 1/);
  throwsError(() => oneHot([-1], 3), ValueError, /label -1/);
  throwsError(() => oneHot([0.5], 3), ValueError, /label 0.5/);
  throwsError(() => oneHot([0], 0), ValueError, /numClasses/);
});

hot.run();
