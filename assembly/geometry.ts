// Reading the geometry block that conv.ts documents (the GEO_* field indices live there) and indexing the
// channels-last arrays it describes. Shared by conv.ts and pool.ts; everything here is @inline.

/** Field `i` (a GEO_* index) of the geometry block at `geo`. */
@inline export function geoAt(geo: usize, i: i32): i32 {
  return load<i32>(geo + (<usize>i << 2));
}

/** Flat element index of [n, y, x, c] in an (N, rows, cols, channels) channels-last array. */
@inline export function nhwcIndex(n: i32, y: i32, x: i32, c: i32, rows: i32, cols: i32, channels: i32): i32 {
  return ((n * rows + y) * cols + x) * channels + c;
}
