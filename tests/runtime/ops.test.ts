// The typed kernel wrapper: results against plain JS references, and errors instead of out-of-bounds writes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';

const test = suite('ops');
test.before(async () => {
  await nn.ready();
});

function randomArray(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

function referenceMatmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, ta: boolean, tb: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

for (const [ta, tb] of [[false, false], [true, false], [false, true]]) {
  test(`matmul transposeA=${ta} transposeB=${tb} at edge sizes`, () => {
    for (const [m, k, n] of [[1, 1, 1], [3, 5, 7], [4, 8, 8], [5, 9, 17], [33, 1, 9], [64, 70, 130]]) {
      const av = randomArray(m * k, m + k), bv = randomArray(k * n, n + 7);
      const a = nn.ops.array(av), b = nn.ops.array(bv), c = nn.ops.array(m * n);
      nn.ops.matmul(a, b, c, m, k, n, { transposeA: ta, transposeB: tb });
      const ref = referenceMatmul(av, bv, m, k, n, ta, tb);
      const got = c.read();
      for (let i = 0; i < ref.length; i++) {
        if (Math.abs(got[i] - ref[i]) > 1e-5 * (1 + k)) assert.unreachable(`(${m},${k},${n})[${i}]: ${got[i]} vs ${ref[i]}`);
      }
      nn.ops.matmul(a, b, c, m, k, n, { transposeA: ta, transposeB: tb, accumulate: true });
      const twice = c.read();
      for (let i = 0; i < ref.length; i++) {
        if (Math.abs(twice[i] - 2 * ref[i]) > 2e-5 * (1 + k)) assert.unreachable(`accumulate (${m},${k},${n})[${i}]`);
      }
      a.dispose(); b.dispose(); c.dispose();
    }
  });
}

test('matmul rejects mismatched sizes and wrong array types, and writes nothing', () => {
  const a = nn.ops.array(6), b = nn.ops.array(9), c = nn.ops.array([1, 2, 3, 4]);
  assert.throws(() => nn.ops.matmul(a, b, c, 2, 3, 3), (e: Error) => e instanceof nn.ShapeError && /c must hold \(2, 3\)/.test(e.message));
  assert.throws(() => nn.ops.matmul(new Float32Array(6) as never, b, c, 2, 3, 3), (e: Error) => e instanceof nn.ValueError && /ModuleArray/.test(e.message));
  assert.throws(() => nn.ops.matmul(a, b, c, 2, 0, 3), (e: Error) => e instanceof nn.ShapeError && /k must be/.test(e.message));
  assert.equal(Array.from(c.read()), [1, 2, 3, 4]);
  a.dispose(); b.dispose(); c.dispose();
});

test('activations match JS references; unknown names are ValueErrors', () => {
  const xs = Float32Array.from([-3, -1, -0.25, 0.5, 1, 2.5, 4]);
  const x = nn.ops.array(xs), y = nn.ops.array(xs.length);
  const refs: Record<string, (v: number) => number> = {
    relu: (v) => Math.max(0, v),
    sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    tanh: Math.tanh,
    softplus: (v) => Math.log1p(Math.exp(v)),
    elu: (v) => (v > 0 ? v : Math.exp(v) - 1),
    leakyRelu: (v) => (v > 0 ? v : 0.3 * v),
    step: (v) => (v > 0 ? 1 : 0),
    linear: (v) => v,
  };
  for (const [name, f] of Object.entries(refs)) {
    nn.ops.activate(name, x, y);
    const got = y.read();
    xs.forEach((v, i) => assert.ok(Math.abs(got[i] - f(v)) < 1e-6 * (1 + Math.abs(f(v))), `${name}(${v}) = ${got[i]}, want ${f(v)}`));
  }
  assert.throws(() => nn.ops.activate('swishy', x, y), (e: Error) => e instanceof nn.ValueError && /unknown activation 'swishy'/.test(e.message));
  x.dispose(); y.dispose();
});

test('softmax rows sum to one and survive large logits', () => {
  const x = nn.ops.array([1000, 0, -1000, 1, 2, 3]), y = nn.ops.array(6);
  nn.ops.activate('softmax', x, y, { cols: 3 });
  const p = y.read();
  assert.ok(Math.abs(p[0] - 1) < 1e-6 && p[1] === 0 && p[2] === 0);
  assert.ok(Math.abs(p[3] + p[4] + p[5] - 1) < 1e-6);
  assert.ok(Math.abs(p[5] - Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3))) < 1e-6);
  x.dispose(); y.dispose();
});

test('memory growth keeps arrays intact (views are refreshed)', () => {
  const a = nn.ops.array([1, 2, 3]);
  const big = nn.ops.array(4 << 20); // 16 MiB forces memory.grow
  assert.equal(Array.from(a.read()), [1, 2, 3]);
  big.dispose(); a.dispose();
});

test('seeded permutations are permutations and repeat for the same seed', () => {
  const p = nn.permutation(100, 7), q = nn.permutation(100, 7), r = nn.permutation(100, 8);
  assert.equal(Array.from(p), Array.from(q));
  assert.not.equal(Array.from(p), Array.from(r));
  assert.equal(Array.from(p).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
});

test.run();
