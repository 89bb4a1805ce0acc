#!/usr/bin/env python3
"""Writes tests/runtime/fixtures/attention-torch.ts: PyTorch's outputs and gradients of multi-head self-attention and
of KerasNLP-style transformer blocks, with the weights stored as Keras (and wasmnn) store them, and the sine position
encoding in f64. tests/runtime/attention-torch.test.ts checks wasmnn against them; the tests never need Python.

  /usr/bin/python3 scripts/make-attention-fixtures.py        (Debian's python3-torch; seeded: same bytes every run)

Every case is a batch of B=2 sequences of T=5 steps of F=8 features. The objective is J = sum(y * r) over the output
y with a fixed random r, so backward starts from dJ/dy = r (stored with the case as `dy`); the case records the
output, every weight's gradient and the input's gradient. All arithmetic is in f64 on values that are exact f32s,
and the results are rounded to f32 once, so the fixture is the exact answer to f32 precision.

Keras's MultiHeadAttention on x [B, T, F] (query = key = value = x), the formula both paths below compute:
  q = einsum(x, Wq [F, H, dk]) + bq [H, dk],  k likewise,  v = einsum(x, Wv [F, H, dv]) + bv [H, dv]
  s = (q / sqrt(dk)) . k over dk -> [B, H, T, T]; masked keys get -inf; a = softmax over the keys
  o = a . v -> [B, T, H, dv];  y = einsum(o, Wo [H, dv, F]) + bo [F]
When dk == dv == F / H this is torch.nn.MultiheadAttention with in_proj_weight rows [Wq; Wk; Wv] each
W.reshape(F, H*dk).T (head h owns rows h*dk .. h*dk+dk-1) and out_proj.weight = Wo.reshape(H*dv, F).T; the script
runs both and asserts they agree, so the mapping is checked, then uses the plain math where the module cannot
(3 heads of 8 features, dk != dv).

Padding. The padded case feeds token ids through an embedding with maskZero (id 0 pads; sample 2's last two steps are
0) and masks the padded keys. Keras also masks padded *queries* (their rows see no key at all), torch does not, so a
padded position's output is not defined the same way by both: the case marks those positions (`outputMask`), r is
zero there, and then every gradient is the same under either convention (a padded position's output reaches J only
through r, and as a key it is masked).

The blocks follow KerasNLP's TransformerEncoder / TransformerDecoder (keras_hub/src/layers/modeling/) with dropout 0
and no cross-attention, key_dim = value_dim = F / numHeads, layer_norm_epsilon 1e-5, "gelu" being the exact erf GELU
(keras.activations.gelu's default, approximate=False):
  normalize_first=True  (pre-LN, GPT-2):  x = x + attn(ln1(x));  y = x + dense2(act(dense1(ln2(x))))
  normalize_first=False (post-LN, BERT):  x = ln1(x + attn(x));  y = ln2(x + dense2(act(dense1(x))))
with ln1 = self_attention_layer_norm, ln2 = feedforward_layer_norm. The decoder's self-attention is causal. Their
weights in Keras's order (the order the sub-layers are built and tracked):
  encoder: self_attention_layer (query, key, value, attention_output: kernel, bias each), self_attention_layer_norm
           (gamma, beta), feedforward_layer_norm (gamma, beta), feedforward_intermediate_dense (kernel, bias),
           feedforward_output_dense (kernel, bias)
  decoder: self_attention_layer, self_attention_layer_norm, feedforward_intermediate_dense,
           feedforward_output_dense, feedforward_layer_norm
The key bias's gradient is exactly 0 (adding q.bk to every score of a softmax row changes nothing); f64 leaves
~1e-16 of rounding there, which the script asserts and stores as the exact 0.
A relu block's pre-activations are asserted to stay at least 1e-3 from 0, so f32 rounding cannot flip a unit.

Sine position encoding, T=16, d=10, computed with Python's f64 math: PE[pos, 2i] = sin(pos / 10000^(2i/d)),
PE[pos, 2i+1] = cos(pos / 10000^(2i/d)), sines and cosines interleaved. That is KerasNLP's SinePositionEncoding
(timescale min_freq^(2*(j//2)/d), even j sine, odd j cosine, max_wavelength 10000). KerasNLP's layer returns the
encoding alone for the caller to add; the fixture stores the encoding itself.
"""
import base64
import json
import math
import os
import struct

