#!/usr/bin/env python3
"""The PyTorch side of `npm run bench:mlp`: the same MLP (784-256-128-10, relu, relu, softmax), Adam 1e-3, batch 64,
on one thread, trained on the same MNIST IDX files. Prints one JSON object on stdout.

  python3 bench/mlp_torch.py TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS [--epochs N] [--warmup-batches N]
                             [--predict-calls N] [--predict-runs N] [--predict-batch N]

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


def make_model(seed):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10),  # softmax is fused into the loss in training and applied in predict
    )
    for layer in model:
        if isinstance(layer, torch.nn.Linear):  # as Keras/TF.js and wasmnn: glorotUniform kernels, zero biases
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    return model


def main():
    a = arg_parser().parse_args()
    figures = measure(a, make_model, (-1,))  # images as (n, 784) rows
    print(json.dumps({"system": "torch", **about(), **figures}))


if __name__ == "__main__":
    main()
