// CNN layers: conv forward against a naive convolution; batch-norm running statistics; the shape errors; pairs and
// augmentation; and a small CNN that learns a toy image task. Their gradients are checked in gradcheck.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';

const test = suite('cnn');
test.before(async () => {
  await nn.ready();
});

const L = nn.layers;
type AnyLayer = Parameters<ReturnType<typeof nn.sequential>['add']>[0];

/** Uniform numbers in [-1, 1) from a fixed LCG (the tests' own generator, independent of the module's). */
function randoms(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

interface ConvCase {
  h: number; w: number; c: number; f: number;
  k: [number, number]; s: [number, number]; d: [number, number];
  padding: 'valid' | 'same';
}

/** Naive NHWC convolution with TF's padding rule, in doubles. */
function naiveConv(x: Float32Array, n: number, kernel: Float32Array, bias: Float32Array, g: ConvCase): { y: Float64Array; oh: number; ow: number } {
  const { h, w, c, f } = g;
  const span = (kk: number, dd: number) => (kk - 1) * dd + 1;
  const oh = g.padding === 'same' ? Math.ceil(h / g.s[0]) : Math.floor((h - span(g.k[0], g.d[0])) / g.s[0]) + 1;
  const ow = g.padding === 'same' ? Math.ceil(w / g.s[1]) : Math.floor((w - span(g.k[1], g.d[1])) / g.s[1]) + 1;
  const pt = g.padding === 'same' ? Math.floor(Math.max((oh - 1) * g.s[0] + span(g.k[0], g.d[0]) - h, 0) / 2) : 0;
  const pl = g.padding === 'same' ? Math.floor(Math.max((ow - 1) * g.s[1] + span(g.k[1], g.d[1]) - w, 0) / 2) : 0;
  const y = new Float64Array(n * oh * ow * f);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < f; o++) {
          let sum = bias[o];
          for (let ky = 0; ky < g.k[0]; ky++)
            for (let kx = 0; kx < g.k[1]; kx++) {
              const iy = oy * g.s[0] - pt + ky * g.d[0], ix = ox * g.s[1] - pl + kx * g.d[1];
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              for (let j = 0; j < c; j++) sum += x[((b * h + iy) * w + ix) * c + j] * kernel[((ky * g.k[1] + kx) * c + j) * f + o];
            }
          y[((b * oh + oy) * ow + ox) * f + o] = sum;
        }
  return { y, oh, ow };
}

const convCases: [string, ConvCase][] = [
  ['one channel (direct kernel), valid', { h: 9, w: 8, c: 1, f: 5, k: [3, 3], s: [1, 1], d: [1, 1], padding: 'valid' }],
  ['two channels (direct), stride 2, same, odd sizes', { h: 7, w: 9, c: 2, f: 9, k: [3, 3], s: [2, 2], d: [1, 1], padding: 'same' }],
  ['many channels, stride 2, same', { h: 7, w: 7, c: 6, f: 4, k: [3, 3], s: [2, 2], d: [1, 1], padding: 'same' }],
  ['dilation 2, valid, non-square kernel', { h: 9, w: 10, c: 5, f: 3, k: [3, 2], s: [1, 1], d: [2, 2], padding: 'valid' }],
  ['dilation 2 and stride 2, same, one channel', { h: 10, w: 7, c: 1, f: 8, k: [3, 3], s: [2, 1], d: [2, 2], padding: 'same' }],
  ['kernel larger than the input with same', { h: 3, w: 4, c: 3, f: 2, k: [5, 5], s: [1, 1], d: [1, 1], padding: 'same' }],
  ['1x1 kernel, 17 channels', { h: 4, w: 5, c: 17, f: 7, k: [1, 1], s: [1, 1], d: [1, 1], padding: 'valid' }],
  ['large input, unfolded in chunks', { h: 64, w: 64, c: 16, f: 4, k: [3, 3], s: [1, 1], d: [1, 1], padding: 'same' }],
];

