// The module's export contract: every kernel the runtime calls, with its parameters' names (pointers are byte
// addresses into the module's memory; shapes and semantics are documented beside each kernel in assembly/) and,
// for the few that return a value, '-> number'. The Kernels type is derived from this table, so a call with the
// wrong number of arguments does not compile; tests/structure/kernels.test.mjs checks the table against both built
// modules (dist/wasmnn.wasm exports exactly these, dist/wasmnn-infer.wasm a subset, each with these arities) and
// that every kernel here is called somewhere in ts/. A new kernel is one row here and its line in assembly/index.ts.
export const KERNELS = {
  heap_base: '-> number',
  // matmul.ts: C(m,n) (+)= A·B, Aᵀ·B (A stored (k,m)), A·Bᵀ (B stored (n,k))
  gemm_nn: 'a b c m k n accumulate',
  gemm_tn: 'a b c m k n accumulate',
  gemm_nt: 'a b c m k n accumulate',
  // activations.ts
  act_forward: 'x y n act alpha',
  act_backward: 'z y dy dz n act alpha',
  bias_act_forward: 'z bias y rows cols act alpha',
  bias_gelu_slope_forward: 'z bias y rows cols',
  bias_grad: 'dz db rows cols accumulate',
  relu_bias_grad: 'z dz db rows cols accumulate',
  slope_bias_grad: 's dz db rows cols accumulate',
  softmax_forward: 'x y rows cols',
  softmax_backward: 'y dy dx rows cols',
  log_softmax_forward: 'x y rows cols',
  log_softmax_backward: 'y dy dx rows cols',
  // vmath.ts: scalar math inside the module, so that every engine computes the same bits
  math_log: 'x -> number',
  math_cos: 'x -> number',
  math_pow: 'x y -> number',
  // random.ts: a 16-byte generator state per stream
  rng_seed: 'state seed',
  rng_next_u32: 'state -> number',
  rng_uniform: 'state out n lo hi',
  rng_normal: 'state out n mean std',
  rng_truncated_normal: 'state out n mean std',
  rng_dropout_mask: 'state out n rate',
  rng_permutation: 'state idx n',
  // vector.ts
  vec_fill: 'x n value',
  vec_copy: 'src dst n',
  vec_scale: 'x n s',
  vec_affine: 'x y n scale offset',
  vec_add: 'a b out n',
  vec_add_inplace: 'acc x n',
  vec_mul: 'a b out n',
  vec_sum_squares: 'x n -> number',
  vec_has_non_finite: 'x n -> number',
  // losses.ts: each returns the batch's mean loss and writes dLoss/dInput (already divided by the batch size)
  loss_mse: 'pred target grad rows cols w -> number',
  loss_mae: 'pred target grad rows cols w -> number',
  loss_huber: 'pred target grad rows cols w delta -> number',
  loss_bce: 'prob target grad rows cols w -> number',
  loss_sigmoid_bce: 'logits target probOut grad rows cols w -> number',
  loss_cce: 'prob target grad rows cols w -> number',
  loss_softmax_cce: 'logits target probOut grad rows cols w -> number',
  loss_sparse_cce: 'prob labels grad rows cols w -> number',
  loss_softmax_sparse_cce: 'logits labels probOut grad rows cols w -> number',
  metric_correct_sparse: 'prob labels rows cols mask -> number',
  metric_correct_onehot: 'prob target rows cols mask -> number',
  metric_correct_binary: 'prob target rows cols threshold mask -> number',
  // optim.ts: one call over the whole parameter block
  sgd_step: 'p g n lr',
  momentum_step: 'p g acc n lr momentum nesterov',
  rmsprop_step: 'p g ms mom mg n settings',
  adagrad_step: 'p g acc n lr eps',
  adam_step: 'p g m v n settings',
  clip_by_value: 'g n clip',
  l2_penalty: 'w g n l2 -> number',
  l1_penalty: 'w g n l1 -> number',
  // conv.ts / pool.ts: geometry is an i32 block (see GEO in ts/layers/geometry.ts)
  im2col: 'x cols geo',
  col2im: 'cols dx geo accumulate',
  conv2d_forward: 'x w bias y geo filters relu',
  conv2d_forward_maxpool: 'x w bias pooled argmax geo filters relu',
  conv2d_direct_backward_filter: 'x dy dw geo filters accumulate',
  conv2d_backward_sparse: 'x dz dx geo block', // block: SPARSE below
  maxpool_forward: 'x y argmax geo',
  maxpool_backward: 'dy argmax dx geo accumulate reluY',
  avgpool_forward: 'x y geo',
  avgpool_backward: 'dy dx geo accumulate',
  global_avgpool_forward: 'x y n hw c',
  global_avgpool_backward: 'dy dx n hw c',
  global_maxpool_forward: 'x y argmax n hw c',
  global_maxpool_backward: 'dy argmax dx n hw c',
  // norm.ts: the rest of the arguments in a parameter block (NORM below)
  batchnorm_forward_train: 'x y block',
  batchnorm_forward_infer: 'x y block',
  batchnorm_backward: 'x dy dx block',
  layernorm_forward: 'x y block',
  layernorm_backward: 'x dy dx block',
  rmsnorm_forward: 'x y block',
  rmsnorm_backward: 'x dy dx block',
  // attention.ts: att is the attention block (ATT_* fields: sizes, causal, pointers to mask, dropout, probs and
  // scratch, the KV cache's capacity and position)
  attention_forward: 'q k v out att',
  attention_backward: 'q k v dout dq dk dv att',
  attention_cache_fill: 'k v kCache vCache att',
  attention_step: 'q kNew vNew kCache vCache out att',
  position_encoding_add: 'x y batch steps features start maxWavelength',
  position_table_add: 'x table y batch steps features start',
  residual_add: 'z bias mask x y rows cols',
  // decoder.ts: a transformer decoder block on one new position against its KV cache (block: DEC below)
  decoder_step: 'x y block pos',
  // rowpack.ts: a weight matrix W (k, n) copied into 32-column strips for generation's one-row products
  row_pack: 'w dst k n',
  // gpt.ts: a GPT's generation step for one token (program: GPT below)
  gpt_step: 'program id pos',
  // embedding.ts: ids are i32; the checks return the first bad position or -1
  embedding_ids: 'x ids n inputDim -> number',
  embedding_check: 'ids n inputDim -> number',
  embedding_mask: 'ids mask n',
  embedding_forward: 'ids table y n outputDim',
  embedding_backward: 'ids dy dtable n inputDim outputDim accumulate',
  // recurrent.ts (the parameter block's layout), simple-rnn.ts, lstm.ts, gru.ts: cell 0 simpleRNN, 1 LSTM, 2 GRU
  rnn_work_floats: 'cell p -> number',
  rnn_step_work_floats: 'cell p -> number',
  simple_rnn_forward: 'x y work p',
  simple_rnn_backward: 'dy dx work p',
  simple_rnn_step: 'x h work p',
  lstm_forward: 'x y work p',
  lstm_backward: 'dy dx work p',
  lstm_step: 'x state work p',
  gru_forward: 'x y work p',
  gru_backward: 'dy dx work p',
  gru_step: 'x h work p',
} as const;

