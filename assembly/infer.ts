// The inference build's export list (dist/wasmnn-infer.wasm, for `wasmnn/infer`): the forward kernels only, from the
// same source files as the full module (assembly/index.ts), so a prediction has the same bits in both builds.
// What is here is what loading a checkpoint and predicting calls: the layers' forward passes at inference
// (dropout and augmentation are copies), the network's setup (rng_seed, vec_fill) and predict's input check.

/** First byte the runtime may use: everything below is the module's static data. */
export function heap_base(): usize {
  return __heap_base;
}

export { gemm_nn } from "./matmul";
export { act_forward, bias_act_forward, softmax_forward, log_softmax_forward } from "./activations";
export { rng_seed, rng_uniform } from "./random";
export { vec_fill, vec_copy, vec_scale, vec_affine, vec_add, vec_mul, vec_has_non_finite } from "./vector";
export { im2col, conv2d_forward, conv2d_forward_maxpool } from "./conv";
export { avgpool_forward, global_avgpool_forward, global_maxpool_forward } from "./pool";
export { batchnorm_forward_infer, layernorm_forward, rmsnorm_forward } from "./norm";
export { attention_forward, position_encoding_add, position_table_add, residual_add } from "./attention";
export { embedding_ids, embedding_mask, embedding_forward } from "./embedding";
// the one-step kernels (and rng_uniform above) serve wasmnn/infer/generate, a separate entry point: a GPT's KV cache
// (filled by the prompt, then one position per token: a decoder block's in one call, a whole token's in one call with
// the weights packed for the one-row products) and its token ids' check
export { attention_cache_fill, attention_step } from "./attention";
export { decoder_step } from "./decoder";
export { row_pack } from "./rowpack";
export { gpt_step } from "./gpt";
export { embedding_check } from "./embedding";
export { rnn_work_floats, rnn_step_work_floats } from "./recurrent";
export { simple_rnn_forward, simple_rnn_step } from "./simple-rnn";
export { lstm_forward, lstm_step } from "./lstm";
export { gru_forward, gru_step } from "./gru";

import { maxpool_forward as maxpool } from "./pool";

/** Max pooling at inference: no backward pass follows, so no argmax (its path is left out of this module). */
export function maxpool_forward(x: usize, y: usize, _argmax: usize, geo: usize): void {
  maxpool(x, y, 0, geo);
}