for (const [name, g] of convCases) {
  test(`conv2d forward matches a naive convolution: ${name}`, () => {
    const n = g.h === 64 ? 10 : 3;
    const model = nn.sequential({
      seed: 1,
      layers: [L.conv2d({ inputShape: [g.h, g.w, g.c], filters: g.f, kernelSize: g.k, strides: g.s, dilationRate: g.d, padding: g.padding })],
    });
    const kernel = randoms(g.k[0] * g.k[1] * g.c * g.f, 11), bias = randoms(g.f, 12);
    model.setWeights([nn.tensor(kernel, [g.k[0], g.k[1], g.c, g.f]), nn.tensor(bias, [g.f])]);
    const x = randoms(n * g.h * g.w * g.c, 13);
    const got = model.predict(nn.tensor(x, [n, g.h, g.w, g.c]));
    const want = naiveConv(x, n, kernel, bias, g);
    assert.equal(got.shape, [n, want.oh, want.ow, g.f]);
    const tol = 1e-5 * (1 + g.k[0] * g.k[1] * g.c);
    for (let i = 0; i < want.y.length; i++) {
      if (!(Math.abs(got.data[i] - want.y[i]) <= tol)) assert.unreachable(`${name}: y[${i}] = ${got.data[i]}, expected ${want.y[i]}`);
    }
    model.dispose();
  });
}

test('conv1d is conv2d on one row: forward matches, causal padding looks only back', () => {
  const n = 2, steps = 11, c = 3, f = 12;
  const kernel = randoms(3 * c * f, 21), bias = randoms(f, 22), x = randoms(n * steps * c, 23);
  const run = (padding: 'valid' | 'same' | 'causal', strides: number, dilationRate: number) => {
    const model = nn.sequential({ seed: 1, layers: [L.conv1d({ inputShape: [steps, c], filters: f, kernelSize: 3, strides, dilationRate, padding })] });
    model.setWeights([nn.tensor(kernel, [3, c, f]), nn.tensor(bias, [f])]);
    const y = model.predict(nn.tensor(x, [n, steps, c]));
    model.dispose();
    return y;
  };
  for (const [padding, s, d] of [['valid', 1, 1], ['same', 2, 1], ['valid', 1, 2]] as const) {
    const got = run(padding, s, d);
    const want = naiveConv(x, n, kernel, bias, { h: 1, w: steps, c, f, k: [1, 3], s: [1, s], d: [1, d], padding });
    assert.equal(got.shape, [n, want.ow, f]);
    for (let i = 0; i < want.y.length; i++) assert.ok(Math.abs(got.data[i] - want.y[i]) < 1e-4, `${padding} s${s} d${d} [${i}]`);
  }
  // causal with dilation 2: output t = Σ_k x[t - 2·(2 - k)]·w[k]
  const got = run('causal', 1, 2);
  assert.equal(got.shape, [n, steps, f]);
  for (let b = 0; b < n; b++)
    for (let t = 0; t < steps; t++)
      for (let o = 0; o < f; o++) {
        let sum = bias[o];
        for (let k = 0; k < 3; k++) {
          const src = t - 2 * (2 - k);
          if (src >= 0) for (let j = 0; j < c; j++) sum += x[(b * steps + src) * c + j] * kernel[(k * c + j) * f + o];
        }
        assert.ok(Math.abs(got.data[(b * steps + t) * f + o] - sum) < 1e-4, `causal [${b},${t},${o}]`);
      }
});

// ---- batch norm statistics -------------------------------------------------------------------------------------

