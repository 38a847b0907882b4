/**
 * Where vigocli connects and with which credential. Each setting is taken from the first of: a flag
 * (--server, --ca, --token), the environment (VIGO_SERVER, VIGO_CA, VIGO_TOKEN), the saved context named
 * by --context or VIGO_CONTEXT, the current saved context, and last the local server's defaults. The data
 * directory is worked out by the server's own config code, so `vigocli --system` and `vigosrv --system`
 * (or the same --data-dir, VIGO_DATA_DIR, VIGO_SYSTEM, XDG_DATA_HOME) agree on where ca.crt and the
 * local-admin token live.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ResolvedPaths } from '../server/config/index.ts';
import { loadConfig, resolvePaths } from '../server/config/index.ts';
import type { ContextsFile, SavedContext } from './contexts.ts';
import { caPemProblem, contextNameError, contextsFilePath, readContexts, userConfigDir } from './contexts.ts';
import { CliError, cliExitCodes, usageError } from './errors.ts';

export const defaultServerUrl = 'https://localhost:8443';

export interface GlobalOptions {
  readonly server: string | undefined;
  readonly ca: string | undefined;
  readonly dataDir: string | undefined;
  readonly system: boolean;
  readonly token: string | undefined;
  /** --context NAME */
  readonly context: string | undefined;
}

export interface Environment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** Only the variables that decide where the data directory is; other VIGO_* settings are the server's. */
const dataDirEnvNames = ['XDG_DATA_HOME', 'VIGO_SYSTEM', 'VIGO_DATA_DIR', 'VIGO_CONFIG_FILE'] as const;

/** Parses a server URL given as `what` (--server, VIGO_SERVER, a context): https, no credentials or query. */
export function parseServerUrl(text: string, what = '--server'): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`${what} ${JSON.stringify(text)} is not a URL; give one like ${defaultServerUrl}`);
  }
  if (url.protocol !== 'https:') {
    throw usageError(
      `${what} ${text}: vigosrv serves its API over HTTPS only; use https://${url.host || 'host:8443'}`,
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw usageError(`${what} ${text}: give only scheme, host, port and an optional path prefix`);
  }
  return url;
}

export function serverPaths(options: GlobalOptions, environment: Environment): ResolvedPaths {
  const argv = [
    ...(options.system ? ['--system'] : []),
    ...(options.dataDir !== undefined ? ['--data-dir', options.dataDir] : []),
  ];
  const env = Object.fromEntries(dataDirEnvNames.map((name) => [name, environment.env[name]]));
  try {
    return resolvePaths(loadConfig({ argv, env, cwd: environment.cwd }).config);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw usageError(
      `cannot work out the server's data directory (${detail}); pass --data-dir, or --ca and --token`,
    );
  }
}

/** A CA certificate file is a few kilobytes; anything larger is not one. */
const maxCaFileBytes = 64 * 1024;
/** An API token file holds one token and a newline. */
const maxTokenFileBytes = 4096;

function unreachable(message: string): CliError {
  return new CliError(cliExitCodes.unreachable, 'cli.unreachable', message);
}

export function readCaPemFile(file: string): string {
  let pem: string;
  try {
    if (statSync(file).size > maxCaFileBytes)
      throw unreachable(`${file} is larger than ${maxCaFileBytes} bytes: not a CA certificate`);
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw unreachable(
      `cannot read the server's CA certificate ${file} (${reason}); pass --ca with a copy of the server's tls/ca.crt`,
    );
  }
  return pem;
}

/** The single token file older vigocli versions wrote; still read, after the saved contexts. */
export function userTokenFile(environment: Environment): string {
  return path.join(userConfigDir(environment.env), 'token');
}

function credentialError(message: string): CliError {
  return new CliError(cliExitCodes.auth, 'cli.credentials', message);
}

