// `wasmnn train --dataset moby-dick`: a character language model (as Keras's char-RNN example): embedding ->
// LSTM or GRU over windows of characters -> dense softmax over the vocabulary at every step. Each epoch prints the
// training and validation loss in nats and bits per character, and a sample of generated text; the model is saved
// with its vocabulary beside it (what `wasmnn generate` reads), and the curves as SVG.
import * as nn from 'wasmnn';
import type { TrainOptions } from './options';
import { trainingProgress, type Logs } from './progress';
import { peakRss, saveModel, vocabularyPath, writeCurves, writeFile, type FitHistory } from './results';
import { charLmData, mobyDick } from './text-datasets';

const LN2 = Math.LN2;

export async function trainCharModel(opts: TrainOptions, say: (line?: string) => void): Promise<void> {
  const t = opts.text;
  const loadStart = performance.now();
  const text = mobyDick();
  const data = charLmData(text, t.seqLength);
  const { vocabulary } = data;
  const nTrain = data.train.x.shape[0];
  const nVal = Math.min(data.validation.x.shape[0], t.valLimit ?? Infinity);
  say(`Moby Dick: ${text.length.toLocaleString('en-US')} characters, a vocabulary of ${vocabulary.size} ids ` +
    `(${vocabulary.chars.length} characters, padding and unknown); ${nTrain} training windows of ${t.seqLength} ` +
    `characters, ${nVal} validation windows (the last 10% of the text)`);
  say(`data ready in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`);

  const cell = opts.model === 'gru' ? 'gru' : 'lstm';
  const gpt = opts.model === 'gpt';
  const model = nn.sequential({
    seed: opts.seed,
    layers: gpt ? gptLayers(vocabulary.size, t.seqLength, t.units) : [
      // nn.generate steps the saved model one character at a time whatever its window length
      nn.layers.embedding({ inputDim: vocabulary.size, outputDim: t.embedDim, inputShape: [t.seqLength] }),
      nn.layers[cell]({ units: t.units, returnSequences: true }),
      nn.layers.dense({ units: vocabulary.size, activation: 'softmax' }),
    ],
  });
  const description = gpt
    ? `token and position embedding ${t.units} -> ${GPT_BLOCKS} pre-LN transformer decoders (${GPT_HEADS} heads, feed-forward ${4 * t.units} GELU) -> layer norm -> dense ${vocabulary.size} softmax`
    : `embedding ${t.embedDim} -> ${cell.toUpperCase()} ${t.units} -> dense ${vocabulary.size} softmax`;
  const stepsPerEpoch = Math.min(Math.floor(nTrain / opts.batchSize) || 1, t.maxSteps ?? Infinity);
  const windowsPerEpoch = Math.min(nTrain, stepsPerEpoch * opts.batchSize);
  model.compile({ optimizer: optimizer(opts, opts.epochs * stepsPerEpoch), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  say(model.summary(null));
  say(`${description}; ${opts.optimizer} lr ${opts.lr}${gpt ? `, warm-up ${plural(warmupSteps(opts.epochs * stepsPerEpoch), 'step')}` : ''}${opts.schedule === 'cosine' ? ` decaying to ${gpt ? Number((opts.lr * GPT_MIN_LR).toPrecision(6)) : 0} (cosine)` : ''}${t.clipnorm ? `, clipnorm ${t.clipnorm}` : ''}, batch ${opts.batchSize}, ` +
    `${opts.epochs} epoch${opts.epochs === 1 ? '' : 's'} of ${stepsPerEpoch} steps (${windowsPerEpoch} windows), seed ${opts.seed}`);

  const steps = t.seqLength;
  const asTensor = (ids: Int32Array, n: number) => nn.tensor(Float32Array.from(ids.subarray(0, n * steps)), [n, steps]);
  const validationData: [nn.Tensor, nn.Tensor] = [asTensor(data.validation.x.data, nVal), asTensor(data.validation.y.data, nVal)];
  const progress = trainingProgress({
    epochs: opts.epochs, samples: windowsPerEpoch, batchSize: opts.batchSize,
    live: Boolean(process.stdout.isTTY), quiet: opts.quiet,
    describeEpoch: (logs: Logs, seconds: number, windows: number) => [
      `loss ${fixed(logs.loss)} (${fixed((logs.loss ?? NaN) / LN2, 3)} bits/char)`,
      `val_loss ${fixed(logs.val_loss)} (${fixed((logs.val_loss ?? NaN) / LN2, 3)} bits/char)`,
      `${seconds.toFixed(1)} s`, `${nn.report.formatRate((windows * steps) / seconds)} chars/s`,
    ],
  });
  const history: FitHistory = { loss: [], accuracy: [], val_loss: [], val_accuracy: [] };
  const prompt = vocabulary.encode(t.prompt);
  let sample = '';
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    // each epoch its own seeded draw of windows when --max-steps cuts it short; fit shuffles them into batches
    const pick = windowsPerEpoch < nTrain ? nn.permutation(nTrain, opts.seed + epoch).subarray(0, windowsPerEpoch) : null;
    const x = pick ? nn.data.takeRows(data.train.x, pick) : data.train.x;
    const y = pick ? nn.data.takeRows(data.train.y, pick) : data.train.y;
    const h = await model.fit(asTensor(x.data, windowsPerEpoch), asTensor(y.data, windowsPerEpoch), {
      epochs: epoch + 1, initialEpoch: epoch, batchSize: opts.batchSize, shuffle: true, verbose: 0, validationData,
      callbacks: progress.callbacks,
    });
    for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy'] as const) history[key]!.push(...(h.history[key] ?? []));
    if (t.sampleLength > 0) {
      sample = vocabulary.decode(prompt) + vocabulary.decode(nn.generate(model, {
        prompt, length: t.sampleLength, temperature: t.temperature, seed: opts.seed + epoch,
      }));
      if (!opts.quiet) console.log(`  sample (temperature ${t.temperature}): ${JSON.stringify(sample)}`);
    }
  }
  const { trainSeconds, samples } = progress.clock;
  console.log(`trained ${samples * steps} characters in ${trainSeconds.toFixed(1)} s: ` +
    `${nn.report.formatRate((samples * steps) / trainSeconds)} characters/s (training steps only)`);
  const last = history.val_loss!.at(-1);
  if (last !== undefined) console.log(`validation: loss ${last.toFixed(4)}, ${(last / LN2).toFixed(3)} bits per character`);
  if (opts.quiet && sample) console.log(`sample (temperature ${t.temperature}): ${JSON.stringify(sample)}`);
  console.log(saveModel(model, opts.out));
  writeFile(vocabularyPath(opts.out), JSON.stringify(vocabulary.toJSON()));
  console.log(`saved the vocabulary to ${vocabularyPath(opts.out)} (wasmnn generate reads it)`);
  console.log(writeCurves(history, opts.curves, `Moby Dick · ${description} · ${opts.optimizer} ${opts.lr}`));
  console.log(peakRss());
  model.dispose();
}

const GPT_BLOCKS = 4, GPT_HEADS = 4;

/** nanoGPT's character model: token and position embedding, pre-LN decoder blocks with a 4x GELU feed-forward
 *  network, no dropout, a final layer norm (pre-LN blocks leave their residual sum unnormalised) and a dense softmax
 *  over the vocabulary (the generate command steps it with a KV cache). */
function gptLayers(vocabularySize: number, seqLength: number, features: number): nn.layers.Layer[] {
  return [
    nn.layers.tokenAndPositionEmbedding({ vocabularySize, sequenceLength: seqLength, embeddingDim: features, inputShape: [seqLength] }),
    ...Array.from({ length: GPT_BLOCKS }, () => nn.layers.transformerDecoder({ intermediateDim: 4 * features, numHeads: GPT_HEADS, activation: 'gelu', normalizeFirst: true })),
    nn.layers.layerNormalization({ epsilon: 1e-5 }),
    nn.layers.dense({ units: vocabularySize, activation: 'softmax' }),
  ];
}

/** nanoGPT warms up over 100 of its 2,000 steps: the same share of a shorter run. */
const warmupSteps = (steps: number) => Math.max(1, Math.min(100, Math.round(steps / 20)));
/** nanoGPT's cosine ends at min_lr = lr / 10 (1e-4 after 1e-3), at the last step. */
const GPT_MIN_LR = 0.1;

/** The chosen optimiser (its rate decaying over `steps` with --schedule cosine, after a warm-up for the GPT) with
 *  gradient clipping; the GPT's AdamW as nanoGPT's: weight decay 0.1, beta2 0.99. */
export function optimizer({ optimizer: name, lr, schedule, text, model }: TrainOptions, steps: number): nn.Optimizer {
  const clip = text.clipnorm === undefined ? {} : { clipnorm: text.clipnorm };
  const gpt = model === 'gpt', warm = gpt ? warmupSteps(steps) : 0;
  const decay = schedule === 'cosine'
    ? nn.schedules.cosineDecay({ initialLearningRate: lr, decaySteps: Math.max(1, steps - warm), alpha: gpt ? GPT_MIN_LR : 0 })
    : lr;
  const rate = gpt ? nn.schedules.warmup(decay, warm) : decay;
  // every optimiser takes a schedule (the Optimizer base class does); some factories are typed for numbers only
  const o = nn.train as unknown as Record<string, (...args: unknown[]) => nn.Optimizer>;
  switch (name) {
    case 'adam': return o.adam(rate, 0.9, 0.999, 1e-7, clip);
    case 'adamw': return model === 'gpt' ? o.adamw(rate, 0.1, 0.9, 0.99, 1e-8, clip) : o.adamw(rate, 0.004, 0.9, 0.999, 1e-7, clip);
    case 'sgd': return o.sgd(rate, clip);
    case 'momentum': return o.momentum(rate, 0.9, false, clip);
    case 'rmsprop': return o.rmsprop(rate, 0.9, 0, 1e-7, false, clip);
    case 'adagrad': return o.adagrad(rate, 0.1, clip);
  }
}

const fixed = (v: number | undefined, digits = 4) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
