// The raw exports of the module (pointers are byte addresses into its memory), as the runtime calls them.
// Shapes and semantics are documented beside each kernel in assembly/.
type Ptr = number;

export interface Kernels {
  memory: WebAssembly.Memory;
  heap_base(): number;
  // matmul.ts: C(m,n) (+)= A·B, Aᵀ·B (A stored (k,m)), A·Bᵀ (B stored (n,k))
  gemm_nn(a: Ptr, b: Ptr, c: Ptr, m: number, k: number, n: number, accumulate: number): void;
  gemm_tn(a: Ptr, b: Ptr, c: Ptr, m: number, k: number, n: number, accumulate: number): void;
  gemm_nt(a: Ptr, b: Ptr, c: Ptr, m: number, k: number, n: number, accumulate: number): void;
  // activations.ts
  act_forward(x: Ptr, y: Ptr, n: number, act: number, alpha: number): void;
  act_backward(z: Ptr, y: Ptr, dy: Ptr, dz: Ptr, n: number, act: number, alpha: number): void;
  bias_act_forward(z: Ptr, bias: Ptr, y: Ptr, rows: number, cols: number, act: number, alpha: number): void;
  bias_grad(dz: Ptr, db: Ptr, rows: number, cols: number, accumulate: number): void;
  relu_bias_grad(z: Ptr, dz: Ptr, db: Ptr, rows: number, cols: number, accumulate: number): void;
  softmax_forward(x: Ptr, y: Ptr, rows: number, cols: number): void;
  softmax_backward(y: Ptr, dy: Ptr, dx: Ptr, rows: number, cols: number): void;
  log_softmax_forward(x: Ptr, y: Ptr, rows: number, cols: number): void;
  log_softmax_backward(y: Ptr, dy: Ptr, dx: Ptr, rows: number, cols: number): void;
  // vmath.ts: scalar math inside the module, so that every engine computes the same bits
  math_exp(x: number): number;
  math_log(x: number): number;
  math_cos(x: number): number;
  math_pow(x: number, y: number): number;
  math_sqrt(x: number): number;
  math_tanh(x: number): number;
  // random.ts: a 16-byte generator state per stream
  rng_seed(state: Ptr, seed: number): void;
  rng_next_u32(state: Ptr): number;
  rng_uniform(state: Ptr, out: Ptr, n: number, lo: number, hi: number): void;
  rng_normal(state: Ptr, out: Ptr, n: number, mean: number, std: number): void;
  rng_truncated_normal(state: Ptr, out: Ptr, n: number, mean: number, std: number): void;
  rng_dropout_mask(state: Ptr, out: Ptr, n: number, rate: number): void;
  rng_bernoulli(state: Ptr, out: Ptr, n: number, p: number): void;
  rng_shuffle(state: Ptr, idx: Ptr, n: number): void;
  rng_permutation(state: Ptr, idx: Ptr, n: number): void;
  // vector.ts
  vec_fill(x: Ptr, n: number, value: number): void;
  vec_copy(src: Ptr, dst: Ptr, n: number): void;
  vec_scale(x: Ptr, n: number, s: number): void;
  vec_affine(x: Ptr, y: Ptr, n: number, scale: number, offset: number): void;
  vec_add(a: Ptr, b: Ptr, out: Ptr, n: number): void;
  vec_add_inplace(acc: Ptr, x: Ptr, n: number): void;
  vec_mul(a: Ptr, b: Ptr, out: Ptr, n: number): void;
  vec_sum_squares(x: Ptr, n: number): number;
  vec_has_non_finite(x: Ptr, n: number): number;
  vec_clip(x: Ptr, n: number, lo: number, hi: number): void;
  argmax_rows(x: Ptr, out: Ptr, rows: number, cols: number): void;
  vec_max_abs_diff(a: Ptr, b: Ptr, n: number): number;
  // losses.ts: each returns the batch's mean loss and writes dLoss/dInput (already divided by the batch size)
  loss_mse(pred: Ptr, target: Ptr, grad: Ptr, rows: number, cols: number, w: Ptr): number;
  loss_mae(pred: Ptr, target: Ptr, grad: Ptr, rows: number, cols: number, w: Ptr): number;
  loss_huber(pred: Ptr, target: Ptr, grad: Ptr, rows: number, cols: number, w: Ptr, delta: number): number;
  loss_bce(prob: Ptr, target: Ptr, grad: Ptr, rows: number, cols: number, w: Ptr): number;
  loss_sigmoid_bce(logits: Ptr, target: Ptr, probOut: Ptr, grad: Ptr, rows: number, cols: number, w: Ptr): number;
  loss_cce(prob: Ptr, target: Ptr, grad: Ptr, rows: number, cols: number, w: Ptr): number;
  loss_softmax_cce(logits: Ptr, target: Ptr, probOut: Ptr, grad: Ptr, rows: number, cols: number, w: Ptr): number;
  loss_sparse_cce(prob: Ptr, labels: Ptr, grad: Ptr, rows: number, cols: number, w: Ptr): number;
  loss_softmax_sparse_cce(logits: Ptr, labels: Ptr, probOut: Ptr, grad: Ptr, rows: number, cols: number, w: Ptr): number;
  metric_correct_sparse(prob: Ptr, labels: Ptr, rows: number, cols: number): number;
  metric_correct_onehot(prob: Ptr, target: Ptr, rows: number, cols: number): number;
  metric_correct_binary(prob: Ptr, target: Ptr, n: number, threshold: number): number;
  // optim.ts: one call over the whole parameter block
  sgd_step(p: Ptr, g: Ptr, n: number, lr: number): void;
  momentum_step(p: Ptr, g: Ptr, vel: Ptr, n: number, lr: number, momentum: number, nesterov: number): void;
  rmsprop_step(p: Ptr, g: Ptr, ms: Ptr, n: number, lr: number, rho: number, eps: number): void;
  adagrad_step(p: Ptr, g: Ptr, acc: Ptr, n: number, lr: number, eps: number): void;
  adam_step(p: Ptr, g: Ptr, m: Ptr, v: Ptr, n: number, lr: number, beta1: number, beta2: number, eps: number, t: number, weightDecay: number): void;
  clip_by_value(g: Ptr, n: number, clip: number): void;
  l2_penalty(w: Ptr, g: Ptr, n: number, l2: number): number;
  l1_penalty(w: Ptr, g: Ptr, n: number, l1: number): number;
  // conv.ts / pool.ts: geometry is an i32 block (see GEO in ts/layers/geometry.ts)
  im2col(x: Ptr, cols: Ptr, geo: Ptr): void;
  col2im(cols: Ptr, dx: Ptr, geo: Ptr, accumulate: number): void;
  conv2d_forward(x: Ptr, w: Ptr, bias: Ptr, y: Ptr, geo: Ptr, filters: number, relu: number): void;
  conv2d_forward_maxpool(x: Ptr, w: Ptr, bias: Ptr, pooled: Ptr, argmax: Ptr, geo: Ptr, filters: number, relu: number): void;
  conv2d_direct_backward_filter(x: Ptr, dy: Ptr, dw: Ptr, geo: Ptr, filters: number, accumulate: number): void;
  conv2d_backward_sparse(x: Ptr, dz: Ptr, w: Ptr, dw: Ptr, db: Ptr, dx: Ptr, scratch: Ptr, geo: Ptr, filters: number): void;
  maxpool_forward(x: Ptr, y: Ptr, argmax: Ptr, geo: Ptr): void;
  maxpool_backward(dy: Ptr, argmax: Ptr, dx: Ptr, geo: Ptr, accumulate: number, reluY: Ptr): void;
  avgpool_forward(x: Ptr, y: Ptr, geo: Ptr): void;
  avgpool_backward(dy: Ptr, dx: Ptr, geo: Ptr, accumulate: number): void;
  global_avgpool_forward(x: Ptr, y: Ptr, n: number, hw: number, c: number): void;
  global_avgpool_backward(dy: Ptr, dx: Ptr, n: number, hw: number, c: number): void;
  global_maxpool_forward(x: Ptr, y: Ptr, argmax: Ptr, n: number, hw: number, c: number): void;
  global_maxpool_backward(dy: Ptr, argmax: Ptr, dx: Ptr, n: number, hw: number, c: number): void;
  // norm.ts
  batchnorm_forward_train(x: Ptr, y: Ptr, gamma: Ptr, beta: Ptr, mean: Ptr, invstd: Ptr, runningMean: Ptr, runningVar: Ptr, rows: number, c: number, momentum: number, eps: number): void;
  batchnorm_forward_infer(x: Ptr, y: Ptr, gamma: Ptr, beta: Ptr, runningMean: Ptr, runningVar: Ptr, rows: number, c: number, eps: number): void;
  batchnorm_backward(x: Ptr, dy: Ptr, dx: Ptr, gamma: Ptr, dgamma: Ptr, dbeta: Ptr, mean: Ptr, invstd: Ptr, rows: number, c: number, accumulateParams: number): void;
  layernorm_forward(x: Ptr, y: Ptr, gamma: Ptr, beta: Ptr, mean: Ptr, invstd: Ptr, rows: number, cols: number, eps: number): void;
  layernorm_backward(x: Ptr, dy: Ptr, dx: Ptr, gamma: Ptr, dgamma: Ptr, dbeta: Ptr, mean: Ptr, invstd: Ptr, rows: number, cols: number, accumulateParams: number): void;
  rmsnorm_forward(x: Ptr, y: Ptr, gamma: Ptr, invrms: Ptr, rows: number, cols: number, eps: number): void;
  rmsnorm_backward(x: Ptr, dy: Ptr, dx: Ptr, gamma: Ptr, dgamma: Ptr, invrms: Ptr, rows: number, cols: number, accumulateParams: number): void;
  // embedding.ts: ids are i32; the checks return the first bad position or -1
  embedding_ids(x: Ptr, ids: Ptr, n: number, inputDim: number): number;
  embedding_check(ids: Ptr, n: number, inputDim: number): number;
  embedding_mask(ids: Ptr, mask: Ptr, n: number): void;
  embedding_forward(ids: Ptr, table: Ptr, y: Ptr, n: number, outputDim: number): void;
  embedding_backward(ids: Ptr, dy: Ptr, dtable: Ptr, n: number, inputDim: number, outputDim: number, accumulate: number): void;
  // recurrent.ts (the parameter block's layout), simple-rnn.ts, lstm.ts, gru.ts: cell 0 simpleRNN, 1 LSTM, 2 GRU
  rnn_work_floats(cell: number, p: Ptr): number;
  rnn_step_work_floats(cell: number, p: Ptr): number;
  simple_rnn_forward(x: Ptr, y: Ptr, work: Ptr, p: Ptr): void;
  simple_rnn_backward(dy: Ptr, dx: Ptr, work: Ptr, p: Ptr): void;
  simple_rnn_step(x: Ptr, h: Ptr, work: Ptr, p: Ptr): void;
  lstm_forward(x: Ptr, y: Ptr, work: Ptr, p: Ptr): void;
  lstm_backward(dy: Ptr, dx: Ptr, work: Ptr, p: Ptr): void;
  lstm_step(x: Ptr, state: Ptr, work: Ptr, p: Ptr): void;
  gru_forward(x: Ptr, y: Ptr, work: Ptr, p: Ptr): void;
  gru_backward(dy: Ptr, dx: Ptr, work: Ptr, p: Ptr): void;
  gru_step(x: Ptr, h: Ptr, work: Ptr, p: Ptr): void;
}

/** Activation codes shared with assembly/activations.ts. */
export const ACTIVATION_CODES = {
  linear: 0,
  step: 1,
  relu: 2,
  leakyRelu: 3,
  elu: 4,
  sigmoid: 5,
  tanh: 6,
  softplus: 7,
  gelu: 8,
  geluTanh: 9,
  hardSigmoid: 10,
} as const;
