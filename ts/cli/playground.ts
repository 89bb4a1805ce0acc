// `wasmnn prepare-playground`: the files the browser playground (playground/) loads from the local server.
//   mnist.bin.gz  MNIST as one small file (format below), so the page needs no network beyond the local server
//   model.wnn     the shipped model: the playground's CNN trained here on all 60000 training images
//   model.json    what the page says about the shipped model: its description, test accuracy and training time
//   text/         the text tab's character models, when --lstm and --gpt give them (see playground-text.ts)
//
// mnist.bin.gz is gzip (the page inflates it with DecompressionStream) of, all integers little-endian:
//   offset 0   8 bytes  ASCII "WNMNIST1"
//          8   u32      nTrain: training images (the first nTrain of MNIST's 60000)
//         12   u32      nTest: test images (the first nTest of MNIST's 10000)
//         16   u16, u16 rows, cols (28, 28)
//         20   nTrain*rows*cols bytes  training images, row-major, 0 = paper, 255 = ink
//              nTrain bytes            training labels 0-9
//              nTest*rows*cols bytes   test images
//              nTest bytes             test labels
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as nn from 'wasmnn';
import { buildModel, asInput, MODEL_KINDS } from '../../playground/models.js';
import { loadDataset } from './dataset';
import { prepareTextModels } from './playground-text';
import { UsageError, type TrainOptions } from './options';

export const PLAYGROUND_HELP = `Usage: wasmnn prepare-playground [options]

Writes what the browser playground (npm run serve) loads: MNIST as one compact file
(mnist.bin.gz) and a shipped model trained here (model.wnn, model.json); with --lstm and --gpt
also the text tab's character models (text/), trained first with
  wasmnn train --dataset moby-dick --model lstm --epochs 1 --max-steps 2000 --out out/lstm.wnn
  wasmnn train --dataset moby-dick --model gpt --epochs 1 --max-steps 2000 --out out/gpt.wnn

  --out DIR        where to write them                                    [build/playground]
  --train N        training images in mnist.bin.gz (for in-page training)  [20000]
  --test N         test images in mnist.bin.gz                            [10000]
  --epochs N       epochs of the shipped CNN (on all 60000 images)        [2]
  --seed N         seed of the shipped model                              [1]
  --lstm FILE      the text tab's LSTM (its vocabulary FILE.vocab.json beside it)
  --gpt FILE       the text tab's GPT (its vocabulary beside it)
  --text-only      only the character models: MNIST and the CNN are left as they are
  -h, --help       this text
`;

export interface PlaygroundOptions { out: string; train: number; test: number; epochs: number; seed: number; lstm?: string; gpt?: string; textOnly: boolean }

export function parsePlaygroundOptions(args: string[]): PlaygroundOptions | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args, strict: true, allowPositionals: false,
      options: {
        out: { type: 'string', default: 'build/playground' },
        train: { type: 'string', default: '20000' },
        test: { type: 'string', default: '10000' },
        epochs: { type: 'string', default: '2' },
        seed: { type: 'string', default: '1' },
        lstm: { type: 'string' },
        gpt: { type: 'string' },
        'text-only': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    throw new UsageError(String((e as Error).message).split(/\.\s/)[0], "Run 'wasmnn prepare-playground --help' for the options.");
  }
  if (values.help) return undefined;
  if (values['text-only'] && values.lstm === undefined && values.gpt === undefined) {
    throw new UsageError('--text-only needs --lstm FILE or --gpt FILE (or both)', "Run 'wasmnn prepare-playground --help' for the options.");
  }
  const count = (flag: string, value: string, max: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new UsageError(`--${flag} must be a whole number from 1 to ${max}; got '${value}'`, "Run 'wasmnn prepare-playground --help' for the options.");
    }
    return n;
  };
  return {
    out: values.out!,
    train: count('train', values.train!, 60000),
    test: count('test', values.test!, 10000),
    epochs: count('epochs', values.epochs!, 100),
    seed: count('seed', values.seed!, 2 ** 31),
    lstm: values.lstm, gpt: values.gpt, textOnly: values['text-only']!,
  };
}

export async function preparePlayground(opts: PlaygroundOptions): Promise<void> {
  await nn.ready();
  if (!opts.textOnly) await prepareDigits(opts);
  if (opts.lstm !== undefined || opts.gpt !== undefined) {
    for (const line of prepareTextModels(opts.out, { lstm: opts.lstm, gpt: opts.gpt })) console.log(line);
  }
}

async function prepareDigits(opts: PlaygroundOptions): Promise<void> {
  const ds = loadDataset({ dataset: 'mnist' } as TrainOptions);
  mkdirSync(opts.out, { recursive: true });
  const data = packMnist(ds.xTrain as Uint8Array, ds.yTrain as Uint8Array, opts.train, ds.xTest as Uint8Array, ds.yTest as Uint8Array, opts.test);
  const packed = gzipSync(data, { level: 9 });
  writeFileSync(join(opts.out, 'mnist.bin.gz'), packed);
  console.log(`wrote ${join(opts.out, 'mnist.bin.gz')} (${opts.train} training and ${opts.test} test images, ${kib(packed.length)})`);

  // the shipped model: the playground's CNN on all the training images
  const batchSize = 64;
  const model = buildModel(nn, 'cnn', { steps: opts.epochs * Math.ceil(ds.nTrain / batchSize), seed: opts.seed });
  const started = performance.now();
  await model.fit(asInput(nn, model, ds.xTrain, ds.nTrain), ds.yTrain, {
    epochs: opts.epochs, batchSize, shuffle: true, verbose: 0,
    callbacks: { onEpochEnd: (epoch: number, logs: Record<string, number>) => console.log(`epoch ${epoch + 1}/${opts.epochs}: loss ${logs.loss.toFixed(4)}, accuracy ${logs.accuracy.toFixed(4)}`) },
  });
  const seconds = (performance.now() - started) / 1000;
  const { accuracy } = model.evaluate(asInput(nn, model, ds.xTest, ds.nTest), ds.yTest, { batchSize: 500 });
  const bytes = model.save({ includeOptimizer: false });
  writeFileSync(join(opts.out, 'model.wnn'), bytes);
  const info = {
    kind: 'cnn', description: MODEL_KINDS.cnn, epochs: opts.epochs, trainImages: ds.nTrain,
    testAccuracy: accuracy, trainSeconds: Math.round(seconds), bytes: bytes.length,
  };
  writeFileSync(join(opts.out, 'model.json'), JSON.stringify(info, null, 2) + '\n');
  console.log(`trained the shipped CNN in ${seconds.toFixed(1)} s: test accuracy ${(accuracy * 100).toFixed(2)}% on ${ds.nTest} images`);
  console.log(`wrote ${join(opts.out, 'model.wnn')} (${kib(bytes.length)}) and model.json`);
  model.dispose();
}

function packMnist(xTrain: Uint8Array, yTrain: Uint8Array, nTrain: number, xTest: Uint8Array, yTest: Uint8Array, nTest: number): Uint8Array {
  const pixels = 28 * 28;
  const out = new Uint8Array(20 + (nTrain + nTest) * (pixels + 1));
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode('WNMNIST1'), 0);
  view.setUint32(8, nTrain, true);
  view.setUint32(12, nTest, true);
  view.setUint16(16, 28, true);
  view.setUint16(18, 28, true);
  let at = 20;
  for (const part of [xTrain.subarray(0, nTrain * pixels), yTrain.subarray(0, nTrain), xTest.subarray(0, nTest * pixels), yTest.subarray(0, nTest)]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
