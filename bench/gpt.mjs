// `npm run bench:gpt`: the character GPT of issue 14 (nanoGPT's CPU configuration: token and position embedding,
// 4 pre-LN decoder blocks of 4 heads and 128 features with a 512 GELU feed-forward, a final layer norm, a dense
// softmax over the vocabulary; context 64, batch 12, dropout 0, AdamW lr 1e-3 with 100 warm-up steps and a cosine
// decay to 1e-4, weight decay 0.1, betas 0.9 / 0.99, clipnorm 1) on Moby Dick, in wasmnn and in PyTorch
// (bench/gpt_torch.py, the same model written plainly, one thread), in one run. Each system and each context of the
// scaling runs in its own child process (its own peak RSS).
//
//   node bench/gpt.mjs [--iters N] [--warmup-iters N] [--gen-chars N] [--contexts 64,128,256,512]
//                      [--scaling-iters N] [--no-scaling] [--pairs N] [--pair-iters N] [--only wasmnn,torch]
//                      [--quick] [--markdown]
//
// --quick: 200 iterations, 60 generated characters, 3 scaling steps per context (minutes, not a quarter hour).
// --pairs N (default 6): after the main run, N short rounds of both systems (--pair-iters steps, who goes first
// alternating), each round's ratios and their median: the main run's two sides run minutes apart, and on a shared
// machine the figures move by up to a third between minutes, the ratio of a round's two sides far less.
// Figures: training tokens/s (batch x context per step; wall clock and CPU time) over steps --warmup-iters ..
// --iters of the run; the validation loss (mean cross-entropy over every target of the windows of the last tenth of
// the text, nats) after --iters steps, which should be within 3% of PyTorch's (each side its own seeded start and
// batch order, so this compares how well the two train, not bits); generation tokens/s from the prompt "Call me ":
// the 56 tokens that fit the 64-token window (wasmnn: one position per token through its KV cache; PyTorch:
// nanoGPT's generate, the window re-run at every token), and --gen-chars tokens, most of them past the window, where
// both sides crop it to the last 64 tokens and re-run it (learned absolute positions shift, so no cache survives the
// crop), and wasmnn's opt-in slide: 'half' over the same tokens (a full window restarts from its last half once,
// then steps through the KV cache: other contexts than nanoGPT's, so a side line, not a ratio row); peak RSS; and
// training tokens/s and peak RSS at contexts 64, 128, 256 and 512 (batch 12).
// Where wasmnn's training time goes: `node bench/gpt.mjs --child wasmnn --profile` times each layer's forward and
// backward and the optimiser step over a few batches.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { charData, cpuSeconds, fmt, machine, maxRssMiB, median, mobyDickFile, printMarkdownTable, ratioCells, ratioOf, runPython, spawnNode } from "./harness.mjs";
import { commandLine, flag, int, ints, oneOf, preset, systemOptions, unflag } from "./args.mjs";

const SYSTEMS = ["wasmnn", "torch"];
const PEERS = ["torch"];
const BLOCKS = 4, HEADS = 4, FEATURES = 128, CONTEXT = 64, BATCH = 12;
const LR = 1e-3, MIN_LR = 1e-4, WARMUP = 100, WEIGHT_DECAY = 0.1, BETA2 = 0.99, EPSILON = 1e-8, CLIPNORM = 1;
const VAL_FRACTION = 0.1, TEMPERATURE = 0.8, PROMPT = "Call me ", SEED = 1, GEN_REPEATS = 20, GEN_WARMUPS = 5, TORCH_GEN_REPEATS = 5;
// wasmnn's KV-cache generation takes milliseconds a call: its timed calls run for at least GEN_MIN_CPU CPU-seconds,
// after at least GEN_WARMUP_CPU of warm-up
const GEN_MIN_CPU = 1, GEN_WARMUP_CPU = 0.5;