test('batch norm: Keras weight order, running statistics updated in training, used in inference', async () => {
  const model = nn.sequential({ seed: 2, layers: [L.batchNormalization({ inputShape: [3], momentum: 0.5, epsilon: 1e-3 })] });
  const weights = model.getWeights();
  assert.equal(weights.map((w) => Array.from(w.data)), [[1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1]]);
  assert.is(model.countParams(), 12);
  assert.match(model.summary(null), /Non-trainable params: 6/);
  // inference with set statistics: y = (x - mean)/sqrt(var + eps)·gamma + beta
  const set = [[2, 0.5, 1], [0.1, -1, 0], [1, 2, -3], [4, 0.25, 1]];
  model.setWeights(set.map((v) => nn.tensor(v, [3])));
  const x = [[1, 2, 3], [-1, 0, 5]];
  const y = model.predict(nn.tensor(x.flat(), [2, 3]));
  x.flat().forEach((v, i) => {
    const j = i % 3;
    const want = ((v - set[2][j]) / Math.sqrt(set[3][j] + 1e-3)) * set[0][j] + set[1][j];
    assert.ok(Math.abs(y.data[i] - want) < 1e-5, `inference y[${i}] ${y.data[i]} vs ${want}`);
  });
  // one training step moves the running statistics halfway to the batch's
  model.compile({ optimizer: nn.train.sgd(1e-9), loss: 'meanSquaredError' });
  const batch = [[1, 2, 3], [3, 2, -1], [2, 5, 4], [6, -1, 2]];
  await model.fit(nn.tensor(batch.flat(), [4, 3]), nn.tensor(new Float32Array(12), [4, 3]), { epochs: 1, batchSize: 4, shuffle: false });
  const after = model.getWeights();
  for (let j = 0; j < 3; j++) {
    const col = batch.map((r) => r[j]);
    const mean = col.reduce((a, b) => a + b, 0) / 4;
    const variance = col.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
    assert.ok(Math.abs(after[2].data[j] - (0.5 * set[2][j] + 0.5 * mean)) < 1e-5, `moving mean ${j}`);
    assert.ok(Math.abs(after[3].data[j] - (0.5 * set[3][j] + 0.5 * variance)) < 1e-4, `moving variance ${j}`);
  }
  // predict (inference) uses the moving statistics, not the batch's: one sample gives a non-zero output
  const one = model.predict(nn.tensor([10, 10, 10], [1, 3]));
  for (let j = 0; j < 3; j++) {
    const want = ((10 - after[2].data[j]) / Math.sqrt(after[3].data[j] + 1e-3)) * after[0].data[j] + after[1].data[j];
    assert.ok(Math.abs(one.data[j] - want) < 1e-4, `after training, inference y[${j}]`);
  }
  model.dispose();
});

// ---- errors ----------------------------------------------------------------------------------------------------

