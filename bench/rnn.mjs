// `npm run bench:rnn`: the character language model of issue 13 (embedding 64 -> LSTM 256, or GRU 256 -> dense
// softmax over the vocabulary; batch 32, windows of 64 characters, Adam 2e-3 with clipnorm 5) on Moby Dick, in
// wasmnn, PyTorch (bench/rnn_torch.py: nn.Embedding, nn.LSTM / nn.GRU, nn.Linear on one thread) and TF.js (wasm backend
// on one thread, cpu backend), in one run. Each system and cell runs in its own child process (its own peak RSS).
//
//   node bench/rnn.mjs [--train-steps N] [--sweep-train-steps N] [--tfjs-steps N] [--gen-chars N] [--only a,b]
//                      [--cells lstm,gru] [--sweep 32,64,128,256] [--no-sweep] [--tfjs-sweep] [--markdown] [--help]
//
// Figures per cell: training characters/s (batch x steps per Adam step; wall clock and CPU time) over --train-steps
// steps after a warm-up on a throw-away model; the validation loss (mean cross-entropy over the last 10% of the text,
// nats) after those steps, which must be within 3% of PyTorch's (each side its own seeded start and batch order, so
// this compares how well the two train, not bits); generation characters/s (the prompt once, then one recurrent step
// per new character, the state carried, sampled at temperature 0.8); peak RSS; and training characters/s with windows
// of 32, 64, 128 and 256 characters (--sweep-train-steps steps each, how the cost grows with the sequence).
// TF.js trains only --tfjs-steps steps (and joins the sweep, one step per length, only with --tfjs-sweep: its cpu
// backend takes over a minute per step of 256 characters) (its cpu backend is slow), without clipnorm (its optimisers have none), with
// sigmoid recurrent activations as the others, and its GRU is resetAfter false (TF.js has no reset_after: tfjs#4621);
// its validation loss and generation are not measured; its recurrent kernels start glorot-uniform, not orthogonal (its
// orthogonal initializer, a QR in plain JS, takes over a minute for the 256 x 1024 matrix; the start does not change
// the speed). TF.js wasm cannot train an embedding (the gradient of gather,
// UnsortedSegmentSum, has no wasm kernel: tfjs#8082); the child reports the error it gets.
import { fileURLToPath } from "node:url";
import {
  charData, cpuSeconds, fmt, loadTfjs, machine, maxRssMiB, mobyDickFile, printMarkdownTable, ratioCells, ratioOf, runPython, spawnNode,
  wasmnnAbout,
} from "./harness.mjs";
import { commandLine, flag, int, ints, oneOf, preset, someOf, systemOptions } from "./args.mjs";

const SYSTEMS = ["wasmnn", "tfjs-wasm", "tfjs-cpu", "torch"];
const PEERS = ["tfjs-wasm", "tfjs-cpu", "torch"];
const BATCH = 32, STEPS = 64, EMBED = 64, UNITS = 256, LR = 2e-3, CLIPNORM = 5, VAL_FRACTION = 0.1;
const WARMUP_STEPS = 5, TEMPERATURE = 0.8, PROMPT = "Call me ", SEED = 1;

const CELLS = ["lstm", "gru"];
const args = commandLine("bench/rnn.mjs", {
  usage: "node bench/rnn.mjs [options]: the character LSTM / GRU of issue 13 in wasmnn, PyTorch and TF.js (see the file's head)",
  options: {
    "--train-steps": int("trainSteps", 200, "timed training steps per cell"),
    "--sweep-train-steps": int("sweepTrainSteps", 20, "timed steps per window length of the sweep"),
    "--tfjs-steps": int("tfjsSteps", 3, "TF.js's timed training steps"),
    "--gen-chars": int("genChars", 400, "characters generated"),
    ...systemOptions(SYSTEMS, { children: SYSTEMS.filter((s) => s !== "torch") }),
    "--cells": someOf("cells", CELLS, CELLS, "the cells to run"),
    "--sweep": ints("sweep", [32, 64, 128, 256], "window lengths of the sweep"),
    "--no-sweep": preset({ sweep: [] }, "skip the sweep"),
    "--tfjs-sweep": flag("tfjsSweep", "TF.js joins the sweep, one step per length (its cpu backend: minutes)"),
    "--cell": oneOf("cell", "lstm", CELLS, "(a child's) the cell"),
  },
});
if (args.child) {
  const result = await runChild(args.child, args);
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
} else {
  main();
}

