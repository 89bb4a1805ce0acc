// The benchmarks' command lines, parsed one way: each benchmark lists its options as a map from flag to kind (below),
// each kind with the field it sets, its default and one line of help. `--help` prints them; an unknown flag, a
// missing value or a bad one is an error that names the flag. No imports, so that a test can load it without a build.

/** A switch: the flag sets `key` to true (default false). */
export const flag = (key, help) => ({ key, initial: false, help, take: () => true });

/** A switch off: the flag (--no-...) sets `key` to false (default true). */
export const unflag = (key, help) => ({ key, initial: true, help, take: () => false });

/** A switch that sets several fields at once (e.g. --quick), in command-line order: later flags override it. */
export const preset = (values, help) => ({ values, help });

/** A whole number >= `min` (default 1). */
export const int = (key, initial, help, min = 1) =>
  ({ key, initial, help, arg: "N", take: (v, name) => whole(name, v, min, "a whole number") });

/** A comma-separated list of whole numbers >= `min`. */
export const ints = (key, initial, help, min = 1) =>
  ({ key, initial, help, arg: "N,N,...", take: (v, name) => v.split(",").map((s) => whole(name, s, min, "whole numbers")) });

/** One of `choices` (`arg`: its name in the help, the choices themselves unless given). */
export const oneOf = (key, initial, choices, help, arg = choices.join("|")) =>
  ({ key, initial, help, arg, take: (v, name) => known(name, [v], choices)[0] });

/** A comma-separated list of some of `choices`. */
export const someOf = (key, initial, choices, help) =>
  ({ key, initial, help, arg: "a,b,...", take: (v, name) => known(name, v.split(","), choices) });

/** Words without a flag (`node bench/gemm.mjs node chromium`), each one of `choices`; the key under "" in the
 * options. */
export const words = (key, choices, help) =>
  ({ key, initial: [], help, arg: `[${choices.join("|")}]...`, positional: true, take: (v, name) => known(name, [v], choices)[0] });

/** Any text (a file name). */
export const text = (key, initial, help, arg = "TEXT") => ({ key, initial, help, arg, take: (v) => v });

/**
 * `argv` read against `options` (flag -> kind): an object of every kind's field, its default unless the command line
 * sets it, and `help: true` when --help or -h is given. Throws an Error naming the flag at the first unknown flag,
 * missing value or bad value.
 */
export function parseArgs(argv, options) {
  const o = { help: false };
  for (const kind of Object.values(options)) if (kind.key) o[kind.key] = Array.isArray(kind.initial) ? [...kind.initial] : kind.initial;
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    if (name === "--help" || name === "-h") {
      o.help = true;
      continue;
    }
    if (!name.startsWith("-")) {
      if (!options[""]) throw new Error(`unexpected argument ${name}`);
      o[options[""].key].push(options[""].take(name, options[""].key));
      continue;
    }
    const kind = Object.hasOwn(options, name) ? options[name] : null;
    if (!kind) throw new Error(`unknown option ${name}`);
    if (kind.values) Object.assign(o, structuredClone(kind.values));
    else if (!kind.arg) o[kind.key] = kind.take();
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith("--")) throw new Error(`${name} needs a value (${kind.arg})`);
      o[kind.key] = kind.take(v, name);
      i++;
    }
  }
  return o;
}

/** The --help text: `usage`, then one line per option with its argument, help and default. */
export function helpText(usage, options) {
  const heads = Object.entries(options).map(([name, kind]) => (kind.positional ? kind.arg : kind.arg ? `${name} ${kind.arg}` : name));
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  const lines = Object.values(options).map((kind, i) => {
    const d = kind.initial;
    const shown = d == null || typeof d === "boolean" || (Array.isArray(d) && !d.length) ? "" : ` (default ${Array.isArray(d) ? d.join(",") : d})`;
    return `  ${heads[i].padEnd(width)}${kind.help}${shown}`;
  });
  return `${usage}\n\n${lines.join("\n")}\n  ${"--help".padEnd(width)}this list`;
}

/**
 * This process's command line for the benchmark `script` (e.g. "bench/gpt.mjs"): --help prints `usage` and the
 * options and exits 0; an error (from parsing or from `check(args)`, which throws for combinations the kinds cannot
 * express) is printed as "script: message" and exits 2.
 */
export function commandLine(script, { usage, options, check }) {
  let o;
  try {
    o = parseArgs(process.argv.slice(2), options);
    if (o.help) {
      console.log(helpText(usage, options));
      process.exit(0);
    }
    check?.(o);
  } catch (err) {
    console.error(`${script}: ${err.message} (--help lists the options)`);
    process.exit(2);
  }
  return o;
}

/** The --only, --markdown and --child options of a benchmark that compares `systems` (`only`: those run by default;
 * `children`: those that run as a child of this script, the others under Python). */
export function systemOptions(systems, { only = systems, children = systems } = {}) {
  return {
    "--only": someOf("only", only, systems, `the systems to run, some of ${systems.join(", ")}`),
    "--markdown": flag("markdown", "also print the Markdown table for bench/README.md"),
    "--child": oneOf("child", null, children, `(run by the parent) measure one of ${children.join(", ")}, print one JSON line`, "NAME"),
  };
}

function whole(name, v, min, what) {
  const n = Number(v);
  if (v === "" || !Number.isInteger(n) || n < min) throw new Error(`${name} takes ${what} >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function known(name, list, choices) {
  const bad = list.filter((s) => !choices.includes(s));
  if (bad.length) throw new Error(`${name}: unknown ${bad.map((s) => JSON.stringify(s)).join(", ")} (known: ${choices.join(", ")})`);
  return list;
}
