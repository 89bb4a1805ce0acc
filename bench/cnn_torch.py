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
import argparse
import json
import resource
import statistics
import struct
import time

import torch

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

BATCH = 64


def read_idx(path):
    """IDX file -> uint8 tensor of its shape (MNIST is ubyte: type 0x08)."""
    with open(path, "rb") as f:
        raw = f.read()
    zero, kind, ndims = struct.unpack(">HBB", raw[:4])
    if zero != 0 or kind != 0x08:
        raise ValueError(f"{path}: not a ubyte IDX file")
    shape = struct.unpack(">" + "I" * ndims, raw[4 : 4 + 4 * ndims])
    data = torch.frombuffer(bytearray(raw[4 + 4 * ndims :]), dtype=torch.uint8)
    return data.reshape(shape)


def load(images_path, labels_path):
    """Images as (n, 1, 28, 28) floats in [0, 1] (one channel: NCHW and NHWC are the same bytes), labels as int64."""
    images = read_idx(images_path)
    x = images.reshape(images.shape[0], 1, images.shape[1], images.shape[2]).to(torch.float32) / 255.0
    y = read_idx(labels_path).to(torch.int64)
    return x, y


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


def batches(x, memory_format):
    """The input of one step in the model's layout."""
    return x.contiguous(memory_format=memory_format)


def train_epoch(model, opt, x, y, memory_format, max_batches=None):
    """One shuffled pass in batches of 64; returns the number of samples trained."""
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(x.shape[0])
    n = x.shape[0]
    done = 0
    for b, start in enumerate(range(0, n, BATCH)):
        if max_batches is not None and b >= max_batches:
            break
        idx = order[start : start + BATCH]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(batches(x[idx], memory_format)), y[idx])
        loss.backward()
        opt.step()
        done += idx.shape[0]
    return done


def predict(model, x, memory_format, batch=256):
    with torch.inference_mode():
        return torch.cat([model(batches(x[i : i + batch], memory_format)).softmax(1) for i in range(0, x.shape[0], batch)])


def accuracy(model, x, y, memory_format):
    return (predict(model, x, memory_format).argmax(1) == y).float().mean().item()


def blas_library():
    """Which BLAS this torch calls: Debian's torch uses whatever libblas.so.3 points to (reference BLAS by default,
    much slower than OpenBLAS: `apt-get install libopenblas0-serial` switches it)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.lower()}
    for name in ("openblas", "blis", "mkl"):
        if any(name in lib.lower() for lib in libs):
            return name
    return "reference" if libs else "unknown"


def max_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_now_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / (1024 * 1024)


def time_runs(fn, runs):
    """One warm-up call, then `runs` timed calls: (median wall seconds, mean CPU seconds) of a call."""
    fn()
    walls = []
    c0 = time.process_time()
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t)
    return statistics.median(walls), (time.process_time() - c0) / runs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("train_images")
    p.add_argument("train_labels")
    p.add_argument("test_images")
    p.add_argument("test_labels")
    p.add_argument("--layout", choices=["channels_last", "nchw"], default="channels_last")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--warmup-batches", type=int, default=20)
    p.add_argument("--predict-calls", type=int, default=2000)
    p.add_argument("--predict-runs", type=int, default=5)
    p.add_argument("--predict-batch", type=int, default=256)
    a = p.parse_args()
    fmt = torch.channels_last if a.layout == "channels_last" else torch.contiguous_format

    x_train, y_train = load(a.train_images, a.train_labels)
    x_test, y_test = load(a.test_images, a.test_labels)
    rss_loaded = max_rss_mib()

    warm = make_model(2, fmt)
    train_epoch(warm, torch.optim.Adam(warm.parameters(), lr=1e-3), x_train, y_train, fmt, a.warmup_batches)
    del warm

    model = make_model(1, fmt)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0, c0 = time.perf_counter(), time.process_time()
    samples = train_epoch(model, opt, x_train, y_train, fmt)
    train_s = time.perf_counter() - t0
    train_cpu_s = time.process_time() - c0
    rss_epoch = max_rss_mib()
    rss_now = rss_now_mib()
    accuracies = [accuracy(model, x_test, y_test, fmt)]

    # One sample: a (1, 1, 28, 28) image in, probabilities out.
    lat = []
    c0 = time.process_time()
    with torch.inference_mode():
        for i in range(a.predict_calls):
            row = batches(x_test[i % x_test.shape[0]].unsqueeze(0), fmt)
            t = time.perf_counter()
            model(row).softmax(1)
            lat.append(time.perf_counter() - t)
    predict1_cpu_s = time.process_time() - c0
    # The 10,000 test images in one batch and in batches of --predict-batch.
    one_wall, one_cpu = time_runs(lambda: predict(model, x_test, fmt, x_test.shape[0]), a.predict_runs)
    batched_wall, batched_cpu = time_runs(lambda: predict(model, x_test, fmt, a.predict_batch), a.predict_runs)

    # --epochs > 1: the same model goes on training, for the accuracy figures.
    for _ in range(1, a.epochs):
        train_epoch(model, opt, x_train, y_train, fmt)
        accuracies.append(accuracy(model, x_test, y_test, fmt))

    print(json.dumps({
        "system": "torch" if a.layout == "channels_last" else "torch-nchw",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas_library(),
        "layout": a.layout,
        "onednn": torch.backends.mkldnn.is_available(),
        "trainSamples": samples,
        "trainSeconds": train_s,
        "trainSamplesPerSec": samples / train_s,
        "trainSamplesPerCpuSec": samples / train_cpu_s,
        "testAccuracy": accuracies,
        "predict1Micros": statistics.median(lat) * 1e6,
        "predict1CpuMicros": predict1_cpu_s / len(lat) * 1e6,
        "predictSamples": x_test.shape[0],
        "predictOneBatchPerSec": x_test.shape[0] / one_wall,
        "predictOneBatchPerCpuSec": x_test.shape[0] / one_cpu,
        "predictBatchedPerSec": x_test.shape[0] / batched_wall,
        "predictBatchedPerCpuSec": x_test.shape[0] / batched_cpu,
        "rssLoadedMiB": rss_loaded,
        "rssEpochMiB": rss_epoch,
        "rssNowMiB": rss_now,
        "rssPeakMiB": max_rss_mib(),
    }))


if __name__ == "__main__":
    main()