// ---------------------------------------------------------------------------------------------------------------
// The parent.

function main() {
  console.log(`${machine()}; character LM on Moby Dick: embedding ${EMBED} -> LSTM/GRU ${UNITS} -> dense softmax, ` +
    `batch ${BATCH}, ${STEPS} steps, Adam ${LR} clipnorm ${CLIPNORM}; ${args.trainSteps} timed training steps ` +
    `(TF.js ${args.tfjsSteps}), ${args.genChars} generated characters`);
  const results = {}; // results[system][cell]
  for (const system of SYSTEMS.filter((s) => args.only.includes(s))) {
    const t0 = performance.now();
    if (system === "torch") results.torch = runTorch();
    else {
      results[system] = {};
      for (const cell of args.cells) {
        const childArgs = ["--cell", cell, "--train-steps", String(args.trainSteps), "--sweep-train-steps", String(args.sweepTrainSteps),
          "--tfjs-steps", String(args.tfjsSteps), ...(args.tfjsSweep ? ["--tfjs-sweep"] : []), "--gen-chars", String(args.genChars), ...(args.sweep.length ? ["--sweep", args.sweep.join(",")] : ["--no-sweep"])];
        results[system][cell] = spawnNode(fileURLToPath(import.meta.url), system, childArgs);
      }
    }
    const took = ((performance.now() - t0) / 1000).toFixed(1);
    for (const cell of args.cells) {
      const r = results[system]?.[cell] ?? results[system];
      if (r?.error) console.log(`${system.padEnd(9)} ${cell}: skipped: ${r.error}`);
      else if (r?.trainError) console.log(`${system.padEnd(9)} ${cell}: cannot train: ${r.trainError}`);
    }
    console.log(`${system.padEnd(9)} done in ${took} s`);
  }
  console.log("\nratio = how many times faster wasmnn is than the peer (for RSS: wasmnn's figure / the peer's; for the validation loss: the peer's / wasmnn's)");
  const allRows = [];
  for (const cell of args.cells) {
    const rows = rowsFor(cell, results);
    allRows.push(...rows);
    console.log(`\n${cell.toUpperCase()}`);
    for (const row of rows) {
      const cells = SYSTEMS.filter((s) => row.values[s] != null).map((s) => `${s} ${fmt(row.values[s], row.digits)}`);
      console.log(`${row.name.padEnd(42)} ${cells.join("  ")}${ratioCells(row, PEERS)}`);
    }
    summary(cell, rows, results);
  }
  if (args.markdown) {
    const cols = SYSTEMS.filter((s) => allRows.some((r) => r.values[s] != null));
    const pairs = [["wasmnn", "torch"], ["wasmnn", "tfjs-wasm"], ["wasmnn", "tfjs-cpu"]].filter(([, b]) => cols.includes(b));
    printMarkdownTable(allRows, cols, pairs, (row, s) => fmt(row.values[s], row.digits));
  }
}

function runTorch() {
  const cell = args.cells.length === 2 ? "both" : args.cells[0];
  const r = runPython("./rnn_torch.py", "torch", [mobyDickFile(), "--cell", cell,
    "--train-steps", String(args.trainSteps), "--warmup-steps", String(WARMUP_STEPS), "--sweep", args.sweep.join(","),
    "--sweep-train-steps", String(args.sweepTrainSteps), "--gen-chars", String(args.genChars), "--seed", String(SEED)]);
  return cell === "both" || r.error ? r : { [cell]: r };
}

