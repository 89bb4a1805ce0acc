"""What the PyTorch benchmarks share. bench/mlp_torch.py and bench/cnn_torch.py: MNIST IDX loading, the BLAS probe,
RSS readings, and the whole measurement (warm-up, one timed epoch, accuracy, one-sample and batch predict); each
brings only its model, its input layout and the fields that describe it. bench/rnn_torch.py and bench/gpt_torch.py:
the character data as wasmnn's nn.data prepares it (vocabulary, windows, seeded batches). All: one-thread torch."""
import argparse
import resource
import statistics
import struct
import time

import torch

BATCH = 64
PAD, UNKNOWN, FIRST = 0, 1, 2  # the reserved ids of nn.data.charVocabulary


def one_thread():
    """Pin torch to one intra-op and one inter-op thread, as every system in the benchmark runs."""
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)


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


def load(images_path, labels_path, shape):
    """Images as floats in [0, 1] reshaped to (n, *shape), labels as int64."""
    images = read_idx(images_path)
    x = images.reshape(images.shape[0], *shape).to(torch.float32) / 255.0
    y = read_idx(labels_path).to(torch.int64)
    return x, y


def as_is(x):
    """The input of one step when the model takes it in the layout it is stored in."""
    return x


def train_epoch(model, opt, x, y, prepare=as_is, max_batches=None):
    """One shuffled pass in batches of 64 (each through `prepare`); returns the number of samples trained."""
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(x.shape[0])
    n = x.shape[0]
    done = 0
    for b, start in enumerate(range(0, n, BATCH)):
        if max_batches is not None and b >= max_batches:
            break
        idx = order[start : start + BATCH]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(prepare(x[idx])), y[idx])
        loss.backward()
        opt.step()
        done += idx.shape[0]
    return done


def predict(model, x, prepare=as_is, batch=256):
    """Softmax probabilities of every row of x, `batch` rows at a time."""
    with torch.inference_mode():
        return torch.cat([model(prepare(x[i : i + batch])).softmax(1) for i in range(0, x.shape[0], batch)])


def accuracy(model, x, y, prepare=as_is):
    """The fraction of x whose most probable class is y."""
    return (predict(model, x, prepare).argmax(1) == y).float().mean().item()


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
    """Peak RSS of this process so far, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_now_mib():
    """Current RSS of this process, MiB."""
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


def arg_parser():
    """The command line both scripts take: the four IDX files and the sizes of each measurement."""
    p = argparse.ArgumentParser()
    p.add_argument("train_images")
    p.add_argument("train_labels")
    p.add_argument("test_images")
    p.add_argument("test_labels")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--warmup-batches", type=int, default=20)
    p.add_argument("--predict-calls", type=int, default=2000)
    p.add_argument("--predict-runs", type=int, default=5)
    p.add_argument("--predict-batch", type=int, default=256)
    return p


def about():
    """The fields that say which torch ran: version, threads, BLAS."""
    return {"version": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library()}


def measure(a, make_model, shape, prepare=as_is):
    """The benchmark of one model (make_model(seed) builds it; inputs are (n, *shape), each batch through `prepare`):
    load MNIST, warm up on a throw-away model, time one epoch, read the RSS, evaluate, time a one-sample predict and
    predicts of the test set in one batch and in batches of --predict-batch, then train --epochs - 1 more epochs.
    Returns the figures, in the order the JSON line prints them."""
    x_train, y_train = load(a.train_images, a.train_labels, shape)
    x_test, y_test = load(a.test_images, a.test_labels, shape)
    rss_loaded = max_rss_mib()

    warm = make_model(2)
    train_epoch(warm, torch.optim.Adam(warm.parameters(), lr=1e-3), x_train, y_train, prepare, a.warmup_batches)
    del warm

    model = make_model(1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0, c0 = time.perf_counter(), time.process_time()
    samples = train_epoch(model, opt, x_train, y_train, prepare)
    train_s = time.perf_counter() - t0
    train_cpu_s = time.process_time() - c0
    rss_epoch = max_rss_mib()
    rss_now = rss_now_mib()
    accuracies = [accuracy(model, x_test, y_test, prepare)]

    # One sample: a (1, *shape) input in, probabilities out.
    lat = []
    c0 = time.process_time()
    with torch.inference_mode():
        for i in range(a.predict_calls):
            row = prepare(x_test[i % x_test.shape[0]].unsqueeze(0))
            t = time.perf_counter()
            model(row).softmax(1)
            lat.append(time.perf_counter() - t)
    predict1_cpu_s = time.process_time() - c0
    # The 10,000 test images in one batch and in batches of --predict-batch.
    one_wall, one_cpu = time_runs(lambda: predict(model, x_test, prepare, x_test.shape[0]), a.predict_runs)
    batched_wall, batched_cpu = time_runs(lambda: predict(model, x_test, prepare, a.predict_batch), a.predict_runs)

    # --epochs > 1: the same model goes on training, for the accuracy figures.
    for _ in range(1, a.epochs):
        train_epoch(model, opt, x_train, y_train, prepare)
        accuracies.append(accuracy(model, x_test, y_test, prepare))

    n_test = x_test.shape[0]
    return {
        "trainSamples": samples,
        "trainSeconds": train_s,
        "trainSamplesPerSec": samples / train_s,
        "trainSamplesPerCpuSec": samples / train_cpu_s,
        "testAccuracy": accuracies,
        "predict1Micros": statistics.median(lat) * 1e6,
        "predict1CpuMicros": predict1_cpu_s / len(lat) * 1e6,
        "predictSamples": n_test,
        "predictOneBatchPerSec": n_test / one_wall,
        "predictOneBatchPerCpuSec": n_test / one_cpu,
        "predictBatchedPerSec": n_test / batched_wall,
        "predictBatchedPerCpuSec": n_test / batched_cpu,
        "rssLoadedMiB": rss_loaded,
        "rssEpochMiB": rss_epoch,
        "rssNowMiB": rss_now,
        "rssPeakMiB": max_rss_mib(),
    }


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


def batches(n, batch, seed):
    """Endless batches of window indices: a seeded shuffle, reshuffled after each pass, the last partial batch left."""
    g = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(n, generator=g)
        for start in range(0, n - batch + 1, batch):
            yield order[start : start + batch]
