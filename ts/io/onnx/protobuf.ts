// A protobuf wire-format reader, just enough for ONNX files: fields are read one at a time, every length is bounded
// against the bytes that are left, and anything malformed is a ValueError naming the message and the byte offset
// (never a RangeError, a hang or an out-of-bounds read). Unknown fields of every wire type are skipped.
// Wire format: each field is a varint key (field number << 3 | wire type) then its value:
//   0 varint   1 fixed64 (8 bytes)   2 length-delimited (varint length, then bytes)   3/4 group start/end   5 fixed32
import { ValueError } from '../../backend/errors';

export const VARINT = 0;
export const FIXED64 = 1;
export const BYTES = 2;
export const GROUP_START = 3;
export const GROUP_END = 4;
export const FIXED32 = 5;

const UTF8 = new TextDecoder();

/** Groups nested deeper than this are refused (an attacker's file could otherwise nest without end). */
const MAX_GROUP_DEPTH = 32;

export class ProtoReader {
  pos: number;
  private readonly view: DataView;

  /** Reads bytes[start, end) of `bytes`; `what` names the message in errors (e.g. 'NodeProto'). */
  constructor(readonly bytes: Uint8Array, readonly what: string, start = 0, readonly end = bytes.length) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(why: string, at = this.pos): ValueError {
    return new ValueError(`onnx: malformed ${this.what} at byte ${at}: ${why}`);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's number and wire type. */
  key(): { field: number; wire: number } {
    const at = this.pos;
    const key = this.varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field < 1 || field > 0x1fffffff) throw this.fail(`field number ${field} is out of range`, at);
    if (wire > 5) throw this.fail(`wire type ${wire} does not exist`, at);
    return { field, wire };
  }

  /**
   * A varint as a number: unsigned values as they are, 64-bit two's complement negatives (10 bytes, as int64 and
   * int32 fields write them) as negative numbers. Exact within ±2^53, which covers every dimension and attribute.
   */
  varint(): number {
    const at = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw this.fail('the bytes end inside a varint', at);
      const b = this.bytes[this.pos++];
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if ((b & 0x80) === 0) return (hi | 0) * 4294967296 + (lo >>> 0);
    }
    throw this.fail('a varint is longer than 10 bytes', at);
  }

  /** An int32 field (enum values, data types): a varint truncated to 32 bits, as protobuf does. */
  int32(): number {
    return this.varint() | 0;
  }

  fixed32(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  fixed64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A length-delimited field's extent [start, end), checked against what is left; the reader moves past it. */
  span(): [number, number] {
    const at = this.pos;
    const length = this.varint();
    if (length < 0 || length > this.end - this.pos) {
      throw this.fail(`a field of ${length} bytes runs past the end (${this.end - this.pos} bytes left)`, at);
    }
    const start = this.pos;
    this.pos += length;
    return [start, this.pos];
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  bytesField(): Uint8Array {
    const [s, e] = this.span();
    return this.bytes.subarray(s, e);
  }

  string(): string {
    return UTF8.decode(this.bytesField());
  }

  /** A reader over an embedded message. */
  message(what: string): ProtoReader {
    const [s, e] = this.span();
    return new ProtoReader(this.bytes, what, s, e);
  }

  /** Skips a field of the given wire type (an unknown field, or a known one this importer does not need). */
  skip(wire: number, depth = 0): void {
    if (wire === VARINT) this.varint();
    else if (wire === FIXED64) this.need(8), (this.pos += 8);
    else if (wire === FIXED32) this.need(4), (this.pos += 4);
    else if (wire === BYTES) this.span();
    else if (wire === GROUP_START) {
      if (depth >= MAX_GROUP_DEPTH) throw this.fail(`groups nested more than ${MAX_GROUP_DEPTH} deep`);
      for (;;) {
        if (this.done) throw this.fail('a group has no end');
        const k = this.key();
        if (k.wire === GROUP_END) return;
        this.skip(k.wire, depth + 1);
      }
    } else throw this.fail(`an end-group key without its start`);
  }

  /**
   * A repeated numeric field, packed (one length-delimited run) or not (one value per key): both are valid
   * protobuf, and writers differ. `read` reads one element; `elementWire` is the unpacked wire type.
   */
  repeated(wire: number, elementWire: number, out: number[], read: () => number, name: string): void {
    if (wire === BYTES) {
      const [s, e] = this.span();
      const sub = new ProtoReader(this.bytes, this.what, s, e);
      const bound = elementWire === FIXED32 ? (e - s) / 4 : elementWire === FIXED64 ? (e - s) / 8 : e - s;
      if (!Number.isInteger(bound)) throw this.fail(`packed ${name} of ${e - s} bytes is not a whole number of elements`, s);
      while (!sub.done) out.push(read.call(sub));
      return;
    }
    this.expect(wire, elementWire, name);
    out.push(read.call(this));
  }

  /** Checks a known field's wire type. */
  expect(wire: number, want: number, name: string): void {
    if (wire !== want) throw this.fail(`field '${name}' has wire type ${wire}, expected ${want}`);
  }

  private need(n: number): void {
    if (this.end - this.pos < n) throw this.fail(`${n} bytes needed, ${this.end - this.pos} left`);
  }
}
