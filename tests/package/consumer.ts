// A user's file, type-checked (and run) against the packed package installed into a scratch project by
// scripts/package-check.mjs, under `module: nodenext` and under `moduleResolution: bundler`. Not part of the suite.
import * as nn from 'wasmnn';
import * as edge from 'wasmnn/infer';

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
const same = p.data.every((v, i) => v === q.data[i]);
console.log(`consumer: ${history.epoch.length} epochs, loss ${history.history.loss.at(-1)}, wasmnn/infer predicts the same bits: ${same}`);
if (!same) throw new Error('wasmnn/infer does not predict what the model predicts');
void wrong;