import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "runtime", "fixtures", "attention-torch.ts")
B, T, F = 2, 5, 8
EPS = 1e-5
PE_STEPS, PE_DIM = 16, 10


class Seeded:
    """Uniform f32-exact values from one seeded generator, in the order the script asks for them."""

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def uniform(self, shape, lo, hi):
        u = torch.rand(*shape, generator=self.g, dtype=torch.float32)
        return (lo + (hi - lo) * u).to(torch.float32).to(torch.float64)


def leaf(t):
    return t.clone().requires_grad_(True)


# ---------------------------------------------------------------------------------------------------------------------
# Multi-head attention, two ways

def mha_weights(rand, heads, dk, dv, prefix=""):
    """Keras's MultiHeadAttention weights in its getWeights order: (name, tensor) pairs, leaves that take gradients.
    Kernels uniform in +-sqrt(3 / fan_in) (unit-variance outputs), biases in +-0.2."""
    s = math.sqrt(3 / F)
    so = math.sqrt(3 / (heads * dv))
    return [
        (prefix + "query/kernel", leaf(rand.uniform((F, heads, dk), -s, s))),
        (prefix + "query/bias", leaf(rand.uniform((heads, dk), -0.2, 0.2))),
        (prefix + "key/kernel", leaf(rand.uniform((F, heads, dk), -s, s))),
        (prefix + "key/bias", leaf(rand.uniform((heads, dk), -0.2, 0.2))),
        (prefix + "value/kernel", leaf(rand.uniform((F, heads, dv), -s, s))),
        (prefix + "value/bias", leaf(rand.uniform((heads, dv), -0.2, 0.2))),
        (prefix + "attention_output/kernel", leaf(rand.uniform((heads, dv, F), -so, so))),
        (prefix + "attention_output/bias", leaf(rand.uniform((F,), -0.2, 0.2))),
    ]


def key_mask(causal, pad):
    """[B, T (queries), T (keys)] bool, True where a key may be seen: the causal rule and the padded keys."""
    allowed = torch.ones(B, T, T, dtype=torch.bool)
    if causal:
        allowed &= torch.tril(torch.ones(T, T, dtype=torch.bool))
    if pad is not None:
        allowed &= ~pad[:, None, :]
    return allowed


def mha_plain(x, w, causal=False, pad=None):
    """Keras's formula with torch ops (see the module's doc). w: the 8 tensors of mha_weights, in order."""
    wq, bq, wk, bk, wv, bv, wo, bo = w
    dk = wq.shape[2]
    q = torch.einsum("btf,fhd->bhtd", x, wq) + bq[None, :, None, :]
    k = torch.einsum("btf,fhd->bhtd", x, wk) + bk[None, :, None, :]
    v = torch.einsum("btf,fhd->bhtd", x, wv) + bv[None, :, None, :]
    s = torch.einsum("bhqd,bhkd->bhqk", q / math.sqrt(dk), k)
    s = s.masked_fill(~key_mask(causal, pad)[:, None], float("-inf"))
    o = torch.einsum("bhqk,bhkd->bqhd", torch.softmax(s, dim=-1), v)
    return torch.einsum("bqhd,hdf->bqf", o, wo) + bo


def mha_torch(x, w, causal=False, pad=None):
    """torch.nn.MultiheadAttention with its weights mapped from Keras's layout (dk == dv == F / H), and its gradients
    mapped back onto the Keras-layout leaves (the inverse of the same mapping), so both ways give the same list."""
    wq, bq, wk, bk, wv, bv, wo, bo = w
    heads, dk = bq.shape
    assert dk * heads == F and wv.shape[2] == dk
    m = torch.nn.MultiheadAttention(F, heads, batch_first=True)
    with torch.no_grad():
        m.in_proj_weight.copy_(torch.cat([t.reshape(F, heads * dk).T for t in (wq, wk, wv)]))
        m.in_proj_bias.copy_(torch.cat([t.reshape(heads * dk) for t in (bq, bk, bv)]))
        m.out_proj.weight.copy_(wo.reshape(heads * dk, F).T)
        m.out_proj.bias.copy_(bo)
    xm = x.detach().clone().requires_grad_(True)
    attn_mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1) if causal else None  # True: may not attend
    y, _ = m(xm, xm, xm, key_padding_mask=pad, attn_mask=attn_mask, need_weights=False)

    def backward(dy):
        y.backward(dy)
        g = m.in_proj_weight.grad
        gb = m.in_proj_bias.grad
        n = heads * dk
        grads = []
        for i in range(3):
            grads.append(g[i * n : (i + 1) * n].T.reshape(F, heads, dk))
            grads.append(gb[i * n : (i + 1) * n].reshape(heads, dk))
        grads.append(m.out_proj.weight.grad.T.reshape(heads, dk, F))
        grads.append(m.out_proj.bias.grad.clone())
        return grads, xm.grad

    return y, backward


