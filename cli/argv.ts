/**
 * Splits a command line into words and flags. Every flag vigocli knows is declared with its arity, so
 * `--hostname web-*` and `--json list` are unambiguous wherever the flag appears; `--name=value` works
 * too, and `--` ends the flags.
 */
import { closestName as closest } from '../server/core/index.ts';
import { usageError } from './errors.ts';

export interface FlagSpec {
  /** Without dashes, e.g. "hostname". */
  readonly name: string;
  /** Placeholder for the value (e.g. "GLOB"); undefined for a switch. */
  readonly value?: string;
  readonly repeatable?: boolean;
  /** The command refuses to run without it. */
  readonly required?: boolean;
  readonly doc: string;
}

export interface ParsedFlag {
  readonly name: string;
  /** The value, or undefined for a switch. */
  readonly value: string | undefined;
}

export interface SplitArgv {
  readonly words: readonly string[];
  readonly flags: readonly ParsedFlag[];
}

const shortAliases: Readonly<Record<string, string>> = {
  '-h': 'help',
  '-f': 'follow',
  '-o': 'output-format',
};

export function splitArgv(argv: readonly string[], known: ReadonlyMap<string, FlagSpec>): SplitArgv {
  const words: string[] = [];
  const flags: ParsedFlag[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    const aliased = shortAliases[arg];
    if (!arg.startsWith('-') || arg === '-') {
      words.push(arg);
      continue;
    }
    // `-ojson` and `-o=json` work as well as `-o json`, as kubectl users type them.
    const attached =
      aliased === undefined && /^-o[^-]/.test(arg) ? arg.slice(2).replace(/^=/, '') : undefined;
    if (aliased === undefined && attached === undefined && !arg.startsWith('--')) {
      throw usageError(`unknown flag ${arg}: vigocli flags are spelled --name (see vigocli --help)`);
    }
    const body = aliased ?? (attached === undefined ? arg.slice(2) : `output-format=${attached}`);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const spec = known.get(name);
    if (spec === undefined) {
      const hint = closest(name, known.keys());
      throw usageError(`unknown flag --${name}${hint === undefined ? '' : `; did you mean --${hint}?`}`);
    }
    if (spec.value === undefined) {
      if (eq >= 0) throw usageError(`--${name} is a switch and takes no value`);
      flags.push({ name, value: undefined });
      continue;
    }
    let value: string | undefined = eq < 0 ? argv[i + 1] : body.slice(eq + 1);
    if (eq < 0) {
      if (value === undefined) throw usageError(`--${name} needs a value: --${name} ${spec.value}`);
      i += 1;
    }
    value ??= '';
    flags.push({ name, value });
  }
  return { words, flags };
}

export { closest };
