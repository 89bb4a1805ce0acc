// `npm run bench:gemm`: GFLOPS of wasmnn's gemm kernels against TF.js's wasm backend (one thread) in Node, one
// line per product ending in ratio=<wasmnn/tfjs>; then wasmnn's GFLOPS for the same products in Deno, Bun and
// headless Chromium (the same timing loop, bench/gemm-core.js, in each runtime).
//
//   node bench/gemm.mjs [node] [deno] [bun] [chromium] [--markdown] [--cpu-clock]
// With no runtime named, all four run. --markdown also prints the tables for bench/README.md. --cpu-clock times
// with the process's CPU time instead of the wall clock in Node, Deno and Bun (steadier on a shared machine;
// Chromium always uses the wall clock).
//
//   node bench/gemm.mjs --gpt [--baseline OTHER.wasm] [--cpu-clock]
// The character GPT's products instead (GPT_SHAPES in bench/gemm-core.js), wasmnn alone in Node, with the milliseconds
// they add up to in one training step; --baseline times another build of the module (say, a copy of an earlier
// dist/wasmnn.wasm) in alternation with this one, so both see the same load, and says whether their bits agree.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findChromium } from "../scripts/chromium.mjs";
import { GEMM_SHAPES, GPT_SHAPES, RUNS, fillRandom, loadGemm, makeTimer, median, storedShapes } from "./gemm-core.js";
import { serve } from "../scripts/serve.mjs";
import { commandLine, flag, text, words } from "./args.mjs";

const WASM_PATH = "dist/wasmnn.wasm";
const RUNTIMES = ["node", "deno", "bun", "chromium"];
const { runtimes, markdown, cpuClock, gpt, baselinePath } = commandLine("bench/gemm.mjs", {
  usage: "node bench/gemm.mjs [runtime]... [options]: GFLOPS of wasmnn's gemm kernels (and TF.js wasm's in Node)",
  options: {
    "": words("runtimes", RUNTIMES, "the runtimes to run (all four when none is named)"),
    "--markdown": flag("markdown", "also print the tables for bench/README.md"),
    "--cpu-clock": flag("cpuClock", "time by the process's CPU time instead of the wall clock (Node, Deno, Bun)"),
    "--gpt": flag("gpt", "the character GPT's products instead of the squares, with the milliseconds they add up to per training step"),
    "--baseline": text("baselinePath", null, "another build's wasmnn.wasm, timed in alternation (and whether its bits match)", "FILE"),
  },
});
/** Milliseconds of this process's CPU time (user + system). */
const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const timing = cpuClock ? { now: cpuNow } : {};
const want = (name) => runtimes.length === 0 || runtimes.includes(name);

async function main() {
  const wasmBytes = readFileSync(WASM_PATH);
  if (gpt) return benchGpt(wasmBytes, baselinePath && readFileSync(baselinePath));
  const figures = {}; // runtime -> [gflops per shape]
  let nodeRows = null;
  if (want("node")) {
    nodeRows = await benchNode(wasmBytes);
    figures.node = nodeRows.map((r) => r.wasmnn);
  }
  const others = [["deno", benchDeno], ["bun", benchBun], ["chromium", benchChromium]].filter(([name]) => want(name));
  if (others.length) console.log("\nwasmnn in other runtimes (GFLOPS, median of " + RUNS + " runs):");
  for (const [name, bench] of others) {
    try {
      const results = await bench();
      figures[name] = GEMM_SHAPES.map((s) => results.find((r) => r.name === s.name).gflops);
      const bad = results.filter((r) => !(r.maxRelErr <= 1e-5));
      if (bad.length) throw new Error(`wrong results for ${bad.map((r) => r.name).join(", ")}`);
      for (const [i, shape] of GEMM_SHAPES.entries()) {
        console.log(`${name.padEnd(9)} ${shape.name.padEnd(24)} wasmnn ${fmt(figures[name][i])} GFLOPS`);
      }
    } catch (err) {
      console.log(`${name.padEnd(9)} skipped: ${err.message}`);
    }
  }
  if (markdown) printMarkdown(nodeRows, figures);
}

