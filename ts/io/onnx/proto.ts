// The ONNX messages this importer reads (onnx.proto, proto3 field numbers), decoded with the wire reader in
// protobuf.ts: ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto (with TypeProto and
// TensorShapeProto as far as the input's shape). Fields the importer has no use for are skipped.
import { ProtoReader, VARINT, FIXED32, FIXED64, BYTES } from './protobuf';
import { ValueError } from '../../backend/errors';
import { decodeF16 } from '../../checkpoint/codecs';

export interface OnnxModel {
  irVersion: number;
  /** domain ('' is the default ONNX domain) -> operator set version. */
  opsets: Map<string, number>;
  producer: string;
  producerVersion: string;
  graph: OnnxGraph;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  floats: number[];
  ints: number[];
  /** A list of strings (an LSTM's activations), or null when the attribute has none. */
  strings: Uint8Array[] | null;
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  floatData: number[];
  int32Data: number[];
  int64Data: number[];
  doubleData: number[];
  rawData: Uint8Array | null;
  /** Stored outside the file (data_location EXTERNAL): not supported. */
  external: boolean;
}

/** A graph input or output: its name and, for tensors, its shape (a number, or a symbolic name like 'batch'). */
export interface ValueInfo {
  name: string;
  elemType: number;
  shape: (number | string)[] | null;
}

/** TensorProto.DataType values this importer reads. */
export const DT = { FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11 } as const;
const DT_NAMES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};
export const dataTypeName = (t: number): string => DT_NAMES[t] ?? `data type ${t}`;

/** Elements of a tensor this importer will read: bigger ones are refused before anything is allocated. */
const MAX_ELEMENTS = 1 << 28;

export function readModel(bytes: Uint8Array): OnnxModel {
  const r = new ProtoReader(bytes, 'ModelProto');
  const model: OnnxModel = { irVersion: 0, opsets: new Map(), producer: '', producerVersion: '', graph: null as unknown as OnnxGraph };
  let graph: OnnxGraph | null = null;
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1) r.expect(wire, VARINT, 'ir_version'), (model.irVersion = r.varint());
    else if (field === 2) r.expect(wire, BYTES, 'producer_name'), (model.producer = r.string());
    else if (field === 3) r.expect(wire, BYTES, 'producer_version'), (model.producerVersion = r.string());
    else if (field === 7) r.expect(wire, BYTES, 'graph'), (graph = readGraph(r.message('GraphProto')));
    else if (field === 8) {
      r.expect(wire, BYTES, 'opset_import');
      const [domain, version] = readOpset(r.message('OperatorSetIdProto'));
      model.opsets.set(domain === 'ai.onnx' ? '' : domain, version);
    } else r.skip(wire);
  }
  if (!graph) throw new ValueError('onnx: the file holds no graph (is it an ONNX model? ModelProto field 7 is missing)');
  model.graph = graph;
  return model;
}

function readOpset(r: ProtoReader): [string, number] {
  let domain = '';
  let version = 0;
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1) r.expect(wire, BYTES, 'domain'), (domain = r.string());
    else if (field === 2) r.expect(wire, VARINT, 'version'), (version = r.varint());
    else r.skip(wire);
  }
  return [domain, version];
}

function readGraph(r: ProtoReader): OnnxGraph {
  const g: OnnxGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [] };
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1) r.expect(wire, BYTES, 'node'), g.nodes.push(readNode(r.message('NodeProto')));
    else if (field === 2) r.expect(wire, BYTES, 'name'), (g.name = r.string());
    else if (field === 5) r.expect(wire, BYTES, 'initializer'), g.initializers.push(readTensor(r.message('TensorProto')));
    else if (field === 11) r.expect(wire, BYTES, 'input'), g.inputs.push(readValueInfo(r.message('ValueInfoProto')));
    else if (field === 12) r.expect(wire, BYTES, 'output'), g.outputs.push(readValueInfo(r.message('ValueInfoProto')));
    else if (field === 15) throw r.fail('sparse initializers are not supported');
    else r.skip(wire);
  }
  return g;
}

