// A GPT's whole generation step in one call: the new token's embedding and position, then each layer on that one
// row (decoder blocks through decoder_step and their KV caches, layer and RMS norms, dense layers, the vocabulary
// head's logits), instead of a dozen calls and their JS around them per token. Each part calls the kernel the
// runtime's per-layer path calls for that row (embedding_forward, position_table_add, decoder_step,
// layernorm_forward, rmsnorm_forward, the one-row product, bias_act_forward), in the same order on the same buffers,
// so the logits have the bits of the window's forward (tests/runtime/kv-cache.test.ts compares the ids).
//
// The program: GPT_LEN i32 at p, then GPT_OPS ops of GPT_OP_LEN i32 each, written once per generation by the runtime
// (ts/model/generate-gpt.ts):
//   0 D, 1 IDS, 2 TOKENS, 3 POSITIONS, 4 X   the embedding's width, an i32 slot for the id, the token and position
//                                            tables, the embedded row [D]
//   5 OPS                                    how many ops follow
// An op (GPT_OP_*): 0 KIND, 1 IN, 2 OUT, then by kind:
//   GPT_OP_DECODER    3 BLOCK: decoder_step's block (decoder.ts)                      OUT = block(IN)
//   GPT_OP_LAYERNORM  3 BLOCK: the norm's NORM block (rows set to 1 here)             OUT = norm(IN)
//   GPT_OP_RMSNORM    3 BLOCK: as GPT_OP_LAYERNORM
//   GPT_OP_DENSE      3 W (K, N), 4 PACKED (row_pack's copy of W, or 0), 5 BIAS (or 0), 6 K, 7 N, 8 ACT, 9 ALPHA (f32),
//                 10 Z: Z = IN · W, then OUT = act(Z + BIAS) (bias_act_forward; OUT may be Z)
import { gemm_nn } from "./matmul";
import { rowProduct } from "./rowpack";
import { bias_act_forward } from "./activations";
import { layernorm_forward, rmsnorm_forward, NORM_ROWS } from "./norm";
import { position_table_add } from "./attention";
import { embedding_forward } from "./embedding";
import { decoder_step } from "./decoder";

export const GPT_D = 0;
export const GPT_IDS = 1;
export const GPT_TOKENS = 2;
export const GPT_POSITIONS = 3;
export const GPT_X = 4;
export const GPT_OPS = 5;
/** i32 before the first op. */
export const GPT_LEN = 6;

export const GPT_OP_KIND = 0;
export const GPT_OP_IN = 1;
export const GPT_OP_OUT = 2;
export const GPT_OP_BLOCK = 3;
export const GPT_OP_W = 3;
export const GPT_OP_PACKED = 4;
export const GPT_OP_BIAS = 5;
export const GPT_OP_K = 6;
export const GPT_OP_N = 7;
export const GPT_OP_ACT = 8;
export const GPT_OP_ALPHA = 9;
export const GPT_OP_Z = 10;
/** i32 per op. */
export const GPT_OP_LEN = 11;

export const GPT_OP_DECODER = 1;
export const GPT_OP_LAYERNORM = 2;
export const GPT_OP_RMSNORM = 3;
export const GPT_OP_DENSE = 4;

@inline function field(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

@inline function ptr(p: usize, i: i32): usize {
  return <usize>load<u32>(p + (<usize>i << 2));
}

/** Token `id` (checked by the caller) at position pos (0 <= pos < every cache's capacity, the caches holding the
 *  positions before it) through the program at p. */
export function gpt_step(p: usize, id: i32, pos: i32): void {
  const d = field(p, GPT_D), ids = ptr(p, GPT_IDS), x = ptr(p, GPT_X);
  store<i32>(ids, id);
  embedding_forward(ids, ptr(p, GPT_TOKENS), x, 1, d);
  position_table_add(x, ptr(p, GPT_POSITIONS), x, 1, 1, d, pos);
  const ops = field(p, GPT_OPS);
  let op = p + (<usize>GPT_LEN << 2);
  for (let i = 0; i < ops; i++, op += <usize>GPT_OP_LEN << 2) {
    const kind = field(op, GPT_OP_KIND), from = ptr(op, GPT_OP_IN), to = ptr(op, GPT_OP_OUT);
    if (kind == GPT_OP_DECODER) {
      decoder_step(from, to, ptr(op, GPT_OP_BLOCK), pos);
    } else if (kind == GPT_OP_LAYERNORM || kind == GPT_OP_RMSNORM) {
      const block = ptr(op, GPT_OP_BLOCK);
      store<i32>(block + (<usize>NORM_ROWS << 2), 1);
      if (kind == GPT_OP_LAYERNORM) layernorm_forward(from, to, block);
      else rmsnorm_forward(from, to, block);
    } else if (kind == GPT_OP_DENSE) {
      const k = field(op, GPT_OP_K), n = field(op, GPT_OP_N), z = ptr(op, GPT_OP_Z), packed = ptr(op, GPT_OP_PACKED);
      if (packed) rowProduct(from, packed, z, k, n);
      else gemm_nn(from, ptr(op, GPT_OP_W), z, 1, k, n, 0);
      bias_act_forward(z, ptr(op, GPT_OP_BIAS), to, 1, n, field(op, GPT_OP_ACT), load<f32>(op + (<usize>GPT_OP_ALPHA << 2)));
    } else {
      unreachable();
    }
  }
}
