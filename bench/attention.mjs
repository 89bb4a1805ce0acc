// `node bench/attention.mjs`: milliseconds per call of the attention kernels (assembly/attention.ts) on the built
// module, at the character GPT's size (batch 12, 64 steps, 4 heads, keyDim 32) and at longer contexts: the forward
// pass, the backward pass and one KV-cache step (a new position against a full cache). Times are the process's CPU
// time (user + system) per call, the median of several runs: steadier than the wall clock on a shared machine.
//
//   node bench/attention.mjs [--causal 0|1] [--steps 64,128,256,512] [--batch 12]
import { readFileSync } from "node:fs";
import { commandLine, int, ints, oneOf } from "./args.mjs";
import { fillRandom, makeTimer, median } from "./gemm-core.js";

const args = commandLine("bench/attention.mjs", {
  usage: "node bench/attention.mjs [options]: CPU-ms per call of the attention kernels (see the file's head)",
  options: {
    "--causal": oneOf("causal", "1", ["0", "1"], "1: the causal mask, 0: none"),
    "--steps": ints("steps", [64, 128, 256, 512], "the sequence lengths"),
    "--batch": int("batch", 12, "the batch"),
  },
});
const CAUSAL = Number(args.causal);
const STEPS = args.steps;
const B = args.batch;
const [H, DK, DV] = [4, 32, 32];
const RUNS = 5;

const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const { instance } = await WebAssembly.instantiate(readFileSync("dist/wasmnn.wasm"));
const k = instance.exports;
let top = k.heap_base();
/** n floats (16-byte aligned), random in [-1, 1). */
function floats(n, seed) {
  top = (top + 15) & ~15;
  const p = top;
  top += n * 4;
  const need = Math.ceil(top / 65536) - k.memory.buffer.byteLength / 65536;
  if (need > 0) k.memory.grow(need);
  fillRandom(new Float32Array(k.memory.buffer, p, n), seed);
  return p;
}
/** The attention block: assembly/attention.ts's ATT_* fields, in order. */
const ATT_FIELDS = ["B", "T", "H", "DK", "DV", "CAUSAL", "MASK", "DROP", "PROBS", "SCRATCH", "TMAX", "POS"];
const ATT_ROWS = 32; // assembly/attention.ts's ATT_ROWS: the scratch is [ATT_ROWS, T]
function block(T, probs, { scratch = 0, tmax = 0, pos = 0 } = {}) {
  const p = floats(ATT_FIELDS.length, 1);
  const values = { B, T, H, DK, DV, CAUSAL, MASK: 0, DROP: 0, PROBS: probs, SCRATCH: scratch, TMAX: tmax, POS: pos };
  new Int32Array(k.memory.buffer, p, ATT_FIELDS.length).set(ATT_FIELDS.map((name) => values[name]));
  return p;
}
function time(fn) {
  const run = makeTimer(fn, { now: cpuNow });
  return median(Array.from({ length: RUNS }, run));
}

console.log(`attention kernels, B=${B} H=${H} dk=${DK} dv=${DV} causal=${CAUSAL} (ms per call, CPU time)`);
for (const T of STEPS) {
  const nq = B * T * H * DK, nv = B * T * H * DV;
  const q = floats(nq, 2), kk = floats(nq, 3), v = floats(nv, 4), out = floats(nv, 5), probs = floats(B * H * T * T, 6);
  const dout = floats(nv, 7), dq = floats(nq, 8), dk = floats(nq, 9), dv = floats(nv, 10);
  const att = block(T, probs, { scratch: floats(ATT_ROWS * T, 16) });
  const fwd = time(() => k.attention_forward(q, kk, v, out, att));
  const bwd = time(() => k.attention_backward(q, kk, v, dout, dq, dk, dv, att));
  // one generated token at the last position of a full cache (kCache [B, H, dk, T], vCache [B, T, H, dv])
  const qs = floats(B * H * DK, 11), ks = floats(B * H * DK, 12), vs = floats(B * H * DV, 13), os = floats(B * H * DV, 14);
  const ps = floats(B * H * T, 15), kc = floats(nq, 17), vc = floats(nv, 18);
  const stepAtt = block(1, ps, { tmax: T, pos: T - 1 });
  const step = time(() => k.attention_step(qs, ks, vs, kc, vc, os, stepAtt));
  const fmt = (x) => x.toFixed(3).padStart(8);
  console.log(`T=${String(T).padEnd(4)} forward ${fmt(fwd)}  backward ${fmt(bwd)}  step ${fmt(step)}`);
}