function readNode(r: ProtoReader): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: new Map() };
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1) r.expect(wire, BYTES, 'input'), n.inputs.push(r.string());
    else if (field === 2) r.expect(wire, BYTES, 'output'), n.outputs.push(r.string());
    else if (field === 3) r.expect(wire, BYTES, 'name'), (n.name = r.string());
    else if (field === 4) r.expect(wire, BYTES, 'op_type'), (n.opType = r.string());
    else if (field === 7) r.expect(wire, BYTES, 'domain'), (n.domain = r.string());
    else if (field === 5) {
      r.expect(wire, BYTES, 'attribute');
      const a = readAttribute(r.message('AttributeProto'));
      n.attributes.set(a.name, a);
    } else r.skip(wire);
  }
  return n;
}

function readAttribute(r: ProtoReader): OnnxAttribute {
  const a: OnnxAttribute = { name: '', type: 0, floats: [], ints: [], strings: null };
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1) r.expect(wire, BYTES, 'name'), (a.name = r.string());
    else if (field === 20) r.expect(wire, VARINT, 'type'), (a.type = r.int32());
    else if (field === 2) r.expect(wire, FIXED32, 'f'), (a.f = r.fixed32());
    else if (field === 3) r.expect(wire, VARINT, 'i'), (a.i = r.varint());
    else if (field === 4) r.expect(wire, BYTES, 's'), (a.s = r.bytesField());
    else if (field === 5) r.expect(wire, BYTES, 't'), (a.t = readTensor(r.message('TensorProto')));
    else if (field === 7) r.repeated(wire, FIXED32, a.floats, r.fixed32, 'floats');
    else if (field === 8) r.repeated(wire, VARINT, a.ints, r.varint, 'ints');
    else if (field === 9) r.expect(wire, BYTES, 'strings'), (a.strings ??= []).push(r.bytesField());
    else r.skip(wire); // graphs (If, Loop) and the rest: no op this importer maps takes them
  }
  return a;
}

function readTensor(r: ProtoReader): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0, floatData: [], int32Data: [], int64Data: [], doubleData: [], rawData: null, external: false };
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1) r.repeated(wire, VARINT, t.dims, r.varint, 'dims');
    else if (field === 2) r.expect(wire, VARINT, 'data_type'), (t.dataType = r.int32());
    else if (field === 4) r.repeated(wire, FIXED32, t.floatData, r.fixed32, 'float_data');
    else if (field === 5) r.repeated(wire, VARINT, t.int32Data, r.int32, 'int32_data');
    else if (field === 7) r.repeated(wire, VARINT, t.int64Data, r.varint, 'int64_data');
    else if (field === 10) r.repeated(wire, FIXED64, t.doubleData, r.fixed64, 'double_data');
    else if (field === 8) r.expect(wire, BYTES, 'name'), (t.name = r.string());
    else if (field === 9) r.expect(wire, BYTES, 'raw_data'), (t.rawData = r.bytesField());
    else if (field === 14) r.expect(wire, VARINT, 'data_location'), (t.external = r.int32() === 1);
    else r.skip(wire);
  }
  return t;
}

function readValueInfo(r: ProtoReader): ValueInfo {
  const v: ValueInfo = { name: '', elemType: 0, shape: null };
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1) r.expect(wire, BYTES, 'name'), (v.name = r.string());
    else if (field === 2) r.expect(wire, BYTES, 'type'), readType(r.message('TypeProto'), v);
    else r.skip(wire);
  }
  return v;
}

/** TypeProto: only tensor_type (field 1) { elem_type = 1, shape = 2 { dim = 1 { dim_value = 1 | dim_param = 2 } } }. */
function readType(r: ProtoReader, v: ValueInfo): void {
  while (!r.done) {
    const { field, wire } = r.key();
    if (field !== 1) {
      r.skip(wire);
      continue;
    }
    r.expect(wire, BYTES, 'tensor_type');
    const tt = r.message('TypeProto.Tensor');
    while (!tt.done) {
      const k = tt.key();
      if (k.field === 1) tt.expect(k.wire, VARINT, 'elem_type'), (v.elemType = tt.int32());
      else if (k.field === 2) {
        tt.expect(k.wire, BYTES, 'shape');
        const shape = tt.message('TensorShapeProto');
        v.shape = [];
        while (!shape.done) {
          const d = shape.key();
          if (d.field !== 1) {
            shape.skip(d.wire);
            continue;
          }
          shape.expect(d.wire, BYTES, 'dim');
          const dim = shape.message('TensorShapeProto.Dimension');
          let value: number | string = '?';
          while (!dim.done) {
            const f = dim.key();
            if (f.field === 1) dim.expect(f.wire, VARINT, 'dim_value'), (value = dim.varint());
            else if (f.field === 2) dim.expect(f.wire, BYTES, 'dim_param'), (value = dim.string());
            else dim.skip(f.wire);
          }
          v.shape.push(value);
        }
      } else tt.skip(k.wire);
    }
  }
}