const args = commandLine("bench/gpt.mjs", {
  usage: "node bench/gpt.mjs [options]: the character GPT of issue 14 in wasmnn and PyTorch (see the file's head)",
  options: {
    "--iters": int("iters", 2000, "training steps of the main run"),
    "--warmup-iters": int("warmupIters", 20, "steps before the timed ones"),
    "--gen-chars": int("genChars", 300, "tokens generated past the window"),
    "--contexts": ints("contexts", [64, 128, 256, 512], "contexts of the scaling runs", 2),
    "--scaling-iters": int("scalingIters", 10, "timed steps per context of the scaling runs"),
    "--no-scaling": unflag("scaling", "skip the scaling runs"),
    "--pairs": int("pairs", 6, "short paired rounds after the main run (both systems, alternating who goes first): the median of their ratios", 0),
    "--pair-iters": int("pairIters", 80, "training steps of a paired round (the first 20 untimed)", 21),
    "--quick": preset({ iters: 200, genChars: 60, scalingIters: 3, pairs: 2 }, "200 iterations, 60 generated tokens, 3 scaling steps per context, 2 paired rounds"),
    ...systemOptions(SYSTEMS, { children: ["wasmnn"] }),
    "--mode": oneOf("mode", "main", ["main", "scaling"], "(a child's) the main run, or one context of the scaling"),
    "--context": int("context", CONTEXT, "(a child's, --mode scaling) the context", 2),
    "--profile": flag("profile", "with --child wasmnn: where a training step's time goes, by kernel, on stderr"),
  },
  check(o) {
    if (o.warmupIters >= o.iters) throw new Error("--warmup-iters must be below --iters");
  },
});
if (args.child) {
  const result = await runChild(args);
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
} else {
  main();
}

// ---------------------------------------------------------------------------------------------------------------
// The parent.

