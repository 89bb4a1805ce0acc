// `npm run bench:cnn`: the reference CNN of issue 4, conv(8, 3x3, relu) -> max pool 2 -> conv(16, 3x3, relu) ->
// max pool 2 -> flatten -> dense 10 softmax (Adam 1e-3, batch 64, sparse categorical cross-entropy, MNIST 28x28x1),
// in wasmnn, TF.js (wasm backend, one thread; cpu backend) and native PyTorch (one thread), in one run. Each system
// runs in its own child process, one after the other, so that each one's peak RSS is its own: load MNIST, warm up on
// a throw-away model, train one timed epoch (a few hundred samples for the slow TF.js cpu backend; TF.js wasm cannot
// train conv layers at all), read the RSS, evaluate, then time predict of one sample and of the 10,000 test images.
//
//   node bench/cnn.mjs [--full] [--epochs N] [--rounds N] [--only a,b] [--tfjs-cpu-samples N] [--tfjs-cpu-predict N]
//                      [--accuracy] [--accuracy-epochs N] [--markdown]
//
// --full       trains the reference CNN for --epochs (default 5) in every system that trained a full epoch and
//              prints test accuracy after each.
// --rounds N   runs every system N times, alternating, and reports the median of each figure (the machine is shared).
// --only       some of: data (a child that only loads MNIST as floats: the RSS floor), wasmnn, wasmnn-u8 (the pixels
//              kept as bytes in a uint8 tensor, scaled by a rescaling layer in the model), tfjs-wasm, tfjs-cpu, torch
//              (channels-last, PyTorch's fastest layout here), torch-nchw (PyTorch's default layout), accuracy.
// --accuracy   also runs `accuracy` (once, after the rounds): the larger CNN of ACCURATE below, trained in wasmnn for
//              --accuracy-epochs (default 10) epochs with test accuracy after each, against the 99.2% target. It takes
//              several minutes; `--only accuracy` runs it alone.
// --markdown   also prints the tables for bench/README.md.
// PyTorch runs under /usr/bin/python3 (BENCH_PYTHON overrides it) when that can import torch, else it is skipped.
//
// Every speed is measured twice: by the wall clock and by the process's CPU time (user + system). On a busy
// machine the wall clock also counts the time other processes hold the cores; the CPU-time figures do not.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { MNIST_FILES, loadMnist } from "./mnist.mjs";

const SYSTEMS = ["data", "wasmnn", "wasmnn-u8", "tfjs-wasm", "tfjs-cpu", "torch", "torch-nchw", "accuracy"];
const PEERS = ["tfjs-wasm", "tfjs-cpu", "torch", "torch-nchw"];
const PYTHON = process.env.BENCH_PYTHON ?? "/usr/bin/python3"; // Debian's, where python3-torch installs
const SHAPE = [28, 28, 1];
const PIXELS = 784;
const BATCH = 64;
const PREDICT_BATCH = 256;
const WARMUP_BATCHES = 20;

/**
 * The CNN of the accuracy target (conv 5x5 LeNet-like, batch norm, dropout), trained on bytes with random shifts of up
 * to 2 pixels and Adam with a cosine decay from 2e-3 to 0 over the run. The CLI's `--model cnn` (ts/cli/models.ts)
 * is the same network.
 */
const ACCURATE = {
  description: "rescaling 1/255, randomAugment shift 2, conv 16 5x5 + batch norm + relu, max pool 2, " +
    "conv 32 5x5 + batch norm + relu, max pool 2, flatten, dense 128 relu, dropout 0.3, dense 10 softmax; " +
    "Adam with cosine decay 2e-3 -> 0 over the run, batch 64",
  learningRate: 2e-3,
  layers: (L) => [
    L.rescaling({ inputShape: SHAPE, scale: 1 / 255 }),
    L.randomAugment({ shift: 2 }),
    L.conv2d({ filters: 16, kernelSize: 5, useBias: false }), L.batchNormalization(), L.activation({ activation: "relu" }),
    L.maxPooling2d({ poolSize: 2 }),
    L.conv2d({ filters: 32, kernelSize: 5, useBias: false }), L.batchNormalization(), L.activation({ activation: "relu" }),
    L.maxPooling2d({ poolSize: 2 }),
    L.flatten(),
    L.dense({ units: 128, activation: "relu" }),
    L.dropout({ rate: 0.3 }),
    L.dense({ units: 10, activation: "softmax" }),
  ],
};
const ACCURACY_TARGET = 99.2;

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(`bench/cnn.mjs: ${err.message}`);
  process.exit(2);
}
if (args.child) {
  const result = args.child === "accuracy" ? await runAccuracy(args.accuracyEpochs) : await runChild(args.child, args);
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
} else {
  main();
}

