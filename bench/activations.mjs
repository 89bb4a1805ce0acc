// `node bench/activations.mjs`: milliseconds per call of the exact (erf) GELU on the character GPT's feed-forward
// layer (768 rows x 512 units: batch 12 x 64 positions), forward and backward, on the built module. Times are the
// process's CPU time (user + system) per call, the median of several runs. With several modules
// (`--wasm a.wasm,b.wasm`, e.g. a copy of an older build) the rounds interleave, so a shared machine's load falls on
// all of them alike.
//
//   act:   act_forward / act_backward alone (the activation layer's kernels)
//   dense: the dense layer's epilogue as training runs it (input copies included, the same for every module):
//          forward bias + GELU, backward the derivative and the bias gradient; a module with bias_gelu_slope_forward
//          keeps dy/dz from the forward pass and multiplies in the backward one (slope_bias_grad)
//
//   node bench/activations.mjs [--wasm dist/wasmnn.wasm,...] [--rows 768] [--cols 512] [--rounds 5] [--sigma 1]
import { readFileSync } from "node:fs";
import { makeTimer, median } from "./gemm-core.js";
import { commandLine, int, text } from "./args.mjs";

const args = commandLine("bench/activations.mjs", {
  usage: "node bench/activations.mjs [options]: CPU-ms per call of the exact GELU, forward and backward (see the file's head)",
  options: {
    "--wasm": text("wasm", "dist/wasmnn.wasm", "the modules to time, comma-separated (their rounds interleave)", "FILE,..."),
    "--rows": int("rows", 768, "rows (batch x positions)"),
    "--cols": int("cols", 512, "units"),
    "--rounds": int("rounds", 5, "runs of each kernel; the median is printed"),
    "--sigma": text("sigma", "1", "the standard deviation of the pre-activations", "X"),
  },
  check: (o) => {
    if (!(Number(o.sigma) > 0)) throw new Error(`--sigma takes a positive number, got "${o.sigma}"`);
  },
});
const WASMS = args.wasm.split(",");
const [ROWS, COLS, ROUNDS, SIGMA] = [args.rows, args.cols, args.rounds, Number(args.sigma)];
const N = ROWS * COLS;
const ACT_GELU = 8; // assembly/activations.ts

const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** n normal values (mean 0, standard deviation sigma) from a seeded generator: Box-Muller on an LCG. */
function normals(n, sigma, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u())), a = 2 * Math.PI * u();
    out[i] = sigma * r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = sigma * r * Math.sin(a);
  }
  return out;
}

const zSource = normals(N, SIGMA, 1), dySource = normals(N, 1, 2), biasSource = normals(COLS, 0.1, 3);

async function load(path) {
  const { instance } = await WebAssembly.instantiate(readFileSync(path));
  const k = instance.exports;
  let top = k.heap_base();
  const floats = (values) => {
    top = (top + 15) & ~15;
    const p = top;
    top += values.length * 4;
    const need = Math.ceil(top / 65536) - k.memory.buffer.byteLength / 65536;
    if (need > 0) k.memory.grow(need);
    new Float32Array(k.memory.buffer, p, values.length).set(values);
    return p;
  };
  const src = floats(zSource), dysrc = floats(dySource), bias = floats(biasSource);
  const z = floats(new Float32Array(N)), y = floats(new Float32Array(N)), dy = floats(new Float32Array(N));
  const db = floats(new Float32Array(COLS));
  const slope = typeof k.bias_gelu_slope_forward === "function";
  const cases = {
    "act forward": () => k.act_forward(src, y, N, ACT_GELU, 0),
    "act backward": () => k.act_backward(src, 0, dysrc, dy, N, ACT_GELU, 0),
    "dense forward": slope
      ? () => { k.vec_copy(src, z, N); k.bias_gelu_slope_forward(z, bias, y, ROWS, COLS); }
      : () => { k.vec_copy(src, z, N); k.bias_act_forward(z, bias, y, ROWS, COLS, ACT_GELU, 0); },
    "dense backward": slope
      ? () => { k.vec_copy(dysrc, dy, N); k.slope_bias_grad(z, dy, db, ROWS, COLS, 0); }
      : () => { k.vec_copy(dysrc, dy, N); k.act_backward(z, 0, dy, dy, N, ACT_GELU, 0); k.bias_grad(dy, db, ROWS, COLS, 0); },
    "copies alone": () => { k.vec_copy(src, z, N); k.vec_copy(dysrc, dy, N); },
  };
  // the dense cases must see z as the forward left it: run the forward once before any backward
  cases["dense forward"]();
  return { path, cases, slope, timers: {} };
}

const modules = [];
for (const path of WASMS) modules.push(await load(path));
const names = Object.keys(modules[0].cases);
const times = modules.map(() => Object.fromEntries(names.map((n) => [n, []])));
for (let round = 0; round < ROUNDS; round++) {
  for (const name of names) {
    modules.forEach((m, i) => {
      m.timers[name] ??= makeTimer(m.cases[name], { now: cpuNow, warmupMs: 200, runMs: 150 });
      if (name === "dense backward") m.cases["dense forward"]();
      times[i][name].push(m.timers[name]());
    });
  }
}
console.log(`exact GELU, ${ROWS} x ${COLS} values, z ~ N(0, ${SIGMA}^2); ms per call, CPU time, median of ${ROUNDS}`);
console.log(["case".padEnd(16), ...modules.map((m) => `${m.path}${m.slope ? " (slope kept)" : ""}`.padStart(34))].join(" "));
for (const name of names) {
  console.log([name.padEnd(16), ...times.map((t) => median(t[name]).toFixed(3).padStart(34))].join(" "));
}