function main() {
  console.log(`${machine()}; character GPT on Moby Dick: ${BLOCKS} pre-LN blocks, ${HEADS} heads, ${FEATURES} features, ` +
    `context ${CONTEXT}, batch ${BATCH}, AdamW ${LR} (warm-up ${WARMUP}, cosine to ${MIN_LR}, wd ${WEIGHT_DECAY}), clipnorm ${CLIPNORM}; ` +
    `${args.iters} iterations (the first ${args.warmupIters} untimed), ${args.genChars} generated characters` +
    (args.scaling ? `; contexts ${args.contexts.join(", ")} (${args.scalingIters} steps each)` : ""));
  const results = {};
  const main = { iters: args.iters, warmupIters: args.warmupIters, scaling: args.scaling };
  for (const system of SYSTEMS.filter((s) => args.only.includes(s))) {
    const t0 = performance.now();
    results[system] = runSystem(system, main);
    const r = results[system];
    console.log(`${system.padEnd(7)} ${r.error ? `skipped: ${r.error}` : "done"} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  console.log("\nratio = how many times faster wasmnn is than the peer (for RSS: wasmnn's figure / the peer's; for the validation loss: the peer's / wasmnn's)");
  const rows = rowsOf(results);
  for (const row of rows) {
    const cells = SYSTEMS.filter((s) => row.values[s] != null).map((s) => `${s} ${fmt(row.values[s], row.digits)}`);
    console.log(`${row.name.padEnd(52)} ${cells.join("  ")}${ratioCells(row, PEERS)}`);
  }
  const w = results.wasmnn;
  if (w && !w.error) {
    console.log(`wasmnn without its KV cache (cache: false, the window re-run at every token, the same ids): ` +
      `${fmt(w.genWindowNoCacheTokensPerSec)} tokens/s, ${fmt(w.genWindowNoCacheTokensPerCpuSec)} per CPU-s in the window`);
    const t = results.torch && !results.torch.error ? results.torch.genTokensPerCpuSec : null;
    console.log(`wasmnn with slide: 'half' past the window (the window restarts from its last half once full, then the KV cache; ` +
      `not nanoGPT's contexts): ${fmt(w.genSlideHalfTokensPerSec)} tokens/s, ${fmt(w.genSlideHalfTokensPerCpuSec)} per CPU-s for ${args.genChars} tokens` +
      (t ? ` (${(w.genSlideHalfTokensPerCpuSec / t).toFixed(2)}x PyTorch's cropped re-run by CPU time)` : ""));
  }
  const pairs = args.pairs && SYSTEMS.every((s) => args.only.includes(s) && !results[s].error) ? pairedRounds() : null;
  summary(rows, results, pairs);
  if (args.markdown) {
    const cols = SYSTEMS.filter((s) => rows.some((r) => r.values[s] != null));
    printMarkdownTable(rows, cols, cols.includes("torch") ? [["wasmnn", "torch"]] : [], (row, s) => fmt(row.values[s], row.digits));
  }
}

/** One system's run with `run`'s iterations (its scaling children too when run.scaling). */
function runSystem(system, run) {
  const common = ["--iters", String(run.iters), "--warmup-iters", String(run.warmupIters), "--gen-chars", String(args.genChars)];
  if (system === "torch") {
    return runPython("./gpt_torch.py", "torch", [mobyDickFile(), ...common, "--gen-repeats", String(TORCH_GEN_REPEATS),
      "--prompt", PROMPT, "--temperature", String(TEMPERATURE), "--seed", String(SEED),
      ...(run.scaling ? ["--scaling", "--contexts", args.contexts.join(","), "--scaling-iters", String(args.scalingIters)] : [])]);
  }
  const self = fileURLToPath(import.meta.url);
  const r = spawnNode(self, "wasmnn", common);
  if (run.scaling && !r.error) {
    r.scaling = {};
    for (const c of args.contexts) r.scaling[c] = spawnNode(self, "wasmnn", [...common, "--scaling-iters", String(args.scalingIters), "--mode", "scaling", "--context", String(c)]);
  }
  return r;
}

/** Short rounds of both systems, who goes first alternating: the two sides of a round run seconds apart, where the
 *  main run's are minutes apart, and a shared machine's load (other VMs on the host included, which no load average
 *  shows) moves each side's figures by up to a third between minutes. Each round's ratio, and their median. */
function pairedRounds() {
  const figures = { train: (r) => r.trainTokensPerCpuSec, genWindow: (r) => r.genWindowTokensPerCpuSec, gen: (r) => r.genTokensPerCpuSec };
  const run = { iters: args.pairIters, warmupIters: 20, scaling: false };
  const ratios = Object.fromEntries(Object.keys(figures).map((k) => [k, []]));
  console.log(`\nPaired rounds (${args.pairs}, ${args.pairIters} iterations each; by CPU time, wasmnn / PyTorch):`);
  for (let round = 0; round < args.pairs; round++) {
    const order = round % 2 ? ["torch", "wasmnn"] : ["wasmnn", "torch"];
    const r = Object.fromEntries(order.map((s) => [s, runSystem(s, run)]));
    const bad = order.find((s) => r[s].error);
    if (bad) {
      console.log(`  round ${round + 1}: ${bad} failed: ${r[bad].error}`);
      continue;
    }
    const cells = Object.entries(figures).map(([k, f]) => {
      ratios[k].push(f(r.wasmnn) / f(r.torch));
      return `${k} ${fmt(f(r.wasmnn))} / ${fmt(f(r.torch))} = ${(f(r.wasmnn) / f(r.torch)).toFixed(2)}x`;
    });
    console.log(`  round ${round + 1} (${order[0]} first): ${cells.join(", ")}`);
  }
  const out = Object.fromEntries(Object.entries(ratios).filter(([, v]) => v.length).map(([k, v]) => [k, { median: median(v), min: Math.min(...v), max: Math.max(...v) }]));
  for (const [k, v] of Object.entries(out)) console.log(`  ${k}: median ${v.median.toFixed(2)}x (${v.min.toFixed(2)}-${v.max.toFixed(2)}x)`);
  return out;
}

/** The rows: a name, each system's figure, and whether higher is better. */
function rowsOf(results) {
  const pick = (f) => Object.fromEntries(SYSTEMS.map((s) => [s, results[s]]).filter(([, r]) => r && !r.error && f(r) != null).map(([s, r]) => [s, f(r)]));
  const inWindow = CONTEXT - PROMPT.length;
  const rows = [
    { key: "train", name: "train, tokens/s", higher: true, values: pick((r) => r.trainTokensPerSec) },
    { key: "trainCpu", name: "train, tokens/CPU-s", higher: true, values: pick((r) => r.trainTokensPerCpuSec) },
    { key: "val", name: `validation loss after ${args.iters} iterations, nats`, higher: false, values: pick((r) => r.valLoss), digits: 4 },
    { key: "genWindow", name: `generate ${inWindow} tokens in the window, tokens/s`, higher: true, values: pick((r) => r.genWindowTokensPerSec) },
    { key: "genWindowCpu", name: `generate ${inWindow} tokens in the window, /CPU-s`, higher: true, values: pick((r) => r.genWindowTokensPerCpuSec) },
    { key: "gen", name: `generate ${args.genChars} tokens (window cropped), tokens/s`, higher: true, values: pick((r) => r.genTokensPerSec) },
    { key: "genCpu", name: `generate ${args.genChars} tokens (window cropped), /CPU-s`, higher: true, values: pick((r) => r.genTokensPerCpuSec) },
    { key: "rss", name: "peak RSS, MiB", higher: false, rss: true, values: pick((r) => r.rssPeakMiB) },
  ];
  if (args.scaling) {
    for (const c of args.contexts) {
      const at = (r) => (r.scaling?.[c] && !r.scaling[c].error ? r.scaling[c] : null);
      rows.push({ key: `ctx${c}Cpu`, name: `context ${c}: train, tokens/CPU-s`, higher: true, values: pick((r) => at(r)?.trainTokensPerCpuSec) });
      rows.push({ key: `ctx${c}Rss`, name: `context ${c}: peak RSS, MiB`, higher: false, rss: true, values: pick((r) => at(r)?.rssPeakMiB) });
    }
  }
  return rows;
}

function summary(rows, results, pairs) {
  const by = Object.fromEntries(rows.map((r) => [r.key, r]));
  const verdict = (ok) => (ok ? "MET" : "NOT MET");
  // both clocks, as bench/rnn.mjs judges: on a shared machine the wall clock also counts other processes' time
  const both = (wall, cpu, ok) => (ok(wall) && (cpu == null || ok(cpu)) ? "MET" : ok(wall) || (cpu != null && ok(cpu)) ? "MET BY ONE CLOCK ONLY" : "NOT MET");
  const lines = [];
  const tt = ratioOf(by.train, "torch"), ttc = ratioOf(by.trainCpu, "torch");
  if (tt != null) lines.push(`training >= 0.6x PyTorch: ${tt.toFixed(2)}x (${ttc?.toFixed(2)}x by CPU time) ${both(tt, ttc, (r) => r >= 0.6)}`);
  if (pairs?.train) lines.push(`  the paired rounds' median by CPU time: ${pairs.train.median.toFixed(2)}x ${verdict(pairs.train.median >= 0.6)}`);
  const vw = by.val.values.wasmnn, vt = by.val.values.torch;
  if (vw != null && vt != null) lines.push(`validation loss within 3% of PyTorch's: ${vw.toFixed(4)} vs ${vt.toFixed(4)} (${(100 * (vw / vt - 1)).toFixed(2)}%) ${verdict(Math.abs(vw / vt - 1) <= 0.03)}`);
  const gt = ratioOf(by.genWindow, "torch"), gtc = ratioOf(by.genWindowCpu, "torch");
  if (gt != null) lines.push(`generation in the window (KV cache against re-running it) >= 10x PyTorch: ${gt.toFixed(2)}x (${gtc?.toFixed(2)}x by CPU time) ${both(gt, gtc, (r) => r >= 10)}`);
  if (pairs?.genWindow) lines.push(`  the paired rounds' median by CPU time: ${pairs.genWindow.median.toFixed(2)}x ${verdict(pairs.genWindow.median >= 10)}`);
  const gp = ratioOf(by.gen, "torch"), gpc = ratioOf(by.genCpu, "torch");
  if (gp != null) lines.push(`generation of ${args.genChars} tokens, both re-running the cropped window past it: ${gp.toFixed(2)}x (${gpc?.toFixed(2)}x by CPU time)`);
  console.log("\nTargets of issue 14:");
  for (const l of lines) console.log(`  ${l}`);
  for (const s of SYSTEMS) if (results[s]?.sample) console.log(`  ${s}'s sample: ${JSON.stringify(results[s].sample.slice(0, 160))}`);
}

// ---------------------------------------------------------------------------------------------------------------
// A child: wasmnn's run, or one context of its scaling (--mode scaling); prints one JSON line.

/** Rows `pick` of an [n, steps] int array, as a float tensor of ids. */
function tensorOf(nn, array, pick, steps) {
  const out = new Float32Array(pick.length * steps);
  for (let i = 0; i < pick.length; i++) out.set(array.data.subarray(pick[i] * steps, (pick[i] + 1) * steps), i * steps);
  return nn.tensor(out, [pick.length, steps]);
}

/** `count` batches of window indices: seeded shuffles, a new one after each pass, the last partial batch left out
 *  (gpt_torch.py's batches, with wasmnn's generator). */
function drawWindows(nn, n, count, seed) {
  const out = new Int32Array(count * BATCH);
  const perPass = Math.floor(n / BATCH) * BATCH;
  for (let at = 0, pass = 0; at < out.length; pass++) {
    const order = nn.permutation(n, seed + 1000 * pass);
    const take = Math.min(perPass, out.length - at);
    out.set(order.subarray(0, take), at);
    at += take;
  }
  return out;
}

function buildGpt(nn, vocabularySize, context, iters, seed) {
  const model = nn.sequential({
    seed,
    layers: [
      nn.layers.tokenAndPositionEmbedding({ vocabularySize, sequenceLength: context, embeddingDim: FEATURES, inputShape: [context] }),
      ...Array.from({ length: BLOCKS }, () => nn.layers.transformerDecoder({ intermediateDim: 4 * FEATURES, numHeads: HEADS, activation: "gelu", normalizeFirst: true, layerNormEpsilon: 1e-5 })),
      nn.layers.layerNormalization({ epsilon: 1e-5 }),
      nn.layers.dense({ units: vocabularySize, activation: "softmax" }),
    ],
  });
  const decay = nn.schedules.cosineDecay({ initialLearningRate: LR, decaySteps: Math.max(1, iters - WARMUP), alpha: MIN_LR / LR });
  const rate = nn.schedules.warmup(decay, WARMUP);
  model.compile({ optimizer: nn.train.adamw(rate, WEIGHT_DECAY, 0.9, BETA2, EPSILON, { clipnorm: CLIPNORM }), loss: "sparseCategoricalCrossentropy" });
  return model;
}

/** `count` steps on the seeded draw; the wall and CPU seconds of steps `timedFrom`.. and the last loss. */
async function trainSteps(nn, model, windows, steps, count, seed, timedFrom) {
  const pick = drawWindows(nn, windows.x.shape[0], count, seed);
  const x = tensorOf(nn, windows.x, pick, steps), y = tensorOf(nn, windows.y, pick, steps);
  let t0 = 0, c0 = 0, loss = NaN;
  const cpu = () => cpuSeconds(process.cpuUsage());
  const clock = {
    onBatchBegin(step) {
      if (step === timedFrom) [t0, c0] = [performance.now(), cpu()];
    },
    onBatchEnd(_step, logs) {
      loss = logs.loss;
    },
  };
  await model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0, callbacks: clock });
  return { wall: (performance.now() - t0) / 1000, cpu: cpu() - c0, loss };
}