function buildError(layers: AnyLayer[]): Error {
  try {
    nn.sequential({ layers }).network;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

test('bad shapes are ShapeErrors that name the layer and the shapes', () => {
  let e = buildError([L.conv2d({ name: 'big', inputShape: [4, 4, 1], filters: 2, kernelSize: 5 })]);
  assert.instance(e, nn.ShapeError);
  assert.match(e.message, /big/);
  assert.match(e.message, /larger than the input's height \(4\)/);
  e = buildError([L.conv2d({ name: 'dil', inputShape: [6, 6, 1], filters: 2, kernelSize: 3, dilationRate: 3 })]);
  assert.match(e.message, /dil: the window \(3 dilated by 3 spans 7\)/);
  e = buildError([L.maxPooling2d({ name: 'pool', inputShape: [3, 8, 2], poolSize: 4 })]);
  assert.instance(e, nn.ShapeError);
  assert.match(e.message, /pool.*height \(3\)/);
  e = buildError([L.conv2d({ name: 'flat', inputShape: [28, 28], filters: 2, kernelSize: 3 })]);
  assert.instance(e, nn.ShapeError);
  assert.match(e.message, /flat: conv2d expects an input \[height, width, channels\].*got \[28,28\]/);
  e = buildError([L.conv1d({ name: 'seq', inputShape: [4, 4, 4], filters: 2, kernelSize: 3 })]);
  assert.match(e.message, /seq: conv1d expects an input \[steps, channels\].*got \[4,4,4\]/);
  e = buildError([L.dense({ units: 8, inputShape: [3] }), L.globalMaxPooling2d({ name: 'gmp' })]);
  assert.match(e.message, /gmp: .*got \[8\]/);
  e = buildError([L.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3 }), L.conv2d({ name: 'c3', inputShape: [6, 6, 3], filters: 2, kernelSize: 3 })]);
  assert.instance(e, nn.ShapeError);
  assert.match(e.message, /c3: configured inputShape \[6,6,3\] does not match the incoming \[6,6,4\]/);
  e = buildError([L.residual({ name: 'block', inputShape: [5, 5, 3], layers: [L.conv2d({ filters: 8, kernelSize: 3, padding: 'same' })] })]);
  assert.instance(e, nn.ShapeError);
  assert.match(e.message, /block: .*\[5,5,3\] into \[5,5,8\] \(channels 3 in, 8 out\)/);
  e = buildError([L.residual({ name: 'shrink', inputShape: [6, 6, 2], layers: [L.conv2d({ filters: 2, kernelSize: 3 })] })]);
  assert.match(e.message, /shrink: .*\[6,6,2\] into \[4,4,2\]/);
});

test('bad arguments are ValueErrors; valid windows floor the output size as Keras does', () => {
  assert.throws(() => L.conv2d({ filters: 2, kernelSize: 2.5 }), (e: Error) => e instanceof nn.ValueError && /kernelSize/.test(e.message));
  assert.throws(() => L.conv2d({ filters: 0, kernelSize: 3 }), (e: Error) => e instanceof nn.ValueError && /filters/.test(e.message));
  assert.throws(() => L.conv2d({ filters: 2, kernelSize: 3, strides: [1, 2, 3] }), (e: Error) => e instanceof nn.ValueError && /strides/.test(e.message));
  assert.throws(() => L.conv2d({ filters: 2, kernelSize: 3, padding: 'causal' }), (e: Error) => e instanceof nn.ValueError && /padding/.test(e.message));
  assert.throws(() => L.maxPooling2d({ poolSize: 0 }), (e: Error) => e instanceof nn.ValueError && /poolSize/.test(e.message));
  assert.throws(() => L.batchNormalization({ momentum: 2 }), (e: Error) => e instanceof nn.ValueError && /momentum/.test(e.message));
  assert.throws(() => L.layerNormalization({ epsilon: 0 }), (e: Error) => e instanceof nn.ValueError && /epsilon/.test(e.message));
  assert.throws(() => L.residual({ layers: [] }), (e: Error) => e instanceof nn.ValueError && /layers/.test(e.message));
  assert.throws(() => L.randomAugment({ rotation: -5 }), (e: Error) => e instanceof nn.ValueError && /rotation/.test(e.message));
  const model = nn.sequential({ layers: [L.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3 }), L.maxPooling2d({ poolSize: 2 }), L.conv2d({ filters: 16, kernelSize: 3 }), L.maxPooling2d({ poolSize: 2 }), L.flatten(), L.dense({ units: 10 })] });
  assert.equal(model.network.layers.map((l) => l.outputShape), [[26, 26, 8], [13, 13, 8], [11, 11, 16], [5, 5, 16], [400], [10]]);
  assert.is(model.countParams(), 8 * 9 + 8 + 16 * 72 + 16 + 4010);
  model.dispose();
});

// ---- augmentation ----------------------------------------------------------------------------------------------