/** [number, number, ...], one per name in a space-separated list. */
type Params<S extends string> = S extends '' ? [] : S extends `${string} ${infer Rest}` ? [number, ...Params<Rest>] : [number];
type Signature<S extends string> = S extends `${infer P}-> number` ? (...args: Params<Trim<P>>) => number : (...args: Params<S>) => void;
type Trim<S extends string> = S extends `${infer T} ` ? Trim<T> : S;

/** The raw exports of the module (as the runtime calls them: no wrapper), derived from KERNELS. */
export type Kernels = { memory: WebAssembly.Memory } & { readonly [K in keyof typeof KERNELS]: Signature<(typeof KERNELS)[K]> };

/** Activation codes: assembly/activations.ts's ACT_* constants (tests/structure/kernels.test.mjs checks they agree). */
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

/** Fields of a normalisation kernel's parameter block: assembly/norm.ts's NORM_* (the structure test checks). */
export const NORM = {
  ROWS: 0,
  COLS: 1,
  GAMMA: 2,
  BETA: 3,
  MEAN: 4,
  INVSTD: 5,
  RUNNING_MEAN: 6,
  RUNNING_VAR: 7,
  DGAMMA: 8,
  DBETA: 9,
  ACCUMULATE: 10,
  EPS: 11,
  MOMENTUM: 12,
  LEN: 13,
} as const;

