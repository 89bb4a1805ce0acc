// `wasmnn train --dataset spam`: SpamAssassin's messages as spam or ham. A seeded stratified 80/20 split of the
// messages; a Keras-style tokenizer fitted on the training part; each message's first --maxlen tokens (headers
// included: the start of a message), padded with 0, which the embedding masks; then one sigmoid unit, binary
// cross-entropy, after either
//   embedding -> LSTM, GRU or a bidirectional LSTM (padded in front: the last steps the recurrent layer reads are
//                words), or
//   --model transformer, KerasNLP's text classifier: token and position embedding -> transformer encoder blocks ->
//                the average over the real steps -> dropout (padded at the end: a message's first word is always at
//                position 0, and the mask keeps the padding out of the attention and the average).
// Reports test accuracy, spam's precision and recall and the confusion matrix; saves the model, the tokenizer and
// padding beside it, and the curves.
import * as nn from 'wasmnn';
import { optimizer } from './char-model';
import { SPAM_TRANSFORMER, type TrainOptions } from './options';
import { trainingProgress } from './progress';
import { peakRss, saveModel, tokenizerPath, writeCurves, writeFile } from './results';
import { spam } from './text-datasets';

const CLASSES = ['ham', 'spam'];

export async function trainSpamModel(opts: TrainOptions, say: (line?: string) => void): Promise<void> {
  const t = opts.text;
  const loadStart = performance.now();
  const corpus = spam();
  const split = nn.data.splitTexts(corpus.texts.map(messageText), corpus.labels, { testSize: 0.2, seed: opts.seed, stratify: true });
  const tokenizer = nn.data.tokenizer({ numWords: t.numWords }).fitOnTexts(split.xTrain);
  // the first tokens of each message
  const padding = opts.model === 'transformer' ? 'post' : 'pre';
  const pad = (texts: string[]) => nn.data.padSequences(tokenizer.textsToSequences(texts), { maxlen: t.maxlen, padding, truncating: 'post' });
  let xTrain = pad(split.xTrain);
  let yTrain = split.yTrain;
  const xTest = pad(split.xTest);
  const nSpam = corpus.labels.reduce((a, v) => a + v, 0);
  say(`SpamAssassin: ${corpus.texts.length} messages (${nSpam} spam, ${corpus.texts.length - nSpam} ham), split 80/20 ` +
    `stratified (seed ${opts.seed}): ${split.xTrain.length} training, ${split.xTest.length} test; the first ${t.maxlen} ` +
    `tokens of each, ${t.numWords} words`);
  if (opts.limit !== undefined && opts.limit < yTrain.length) {
    const keep = Int32Array.from({ length: opts.limit }, (_, i) => i);
    xTrain = nn.data.takeRows(xTrain, keep);
    yTrain = yTrain.slice(0, opts.limit);
    say(`training on the first ${opts.limit} of them only (--limit)`);
  }
  say(`data ready in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`);

  // the last share of the (shuffled) training messages validates, as TF.js' validationSplit does
  const n = yTrain.length;
  const nVal = Math.min(Math.floor(n * opts.validationSplit), t.valLimit ?? Infinity);
  const nFit = n - Math.floor(n * opts.validationSplit);
  const rows = (a: nn.data.IntArray, from: number, to: number) => nn.tensor(Float32Array.from(a.data.subarray(from * t.maxlen, to * t.maxlen)), [to - from, t.maxlen]);
  const labels = (y: Int32Array) => nn.tensor(Float32Array.from(y), [y.length, 1]);

  const { layers, description } = spamLayers(opts);
  const model = nn.sequential({ seed: opts.seed, layers });
  const stepsPerEpoch = Math.min(Math.ceil(nFit / opts.batchSize), t.maxSteps ?? Infinity);
  const fitCount = Math.min(nFit, stepsPerEpoch * opts.batchSize);
  model.compile({ optimizer: optimizer(opts, opts.epochs * stepsPerEpoch), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  say(model.summary(null));
  say(`${description}; ${opts.optimizer} lr ${opts.lr}${opts.schedule === 'cosine' ? ' decaying to 0 (cosine)' : ''}${t.clipnorm ? `, clipnorm ${t.clipnorm}` : ''}, batch ${opts.batchSize}, ` +
    `${opts.epochs} epoch${opts.epochs === 1 ? '' : 's'}, seed ${opts.seed}`);
  say(`training on ${fitCount} messages` + (nVal ? `, validating on ${nVal} held out` : ', no validation'));

  const progress = trainingProgress({
    epochs: opts.epochs, samples: fitCount, batchSize: opts.batchSize, live: Boolean(process.stdout.isTTY), quiet: opts.quiet,
  });
  const history = await model.fit(rows(xTrain, 0, fitCount), labels(yTrain.subarray(0, fitCount)), {
    epochs: opts.epochs, batchSize: opts.batchSize, shuffle: true, verbose: 0, callbacks: progress.callbacks,
    validationData: nVal ? [rows(xTrain, nFit, nFit + nVal), labels(yTrain.subarray(nFit, nFit + nVal))] : undefined,
  });
  const { trainSeconds, samples } = progress.clock;
  console.log(`trained ${samples} messages in ${trainSeconds.toFixed(1)} s: ${nn.report.formatRate(samples / trainSeconds)} messages/s (training steps only)`);

  const x = rows(xTest, 0, split.yTest.length);
  const { loss } = model.evaluate(x, labels(split.yTest), { batchSize: 256 });
  const p = model.predict(x, { batchSize: 256 }).data;
  const predicted = Int32Array.from(p, (v) => (v >= 0.5 ? 1 : 0));
  spamReport(split.yTest, predicted, loss).forEach((line) => console.log(line));

  console.log(saveModel(model, opts.out));
  writeFile(tokenizerPath(opts.out), JSON.stringify({ tokenizer: tokenizer.toJSON(), maxlen: t.maxlen, padding, truncating: 'post', classes: CLASSES }));
  console.log(`saved the tokenizer and padding to ${tokenizerPath(opts.out)}`);
  console.log(writeCurves(history.history, opts.curves, `SpamAssassin · ${description} · ${opts.optimizer} ${opts.lr}`));
  console.log(peakRss());
  model.dispose();
}

/** The layers for --model, and the line that describes them. */
function spamLayers(opts: TrainOptions): { layers: nn.layers.Layer[]; description: string } {
  const t = opts.text, L = nn.layers;
  if (opts.model === 'transformer') {
    const drop = opts.dropout, { heads, blocks: n } = SPAM_TRANSFORMER;
    const blocks = Array.from({ length: n }, () => L.transformerEncoder({ intermediateDim: t.units, numHeads: heads, dropout: drop }));
    return {
      layers: [
        L.tokenAndPositionEmbedding({ vocabularySize: t.numWords, sequenceLength: t.maxlen, embeddingDim: t.embedDim, maskZero: true, inputShape: [t.maxlen] }),
        ...blocks,
        L.globalAveragePooling1d(),
        ...(drop > 0 ? [L.dropout({ rate: drop })] : []),
        L.dense({ units: 1, activation: 'sigmoid' }),
      ],
      description: `token and position embedding ${t.embedDim} (mask zero) -> ${n === 1 ? 'transformer encoder' : `${n} transformer encoders`} ` +
        `(${heads} heads, feed-forward ${t.units}, dropout ${drop}) -> average over the real steps${drop > 0 ? ` -> dropout ${drop}` : ''} -> dense 1 sigmoid`,
    };
  }
  const cell = opts.model === 'bilstm' ? `bidirectional LSTM 2x${t.units} (concat)` : `${opts.model.toUpperCase()} ${t.units}`;
  const recurrent = opts.model === 'gru' ? L.gru({ units: t.units })
    : opts.model === 'bilstm' ? L.bidirectional({ layer: L.lstm({ units: t.units }), mergeMode: 'concat' })
    : L.lstm({ units: t.units });
  return {
    layers: [
      L.embedding({ inputDim: t.numWords, outputDim: t.embedDim, maskZero: true, inputShape: [t.maxlen] }),
      recurrent,
      L.dense({ units: 1, activation: 'sigmoid' }),
    ],
    description: `embedding ${t.embedDim} (mask zero) -> ${cell} -> dense 1 sigmoid`,
  };
}

/**
 * What the model reads of a raw message: its From and Subject headers, then its body. The routing headers
 * (Received, Message-ID, dates: 20 to 60 lines before the body) would otherwise fill the first tokens.
 */
export function messageText(raw: string): string {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end < 0 ? raw : raw.slice(0, end);
  const body = end < 0 ? '' : raw.slice(end).trim();
  const kept = head.split(/\r?\n(?![ \t])/).filter((line) => /^(from|subject):/i.test(line));
  return [...kept, body].join('\n');
}

/** Test loss and accuracy, spam's precision and recall, and the confusion matrix, as lines to print. */
export function spamReport(yTrue: Int32Array, predicted: Int32Array, loss: number): string[] {
  const cm = nn.metrics.confusionMatrix(yTrue, predicted, 2);
  const accuracy = nn.metrics.accuracy(cm);
  const precision = nn.metrics.precision(cm, 'none')[1];
  const recall = nn.metrics.recall(cm, 'none')[1];
  const right = Math.round(accuracy * yTrue.length);
  return [
    `test: loss ${loss.toFixed(4)}  accuracy ${(accuracy * 100).toFixed(2)}% (${right} of ${yTrue.length} right)  ` +
      `spam precision ${(precision * 100).toFixed(2)}%  recall ${(recall * 100).toFixed(2)}%`,
    '',
    'confusion matrix (rows: true class, columns: predicted class)',
    nn.metrics.formatConfusionMatrix(cm, 2, CLASSES),
    '',
  ];
}
