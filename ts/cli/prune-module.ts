// The inference module cut down to one model (for `wasmnn bundle`), with Binaryen: every export but the kernels the
// bundle's JavaScript calls removed, the cases of act_forward's activation switch that the model never asks for
// turned into a trap, and then what nothing reaches any more dropped (remove-unused-module-elements, then Binaryen's
// size optimisations). The code that is left is the module's own, so the bits are the library's.
import * as nn from 'wasmnn';
import type binaryen from 'binaryen';
import { MissingPackageError } from './dataset';

/**
 * The module with only `keep`'s functions (and its memory) exported, each under the name `keep` maps it to, and what
 * only the others used removed; act_forward keeps the cases of `activations` (module activation codes) and linear's.
 */
export async function pruneModule(wasm: Uint8Array, keep: Map<string, string>, activations: Set<number>): Promise<{ bytes: Uint8Array; kernels: string[] }> {
  const binaryen = (await optional<typeof import('binaryen')>('binaryen')).default;
  const mod = binaryen.readBinary(wasm);
  try {
    mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.SignExt |
      binaryen.Features.NontrappingFPToInt | binaryen.Features.MutableGlobals | binaryen.Features.BulkMemory);
    if (keep.has('act_forward')) pruneActivationSwitch(binaryen, mod, activations);
    const kernels: string[] = [];
    for (let i = mod.getNumExports() - 1; i >= 0; i--) {
      const info = binaryen.getExportInfo(mod.getExportByIndex(i));
      if (info.kind !== binaryen.ExternalFunction) continue;
      mod.removeExport(info.name);
      const name = keep.get(info.name);
      if (name === undefined) continue;
      mod.addFunctionExport(info.value, name);
      if (info.name !== 'heap_base') kernels.push(info.name);
    }
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(2);
    mod.runPasses(['remove-unused-module-elements']);
    mod.optimize();
    if (!mod.validate()) throw new Error('the pruned module does not validate');
    return { bytes: mod.emitBinary(), kernels: kernels.sort() };
  } finally {
    mod.dispose();
  }
}

type Binaryen = typeof binaryen;
type Module = InstanceType<Binaryen['Module']>;

/** act_forward(x, y, n, act, alpha): its activation code is parameter 3. */
const ACT_PARAM = 3;

/** The setters of binaryen.js's expression classes used here (in binaryen.js, not in its type declarations). */
interface ExpressionSetters {
  Switch: { setNameAt(expr: number, index: number, name: string): void };
  Block: { setChildAt(expr: number, index: number, child: number): void };
}

/**
 * act_forward's per-vector switch (assembly/activations.ts's forward4, a br_table on act - c) with the cases of
 * codes not in `keep` sent to an `unreachable` instead: their math is then dead code that the optimiser drops, and a
 * code the bundle was not made for traps rather than computing something else. Linear (the default target, for
 * code 0 and unknown codes) stays. A module whose act_forward does not have this shape is left whole.
 */
function pruneActivationSwitch(b: Binaryen, mod: Module, keep: Set<number>): void {
  const fn = mod.getFunction(b.getExportInfo(mod.getExport('act_forward')).value);
  const switches: { expr: number; parent: number; index: number }[] = [];
  const walk = (expr: number, parent: number, index: number) => {
    const info = b.getExpressionInfo(expr) as unknown as Record<string, unknown> & { id: number };
    if (info.id === b.SwitchId) switches.push({ expr, parent, index });
    // the switch is a statement: only control flow and statement values lead to it
    const fields = { [b.BlockId]: ['children'], [b.LoopId]: ['body'], [b.IfId]: ['condition', 'ifTrue', 'ifFalse'], [b.LocalSetId]: ['value'], [b.DropId]: ['value'] }[info.id] ?? [];
    for (const field of fields) {
      const v = info[field];
      if (Array.isArray(v)) v.forEach((child: number, i: number) => walk(child, expr, i));
      else if (typeof v === 'number' && v) walk(v, expr, -1);
    }
  };
  walk(b.getFunctionInfo(fn).body, 0, -1);
  const set = b as unknown as ExpressionSetters;
  for (const { expr, parent, index } of switches) {
    const info = b.getExpressionInfo(expr) as binaryen.SwitchInfo;
    const offset = caseOffset(b, info.condition);
    if (offset === null || index < 0 || b.getExpressionInfo(parent).id !== b.BlockId) continue;
    const trap = 'wasmnn_pruned_activation';
    let pruned = 0;
    for (let i = 0; i < info.names.length; i++) {
      if (!keep.has(i + offset)) {
        set.Switch.setNameAt(expr, i, trap);
        pruned++;
      }
    }
    if (pruned) set.Block.setChildAt(parent, index, mod.block(null, [mod.block(trap, [expr]), mod.unreachable()]));
  }
}

