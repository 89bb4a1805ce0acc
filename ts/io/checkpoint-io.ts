// Checkpoints to and from places: a file path (Node, Deno, Bun), a URL (fetch: http(s), data:, blob:, and file:
// outside the browser), IndexedDB (`indexeddb://key`) and, in the browser, a download (`downloads://name.wnn`).
// No runtime module is imported statically, so the library still bundles for the browser.
import type { Sequential } from '../model/model';
import { saveModel, loadModel } from './model-io';
import type { SaveOptions } from '../checkpoint/save';
import { ready } from '../backend/module';
import { NotFoundError, ValueError } from '../backend/errors';

/** Saves the model's checkpoint to a file path, `file:` URL, `indexeddb://key` or `downloads://name`. */
export async function saveModelTo(model: Sequential, target: string | URL, options?: SaveOptions): Promise<void> {
  const where = place(target);
  const bytes = saveModel(model, options);
  if (where.kind === 'indexeddb') return idbPut(where.key, bytes);
  if (where.kind === 'download') return download(where.key, bytes);
  if (where.kind === 'file') return writeFile(where.path, bytes);
  throw new ValueError(`cannot save to ${where.url}: save to a file path, a file: URL, 'indexeddb://name' or 'downloads://name'`);
}

/** Loads a model from a file path, a URL (fetched; `file:` read from disk) or `indexeddb://key` (after nn.ready()). */
export async function loadModelFrom(source: string | URL): Promise<Sequential> {
  const bytes = await checkpointBytes(source);
  await ready();
  return loadModel(bytes);
}

/** A checkpoint's bytes from a file path, a URL or `indexeddb://key` (also wasmnn/infer's loadModelFrom). */
export async function checkpointBytes(source: string | URL): Promise<Uint8Array> {
  const where = place(source);
  if (where.kind === 'indexeddb') return idbGet(where.key);
  if (where.kind === 'file') return readFile(where.path);
  if (where.kind === 'download') throw new ValueError(`'downloads://' is for saving; load the downloaded file by its path or URL`);
  let response: Response;
  try {
    response = await fetch(where.url);
  } catch (e) {
    throw new NotFoundError(`could not fetch a checkpoint from ${String(where.url)}: ${(e as Error).message}`);
  }
  if (!response.ok) throw new NotFoundError(`could not fetch a checkpoint from ${String(where.url)}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

type Place =
  | { kind: 'file'; path: string | URL }
  | { kind: 'url'; url: URL | string }
  | { kind: 'indexeddb'; key: string }
  | { kind: 'download'; key: string };

interface RuntimeGlobals {
  Deno?: {
    readFile(p: string | URL): Promise<Uint8Array>;
    writeFile(p: string | URL, data: Uint8Array): Promise<void>;
  };
  process?: { versions?: { node?: string } };
  document?: { createElement(tag: string): { href: string; download: string; click(): void } };
  indexedDB?: IDBFactory;
}
const g = globalThis as unknown as RuntimeGlobals;

/** Node, Deno and Bun have a file system; browsers and workers do not. */
function hasFileSystem(): boolean {
  return !!g.Deno || !!g.process?.versions?.node;
}

function place(target: string | URL): Place {
  if (target instanceof URL) return target.protocol === 'file:' ? { kind: 'file', path: target } : { kind: 'url', url: target };
  if (typeof target !== 'string' || !target) throw new ValueError(`a checkpoint location is a path or URL string, got ${String(target)}`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(target);
  if (scheme?.[1].toLowerCase() === 'indexeddb') return { kind: 'indexeddb', key: nonEmpty(scheme[2], target) };
  if (scheme?.[1].toLowerCase() === 'downloads') return { kind: 'download', key: nonEmpty(scheme[2], target) };
  if (/^file:/i.test(target)) return { kind: 'file', path: new URL(target) };
  if (/^(https?|data|blob):/i.test(target)) return { kind: 'url', url: target };
  // a bare string: a path where there is a file system, else a URL relative to the page
  return hasFileSystem() ? { kind: 'file', path: target } : { kind: 'url', url: target };
}

function nonEmpty(key: string, target: string): string {
  if (!key) throw new ValueError(`'${target}' needs a name after the scheme`);
  return key;
}

async function readFile(path: string | URL): Promise<Uint8Array> {
  try {
    if (g.Deno) return await g.Deno.readFile(path);
    return new Uint8Array(await (await nodeFs()).readFile(path));
  } catch (e) {
    if (isNotFound(e)) throw new NotFoundError(`no checkpoint at ${String(path)}`);
    throw e;
  }
}

async function writeFile(path: string | URL, bytes: Uint8Array): Promise<void> {
  if (g.Deno) return g.Deno.writeFile(path, bytes);
  await (await nodeFs()).writeFile(path, bytes);
}

async function nodeFs(): Promise<{ readFile(p: string | URL): Promise<Uint8Array>; writeFile(p: string | URL, d: Uint8Array): Promise<void> }> {
  if (!hasFileSystem()) throw new ValueError('this runtime has no file system: use a URL, indexeddb:// or downloads://');
  const name = 'node:fs/promises'; // a variable, so bundlers for the browser leave it alone
  return import(/* @vite-ignore */ name);
}

function isNotFound(e: unknown): boolean {
  const err = e as { code?: string; name?: string };
  return err?.code === 'ENOENT' || err?.name === 'NotFound';
}

function download(name: string, bytes: Uint8Array): void {
  if (!g.document) throw new ValueError(`'downloads://' needs a browser page; save to a file path here`);
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = g.document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// IndexedDB: one database 'wasmnn', one store 'models', the checkpoint's bytes under the given key.
function idbStore<T>(mode: IDBTransactionMode, use: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  if (!g.indexedDB) return Promise.reject(new ValueError(`'indexeddb://' needs IndexedDB, which this runtime does not have`));
  return new Promise((resolve, reject) => {
    const open = g.indexedDB!.open('wasmnn', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('models');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction('models', mode);
      const request = use(tx.objectStore('models'));
      tx.oncomplete = () => {
        db.close();
        resolve(request.result);
      };
      tx.onerror = tx.onabort = () => {
        db.close();
        reject(tx.error ?? request.error);
      };
    };
  });
}

function idbPut(key: string, bytes: Uint8Array): Promise<void> {
  return idbStore('readwrite', (s) => s.put(bytes, key)).then(() => undefined);
}

async function idbGet(key: string): Promise<Uint8Array> {
  const found = await idbStore<unknown>('readonly', (s) => s.get(key));
  if (!(found instanceof Uint8Array)) throw new NotFoundError(`no checkpoint named '${key}' in IndexedDB`);
  return found;
}
