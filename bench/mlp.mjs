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
import { fileURLToPath } from "node:url";
import {
  BATCH, PREDICT_BATCH, WARMUP_BATCHES, combine, fmt, machine, maxRssMiB, measureChild, measurements, mnistOptions,
  printDataFloor, printMarkdownTable, ratioCells, ratioOf, rssNowMiB, runRounds, runTorch, spawnNode, tfjsAdapter,
  wasmnnAdapter,
} from "./harness.mjs";
import { commandLine, int } from "./args.mjs";
import { loadMnist } from "./mnist.mjs";

const SYSTEMS = ["data", "wasmnn", "wasmnn-u8", "tfjs-wasm", "tfjs-cpu", "torch"];
const PEERS = ["tfjs-wasm", "tfjs-cpu", "torch"];

const args = commandLine("bench/mlp.mjs", {
  usage: "node bench/mlp.mjs [options]: the MNIST MLP of issue 3 in wasmnn, TF.js and PyTorch (see the file's head)",
  options: {
    ...mnistOptions(SYSTEMS),
    "--tfjs-wasm-samples": int("tfjsWasmSamples", 60000, "training samples of TF.js wasm's timed epoch"),
    "--tfjs-cpu-samples": int("tfjsCpuSamples", 640, "training samples of TF.js cpu's timed epoch"),
  },
});
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
  console.log(`${machine()}; ` +
    `MLP 784-256-128-10, Adam 1e-3, batch ${BATCH}, ${epochs} epoch${epochs > 1 ? "s" : ""}` +
    `${args.rounds > 1 ? `, median of ${args.rounds} rounds` : ""}`);
  const childArgs = ["--epochs", String(epochs), "--tfjs-wasm-samples", String(args.tfjsWasmSamples), "--tfjs-cpu-samples", String(args.tfjsCpuSamples)];
  const run = (system) => (system === "torch" ? runTorch("./mlp_torch.py", "torch", ["--epochs", String(epochs)])
    : spawnNode(fileURLToPath(import.meta.url), system, childArgs));
  const runs = runRounds(SYSTEMS.filter((s) => args.only.includes(s)), args.rounds, run, 9);
  const results = Object.fromEntries(Object.entries(runs).map(([s, list]) => [s, combine(list)]));
  const rows = measurements(results, epochs, { rssEnd: ["rssNow", "RSS at the epoch's end, MiB", "rssNowMiB"] });
  console.log("\nratio = how many times faster wasmnn is than the peer (for RSS: wasmnn's figure / the peer's); u8ratio: the same for wasmnn-u8");
  for (const row of rows) console.log(formatRow(row, results));
  summary(rows, epochs);
  if (args.markdown) printMarkdown(rows, results);
}

function formatRow(row, results) {
  const cells = SYSTEMS.filter((s) => (s !== "data" || row.rss) && results[s] && !results[s].error)
    .map((s) => `${s} ${fmt(row.values[s], row.digits)}`);
  return `${row.name.padEnd(40)} ${cells.join("  ")}${ratioCells(row, PEERS)}`;
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
  printMarkdownTable(rows, cols, pairs, (row, s) => fmt(row.values[s], row.digits));
  printDataFloor(results);
}

// ---------------------------------------------------------------------------------------------------------------
// A child: one system, from loading MNIST to the last predict; prints one JSON line.

async function runChild(system, opts) {
  const bytes = system === "wasmnn-u8";
  const train = loadMnist("train", { bytes });
  const test = loadMnist("test", { bytes });
  const rssLoadedMiB = maxRssMiB();
  if (system === "data") return { system, rssLoadedMiB, rssEpochMiB: rssLoadedMiB, rssNowMiB: rssNowMiB() };

  const lib = system.startsWith("wasmnn") ? await wasmnnAdapter(bytes, wasmnnModel(bytes)) : await tfjsAdapter(system === "tfjs-wasm" ? "wasm" : "cpu", tfjsModel());
  const trainSamples = system === "tfjs-cpu" ? opts.tfjsCpuSamples : system === "tfjs-wasm" ? opts.tfjsWasmSamples : train.n;
  const n = Math.min(train.n, trainSamples);
  // The slow TF.js cpu backend predicts only the first 1,000 test images.
  const slow = system === "tfjs-cpu";
  return measureChild(system, lib, {
    train, test, n, warmSamples: Math.min(n, WARMUP_BATCHES * BATCH), predictN: slow ? 1000 : test.n,
    predictRuns: slow ? 2 : 5, epochs: opts.epochs, rssLoadedMiB,
  });
}

/** The MLP in wasmnn, on (n, 784) rows of floats or (with `bytes`) of bytes rescaled by the first layer. */
function wasmnnModel(bytes) {
  return {
    tensor: (nn, x, n) => (bytes ? nn.tensor2d(x, [n, 784], "uint8") : nn.tensor2d(x, [n, 784])),
    layers: (nn) => [
      ...(bytes ? [nn.layers.rescaling({ inputShape: [784], scale: 1 / 255 })] : []),
      nn.layers.dense({ ...(bytes ? {} : { inputShape: [784] }), units: 256, activation: "relu" }),
      nn.layers.dense({ units: 128, activation: "relu" }),
      nn.layers.dense({ units: 10, activation: "softmax" }),
    ],
  };
}

/** The MLP in TF.js, on (n, 784) rows of floats. */
function tfjsModel() {
  return {
    tensor: (tf, x, n) => tf.tensor2d(x, [n, 784]),
    layers: (tf, init) => [
      tf.layers.dense({ inputShape: [784], units: 256, activation: "relu", kernelInitializer: init(1) }),
      tf.layers.dense({ units: 128, activation: "relu", kernelInitializer: init(2) }),
      tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init(3) }),
    ],
  };
}