/** A token file's content, or undefined when it does not exist (or cannot be read, with `skipUnreadable`). */
function readTokenFile(file: string, skipUnreadable: boolean, notes: string[]): string | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (skipUnreadable) {
      notes.push(`${file}: ${code ?? String(err)}`);
      return undefined;
    }
    throw credentialError(`cannot read the token file ${file}: ${code ?? String(err)}`);
  }
  if ((mode & 0o077) !== 0) {
    throw credentialError(
      `refusing the token file ${file}: its mode is ${(mode & 0o777).toString(8).padStart(4, '0')}, so others ` +
        `may read it; run "chmod 600 ${file}"`,
    );
  }
  try {
    if (statSync(file).size > maxTokenFileBytes)
      throw credentialError(`refusing the token file ${file}: larger than ${maxTokenFileBytes} bytes`);
    const token = readFileSync(file, 'utf8').trim();
    return token === '' ? undefined : token;
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    if (!skipUnreadable) throw credentialError(`cannot read the token file ${file}: ${code}`);
    notes.push(`${file}: ${code}`);
    return undefined;
  }
}

/** Where the presented token was found: `vigocli auth status` tells the operator which one is in use. */
export type CredentialSource = 'flag' | 'env' | 'context' | 'user-file' | 'local-admin-file';

export interface ResolvedCredential {
  readonly token: string;
  readonly source: CredentialSource;
  /** The file it was read from, for the two file sources. */
  readonly file?: string;
  /** The saved context it came from, for the context source. */
  readonly context?: string;
}

/** Where a setting came from, for `vigocli context show` and `auth status`. */
export type SettingSource = 'flag' | 'env' | 'context' | 'default';

export interface SelectedContext {
  readonly name: string;
  /** --context, VIGO_CONTEXT, or the current context. */
  readonly selectedBy: 'flag' | 'env' | 'current';
  readonly context: SavedContext;
}

export interface ResolvedCa {
  readonly pem: string;
  readonly source: SettingSource;
  /** The file, unless the PEM is the copy saved in a context. */
  readonly file?: string;
}

/** Every connection setting of one invocation, each worked out (and its files read) only when needed. */
export interface Settings {
  readonly contextsFile: string;
  /** The legacy single-token file. */
  readonly userTokenFile: string;
  /** The saved contexts; throws when the file is refused. */
  contexts(): ContextsFile;
  /** The context --context, VIGO_CONTEXT or the current one selects; undefined when none is. */
  selected(): SelectedContext | undefined;
  server(): { url: URL; source: SettingSource };
  /**
   * The selected context when the server in use is its server: a context's CA and token are never
   * presented to another server given by --server or VIGO_SERVER.
   */
  activeContext(): SelectedContext | undefined;
  ca(): ResolvedCa;
  credential(): ResolvedCredential;
  /** The name --context or VIGO_CONTEXT gives, whether or not such a context is saved yet. */
  readonly explicitContext: string | undefined;
  /** The same settings with no context at all: for saving a context that does not exist yet. */
  withoutContexts(): Settings;
}

