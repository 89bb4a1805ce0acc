// The package as users get it: `npm pack`, installed offline into a scratch project (build/package/consumer), where
// tests/package/consumer.ts type-checks under `module: nodenext` and under `moduleResolution: bundler` (with the
// repo's typescript, without skipLibCheck) and in Deno, and runs in Node; then `npm publish --dry-run` and
// `deno publish --dry-run` (JSR). Build first. Run by `npm test` (stage `package`), or alone:
// node scripts/package-check.mjs
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const DIR = join(ROOT, 'build/package');
const CONSUMER = join(DIR, 'consumer');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const DENO = join(ROOT, 'node_modules/.bin/deno');
// Under `npm test`, PATH starts with node_modules/.bin, which holds an npm 6 (a dependency of a dev dependency's): the
// children get PATH without it, so `npm` is the user's own.
const PATH = (process.env.PATH ?? '').split(delimiter).filter((d) => !/node_modules[\\/]\.bin[\\/]?$/.test(d)).join(delimiter);
const quiet = { ...process.env, PATH, NO_COLOR: '1', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

const TSCONFIGS = {
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out' },
  bundler: { module: 'esnext', moduleResolution: 'bundler', noEmit: true },
};

/** Runs the checks; returns [{ name, ok, detail }]. */
export async function checkPackage() {
  const checks = [];
  const check = async (name, fn) => {
    try {
      await fn();
      checks.push({ name, ok: true });
    } catch (e) {
      checks.push({ name, ok: false, detail: e.message });
    }
    return checks.at(-1).ok;
  };
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(CONSUMER, { recursive: true });
  const packed = await check('npm pack, installed offline into a scratch project', async () => {
    // --ignore-scripts: `prepare` would build again
    const [{ filename }] = JSON.parse(await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', DIR], ROOT));
    writeFileSync(join(CONSUMER, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
    await run('npm', ['install', '--offline', '--no-package-lock', '--ignore-scripts', join(DIR, filename)], CONSUMER);
    copyFileSync(join(ROOT, 'tests/package/consumer.ts'), join(CONSUMER, 'consumer.ts'));
  });
  for (const [name, options] of Object.entries(packed ? TSCONFIGS : {})) {
    const config = { compilerOptions: { target: 'es2022', strict: true, types: [], ...options }, files: ['consumer.ts'] };
    writeFileSync(join(CONSUMER, `tsconfig.${name}.json`), JSON.stringify(config, null, 2));
    await check(`the consumer type-checks with ${name} resolution`, () => run(process.execPath, [TSC, '-p', `tsconfig.${name}.json`, '--pretty', 'false'], CONSUMER));
  }
  if (packed) {
    // Deno, as a Deno project that installed the npm package (its own deno.json: not the repo's import map)
    writeFileSync(join(CONSUMER, 'deno.json'), JSON.stringify({ nodeModulesDir: 'manual' }, null, 2));
    await check('the consumer type-checks in Deno', () => run(DENO, ['check', '--config', 'deno.json', 'consumer.ts'], CONSUMER));
  }
  if (checks.every((c) => c.ok)) {
    await check('the consumer runs in Node against the installed package', () => run(process.execPath, ['out/consumer.js'], CONSUMER));
  }
  await check('npm publish --dry-run', () => run('npm', ['publish', '--dry-run', '--ignore-scripts'], ROOT));
  await check('deno publish --dry-run (JSR)', () => run(DENO, ['publish', '--dry-run', '--allow-dirty'], ROOT));
  return checks;
}

function run(command, args, cwd) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: quiet, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed:\n${`${stdout}${stderr}`.trim().slice(-3000)}`));
      else resolve(stdout);
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const checks = await checkPackage();
  for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? `\n${c.detail}` : ''}`);
  process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
}