async function runChild(opts) {
  const nn = await import("wasmnn");
  await nn.ready();
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  const about = { system: "wasmnn", version, backend: "wasm simd128", threads: 1 };
  if (opts.profile) return profile(nn, opts);
  if (opts.mode === "scaling") {
    const c = opts.context;
    const data = charData(nn, c, VAL_FRACTION);
    const model = buildGpt(nn, data.vocabulary.size, c, 3 + opts.scalingIters, SEED + 2);
    const t = await trainSteps(nn, model, data.train, c, 3 + opts.scalingIters, SEED + 2, 3);
    const n = opts.scalingIters * BATCH * c;
    const result = { ...about, context: c, trainTokensPerSec: n / t.wall, trainTokensPerCpuSec: n / t.cpu, rssPeakMiB: maxRssMiB() };
    model.dispose();
    return result;
  }
  const data = charData(nn, CONTEXT, VAL_FRACTION);
  const V = data.vocabulary.size;
  const rssLoadedMiB = maxRssMiB();
  const model = buildGpt(nn, V, CONTEXT, opts.iters, SEED);
  const r0 = performance.now();
  const t = await trainSteps(nn, model, data.train, CONTEXT, opts.iters, SEED, opts.warmupIters);
  const runSeconds = (performance.now() - r0) / 1000;
  const rssTrainedMiB = maxRssMiB();
  const tokens = (opts.iters - opts.warmupIters) * BATCH * CONTEXT;
  const nv = data.validation.x.shape[0];
  const all = Int32Array.from({ length: nv }, (_, i) => i);
  // in batches of 12: an inference plan holds every block's activations for its batch (about 2.4 MB a window), so
  // batches of 64 would raise the peak RSS by some 170 MiB over training's
  const valLoss = model.evaluate(tensorOf(nn, data.validation.x, all, CONTEXT), tensorOf(nn, data.validation.y, all, CONTEXT), { batchSize: BATCH }).loss;
  const rssEvaluatedMiB = maxRssMiB();

  const prompt = data.vocabulary.encode(PROMPT);
  const cpu = () => cpuSeconds(process.cpuUsage());
  const timeGen = (length, repeats, cache, slide = "token", minCpu = 0) => {
    // warm-up: V8 compiles the generate path's JS (the sampler, the stepper's plan) on a background thread while it
    // gets hot, a one-time ~0.1-0.3 CPU-s that a short warm-up left inside the timed calls (CPU time counts every
    // thread); then at least `repeats` calls and at least minCpu CPU-seconds of them, so that what is left of it
    // and the clock's granularity are a small part of the figure
    const w0 = cpu();
    for (let r = 0; r < GEN_WARMUPS || (minCpu > 0 && cpu() - w0 < GEN_WARMUP_CPU); r++) nn.generate(model, { prompt, length, temperature: TEMPERATURE, seed: SEED + 99 + r, cache, slide });
    const g0 = performance.now(), c0 = cpu();
    let ids = null, runs = 0;
    for (; runs < repeats || cpu() - c0 < minCpu; runs++) ids = nn.generate(model, { prompt, length, temperature: TEMPERATURE, seed: SEED + runs, cache, slide });
    return { wall: (performance.now() - g0) / 1000, cpu: cpu() - c0, ids, tokens: length * runs, runs };
  };
  const inWindow = CONTEXT - prompt.length;
  const win = timeGen(inWindow, GEN_REPEATS, true, "token", GEN_MIN_CPU);
  const winNoCache = timeGen(inWindow, Math.ceil(GEN_REPEATS / 4), false);
  const long = timeGen(opts.genChars, 1, true);
  const halves = timeGen(opts.genChars, 1, true, "half", GEN_MIN_CPU);
  model.dispose();
  return {
    ...about, blocks: BLOCKS, heads: HEADS, features: FEATURES, context: CONTEXT, batch: BATCH, vocab: V,
    trainWindows: data.train.x.shape[0], iters: opts.iters, runSeconds, timedIters: opts.iters - opts.warmupIters,
    trainTokensPerSec: tokens / t.wall, trainTokensPerCpuSec: tokens / t.cpu, lastTrainLoss: t.loss,
    valLoss, valBitsPerChar: valLoss / Math.LN2,
    genChars: opts.genChars, genTokensPerSec: long.tokens / long.wall, genTokensPerCpuSec: long.tokens / long.cpu,
    genWindowChars: inWindow, genWindowRepeats: win.runs, genWindowCpuSeconds: win.cpu,
    genWindowTokensPerSec: win.tokens / win.wall, genWindowTokensPerCpuSec: win.tokens / win.cpu,
    genWindowNoCacheTokensPerSec: winNoCache.tokens / winNoCache.wall,
    genWindowNoCacheTokensPerCpuSec: winNoCache.tokens / winNoCache.cpu,
    genSlideHalfRepeats: halves.runs, genSlideHalfTokensPerSec: halves.tokens / halves.wall, genSlideHalfTokensPerCpuSec: halves.tokens / halves.cpu,
    sample: PROMPT + data.vocabulary.decode(long.ids), rssLoadedMiB, rssTrainedMiB, rssEvaluatedMiB, rssPeakMiB: maxRssMiB(),
  };
}

