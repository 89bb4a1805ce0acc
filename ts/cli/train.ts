// `wasmnn train`: load the data, build and fit the model with live progress, then test, save and draw the curves.
import * as nn from 'wasmnn';
import { binaryTask, loadDataset, type Dataset } from './dataset';
import { trainCharModel } from './char-model';
import { buildModel, type Built } from './models';
import { UsageError, type TrainOptions } from './options';
import { trainPerceptron } from './perceptron';
import { trainingProgress } from './progress';
import { peakRss, predictedClasses, saveClasses, saveModel, saveScaler, testReport, writeCurves } from './results';
import { trainSpamModel } from './spam-model';

export async function train(opts: TrainOptions): Promise<void> {
  const say = opts.quiet ? () => {} : (line = '') => console.log(line);
  const loadStart = performance.now();
  await nn.ready();
  if (opts.dataset === 'moby-dick') return trainCharModel(opts, say);
  if (opts.dataset === 'spam') return trainSpamModel(opts, say);
  let ds = loadDataset(opts);
  if (opts.model === 'perceptron' || opts.model === 'logreg') ds = binaryTask(ds, 0);
  ds.notes.forEach((note) => say(note));
  say(`data ready in ${seconds(loadStart)} s`);

  if (opts.model === 'perceptron') await trainPerceptron(opts, ds, say);
  else await fitNetwork(opts, ds, say);
  if (ds.scaler) console.log(saveScaler(ds.scaler, opts.out));
  if (ds.scaler) saveClasses(ds.classes, opts.labelColumn ?? -1, opts.out); // what `wasmnn predict` names classes by
  console.log(peakRss());
}

async function fitNetwork(opts: TrainOptions, ds: Dataset, say: (line?: string) => void): Promise<void> {
  const split = holdOut(ds, opts.validationSplit);
  const steps = opts.epochs * Math.ceil(split.n / opts.batchSize);
  const built = buildModel(opts, ds, steps);
  say(built.model.summary(null));
  const rate = opts.schedule === 'cosine' ? `lr ${opts.lr} decaying to 0 (cosine) over ${steps} steps` : `lr ${opts.lr}`;
  say(`${built.description}; ${opts.optimizer} ${rate}, batch ${opts.batchSize}, ${plural(opts.epochs, 'epoch')}, seed ${opts.seed}`);
  say(`training on ${split.n} samples` + (split.nVal ? `, validating on ${split.nVal} held out` : ', no validation'));

  const progress = trainingProgress({
    epochs: opts.epochs, samples: split.n, batchSize: opts.batchSize,
    live: Boolean(process.stdout.isTTY), quiet: opts.quiet,
  });
  const validationData: nn.FitArgs['validationData'] = split.nVal
    ? [built.input(split.xVal, split.nVal), built.targets(split.yVal, split.nVal)]
    : undefined;
  const history = await built.model.fit(built.input(split.x, split.n), built.targets(split.y, split.n), {
    epochs: opts.epochs, batchSize: opts.batchSize, shuffle: true, verbose: 0, validationData,
    callbacks: progress.callbacks,
  });
  const { trainSeconds, samples } = progress.clock;
  console.log(`trained ${plural(history.epoch.length, 'epoch')} of ${split.n} samples in ${trainSeconds.toFixed(1)} s: ` +
    `${nn.report.formatRate(samples / trainSeconds)} samples/s (training steps only)`);

  test(built, ds).forEach((line) => console.log(line));
  console.log(saveModel(built.model, opts.out));
  const schedule = opts.schedule === 'cosine' ? ' cosine' : '';
  console.log(writeCurves(history.history, opts.curves, `${ds.name} · ${built.description} · ${opts.optimizer} ${opts.lr}${schedule}`));
}

function test(built: Built, ds: Dataset): string[] {
  const x = built.input(ds.xTest, ds.nTest);
  const { loss } = built.model.evaluate(x, built.targets(ds.yTest, ds.nTest), { batchSize: 256 });
  const outputs = built.model.predict(x).data;
  return testReport(ds, predictedClasses(outputs, ds.nTest, built.binary), loss);
}

/** The last share of the training samples is held out for validation, as TF.js' validationSplit does. */
function holdOut(ds: Dataset, share: number) {
  const n = Math.floor(ds.nTrain * (1 - share));
  if (n < 1) throw new UsageError(`--validation-split ${share} leaves no training samples out of ${ds.nTrain}`);
  const f = ds.features;
  return {
    x: ds.xTrain.subarray(0, n * f), y: ds.yTrain.subarray(0, n), n,
    xVal: ds.xTrain.subarray(n * f, ds.nTrain * f), yVal: ds.yTrain.subarray(n, ds.nTrain), nVal: ds.nTrain - n,
  };
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