/** The rows of one cell: a name, each system's figure, and whether higher is better. */
function rowsFor(cell, results) {
  const pick = (f) => Object.fromEntries(SYSTEMS.map((s) => [s, results[s]?.[cell]]).filter(([, r]) => r && !r.error && f(r) != null).map(([s, r]) => [s, f(r)]));
  const rows = [
    { key: "train", name: `${cell} train, characters/s`, higher: true, values: pick((r) => r.trainCharsPerSec) },
    { key: "trainCpu", name: `${cell} train, characters/CPU-s`, higher: true, values: pick((r) => r.trainCharsPerCpuSec) },
    { key: "val", name: `${cell} validation loss after ${args.trainSteps} steps, nats`, higher: false, values: pick((r) => r.valLoss), digits: 4 },
    { key: "gen", name: `${cell} generate, characters/s`, higher: true, values: pick((r) => r.genCharsPerSec) },
    { key: "genCpu", name: `${cell} generate, characters/CPU-s`, higher: true, values: pick((r) => r.genCharsPerCpuSec) },
    { key: "rss", name: `${cell} peak RSS, MiB`, higher: false, rss: true, values: pick((r) => r.rssPeakMiB) },
  ];
  for (const steps of args.sweep) {
    rows.push({ key: `sweep${steps}`, name: `${cell} train ${steps} steps, characters/s`, higher: true, values: pick((r) => r.sweep?.[steps]?.trainCharsPerSec) });
    rows.push({ key: `sweepCpu${steps}`, name: `${cell} train ${steps} steps, characters/CPU-s`, higher: true, values: pick((r) => r.sweep?.[steps]?.trainCharsPerCpuSec) });
  }
  return rows;
}

function summary(cell, rows, results) {
  const by = Object.fromEntries(rows.map((r) => [r.key, r]));
  const show = (row, peer) => {
    const w = ratioOf(row, peer);
    return w == null ? null : w;
  };
  const verdict = (ok) => (ok ? "MET" : "NOT MET");
  // both clocks, as bench/mlp.mjs judges: on a shared machine the wall clock also counts other processes' time
  const both = (wall, cpu, ok) => (ok(wall) && (cpu == null || ok(cpu)) ? "MET" : ok(wall) || (cpu != null && ok(cpu)) ? "MET BY ONE CLOCK ONLY" : "NOT MET");
  const lines = [];
  const tt = show(by.train, "torch"), ttc = show(by.trainCpu, "torch");
  if (tt != null) lines.push(`training >= 0.8x PyTorch: ${tt.toFixed(2)}x (${ttc?.toFixed(2)}x by CPU time) ${both(tt, ttc, (r) => r >= 0.8)}`);
  const tw = show(by.train, "tfjs-wasm");
  if (tw != null) lines.push(`training >= 10x TF.js wasm: ${tw.toFixed(2)}x ${verdict(tw >= 10)}`);
  else if (results["tfjs-wasm"]?.[cell]?.trainError) lines.push(`training >= 10x TF.js wasm: TF.js wasm cannot train it (${results["tfjs-wasm"][cell].trainError}); against TF.js cpu: ${show(by.train, "tfjs-cpu")?.toFixed(1) ?? "-"}x`);
  const vw = by.val.values.wasmnn, vt = by.val.values.torch;
  if (vw != null && vt != null) lines.push(`validation loss within 3% of PyTorch's: ${vw.toFixed(4)} vs ${vt.toFixed(4)} (${(100 * (vw / vt - 1)).toFixed(2)}%) ${verdict(Math.abs(vw / vt - 1) <= 0.03)}`);
  const gt = show(by.gen, "torch"), gtc = show(by.genCpu, "torch");
  if (gt != null) lines.push(`generation >= 2x PyTorch: ${gt.toFixed(2)}x (${gtc?.toFixed(2)}x by CPU time) ${both(gt, gtc, (r) => r >= 2)}`);
  console.log(`Targets of issue 13, ${cell}:`);
  for (const l of lines) console.log(`  ${l}`);
  const sample = results.wasmnn?.[cell]?.sample;
  if (sample) console.log(`  wasmnn's sample: ${JSON.stringify(sample.slice(0, 160))}`);
}

