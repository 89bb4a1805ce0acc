// Layers by class name, for loading saved models: each factory takes the layer's getConfig() and makes the layer.
// This is the mechanism; the table is ts/layers/catalog.ts (the library's layers, registered by ts/index.ts and by
// wasmnn/infer's ts/infer.ts). Adding a layer type is one row there (or registerLayer() for a user's own class).
import { Layer } from './layer';
import { l1l2 } from './regularizers';
import { NotFoundError, ValueError, WasmnnError } from '../backend/errors';

/** Makes a layer from its saved config (what its getConfig() returned). */
export type LayerFactory = (config: Record<string, unknown>) => Layer;

/** Layers inside layers (residual blocks) are made recursively; a file cannot nest them without end. */
const MAX_DEPTH = 8;
let depth = 0;

const FACTORIES = new Map<string, LayerFactory>();

/** Teaches the loader a layer class (a built-in one, or the user's own). */
export function registerLayer(className: string, factory: LayerFactory): void {
  if (typeof className !== 'string' || !className) throw new ValueError(`registerLayer: className must be a non-empty string, got ${String(className)}`);
  if (typeof factory !== 'function') throw new ValueError(`registerLayer: the factory for '${className}' must be a function`);
  FACTORIES.set(className, factory);
}

/** The class names the loader knows. */
export function registeredLayers(): string[] {
  return [...FACTORIES.keys()];
}

/**
 * The layer saved as (className, config). Unknown classes are a NotFoundError naming them; a config its class
 * rejects is that class's typed error; anything else a factory throws on a malformed config becomes a ValueError.
 */
export function layerFromConfig(className: string, config: Record<string, unknown>, where = 'layer'): Layer {
  const factory = FACTORIES.get(className);
  if (!factory) {
    throw new NotFoundError(`${where}: unknown layer class '${className}'; this wasmnn knows ${registeredLayers().join(', ')} (registerLayer() adds others)`);
  }
  if (depth >= MAX_DEPTH) throw new ValueError(`${where}: layers nested more than ${MAX_DEPTH} deep`);
  let layer: Layer;
  depth++;
  try {
    layer = factory(reviveConfig(config));
  } catch (e) {
    if (e instanceof WasmnnError) throw e;
    throw new ValueError(`${where} (${className}): the saved config is not valid: ${(e as Error)?.message ?? String(e)}`);
  } finally {
    depth--;
  }
  if (!(layer instanceof Layer) || layer.className !== className) {
    throw new ValueError(`${where}: the factory for '${className}' did not make a ${className} layer`);
  }
  return layer;
}

/** Layers inside a layer (a residual block's, in its fromConfig), saved as [{ className, config }] like the model's. */
export function innerLayers(saved: unknown, where: string): Layer[] {
  if (!Array.isArray(saved)) throw new ValueError(`${where}: layers must be a list of { className, config }`);
  return saved.map((entry, i) => {
    const { className, config } = (entry ?? {}) as { className?: unknown; config?: unknown };
    if (typeof className !== 'string' || config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new ValueError(`${where}: layers[${i}] must be { className, config }`);
    }
    return layerFromConfig(className, config as Record<string, unknown>, `${where} layer ${i}`);
  });
}

/** getConfig() writes regularisers as their { l1, l2 } config; the constructors take regulariser objects. */
function reviveConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const [key, value] of Object.entries(config)) {
    if (!key.endsWith('Regularizer') || value === null || typeof value !== 'object') continue;
    const { l1 = 0, l2 = 0 } = value as { l1?: unknown; l2?: unknown };
    if (typeof l1 !== 'number' || typeof l2 !== 'number') throw new ValueError(`${key} must be { l1, l2 } with numbers, got ${JSON.stringify(value)}`);
    out[key] = l1l2({ l1, l2 });
  }
  return out;
}