test('augment: seeded, flips mirror, shifts move whole pixels, rotation keeps most of the image', () => {
  const n = 6, h = 5, w = 7, c = 2;
  const images = randoms(n * h * w * c, 41);
  const a = nn.augment(images, n, h, w, c, { shift: 2, flip: true, rotation: 10, crop: 1 }, 9);
  const b = nn.augment(images, n, h, w, c, { shift: 2, flip: true, rotation: 10, crop: 1 }, 9);
  assert.equal(Array.from(a), Array.from(b));
  assert.not.equal(Array.from(a), Array.from(nn.augment(images, n, h, w, c, { shift: 2, flip: true, rotation: 10, crop: 1 }, 10)));
  assert.equal(Array.from(nn.augment(images, n, h, w, c, {}, 3)), Array.from(images));
  // flips alone: each image is itself or its mirror, and both happen
  const flipped = nn.augment(images, n, h, w, c, { flip: true }, 4);
  let mirrors = 0;
  for (let i = 0; i < n; i++) {
    const at = (x: number, yy: number, xx: number, j: number) => (((i * h + yy) * w + xx) * c + j);
    let same = true, mirror = true;
    for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) for (let j = 0; j < c; j++) {
      const v = flipped[at(0, yy, xx, j)];
      if (v !== images[at(0, yy, xx, j)]) same = false;
      if (v !== images[at(0, yy, w - 1 - xx, j)]) mirror = false;
    }
    assert.ok(same || mirror, `image ${i} is neither itself nor its mirror`);
    if (mirror && !same) mirrors++;
  }
  assert.ok(mirrors > 0 && mirrors < n, `mirrored ${mirrors} of ${n}`);
  // shifts alone: every output pixel is the input pixel (dy, dx) away, or the fill value outside
  const shifted = nn.augment(images, n, h, w, c, { shift: [1, 2], fillValue: 9 }, 5);
  for (let i = 0; i < n; i++) {
    const found = [];
    for (let dy = -1; dy <= 1; dy++) for (let dx = -2; dx <= 2; dx++) {
      let ok = true;
      for (let yy = 0; yy < h && ok; yy++) for (let xx = 0; xx < w && ok; xx++) {
        const sy = yy + dy, sx = xx + dx;
        const want = sy >= 0 && sy < h && sx >= 0 && sx < w ? images[((i * h + sy) * w + sx) * c] : 9;
        ok = shifted[((i * h + yy) * w + xx) * c] === want;
      }
      if (ok) found.push([dy, dx]);
    }
    assert.is(found.length, 1, `image ${i}: shifts that explain it: ${JSON.stringify(found)}`);
  }
  // a 5-degree rotation of a 32x32 image moves few pixels near the centre
  const big = randoms(32 * 32, 6);
  const rotated = nn.augment(big, 1, 32, 32, 1, { rotation: 5 }, 7);
  let centreSame = 0;
  for (let yy = 13; yy < 19; yy++) for (let xx = 13; xx < 19; xx++) if (rotated[yy * 32 + xx] === big[yy * 32 + xx]) centreSame++;
  assert.ok(centreSame >= 24, `centre pixels kept: ${centreSame} of 36`);
  assert.throws(() => nn.augment(images, n, h, w, c, { shift: 7 }, 1), (e: Error) => e instanceof nn.ValueError && /shift/.test(e.message));
  assert.throws(() => nn.augment(images, n + 1, h, w, c, {}, 1), (e: Error) => e instanceof nn.ShapeError);
});

