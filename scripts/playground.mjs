// `npm run serve`: the browser playground (playground/). Prepares its data and shipped model with the CLI when they
// are missing (build/playground/: `wasmnn prepare-playground`), then serves the repository on 127.0.0.1 and prints
// the page's URL. PORT picks the port (default 8080; a free one when that is taken). The Text tab's character models
// take minutes to train, so they are not made here: it says how when they are missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { serve } from './serve.mjs';

export const ASSETS = 'build/playground';
const FILES = ['mnist.bin.gz', 'model.wnn', 'model.json'];

/** Runs `wasmnn prepare-playground` unless its files are there; throws when it fails. */
export function preparePlayground({ log = console.log } = {}) {
  if (FILES.every((f) => existsSync(`${ASSETS}/${f}`))) return false;
  if (!existsSync('dist/cli.js')) throw new Error('dist/cli.js is missing: run `npm run build` first');
  log(`preparing the playground's data and shipped model in ${ASSETS}/ (once; about 30 s)…`);
  const run = spawnSync(process.execPath, ['dist/cli.js', 'prepare-playground', '--out', ASSETS], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`wasmnn prepare-playground failed:\n${run.stdout}${run.stderr}`);
  run.stdout.trim().split('\n').forEach((line) => log(`  ${line}`));
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  preparePlayground();
  const port = Number(process.env.PORT ?? 8080);
  const server = await serve('.', port, { home: '/playground/' }).catch((e) => {
    if (e.code !== 'EADDRINUSE') throw e;
    console.log(`port ${port} is taken; using a free one`);
    return serve('.', 0, { home: '/playground/' });
  });
  console.log(`wasmnn playground: ${server.url}/playground/  (Ctrl+C stops the server)`);
  if (!existsSync(`${ASSETS}/text/models.json`)) {
    console.log('the Text tab has no character models yet: train them with `node dist/cli.js train --dataset moby-dick ' +
      '--model lstm|gpt`, then `node dist/cli.js prepare-playground --text-only --lstm FILE --gpt FILE` (README: Playground)');
  }
}
