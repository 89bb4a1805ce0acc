// wasmnn/infer/generate: text generation for models loaded by wasmnn/infer (or wasmnn/infer/core), kept out of
// wasmnn/infer itself so a program that only predicts does not carry it. The same loop and steppers as the library's
// nn.generate (ts/model/generate-loop.ts; generate-rnn.ts for recurrent models, generate-gpt.ts for a GPT with its KV
// cache), run through the model's own layers, kernels and memory, so the same seed and options give the same ids as
// nn.generate, in every runtime. Its errors are wasmnn/infer's own classes, and the layer classes the GPT stepper
// tells layers apart by are stand-ins that ask a layer's className (scripts/build.mjs: the model's layers are
// wasmnn/infer's copies of the classes; none is bundled here).
import type { InferenceModel } from './infer-core';
import { generateWith, STEPPABLE, type GenerateOptions } from './model/generate-loop';
import { recurrentStepper } from './model/generate-rnn';
import { gptStepper } from './model/generate-gpt';
import type { Sequential } from './model/model';

export type { GenerateOptions } from './model/generate-loop';

/** The `length` token ids that follow `prompt` (prompt excluded), as nn.generate gives them for the same model and seed. */
export function generate(model: InferenceModel, options: GenerateOptions): Int32Array {
  // the GPT stepper reads only model.network, which an InferenceModel has as a Sequential does
  return generateWith(model, options, [recurrentStepper, (m, o) => gptStepper(m as unknown as Sequential, o)], STEPPABLE);
}
