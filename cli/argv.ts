/**
 * Splits a command line into words and flags. Every flag vigocli knows is declared with its arity, so
 * `--hostname web-*` and `--json list` are unambiguous wherever the flag appears; `--name=value` works
 * too, and `--` ends the flags.
 */
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

const shortAliases: Readonly<Record<string, string>> = { '-h': 'help' };

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = levenshtein(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

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
    if (aliased === undefined && !arg.startsWith('--')) {
      throw usageError(`unknown flag ${arg}: vigocli flags are spelled --name (see vigocli --help)`);
    }
    const body = aliased ?? arg.slice(2);
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
