// What the CLI reads from a saved model beyond nn.checkpointInfo: the topology's layers with their configs (the
// layers inside a residual block included), and so the layer kinds a bundle of it needs.

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

