// The playground's two networks, shared by the page's training worker and `wasmnn prepare-playground` (which trains
// the shipped CNN). Both take MNIST pixels as bytes (0 = paper, 255 = ink) and scale them inside the model.
// `nn` is the library, passed in so the same file serves the browser (../dist/index.js) and the CLI ('wasmnn').

export const MODEL_KINDS = {
  mlp: 'MLP 784-128-10 (relu, softmax)',
  cnn: 'CNN: random shifts and rotations (training only), conv 8 5x5 relu, max pool 2, conv 16 5x5 relu, ' +
    'max pool 2, dense 64 relu, dropout 0.25, dense 10 softmax',
};

/**
 * A compiled model; `steps` (optimiser steps of the whole run) sets the cosine decay of the learning rate.
 * @param {typeof import('wasmnn')} nn the library (the browser passes ../dist/index.js, the CLI 'wasmnn')
 * @param {string} kind 'mlp' or 'cnn'
 * @param {{ lr?: number, steps?: number, seed?: number }} [options]
 */
export function buildModel(nn, kind, { lr = 1e-3, steps, seed = 1 } = {}) {
  if (!MODEL_KINDS[kind]) throw new Error(`unknown model '${kind}': choose mlp or cnn`);
  const { rescaling, dense, conv2d, maxPooling2d, flatten, dropout, randomAugment } = nn.layers;
  const layers = kind === 'mlp'
    ? [
        rescaling({ inputShape: [784], scale: 1 / 255 }),
        dense({ units: 128, activation: 'relu' }),
        dense({ units: 10, activation: 'softmax' }),
      ]
    : [
        rescaling({ inputShape: [28, 28, 1], scale: 1 / 255 }),
        // drawn digits are less tidy than MNIST's: shifted and tilted copies make the CNN robust to that
        randomAugment({ shift: 2, rotation: 12 }),
        conv2d({ filters: 8, kernelSize: 5, activation: 'relu' }),
        maxPooling2d({ poolSize: 2 }),
        conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }),
        maxPooling2d({ poolSize: 2 }),
        flatten(),
        dense({ units: 64, activation: 'relu' }),
        dropout({ rate: 0.25 }),
        dense({ units: 10, activation: 'softmax' }),
      ];
  const model = nn.sequential({ layers, seed });
  const rate = steps ? nn.schedules.cosineDecay({ initialLearningRate: lr, decaySteps: steps }) : lr;
  model.compile({ optimizer: nn.train.adam(rate), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/** `n` images of 28x28 bytes as the model's input tensor ([n, 784] or [n, 28, 28, 1]). */
export function asInput(nn, model, pixels, n) {
  return nn.tensor(pixels, [n, ...model.inputShape], 'uint8');
}