/** The switch's condition as `act` or `act - c` (i32): c, the code of the first case; null for anything else. */
function caseOffset(b: Binaryen, condition: number): number | null {
  const isAct = (e: number) => b.getExpressionId(e) === b.LocalGetId && (b.getExpressionInfo(e) as binaryen.LocalGetInfo).index === ACT_PARAM;
  if (isAct(condition)) return 0;
  if (b.getExpressionId(condition) !== b.BinaryId) return null;
  const sub = b.getExpressionInfo(condition) as binaryen.BinaryInfo;
  if (sub.op !== b.SubInt32 || !isAct(sub.left) || b.getExpressionId(sub.right) !== b.ConstId) return null;
  const value = (b.getExpressionInfo(sub.right) as binaryen.ConstInfo).value;
  return typeof value === 'number' ? value : null;
}

/**
 * The module activation codes a model passes to act_forward and bias_act_forward: every activation its layers hold
 * (the layers inside layers too), and, as a check on that, the codes seen while it predicts a sample of ones.
 */
export function activationCodes(model: nn.Sequential): Set<number> {
  const Layer = nn.layers.Layer;
  const codes = new Set<number>([0]);
  const seen = new Set<object>();
  const visit = (v: unknown, depth: number) => {
    if (v === null || typeof v !== 'object' || seen.has(v) || depth > 8) return;
    seen.add(v);
    const o = v as Record<string, unknown>;
    if (typeof o.code === 'number' && typeof o.name === 'string' && typeof o.alpha === 'number') codes.add(o.code);
    if (v instanceof Layer) {
      const act = v.activation;
      if (act) codes.add(act.code);
    }
    if (Array.isArray(v) || v instanceof Layer || Object.getPrototypeOf(v) === Object.prototype) {
      for (const child of Object.values(o)) visit(child, depth + 1);
    }
  };
  model.network.layers.forEach((l) => visit(l, 0));
  const env = model.network.env;
  const kernels = env.k;
  const traced = (f: (...a: number[]) => unknown, at: number) => (...a: number[]) => (codes.add(a[at]), f(...a));
  env.k = new Proxy(kernels, {
    get: (k, name) => name === 'act_forward' ? traced(k.act_forward, 3) : name === 'bias_act_forward' ? traced(k.bias_act_forward, 5) : k[name as keyof typeof k],
  });
  try {
    const per = model.inputShape.reduce((a, d) => a * d, 1);
    model.predict(nn.tensor(new Float32Array(2 * per).fill(1), [2, ...model.inputShape]));
  } catch {
    // a model whose inputs cannot be ones (ids out of range): the layers' own activations are the list
  } finally {
    env.k = kernels;
  }
  return codes;
}

/** A package the bundler needs at bundle time only (esbuild, binaryen): a clear line when it is missing. */
export async function optional<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new MissingPackageError(`wasmnn bundle builds with the npm packages esbuild and binaryen, and ${name} is not installed: run 'npm install --save-dev esbuild binaryen'`);
  }
}