# ---------------------------------------------------------------------------------------------------------------------
# The blocks

def dense_weights(rand, prefix, n_in, n_out):
    s = math.sqrt(3 / n_in)
    return [(prefix + "/kernel", leaf(rand.uniform((n_in, n_out), -s, s))), (prefix + "/bias", leaf(rand.uniform((n_out,), -0.2, 0.2)))]


def norm_weights(rand, prefix):
    return [(prefix + "/gamma", leaf(rand.uniform((F,), 0.8, 1.2))), (prefix + "/beta", leaf(rand.uniform((F,), -0.2, 0.2)))]


def block_weights(rand, kind, heads, intermediate):
    """KerasNLP's sub-layers in its getWeights order (see the module's doc)."""
    attn = mha_weights(rand, heads, F // heads, F // heads, "self_attention_layer/")
    ln1 = norm_weights(rand, "self_attention_layer_norm")
    ln2 = norm_weights(rand, "feedforward_layer_norm")
    d1 = dense_weights(rand, "feedforward_intermediate_dense", F, intermediate)
    d2 = dense_weights(rand, "feedforward_output_dense", intermediate, F)
    return attn + ln1 + ln2 + d1 + d2 if kind == "transformerEncoder" else attn + ln1 + d1 + d2 + ln2


def block(x, named, kind, normalize_first, activation, attention, preacts):
    """The KerasNLP block on x; attention(h, w8, causal) is one of the two multi-head attentions above. preacts
    collects the feed-forward pre-activations (for the relu margin check)."""
    w = dict(named)
    attn_w = [w["self_attention_layer/" + n] for n in
              ("query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel", "value/bias",
               "attention_output/kernel", "attention_output/bias")]

    def ln(h, prefix):
        return torch.nn.functional.layer_norm(h, (F,), w[prefix + "/gamma"], w[prefix + "/beta"], EPS)

    def ffn(h):
        pre = h @ w["feedforward_intermediate_dense/kernel"] + w["feedforward_intermediate_dense/bias"]
        preacts.append(pre.detach())
        act = torch.nn.functional.gelu(pre) if activation == "gelu" else torch.relu(pre)  # gelu: exact erf form
        return act @ w["feedforward_output_dense/kernel"] + w["feedforward_output_dense/bias"]

    causal = kind == "transformerDecoder"
    if normalize_first:
        x = x + attention(ln(x, "self_attention_layer_norm"), attn_w, causal)
        return x + ffn(ln(x, "feedforward_layer_norm"))
    x = ln(x + attention(x, attn_w, causal), "self_attention_layer_norm")
    return ln(x + ffn(x), "feedforward_layer_norm")


def torch_attention_fn(h, w, causal):
    """nn.MultiheadAttention inside a block: differentiable in the Keras-layout leaves through the mapping itself."""
    heads, dk = w[1].shape
    in_w = torch.cat([t.reshape(F, heads * dk).T for t in (w[0], w[2], w[4])])
    in_b = torch.cat([t.reshape(heads * dk) for t in (w[1], w[3], w[5])])
    attn_mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1) if causal else None
    y, _ = torch.nn.functional.multi_head_attention_forward(
        h.transpose(0, 1), h.transpose(0, 1), h.transpose(0, 1), F, heads, in_w, in_b, None, None, False, 0.0,
        w[6].reshape(heads * dk, F).T, w[7], training=False, need_weights=False, attn_mask=attn_mask)
    return y.transpose(0, 1)


def plain_attention_fn(h, w, causal):
    return mha_plain(h, w, causal)


# ---------------------------------------------------------------------------------------------------------------------
# The cases

def close(a, b, what, tol=1e-10):
    err = (a - b).abs().max().item()
    assert err <= tol * max(1.0, b.abs().max().item()), f"{what}: torch and the plain formula differ by {err}"


def grads_of(named, x, y, dy):
    for _, t in named:
        t.grad = None
    if x.grad is not None:
        x.grad = None
    y.backward(dy)
    return [t.grad.clone() for _, t in named], x.grad.clone() if x.grad is not None else None