test('a conv → max pool pair trains and predicts with the same bits as the two layers run apart', async () => {
  const n = 48;
  const x = randoms(n * 12 * 12, 71), labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  const build = (apart: boolean) => {
    // the linear activation layer between them (a copy) keeps the conv and the pooling apart
    const between = (pool: AnyLayer) => (apart ? [L.activation({ activation: 'linear' }), pool] : [pool]);
    const model = nn.sequential({ seed: 9, layers: [
      L.conv2d({ inputShape: [12, 12, 1], filters: 8, kernelSize: 3, activation: 'relu' }), ...between(L.maxPooling2d({ poolSize: 2 })),
      L.conv2d({ filters: 16, kernelSize: 3 }), ...between(L.maxPooling2d({ poolSize: 2 })), L.flatten(),
      L.dense({ units: 3, activation: 'softmax' })] });
    model.compile({ optimizer: nn.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
    return model;
  };
  const paired = build(false), apart = build(true);
  const plan = paired.network.plan(16, true);
  assert.is(plan.outputs[0], 0, 'the first conv is paired: its own output is never planned');
  assert.is(plan.outputs[2], 0, 'so is the second (no activation)');
  assert.is.not(apart.network.plan(16, true).outputs[0], 0);
  const bits = (data: Float32Array) => Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
  const run = async (m: typeof paired) => {
    const h = await m.fit(nn.tensor(x, [n, 12, 12, 1]), labels, { epochs: 2, batchSize: 16 });
    return { loss: h.history.loss, weights: m.getWeights().map((t) => bits(t.data as Float32Array)), pred: bits(m.predict(nn.tensor(x, [n, 12, 12, 1])).data as Float32Array) };
  };
  const a = await run(paired), b = await run(apart);
  assert.ok(a.loss[1] < a.loss[0], `it trained: ${a.loss}`);
  assert.equal(a.loss, b.loss);
  assert.equal(a.weights, b.weights);
  assert.equal(a.pred, b.pred);
  paired.dispose();
  apart.dispose();
});

// its gradient (the scatter back of the gather) is checked by gradcheck.test.ts's table
test('randomAugment layer: new transforms each training batch, identity in inference', () => {
  const model = nn.sequential({ seed: 5, layers: [L.activation({ activation: 'linear', inputShape: [6, 6, 2] }), L.randomAugment({ shift: 1, flip: true, rotation: 15 }), L.flatten(), L.dense({ units: 3 })] });
  const x = randoms(4 * 72, 51);
  const pred = model.predict(nn.tensor(x, [4, 6, 6, 2]));
  const net = model.network;
  const plan = net.plan(4, true);
  const heap = net.env.heap;
  heap.f32.set(x, plan.input >> 2);
  net.forward(plan, 4, true, false);
  const first = heap.f32.slice(plan.outputs[1] >> 2, (plan.outputs[1] >> 2) + 4 * 72);
  net.forward(plan, 4, true, false);
  const second = heap.f32.slice(plan.outputs[1] >> 2, (plan.outputs[1] >> 2) + 4 * 72);
  assert.not.equal(Array.from(first), Array.from(second));
  assert.not.equal(Array.from(first), Array.from(x));
  // every output value is an input value of the same image and channel (or the fill 0)
  for (let i = 0; i < 4 * 72; i++) {
    const img = Math.floor(i / 72), ch = i % 2;
    let ok = second[i] === 0;
    for (let p = 0; p < 36 && !ok; p++) ok = x[img * 72 + p * 2 + ch] === second[i];
    assert.ok(ok, `output ${i} is not a pixel of its image`);
  }
  // inference passes images through unchanged
  const again = model.predict(nn.tensor(x, [4, 6, 6, 2]));
  assert.equal(Array.from(again.data), Array.from(pred.data));
  model.dispose();
});

// ---- learning --------------------------------------------------------------------------------------------------

/** 8x8 images of one bar (horizontal: class 0, vertical: class 1) at a random place, with noise. */
function bars(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const r = randoms(n * 66, seed);
  const x = new Float32Array(n * 64), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const vertical = r[i * 66] > 0 ? 1 : 0;
    const line = Math.floor((r[i * 66 + 1] + 1) * 4);
    y[i] = vertical;
    for (let p = 0; p < 64; p++) {
      const row = p >> 3, col = p & 7;
      x[i * 64 + p] = ((vertical ? col : row) === line ? 1 : 0) + 0.3 * r[(i * 66 + 2 + p) % (n * 66)];
    }
  }
  return { x, y };
}

test('a small CNN (with augmentation) learns bars; a residual CNN with batch norm and global pooling too', async () => {
  const train = bars(256, 61), held = bars(128, 62);
  const cnn = nn.sequential({
    seed: 3,
    layers: [
      L.randomAugment({ inputShape: [8, 8, 1], shift: 1, flip: true }),
      L.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }),
      L.maxPooling2d({ poolSize: 2 }),
      L.flatten(),
      L.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  const res = nn.sequential({
    seed: 4,
    layers: [
      L.conv2d({ inputShape: [8, 8, 1], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }),
      L.residual({ layers: [L.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }), L.batchNormalization()] }),
      L.globalMaxPooling2d(),
      L.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  for (const [name, model] of [['cnn', cnn], ['residual', res]] as const) {
    model.compile({ optimizer: nn.train.adam(0.02), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const before = model.evaluate(nn.tensor(held.x, [128, 8, 8, 1]), held.y).accuracy;
    await model.fit(nn.tensor(train.x, [256, 8, 8, 1]), train.y, { epochs: 8, batchSize: 32 });
    const after = model.evaluate(nn.tensor(held.x, [128, 8, 8, 1]), held.y).accuracy;
    assert.ok(before < 0.8, `${name}: accuracy ${before} before training: the task is too easy to show learning`);
    assert.ok(after >= 0.95, `${name}: held-out accuracy ${after} (before training ${before})`);
    model.dispose();
  }
});

test.run();
