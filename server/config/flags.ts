/**
 * vigosrv's command line: `--flag value` or `--flag=value` for registry options, plus the flags that
 * steer loading itself (--config, --system, --notify-fd, --help, --version). Values are checked later by
 * the option parsers; this file only rejects what is not a flag at all.
 */
import { configKeys, configRegistry } from './registry.ts';
import type { ConfigKey } from './registry.ts';
import type { ConfigProblem } from './problems.ts';
import { throwProblems } from './problems.ts';
import { closestName as closest } from '../core/index.ts';

export interface MetaFlag {
  readonly name: string;
  /** Placeholder for the value, or undefined for a switch. */
  readonly value: string | undefined;
  readonly env: string | undefined;
  readonly doc: string;
}

export const metaFlags: readonly MetaFlag[] = [
  {
    name: 'config',
    value: 'FILE',
    env: 'VIGO_CONFIG_FILE',
    doc: 'Read server.yaml from FILE (default: /srv/vigo/server.yaml in system mode, if present).',
  },
  {
    name: 'system',
    value: undefined,
    env: 'VIGO_SYSTEM=1',
    doc: 'System mode: data in /srv/vigo (default: user mode, $XDG_DATA_HOME/vigo or ./.vigo).',
  },
  {
    name: 'notify-fd',
    value: 'N',
    env: 'VIGO_NOTIFY_FD',
    doc: 'Write one newline to file descriptor N once ready to serve (s6 readiness).',
  },
  { name: 'help', value: undefined, env: undefined, doc: 'Print this help and exit.' },
  { name: 'version', value: undefined, env: undefined, doc: 'Print the version and exit.' },
];

export interface FlagValue {
  /** As typed, e.g. "--grpc-listen". */
  readonly flag: string;
  readonly key: ConfigKey;
  readonly text: string;
}

export interface ParsedArgs {
  /** Registry option values in command-line order; a later repeat wins. */
  readonly values: readonly FlagValue[];
  readonly configFile: string | undefined;
  readonly system: boolean;
  readonly notifyFd: string | undefined;
  readonly help: boolean;
  readonly version: boolean;
}

const optionFlags: ReadonlyMap<string, ConfigKey> = new Map(
  configKeys.flatMap((key): [string, ConfigKey][] => {
    const flag = configRegistry[key].flag;
    return flag === undefined ? [] : [[flag, key]];
  }),
);
const metaByName: ReadonlyMap<string, MetaFlag> = new Map(metaFlags.map((flag) => [flag.name, flag]));
const shortAliases: Readonly<Record<string, string>> = { '-h': 'help' };

function unknownFlag(arg: string): ConfigProblem {
  const name = arg.replace(/^-+/, '').split('=')[0] ?? '';
  const suggestion = closest(name, [...optionFlags.keys(), ...metaByName.keys()]);
  const hint = suggestion === undefined ? '' : `; did you mean --${suggestion}?`;
  const shown = arg.split('=')[0] ?? arg;
  const message = arg.startsWith('-')
    ? `unknown flag ${shown}${hint} (vigosrv --help lists every flag)`
    : `unexpected argument ${JSON.stringify(arg)}: vigosrv takes only flags (vigosrv --help lists them)`;
  return { code: 'config.flag', name: arg.startsWith('-') ? shown : undefined, message };
}

function splitFlag(arg: string): { name: string | undefined; inline: string | undefined } {
  const aliased = shortAliases[arg];
  if (aliased !== undefined) return { name: aliased, inline: undefined };
  const match = /^--([a-z][a-z0-9-]*)(?:=([\s\S]*))?$/.exec(arg);
  return { name: match?.[1], inline: match?.[2] };
}

/** The value after a flag, if the next argument is one: a following "--flag" means it was forgotten. */
function nextValue(argv: readonly string[], i: number, prefix: string): string | undefined {
  const next = argv[i + 1];
  return next !== undefined && !next.startsWith(prefix) ? next : undefined;
}

/** Parses argv without the node binary and script (process.argv.slice(2)); throws config.flag. */
export function parseArgv(argv: readonly string[]): ParsedArgs {
  const problems: ConfigProblem[] = [];
  const values: FlagValue[] = [];
  const meta = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const { name, inline } = splitFlag(arg);
    const key = name === undefined ? undefined : optionFlags.get(name);
    const metaFlag = name === undefined ? undefined : metaByName.get(name);
    if (name === undefined || (key === undefined && metaFlag === undefined)) {
      problems.push(unknownFlag(arg));
      // Skip what was probably the unknown flag's value, so one mistake is reported once.
      if (arg.startsWith('-') && !arg.includes('=') && nextValue(argv, i, '-') !== undefined) i++;
      continue;
    }
    const flag = `--${name}`;
    if (metaFlag?.value === undefined && key === undefined) {
      if (inline !== undefined) problems.push({ code: 'config.flag', name: flag, message: 'takes no value' });
      else meta.set(name, true);
      continue;
    }
    // A boolean option's flag is a switch: alone it means true; --flag=false sets it off.
    if (key !== undefined && configRegistry[key].type === 'boolean' && inline === undefined) {
      values.push({ flag, key, text: 'true' });
      continue;
    }
    // A value that really starts with "--" is written --flag=value.
    const following = inline === undefined ? nextValue(argv, i, '--') : undefined;
    if (following !== undefined) i++;
    const text = inline ?? following;
    if (text === undefined || text === '') {
      const example = metaFlag?.value ?? 'VALUE';
      problems.push({ code: 'config.flag', name: flag, message: `needs a value: ${flag} ${example}` });
    } else if (key !== undefined) values.push({ flag, key, text });
    else meta.set(name, text);
  }
  throwProblems(problems);
  return argsFrom(values, meta);
}

function argsFrom(values: readonly FlagValue[], meta: ReadonlyMap<string, string | true>): ParsedArgs {
  const text = (name: string): string | undefined => {
    const value = meta.get(name);
    return typeof value === 'string' ? value : undefined;
  };
  return {
    values,
    configFile: text('config'),
    system: meta.has('system'),
    notifyFd: text('notify-fd'),
    help: meta.has('help'),
    version: meta.has('version'),
  };
}