/** Fields of conv2d_backward_sparse's parameter block: assembly/conv-sparse.ts's SPARSE_* (the structure test checks). */
export const SPARSE = { W: 0, DW: 1, DB: 2, SCRATCH: 3, FILTERS: 4, LEN: 5 } as const;

/** Fields of the attention kernels' parameter block: assembly/attention.ts's ATT_* (the structure test checks);
 *  ROWS is the query rows per block, the scratch being [ROWS, T] floats. */
export const ATT = {
  B: 0, T: 1, H: 2, DK: 3, DV: 4, CAUSAL: 5, MASK: 6, DROP: 7, PROBS: 8, SCRATCH: 9, TMAX: 10, POS: 11, LEN: 12, ROWS: 32,
} as const;

/** Fields of decoder_step's parameter block: assembly/decoder.ts's DEC_* (the structure test checks). */
export const DEC = {
  F: 0, HK: 1, HV: 2, FF: 3, PRE: 4, ACT: 5, ALPHA: 6, LN1: 7, LN2: 8, ATT: 9, WQ: 10, BQ: 11, WK: 12, BK: 13, WV: 14,
  BV: 15, WO: 16, BO: 17, W1: 18, B1: 19, W2: 20, B2: 21, KCACHE: 22, VCACHE: 23, Q: 24, K: 25, V: 26, O: 27, N1: 28,
  Z1: 29, R1: 30, H: 31, N2: 32, Z: 33, F1: 34, Z2: 35, R2: 36, PQ: 37, PK: 38, PV: 39, PO: 40, P1: 41, P2: 42, LEN: 43,
} as const;

/** Fields of gpt_step's program (i32; OP_ALPHA an f32) and its ops' kinds: assembly/gpt.ts's GPT_* (the structure
 *  test checks). The ops follow the LEN header fields, OP_LEN each. */
export const GPT = {
  D: 0, IDS: 1, TOKENS: 2, POSITIONS: 3, X: 4, OPS: 5, LEN: 6,
  OP_KIND: 0, OP_IN: 1, OP_OUT: 2, OP_BLOCK: 3, OP_W: 3, OP_PACKED: 4, OP_BIAS: 5, OP_K: 6, OP_N: 7, OP_ACT: 8,
  OP_ALPHA: 9, OP_Z: 10, OP_LEN: 11, OP_DECODER: 1, OP_LAYERNORM: 2, OP_RMSNORM: 3, OP_DENSE: 4,
} as const;

/** Floats of a (k, n) weight matrix packed by row_pack: ceil(n / 32) strips of (k, 32) (assembly/rowpack.ts). */
export function rowPackedFloats(k: number, n: number): number {
  return Math.ceil(n / 32) * 32 * k;
}

/**
 * Fields of the recurrent kernels' parameter block (i32; ALPHA an f32) and its FLAGS bits: assembly/recurrent.ts's
 * RNN_* (the structure test checks), and the cells' codes for rnn_work_floats.
 */
export const RNN = {
  BATCH: 0,
  STEPS: 1,
  INPUT: 2,
  UNITS: 3,
  ACT: 4,
  REC_ACT: 5,
  ALPHA: 6,
  FLAGS: 7,
  KERNEL: 8,
  RECURRENT: 9,
  BIAS: 10,
  MASK: 11,
  DKERNEL: 12,
  DRECURRENT: 13,
  DBIAS: 14,
  REC_DROPOUT: 15,
  IDS: 16,
  TABLE: 17,
  VOCAB: 18,
  DTABLE: 19,
  LEN: 20,
  GO_BACKWARDS: 1,
  RETURN_SEQUENCES: 2,
  RESET_AFTER: 4,
  ACCUMULATE: 8,
  ZERO_PADDED: 16,
  CELL_SIMPLE: 0,
  CELL_LSTM: 1,
  CELL_GRU: 2,
} as const;
