// `npm test`: the kernel specs (as-pect), the type checks of the CLI and of the tests, the node:test files of the CLI,
// of this runner and of the layout, then ONE runtime suite (tests/runtime/*.test.ts, uvu) run against the built
// package in Node, Deno, Bun and headless Chromium, then the browser playground's test, and last the packed package
// in a scratch project with the npm and JSR publish dry runs (scripts/package-check.mjs). Any failure anywhere fails
// the run. Each runtime also reports the hashes of seeded training runs; all four must report them and agree bit for
// bit. Some stages only: `node scripts/test.mjs types cli` (kernels types cli scripts structure node deno bun
// chromium playground package).
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { ChromiumNotFound, findChromium, launchChromium } from './chromium.mjs';
import { serve } from './serve.mjs';

const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
const results = []; // { name, passed, failed, reports }

async function main() {
  const only = process.argv.slice(2); // e.g. `node scripts/test.mjs node chromium`
  const want = (name) => only.length === 0 || only.includes(name);
  if (want('kernels')) results.push(await runKernels());
  if (want('types')) for (const project of TYPE_CHECKS) results.push(await runTypeCheck(project));
  if (want('cli')) results.push(await runNodeTests('cli', 'tests/cli'));
  if (want('scripts')) results.push(await runNodeTests('scripts', 'tests/scripts')); // this runner without a browser
  // the layout's checks (import ladder, no cycles), when the branch has them
  if (want('structure') && existsSync('tests/structure')) results.push(await runNodeTests('structure', 'tests/structure'));
  const runtimes = [
    ['node', () => runProcess('node', process.execPath, ['build/tests/suite.js'])],
    ['deno', () => runProcess('deno', 'node_modules/.bin/deno', ['run', '--no-prompt', '--allow-read', '--allow-write=build', '--allow-env', 'build/tests/suite.js'])],
    ['bun', () => runProcess('bun', 'node_modules/.bin/bun', ['build/tests/suite.js'])],
    ['chromium', runChromium],
  ].filter(([name]) => want(name));
  if (runtimes.length) await bundleSuite();
  for (const [, run] of runtimes) results.push(await run());
  if (want('playground')) results.push(await runPlayground());
  if (want('package')) results.push(await runPackageChecks());
  summarise();
}

async function runKernels() {
  const out = await capture(process.execPath, ['node_modules/@as-pect/cli/bin/asp', '--no-logo', '--summary']);
  const m = /\[Tests\]:\s*(\d+)\s*\/\s*(\d+)/.exec(stripAnsi(out.text));
  const passed = m ? Number(m[1]) : 0;
  const total = m ? Number(m[2]) : 0;
  const failed = out.code !== 0 || !m ? Math.max(total - passed, 1) : total - passed;
  if (failed) console.log(out.text);
  return line({ name: 'kernels (as-pect)', passed, failed, reports: {} });
}

// tsc over what the build's own type check (tsconfig.json: the library) leaves out; each project counts as one check
const TYPE_CHECKS = ['tsconfig.cli.json', 'tsconfig.tests.json'];

async function runTypeCheck(project) {
  const out = await capture(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project, '--pretty', 'false']);
  if (out.code !== 0) console.log(out.text);
  return line({ name: `types (tsc -p ${project})`, passed: out.code === 0 ? 1 : 0, failed: out.code === 0 ? 0 : 1, reports: {} });
}

// node:test files (tests/cli, tests/structure), counted from the TAP summary
async function runNodeTests(name, dir) {
  const out = await capture(process.execPath, ['--test', '--test-reporter=tap', dir]);
  const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(out.text)?.[1] ?? 0);
  const passed = count('pass');
  let failed = count('fail') + count('cancelled');
  if (out.code !== 0 && failed === 0) failed = 1; // crashed, or no summary
  if (failed) console.log(out.text);
  return line({ name: `${name} (node --test ${dir})`, passed, failed, reports: {} });
}

async function bundleSuite() {
  const files = readdirSync('tests/runtime').filter((f) => f.endsWith('.test.ts')).sort();
  mkdirSync('build/tests', { recursive: true });
  writeFileSync('build/tests/entry.ts', files.map((f) => `import '../../tests/runtime/${f}';`).join('\n') + '\n');
  await build({
    entryPoints: ['build/tests/entry.ts'],
    outfile: 'build/tests/suite.js',
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['import'],
    target: 'es2022',
    external: ['wasmnn', 'wasmnn/*'], // every runtime loads the built package, as users do
    plugins: [nodeBuiltins],
    logLevel: 'warning',
  });
}