/** wasmnn and TF.js (wasm backend) timed in alternation, so both see the same background load. */
async function benchNode(wasmBytes) {
  const tf = await loadTfjs();
  const { prepare } = await loadGemm(wasmBytes);
  console.log(`Node ${process.versions.node}, TF.js ${tf.version.tfjs} backend=${tf.getBackend()} ` +
    `(one thread, SIMD), median of ${RUNS} runs, ${cpuClock ? "CPU time" : "wall clock"}`);
  const rows = [];
  for (const shape of GEMM_SHAPES) {
    const ours = prepare(shape);
    const stored = storedShapes(shape);
    const a = tf.tensor2d(fillRandom(new Float32Array(shape.m * shape.k), 1234), stored.a);
    const b = tf.tensor2d(fillRandom(new Float32Array(shape.k * shape.n), 5678), stored.b);
    const transposeA = shape.kernel === "gemm_tn", transposeB = shape.kernel === "gemm_nt";
    const theirs = () => tf.matMul(a, b, transposeA, transposeB).dispose();

    ours.run();
    const expected = tf.matMul(a, b, transposeA, transposeB);
    checkAgreement(shape, ours.result(), expected.dataSync());
    expected.dispose();

    const timeOurs = makeTimer(ours.run, timing), timeTheirs = makeTimer(theirs, timing);
    const msOurs = [], msTheirs = [];
    for (let r = 0; r < RUNS; r++) {
      msOurs.push(timeOurs());
      msTheirs.push(timeTheirs());
    }
    const row = { shape, wasmnn: ours.flops / (median(msOurs) * 1e6), tfjs: ours.flops / (median(msTheirs) * 1e6) };
    rows.push(row);
    a.dispose();
    b.dispose();
    const ratio = (row.wasmnn / row.tfjs).toFixed(2);
    console.log(`${shape.name.padEnd(24)} wasmnn ${fmt(row.wasmnn)} GFLOPS  tfjs-wasm ${fmt(row.tfjs)} GFLOPS  ratio=${ratio}`);
  }
  return rows;
}

/** The GPT's products in Node, this build (and the baseline build in alternation with it). */
async function benchGpt(wasmBytes, baselineBytes) {
  const builds = [["wasmnn", wasmBytes], ...(baselineBytes ? [["baseline", baselineBytes]] : [])];
  const loaded = await Promise.all(builds.map(([, bytes]) => loadGemm(bytes)));
  console.log(`Node ${process.versions.node}, the character GPT's products, median of ${RUNS} runs, ` +
    `${cpuClock ? "CPU time" : "wall clock"}${baselineBytes ? `, baseline ${baselinePath}` : ""}`);
  const stepMs = builds.map(() => 0);
  for (const shape of GPT_SHAPES) {
    const products = loaded.map(({ prepare }) => prepare(shape));
    const errors = products.map((p) => p.check());
    if (errors.some((e) => !(e <= 1e-5))) throw new Error(`${shape.name}: wrong results (${errors.join(", ")})`);
    const same = products.length > 1 && products[0].result().every((x, i) => Object.is(x, products[1].result()[i]));
    const timers = products.map((p) => makeTimer(p.run, timing));
    const ms = products.map(() => []);
    for (let r = 0; r < RUNS; r++) timers.forEach((time, b) => ms[b].push(time()));
    const cells = products.map((p, b) => {
      const t = median(ms[b]);
      stepMs[b] += shape.count * t;
      return `${builds[b][0]} ${fmt(p.flops / (t * 1e6))} GFLOPS ${t.toFixed(3)} ms`;
    });
    const tail = products.length > 1 ? `  ratio=${(median(ms[1]) / median(ms[0])).toFixed(2)}${same ? "  same bits" : "  other bits"}` : "";
    console.log(`${shape.kernel} ${shape.name.padEnd(26)} x${String(shape.count).padEnd(3)} ${cells.join("  ")}${tail}`);
  }
  console.log(`one training step's products: ${builds.map(([name], b) => `${name} ${stepMs[b].toFixed(1)} ms`).join(", ")}`);
}