// ---------------------------------------------------------------------------------------------------------------
// The parent: one child per system, then one line per measurement and the summary against the issue's targets.

function main() {
  const epochs = args.full ? args.epochs : 1;
  const speed = SYSTEMS.filter((s) => s !== "accuracy" && args.only.includes(s));
  console.log(`Node ${process.versions.node}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), one thread per system` +
    (speed.length ? `; CNN conv8-pool-conv16-pool-dense10, Adam 1e-3, batch ${BATCH}, ${epochs} epoch${epochs > 1 ? "s" : ""}` +
    `${args.rounds > 1 ? `, median of ${args.rounds} rounds` : ""}` : ""));
  const runs = {};
  for (let round = 0; round < (speed.length ? args.rounds : 0); round++) {
    for (const system of speed) {
      const t0 = performance.now();
      const r = system.startsWith("torch") ? runTorch(system, epochs) : spawnNode(system, ["--epochs", String(epochs)]);
      (runs[system] ??= []).push(r);
      const took = ((performance.now() - t0) / 1000).toFixed(1);
      if (r.error) console.log(`${system.padEnd(10)} skipped: ${r.error}`);
      else console.log(`${system.padEnd(10)} done in ${took} s${describe(r)}`);
    }
  }
  let accuracy = null;
  if (args.only.includes("accuracy")) {
    console.log(`accuracy   ${ACCURATE.description}; ${args.accuracyEpochs} epochs (progress below)`);
    accuracy = spawnNode("accuracy", ["--accuracy-epochs", String(args.accuracyEpochs)], true);
    if (accuracy.error) console.log(`accuracy   failed: ${accuracy.error}`);
  }
  const results = Object.fromEntries(Object.entries(runs).map(([s, list]) => [s, combine(list)]));
  const rows = measurements(results, epochs);
  if (speed.length) {
    console.log("\nratio = how many times faster wasmnn is than the peer (for RSS: wasmnn's figure / the peer's); u8ratio: the same for wasmnn-u8");
    for (const row of rows.filter((r) => hasCells(r, results))) console.log(formatRow(row, results));
  }
  summary(rows, results, accuracy);
  if (args.markdown) printMarkdown(rows, results, accuracy);
}

/** The median of each number over the rounds that worked; the rest (accuracy, versions, errors) from the first. */
function combine(list) {
  const ok = list.filter((r) => !r.error);
  if (!ok.length) return list[0];
  const out = { ...ok[0] };
  for (const [key, v] of Object.entries(ok[0])) if (typeof v === "number") out[key] = median(ok.map((r) => r[key]));
  return out;
}

