// The module's whole export list: each kernel the runtime calls, by the file it lives in. Every kernel is a plain
// function over f32 pointers into linear memory; the TypeScript runtime (ts/) owns the memory and plans every buffer.
// ts/kernels.ts's KERNELS table is the same list with each kernel's parameters; tests/structure/kernels.test.mjs
// fails when the two differ. Kernels exported by their file but not listed here (math_exp, vec_clip, ...) are the
// specs' entry points (tests/assembly), not the runtime's.

/** First byte the runtime may use: everything below is the module's static data. */
export function heap_base(): usize {
  return __heap_base;
}

export { gemm_nn, gemm_tn, gemm_nt } from "./matmul";
export {
  act_forward, act_backward, bias_act_forward, bias_gelu_slope_forward, bias_grad, relu_bias_grad, slope_bias_grad,
  softmax_forward, softmax_backward, log_softmax_forward, log_softmax_backward,
} from "./activations";
export { math_log, math_cos, math_pow } from "./vmath";
export {
  rng_seed, rng_next_u32, rng_uniform, rng_normal, rng_truncated_normal, rng_dropout_mask, rng_permutation,
} from "./random";
export {
  loss_mse, loss_mae, loss_huber, loss_bce, loss_sigmoid_bce, loss_cce, loss_softmax_cce, loss_sparse_cce,
  loss_softmax_sparse_cce, metric_correct_sparse, metric_correct_onehot, metric_correct_binary,
} from "./losses";
export {
  sgd_step, momentum_step, rmsprop_step, adagrad_step, adam_step, clip_by_value, l2_penalty, l1_penalty,
} from "./optim";
export {
  vec_fill, vec_copy, vec_scale, vec_affine, vec_add, vec_add_inplace, vec_mul, vec_sum_squares, vec_has_non_finite,
} from "./vector";
export { im2col, col2im, conv2d_forward, conv2d_forward_maxpool, conv2d_direct_backward_filter } from "./conv";
export { conv2d_backward_sparse } from "./conv-sparse";
export {
  maxpool_forward, maxpool_backward, avgpool_forward, avgpool_backward, global_avgpool_forward,
  global_avgpool_backward, global_maxpool_forward, global_maxpool_backward,
} from "./pool";
export {
  batchnorm_forward_train, batchnorm_forward_infer, batchnorm_backward, layernorm_forward, layernorm_backward,
  rmsnorm_forward, rmsnorm_backward,
} from "./norm";
export {
  attention_forward, attention_backward, attention_cache_fill, attention_step,
  position_encoding_add, position_table_add, residual_add,
} from "./attention";
export { decoder_step } from "./decoder";
export { row_pack } from "./rowpack";
export { gpt_step } from "./gpt";
export { embedding_ids, embedding_check, embedding_mask, embedding_forward, embedding_backward } from "./embedding";
export { rnn_work_floats, rnn_step_work_floats } from "./recurrent";
export { simple_rnn_forward, simple_rnn_backward, simple_rnn_step } from "./simple-rnn";
export { lstm_forward, lstm_backward, lstm_step } from "./lstm";
export { gru_forward, gru_backward, gru_step } from "./gru";