// ---------------------------------------------------------------------------------------------------------------
// A child: one system and one cell; prints one JSON line.

/** Windows `pick` of an [n, steps] int array, as floats (token ids). */
function rowsOf(windows, pick, steps) {
  const out = new Float32Array(pick.length * steps);
  for (let i = 0; i < pick.length; i++) {
    const r = pick[i];
    for (let j = 0; j < steps; j++) out[i * steps + j] = windows.data[r * steps + j];
  }
  return out;
}

/** `count` batches' worth of windows from a seeded permutation (repeated when the windows run out). */
function drawWindows(n, count, seed, nn) {
  const order = nn.permutation(n, seed);
  return Int32Array.from({ length: count * BATCH }, (_, i) => order[i % n]);
}

async function runChild(system, opts) {
  const cell = opts.cell;
  const cpu = () => cpuSeconds(process.cpuUsage());
  if (system === "wasmnn") {
    const nn = await import("wasmnn");
    await nn.ready();
    const data = charData(nn, STEPS, VAL_FRACTION);
    const V = data.vocabulary.size;
    const build = (seed, steps = STEPS) => {
      const model = nn.sequential({
        seed,
        layers: [
          nn.layers.embedding({ inputDim: V, outputDim: EMBED, inputShape: [steps] }),
          nn.layers[cell]({ units: UNITS, returnSequences: true }),
          nn.layers.dense({ units: V, activation: "softmax" }),
        ],
      });
      model.compile({ optimizer: nn.train.adam(LR, 0.9, 0.999, 1e-7, { clipnorm: CLIPNORM }), loss: "sparseCategoricalCrossentropy" });
      return model;
    };
    const trainOn = async (model, windows, steps, count, seed) => {
      const pick = drawWindows(windows.x.shape[0], count, seed, nn);
      const x = nn.tensor(rowsOf(windows.x, pick, steps), [pick.length, steps]);
      const y = nn.tensor(rowsOf(windows.y, pick, steps), [pick.length, steps]);
      const t0 = performance.now(), c0 = cpu();
      await model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 });
      return { wall: (performance.now() - t0) / 1000, cpu: cpu() - c0 };
    };
    const rssLoadedMiB = maxRssMiB();
    const warm = build(SEED + 1);
    await trainOn(warm, data.train, STEPS, WARMUP_STEPS, SEED + 1);
    warm.dispose();
    const model = build(SEED);
    const t = await trainOn(model, data.train, STEPS, opts.trainSteps, SEED);
    const chars = opts.trainSteps * BATCH * STEPS;
    const nv = data.validation.x.shape[0];
    const all = Int32Array.from({ length: nv }, (_, i) => i);
    const valLoss = model.evaluate(nn.tensor(rowsOf(data.validation.x, all, STEPS), [nv, STEPS]),
      nn.tensor(rowsOf(data.validation.y, all, STEPS), [nv, STEPS]), { batchSize: 256 }).loss;
    const prompt = data.vocabulary.encode(PROMPT);
    nn.generate(model, { prompt, length: 20, temperature: TEMPERATURE, seed: SEED + 1 }); // warm-up
    const g0 = performance.now(), gc0 = cpu();
    const ids = nn.generate(model, { prompt, length: opts.genChars, temperature: TEMPERATURE, seed: SEED });
    const genWall = (performance.now() - g0) / 1000, genCpu = cpu() - gc0;
    model.dispose();
    const rssPeakMiB = maxRssMiB();
    const sweep = {};
    for (const steps of opts.sweep) {
      const d = steps === STEPS ? data : charData(nn, steps, VAL_FRACTION);
      const m = build(SEED + 2, steps);
      await trainOn(m, d.train, steps, 2, SEED + 2);
      const s = await trainOn(m, d.train, steps, opts.sweepTrainSteps, SEED + 3);
      const n = opts.sweepTrainSteps * BATCH * steps;
      sweep[steps] = { trainCharsPerSec: n / s.wall, trainCharsPerCpuSec: n / s.cpu };
      m.dispose();
    }
    return {
      system, cell, ...wasmnnAbout(), vocab: V, trainSteps: opts.trainSteps,
      trainSeconds: t.wall, trainCharsPerSec: chars / t.wall, trainCharsPerCpuSec: chars / t.cpu, valLoss,
      valBitsPerChar: valLoss / Math.LN2, genChars: opts.genChars, genCharsPerSec: opts.genChars / genWall,
      genCharsPerCpuSec: opts.genChars / genCpu, sample: PROMPT + data.vocabulary.decode(ids), rssLoadedMiB, rssPeakMiB, sweep,
    };
  }
  return tfjsChild(system, opts, cell);
}

