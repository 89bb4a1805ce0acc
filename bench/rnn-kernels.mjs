// The recurrent kernels alone at the character model's size (batch 32, 64 steps, 64 inputs from the embedding, 256
// units): milliseconds of CPU time per batch for the forward over all steps and the backward through time, LSTM and
// GRU (resetAfter, PyTorch's form), against PyTorch's nn.LSTM / nn.GRU on one thread in the same run (skipped when
// /usr/bin/python3, or BENCH_PYTHON, cannot import torch). Rounds alternate the two systems; medians are printed.
// CPU time rather than wall clock, so that other jobs on a shared machine disturb the ratio less.
//   node bench/rnn-kernels.mjs [--rounds N]     (after `npm run build:wasm`)
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { commandLine, int } from "./args.mjs";
import { PYTHON, cpuSeconds, median } from "./harness.mjs";

const B = 32, T = 64, IN = 64, U = 256, REPS = 10;
const { rounds } = commandLine("bench/rnn-kernels.mjs", {
  usage: "node bench/rnn-kernels.mjs [options]: CPU-ms per batch of the recurrent kernels against PyTorch (see the file's head)",
  options: { "--rounds": int("rounds", 3, "rounds, alternating the two systems; medians printed") },
});

// The parameter block (assembly/recurrent.ts's RNN_* fields) and the cell codes.
const CELLS = { lstm: { code: 1, gates: 4, flags: 0 }, gru: { code: 2, gates: 3, flags: 4 } };
const RETURN_SEQUENCES = 2, ACT_TANH = 6, ACT_SIGMOID = 5;

const { instance } = await WebAssembly.instantiate(readFileSync(new URL("../dist/wasmnn.wasm", import.meta.url)), {});
const k = instance.exports;
let top = (k.heap_base() + 15) & ~15;
function alloc(floats) {
  const p = top;
  top += (floats * 4 + 15) & ~15;
  const short = top - k.memory.buffer.byteLength;
  if (short > 0) k.memory.grow(Math.ceil(short / 65536));
  return p;
}
function fill(p, n, scale, seed) {
  const a = new Float32Array(k.memory.buffer, p, n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s >>> 8) / 8388608 - 1) * scale;
  }
}

const cpuMs = () => cpuSeconds(process.cpuUsage()) * 1e3;

/** ms of CPU time per batch (forward, backward), median over REPS after a warm-up. */
function timeWasmnn(cell) {
  const { code, gates, flags } = CELLS[cell];
  const gu = gates * U;
  const W = alloc(IN * gu), Ur = alloc(U * gu), b = alloc(2 * gu), dW = alloc(IN * gu), dU = alloc(U * gu), db = alloc(2 * gu);
  const x = alloc(B * T * IN), y = alloc(B * T * U), dy = alloc(B * T * U), dx = alloc(B * T * IN), p = alloc(20);
  fill(W, IN * gu, 0.1, 1); fill(Ur, U * gu, 0.06, 2); fill(b, 2 * gu, 0.1, 3); fill(x, B * T * IN, 1, 4); fill(dy, B * T * U, 0.01, 5);
  const block = new Int32Array(k.memory.buffer, p, 20);
  // the last four: no token ids (RNN_IDS, RNN_TABLE, RNN_VOCAB, RNN_DTABLE), the input is x
  block.set([B, T, IN, U, ACT_TANH, ACT_SIGMOID, 0, flags | RETURN_SEQUENCES, W, Ur, b, 0, dW, dU, db, 0, 0, 0, 0, 0]);
  new Float32Array(k.memory.buffer, p, 16)[6] = 1; // alpha
  const work = alloc(k.rnn_work_floats(code, p));
  const forward = k[`${cell}_forward`], backward = k[`${cell}_backward`];
  for (let i = 0; i < 10; i++) { forward(x, y, work, p); backward(dy, dx, work, p); } // past V8's tier-up
  const f = [], bw = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = cpuMs();
    forward(x, y, work, p);
    const t1 = cpuMs();
    backward(dy, dx, work, p);
    const t2 = cpuMs();
    f.push(t1 - t0);
    bw.push(t2 - t1);
  }
  return [median(f), median(bw)];
}

const TORCH = `
import json, sys, time, torch
torch.set_num_threads(1); torch.set_num_interop_threads(1)
B, T, IN, U, REPS = ${B}, ${T}, ${IN}, ${U}, ${REPS}
m = (torch.nn.LSTM if sys.argv[1] == "lstm" else torch.nn.GRU)(IN, U, batch_first=True)
x = torch.randn(B, T, IN, requires_grad=True)
dy = torch.randn(B, T, U) * 0.01
for _ in range(3):
    y, _ = m(x); y.backward(dy)
f, b = [], []
for _ in range(REPS):
    t0 = time.process_time(); y, _ = m(x); t1 = time.process_time(); y.backward(dy); t2 = time.process_time()
    f.append((t1 - t0) * 1e3); b.append((t2 - t1) * 1e3)
f.sort(); b.sort()
print(json.dumps([f[REPS // 2], b[REPS // 2]]))
`;

function timeTorch(cell) {
  const run = spawnSync(PYTHON, ["-c", TORCH, cell], { encoding: "utf8" });
  if (run.status !== 0) return null;
  return JSON.parse(run.stdout.trim().split("\n").pop());
}

for (const cell of Object.keys(CELLS)) {
  const ours = [], theirs = [];
  for (let r = 0; r < rounds; r++) {
    ours.push(timeWasmnn(cell));
    const t = timeTorch(cell);
    if (t) theirs.push(t);
  }
  const show = (name, runs) => {
    const f = median(runs.map((r) => r[0])), b = median(runs.map((r) => r[1]));
    console.log(`${cell} ${name.padEnd(7)} forward ${f.toFixed(1)} ms  backward ${b.toFixed(1)} ms  total ${(f + b).toFixed(1)} ms per batch of ${B}x${T}`);
    return f + b;
  };
  const a = show("wasmnn", ours);
  if (theirs.length) {
    const t = show("torch", theirs);
    console.log(`ratio=${(t / a).toFixed(2)} ${cell} forward+backward, wasmnn against PyTorch one thread (higher is faster)`);
  } else {
    console.log(`${cell} torch   skipped: ${PYTHON} cannot import torch`);
  }
}
