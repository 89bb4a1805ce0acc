// `wasmnn generate MODEL`: continues a prompt with a character model saved by `wasmnn train --dataset moby-dick`,
// whose vocabulary lies beside it (MODEL.vocab.json). The prompt runs once; each new character is one recurrent step
// with the state carried (nn.generate), sampled with the temperature, top-k and top-p given; the same seed gives the
// same text in every runtime.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as nn from 'wasmnn';
import { UsageError, int, parseArgsError, positive, positiveInt } from './options';
import { vocabularyPath } from './results';

export interface GenerateOptions {
  model: string;
  prompt: string;
  length: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
  slide: 'token' | 'half';
}

/** generate's errors are one line each: the message names the option and the value. */
const hint = '';

export const GENERATE_HELP = `Usage: wasmnn generate MODEL [options]

Continues a prompt with a character model trained by 'wasmnn train --dataset moby-dick' (MODEL is its
--out file; its vocabulary MODEL.vocab.json must lie beside it). Each new character is one recurrent
step (LSTM, GRU) or one position through the KV cache (GPT); the same seed gives the same text.

  --prompt TEXT         the text to continue                                     ["Call me "]
  --length N            characters to generate                                         [400]
  --temperature T       > 0: below 1 sharper, above 1 flatter                [0.8]
  --top-k K             sample among the K most likely characters only                 [all]
  --top-p P             sample among the most likely characters whose probabilities sum to P (0, 1]  [1]
  --seed N              seed of the sampling                                             [1]
  --slide token|half    a GPT past its window: 'token' re-runs the last window for every character
                        (nanoGPT's); 'half' restarts the window from its last half once and steps on
                        with the cache (much faster, each character sees 1/2 to 1 window)          [token]
  -h, --help            this text
`;

/** Parses the arguments after `generate`; undefined when help was asked for. */
export function parseGenerateOptions(args: string[]): GenerateOptions | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        prompt: { type: 'string', default: 'Call me ' },
        length: { type: 'string', default: '400' },
        temperature: { type: 'string', default: '0.8' },
        'top-k': { type: 'string' },
        'top-p': { type: 'string' },
        seed: { type: 'string', default: '1' },
        slide: { type: 'string', default: 'token' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    const err = parseArgsError(e);
    throw new UsageError(err.message, hint);
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  const usage = (f: () => number) => {
    try {
      return f();
    } catch (e) {
      throw e instanceof UsageError ? new UsageError(e.message, hint) : e;
    }
  };
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length ? `generate takes one model file, got ${positionals.length}: ${positionals.join(' ')}` : 'generate needs a model file: wasmnn generate MODEL', hint);
  }
  const model = positionals[0];
  if (!existsSync(model) || !statSync(model).isFile()) throw new UsageError(`no such model file: ${model}`, hint);
  if (values.prompt === '') throw new UsageError('--prompt is empty: give at least one character', hint);
  const temperature = usage(() => positive('--temperature', values.temperature!));
  const topP = values['top-p'] === undefined ? undefined : usage(() => {
    const p = positive('--top-p', values['top-p']!);
    if (p > 1) throw new UsageError(`--top-p must be in (0, 1]; got ${values['top-p']}`);
    return p;
  });
  const slide = values.slide;
  if (slide !== 'token' && slide !== 'half') throw new UsageError(`--slide takes token or half; got ${slide}`, hint);
  return {
    model,
    slide,
    prompt: values.prompt!,
    length: usage(() => positiveInt('--length', values.length!)),
    temperature,
    topK: values['top-k'] === undefined ? undefined : usage(() => positiveInt('--top-k', values['top-k']!)),
    topP,
    seed: usage(() => int('--seed', values.seed!)),
  };
}

export async function generate(opts: GenerateOptions): Promise<void> {
  await nn.ready();
  const vocabFile = vocabularyPath(opts.model);
  if (!existsSync(vocabFile)) {
    throw new UsageError(`no vocabulary beside the model: ${vocabFile} (generate takes a model saved by 'wasmnn train --dataset moby-dick')`, '');
  }
  const vocabulary = nn.data.CharVocabulary.fromJSON(JSON.parse(readFileSync(vocabFile, 'utf8')));
  const model = nn.loadModel(readFileSync(opts.model));
  try {
    const prompt = vocabulary.encode(opts.prompt);
    const t0 = performance.now();
    const ids = nn.generate(model, {
      prompt, length: opts.length, temperature: opts.temperature, seed: opts.seed, slide: opts.slide,
      ...(opts.topK !== undefined ? { topK: opts.topK } : {}), ...(opts.topP !== undefined ? { topP: opts.topP } : {}),
    });
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(`${opts.prompt}${vocabulary.decode(ids)}\n`);
    process.stderr.write(`${ids.length} characters in ${seconds.toFixed(2)} s (${nn.report.formatRate(ids.length / seconds)} characters/s)\n`);
  } finally {
    model.dispose();
  }
}