async function loadTfjs() {
  // tfjs-core greets Node users with a hint about tfjs-node on import; keep the benchmark's output to figures.
  const warn = console.warn;
  console.warn = () => {};
  const tf = await import("@tensorflow/tfjs");
  const wasmBackend = await import("@tensorflow/tfjs-backend-wasm");
  console.warn = warn;
  // One thread: Node never gets the threaded build (WASM_HAS_MULTITHREAD_SUPPORT is false there); say so anyway.
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  wasmBackend.setThreadsCount(1);
  if (!(await tf.setBackend("wasm"))) throw new Error("TF.js wasm backend failed to initialise");
  await tf.ready();
  return tf;
}

/** The two libraries must compute the same product (f32 sums: relative to the largest magnitude). */
function checkAgreement(shape, ours, theirs) {
  let diff = 0, scale = 0;
  for (let i = 0; i < ours.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
    scale = Math.max(scale, Math.abs(theirs[i]));
  }
  if (!(diff <= 1e-5 * scale)) throw new Error(`${shape.name}: wasmnn and TF.js differ by ${diff} (scale ${scale})`);
}

function benchDeno() {
  const denoArgs = ["run", "--no-prompt", "--allow-read", "bench/gemm-run.js", WASM_PATH, ...clockArg()];
  return runChild("node_modules/.bin/deno", denoArgs);
}

function benchBun() {
  return runChild("node_modules/.bin/bun", ["bench/gemm-run.js", WASM_PATH, ...clockArg()]);
}

function clockArg() {
  return cpuClock ? ["--cpu-clock"] : [];
}

function runChild(command, childArgs) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: "1" };
    const child = spawn(command, childArgs, { stdio: ["ignore", "pipe", "pipe"], env });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("GEMM_RESULTS "));
      if (code !== 0 || !line) reject(new Error(`exit ${code}: ${(err || out).trim().slice(0, 500)}`));
      else resolve(JSON.parse(line.slice("GEMM_RESULTS ".length)));
    });
  });
}

async function benchChromium() {
  const { chromium } = await import("playwright-core");
  const server = await serve(".", 0);
  const profile = mkdtempSync(join(tmpdir(), "wasmnn-gemm-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: await findChromium(), // CHROME_PATH, PATH or the usual places
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const page = await context.newPage();
    await page.goto(`${server.url}/bench/gemm-page.html`);
    const userAgent = await page.evaluate(() => navigator.userAgent);
    console.log(`chromium: ${/Chrome\/[\d.]+/.exec(userAgent)?.[0] ?? userAgent}`);
    return await page.evaluate(async (wasmUrl) => {
      const { runGemmBench } = await import(new URL("/bench/gemm-core.js", location.href).href);
      const bytes = await (await fetch(wasmUrl)).arrayBuffer();
      return runGemmBench(bytes);
    }, `/${WASM_PATH}`);
  } finally {
    await context?.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

function printMarkdown(nodeRows, figures) {
  console.log("\n| product | kernel | wasmnn GFLOPS | TF.js wasm GFLOPS | ratio |\n|---|---|---:|---:|---:|");
  for (const row of nodeRows ?? []) {
    const ratio = (row.wasmnn / row.tfjs).toFixed(2);
    console.log(`| ${row.shape.name} | ${row.shape.kernel} | ${fmt(row.wasmnn)} | ${fmt(row.tfjs)} | ${ratio} |`);
  }
  const runtimes = Object.keys(figures);
  console.log(`\n| product | ${runtimes.join(" | ")} |\n|---|${runtimes.map(() => "---:").join("|")}|`);
  for (const [i, shape] of GEMM_SHAPES.entries()) {
    console.log(`| ${shape.name} | ${runtimes.map((r) => fmt(figures[r][i])).join(" | ")} |`);
  }
}

function fmt(gflops) {
  return gflops.toFixed(1).padStart(5);
}

await main();
