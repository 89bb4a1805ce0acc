// The module's linear memory, owned and planned from JS. Models allocate every buffer they need once (when they are
// compiled or first see a batch size) and free them on dispose(); nothing is allocated during a training step.
// memory.grow() detaches every typed-array view, so views are handed out through accessors that refresh them.
import { MemoryError, ShapeError, StateError } from './errors';

const ALIGN = 16; // v128 loads want 16-byte aligned rows
const PAGE = 65536;
/** A wasm32 memory holds at most 65536 pages of 64 KiB: 4 GiB. */
export const MAX_MODULE_BYTES = 2 ** 32;

interface Block {
  ptr: number;
  bytes: number;
}

export class Heap {
  readonly #base: number;
  #top: number;
  #free: Block[] = []; // sorted by address, coalesced
  #used = new Map<number, number>(); // ptr -> bytes
  #inUse = 0;
  #f32View!: Float32Array;
  #i32View!: Int32Array;
  #u8View!: Uint8Array;

  constructor(readonly memory: WebAssembly.Memory, base: number) {
    this.#base = alignUp(base);
    this.#top = this.#base;
    this.#refresh();
  }

  /** Bytes handed out and not freed (each block rounded up to 16). */
  get bytesInUse(): number {
    return this.#inUse;
  }

  /** Blocks handed out and not freed. */
  get blocksInUse(): number {
    return this.#used.size;
  }

  /** Reserves `bytes` (rounded up to 16) and returns the address; first fit among freed blocks, else from the top. */
  alloc(bytes: number, what = 'a block'): number {
    return this.allocAll([bytes], what)[0];
  }

  /**
   * Reserves a block of each size, all or none: when the module cannot hold them all, every block taken is given back
   * and the MemoryError says what `what` (a model's weights, a batch plan) needs in all. The module stays usable.
   */
  allocAll(sizes: number[], what: string): number[] {
    for (const bytes of sizes) if (!Number.isInteger(bytes) || bytes < 0) throw new ShapeError(`cannot allocate ${bytes} bytes`);
    const needed = sizes.reduce((sum, bytes) => sum + blockSize(bytes), 0);
    // more than a wasm32 memory holds beside the blocks in use: refuse before growing anything
    if (this.#base + this.#inUse + needed > MAX_MODULE_BYTES) throw this.#tooBig(what, needed);
    const ptrs: number[] = [];
    for (const bytes of sizes) {
      const ptr = this.#take(blockSize(bytes));
      if (ptr < 0) {
        for (const taken of ptrs) this.release(taken);
        throw this.#tooBig(what, needed);
      }
      ptrs.push(ptr);
    }
    return ptrs;
  }

  /** A block of `size` (a multiple of 16), or -1 when the memory cannot grow to hold it. */
  #take(size: number): number {
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
      this.#inUse += size;
      return ptr;
    }
    const ptr = this.#top;
    if (!this.#ensure(ptr + size)) return -1;
    this.#top = ptr + size;
    this.#used.set(ptr, size);
    this.#inUse += size;
    return ptr;
  }

  #tooBig(what: string, needed: number): MemoryError {
    const moduleBytes = this.memory.buffer.byteLength;
    const room = this.#base + this.#inUse + needed > MAX_MODULE_BYTES
      ? 'more than a wasm32 module can hold (4 GiB)'
      : 'but the runtime would not grow the module that far (a wasm32 module holds at most 4 GiB)';
    return new MemoryError(
      `cannot allocate ${what}: ${formatBytes(needed)} of module memory, ${room}; the module holds ${formatBytes(moduleBytes)} now, ${formatBytes(this.#inUse)} in use`,
      { bytesNeeded: needed, bytesLimit: MAX_MODULE_BYTES, moduleBytes, bytesInUse: this.#inUse },
    );
  }

  /** Returns a block from alloc(); freeing twice or a foreign address is a StateError. */
  release(ptr: number): void {
    const size = this.#used.get(ptr);
    if (size === undefined) throw new StateError(`address ${ptr} was not allocated or was already freed`);
    this.#used.delete(ptr);
    this.#inUse -= size;
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

  /** Grows the memory to hold `end` bytes; false when it cannot (a failed grow changes nothing). */
  #ensure(end: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return true;
    if (end > MAX_MODULE_BYTES) return false;
    // grow at least by a quarter of the current size, so many small plans do not grow page by page (but never past
    // the limit for the quarter's sake)
    const needed = Math.ceil((end - have) / PAGE);
    const pages = Math.max(needed, Math.min(Math.ceil(have / PAGE / 4), (MAX_MODULE_BYTES - have) / PAGE));
    try {
      this.memory.grow(pages);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      return false;
    }
    this.#refresh();
    return true;
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

function blockSize(bytes: number): number {
  return Math.max(ALIGN, alignUp(bytes));
}

/** 1234567 -> "1,234,567 bytes (1.2 MiB)" */
function formatBytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n, u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const grouped = groupDigits(n);
  return u < 0 ? `${grouped} bytes` : `${grouped} bytes (${v.toFixed(1)} ${units[u]})`;
}

/** 1234567 -> "1,234,567". Not toLocaleString: its first call loads the runtime's locale data, tens of milliseconds of
 *  a cold start, and the network formats its allocation message before every model is placed. */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