// TF.js (bundled for the agreement test) reaches for Node's built-ins on its Node paths. `util` is read as TF.js
// loads (TextEncoder, TextDecoder, types): it gets the web globals it needs. The rest (fs, streams, http for
// node-fetch, ...) are never called by the suite and load as empty modules, so one bundle runs in all four runtimes.
const NODE_BUILTINS = new Set([...builtinModules, 'node-fetch']);
const UTIL_SHIM = `export const TextEncoder = globalThis.TextEncoder, TextDecoder = globalThis.TextDecoder;
export const types = { isFloat32Array: (a) => a instanceof Float32Array, isInt32Array: (a) => a instanceof Int32Array,
  isUint8Array: (a) => a instanceof Uint8Array, isUint8ClampedArray: (a) => a instanceof Uint8ClampedArray };
export default { TextEncoder, TextDecoder, types };`;
const nodeBuiltins = {
  name: 'node-builtins',
  setup(b) {
    b.onResolve({ filter: /^[\w:-]+$/ }, (a) => {
      const name = a.path.replace(/^node:/, '');
      return NODE_BUILTINS.has(name) ? { path: name, namespace: 'node-builtin' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (a) => ({ contents: a.path === 'util' ? UTIL_SHIM : 'export default {};', loader: 'js' }));
  },
};

async function runProcess(name, command, args) {
  const out = await capture(command, args);
  return line(parseUvu(name, out.text, out.code));
}

// No browser on the machine: one line saying what to install, and the stage fails (CI installs Debian's chromium).
async function browserMissing(name) {
  try {
    await findChromium();
    return undefined;
  } catch (e) {
    if (!(e instanceof ChromiumNotFound)) throw e;
    console.log(`${name}: ${e.message}`);
    return line({ name, passed: 0, failed: 1, reports: {}, absent: true });
  }
}

async function runChromium() {
  const missing = await browserMissing('chromium');
  if (missing) return missing;
  const server = await serve('.', 0);
  const browser = await launchChromium();
  let text = '';
  try {
    const page = await browser.context.newPage();
    const finished = new Promise((resolve) => {
      page.on('console', (msg) => {
        text += msg.text() + '\n';
        if (/Duration:/.test(msg.text())) resolve();
      });
      page.on('pageerror', (err) => {
        text += `page error: ${err.message}\n`;
        resolve();
      });
    });
    await page.goto(`${server.url}/tests/browser/index.html`);
    let timer;
    await Promise.race([finished, new Promise((r) => (timer = setTimeout(r, 15 * 60_000)))]);
    clearTimeout(timer);
  } finally {
    await browser.close();
    await server.close();
  }
  return line(parseUvu('chromium', text, 0));
}

// The playground (playground/) in Chromium: draws digits, trains in its worker, saves screenshots in build/playground/.
async function runPlayground() {
  const missing = await browserMissing('playground (chromium)');
  if (missing) return missing;
  const { run } = await import('../tests/playground/playground.test.mjs');
  const log = [];
  const result = await run({ log: (l) => log.push(l) });
  if (result.failed) console.log(log.join('\n'));
  return line({ name: 'playground (chromium)', passed: result.passed, failed: result.failed, reports: {} });
}

// The packed package in a user's project (types under nodenext, bundler and Deno; a run), and both publish dry runs
async function runPackageChecks() {
  const { checkPackage } = await import('./package-check.mjs');
  const checks = await checkPackage();
  for (const c of checks.filter((c) => !c.ok)) console.log(`FAIL ${c.name}\n${c.detail}`);
  const passed = checks.filter((c) => c.ok).length;
  return line({ name: 'package (npm pack, consumer, publish dry runs)', passed, failed: checks.length - passed, reports: {} });
}

function parseUvu(name, raw, code) {
  const text = stripAnsi(raw);
  const total = /Total:\s+(\d+)/.exec(text);
  const passedMatch = /Passed:\s+(\d+)/.exec(text);
  const skipped = /Skipped:\s+(\d+)/.exec(text);
  const reports = {};
  for (const m of text.matchAll(/^\[report\] (\w+)=(\S+)$/gm)) reports[m[1]] = m[2];
  const passed = passedMatch ? Number(passedMatch[1]) : 0;
  let failed = total ? Number(total[1]) - passed - (skipped ? Number(skipped[1]) : 0) : 1;
  if (code !== 0 && failed === 0) failed = 1; // crashed after counting
  if (failed) console.log(text.split('\n').filter((l) => !/^\s*[•✘ ]*$/.test(l)).join('\n'));
  return { name, passed, failed, reports };
}

function line(result) {
  console.log(`${result.name}: ${result.passed} passed, ${result.failed} failed`);
  return result;
}

const RUNTIMES = ['node', 'deno', 'bun', 'chromium'];
// reports that must be identical in every runtime: a seeded training run, and a saved checkpoint's bytes
const SAME_EVERYWHERE = ['determinism', 'checkpoint', 'determinism_cnn', 'determinism_pairs', 'determinism_rnn', 'determinism_rnn_pair', 'determinism_transformer', 'onnx_fuzz', 'generate_gpt'];

// the agreement test's worst differences from TF.js, per runtime (figures to read, not to compare)
function printAgreement() {
  for (const r of results) {
    const figures = Object.entries(r.reports).filter(([k]) => k.startsWith('agreement_')).map(([k, v]) => `${k.slice(10)}=${v}`);
    if (figures.length) console.log(`agreement with TF.js in ${r.name}: ${figures.join(' ')}`);
  }
}

// Every runtime that ran must report every hash (a missing one is a failure, not a skipped comparison), and the
// hashes must agree.
function summarise() {
  printAgreement();
  let extraFail = 0;
  const runtimes = results.filter((r) => RUNTIMES.includes(r.name) && !r.absent); // absent: no browser, said above
  for (const key of runtimes.length ? SAME_EVERYWHERE : []) {
    const missing = runtimes.filter((r) => !r.reports[key]).map((r) => r.name);
    if (missing.length) {
      console.log(`${key}: no hash reported by ${missing.join(', ')}`);
      extraFail++;
    }
    const seen = runtimes.filter((r) => r.reports[key]).map((r) => `${r.name}=${r.reports[key]}`);
    const distinct = new Set(seen.map((h) => h.split('=')[1]));
    if (distinct.size > 1) extraFail++;
    if (seen.length) console.log(`${key} across runtimes: ${distinct.size > 1 ? 'DIFFERENT' : seen.length > 1 ? 'identical' : 'one runtime'} (${seen.join(', ')})`);
  }
  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0) + extraFail;
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

function capture(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('error', (err) => resolve({ code: 1, text: text + `\ncould not start ${command}: ${err.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, text }));
  });
}

function stripAnsi(s) {
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

await main();
