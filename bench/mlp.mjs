// `npm run bench:mlp`: the MNIST MLP of issue 3 (784-256-128-10, relu, relu, softmax; Adam 1e-3, batch 64, sparse
// categorical cross-entropy) in wasmnn, TF.js (wasm backend, one thread; cpu backend) and native PyTorch (one
// thread), in one run. Each system runs in its own child process, one after the other, so that each one's peak RSS
// is its own: load MNIST, warm up on a throw-away model, train one timed epoch (a shorter run for the slow TF.js cpu
// backend), read the RSS, evaluate, then time predict of one sample and of the 10,000 test images.
//
//   node bench/mlp.mjs [--full] [--epochs N] [--rounds N] [--only a,b] [--tfjs-wasm-samples N] [--tfjs-cpu-samples N]
//                      [--markdown]
//
// --full       trains --epochs (default 5) epochs in every system that trained a full epoch (all but tfjs-cpu, and
//              tfjs-wasm unless --tfjs-wasm-samples cuts it short) and prints test accuracy after each.
// --rounds N   runs every system N times, alternating, and reports the median of each figure (the machine is shared).
// --only       some of: data (a child that only loads MNIST as floats: the RSS floor), wasmnn, wasmnn-u8 (the pixels
//              kept as bytes in a uint8 tensor, scaled by a rescaling layer in the model), tfjs-wasm, tfjs-cpu, torch.
// --markdown   also prints the table for bench/README.md.
// PyTorch runs under /usr/bin/python3 (BENCH_PYTHON overrides it) when that can import torch, else it is skipped.
//
// Every speed is measured twice: by the wall clock and by the process's CPU time (user + system). On a busy
// machine the wall clock also counts the time other processes hold the cores; the CPU-time figures do not.
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { MNIST_FILES, loadMnist } from "./mnist.mjs";

const SYSTEMS = ["data", "wasmnn", "wasmnn-u8", "tfjs-wasm", "tfjs-cpu", "torch"];
const PEERS = ["tfjs-wasm", "tfjs-cpu", "torch"];
const PYTHON = process.env.BENCH_PYTHON ?? "/usr/bin/python3"; // Debian's, where python3-torch installs
const BATCH = 64;
const PREDICT_BATCH = 256;
const WARMUP_BATCHES = 20;

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(`bench/mlp.mjs: ${err.message}`);
  process.exit(2);
}
if (args.child) {
  const result = await runChild(args.child, args);
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
} else {
  main();
}

// ---------------------------------------------------------------------------------------------------------------
// The parent: one child per system, then one line per measurement and the summary against the issue's targets.

function main() {
  const epochs = args.full ? args.epochs : 1;
  console.log(`Node ${process.versions.node}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), one thread per system; ` +
    `MLP 784-256-128-10, Adam 1e-3, batch ${BATCH}, ${epochs} epoch${epochs > 1 ? "s" : ""}` +
    `${args.rounds > 1 ? `, median of ${args.rounds} rounds` : ""}`);
  const runs = {};
  for (let round = 0; round < args.rounds; round++) {
    for (const system of SYSTEMS.filter((s) => args.only.includes(s))) {
      const t0 = performance.now();
      const r = system === "torch" ? runTorch(epochs) : spawnNode(system, epochs);
      (runs[system] ??= []).push(r);
      const took = ((performance.now() - t0) / 1000).toFixed(1);
      if (r.error) console.log(`${system.padEnd(9)} skipped: ${r.error}`);
      else console.log(`${system.padEnd(9)} done in ${took} s${describe(r)}`);
    }
  }
  const results = Object.fromEntries(Object.entries(runs).map(([s, list]) => [s, combine(list)]));
  const rows = measurements(results, epochs);
  console.log("\nratio = how many times faster wasmnn is than the peer (for RSS: wasmnn's figure / the peer's); u8ratio: the same for wasmnn-u8");
  for (const row of rows) console.log(formatRow(row, results));
  summary(rows, epochs);
  if (args.markdown) printMarkdown(rows, results);
}

