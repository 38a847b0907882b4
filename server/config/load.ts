/**
 * Builds vigosrv's configuration from, in increasing precedence: registry defaults, server.yaml,
 * VIGO_* environment variables and flags. Every problem of every source is reported in one VigoError.
 *
 * Empty environment variables count as unset (as XDG_DATA_HOME does), since service managers and
 * compose files often leave a variable defined but blank. Unknown VIGO_* variables are ignored: the
 * environment is shared with other programs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgv } from './flags.ts';
import type { ParsedArgs } from './flags.ts';
import type { ConfigMode, DefaultContext, EnvMap } from './options.ts';
import { systemDir as defaultSystemDir } from './paths.ts';
import type { ConfigProblem } from './problems.ts';
import { throwProblems } from './problems.ts';
import { configKeys, configRegistry, reloadableKeys } from './registry.ts';
import type { ConfigKey, ConfigSource, ServerConfig } from './registry.ts';
import { parseBoolean, InvalidValueError } from './values.ts';
import { readConfigFile } from './yaml-file.ts';

export interface LoadInput {
  /** Arguments after the program name: process.argv.slice(2). */
  readonly argv: readonly string[];
  readonly env: EnvMap;
  /** Relative paths from flags and env resolve here, as does the user-mode ./.vigo. */
  readonly cwd: string;
  /** The system-mode root; /srv/vigo unless a test points it elsewhere. */
  readonly systemDir?: string;
}

export interface LoadedConfig {
  readonly config: ServerConfig;
  readonly mode: ConfigMode;
  /** The server.yaml that was read (absolute), or undefined when only defaults, env and flags apply. */
  readonly configFile: string | undefined;
  readonly notifyFd: number | undefined;
  readonly help: boolean;
  readonly version: boolean;
  /** Where each key's value came from. */
  readonly sources: Readonly<Record<ConfigKey, ConfigSource>>;
}

type Layer = ReadonlyMap<ConfigKey, unknown>;

