/**
 * The shape of one registered option and the builders the registry uses to declare them. A builder ties
 * the parser, the default and its printed form together, so help text, the example file and the typed
 * value can never disagree about what an option accepts.
 */
import path from 'node:path';
import { formatDurationMs } from '../core/index.ts';
import {
  InvalidValueError,
  fail,
  formatListenAddress,
  parseBoolean,
  parseChoice,
  parseDuration,
  parseInteger,
  parseListenAddress,
  parseNumberAbove,
  parseStringList,
  parseText,
} from './values.ts';
import type { ListItemRule, ListenAddress, ValueOrigin } from './values.ts';

export type ConfigMode = 'user' | 'system';
export type EnvMap = Readonly<Record<string, string | undefined>>;

/** What a default may depend on: never the uid, never the real environment unless the caller passes it. */
export interface DefaultContext {
  readonly mode: ConfigMode;
  readonly env: EnvMap;
  readonly cwd: string;
  /** The system-mode root, /srv/vigo outside tests. */
  readonly systemDir: string;
}

export interface ParseContext {
  readonly origin: ValueOrigin;
  /** Relative paths resolve here: the YAML file's directory, or the cwd for env and flags. */
  readonly baseDir: string;
}

export interface ConfigOption<T> {
  /** Short type name for help, e.g. "duration". */
  readonly type: string;
  readonly doc: string;
  /** The environment variable that sets it. */
  readonly env: string;
  /** The long flag (without dashes) that sets it, if any. */
  readonly flag: string | undefined;
  /** Whether a SIGHUP reload applies a new value without a restart. */
  readonly reloadable: boolean;
  /** The default as server.yaml would spell it, or a description when it depends on the machine or mode. */
  readonly defaultText: string;
  readonly defaultValue: (ctx: DefaultContext) => T;
  /** Parses a raw value or throws InvalidValueError. */
  readonly parse: (raw: unknown, ctx: ParseContext) => T;
  /**
   * Renders a value as server.yaml would spell it. Method syntax on purpose: it keeps every
   * ConfigOption<T> assignable to ConfigOption<unknown> for code that walks the whole registry.
   */
  format(value: T): string;
}

interface OptionBase {
  readonly doc: string;
  readonly env: string;
  readonly flag?: string;
  readonly reloadable?: boolean;
}

function declare<T>(
  base: OptionBase,
  spec: Pick<ConfigOption<T>, 'type' | 'parse' | 'format' | 'defaultText' | 'defaultValue'>,
): ConfigOption<T> {
  return { ...spec, doc: base.doc, env: base.env, flag: base.flag, reloadable: base.reloadable ?? false };
}

/** Parses a fixed default once, at declaration, so a bad default fails the first test that imports the registry. */
function fixedDefault<T>(parse: (raw: unknown, ctx: ParseContext) => T, raw: unknown): () => T {
  const value = parse(raw, { origin: 'file', baseDir: '/' });
  return () => value;
}

export function listenOption(base: OptionBase & { default: string }): ConfigOption<ListenAddress> {
  const parse = (raw: unknown): ListenAddress => parseListenAddress(raw);
  return declare(base, {
    type: 'listen address',
    parse,
    format: (value) => JSON.stringify(formatListenAddress(value)),
    defaultText: JSON.stringify(base.default),
    defaultValue: fixedDefault(parse, base.default),
  });
}

/** A Go-style duration in server.yaml; the typed value is milliseconds. */
export function durationOption(
  base: OptionBase & { default: string; allowZero?: boolean },
): ConfigOption<number> {
  const minMs = base.allowZero === true ? 0 : 1;
  const parse = (raw: unknown): number => parseDuration(raw, minMs);
  return declare(base, {
    type: 'duration',
    parse,
    format: (value) => JSON.stringify(formatDurationMs(value)),
    defaultText: JSON.stringify(base.default),
    defaultValue: fixedDefault(parse, base.default),
  });
}

export function booleanOption(base: OptionBase & { default: boolean }): ConfigOption<boolean> {
  const parse = (raw: unknown, ctx: ParseContext): boolean => parseBoolean(raw, ctx.origin);
  return declare(base, {
    type: 'boolean',
    parse,
    format: (value) => String(value),
    defaultText: String(base.default),
    defaultValue: fixedDefault(parse, base.default),
  });
}

