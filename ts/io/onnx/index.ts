// ONNX models (what torch.onnx.export writes) into wasmnn Sequential models: an MLP, a CNN or a recurrent model
// (embedding, LSTM, GRU) whose graph is a chain, with residual blocks. The protobuf is read by hand (protobuf.ts,
// proto.ts), the graph walked into a chain (graph.ts), and each op made into a wasmnn layer with its weights (ops.ts,
// sequence.ts, convert.ts). Images are NCHW in ONNX and NHWC in wasmnn: the imported model takes [batch, height,
// width, channels] (nchwToNhwc turns PyTorch's layout into it) and gives the same outputs as the ONNX model.
import { Sequential } from '../../model/model';
import { Tensor } from '../../tensor/tensor';
import { ready } from '../../backend/module';
import { ShapeError, ValueError, WasmnnError } from '../../backend/errors';
import { checkpointBytes } from '../checkpoint-io';
import { readModel, DT, dataTypeName } from './proto';
import { chainOf } from './graph';
import { Converter } from './convert';
import { isEmbedding } from './sequence';

export { ONNX_OPS } from './convert';

/** The ONNX opsets whose op semantics the importer follows (tested with PyTorch's exports at 11, 13 and 17). */
const OPSETS = [9, 21] as const;

/**
 * An ONNX model as a wasmnn Sequential model: from its bytes (after nn.ready(), returns the model), or from a file
 * path or URL (returns a promise). The model's input is NHWC for images ([batch, height, width, channels]); a
 * recurrent model (LSTM, GRU, embedding) takes PyTorch's batch_first input as it is ([batch, steps, features], or
 * token ids [batch, steps] as float32).
 */
export function loadOnnxModel(source: Uint8Array | ArrayBuffer): Sequential;
export function loadOnnxModel(source: string | URL): Promise<Sequential>;
export function loadOnnxModel(source: Uint8Array | ArrayBuffer | string | URL): Sequential | Promise<Sequential> {
  if (typeof source === 'string' || source instanceof URL) {
    return checkpointBytes(source).then(async (bytes) => {
      await ready();
      return importOnnx(bytes);
    });
  }
  return importOnnx(source);
}

/** What an ONNX file is, read without converting it (loadOnnxModel says whether wasmnn can import it). */
export interface OnnxInfo {
  irVersion: number;
  /** The operator set version of the ONNX domain (0 when the file names none). */
  opset: number;
  /** Who wrote the file: producer_name and producer_version ('pytorch', '1.13.0'), empty when not recorded. */
  producer: string;
  producerVersion: string;
  /** The graph's name, and its nodes' op types, each once in the order first met. */
  graph: string;
  ops: string[];
  /** The data types the weights (the graph's initializers) are stored in, each once: 'float32', 'float16', ... */
  weightTypes: string[];
}

/** What an ONNX file holds (its bytes parsed as a ModelProto, a typed error if they are not one). */
export function onnxInfo(source: Uint8Array | ArrayBuffer): OnnxInfo {
  const { irVersion, opsets, producer, producerVersion, graph } = readModel(onnxBytes(source, 'onnxInfo'));
  return {
    irVersion, opset: opsets.get('') ?? 0, producer, producerVersion, graph: graph.name,
    ops: [...new Set(graph.nodes.map((n) => n.opType))],
    weightTypes: [...new Set(graph.initializers.map((t) => dataTypeName(t.dataType)))],
  };
}

function onnxBytes(source: Uint8Array | ArrayBuffer, caller: string): Uint8Array {
  const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : source;
  if (!(bytes instanceof Uint8Array)) throw new ValueError(`${caller} takes the .onnx file's bytes (Uint8Array, ArrayBuffer)${caller === 'loadOnnxModel' ? ', a path or a URL' : ''}, got ${typeof source}`);
  return bytes;
}