def mha_case(seed, heads, dk, dv, causal=False, padded=False):
    rand = Seeded(seed)
    config = {"numHeads": heads, "keyDim": dk, "valueDim": dv, "useCausalMask": causal}
    case = {"layer": "multiHeadAttention", "config": config}
    if padded:
        vocab = 7
        ids = torch.tensor([[3, 1, 4, 1, 5], [2, 6, 5, 0, 0]])
        emb = leaf(rand.uniform((vocab, F), -1, 1))
        named = [("embedding/embeddings", emb)] + mha_weights(rand, heads, dk, dv)
        pad = ids == 0
        x = emb[ids]
        case["embedding"] = {"inputDim": vocab, "outputDim": F, "maskZero": True}
        case["ids"] = ids.flatten().tolist()
    else:
        named = mha_weights(rand, heads, dk, dv)
        pad = None
        x = leaf(rand.uniform((B, T, F), -1.5, 1.5))
    dy = rand.uniform((B, T, F), -1, 1)
    if pad is not None:
        dy = dy.masked_fill(pad[:, :, None], 0.0)
    w = [t for _, t in named if not _.startswith("embedding/")]
    y = mha_plain(x, w, causal, pad)
    grads, dx = grads_of(named, x if not padded else emb, y, dy)
    if dk == dv and dk * heads == F:  # the module too, and both must agree
        yt, backward = mha_torch(x.detach(), [t.detach() for t in w], causal, pad)
        keep = ~pad[:, :, None] if pad is not None else torch.ones(B, T, 1, dtype=torch.bool)
        close(torch.where(keep, yt, 0.0), torch.where(keep, y, 0.0).detach(), "output")
        tgrads, tdx = backward(dy)
        for (name, _), g, tg in zip(named[-8:], grads[-8:], tgrads):
            close(tg, g, name)
        if not padded:
            close(tdx, dx, "input gradient")
        case["reference"] = "torch.nn.MultiheadAttention"
    else:
        case["reference"] = "Keras's formula in torch ops"
    case["x"] = None if padded else x.detach()
    case["dy"] = dy
    case["y"] = y.detach()
    case["weights"] = [(name, t.detach(), g) for (name, t), g in zip(named, grads)]
    case["dx"] = None if padded else dx
    case["outputMask"] = (~pad).to(torch.int64).flatten().tolist() if pad is not None else None
    return case


def block_case(seed, kind, normalize_first, activation, heads=2, intermediate=16):
    rand = Seeded(seed)
    named = block_weights(rand, kind, heads, intermediate)
    x = leaf(rand.uniform((B, T, F), -1.5, 1.5))
    dy = rand.uniform((B, T, F), -1, 1)
    preacts = []
    y = block(x, named, kind, normalize_first, activation, plain_attention_fn, preacts)
    grads, dx = grads_of(named, x, y, dy)
    # the same block with nn.functional's multi-head attention in it
    xt = leaf(x.detach())
    named_t = [(n, leaf(t.detach())) for n, t in named]
    yt = block(xt, named_t, kind, normalize_first, activation, torch_attention_fn, [])
    tgrads, tdx = grads_of(named_t, xt, yt, dy)
    close(yt.detach(), y.detach(), f"{kind} output")
    for (name, _), g, tg in zip(named, grads, tgrads):
        close(tg, g, f"{kind} {name}")
    close(tdx, dx, f"{kind} input gradient")
    if activation == "relu":
        margin = min(p.abs().min().item() for p in preacts)
        assert margin >= 1e-3, f"seed {seed}: a relu pre-activation is {margin} from 0; pick another seed"
    config = {"intermediateDim": intermediate, "numHeads": heads, "activation": activation,
              "layerNormEpsilon": EPS, "normalizeFirst": normalize_first}
    return {"layer": kind, "config": config, "reference": "torch ops + nn.functional.multi_head_attention_forward",
            "x": x.detach(), "dy": dy, "y": y.detach(), "weights": [(n, t.detach(), g) for (n, t), g in zip(named, grads)],
            "dx": dx, "outputMask": None}


