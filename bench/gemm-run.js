// Runs the gemm timing loop in whatever runtime loads this file (Deno, Bun) and prints one line of JSON:
//   node_modules/.bin/deno run --allow-read bench/gemm-run.js dist/wasmnn.wasm [--cpu-clock]
//   node_modules/.bin/bun bench/gemm-run.js dist/wasmnn.wasm [--cpu-clock]
// --cpu-clock times with the process's CPU time instead of the wall clock.
import { readFileSync } from "node:fs";
import process from "node:process";
import { runGemmBench } from "./gemm-core.js";

const args = process.argv.slice(2);
const wasmPath = args.find((a) => !a.startsWith("--")) ?? "dist/wasmnn.wasm";
const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const timing = args.includes("--cpu-clock") ? { now: cpuNow } : {};
const results = await runGemmBench(readFileSync(wasmPath), { timing });
console.log("GEMM_RESULTS " + JSON.stringify(results));