/** TF.js on its wasm (one thread) or cpu backend: training speed only (see the file's head). */
async function tfjsChild(system, opts, cell) {
  const backend = system === "tfjs-wasm" ? "wasm" : "cpu";
  const { tf, about: lib } = await loadTfjs(backend);
  const nn = await import("wasmnn"); // only for the data preparation, the same ids as the other systems
  await nn.ready();
  const cpu = () => cpuSeconds(process.cpuUsage());
  const about = { system, cell, ...lib };
  const build = (steps) => {
    const data = charData(nn, steps, VAL_FRACTION);
    const V = data.vocabulary.size;
    const rnn = cell === "lstm"
      ? tf.layers.lstm({ units: UNITS, returnSequences: true, recurrentActivation: "sigmoid", unitForgetBias: true, recurrentInitializer: "glorotUniform" })
      : tf.layers.gru({ units: UNITS, returnSequences: true, recurrentActivation: "sigmoid", recurrentInitializer: "glorotUniform" });
    const model = tf.sequential({
      layers: [tf.layers.embedding({ inputDim: V, outputDim: EMBED, inputShape: [steps] }), rnn, tf.layers.dense({ units: V, activation: "softmax" })],
    });
    model.compile({ optimizer: tf.train.adam(LR, 0.9, 0.999, 1e-7), loss: "sparseCategoricalCrossentropy" });
    return { model, data };
  };
  const trainOn = async ({ model, data }, steps, count, seed) => {
    const pick = drawWindows(data.train.x.shape[0], count, seed, nn);
    const x = tf.tensor2d(rowsOf(data.train.x, pick, steps), [pick.length, steps]);
    const y = tf.tensor3d(rowsOf(data.train.y, pick, steps), [pick.length, steps, 1]);
    const t0 = performance.now(), c0 = cpu();
    await model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 });
    const r = { wall: (performance.now() - t0) / 1000, cpu: cpu() - c0 };
    tf.dispose([x, y]);
    return r;
  };
  const built = build(STEPS);
  try {
    await trainOn(built, STEPS, 1, SEED + 1); // warm-up step
  } catch (err) {
    return { ...about, trainError: String(err.message).split("\n")[0] };
  }
  const t = await trainOn(built, STEPS, opts.tfjsSteps, SEED);
  const chars = opts.tfjsSteps * BATCH * STEPS;
  const rssPeakMiB = maxRssMiB();
  const sweep = {};
  for (const steps of opts.tfjsSweep ? opts.sweep : []) {
    const b = steps === STEPS ? built : build(steps);
    await trainOn(b, steps, 1, SEED + 2);
    const s = await trainOn(b, steps, 1, SEED + 3);
    sweep[steps] = { trainCharsPerSec: (BATCH * steps) / s.wall, trainCharsPerCpuSec: (BATCH * steps) / s.cpu };
  }
  return { ...about, trainSteps: opts.tfjsSteps, trainSeconds: t.wall, trainCharsPerSec: chars / t.wall, trainCharsPerCpuSec: chars / t.cpu, rssPeakMiB, sweep };
}