function envText(env: EnvMap, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function parseMode(args: ParsedArgs, env: EnvMap, problems: ConfigProblem[]): ConfigMode {
  if (args.system) return 'system';
  const text = envText(env, 'VIGO_SYSTEM');
  if (text === undefined) return 'user';
  try {
    return parseBoolean(text, 'text') ? 'system' : 'user';
  } catch (err) {
    if (!(err instanceof InvalidValueError)) throw err;
    problems.push({ code: 'config.wrong_type', name: 'VIGO_SYSTEM', message: err.message });
    return 'user';
  }
}

function parseNotifyFd(args: ParsedArgs, env: EnvMap, problems: ConfigProblem[]): number | undefined {
  const fromFlag = args.notifyFd !== undefined;
  const text = args.notifyFd ?? envText(env, 'VIGO_NOTIFY_FD');
  if (text === undefined) return undefined;
  if (/^\d{1,9}$/.test(text.trim())) return Number(text.trim());
  problems.push({
    code: 'config.wrong_type',
    name: fromFlag ? '--notify-fd' : 'VIGO_NOTIFY_FD',
    message: `expected a file descriptor number such as 3, got ${JSON.stringify(text)}`,
  });
  return undefined;
}

/** --config, else VIGO_CONFIG_FILE, else (system mode) <systemDir>/server.yaml when it exists, else none. */
function chooseConfigFile(args: ParsedArgs, input: LoadInput, mode: ConfigMode): string | undefined {
  const explicit = args.configFile ?? envText(input.env, 'VIGO_CONFIG_FILE');
  if (explicit !== undefined) return path.resolve(input.cwd, explicit);
  if (mode !== 'system') return undefined;
  const candidate = path.join(input.systemDir ?? defaultSystemDir, 'server.yaml');
  return fs.existsSync(candidate) ? candidate : undefined;
}

function parseText(
  key: ConfigKey,
  text: string,
  cwd: string,
  name: string,
  problems: ConfigProblem[],
): unknown {
  try {
    return configRegistry[key].parse(text, { origin: 'text', baseDir: cwd });
  } catch (err) {
    if (!(err instanceof InvalidValueError)) throw err;
    problems.push({ code: 'config.wrong_type', key, name, message: `${key}: ${err.message}` });
    return undefined;
  }
}

function readEnv(env: EnvMap, cwd: string, problems: ConfigProblem[]): Layer {
  const layer = new Map<ConfigKey, unknown>();
  for (const key of configKeys) {
    const name = configRegistry[key].env;
    const text = envText(env, name);
    if (text === undefined) continue;
    const value = parseText(key, text, cwd, name, problems);
    if (value !== undefined) layer.set(key, value);
  }
  return layer;
}

function readFlags(args: ParsedArgs, cwd: string, problems: ConfigProblem[]): Layer {
  const layer = new Map<ConfigKey, unknown>();
  for (const { flag, key, text } of args.values) {
    const value = parseText(key, text, cwd, flag, problems);
    if (value !== undefined) layer.set(key, value);
  }
  return layer;
}

function assemble(
  ctx: DefaultContext,
  layers: ReadonlyArray<readonly [ConfigSource, Layer]>,
): Pick<LoadedConfig, 'config' | 'sources'> {
  const values: Record<string, unknown> = {};
  const sources = {} as Record<ConfigKey, ConfigSource>;
  for (const key of configKeys) {
    let value: unknown = configRegistry[key].defaultValue(ctx);
    let source: ConfigSource = 'default';
    for (const [layerSource, layer] of layers) {
      if (!layer.has(key)) continue;
      value = layer.get(key);
      source = layerSource;
    }
    values[key] = value;
    sources[key] = source;
  }
  // Sound by construction: every value came from configRegistry[key]'s own parser or default.
  return { config: Object.freeze(values) as ServerConfig, sources: Object.freeze(sources) };
}

/**
 * Loads the configuration; throws VigoError (config.*) listing every problem. --help and --version
 * skip server.yaml and the environment so they work even when the configuration is broken.
 */
export function loadConfig(input: LoadInput): LoadedConfig {
  const args = parseArgv(input.argv);
  const systemDir = input.systemDir ?? defaultSystemDir;
  if (args.help || args.version) {
    const mode: ConfigMode = args.system ? 'system' : 'user';
    const ctx: DefaultContext = { mode, env: input.env, cwd: input.cwd, systemDir };
    const base = assemble(ctx, []);
    return {
      ...base,
      mode,
      configFile: undefined,
      notifyFd: undefined,
      help: args.help,
      version: args.version,
    };
  }
  const problems: ConfigProblem[] = [];
  const mode = parseMode(args, input.env, problems);
  const notifyFd = parseNotifyFd(args, input.env, problems);
  const configFile = chooseConfigFile(args, input, mode);
  const file = configFile === undefined ? undefined : readConfigFile(configFile);
  problems.unshift(...(file?.problems ?? []));
  const envLayer = readEnv(input.env, input.cwd, problems);
  const flagLayer = readFlags(args, input.cwd, problems);
  throwProblems(problems);
  const ctx: DefaultContext = { mode, env: input.env, cwd: input.cwd, systemDir };
  const layers = [
    ['file', file?.values ?? new Map()],
    ['env', envLayer],
    ['flag', flagLayer],
  ] as const;
  return { ...assemble(ctx, layers), mode, configFile, notifyFd, help: false, version: false };
}

export interface ConfigReload {
  /** The configuration now in effect: new values for reloadable keys, the running ones for the rest. */
  readonly loaded: LoadedConfig;
  /** Reloadable keys whose value changed. */
  readonly applied: readonly ConfigKey[];
  /** Keys whose value changed in the sources but only takes effect after a restart. */
  readonly restartRequired: readonly ConfigKey[];
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Re-reads every source for SIGHUP. Throws like loadConfig when the new configuration is invalid, in
 * which case the caller keeps running on `previous`. Only keys in reloadableKeys change.
 */
export function reloadConfig(previous: LoadedConfig, input: LoadInput): ConfigReload {
  const next = loadConfig(input);
  const values: Record<string, unknown> = {};
  const sources = {} as Record<ConfigKey, ConfigSource>;
  const applied: ConfigKey[] = [];
  const restartRequired: ConfigKey[] = [];
  for (const key of configKeys) {
    const changed = !sameValue(previous.config[key], next.config[key]);
    const live = reloadableKeys.has(key);
    if (changed) (live ? applied : restartRequired).push(key);
    const from = live ? next : previous;
    values[key] = from.config[key];
    sources[key] = from.sources[key];
  }
  const loaded: LoadedConfig = {
    ...next,
    config: Object.freeze(values) as ServerConfig,
    sources: Object.freeze(sources),
  };
  return { loaded, applied, restartRequired };
}