def sine_encoding(steps, d):
    return [math.sin(p / 10000 ** (2 * (j // 2) / d)) if j % 2 == 0 else math.cos(p / 10000 ** (2 * (j // 2) / d))
            for p in range(steps) for j in range(d)]


# ---------------------------------------------------------------------------------------------------------------------
# Output

def key_bias_exact(weights):
    """(name, value, grad) with the key bias's gradient set to its exact value, 0, after checking it is ~1e-16."""
    out = []
    for name, t, g in weights:
        if name.endswith("key/bias"):
            assert g.abs().max().item() < 1e-12, f"{name}: the key bias's gradient should vanish"
            g = torch.zeros_like(g)
        out.append((name, t, g))
    return out


def b64(t):
    """f32 little-endian bytes of t (row-major), base64."""
    flat = t.detach().to(torch.float32).flatten().tolist()
    return base64.b64encode(struct.pack(f"<{len(flat)}f", *flat)).decode("ascii")


def encode(case):
    out = {"layer": case["layer"], "config": case["config"], "reference": case["reference"]}
    if "embedding" in case:
        out["embedding"] = case["embedding"]
        out["ids"] = case["ids"]
    out["x"] = None if case["x"] is None else b64(case["x"])
    out["dy"] = b64(case["dy"])
    out["y"] = b64(case["y"])
    out["outputMask"] = case["outputMask"]
    weights = key_bias_exact(case["weights"])
    out["weights"] = [{"name": n, "shape": list(t.shape), "value": b64(t), "grad": b64(g)} for n, t, g in weights]
    out["dx"] = None if case["dx"] is None else b64(case["dx"])
    return out


HEADER = """\
// Generated by scripts/make-attention-fixtures.py with PyTorch {version} (f64, rounded to f32): do not edit.
// Multi-head self-attention and KerasNLP-style transformer blocks on x [B, T, F] = [{B}, {T}, {F}] with weights in
// Keras's layout and getWeights order, the objective J = sum(y * dy) (backward starts from dy), and the sine position
// encoding in f64. Tensors are f32 little-endian in base64, row-major. The script's doc says how every case is built.
/* eslint-disable */
export interface TorchWeight {{
  /** Keras's name (sub-layer/weight) */
  name: string;
  shape: number[];
  value: string;
  /** dJ/dweight */
  grad: string;
}}

export interface TorchCase {{
  layer: 'multiHeadAttention' | 'transformerEncoder' | 'transformerDecoder';
  /** the wasmnn layer's config */
  config: Record<string, number | boolean | string>;
  /** what computed it */
  reference: string;
  /** the padded case: x = embedding(ids) with maskZero (id 0 pads); no x, no dx */
  embedding?: {{ inputDim: number; outputDim: number; maskZero: boolean }};
  ids?: number[];
  /** the input [B, T, F], or null when the case starts from ids */
  x: string | null;
  /** dJ/dy [B, T, F] */
  dy: string;
  /** the output [B, T, F] */
  y: string;
  /** [B, T]: 1 where y is defined the same by Keras and torch (0: a padded query, not compared; dy is 0 there) */
  outputMask: number[] | null;
  weights: TorchWeight[];
  /** dJ/dx [B, T, F], or null */
  dx: string | null;
}}

export const B = {B};
export const T = {T};
export const F = {F};
"""


def main():
    cases = {
        "mha_2heads": mha_case(1, 2, 4, 4),
        "mha_2heads_causal": mha_case(2, 2, 4, 4, causal=True),
        "mha_2heads_padding": mha_case(3, 2, 4, 4, padded=True),
        "mha_3heads": mha_case(4, 3, 3, 3),
        "mha_keydim3_valuedim5": mha_case(5, 2, 3, 5),
        "encoder_pre_ln_gelu": block_case(6, "transformerEncoder", True, "gelu"),
        "encoder_post_ln_relu": block_case(7, "transformerEncoder", False, "relu"),
        "decoder_pre_ln_gelu": block_case(8, "transformerDecoder", True, "gelu"),
        "decoder_post_ln_relu": block_case(9, "transformerDecoder", False, "relu"),
    }
    text = HEADER.format(version=torch.__version__, B=B, T=T, F=F)
    rows = [f"  {json.dumps(k)}: {json.dumps(encode(v), separators=(',', ':'))}," for k, v in cases.items()]
    text += "export const CASES: Record<string, TorchCase> = {\n" + "\n".join(rows) + "\n};\n\n"
    text += "// PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d)) (KerasNLP's interleaving), f64\n"
    text += f"export const SINE = {{ steps: {PE_STEPS}, dim: {PE_DIM}, encoding: {json.dumps(sine_encoding(PE_STEPS, PE_DIM))} }};\n"
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"{os.path.relpath(OUT)}: {len(cases)} cases, {len(text.encode())} bytes")


if __name__ == "__main__":
    main()
