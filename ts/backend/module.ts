// Loads the one wasmnn module in any runtime: Node >= 20, Deno 2, Bun 1, browsers and workers.
// The only runtime-specific corner is reading the .wasm from a file: URL outside the browser.
import { Heap } from './memory';
import type { Kernels } from './kernels';
import { StateError, ValueError } from './errors';

/** Where the module comes from. By default it is found beside this file (`wasmnn.wasm`). */
export interface ReadyOptions {
  /** The module's bytes, a compiled module, a Response, or a URL (string or URL) to fetch or read. */
  wasm?: BufferSource | WebAssembly.Module | Response | URL | string;
}

/** The instantiated module: its kernels and the heap that owns its memory. */
export interface Backend {
  kernels: Kernels;
  heap: Heap;
}

let loading: Promise<Backend> | undefined;
let loaded: Backend | undefined;

/** Instantiates the module once; later calls return the same promise (idempotent). */
export function ready(options: ReadyOptions = {}): Promise<Backend> {
  return readyWith(options, () => new URL('./wasmnn.wasm', import.meta.url));
}

/**
 * ready() for a build whose module has another default (wasmnn/infer: wasmnn-infer.wasm beside its script). The
 * default is a literal `new URL('./x.wasm', import.meta.url)` at the caller, which bundlers recognise as an asset.
 */
export function readyWith(options: ReadyOptions, defaultWasm: () => URL): Promise<Backend> {
  if (!loading) {
    loading = load(options.wasm ?? defaultWasm()).then((b) => (loaded = b));
    loading.catch(() => (loading = undefined)); // a failed load may be retried
  }
  return loading;
}

/** The loaded backend; throws when `ready()` has not finished yet. */
export function backend(): Backend {
  if (!loaded) throw new StateError('wasmnn is not ready: await nn.ready() before using the library');
  return loaded;
}

/** The module's memory, as tf.memory() reports TF.js's: what wasmnn's models and arrays hold now, and how large the
 *  module's memory has grown (it never shrinks; freed blocks are reused). Every dispose() brings bytesInUse back. */
export interface MemoryInfo {
  /** Bytes in blocks held by models and ModuleArrays (each block rounded up to 16 bytes). */
  bytesInUse: number;
  blocksInUse: number;
  /** The module's linear memory size in bytes (static data, held and free blocks); at most 4 GiB. */
  moduleBytes: number;
}

/** The module's memory now (after `await nn.ready()`). */
export function memory(): MemoryInfo {
  const { heap } = backend();
  return { bytesInUse: heap.bytesInUse, blocksInUse: heap.blocksInUse, moduleBytes: heap.memory.buffer.byteLength };
}

async function load(wasm: NonNullable<ReadyOptions['wasm']>): Promise<Backend> {
  const kernels = (await instantiate(await resolveSource(wasm))).exports as unknown as Kernels;
  return { kernels, heap: new Heap(kernels.memory, kernels.heap_base()) };
}

// The module imports nothing (runtime stub, noAssert) and its exports are plain functions over numbers, so the
// raw exports are the kernels: no loader, and no wrapper around every call.
async function instantiate(source: BufferSource | WebAssembly.Module | Response): Promise<WebAssembly.Instance> {
  if (source instanceof WebAssembly.Module) return WebAssembly.instantiate(source, {});
  // bytes first: touching the global Response makes Node load its fetch implementation (~25 ms of a cold start)
  const bytes = ArrayBuffer.isView(source) || source instanceof ArrayBuffer ? source : await (source as Response).arrayBuffer();
  return (await WebAssembly.instantiate(bytes, {})).instance;
}

async function resolveSource(wasm: NonNullable<ReadyOptions['wasm']>): Promise<BufferSource | WebAssembly.Module | Response> {
  if (typeof wasm === 'string') return resolveSource(new URL(wasm, import.meta.url));
  if (!(wasm instanceof URL)) return wasm;
  if (wasm.protocol === 'file:') return readFileUrl(wasm);
  const response = await fetch(wasm);
  if (!response.ok) throw new ValueError(`could not fetch the wasmnn module from ${wasm.href}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

// fetch() of file: URLs works in Deno and Bun but not in Node, so read the file with whatever the runtime offers.
async function readFileUrl(url: URL): Promise<Uint8Array> {
  const g = globalThis as { Deno?: { readFile(u: URL): Promise<Uint8Array> } };
  if (g.Deno) return g.Deno.readFile(url);
  const fsModule = 'node:fs/promises'; // a variable, so bundlers for the browser leave it alone
  const fs = (await import(/* @vite-ignore */ fsModule)) as { readFile(u: URL): Promise<Uint8Array> };
  return fs.readFile(url);
}
