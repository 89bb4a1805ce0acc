// wasmnn/infer, the edge build: its own small module (the forward kernels only, from the same sources) must load
// a checkpoint saved by the full library and predict the same bits.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import * as infer from 'wasmnn/infer';
import { sameBits, uniform } from './helpers';

const test = suite('infer: the edge build');
test.before(async () => {
  await nn.ready();
  await infer.ready();
});

test('an MLP and a CNN saved by the full library predict the same bits in wasmnn/infer', () => {
  const L = nn.layers;
  const models = [
    nn.sequential({ seed: 3, layers: [L.dense({ inputShape: [12], units: 16, activation: 'gelu' }), L.dropout({ rate: 0.2 }), L.dense({ units: 4, activation: 'softmax' })] }),
    nn.sequential({ seed: 4, layers: [
      L.rescaling({ inputShape: [8, 8, 1], scale: 0.5 }), L.conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }),
      L.batchNormalization({}), L.maxPooling2d({ poolSize: 2 }), L.conv2d({ filters: 5, kernelSize: 2, padding: 'same', activation: 'tanh' }),
      L.flatten(), L.dense({ units: 3, activation: 'softmax' })] }),
  ];
  for (const m of models) {
    const inSize = m.inputShape.reduce((a, b) => a * b, 1);
    const x = nn.tensor(uniform(7 * inSize, 5), [7, ...m.inputShape]);
    const want = m.predict(x).data;
    const edge = infer.loadModel(m.save());
    assert.equal(edge.outputShape, m.outputShape);
    sameBits(edge.predict(infer.tensor(x.data, x.shape)).data, want, `${m.name} batch`);
    const one = infer.tensor(x.data.subarray(0, inSize), [1, ...m.inputShape]);
    sameBits(edge.predict(one).data, want.subarray(0, want.length / 7), `${m.name} one sample`);
    edge.dispose();
    m.dispose();
  }
});

test('a corrupt checkpoint is a typed error in wasmnn/infer too', () => {
  const m = nn.sequential({ seed: 1, layers: [nn.layers.dense({ inputShape: [3], units: 2 })] });
  const bytes = m.save();
  bytes[bytes.length - 1] ^= 0xff;
  assert.throws(() => infer.loadModel(bytes), (e: Error) => e instanceof infer.ValueError && /checksum|CRC/i.test(e.message));
  m.dispose();
});

test.run();
