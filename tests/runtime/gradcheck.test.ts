// One gradient-check table for every layer, activation, loss and regulariser: each row is a small model (the layers
// under test behind activation('linear')) whose analytic gradients, of every trainable parameter and of the input,
// are compared coordinate by coordinate with central differences by one helper under one tolerance policy
// (gradcheck.ts: the objective, the tolerance and why, kinks, coverage of large tensors). Conv rows run on each
// kernel path they name (direct, im2col + GEMM, and a pair's dense and sparse backward).
//
// Adding a layer: one row below (its layers, its input shape; a loss only when the loss is under test too). The last
// test fails, naming the class, when a registered layer class has no row.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nn from 'wasmnn';
import { uniform } from './helpers';
import { checkRow, conv1d, conv2d, type ConvPath, type Row } from './gradcheck';

const { layers, regularizers } = nn;

const ROWS = 5; // samples per batch (the helper's default): not a multiple of 4, so the kernels' tails are exercised
const HIDDEN = 5;
const OUT = 3;

const targets = (n = OUT, seed = 12) => uniform(ROWS * n, seed, -1, 1);
const probabilities = (n = OUT, seed = 13) => uniform(ROWS * n, seed, 0.05, 0.95); // soft 0..1 targets for BCE
const oneHot = (labels: Int32Array, n = OUT) => {
  const out = new Float32Array(labels.length * n);
  labels.forEach((c, i) => (out[i * n + c] = 1));
  return out;
};
const LABELS = Int32Array.from([2, 0, 1, 2, 1]);

// biases start at small random values, not zeros, so no relu sits exactly at its kink and every bias matters
const biasInitializer = nn.initializers.randomUniform({ minval: -0.3, maxval: 0.3 });
const dense = (units: number, activation = 'linear', extra: Partial<Parameters<typeof layers.dense>[0]> = {}) =>
  layers.dense({ units, activation, biasInitializer, ...extra });
type ConvArgs = Parameters<typeof conv2d>[0];
const c2 = (args: ConvArgs) => conv2d({ biasInitializer, ...args });
const c1 = (args: ConvArgs) => conv1d({ biasInitializer, ...args });
const tanh = () => layers.activation({ activation: 'tanh' });

// step is left out: its derivative is 0 wherever it exists (the perceptron trains it by its own rule; see
// training.test.ts).
// sequences: 6 steps of 3 features; ids in [0, 7) with repeats; padded ids (0) at the end and at the start
const SEQ = [6, 3];
const WIDE = nn.initializers.randomUniform({ minval: -1, maxval: 1 });
const IDS = Float32Array.from([1, 3, 3, 6, 0, 1, 2, 2, 5, 4, 3, 1, 6, 6, 6, 0, 2, 1, 3, 5, 1, 4, 4, 2, 0, 2, 3, 1, 5, 6]);
const PADDED = Float32Array.from([3, 1, 4, 2, 0, 0, 0, 0, 5, 6, 1, 2, 2, 6, 3, 1, 4, 5, 6, 3, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0]);
const PADDED_ALL = Float32Array.from([...PADDED.slice(0, 24), 0, 0, 0, 0, 0, 0]);
type RnnOptions = Parameters<typeof layers.gru>[0];
const RNN_CASES: { what: string; make: (o: Partial<RnnOptions>) => nn.layers.Layer }[] = [
  { what: 'simpleRNN', make: (o) => layers.simpleRNN({ units: HIDDEN, biasInitializer, ...o }) },
  { what: 'lstm', make: (o) => layers.lstm({ units: HIDDEN, biasInitializer, ...o }) },
  { what: 'gru resetAfter', make: (o) => layers.gru({ units: HIDDEN, biasInitializer, ...o }) },
  { what: 'gru reset before (TF.js)', make: (o) => layers.gru({ units: HIDDEN, resetAfter: false, biasInitializer, ...o }) },
];

const SMOOTH = ['linear', 'elu', 'sigmoid', 'tanh', 'softplus', 'gelu', 'geluTanh', 'softmax'];
const KINKED = ['relu', 'leakyRelu', 'hardSigmoid'];

/** Conv rows run on both kernel paths; conv → max pool pairs also on the pair's dense backward. */
/** Attention's key bias: its gradient is 0 by softmax's shift invariance (see Row.zeroGradients). */
const KEY_BIAS = /\/key\/bias$/;

const BOTH: ConvPath[] = ['direct', 'im2col'];
const PAIR: ConvPath[] = ['direct', 'direct forward, gemm filter gradient', 'im2col'];