function describe(r) {
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

/** `live`: the child's stderr (progress lines) goes straight to ours. */
function spawnNode(system, extra, live = false) {
  const childArgs = [fileURLToPath(import.meta.url), "--child", system, ...extra,
    "--tfjs-cpu-samples", String(args.tfjsCpuSamples), "--tfjs-cpu-predict", String(args.tfjsCpuPredict)];
  const stdio = ["ignore", "pipe", live ? "inherit" : "pipe"];
  return lastJson(spawnSync(process.execPath, childArgs, { encoding: "utf8", maxBuffer: 1 << 24, stdio }), system);
}

function runTorch(system, epochs) {
  const probe = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    const why = probe.error?.message ?? probe.stderr.trim().split("\n").pop();
    return { error: `${PYTHON} cannot import torch${why ? ` (${why})` : ""}; Debian's package is python3-torch` };
  }
  const script = fileURLToPath(new URL("./cnn_torch.py", import.meta.url));
  const f = MNIST_FILES;
  // One thread for every pool torch or its BLAS could start.
  const env = { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const run = spawnSync(PYTHON, [script, f.trainImages, f.trainLabels, f.testImages, f.testLabels,
    "--layout", system === "torch" ? "channels_last" : "nchw", "--epochs", String(epochs),
    "--warmup-batches", String(WARMUP_BATCHES), "--predict-batch", String(PREDICT_BATCH)],
  { encoding: "utf8", env, maxBuffer: 1 << 24 });
  return lastJson(run, system);
}

function lastJson(run, system) {
  if (run.error) return { error: run.error.message };
  const line = run.stdout.trim().split("\n").pop();
  try {
    if (run.status !== 0) throw new Error();
    return JSON.parse(line);
  } catch {
    return { error: `${system} exited with ${run.status}: ${(run.stderr || run.stdout || "").trim().split("\n").slice(-5).join(" | ")}` };
  }
}

/** Each row: a name, each system's figure and whether higher is better. */
function measurements(results, epochs) {
  const pick = (key) => Object.fromEntries(Object.entries(results).filter(([, r]) => !r.error && r[key] != null).map(([s, r]) => [s, r[key]]));
  const row = (key, name, field, higher, extra = {}) => ({ key, name, higher, values: pick(field), ...extra });
  const rows = [
    row("train", "train, samples/s", "trainSamplesPerSec", true, { training: true }),
    row("trainCpu", "train, samples/CPU-s", "trainSamplesPerCpuSec", true, { training: true }),
    row("predict1", "predict 1 sample, µs (median)", "predict1Micros", false),
    row("predict1Cpu", "predict 1 sample, CPU-µs (mean)", "predict1CpuMicros", false),
    row("predictOne", "predict 10,000 in one batch, samples/s", "predictOneBatchPerSec", true),
    row("predictOneCpu", "predict 10,000 in one batch, /CPU-s", "predictOneBatchPerCpuSec", true),
    row("predict256", `predict 10,000 in ${PREDICT_BATCH}s, samples/s`, "predictBatchedPerSec", true),
    row("predict256Cpu", `predict 10,000 in ${PREDICT_BATCH}s, /CPU-s`, "predictBatchedPerCpuSec", true),
    row("rss", "peak RSS over the epoch, MiB", "rssEpochMiB", false, { rss: true }),
    row("rssPeak", "peak RSS at the end (after predict), MiB", "rssPeakMiB", false, { rss: true }),
    row("rssLoaded", "peak RSS after loading MNIST, MiB", "rssLoadedMiB", false, { rss: true, noRatio: true }),
  ];
  for (let e = 0; e < epochs; e++) {
    const values = {};
    for (const [s, r] of Object.entries(results)) if (!r.error && r.testAccuracy?.[e] != null) values[s] = 100 * r.testAccuracy[e];
    if (Object.keys(values).length) rows.push({ key: `acc${e + 1}`, name: `test accuracy after ${e + 1} epoch${e ? "s" : ""}, %`, higher: true, values, noRatio: true, digits: 2 });
  }
  return rows;
}

function ratioOf(row, peer, us = "wasmnn") {
  const ours = row?.values[us], theirs = row?.values[peer];
  if (ours == null || theirs == null || row.noRatio) return null;
  if (row.rss) return ours / theirs;
  return row.higher ? ours / theirs : theirs / ours;
}

function fmt(v, digits) {
  if (v == null) return "-";
  if (digits != null) return v.toFixed(digits);
  return v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toPrecision(3);
}

/** A system's cell: its figure, or why it has none. */
function cell(row, results, s) {
  if (row.training && results[s]?.trainError) return "cannot train";
  return fmt(row.values[s], row.digits);
}

/** Whether a row has anything to show besides the RSS floor. */
function hasCells(row, results) {
  return shown(results).some((s) => s !== "data" && cell(row, results, s) !== "-");
}

function shown(results) {
  return SYSTEMS.filter((s) => results[s] && !results[s].error);
}

function formatRow(row, results) {
  const cells = shown(results).filter((s) => s !== "data" || row.rss).map((s) => `${s} ${cell(row, results, s)}`);
  const ratios = (us) => PEERS.map((p) => [p, ratioOf(row, p, us)]).filter(([, r]) => r != null).map(([p, r]) => `${p}:${r.toFixed(2)}`);
  const plain = ratios("wasmnn"), u8 = ratios("wasmnn-u8");
  return `${row.name.padEnd(42)} ${cells.join("  ")}${plain.length ? `  ratio=${plain.join(",")}` : ""}${u8.length ? `  u8ratio=${u8.join(",")}` : ""}`;
}

function summary(rows, results, accuracy) {
  const by = Object.fromEntries(rows.map((r) => [r.key, r]));
  const times = (r) => `${r.toFixed(2)}x`;
  const verdict = (ok, w, c) => (ok(w) && (c == null || ok(c)) ? "MET" : ok(w) || (c != null && ok(c)) ? "MET BY ONE CLOCK ONLY" : "NOT MET");
  const targets = [
    ["training throughput >= PyTorch's (one thread)", "torch", by.train, by.trainCpu, (r) => r >= 1],
    ["one-sample predict >= 4x faster than TF.js wasm", "tfjs-wasm", by.predict1, by.predict1Cpu, (r) => r >= 4],
    ["batch predict of 10,000 >= 1.5x faster than TF.js wasm", "tfjs-wasm", by.predictOne, by.predictOneCpu, (r) => r >= 1.5],
    [`  (the same in batches of ${PREDICT_BATCH})`, "tfjs-wasm", by.predict256, by.predict256Cpu, (r) => r >= 1.5],
  ];
  console.log("\nTargets of issue 4 (wall clock; CPU time in brackets):");
  for (const [what, peer, wall, cpu, ok] of targets) {
    for (const us of ["wasmnn", "wasmnn-u8"]) {
      if (wall?.values[us] == null) continue;
      const w = ratioOf(wall, peer, us), c = ratioOf(cpu, peer, us);
      if (w == null) console.log(`  ${us.padEnd(9)} ${what}: not measured (no ${peer} figure)`);
      else console.log(`  ${us.padEnd(9)} ${what}: ${times(w)}${c == null ? "" : ` (${times(c)})`} ${verdict(ok, w, c)}`);
    }
  }
  for (const [peer, label] of [["torch-nchw", "PyTorch in its default NCHW layout"], ["tfjs-cpu", "TF.js cpu"]]) {
    const w = ratioOf(by.train, peer), c = ratioOf(by.trainCpu, peer);
    if (w != null) console.log(`  wasmnn    (training against ${label}: ${times(w)} (${times(c)}))`);
  }
  const tw = results["tfjs-wasm"];
  if (tw?.trainError) console.log(`  tfjs-wasm cannot train the CNN: ${tw.trainError}`);
  if (accuracy && !accuracy.error) {
    const best = Math.max(...accuracy.testAccuracy) * 100, last = accuracy.testAccuracy.at(-1) * 100;
    const minutes = (accuracy.totalSeconds / 60).toFixed(1);
    console.log(`  accuracy  MNIST test accuracy >= ${ACCURACY_TARGET}%: ${last.toFixed(2)}% after ${accuracy.epochs} epochs ` +
      `(best ${best.toFixed(2)}%), ${minutes} min ${last >= ACCURACY_TARGET ? "MET" : "NOT MET"}`);
  } else if (!accuracy) console.log(`  accuracy  MNIST test accuracy >= ${ACCURACY_TARGET}%: run with --accuracy to measure (several minutes)`);
}

function printMarkdown(rows, results, accuracy) {
  const cols = shown(results).filter((s) => s !== "data");
  if (cols.length) {
    const pairs = [["wasmnn", "tfjs-wasm"], ["wasmnn-u8", "tfjs-wasm"], ["wasmnn", "tfjs-cpu"], ["wasmnn", "torch"], ["wasmnn-u8", "torch"]]
      .filter(([a, b]) => cols.includes(a) && cols.includes(b));
    console.log(`\n| measurement | ${cols.join(" | ")} |${pairs.map(([a, b]) => ` ${a} vs ${b} |`).join("")}`);
    console.log(`|---|${cols.map(() => "---:").join("|")}|${pairs.map(() => "---:|").join("")}`);
    for (const row of rows.filter((r) => hasCells(r, results))) {
      const ratios = pairs.map(([a, b]) => ratioOf(row, b, a)).map((r) => ` ${r == null ? "" : r.toFixed(2)} |`).join("");
      console.log(`| ${row.name} | ${cols.map((s) => cell(row, results, s)).join(" | ")} |${ratios}`);
    }
    const d = results.data;
    if (d && !d.error) console.log(`\nA Node process that only loads MNIST as Float32Array: peak RSS ${fmt(d.rssLoadedMiB)} MiB, ${fmt(d.rssNowMiB)} MiB once loaded.`);
  }
  if (accuracy && !accuracy.error) {
    const e = accuracy.testAccuracy.map((_, i) => i + 1);
    console.log(`\n| epoch | ${e.join(" | ")} |\n|---|${e.map(() => "---:").join("|")}|`);
    console.log(`| test accuracy, % | ${accuracy.testAccuracy.map((a) => (100 * a).toFixed(2)).join(" | ")} |`);
    console.log(`| wall time, s | ${accuracy.epochSeconds.map((s) => s.toFixed(0)).join(" | ")} |`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A child: one system, from loading MNIST to the last predict; prints one JSON line.

async function runChild(system, opts) {
  const bytes = system === "wasmnn-u8";
  const train = loadMnist("train", { bytes });
  const test = loadMnist("test", { bytes });
  const rssLoadedMiB = maxRssMiB();
  if (system === "data") return { system, rssLoadedMiB, rssEpochMiB: rssLoadedMiB, rssNowMiB: rssNowMiB(), rssPeakMiB: maxRssMiB() };

  const lib = system.startsWith("wasmnn") ? await wasmnnAdapter(bytes) : await tfjsAdapter(system === "tfjs-wasm" ? "wasm" : "cpu");
  const slow = system === "tfjs-cpu";
  const n = slow ? Math.min(train.n, opts.tfjsCpuSamples) : train.n;
  const slice = (split, count) => lib.data(split.x.subarray(0, count * PIXELS), split.y.subarray(0, count), count);

  // Warm-up on a throw-away model: compiles the code paths and lays out memory for batch 64. TF.js wasm has no
  // filter-gradient kernel for conv2d: its fit throws, which is the figure we report.
  let trainError = null;
  const warm = lib.build(2);
  const warmData = slice(train, Math.min(n, (slow ? 2 : WARMUP_BATCHES) * BATCH));
  try {
    await lib.fit(warm, warmData, 1);
  } catch (err) {
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

  // One sample: one image in (a [1, 28, 28, 1] tensor made from a typed array), a probability vector out; as many
  // calls as fit in 1.5 s (50 to 5000).
  const lat = [];
  const budget = performance.now() + 1500;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < 5000 && (i < 50 || performance.now() < budget); i++) {
    const row = test.x.subarray((i % test.n) * PIXELS, ((i % test.n) + 1) * PIXELS);
    const t = performance.now();
    const probs = lib.predictRow(model, row);
    lat.push(performance.now() - t);
    if (probs.length !== 10) throw new Error(`${system}: predict gave ${probs.length} values`);
  }
  const predict1Cpu = cpuSeconds(process.cpuUsage(cpu0));

  // The 10,000 test images in one batch (TF.js's fastest) and in batches of 256 (tfjs-cpu: the first few hundred).
  const predictN = slow ? Math.min(test.n, opts.tfjsCpuPredict) : test.n;
  const predictData = slow ? slice(test, predictN) : testData;
  const oneBatch = await timeRuns(() => lib.predictBatch(model, predictData, predictN), slow ? 1 : 5);
  const batched = await timeRuns(() => lib.predictBatch(model, predictData, PREDICT_BATCH), slow ? 1 : 5);

  if (fullEpoch) {
    for (let e = 1; e < opts.epochs; e++) {
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

/** The accuracy run: ACCURATE on the bytes of MNIST, test accuracy after each epoch (progress on stderr). */
async function runAccuracy(epochs) {
  const nn = await import("wasmnn");
  await nn.ready();
  const train = loadMnist("train", { bytes: true });
  const test = loadMnist("test", { bytes: true });
  const x = nn.tensor(train.x, [train.n, ...SHAPE], "uint8");
  const xTest = nn.tensor(test.x, [test.n, ...SHAPE], "uint8");
  const steps = epochs * Math.ceil(train.n / BATCH);
  const model = nn.sequential({ layers: ACCURATE.layers(nn.layers), seed: 1 });
  const rate = nn.schedules.cosineDecay({ initialLearningRate: ACCURATE.learningRate, decaySteps: steps });
  model.compile({ optimizer: nn.train.adam(rate), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  const testAccuracy = [], epochSeconds = [];
  let trainSeconds = 0, epochStart = 0;
  const t0 = performance.now();
  await model.fit(x, train.y, {
    epochs, batchSize: BATCH, shuffle: true, verbose: 0,
    callbacks: {
      onEpochBegin: () => { epochStart = performance.now(); },
      onEpochEnd: (epoch, logs) => {
        trainSeconds += (performance.now() - epochStart) / 1000;
        const { accuracy } = model.evaluate(xTest, test.y);
        testAccuracy.push(accuracy);
        epochSeconds.push((performance.now() - t0) / 1000);
        console.error(`accuracy   epoch ${String(epoch + 1).padStart(2)}/${epochs}: train loss ${logs.loss.toFixed(4)}, ` +
          `test accuracy ${(100 * accuracy).toFixed(2)}%, ${epochSeconds.at(-1).toFixed(0)} s`);
      },
    },
  });
  return {
    system: "accuracy", model: ACCURATE.description, epochs, testAccuracy, epochSeconds, trainSeconds,
    totalSeconds: (performance.now() - t0) / 1000, rssPeakMiB: maxRssMiB(),
  };
}

/** Seconds of wall clock and of CPU time that one (possibly async) call takes. */
async function timed(fn) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  return { wall: (performance.now() - t0) / 1000, cpu: cpuSeconds(process.cpuUsage(cpu0)) };
}

/** One warm-up call, then `runs` timed calls: the median wall time and the mean CPU time of a call. */
async function timeRuns(fn, runs) {
  await fn();
  const walls = [];
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < runs; r++) walls.push((await timed(fn)).wall);
  return { wall: median(walls), cpu: cpuSeconds(process.cpuUsage(cpu0)) / runs };
}

/** wasmnn; with `bytes`, the pixels stay bytes (uint8 tensors) and a rescaling layer maps them to [0, 1]. */
async function wasmnnAdapter(bytes) {
  const nn = await import("wasmnn");
  await nn.ready();
  const tensor = (x, n) => (bytes ? nn.tensor(x, [n, ...SHAPE], "uint8") : nn.tensor(x, [n, ...SHAPE]));
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  const { conv2d, maxPooling2d, flatten, dense, rescaling } = nn.layers;
  const input = { inputShape: SHAPE };
  return {
    about: () => ({ version, backend: "wasm simd128", threads: 1 }),
    build(seed) {
      const model = nn.sequential({
        layers: [
          ...(bytes ? [rescaling({ ...input, scale: 1 / 255 })] : []),
          conv2d({ ...(bytes ? {} : input), filters: 8, kernelSize: 3, activation: "relu" }),
          maxPooling2d({ poolSize: 2 }),
          conv2d({ filters: 16, kernelSize: 3, activation: "relu" }),
          maxPooling2d({ poolSize: 2 }),
          flatten(),
          dense({ units: 10, activation: "softmax" }),
        ],
        seed,
      });
      model.compile({ optimizer: nn.train.adam(1e-3), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
      return model;
    },
    data: (x, y, n) => ({ x: tensor(x, n), y }),
    disposeData: () => {},
    fit: (model, d, epochs) => model.fit(d.x, d.y, { epochs, batchSize: BATCH, shuffle: true, verbose: 0 }),
    accuracy: (model, d) => model.evaluate(d.x, d.y).accuracy,
    predictRow: (model, row) => model.predict(tensor(row, 1)).data,
    predictBatch: (model, d, batchSize) => model.predict(d.x, { batchSize }).data,
    dispose: (model) => model.dispose(),
  };
}

async function tfjsAdapter(backend) {
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
  return {
    about: () => ({ version: tf.version.tfjs, backend: tf.getBackend(), threads: backend === "wasm" ? wasm.getThreadsCount() : 1 }),
    build(seed) {
      const init = (s) => tf.initializers.glorotUniform({ seed: seed * 10 + s });
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: SHAPE, filters: 8, kernelSize: 3, activation: "relu", kernelInitializer: init(1) }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: "relu", kernelInitializer: init(2) }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init(3) }),
        ],
      });
      model.compile({ optimizer: tf.train.adam(1e-3), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
      return model;
    },
    data: (x, y, n) => ({ x: tf.tensor4d(x, [n, ...SHAPE]), y: tf.tensor2d(Float32Array.from(y), [n, 1]) }),
    disposeData: (d) => tf.dispose([d.x, d.y]),
    fit: (model, d, epochs) => model.fit(d.x, d.y, { epochs, batchSize: BATCH, shuffle: true, verbose: 0 }),
    accuracy(model, d) {
      const [loss, acc] = model.evaluate(d.x, d.y, { batchSize: PREDICT_BATCH });
      const value = acc.dataSync()[0];
      tf.dispose([loss, acc]);
      return value;
    },
    predictRow(model, row) {
      const out = tf.tidy(() => model.predict(tf.tensor4d(row, [1, ...SHAPE])));
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

function maxRssMiB() {
  return process.resourceUsage().maxRSS / 1024; // KiB
}

function rssNowMiB() {
  return process.memoryUsage().rss / (1024 * 1024);
}

function cpuSeconds(usage) {
  return (usage.user + usage.system) / 1e6;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function parseArgs(argv) {
  const o = {
    full: false, epochs: 5, rounds: 1, only: SYSTEMS.filter((s) => s !== "accuracy"), accuracy: false, accuracyEpochs: 10,
    markdown: false, tfjsCpuSamples: 320, tfjsCpuPredict: 500, child: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--full") o.full = true;
    else if (a === "--markdown") o.markdown = true;
    else if (a === "--accuracy") o.accuracy = true;
    else if (a === "--epochs") o.epochs = positive(a, next());
    else if (a === "--accuracy-epochs") o.accuracyEpochs = positive(a, next());
    else if (a === "--rounds") o.rounds = positive(a, next());
    else if (a === "--tfjs-cpu-samples") o.tfjsCpuSamples = positive(a, next());
    else if (a === "--tfjs-cpu-predict") o.tfjsCpuPredict = positive(a, next());
    else if (a === "--child") o.child = next();
    else if (a === "--only") {
      o.only = next().split(",");
      const bad = o.only.filter((s) => !SYSTEMS.includes(s));
      if (bad.length) throw new Error(`--only: unknown system ${bad.join(", ")} (known: ${SYSTEMS.join(", ")})`);
    } else throw new Error(`unknown option ${a}`);
  }
  if (o.accuracy && !o.only.includes("accuracy")) o.only.push("accuracy");
  return o;
}

function positive(flag, v) {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer, got ${v}`);
  return n;
}
