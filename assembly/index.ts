// The module's whole export list. Every kernel is a plain function over f32 pointers into linear memory;
// the TypeScript runtime (ts/) owns the memory and plans every buffer.

/** First byte the runtime may use: everything below is the module's static data. */
export function heap_base(): usize {
  return __heap_base;
}

export * from "./matmul";
export * from "./activations";
export * from "./vmath";
export * from "./random";
export * from "./losses";
export * from "./optim";
export * from "./vector";
export * from "./conv";
export * from "./conv-sparse";
export * from "./pool";
export * from "./norm";
export * from "./embedding";
export * from "./recurrent";
export * from "./lstm";
export * from "./simple-rnn";
export * from "./gru";
