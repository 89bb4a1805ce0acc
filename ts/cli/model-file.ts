// The model files the CLI reads (a .wnn checkpoint, an ONNX file, a TF.js model.json), each loaded by its kind with
// the library's loader; and what the CLI reads from a checkpoint beyond nn.checkpointInfo: the topology's layers
// with their configs (the layers inside a residual block included), and so the layer kinds a bundle of it needs.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import * as nn from 'wasmnn';

/** A layer as a checkpoint's topology saves it. */
export interface SavedLayer {
  className: string;
  config: Record<string, unknown>;
}

/** A checkpoint's topology JSON (the fields the CLI reads or writes back; the format is the library's). */
export interface Topology {
  name: string;
  seed: number;
  inputShape: number[];
  layers: SavedLayer[];
  compile: unknown;
  iterations: number;
  weights: { layer: string; name: string; shape: number[]; trainable: boolean }[];
  [more: string]: unknown;
}

/** The topology JSON of checkpoint bytes (the library's loader has checked the file before this is called). */
export function readTopology(bytes: Uint8Array): Topology {
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(12, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + jsonLength)));
}

/**
 * Every layer class the model uses, in the order first met: the top-level layers and, for a layer that holds layers
 * (its config has `layers: [{ className, config }]`, as Residual's does), theirs.
 */
export function layerKinds(topology: { layers: SavedLayer[] }): string[] {
  const kinds = new Set<string>();
  const visit = (layers: SavedLayer[]) => {
    for (const { className, config } of layers) {
      kinds.add(className);
      if (Array.isArray(config.layers)) visit(config.layers as SavedLayer[]);
    }
  };
  visit(topology.layers);
  return [...kinds];
}


/** The kinds of model file the CLI reads: a wasmnn checkpoint, an ONNX file, a TF.js layers model.json. */
export type ModelFileKind = 'wnn' | 'onnx' | 'tfjs';

/**
 * The kind of a model file, by its content where that is sure (a checkpoint starts with "WNN1", a model.json with
 * '{') and else by its extension; an ONNX file is protobuf, with no magic number of its own (PyTorch's start with
 * field 1, ir_version: the byte 08).
 */
export function modelFileKind(path: string, bytes: Uint8Array): ModelFileKind {
  if (bytes.length >= 4 && String.fromCharCode(...bytes.subarray(0, 4)) === 'WNN1') return 'wnn';
  const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && b !== 0xef && b !== 0xbb && b !== 0xbf);
  if (first === 0x7b) return 'tfjs';
  const ext = extname(path).toLowerCase();
  if (ext === '.onnx' || (ext !== '.json' && ext !== '.wnn' && bytes[0] === 0x08)) return 'onnx';
  if (ext === '.json') return 'tfjs';
  if (ext === '.wnn') return 'wnn';
  const start = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new nn.ValueError(`${path}: not a model file wasmnn reads (a .wnn checkpoint, an .onnx file or a TF.js model.json); it starts with ${start || 'nothing: it is empty'}`);
}

/** A model file of any kind loaded with the library's loader for it; its errors name the file. */
export async function loadModelFile(path: string): Promise<{ model: nn.Sequential; kind: ModelFileKind; bytes: Uint8Array }> {
  const bytes = new Uint8Array(readFileSync(path));
  const kind = modelFileKind(path, bytes);
  await nn.ready();
  try {
    const model = kind === 'wnn' ? nn.loadModel(bytes) : kind === 'onnx' ? nn.loadOnnxModel(bytes) : await nn.loadTfjsModelFrom(path);
    return { model, kind, bytes };
  } catch (e) {
    // the library's message says what is wrong; which file it is in is the CLI's to add (the error keeps its class)
    if (e instanceof nn.WasmnnError && !e.message.startsWith(`${path}: `)) e.message = `${path}: ${e.message}`;
    throw e;
  }
}