/** Where a training step's time goes: every kernel of the module wrapped in a CPU clock over `STEPS` steps after
 *  a warm-up, summed by kernel and, for the GEMMs, by shape (m x k x n); printed as a table on stderr. */
async function profile(nn) {
  const STEPS = 30, WARM = 5;
  const data = charData(nn, CONTEXT, VAL_FRACTION);
  const model = buildGpt(nn, data.vocabulary.size, CONTEXT, 2000, SEED);
  await trainSteps(nn, model, data.train, CONTEXT, WARM, SEED, 0);
  // the module's exports are frozen: the network's environment gets a clocked copy of them
  const env = model.network.env, k = env.k;
  const clocked = {};
  const spent = new Map(); // name -> [CPU seconds, calls]
  const cpuNow = () => cpuSeconds(process.cpuUsage());
  for (const name of Object.keys(k)) {
    const f = k[name];
    if (typeof f !== "function") {
      Object.defineProperty(clocked, name, { get: () => k[name] });
      continue;
    }
    const gemm = name.startsWith("gemm_");
    clocked[name] = (...a) => {
      const c0 = cpuNow();
      const r = f(...a);
      const key = gemm ? `${name} ${a[3]}x${a[4]}x${a[5]}` : name;
      const e = spent.get(key) ?? [0, 0];
      e[0] += cpuNow() - c0;
      e[1]++;
      spent.set(key, e);
      return r;
    };
  }
  env.k = clocked;
  const t = await trainSteps(nn, model, data.train, CONTEXT, STEPS, SEED + 5, 0);
  env.k = k;
  const total = [...spent.values()].reduce((s, [c]) => s + c, 0);
  const lines = [...spent.entries()].sort((a, b) => b[1][0] - a[1][0]).map(([key, [c, n]]) =>
    `${key.padEnd(30)} ${(1e3 * c / STEPS).toFixed(2).padStart(8)} ms/step ${(100 * c / total).toFixed(1).padStart(5)}%  ${String(n / STEPS).padStart(4)} calls/step`);
  const flops = 6 * (BLOCKS * (12 * FEATURES * FEATURES) + FEATURES * data.vocabulary.size) * BATCH * CONTEXT; // 6 x params x tokens
  console.error(`${STEPS} steps: ${(1e3 * t.cpu / STEPS).toFixed(1)} ms CPU per step (with the clock's own cost), ${(1e3 * total / STEPS).toFixed(1)} ms in kernels; ` +
    `the dense layers' 6 x params x tokens = ${(flops / 1e6).toFixed(0)} MFLOP per step`);
  console.error(lines.join("\n"));
  model.dispose();
  return { system: "wasmnn", profileSteps: STEPS, msPerStep: 1e3 * t.cpu / STEPS, kernelMsPerStep: 1e3 * total / STEPS, kernels: Object.fromEntries(spent) };
}