function given(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function sameServer(a: URL, b: URL): boolean {
  const strip = (u: URL): string => `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  return strip(a) === strip(b);
}

export function resolveSettings(
  options: GlobalOptions,
  environment: Environment,
  ignoreContexts = false,
): Settings {
  const env = environment.env;
  const contextsFile = contextsFilePath(env);
  const legacyTokenFile = userTokenFile(environment);
  let loaded: ContextsFile | undefined;
  const contexts = (): ContextsFile => (loaded ??= readContexts(contextsFile));

  const named = options.context !== undefined ? { name: options.context, by: 'flag' as const } : undefined;
  const fromEnv = given(env['VIGO_CONTEXT']);
  const explicit = named ?? (fromEnv === undefined ? undefined : { name: fromEnv, by: 'env' as const });
  let selection: { value: SelectedContext | undefined } | undefined;
  const selected = (): SelectedContext | undefined => {
    if (selection !== undefined) return selection.value;
    if (ignoreContexts) return undefined;
    const file = contexts();
    let value: SelectedContext | undefined;
    if (explicit !== undefined) {
      const what = explicit.by === 'flag' ? '--context' : 'VIGO_CONTEXT';
      const problem = contextNameError(explicit.name);
      if (problem !== undefined) throw usageError(`${what}: ${problem}`);
      const context = file.contexts[explicit.name];
      if (context === undefined) {
        const names = Object.keys(file.contexts);
        throw new CliError(
          cliExitCodes.usage,
          'cli.context_unknown',
          `${what} ${explicit.name}: no such saved context (${names.length === 0 ? 'none are saved; "vigocli auth login --server URL --ca FILE --context NAME" saves one' : `saved: ${names.join(', ')}`})`,
        );
      }
      value = { name: explicit.name, selectedBy: explicit.by, context };
    } else if (file.current !== null) {
      const context = file.contexts[file.current] as SavedContext;
      value = { name: file.current, selectedBy: 'current', context };
    }
    selection = { value };
    return value;
  };

  const serverFlag = given(options.server);
  const serverEnv = given(env['VIGO_SERVER']);
  let server: { url: URL; source: SettingSource } | undefined;
  const resolveServer = (): { url: URL; source: SettingSource } => {
    if (server !== undefined) return server;
    if (serverFlag !== undefined) server = { url: parseServerUrl(serverFlag), source: 'flag' };
    else if (serverEnv !== undefined)
      server = { url: parseServerUrl(serverEnv, 'VIGO_SERVER'), source: 'env' };
    else {
      const context = selected();
      server =
        context === undefined
          ? { url: parseServerUrl(defaultServerUrl), source: 'default' }
          : {
              url: parseServerUrl(context.context.server, `context ${context.name}'s server`),
              source: 'context',
            };
    }
    return server;
  };

  const activeContext = (): SelectedContext | undefined => {
    const { url, source } = resolveServer();
    const context = selected();
    if (context === undefined) return undefined;
    return source === 'context' || sameServer(url, new URL(context.context.server)) ? context : undefined;
  };

  const ca = (): ResolvedCa => {
    const flag = given(options.ca);
    if (flag !== undefined) return { pem: readCaPemFile(flag), source: 'flag', file: flag };
    const fromEnvFile = given(env['VIGO_CA']);
    if (fromEnvFile !== undefined)
      return { pem: readCaPemFile(fromEnvFile), source: 'env', file: fromEnvFile };
    // A context's own token stays with its server; so does its CA.
    const context = activeContext();
    if (context?.context.caPem !== undefined) return { pem: context.context.caPem, source: 'context' };
    const file = path.join(serverPaths(options, environment).tlsDir, 'ca.crt');
    return { pem: readCaPemFile(file), source: 'default', file };
  };

  const credential = (): ResolvedCredential => {
    const flag = given(options.token);
    if (flag !== undefined) return { token: flag, source: 'flag' };
    const fromEnvToken = given(env['VIGO_TOKEN']);
    if (fromEnvToken !== undefined) return { token: fromEnvToken, source: 'env' };
    const context = activeContext();
    if (context?.context.token !== undefined)
      return { token: context.context.token, source: 'context', context: context.name };
    const notes: string[] = [];
    const fromUserFile = readTokenFile(legacyTokenFile, false, notes);
    if (fromUserFile !== undefined)
      return { token: fromUserFile, source: 'user-file', file: legacyTokenFile };
    // The local-admin token belongs to this host's server; a server a saved context names (often
    // another host) never gets it.
    if (resolveServer().source === 'context') {
      throw credentialError(
        `no credential for context ${context?.name ?? selected()?.name ?? ''}: run "vigocli auth login" ` +
          `(or "vigocli auth set-token"), pass --token, or set VIGO_TOKEN`,
      );
    }
    const localAdminFile = serverPaths(options, environment).localAdminTokenFile;
    const fromLocalAdmin = readTokenFile(localAdminFile, true, notes);
    if (fromLocalAdmin !== undefined)
      return { token: fromLocalAdmin, source: 'local-admin-file', file: localAdminFile };
    throw credentialError(
      `no credential: run "vigocli auth login", pass --token, set VIGO_TOKEN, or run on the server host ` +
        `as the user vigosrv runs as, which reads ${localAdminFile}` +
        (notes.length > 0 ? ` (${notes.join('; ')})` : ''),
    );
  };

  return {
    contextsFile,
    userTokenFile: legacyTokenFile,
    contexts,
    selected,
    server: resolveServer,
    activeContext,
    ca,
    credential,
    explicitContext: explicit?.name,
    withoutContexts: () => resolveSettings(options, environment, true),
  };
}

/** Checks a CA certificate read from a file before it is saved into a context. */
export function checkCaPem(pem: string, file: string): void {
  const problem = caPemProblem(pem);
  if (problem !== undefined) throw usageError(`--ca ${file}: ${problem}`);
}
