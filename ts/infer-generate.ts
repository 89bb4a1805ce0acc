// wasmnn/infer/generate: text generation for models loaded by wasmnn/infer (or wasmnn/infer/core), kept out of
// wasmnn/infer itself so a program that only predicts does not carry it. The same loop and steppers as the library's
// nn.generate (ts/model/generate-loop.ts; generate-rnn.ts for recurrent models, generate-gpt.ts for a GPT with its KV
// cache), run through the model's own layers, kernels and memory, so the same seed and options give the same ids as
// nn.generate, in every runtime. Its errors are wasmnn/infer's own classes; the steppers tell layers apart by
// className, so no layer class is bundled here.
import type { InferenceModel } from './infer-core';
import { generateWith, STEPPABLE, type GenerateOptions } from './model/generate-loop';
import { recurrentStepper } from './model/generate-rnn';
import { gptStepper } from './model/generate-gpt';

export type { GenerateOptions } from './model/generate-loop';

/** The `length` token ids that follow `prompt` (prompt excluded), as nn.generate gives them for the same model and seed. */
export function generate(model: InferenceModel, options: GenerateOptions): Int32Array {
  return generateWith(model, options, [recurrentStepper, gptStepper], STEPPABLE);
}