export function integerOption(
  base: OptionBase & { default: number; min: number; max?: number },
): ConfigOption<number> {
  const parse = (raw: unknown, ctx: ParseContext): number =>
    parseInteger(raw, ctx.origin, base.min, base.max);
  return declare(base, {
    type: 'integer',
    parse,
    format: (value) => String(value),
    defaultText: String(base.default),
    defaultValue: fixedDefault(parse, base.default),
  });
}

export function numberOption(
  base: OptionBase & { default: number; greaterThan: number },
): ConfigOption<number> {
  const parse = (raw: unknown, ctx: ParseContext): number =>
    parseNumberAbove(raw, ctx.origin, base.greaterThan);
  return declare(base, {
    type: 'number',
    parse,
    format: (value) => String(value),
    defaultText: String(base.default),
    defaultValue: fixedDefault(parse, base.default),
  });
}

export function choiceOption<const V extends string>(
  base: OptionBase & { values: readonly V[]; default: NoInfer<V> },
): ConfigOption<V> {
  const parse = (raw: unknown): V => parseChoice(raw, base.values);
  return declare(base, {
    type: base.values.join('|'),
    parse,
    format: (value) => value,
    defaultText: base.default,
    defaultValue: fixedDefault(parse, base.default),
  });
}

export function listOption(
  base: OptionBase & { default: readonly string[]; item: ListItemRule },
): ConfigOption<readonly string[]> {
  const parse = (raw: unknown, ctx: ParseContext): readonly string[] =>
    parseStringList(raw, ctx.origin, base.item);
  const format = (value: readonly string[]): string => `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
  return declare(base, {
    type: 'list',
    parse,
    format,
    defaultText: format(base.default),
    defaultValue: fixedDefault(parse, base.default),
  });
}

/** A name such as a host name: a string the `accepts` test passes; the default may depend on the machine. */
export function textOption(
  base: OptionBase & {
    expected: string;
    accepts: (text: string) => boolean;
    defaultText: string;
    defaultValue: (ctx: DefaultContext) => string;
  },
): ConfigOption<string> {
  return declare(base, {
    type: 'string',
    parse: (raw) => parseText(raw, base.expected, base.accepts),
    format: (value) => JSON.stringify(value),
    defaultText: base.defaultText,
    defaultValue: base.defaultValue,
  });
}

/**
 * A structured value (a list of mappings) that only server.yaml or an environment variable holding JSON
 * can set. `read` returns the parsed value or the problems found, each a sentence naming its place.
 */
export function structuredOption<T>(
  base: OptionBase & {
    expected: string;
    read: (raw: unknown, baseDir: string) => { value: T; problems: readonly string[] };
    defaultRaw: unknown;
  },
): ConfigOption<T> {
  const parse = (raw: unknown, ctx: ParseContext): T => {
    let value = raw;
    if (ctx.origin === 'text') {
      try {
        value = JSON.parse(String(raw));
      } catch {
        fail(`${base.expected} written as JSON`, raw, 'it is not valid JSON');
      }
    }
    const result = base.read(value, ctx.baseDir);
    if (result.problems.length > 0) throw new InvalidValueError(result.problems.join('; '));
    return result.value;
  };
  return declare(base, {
    type: base.expected,
    parse,
    format: (value) => JSON.stringify(value),
    defaultText: JSON.stringify(base.defaultRaw),
    defaultValue: fixedDefault(parse, base.defaultRaw),
  });
}

/**
 * A directory (or a file, with `what: 'file'`). Relative values resolve against the YAML file's directory
 * (file) or the cwd (env, flag), so the typed value is always absolute, or '' where `emptyMeans` allows it.
 */
export function pathOption(
  base: OptionBase & {
    defaultText: string;
    defaultValue: (ctx: DefaultContext) => string;
    emptyMeans?: string;
    what?: 'directory' | 'file';
  },
): ConfigOption<string> {
  const kind = `a ${base.what ?? 'directory'} path`;
  const expected = base.emptyMeans === undefined ? kind : `${kind}, or "" for ${base.emptyMeans}`;
  const parse = (raw: unknown, ctx: ParseContext): string => {
    if (typeof raw !== 'string') fail(expected, raw);
    const text = raw.trim();
    if (text === '') return base.emptyMeans === undefined ? fail(expected, raw) : '';
    if (text.includes('\0')) fail(expected, raw, 'it contains a NUL byte');
    return path.resolve(ctx.baseDir, text);
  };
  return declare(base, {
    type: 'path',
    parse,
    format: (value) => JSON.stringify(value),
    defaultText: base.defaultText,
    defaultValue: base.defaultValue,
  });
}
