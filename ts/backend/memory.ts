// The module's linear memory, owned and planned from JS. Models allocate every buffer they need once (when they are
// compiled or first see a batch size) and free them on dispose(); nothing is allocated during a training step.
// memory.grow() detaches every typed-array view, so views are handed out through accessors that refresh them.
import { ShapeError, StateError } from './errors';

const ALIGN = 16; // v128 loads want 16-byte aligned rows
const PAGE = 65536;

interface Block {
  ptr: number;
  bytes: number;
}

export class Heap {
  #top: number;
  #free: Block[] = []; // sorted by address, coalesced
  #used = new Map<number, number>(); // ptr -> bytes
  #f32View!: Float32Array;
  #i32View!: Int32Array;
  #u8View!: Uint8Array;

  constructor(readonly memory: WebAssembly.Memory, base: number) {
    this.#top = alignUp(base);
    this.#refresh();
  }

  /** Bytes handed out and not freed. */
  get bytesInUse(): number {
    let total = 0;
    for (const bytes of this.#used.values()) total += bytes;
    return total;
  }

  /** Reserves `bytes` (rounded up to 16) and returns the address; first fit among freed blocks, else from the top. */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new ShapeError(`cannot allocate ${bytes} bytes`);
    const size = Math.max(ALIGN, alignUp(bytes));
    for (let i = 0; i < this.#free.length; i++) {
      const block = this.#free[i];
      if (block.bytes < size) continue;
      const ptr = block.ptr;
      if (block.bytes === size) this.#free.splice(i, 1);
      else {
        block.ptr += size;
        block.bytes -= size;
      }
      this.#used.set(ptr, size);
      return ptr;
    }
    const ptr = this.#top;
    this.#ensure(ptr + size);
    this.#top = ptr + size;
    this.#used.set(ptr, size);
    return ptr;
  }

  /** Returns a block from alloc(); freeing twice or a foreign address is a StateError. */
  release(ptr: number): void {
    const size = this.#used.get(ptr);
    if (size === undefined) throw new StateError(`address ${ptr} was not allocated or was already freed`);
    this.#used.delete(ptr);
    let i = 0;
    while (i < this.#free.length && this.#free[i].ptr < ptr) i++;
    this.#free.splice(i, 0, { ptr, bytes: size });
    // coalesce with the neighbours, and give the last block back to the top
    if (i + 1 < this.#free.length && this.#free[i].ptr + this.#free[i].bytes === this.#free[i + 1].ptr) {
      this.#free[i].bytes += this.#free[i + 1].bytes;
      this.#free.splice(i + 1, 1);
    }
    if (i > 0 && this.#free[i - 1].ptr + this.#free[i - 1].bytes === this.#free[i].ptr) {
      this.#free[i - 1].bytes += this.#free[i].bytes;
      this.#free.splice(i, 1);
      i--;
    }
    const last = this.#free[this.#free.length - 1];
    if (last && last.ptr + last.bytes === this.#top) {
      this.#top = last.ptr;
      this.#free.pop();
    }
  }

  /** Float32 view of the whole memory (refreshed after growth). Index with ptr >> 2. */
  get f32(): Float32Array {
    if (this.#f32View.buffer !== this.memory.buffer) this.#refresh();
    return this.#f32View;
  }
  get i32(): Int32Array {
    if (this.#i32View.buffer !== this.memory.buffer) this.#refresh();
    return this.#i32View;
  }
  get u8(): Uint8Array {
    if (this.#u8View.buffer !== this.memory.buffer) this.#refresh();
    return this.#u8View;
  }

  #ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    // grow at least by a quarter of the current size, so many small plans do not grow page by page
    const pages = Math.max(Math.ceil((end - have) / PAGE), Math.ceil(have / PAGE / 4));
    this.memory.grow(pages);
    this.#refresh();
  }

  #refresh(): void {
    const buffer = this.memory.buffer;
    this.#f32View = new Float32Array(buffer);
    this.#i32View = new Int32Array(buffer);
    this.#u8View = new Uint8Array(buffer);
  }
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
