// Text generation: continue a prompt of token ids one token at a time. The model is stepped, not re-run: a Stepper
// holds whatever state one more token needs (a recurrent model's carried h and c; a transformer's KV cache per
// attention layer) and turns one token id into the logits of the next. Steppers come from STEPPERS, a list of makers
// each model kind adds to: the recurrent one in generate-rnn.ts, the GPT one in generate-gpt.ts. The sampling is the
// same for every kind (generate-loop.ts): temperature scaling and softmax in the module, top-k / top-p as a sort and
// f64 sums in JS (exact, so the same everywhere), the draw from a module generator seeded with `seed`: the same seed
// gives the same ids in every runtime.
import type { Sequential } from './model';
import { generateWith, STEPPABLE, type GenerateOptions } from './generate-loop';
import { recurrentStepper } from './generate-rnn';
import { gptStepper } from './generate-gpt';
import type { StepperMaker } from './stepper';

export type { Stepper, StepperMaker, StepperOptions } from './stepper';
export type { GenerateOptions } from './generate-loop';

export const STEPPERS: StepperMaker[] = [];

/** The `length` token ids that follow `prompt` (prompt excluded). */
export function generate(model: Sequential, options: GenerateOptions): Int32Array {
  return generateWith(model, options, STEPPERS, STEPPABLE);
}

STEPPERS.push(recurrentStepper, gptStepper);
