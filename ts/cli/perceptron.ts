// `wasmnn train --model perceptron`: Rosenblatt's rule on a binary task, then the same test report as the networks.
import * as nn from 'wasmnn';
import type { Dataset } from './dataset';
import type { TrainOptions } from './options';
import { predictedClasses, saveModel, testReport, writeCurves } from './results';

export async function trainPerceptron(opts: TrainOptions, ds: Dataset, say: (line?: string) => void): Promise<void> {
  say(`perceptron ${ds.features}-1 (step), learning rate ${opts.lr}, at most ${opts.epochs} epochs over ` +
    `${ds.nTrain} samples (no validation split: the rule stops when an epoch makes no mistake)`);
  const perceptron = new nn.Perceptron({ inputs: ds.features, learningRate: opts.lr, maxEpochs: opts.epochs, seed: opts.seed });
  const start = performance.now();
  const { converged, epochs, mistakes } = await perceptron.fit(nn.tensor2d(ds.xTrain, [ds.nTrain, ds.features]), ds.yTrain);
  const seconds = (performance.now() - start) / 1000;
  console.log(`${converged ? 'converged' : 'did not converge (the classes are not linearly separable, or it needs more epochs)'} ` +
    `after ${epochs} epochs in ${seconds.toFixed(1)} s: ${nn.report.formatRate((epochs * ds.nTrain) / seconds)} samples/s`);
  say(`mistakes per epoch: ${mistakes.join(', ')}`);

  const outputs = perceptron.predict(nn.tensor2d(ds.xTest, [ds.nTest, ds.features])); // 0/1
  testReport(ds, predictedClasses(outputs, ds.nTest, true)).forEach((line) => console.log(line));
  console.log(saveModel(perceptron.model, opts.out));
  // The perceptron's loss is the mean |y - ŷ| of the predictions made before each update: the epoch's error rate.
  const errorRate = mistakes.map((m) => m / ds.nTrain);
  const history = { loss: errorRate, accuracy: errorRate.map((e) => 1 - e) };
  console.log(writeCurves(history, opts.curves, `${ds.name} · perceptron ${ds.features}-1 (loss: training error rate)`));
}