/** The median of each number over the rounds that worked; the rest (accuracy, versions) from the first. */
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
  if (r.blas) bits.push(`BLAS ${r.blas}${r.blas === "reference" ? " (slow: apt-get install libopenblas0-serial)" : ""}`);
  if (r.trainSamples) bits.push(`trained ${r.trainSamples} samples in ${r.trainSeconds.toFixed(1)} s`);
  if (r.predictSamples && r.predictSamples !== 10000) bits.push(`batch predicts of ${r.predictSamples} samples`);
  return bits.length ? ` (${bits.join("; ")})` : "";
}

function spawnNode(system, epochs) {
  const childArgs = [fileURLToPath(import.meta.url), "--child", system, "--epochs", String(epochs),
    "--tfjs-wasm-samples", String(args.tfjsWasmSamples), "--tfjs-cpu-samples", String(args.tfjsCpuSamples)];
  return lastJson(spawnSync(process.execPath, childArgs, { encoding: "utf8", maxBuffer: 1 << 24 }), system);
}

function runTorch(epochs) {
  const probe = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    const why = probe.error?.message ?? probe.stderr.trim().split("\n").pop();
    return { error: `${PYTHON} cannot import torch${why ? ` (${why})` : ""}; Debian's package is python3-torch` };
  }
  const script = fileURLToPath(new URL("./mlp_torch.py", import.meta.url));
  const f = MNIST_FILES;
  // One thread for every pool torch or its BLAS could start.
  const env = { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const run = spawnSync(PYTHON, [script, f.trainImages, f.trainLabels, f.testImages, f.testLabels,
    "--epochs", String(epochs), "--warmup-batches", String(WARMUP_BATCHES), "--predict-batch", String(PREDICT_BATCH)],
  { encoding: "utf8", env, maxBuffer: 1 << 24 });
  return lastJson(run, "torch");
}

function lastJson(run, system) {
  if (run.error) return { error: run.error.message };
  const line = run.stdout.trim().split("\n").pop();
  try {
    if (run.status !== 0) throw new Error();
    return JSON.parse(line);
  } catch {
    return { error: `${system} exited with ${run.status}: ${(run.stderr || run.stdout).trim().split("\n").slice(-5).join(" | ")}` };
  }
}

