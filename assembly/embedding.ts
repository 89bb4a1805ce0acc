// Embedding: a lookup of table rows by integer token id (forward: gather) and its gradient (backward: scatter-add
// into the table's gradient, repeated ids accumulating), with the checks that turn the model's f32 input into ids
// and the padding mask of `maskZero`. Ids are i32; `n` counts them (batch x steps, any layout).

/** Rows of `width` floats: dst = src, 4 lanes at a time, the tail one float at a time. */
@inline function copyRow(src: usize, dst: usize, width: i32): void {
  let j = 0;
  for (; j + 4 <= width; j += 4) v128.store(dst + (<usize>j << 2), v128.load(src + (<usize>j << 2)));
  for (; j < width; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
}

/** dst += src over a row of `width` floats. */
@inline function addRow(src: usize, dst: usize, width: i32): void {
  let j = 0;
  for (; j + 4 <= width; j += 4) {
    const o = <usize>j << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; j < width; j++) {
    const o = <usize>j << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/**
 * ids (n) i32 <- x (n) f32, the model's input, checked: returns -1 when every value is a whole number in
 * [0, inputDim), else the position of the first that is not (negative, fractional, NaN or >= inputDim), so the
 * runtime can name it. ids may alias x (each value is read before its slot is written).
 */
export function embedding_ids(x: usize, ids: usize, n: i32, inputDim: i32): i32 {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    // !(v >= 0) catches NaN; the bound is checked as f32 before the conversion, which would saturate
    if (!(v >= 0) || v >= <f32>inputDim || v != Mathf.trunc(v)) return i;
    store<i32>(ids + (<usize>i << 2), <i32>v);
  }
  return -1;
}

/** The position of the first of the ids (n) outside [0, inputDim), or -1 if there is none. */
export function embedding_check(ids: usize, n: i32, inputDim: i32): i32 {
  for (let i = 0; i < n; i++) {
    // one unsigned compare catches the negative ids too
    if (<u32>load<i32>(ids + (<usize>i << 2)) >= <u32>inputDim) return i;
  }
  return -1;
}

/** maskZero's mask: mask (n) f32 = 1 where ids (n) != 0 (a real token), 0 where the id is the padding 0. */
export function embedding_mask(ids: usize, mask: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(mask + (<usize>i << 2), load<i32>(ids + (<usize>i << 2)) != 0 ? 1 : 0);
}

/**
 * y (n, outputDim) = table[ids] : row i of y is row ids[i] of table (inputDim, outputDim). The ids must have
 * been checked (embedding_ids or embedding_check): an id out of range reads outside the table.
 */
export function embedding_forward(ids: usize, table: usize, y: usize, n: i32, outputDim: i32): void {
  const rowBytes = <usize>outputDim << 2;
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>(ids + (<usize>i << 2));
    copyRow(table + id * rowBytes, y + <usize>i * rowBytes, outputDim);
  }
}

/**
 * dtable (inputDim, outputDim) (+)= the scatter of dy (n, outputDim): row ids[i] of dtable gets dy's row i added,
 * for i = 0, 1, ..., n - 1 in that order, so an id repeated in the batch sums its rows in a fixed order (the same bits
 * every run). accumulate = 0 zeroes the whole table gradient first (rows of unseen ids are 0), 1 adds onto it.
 */
export function embedding_backward(ids: usize, dy: usize, dtable: usize, n: i32, inputDim: i32, outputDim: i32, accumulate: i32): void {
  const rowBytes = <usize>outputDim << 2;
  if (!accumulate) memory.fill(dtable, 0, <usize>inputDim * rowBytes);
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>(ids + (<usize>i << 2));
    addRow(dy + <usize>i * rowBytes, dtable + id * rowBytes, outputDim);
  }
}