// ------------------------------------------------------------------------------------------------ tensor values

/** Elements of a tensor (its dims checked: whole numbers >= 0, not too many). */
export function elementCount(t: OnnxTensor, where: string): number {
  let n = 1;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ValueError(`onnx: ${where} has a dimension ${d}`);
    n *= d;
    if (n > MAX_ELEMENTS) throw new ValueError(`onnx: ${where} has more than ${MAX_ELEMENTS} elements`);
  }
  return n;
}

/** A float tensor's values (float32, float16 or float64; raw_data or the typed fields) as float32. */
export function floatValues(t: OnnxTensor, where: string): Float32Array {
  const n = elementCount(t, where);
  if (t.external) throw new ValueError(`onnx: ${where} keeps its data in an external file, which this importer cannot read; export the model into one file`);
  const raw = t.rawData;
  const fromRaw = (bytesPer: number, read: (v: DataView, i: number) => number): Float32Array => {
    if (raw!.length !== n * bytesPer) throw new ValueError(`onnx: ${where} has ${raw!.length} bytes of raw_data, its shape [${t.dims}] needs ${n * bytesPer}`);
    const view = new DataView(raw!.buffer, raw!.byteOffset, raw!.byteLength);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = read(view, i);
    return out;
  };
  const fromList = (list: number[], field: string): Float32Array => {
    if (list.length !== n) throw new ValueError(`onnx: ${where} has ${list.length} values in ${field}, its shape [${t.dims}] needs ${n}`);
    return Float32Array.from(list);
  };
  switch (t.dataType) {
    case DT.FLOAT:
      return raw ? fromRaw(4, (v, i) => v.getFloat32(i * 4, true)) : fromList(t.floatData, 'float_data');
    case DT.DOUBLE:
      return raw ? fromRaw(8, (v, i) => v.getFloat64(i * 8, true)) : fromList(t.doubleData, 'double_data');
    case DT.FLOAT16: {
      // raw_data holds the halves little-endian; without it int32_data holds one half's bits per element
      if (raw) {
        if (raw.length !== n * 2) throw new ValueError(`onnx: ${where} has ${raw.length} bytes of raw_data, its shape [${t.dims}] needs ${n * 2}`);
        return decodeF16(raw, 0, n);
      }
      if (t.int32Data.length !== n) throw new ValueError(`onnx: ${where} has ${t.int32Data.length} values in int32_data, its shape [${t.dims}] needs ${n}`);
      const halves = new Uint8Array(n * 2);
      t.int32Data.forEach((bits, i) => ((halves[2 * i] = bits & 0xff), (halves[2 * i + 1] = (bits >> 8) & 0xff)));
      return decodeF16(halves, 0, n);
    }
    default:
      throw new ValueError(`onnx: ${where} is ${dataTypeName(t.dataType)}; weights must be float32, float16 or float64`);
  }
}

/** An integer tensor's values (int64 or int32: shapes, axes), as numbers. */
export function intValues(t: OnnxTensor, where: string): number[] {
  const n = elementCount(t, where);
  if (t.external) throw new ValueError(`onnx: ${where} keeps its data in an external file`);
  const raw = t.rawData;
  if (t.dataType === DT.INT64 || t.dataType === DT.INT32) {
    const size = t.dataType === DT.INT64 ? 8 : 4;
    if (raw) {
      if (raw.length !== n * size) throw new ValueError(`onnx: ${where} has ${raw.length} bytes of raw_data, its shape [${t.dims}] needs ${n * size}`);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        out.push(size === 8 ? view.getInt32(i * 8 + 4, true) * 4294967296 + view.getUint32(i * 8, true) : view.getInt32(i * 4, true));
      }
      return out;
    }
    const list = t.dataType === DT.INT64 ? t.int64Data : t.int32Data;
    if (list.length !== n) throw new ValueError(`onnx: ${where} has ${list.length} values, its shape [${t.dims}] needs ${n}`);
    return list.slice();
  }
  if (t.dataType === DT.FLOAT || t.dataType === DT.DOUBLE || t.dataType === DT.FLOAT16) return Array.from(floatValues(t, where));
  throw new ValueError(`onnx: ${where} is ${dataTypeName(t.dataType)}; an integer tensor (int64, int32) was expected`);
}
