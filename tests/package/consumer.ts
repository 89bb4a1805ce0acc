// A user's file, type-checked (and run) against the packed package installed into a scratch project by
// scripts/package-check.mjs, under `module: nodenext` and under `moduleResolution: bundler`. Not part of the suite.
import * as nn from 'wasmnn';
import * as edge from 'wasmnn/infer';
import { generate } from 'wasmnn/infer/generate';

await nn.ready();
const { dense } = nn.layers;
const model: nn.Sequential = nn.sequential({
  layers: [dense({ inputShape: [2], units: 8, activation: 'relu' }), dense({ units: 1, activation: 'sigmoid' })],
  seed: 1,
});
model.compile({ optimizer: nn.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
const x = nn.tensor2d([[0, 0], [0, 1], [1, 0], [1, 1]], [4, 2]);
const y = nn.tensor2d([[0], [1], [1], [1]], [4, 1]);
const history: nn.History = await model.fit(x, y, { epochs: 50, batchSize: 4, verbose: 0 });
const p: nn.Tensor = model.predict(x);

// @ts-expect-error a model is not a string: this line type-checks only if wasmnn's types have become `any`
const wrong: string = nn.sequential({ layers: [dense({ inputShape: [2], units: 1 })] });

await edge.ready();
const loaded: edge.InferenceModel = edge.loadModel(nn.saveModel(model));
const q = loaded.predict(edge.tensor(x.data, x.shape)); // each build has its own Tensor class
const r = loaded.predict(x); // and takes the other's
const same = p.data.every((v, i) => v === q.data[i] && v === r.data[i]);
console.log(`consumer: ${history.epoch.length} epochs, loss ${history.history.loss.at(-1)}, wasmnn/infer predicts the same bits: ${same}`);
if (!same) throw new Error('wasmnn/infer does not predict what the model predicts');

// generation in the edge build: the library's ids for the same seed
const chars = nn.sequential({ seed: 2, layers: [nn.layers.embedding({ inputShape: [null], inputDim: 5, outputDim: 3 }),
  nn.layers.gru({ units: 4, returnSequences: true }), dense({ units: 5, activation: 'softmax' })] });
const ids: Int32Array = generate(edge.loadModel(nn.saveModel(chars)), { prompt: [1, 2], length: 12, seed: 3 });
const want = nn.generate(chars, { prompt: [1, 2], length: 12, seed: 3 });
if (ids.some((v, i) => v !== want[i])) throw new Error(`wasmnn/infer/generate gave ${ids}, nn.generate ${want}`);
void wrong;
