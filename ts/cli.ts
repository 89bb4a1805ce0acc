// The `wasmnn` command. Exit codes: 0 done, 1 the run failed (bad data, a training error), 2 a bad command line.
import { WasmnnError } from 'wasmnn';
import { MissingPackageError } from './cli/dataset';
import { ATTENTION_HELP, attention, parseAttentionOptions } from './cli/attention';
import { GENERATE_HELP, generate, parseGenerateOptions } from './cli/generate';
import { MAIN_HELP, TRAIN_HELP, UsageError, parseTrainOptions } from './cli/options';
import { PLAYGROUND_HELP, parsePlaygroundOptions, preparePlayground } from './cli/playground';
import { IMPORT_HELP, importModel, parseImportOptions } from './cli/import';
import { endProgressLine } from './cli/progress';
import { train } from './cli/train';
import { bundle, bundleReport } from './cli/bundle';
import { BUNDLE_HELP, INFO_HELP, PREDICT_HELP, parseBundleOptions, parseInfoOptions, parsePredictOptions } from './cli/edge-options';
import { info, predict } from './cli/predict';

/** Commands beside train: each parses its arguments (undefined: help was asked for) and runs. */
const COMMANDS: Record<string, { help: string; run(args: string[]): Promise<boolean> }> = {
  attention: {
    help: ATTENTION_HELP,
    async run(args) {
      const options = parseAttentionOptions(args);
      if (options) await attention(options);
      return Boolean(options);
    },
  },
  bundle: {
    help: BUNDLE_HELP,
    async run(args) {
      const options = parseBundleOptions(args);
      if (options) console.log(bundleReport(await bundle(options)));
      return Boolean(options);
    },
  },
  info: {
    help: INFO_HELP,
    async run(args) {
      const options = parseInfoOptions(args);
      if (options) console.log(await info(options.model));
      return Boolean(options);
    },
  },
  generate: {
    help: GENERATE_HELP,
    async run(args) {
      const options = parseGenerateOptions(args);
      if (options) await generate(options);
      return Boolean(options);
    },
  },
  import: {
    help: IMPORT_HELP,
    async run(args) {
      const options = parseImportOptions(args);
      if (options) await importModel(options);
      return Boolean(options);
    },
  },
  predict: {
    help: PREDICT_HELP,
    async run(args) {
      const options = parsePredictOptions(args);
      if (options) console.error(await predict(options)); // the predictions may be on stdout
      return Boolean(options);
    },
  },
};

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
  if (Object.hasOwn(COMMANDS, command)) {
    if (!(await COMMANDS[command].run(args))) process.stdout.write(COMMANDS[command].help);
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
