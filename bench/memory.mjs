// Memory that all comes back: cycles of build, compile, fit (with validation data), predict, save, load and dispose
// of a 32-64-4 MLP. Prints the module's bytes in use, the module's memory size and the process RSS at the start, every
// 250 cycles and at the end, with the JS heap in use and reserved (after a collection when run with --expose-gc).
// The module's figures must stay flat: every model gives back all it took on dispose(). RSS follows the JS heap's
// reserved space, which V8 grows in steps over the first thousand or two cycles (to about 100 MB RSS here, then
// flat) with or without fit; the JS heap in use stays flat.
//
//   npm run bench:memory                 (builds first)
//   node --expose-gc bench/memory.mjs [--cycles 1000] [--samples 256]
//
// Not a timed test: the figures are for reading (and for bench/README.md).
import * as nn from "../dist/index.js";
import { commandLine, int } from "./args.mjs";

const { cycles: CYCLES, samples: SAMPLES } = commandLine("bench/memory.mjs", {
  usage: "node --expose-gc bench/memory.mjs [options]: memory over cycles of a small MLP's whole life (see the file's head)",
  options: {
    "--cycles": int("cycles", 1000, "build-to-dispose cycles"),
    "--samples": int("samples", 256, "training samples per cycle"),
  },
});
const EVERY = 250;
const [IN, HIDDEN, OUT] = [32, 64, 4];

// module memory: nn.memory() where the library has it, else the heap the backend exposes (for runs on older code)
const backend = await nn.ready();
const memory = () => (nn.memory ? nn.memory() : { bytesInUse: backend.heap.bytesInUse, moduleBytes: backend.heap.memory.buffer.byteLength });

// seeded data: integer arithmetic only
let s = 12345;
const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
const x = new Float32Array(SAMPLES * IN).map(next);
const y = new Int32Array(SAMPLES).map((_, i) => (x[i * IN] > 0 ? 1 : 0) + (x[i * IN + 1] > 0 ? 2 : 0));
const vx = new Float32Array(64 * IN).map(next);
const vy = new Int32Array(64).map((_, i) => (vx[i * IN] > 0 ? 1 : 0) + (vx[i * IN + 1] > 0 ? 2 : 0));

async function cycle(seed) {
  const model = nn.sequential({ seed, layers: [nn.layers.dense({ inputShape: [IN], units: HIDDEN, activation: "relu" }), nn.layers.dense({ units: OUT, activation: "softmax" })] });
  model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  await model.fit(nn.tensor(x, [SAMPLES, IN]), y, { epochs: 1, batchSize: 32, validationData: [nn.tensor(vx, [64, IN]), vy] });
  model.predict(nn.tensor(x, [SAMPLES, IN]));
  const bytes = model.save();
  model.dispose();
  const loaded = nn.loadModel(bytes);
  loaded.predict(nn.tensor(vx, [64, IN]));
  loaded.dispose();
}

const mb = (n) => `${(n / 2 ** 20).toFixed(1).padStart(7)} MB`;
function report(done) {
  const m = memory();
  const { rss, heapUsed, heapTotal } = process.memoryUsage();
  console.log(`cycle ${String(done).padStart(5)}   module bytes in use ${String(m.bytesInUse).padStart(10)}   module memory ${mb(m.moduleBytes)}   RSS ${mb(rss)}   JS heap in use ${mb(heapUsed)} of ${mb(heapTotal)}`);
  return { ...m, rss, heapUsed };
}

console.log(`memory: ${CYCLES} cycles of build, compile, fit (${SAMPLES} samples, validation data), predict, save, load, dispose of a ${IN}-${HIDDEN}-${OUT} MLP`);
globalThis.gc?.();
const start = report(0);
for (let i = 1; i <= CYCLES; i++) {
  await cycle(i);
  if (i % EVERY === 0 || i === CYCLES) {
    globalThis.gc?.();
    if (i === CYCLES) {
      const end = report(i);
      console.log(`growth: module bytes in use ${end.bytesInUse - start.bytesInUse}, module memory ${mb(end.moduleBytes - start.moduleBytes)}, RSS ${mb(end.rss - start.rss)}, JS heap in use ${mb(end.heapUsed - start.heapUsed)}`);
    } else report(i);
  }
}
