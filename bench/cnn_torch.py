#!/usr/bin/env python3
"""The PyTorch side of `npm run bench:cnn`: the reference CNN conv(8, 3x3, relu) -> max pool 2 -> conv(16, 3x3,
relu) -> max pool 2 -> flatten -> dense 10 softmax, Adam 1e-3, batch 64, on one thread, trained on the same MNIST IDX
files. Prints one JSON object on stdout.

  python3 bench/cnn_torch.py TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS [--layout channels_last|nchw]
                             [--epochs N] [--warmup-batches N] [--predict-calls N] [--predict-runs N]
                             [--predict-batch N]

--layout channels_last (the default) keeps activations NHWC, as wasmnn and TF.js do; there this torch (1.13, built
with oneDNN) runs its convolutions through oneDNN and trains about 3x faster than in its default NCHW layout, where
convolutions fall back to im2col + BLAS and max pooling is slow (`nchw`).

Figures: samples/s over one full training epoch (after a warm-up on a throw-away model), test accuracy after each
epoch, the median latency of a one-sample predict, samples/s of predicting the 10,000 test images in one batch and
in batches of --predict-batch, and RSS: peak after loading and after the first epoch (ru_maxrss), current after it.
Speeds are measured by the wall clock and by CPU time (time.process_time).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_common import about, arg_parser, measure, one_thread  # noqa: E402

one_thread()


def make_model(seed, memory_format):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(16 * 5 * 5, 10),  # softmax is fused into the loss in training and applied in predict
    )
    for layer in model:
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):  # as Keras/TF.js and wasmnn: glorotUniform, zero biases
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    return model.to(memory_format=memory_format)


def main():
    p = arg_parser()
    p.add_argument("--layout", choices=["channels_last", "nchw"], default="channels_last")
    a = p.parse_args()
    fmt = torch.channels_last if a.layout == "channels_last" else torch.contiguous_format
    # Images as (n, 1, 28, 28): with one channel NCHW and NHWC are the same bytes; each batch goes in the model's layout.
    figures = measure(a, lambda seed: make_model(seed, fmt), (1, 28, 28), lambda x: x.contiguous(memory_format=fmt))
    print(json.dumps({
        "system": "torch" if a.layout == "channels_last" else "torch-nchw",
        **about(),
        "layout": a.layout,
        "onednn": torch.backends.mkldnn.is_available(),
        **figures,
    }))


if __name__ == "__main__":
    main()