function importOnnx(source: Uint8Array | ArrayBuffer): Sequential {
  const model = readModel(onnxBytes(source, 'loadOnnxModel'));
  const opset = model.opsets.get('') ?? 0;
  if (opset < OPSETS[0] || opset > OPSETS[1]) {
    throw new ValueError(`onnx: the model uses opset ${opset || '(none)'} of the ONNX domain; wasmnn imports opsets ${OPSETS[0]} to ${OPSETS[1]}`);
  }
  const chain = chainOf(model.graph);
  const input = model.graph.inputs.find((v) => v.name === chain.input)!;
  const first = chain.items[0];
  const ids = first?.kind === 'node' && isEmbedding(first.node, chain.constants);
  const { perSample, batch } = inputShape(input.shape, input.elemType, input.name, ids);
  const converted = new Converter(chain, opset, batch).run(perSample);
  const name = model.graph.name && /^[A-Za-z0-9_.-]+$/.test(model.graph.name) ? model.graph.name : 'onnx_model';
  let net: Sequential | null = null;
  try {
    net = new Sequential({ layers: converted.layers, name, seed: 0 });
    void net.network; // builds the layers: their parameters are known from here on
    net.setWeights(converted.weights);
    return net;
  } catch (e) {
    net?.dispose();
    if (e instanceof WasmnnError) throw e;
    throw new ValueError(`onnx: the imported layers could not be built: ${(e as Error)?.message ?? String(e)}`);
  }
}

/** The input's shape per sample (every axis but the batch a number), and the batch size if it is a number. */
function inputShape(shape: (number | string)[] | null, elemType: number, name: string, ids: boolean): { perSample: number[]; batch: number | null } {
  // token ids (int64 in PyTorch) go into an embedding: wasmnn's takes them as float32 whole numbers
  const isInt = elemType === DT.INT64 || elemType === DT.INT32;
  if (elemType !== DT.FLOAT && elemType !== 0 && !(ids && isInt)) {
    throw new ValueError(`onnx: the input '${name}' is ${dataTypeName(elemType)}; wasmnn models take float32${isInt ? ' (or token ids into an embedding, a Gather of a constant table)' : ''}`);
  }
  if (!shape || shape.length < 2) throw new ShapeError(`onnx: the input '${name}' must have a known shape [batch, ...] (it has ${shape ? `[${shape}]` : 'none'})`);
  const perSample = shape.slice(1);
  if (perSample.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1)) {
    throw new ShapeError(`onnx: the input '${name}' has shape [${shape}]; every axis but the first (the batch) must be a fixed size`);
  }
  if ((perSample as number[]).reduce((a, d) => a * d, 1) > 1 << 28) throw new ShapeError(`onnx: the input '${name}' has shape [${shape}]: more values per sample than wasm32 memory holds`);
  if (perSample.length > 3) {
    throw new ShapeError(`onnx: the input '${name}' has shape [${shape}]; wasmnn imports models of flat inputs [batch, features], sequences [batch, channels, length] or images [batch, channels, height, width]`);
  }
  return { perSample: perSample as number[], batch: typeof shape[0] === 'number' && shape[0] > 0 ? shape[0] : null };
}

/**
 * PyTorch's channels-first data (images [n, c, h, w], sequences [n, c, length]; a Tensor, or its values with the
 * shape) as the channels-last tensor an imported model takes ([n, h, w, c], [n, length, c]).
 */
export function nchwToNhwc(x: Tensor | Float32Array | number[], shape?: number[]): Tensor {
  const dims = x instanceof Tensor ? x.shape : shape;
  const data = x instanceof Tensor ? x.data : x;
  if (!dims || dims.length < 3 || dims.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new ShapeError(`nchwToNhwc takes images [n, channels, height, width] or sequences [n, channels, length], got shape ${dims ? `[${dims}]` : 'none'}`);
  }
  const [n, c] = dims;
  const positions = dims.slice(2).reduce((a, b) => a * b, 1);
  if (data.length !== n * c * positions) throw new ShapeError(`nchwToNhwc: shape [${dims}] needs ${n * c * positions} values, got ${data.length}`);
  const out = new Float32Array(data.length);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < c; i++) {
      for (let p = 0; p < positions; p++) out[(s * positions + p) * c + i] = data[(s * c + i) * positions + p];
    }
  }
  return new Tensor(out, [n, ...dims.slice(2), c]);
}
