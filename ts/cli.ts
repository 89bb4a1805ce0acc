// The `wasmnn` command. Exit codes: 0 done, 1 the run failed (bad data, a training error), 2 a bad command line.
import { WasmnnError } from 'wasmnn';
import { MissingPackageError } from './cli/dataset';
import { GENERATE_HELP, generate, parseGenerateOptions } from './cli/generate';
import { MAIN_HELP, TRAIN_HELP, UsageError, parseTrainOptions } from './cli/options';
import { PLAYGROUND_HELP, parsePlaygroundOptions, preparePlayground } from './cli/playground';
import { endProgressLine } from './cli/progress';
import { train } from './cli/train';

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(MAIN_HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === 'prepare-playground') {
    const options = parsePlaygroundOptions(args);
    if (!options) process.stdout.write(PLAYGROUND_HELP);
    else await preparePlayground(options);
    return 0;
  }
  if (command === 'generate') {
    const options = parseGenerateOptions(args);
    if (!options) process.stdout.write(GENERATE_HELP);
    else await generate(options);
    return 0;
  }
  if (command !== 'train') throw new UsageError(`unknown command '${command}'`, "Run 'wasmnn help' for the commands.");
  const options = parseTrainOptions(args);
  if (!options) {
    process.stdout.write(TRAIN_HELP);
    return 0;
  }
  await train(options);
  return 0;
}

function explain(e: unknown): number {
  endProgressLine();
  if (e instanceof UsageError) {
    console.error(`wasmnn: ${e.message}${e.hint ? `\n${e.hint}` : ''}`);
    return 2;
  }
  if (e instanceof WasmnnError || e instanceof MissingPackageError || (e as NodeJS.ErrnoException)?.code?.startsWith?.('E')) {
    console.error(`wasmnn: ${(e as Error).message}`); // the library's and the file system's messages name the problem
    return 1;
  }
  console.error(e);
  return 1;
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code), (e) => (process.exitCode = explain(e)));
