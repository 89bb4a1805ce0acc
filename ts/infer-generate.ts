// wasmnn/infer/generate: text generation for models loaded by wasmnn/infer (or wasmnn/infer/core), kept out of
// wasmnn/infer itself so a program that only predicts does not carry it. The same loop and recurrent stepper as the
// library's nn.generate (ts/model/generate-loop.ts, generate-rnn.ts), run through the model's own layers, kernels and
// memory, so the same seed gives the same ids as nn.generate, in every runtime. Its errors are wasmnn/infer's own
// classes (the build imports them from it rather than bundling them again).
// Recurrent models only (embedding -> simpleRNN / lstm / gru -> dense softmax); a GPT's KV-cache stepper is the
// library's alone for now.
import type { InferenceModel } from './infer-core';
import { generateWith, type GenerateOptions } from './model/generate-loop';
import { recurrentStepper } from './model/generate-rnn';

export type { GenerateOptions } from './model/generate-loop';

/** The `length` token ids that follow `prompt` (prompt excluded), as nn.generate gives them for the same model and seed. */
export function generate(model: InferenceModel, options: GenerateOptions): Int32Array {
  return generateWith(model, options, [recurrentStepper],
    'token ids in (an embedding first), recurrent layers (simpleRNN, lstm, gru) and dense layers on top ending in a softmax over the vocabulary');
}