const table: Row[] = [
  // every activation inside a dense layer (hidden, so its dx is checked through a second dense)
  ...[...SMOOTH, ...KINKED].map((act): Row => ({
    name: `dense ${act} -> dense linear, mse`,
    layers: () => [dense(HIDDEN, act), dense(OUT)],
    loss: 'meanSquaredError', y: targets(),
  })),
  // every activation as its own layer
  ...[...SMOOTH, ...KINKED].map((act): Row => ({
    name: `activation(${act}) after dense, mse`,
    layers: () => [dense(HIDDEN), layers.activation({ activation: act }), dense(OUT)],
    loss: 'meanSquaredError', y: targets(),
  })),
  { name: 'leakyRelu alpha 0.1 and elu alpha 0.5', loss: 'meanSquaredError', y: targets(),
    layers: () => [dense(HIDDEN, 'leakyRelu', { alpha: 0.1 }), layers.activation({ activation: 'elu', alpha: 0.5 }), dense(OUT)] },
  { name: 'dense without bias', loss: 'meanSquaredError', y: targets(),
    layers: () => [dense(HIDDEN, 'tanh', { useBias: false }), dense(OUT)] },
  // dropout in training, with one fixed mask
  { name: 'dropout 0.4 between dense layers', loss: 'meanSquaredError', y: targets(),
    layers: () => [dense(HIDDEN, 'tanh'), layers.dropout({ rate: 0.4 }), dense(OUT)] },
  { name: 'dropout 0.5 on the input', loss: 'meanSquaredError', y: targets(),
    layers: () => [layers.dropout({ rate: 0.5 }), dense(OUT, 'sigmoid')] },
  // shapes: flatten and reshape (pass-through), softmax over the last axis of a 2-D activation
  { name: 'flatten [2, 3] -> dense', loss: 'meanSquaredError', y: targets(),
    inputShape: [2, 3], layers: () => [layers.flatten(), dense(OUT, 'tanh')] },
  { name: 'dense -> reshape [3, 2] -> softmax over the last axis -> flatten -> dense', loss: 'meanSquaredError', y: targets(),
    layers: () => [dense(6), layers.reshape({ targetShape: [3, 2] }), layers.activation({ activation: 'softmax' }), layers.flatten(), dense(OUT)] },
  { name: 'dense -> logSoftmax -> dense (PyTorch\'s log_softmax, as ONNX imports make it)', loss: 'meanSquaredError', y: targets(),
    layers: () => [dense(HIDDEN), layers.logSoftmax(), dense(OUT)] },
  // every loss
  { name: 'meanAbsoluteError', loss: 'meanAbsoluteError', y: targets(), eps: 1e-3,
    layers: () => [dense(HIDDEN, 'tanh'), dense(OUT)] },
  { name: 'huber (both branches: residuals around delta 1)', loss: 'huber', y: uniform(ROWS * OUT, 14, -3, 3),
    layers: () => [dense(HIDDEN, 'tanh'), dense(OUT)] },
  { name: 'huber delta 0.3', loss: nn.losses.huber({ delta: 0.3 }), y: targets(),
    layers: () => [dense(HIDDEN, 'tanh'), dense(OUT)] },
  { name: 'binaryCrossentropy fused with sigmoid', loss: 'binaryCrossentropy', y: probabilities(),
    layers: () => [dense(HIDDEN, 'tanh'), dense(OUT, 'sigmoid')] },
  { name: 'binaryCrossentropy fused, activation(sigmoid) last', loss: 'binaryCrossentropy', y: probabilities(),
    layers: () => [dense(HIDDEN, 'tanh'), dense(OUT), layers.activation({ activation: 'sigmoid' })] },
  { name: 'binaryCrossentropy unfused (sigmoid then a linear activation layer)', loss: 'binaryCrossentropy', y: probabilities(),
    layers: () => [dense(HIDDEN, 'tanh'), dense(OUT, 'sigmoid'), layers.activation({ activation: 'linear' })] },
  { name: 'binaryCrossentropy unfused on a softmax output', loss: 'binaryCrossentropy', y: probabilities(),
    layers: () => [dense(HIDDEN, 'tanh'), dense(OUT, 'softmax'), layers.activation({ activation: 'linear' })] },
  { name: 'categoricalCrossentropy fused with softmax', loss: 'categoricalCrossentropy', y: oneHot(LABELS),
    layers: () => [dense(HIDDEN, 'tanh'), dense(OUT, 'softmax')] },
  { name: 'categoricalCrossentropy fused, soft targets', loss: 'categoricalCrossentropy', y: uniform(ROWS * OUT, 15, 0, 1),
    layers: () => [dense(HIDDEN, 'gelu'), dense(OUT), layers.activation({ activation: 'softmax' })] },
  { name: 'categoricalCrossentropy unfused (softmax then a linear activation layer)', loss: 'categoricalCrossentropy', y: oneHot(LABELS),
    layers: () => [dense(HIDDEN, 'tanh'), dense(OUT, 'softmax'), layers.activation({ activation: 'linear' })] },
  { name: 'categoricalCrossentropy unfused on sigmoid outputs (renormalised rows)', loss: 'categoricalCrossentropy', y: oneHot(LABELS),
    layers: () => [dense(HIDDEN, 'tanh'), dense(OUT, 'sigmoid')] },
  { name: 'sparseCategoricalCrossentropy fused with softmax', loss: 'sparseCategoricalCrossentropy', y: LABELS,
    layers: () => [dense(HIDDEN, 'relu'), dense(OUT, 'softmax')] },
  { name: 'sparseCategoricalCrossentropy unfused (softmax then a linear activation layer)', loss: 'sparseCategoricalCrossentropy', y: LABELS,
    layers: () => [dense(HIDDEN, 'tanh'), dense(OUT, 'softmax'), layers.activation({ activation: 'linear' })] },
  { name: 'sparseCategoricalCrossentropy unfused on sigmoid outputs', loss: 'sparseCategoricalCrossentropy', y: LABELS,
    layers: () => [dense(HIDDEN, 'tanh'), dense(OUT, 'sigmoid')] },
  // regularisers (their penalty is part of J; the gradients include theirs)
  { name: 'kernel l2', loss: 'meanSquaredError', y: targets(),
    layers: () => [dense(HIDDEN, 'tanh', { kernelRegularizer: regularizers.l2({ l2: 0.05 }) }), dense(OUT, 'linear', { kernelRegularizer: 'l2' })] },
  { name: 'kernel l1', loss: 'meanSquaredError', y: targets(), eps: 1e-3,
    layers: () => [dense(HIDDEN, 'tanh', { kernelRegularizer: regularizers.l1({ l1: 0.05 }) }), dense(OUT)] },
  { name: 'kernel l1l2 and bias l2', loss: 'sparseCategoricalCrossentropy', y: LABELS, eps: 1e-3,
    layers: () => [dense(HIDDEN, 'elu', { kernelRegularizer: regularizers.l1l2({ l1: 0.02, l2: 0.03 }), biasRegularizer: regularizers.l2({ l2: 0.1 }) }), dense(OUT, 'softmax')] },
  { name: 'bias l1', loss: 'meanSquaredError', y: targets(), eps: 1e-3,
    layers: () => [dense(HIDDEN, 'sigmoid', { biasRegularizer: regularizers.l1({ l1: 0.1 }) }), dense(OUT)] },

  // ---- the layers alone (J = Σ r·y) --------------------------------------------------------------------------
  // dense wide enough for the GEMM's whole 5x8 tiles and their edges in all three products (7 samples, 13 in, 19 out)
  { name: 'dense 13 -> 19 tanh, 7 samples', inputShape: [13], rows: 7, layers: () => [dense(19, 'tanh')] },
  { name: 'dense 13 -> 19 relu, 7 samples', inputShape: [13], rows: 7, layers: () => [dense(19, 'relu')] },
  { name: 'rescaling (negative scale, offset) -> dense', layers: () => [layers.rescaling({ scale: -1.7, offset: 0.3 }), dense(OUT, 'tanh')] },
  { name: 'rescaling [4, 5] -> flatten', inputShape: [4, 5], layers: () => [layers.rescaling({ scale: 0.25, offset: -1 }), layers.flatten()] },
  // conv2d: strides, dilation, padding, channel and filter counts that take every branch of the kernels (eight-
  // filter blocks and their four- and one-filter tails, four-channel and three-tap filter gradients, col2im's gather)
  { name: 'conv2d stride 2, same, 6 channels, tanh', inputShape: [7, 7, 6], rows: 3, paths: BOTH,
    layers: () => [c2({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' })] },
  { name: 'conv2d valid, [3, 2] kernel dilated 2, odd sizes, sigmoid', inputShape: [9, 8, 5], rows: 2, paths: BOTH,
    layers: () => [c2({ filters: 3, kernelSize: [3, 2], dilationRate: 2, activation: 'sigmoid' })] },
  { name: 'conv2d one channel, same, 5 filters', inputShape: [6, 7, 1], rows: 3, paths: BOTH,
    layers: () => [c2({ filters: 5, kernelSize: 3, padding: 'same', activation: 'tanh' })] },
  { name: 'conv2d two channels, no bias, strides [2, 1], dilation 2, 9 filters', inputShape: [9, 8, 2], rows: 2, paths: BOTH,
    layers: () => [c2({ filters: 9, kernelSize: 3, strides: [2, 1], dilationRate: 2, useBias: false })] },
  { name: 'conv2d 16 channels: 1x1 without bias, then 5x5 same, elu', inputShape: [4, 5, 16], rows: 2, paths: BOTH,
    layers: () => [c2({ filters: 6, kernelSize: 1, useBias: false }), c2({ filters: 3, kernelSize: 5, padding: 'same', activation: 'elu' })] },
  { name: 'conv2d 3x3 same, strides [1, 2], dilation [2, 1], 3 channels, 9 filters', inputShape: [7, 9, 3], rows: 2, paths: BOTH,
    layers: () => [c2({ filters: 9, kernelSize: 3, strides: [1, 2], dilationRate: [2, 1], padding: 'same', activation: 'tanh' })] },
  { name: 'conv2d 3x3 same, 4 channels, 12 filters (four-channel gradient and a tail of 4)', inputShape: [6, 7, 4], rows: 2, paths: BOTH,
    layers: () => [c2({ filters: 12, kernelSize: 3, padding: 'same', activation: 'tanh' })] },
  { name: 'conv2d 2x2 valid, 8 channels, 19 filters', inputShape: [5, 6, 8], rows: 2, paths: BOTH,
    layers: () => [c2({ filters: 19, kernelSize: 2, activation: 'tanh' })] },
  // relu layers keep no pre-activation: the forward kernels apply relu, and its derivative reads y (y > 0 ⇔ z > 0)
  { name: 'conv2d relu, 2 channels, 12 filters', inputShape: [6, 9, 2], rows: 3, paths: BOTH,
    layers: () => [c2({ filters: 12, kernelSize: 3, activation: 'relu' })] },
  { name: 'conv2d relu, 16 channels, 32 filters, same', inputShape: [4, 5, 16], rows: 2, paths: BOTH, probes: 256,
    layers: () => [c2({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' })] },
  // 64·64 pixels · 144 floats · 8 samples exceed the unfolded buffer's budget (2^22 floats): im2col (for the forward
  // pass and the filter gradient) and dx's gemm_nt + col2im run in chunks of 7 samples and 1
  { name: 'conv2d unfolded in chunks', inputShape: [64, 64, 16], rows: 8, paths: ['im2col'], probes: 12,
    layers: () => [c2({ filters: 1, kernelSize: 3, padding: 'same' })] },
  // conv1d (conv2d on one row)
  { name: 'conv1d stride 2, same, 4 channels', inputShape: [11, 4], rows: 3, paths: BOTH,
    layers: () => [c1({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' })] },
  { name: 'conv1d causal, dilation 2, 6 channels', inputShape: [10, 6], rows: 2, paths: BOTH,
    layers: () => [c1({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'causal' })] },
  { name: 'conv1d valid, stride 3, 8 channels, 13 filters, relu', inputShape: [14, 8], rows: 3, paths: BOTH,
    layers: () => [c1({ filters: 13, kernelSize: 4, strides: 3, activation: 'relu' })] },
  { name: 'conv1d same, 3 channels, 10 filters, kernel 5 dilated 2', inputShape: [12, 3], rows: 2, paths: BOTH,
    layers: () => [c1({ filters: 10, kernelSize: 5, dilationRate: 2, padding: 'same', activation: 'sigmoid' })] },
  // a relu or linear 'valid' conv with 8k filters and a 2x2 max pooling run as one pair (conv2d_forward_maxpool)
  { name: 'conv2d relu -> maxPooling2d 2x2 pair (odd conv output: its last row and column are not computed)', inputShape: [9, 8, 3], rows: 2,
    paths: PAIR, expect: 'paired', layers: () => [c2({ filters: 8, kernelSize: 3, activation: 'relu' }), layers.maxPooling2d({ poolSize: 2 })] },
  { name: 'conv2d relu -> maxPooling2d pair, 4 channels, 16 filters (the sparse backward)', inputShape: [8, 9, 4], rows: 2,
    paths: PAIR, expect: 'sparse', layers: () => [c2({ filters: 16, kernelSize: 3, activation: 'relu' }), layers.maxPooling2d({ poolSize: 2 })] },
  { name: 'conv2d linear 2x2 stride 2 -> maxPooling2d pair, 8 channels, 24 filters (sparse)', inputShape: [10, 11, 8], rows: 2,
    paths: PAIR, expect: 'sparse', layers: () => [c2({ filters: 24, kernelSize: 2, strides: 2 }), layers.maxPooling2d({ poolSize: 2 })] },
  { name: 'conv2d linear -> maxPooling2d pair, 2 channels, 16 filters', inputShape: [10, 11, 2], rows: 2,
    paths: PAIR, expect: 'paired', layers: () => [c2({ filters: 16, kernelSize: 2, strides: 2 }), layers.maxPooling2d({ poolSize: 2 })] },
  // pooling
  { name: 'maxPooling2d 2x2, 3 channels (odd input: the last row is dropped)', inputShape: [7, 6, 3], rows: 2, layers: () => [layers.maxPooling2d({ poolSize: 2 })] },
  { name: 'maxPooling2d 2x2, 8 channels, odd sizes (the plain 2x2 kernels)', inputShape: [5, 7, 8], rows: 2, layers: () => [layers.maxPooling2d({ poolSize: 2 })] },
  { name: 'maxPooling2d 3x3 stride 2 same', inputShape: [7, 7, 5], rows: 2, layers: () => [layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' })] },
  { name: 'averagePooling2d 3x3 stride 2 same', inputShape: [7, 8, 5], rows: 2, layers: () => [layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' })] },
  { name: 'averagePooling2d [2, 3] valid', inputShape: [5, 7, 2], rows: 2, layers: () => [layers.averagePooling2d({ poolSize: [2, 3] })] },
  { name: 'maxPooling1d 3 stride 2', inputShape: [10, 3], rows: 2, layers: () => [layers.maxPooling1d({ poolSize: 3, strides: 2 })] },
  { name: 'maxPooling1d 2 same, 9 channels', inputShape: [7, 9], rows: 3, layers: () => [layers.maxPooling1d({ padding: 'same' })] },
  { name: 'averagePooling1d 2 same', inputShape: [9, 3], rows: 2, layers: () => [layers.averagePooling1d({ padding: 'same' })] },
  { name: 'globalAveragePooling2d', inputShape: [4, 5, 6], rows: 3, layers: () => [layers.globalAveragePooling2d()] },
  { name: 'globalMaxPooling2d', inputShape: [4, 5, 6], rows: 3, layers: () => [layers.globalMaxPooling2d()] },
  { name: 'globalAveragePooling1d, 9 channels', inputShape: [7, 9], rows: 3, layers: () => [layers.globalAveragePooling1d()] },
  { name: 'globalMaxPooling1d, 9 channels', inputShape: [7, 9], rows: 3, layers: () => [layers.globalMaxPooling1d()] },
  // normalisation in training mode (batch statistics), and residual blocks
  { name: 'batchNormalization on feature maps -> conv2d', inputShape: [4, 4, 3], layers: () => [layers.batchNormalization(), c2({ filters: 2, kernelSize: 2, activation: 'tanh' })] },
  { name: 'batchNormalization on 7 features, momentum 0.5 -> tanh', rows: 6, inputShape: [7], layers: () => [layers.batchNormalization({ momentum: 0.5 }), tanh()] },
  { name: 'layerNormalization -> tanh', inputShape: [5, 6], rows: 2, layers: () => [layers.layerNormalization(), tanh()] },
  { name: 'rmsNormalization -> tanh', inputShape: [3, 9], rows: 3, layers: () => [layers.rmsNormalization(), tanh()] },
  { name: 'residual block (conv, batch norm, conv) -> tanh', inputShape: [5, 5, 4], rows: 3, paths: BOTH,
    layers: () => [layers.residual({ layers: [c2({ filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh' }), layers.batchNormalization(), c2({ filters: 4, kernelSize: 3, padding: 'same' })] }), tanh()] },
  { name: 'residual block with a strided projection', inputShape: [6, 6, 3], rows: 2, paths: BOTH,
    layers: () => [layers.residual({ projection: true, layers: [c2({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }), layers.layerNormalization()] })] },
  { name: 'residual 1-D block with a projection (conv1d, rms norm)', inputShape: [8, 3], rows: 2,
    layers: () => [layers.residual({ projection: true, layers: [c1({ filters: 5, kernelSize: 3, padding: 'same', activation: 'tanh' }), layers.rmsNormalization()] })] },
  // dropout and randomAugment draw from the training stream, which the check restores before every pass: one mask,
  // one set of transforms; randomAugment is a nearest-pixel gather, so its gradient is the scatter back
  { name: 'dropout 0.3 on feature maps', inputShape: [3, 4, 5], rows: 2, layers: () => [layers.dropout({ rate: 0.3 })] },
  { name: 'randomAugment (shift, crop, flip, rotation) -> flatten', inputShape: [6, 7, 2], rows: 4,
    layers: () => [layers.randomAugment({ shift: 1, crop: 1, flip: true, rotation: 15, fillValue: 0.5 }), layers.flatten()] },
  { name: 'reshape [4, 5] -> [5, 4] -> layerNormalization', inputShape: [4, 5], rows: 3, layers: () => [layers.reshape({ targetShape: [5, 4] }), layers.layerNormalization()] },
  // attention on [steps, features]: projections, every head, the probabilities and the output projection
  { name: 'multiHeadAttention 2 heads, keyDim 3, no mask', inputShape: [5, 6], rows: 2,
    zeroGradients: KEY_BIAS,
    layers: () => [layers.multiHeadAttention({ numHeads: 2, keyDim: 3 })] },
  { name: 'multiHeadAttention causal, 3 heads, keyDim 2 != valueDim 4', inputShape: [6, 5], rows: 3,
    zeroGradients: KEY_BIAS,
    layers: () => [layers.multiHeadAttention({ numHeads: 3, keyDim: 2, valueDim: 4, useCausalMask: true })] },
  { name: 'multiHeadAttention without biases, keyDim 5, valueDim 3, one head', inputShape: [4, 7], rows: 2,
    layers: () => [layers.multiHeadAttention({ numHeads: 1, keyDim: 5, valueDim: 3, useBias: false })] },
  { name: 'multiHeadAttention dropout 0.3 on the probabilities (one fixed mask), causal', inputShape: [5, 4], rows: 2,
    zeroGradients: KEY_BIAS,
    layers: () => [layers.multiHeadAttention({ numHeads: 2, keyDim: 2, dropout: 0.3, useCausalMask: true })] },
  // 37 steps: two blocks of query rows (ATT_ROWS = 32), the causal block bound on the second
  { name: 'multiHeadAttention causal over 37 steps (two row blocks)', inputShape: [37, 4], rows: 1, probes: 256,
    zeroGradients: KEY_BIAS,
    layers: () => [layers.multiHeadAttention({ numHeads: 2, keyDim: 3, useCausalMask: true })] },
  // position information, then attention so the sum reaches something nonlinear
  { name: 'sinePositionEncoding -> tanh', inputShape: [6, 5], rows: 2, layers: () => [layers.sinePositionEncoding(), tanh()] },
  { name: 'sinePositionEncoding maxWavelength 50 -> multiHeadAttention', inputShape: [5, 4], rows: 2,
    zeroGradients: KEY_BIAS,
    layers: () => [layers.sinePositionEncoding({ maxWavelength: 50 }), layers.multiHeadAttention({ numHeads: 2, keyDim: 2 })] },
  { name: 'positionEmbedding (sequenceLength 7 > 5 steps: the unused rows get 0) -> tanh', inputShape: [5, 3], rows: 3,
    layers: () => [layers.positionEmbedding({ sequenceLength: 7 }), tanh()] },
  { name: 'tokenAndPositionEmbedding (repeated ids) -> multiHeadAttention causal', inputShape: [4], rows: 3, inputGradient: false,
    x: Float32Array.from([3, 0, 3, 5, 1, 1, 2, 0, 5, 4, 3, 3]),
    zeroGradients: KEY_BIAS,
    layers: () => [layers.tokenAndPositionEmbedding({ vocabularySize: 6, sequenceLength: 6, embeddingDim: 4 }),
      layers.multiHeadAttention({ numHeads: 2, keyDim: 2, useCausalMask: true })] },
  // padding (ids 0 at the end, at the start, one sample all padding): padded keys get no weight in the block's
  // attention and the pooling skips padded steps (id 0's embedding row gets no gradient)
  { name: 'tokenAndPositionEmbedding maskZero -> transformerEncoder -> globalAveragePooling1d (padded steps skipped)', inputShape: [6], x: PADDED_ALL, inputGradient: false,
    zeroGradients: KEY_BIAS,
    layers: () => [layers.tokenAndPositionEmbedding({ vocabularySize: 7, sequenceLength: 6, embeddingDim: 4, maskZero: true }),
      layers.transformerEncoder({ intermediateDim: 5, numHeads: 2 }), layers.globalAveragePooling1d()] },
  // the transformer blocks, post-LN and pre-LN
  { name: 'transformerEncoder post-LN, relu, 2 heads', inputShape: [4, 6], rows: 2,
    zeroGradients: KEY_BIAS,
    layers: () => [layers.transformerEncoder({ intermediateDim: 7, numHeads: 2 })] },
  // eps 2e-3: at 5e-3 the truncation of the key kernel's small gradient (through ln1 and the softmax) is 1.5x ATOL
  { name: 'transformerEncoder pre-LN (normalizeFirst), gelu, 3 heads', inputShape: [5, 6], rows: 2, eps: 2e-3,
    zeroGradients: KEY_BIAS,
    layers: () => [layers.transformerEncoder({ intermediateDim: 5, numHeads: 3, activation: 'gelu', normalizeFirst: true })] },
  { name: 'transformerEncoder post-LN, gelu, dropout 0.2 (fixed masks)', inputShape: [4, 4], rows: 2,
    zeroGradients: KEY_BIAS,
    layers: () => [layers.transformerEncoder({ intermediateDim: 6, numHeads: 2, activation: 'gelu', dropout: 0.2 })] },
  { name: 'transformerDecoder post-LN, gelu, 2 heads', inputShape: [5, 4], rows: 2,
    zeroGradients: KEY_BIAS,
    layers: () => [layers.transformerDecoder({ intermediateDim: 6, numHeads: 2, activation: 'gelu' })] },
  { name: 'transformerDecoder pre-LN, relu, dropout 0.1, stacked twice', inputShape: [4, 4], rows: 2,
    zeroGradients: KEY_BIAS,
    layers: () => [layers.transformerDecoder({ intermediateDim: 5, numHeads: 2, normalizeFirst: true, dropout: 0.1 }),
      layers.transformerDecoder({ intermediateDim: 3, numHeads: 1, normalizeFirst: true, activation: 'gelu' })] },

  // ---- sequences: [steps, features] per sample; the recurrent rows run 6 steps of 3 features into 5 units (a tail
  // of one unit past a vector of 4), biases random so every gate's bias matters
  { name: 'embedding (ids repeated within and across samples)', inputShape: [6], x: IDS, inputGradient: false,
    layers: () => [layers.embedding({ inputDim: 7, outputDim: 6, embeddingsInitializer: 'glorotUniform' })] },
  { name: 'dense on [steps, features] (each step a row)', inputShape: [4, 3], layers: () => [dense(HIDDEN, 'tanh')] },
  ...RNN_CASES.map(({ what, make }): Row => ({ name: `${what}, last state`, inputShape: SEQ, layers: () => [make({})] })),
  ...RNN_CASES.map(({ what, make }): Row => ({ name: `${what}, returnSequences`, inputShape: SEQ, layers: () => [make({ returnSequences: true })] })),
  ...RNN_CASES.map(({ what, make }): Row => ({ name: `${what}, goBackwards, returnSequences`, inputShape: SEQ, layers: () => [make({ goBackwards: true, returnSequences: true })] })),
  ...RNN_CASES.map(({ what, make }): Row => ({ name: `${what}, goBackwards, last state`, inputShape: SEQ, layers: () => [make({ goBackwards: true })] })),
  // maskZero: samples padded at the end and at the start (ids 0), the padded steps keep the state
  ...RNN_CASES.map(({ what, make }): Row => ({
    name: `embedding maskZero -> ${what} returnSequences -> dense (padded samples)`, inputShape: [6], x: PADDED, inputGradient: false,
    layers: () => [layers.embedding({ inputDim: 7, outputDim: 3, maskZero: true }), make({ returnSequences: true }), dense(2, 'tanh')],
  })),
  ...RNN_CASES.map(({ what, make }): Row => ({
    name: `embedding maskZero -> ${what} goBackwards, last state (padded samples)`, inputShape: [6], x: PADDED, inputGradient: false,
    layers: () => [layers.embedding({ inputDim: 7, outputDim: 3, maskZero: true }), make({ goBackwards: true })],
  })),
  // dropout of the inputs and of the state (one fixed mask each, as for dropout above)
  ...RNN_CASES.map(({ what, make }): Row => ({ name: `${what}, dropout 0.3, recurrentDropout 0.4`, inputShape: SEQ, layers: () => [make({ dropout: 0.3, recurrentDropout: 0.4, returnSequences: true })] })),
  { name: 'lstm (relu cell, hardSigmoid gates, no bias) -> lstm', inputShape: SEQ, eps: 1e-3,
    layers: () => [layers.lstm({ units: 4, returnSequences: true, useBias: false }), layers.lstm({ units: 3, activation: 'elu', recurrentActivation: 'sigmoid', biasInitializer })] },
  // bidirectional: every merge mode, a sequence out and the last states out, and over padded samples
  ...(['concat', 'sum', 'ave', 'mul'] as const).flatMap((mergeMode): Row[] => [
    { name: `bidirectional(lstm) ${mergeMode}, returnSequences`, inputShape: SEQ,
      layers: () => [layers.bidirectional({ layer: layers.lstm({ units: HIDDEN, returnSequences: true, biasInitializer }), mergeMode })] },
    { name: `bidirectional(gru) ${mergeMode}, last states`, inputShape: SEQ,
      layers: () => [layers.bidirectional({ layer: layers.gru({ units: HIDDEN, biasInitializer }), mergeMode })] },
  ]),
  { name: 'embedding maskZero -> bidirectional(simpleRNN) concat, returnSequences (padded steps output zeros) -> dense', inputShape: [6], x: PADDED, inputGradient: false,
    layers: () => [layers.embedding({ inputDim: 7, outputDim: 3, maskZero: true }), layers.bidirectional({ layer: layers.simpleRNN({ units: 4, returnSequences: true, biasInitializer }) }), dense(2, 'tanh')] },
  { name: 'embedding maskZero -> bidirectional(gru, reset before) sum, last states', inputShape: [6], x: PADDED, inputGradient: false,
    layers: () => [layers.embedding({ inputDim: 7, outputDim: 3, maskZero: true, embeddingsInitializer: WIDE }),
      layers.bidirectional({ layer: layers.gru({ units: 4, resetAfter: false, kernelInitializer: WIDE, recurrentInitializer: WIDE, biasInitializer }), mergeMode: 'sum' })] },
  // pooling over the real steps only (padded at the end and at the start; one sample with no real step below)
  ...(['globalAveragePooling1d', 'globalMaxPooling1d'] as const).map((pool): Row => ({
    name: `embedding maskZero -> gru returnSequences -> ${pool} (padded steps skipped)`, inputShape: [6], x: PADDED_ALL, inputGradient: false,
    layers: () => [layers.embedding({ inputDim: 7, outputDim: 3, maskZero: true }), layers.gru({ units: HIDDEN, returnSequences: true, biasInitializer }), layers[pool]()],
  })),
  { name: 'timeDistributed(dense) on [steps, features]', inputShape: SEQ, layers: () => [layers.timeDistributed({ layer: dense(HIDDEN, 'sigmoid') })] },
  // the losses per step (a mean over 2 samples x 6 steps, with weights wide enough for gradients well above zero)
  { name: 'simpleRNN returnSequences -> timeDistributed(dense softmax), sparse labels per step', inputShape: SEQ, rows: 2, loss: 'sparseCategoricalCrossentropy',
    y: Int32Array.from({ length: 2 * 6 }, (_, i) => (i * 5) % OUT),
    layers: () => [layers.simpleRNN({ units: HIDDEN, returnSequences: true, kernelInitializer: WIDE, recurrentInitializer: WIDE, biasInitializer }), layers.timeDistributed({ layer: dense(OUT, 'softmax', { kernelInitializer: WIDE }) })] },
  { name: 'embedding maskZero -> gru returnSequences -> dense softmax, sparse labels per step (padded steps not scored)', inputShape: [6], rows: 2, x: PADDED.slice(6, 18), inputGradient: false,
    loss: 'sparseCategoricalCrossentropy', y: Int32Array.from({ length: 2 * 6 }, (_, i) => (i * 2) % OUT),
    layers: () => [layers.embedding({ inputDim: 7, outputDim: 3, maskZero: true, embeddingsInitializer: WIDE }), layers.gru({ units: HIDDEN, returnSequences: true, kernelInitializer: WIDE, recurrentInitializer: WIDE, biasInitializer }), dense(OUT, 'softmax', { kernelInitializer: WIDE })] },
  { name: 'lstm and gru with l2 on every weight', inputShape: SEQ,
    layers: () => [layers.lstm({ units: 4, returnSequences: true, kernelRegularizer: 'l2', recurrentRegularizer: 'l2', biasRegularizer: 'l2', biasInitializer }),
      layers.gru({ units: HIDDEN, recurrentRegularizer: regularizers.l2({ l2: 0.1 }), biasInitializer })] },
];

const test = suite('gradcheck');
test.before(async () => {
  await nn.ready();
});

for (const row of table) {
  for (const path of row.paths ?? [null]) {
    test(path ? `${row.name} (${path})` : row.name, () => void checkRow(row, path));
  }
}

test('the table covers every activation and every loss', () => {
  const acts = new Set([...SMOOTH, ...KINKED]);
  for (const name of nn.ACTIVATION_NAMES) if (name !== 'step') assert.ok(acts.has(name), `no row for activation ${name}`);
  const losses = new Set(table.map((r) => (r.loss === undefined ? '' : typeof r.loss === 'string' ? r.loss : r.loss.name)));
  for (const name of ['meanSquaredError', 'meanAbsoluteError', 'huber', 'binaryCrossentropy', 'categoricalCrossentropy', 'sparseCategoricalCrossentropy']) {
    assert.ok(losses.has(name), `no row for loss ${name}`);
  }
});

test('every registered layer class has a row', () => {
  const covered = new Set<string>();
  const walk = (layer: nn.layers.Layer): void => {
    covered.add(layer.className);
    for (const inner of (layer as { inner?: nn.layers.Layer[] }).inner ?? []) walk(inner);
  };
  for (const row of table) row.layers().forEach(walk);
  const missing = nn.registeredLayers().filter((name) => !covered.has(name));
  assert.equal(missing, [], `registered layer classes without a gradient-check row: ${missing.join(', ')}`);
});

test.run();