/** Each row: a name, each system's figure and whether higher is better. */
function measurements(results, epochs) {
  const pick = (key) => Object.fromEntries(Object.entries(results).filter(([, r]) => !r.error && r[key] != null).map(([s, r]) => [s, r[key]]));
  const row = (key, name, field, higher, extra = {}) => ({ key, name, higher, values: pick(field), ...extra });
  const rows = [
    row("train", "train, samples/s", "trainSamplesPerSec", true),
    row("trainCpu", "train, samples/CPU-s", "trainSamplesPerCpuSec", true),
    row("predict1", "predict 1 sample, µs (median)", "predict1Micros", false),
    row("predict1Cpu", "predict 1 sample, CPU-µs (mean)", "predict1CpuMicros", false),
    row("predictOne", "predict 10,000 in one batch, samples/s", "predictOneBatchPerSec", true),
    row("predictOneCpu", "predict 10,000 in one batch, /CPU-s", "predictOneBatchPerCpuSec", true),
    row("predict256", `predict 10,000 in ${PREDICT_BATCH}s, samples/s`, "predictBatchedPerSec", true),
    row("predict256Cpu", `predict 10,000 in ${PREDICT_BATCH}s, /CPU-s`, "predictBatchedPerCpuSec", true),
    row("rss", "peak RSS over the epoch, MiB", "rssEpochMiB", false, { rss: true }),
    row("rssNow", "RSS at the epoch's end, MiB", "rssNowMiB", false, { rss: true }),
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

function formatRow(row, results) {
  const cells = SYSTEMS.filter((s) => (s !== "data" || row.rss) && results[s] && !results[s].error)
    .map((s) => `${s} ${fmt(row.values[s], row.digits)}`);
  const ratios = (us) => PEERS.map((p) => [p, ratioOf(row, p, us)]).filter(([, r]) => r != null).map(([p, r]) => `${p}:${r.toFixed(2)}`);
  const plain = ratios("wasmnn"), u8 = ratios("wasmnn-u8");
  return `${row.name.padEnd(40)} ${cells.join("  ")}${plain.length ? `  ratio=${plain.join(",")}` : ""}${u8.length ? `  u8ratio=${u8.join(",")}` : ""}`;
}

function summary(rows, epochs) {
  const by = Object.fromEntries(rows.map((r) => [r.key, r]));
  const times = (r) => `${r.toFixed(2)}x`;
  const targets = [
    ["training throughput >= 10x TF.js wasm", by.train, by.trainCpu, (r) => r >= 10, times],
    ["one-sample predict >= 5x faster than TF.js wasm", by.predict1, by.predict1Cpu, (r) => r >= 5, times],
    ["batch predict of 10,000 >= 1.3x faster than TF.js wasm", by.predictOne, by.predictOneCpu, (r) => r >= 1.3, times],
    [`  (the same in batches of ${PREDICT_BATCH})`, by.predict256, by.predict256Cpu, (r) => r >= 1.3, times],
    ["peak RSS over an epoch <= 1/3 of TF.js wasm's", by.rss, null, (r) => r <= 1 / 3, (r) => `${r.toFixed(2)} of it`],
  ];
  console.log("\nTargets of issue 3 (wall clock; CPU time in brackets):");
  for (const [what, wall, cpu, ok, show] of targets) {
    for (const us of ["wasmnn", "wasmnn-u8"]) {
      if (wall?.values[us] == null) continue;
      const w = ratioOf(wall, "tfjs-wasm", us), c = cpu ? ratioOf(cpu, "tfjs-wasm", us) : null;
      if (w == null) {
        console.log(`  ${us.padEnd(9)} ${what}: not measured (no tfjs-wasm figure)`);
        continue;
      }
      const verdict = ok(w) && (c == null || ok(c)) ? "MET" : ok(w) || (c != null && ok(c)) ? "MET BY ONE CLOCK ONLY" : "NOT MET";
      console.log(`  ${us.padEnd(9)} ${what}: ${show(w)}${c == null ? "" : ` (${show(c)})`} ${verdict}`);
    }
  }
  for (const us of ["wasmnn", "wasmnn-u8"]) {
    const acc = rows.filter((r) => r.key.startsWith("acc")).map((r) => r.values[us]).filter((v) => v != null);
    const what = `${us.padEnd(9)} MNIST test accuracy >= 98.2% within 10 epochs`;
    if (acc.length >= 5) {
      const best = Math.max(...acc);
      console.log(`  ${what}: best ${best.toFixed(2)}% in ${acc.length} epochs ${best >= 98.2 ? "MET" : acc.length >= 10 ? "NOT MET" : "NOT YET (--epochs 10)"}`);
    } else if (by.train?.values[us] != null) console.log(`  ${what}: run with --full --epochs 10 to measure`);
  }
  const torch = ratioOf(by.train, "torch"), torchCpu = ratioOf(by.trainCpu, "torch");
  if (torch != null) console.log(`  wasmnn    (training against native PyTorch on one thread: ${times(torch)} (${times(torchCpu)}))`);
}

function printMarkdown(rows, results) {
  const cols = SYSTEMS.filter((s) => results[s] && !results[s].error && s !== "data");
  const pairs = [["wasmnn", "tfjs-wasm"], ["wasmnn-u8", "tfjs-wasm"], ["wasmnn", "torch"]].filter(([a, b]) => cols.includes(a) && cols.includes(b));
  console.log(`\n| measurement | ${cols.join(" | ")} |${pairs.map(([a, b]) => ` ${a} vs ${b} |`).join("")}`);
  console.log(`|---|${cols.map(() => "---:").join("|")}|${pairs.map(() => "---:|").join("")}`);
  for (const row of rows) {
    const ratios = pairs.map(([a, b]) => ratioOf(row, b, a)).map((r) => ` ${r == null ? "" : r.toFixed(2)} |`).join("");
    console.log(`| ${row.name} | ${cols.map((s) => fmt(row.values[s], row.digits)).join(" | ")} |${ratios}`);
  }
  const d = results.data;
  if (d && !d.error) console.log(`\nA Node process that only loads MNIST as Float32Array: peak RSS ${fmt(d.rssLoadedMiB)} MiB, ${fmt(d.rssNowMiB)} MiB once loaded.`);
}

// ---------------------------------------------------------------------------------------------------------------
// A child: one system, from loading MNIST to the last predict; prints one JSON line.

async function runChild(system, opts) {
  const bytes = system === "wasmnn-u8";
  const train = loadMnist("train", { bytes });
  const test = loadMnist("test", { bytes });
  const rssLoadedMiB = maxRssMiB();
  if (system === "data") return { system, rssLoadedMiB, rssEpochMiB: rssLoadedMiB, rssNowMiB: rssNowMiB() };

  const lib = system.startsWith("wasmnn") ? await wasmnnAdapter(bytes) : await tfjsAdapter(system === "tfjs-wasm" ? "wasm" : "cpu");
  const trainSamples = system === "tfjs-cpu" ? opts.tfjsCpuSamples : system === "tfjs-wasm" ? opts.tfjsWasmSamples : train.n;
  const n = Math.min(train.n, trainSamples);
  const features = train.features;
  const slice = (split, count) => lib.data(split.x.subarray(0, count * features), split.y.subarray(0, count), count);

  // Warm-up on a throw-away model: compiles the code paths and lays out memory for batch 64.
  const warm = lib.build(2);
  const warmData = slice(train, Math.min(n, WARMUP_BATCHES * BATCH));
  await lib.fit(warm, warmData, 1);
  lib.disposeData(warmData);
  lib.dispose(warm);

  const model = lib.build(1);
  const data = slice(train, n);
  const trainTime = await timed(() => lib.fit(model, data, 1));
  const rssEpochMiB = maxRssMiB();
  const rssNow = rssNowMiB();

  const testData = slice(test, test.n);
  const fullEpoch = n === train.n;
  const testAccuracy = fullEpoch ? [lib.accuracy(model, testData)] : [];

  // One sample: a Float32Array row in, a probability vector out; as many calls as fit in 1.5 s (50 to 5000).
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

  // The 10,000 test images in one batch (TF.js's fastest) and in batches of 256 (tfjs-cpu: the first 1,000).
  const slow = system === "tfjs-cpu";
  const predictN = slow ? 1000 : test.n;
  const predictData = slow ? slice(test, predictN) : testData;
  const oneBatch = await timeRuns(() => lib.predictBatch(model, predictData, predictN), slow ? 2 : 5);
  const batched = await timeRuns(() => lib.predictBatch(model, predictData, PREDICT_BATCH), slow ? 2 : 5);

  if (fullEpoch) {
    for (let e = 1; e < opts.epochs; e++) {
      await lib.fit(model, data, 1);
      testAccuracy.push(lib.accuracy(model, testData));
    }
  }
  return {
    system,
    ...lib.about(),
    trainSamples: n,
    trainSeconds: trainTime.wall,
    trainSamplesPerSec: n / trainTime.wall,
    trainSamplesPerCpuSec: n / trainTime.cpu,
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

/** Seconds of wall clock and of CPU time that one (possibly async) call takes. */
async function timed(fn) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  return { wall: (performance.now() - t0) / 1000, cpu: cpuSeconds(process.cpuUsage(cpu0)) };
}

/** One warm-up call, then `runs` timed calls: the median wall time and the mean CPU time of a call. */
async function timeRuns(fn, runs) {
  fn();
  const walls = [];
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < runs; r++) walls.push((await timed(fn)).wall);
  return { wall: median(walls), cpu: cpuSeconds(process.cpuUsage(cpu0)) / runs };
}

/** wasmnn; with `bytes`, the pixels stay bytes (uint8 tensors) and a rescaling layer maps them to [0, 1]. */
async function wasmnnAdapter(bytes) {
  const nn = await import("wasmnn");
  await nn.ready();
  const tensor = (x, shape) => (bytes ? nn.tensor2d(x, shape, "uint8") : nn.tensor2d(x, shape));
  const { version } = JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")));
  return {
    about: () => ({ version, backend: "wasm simd128", threads: 1 }),
    build(seed) {
      const model = nn.sequential({
        layers: [
          ...(bytes ? [nn.layers.rescaling({ inputShape: [784], scale: 1 / 255 })] : []),
          nn.layers.dense({ ...(bytes ? {} : { inputShape: [784] }), units: 256, activation: "relu" }),
          nn.layers.dense({ units: 128, activation: "relu" }),
          nn.layers.dense({ units: 10, activation: "softmax" }),
        ],
        seed,
      });
      model.compile({ optimizer: nn.train.adam(1e-3), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
      return model;
    },
    data: (x, y, n) => ({ x: tensor(x, [n, 784]), y }),
    disposeData: () => {},
    fit: (model, d, epochs) => model.fit(d.x, d.y, { epochs, batchSize: BATCH, shuffle: true, verbose: 0 }),
    accuracy: (model, d) => model.evaluate(d.x, d.y).accuracy,
    predictRow: (model, row) => model.predict(tensor(row, [1, 784])).data,
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
          tf.layers.dense({ inputShape: [784], units: 256, activation: "relu", kernelInitializer: init(1) }),
          tf.layers.dense({ units: 128, activation: "relu", kernelInitializer: init(2) }),
          tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init(3) }),
        ],
      });
      model.compile({ optimizer: tf.train.adam(1e-3), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
      return model;
    },
    data: (x, y, n) => ({ x: tf.tensor2d(x, [n, 784]), y: tf.tensor2d(Float32Array.from(y), [n, 1]) }),
    disposeData: (d) => tf.dispose([d.x, d.y]),
    fit: (model, d, epochs) => model.fit(d.x, d.y, { epochs, batchSize: BATCH, shuffle: true, verbose: 0 }),
    accuracy(model, d) {
      const [loss, acc] = model.evaluate(d.x, d.y, { batchSize: PREDICT_BATCH });
      const value = acc.dataSync()[0];
      tf.dispose([loss, acc]);
      return value;
    },
    predictRow(model, row) {
      const out = tf.tidy(() => model.predict(tf.tensor2d(row, [1, 784])));
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
  const o = { full: false, epochs: 5, rounds: 1, only: SYSTEMS, markdown: false, tfjsWasmSamples: 60000, tfjsCpuSamples: 640, child: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--full") o.full = true;
    else if (a === "--markdown") o.markdown = true;
    else if (a === "--epochs") o.epochs = positive(a, next());
    else if (a === "--rounds") o.rounds = positive(a, next());
    else if (a === "--tfjs-wasm-samples") o.tfjsWasmSamples = positive(a, next());
    else if (a === "--tfjs-cpu-samples") o.tfjsCpuSamples = positive(a, next());
    else if (a === "--child") o.child = next();
    else if (a === "--only") {
      o.only = next().split(",");
      const bad = o.only.filter((s) => !SYSTEMS.includes(s));
      if (bad.length) throw new Error(`--only: unknown system ${bad.join(", ")} (known: ${SYSTEMS.join(", ")})`);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function positive(flag, v) {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer, got ${v}`);
  return n;
}
