/**
 * Where vigocli connects and with which credential. The data directory is worked out by the server's
 * own config code, so `vigocli --system` and `vigosrv --system` (or the same --data-dir,
 * VIGO_DATA_DIR, VIGO_SYSTEM, XDG_DATA_HOME) agree on where ca.crt and the local-admin token live.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { ResolvedPaths } from '../server/config/index.ts';
import { loadConfig, resolvePaths } from '../server/config/index.ts';
import { CliError, cliExitCodes, usageError } from './errors.ts';

export const defaultServerUrl = 'https://localhost:8443';

export interface GlobalOptions {
  readonly server: string | undefined;
  readonly ca: string | undefined;
  readonly dataDir: string | undefined;
  readonly system: boolean;
  readonly token: string | undefined;
}

export interface Environment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** Only the variables that decide where the data directory is; other VIGO_* settings are the server's. */
const dataDirEnvNames = ['XDG_DATA_HOME', 'VIGO_SYSTEM', 'VIGO_DATA_DIR', 'VIGO_CONFIG_FILE'] as const;

export function serverUrl(options: GlobalOptions): URL {
  const text = options.server ?? defaultServerUrl;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--server ${JSON.stringify(text)} is not a URL; give one like ${defaultServerUrl}`);
  }
  if (url.protocol !== 'https:') {
    throw usageError(
      `--server ${text}: vigosrv serves its API over HTTPS only; use https://${url.host || 'host:8443'}`,
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw usageError(`--server ${text}: give only scheme, host, port and an optional path prefix`);
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

export function readCaFile(options: GlobalOptions, environment: Environment): { file: string; pem: string } {
  const file = options.ca ?? path.join(serverPaths(options, environment).tlsDir, 'ca.crt');
  try {
    return { file, pem: readFileSync(file, 'utf8') };
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new CliError(
      cliExitCodes.unreachable,
      'cli.unreachable',
      `cannot read the server's CA certificate ${file} (${reason}); pass --ca with a copy of the server's tls/ca.crt`,
    );
  }
}

export function userTokenFile(environment: Environment): string {
  const configHome = environment.env['XDG_CONFIG_HOME'];
  const base =
    configHome !== undefined && path.isAbsolute(configHome) ? configHome : path.join(homedir(), '.config');
  return path.join(base, 'vigo', 'token');
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
    const token = readFileSync(file, 'utf8').trim();
    return token === '' ? undefined : token;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    if (!skipUnreadable) throw credentialError(`cannot read the token file ${file}: ${code}`);
    notes.push(`${file}: ${code}`);
    return undefined;
  }
}

/** Where the presented token was found: `vigocli auth status` tells the operator which one is in use. */
export type CredentialSource = 'flag' | 'env' | 'user-file' | 'local-admin-file';

export interface ResolvedCredential {
  readonly token: string;
  readonly source: CredentialSource;
  /** The file it was read from, for the two file sources. */
  readonly file?: string;
}

/**
 * The token to present: --token, else VIGO_TOKEN, else ~/.config/vigo/token, else the server's
 * local-admin token file (readable only as the user vigosrv runs as). Token files must not be
 * readable by group or others.
 */
export function resolveCredential(options: GlobalOptions, environment: Environment): ResolvedCredential {
  if (options.token !== undefined && options.token.trim() !== '')
    return { token: options.token.trim(), source: 'flag' };
  const fromEnv = environment.env['VIGO_TOKEN']?.trim();
  if (fromEnv !== undefined && fromEnv !== '') return { token: fromEnv, source: 'env' };
  const notes: string[] = [];
  const userFile = userTokenFile(environment);
  const fromUserFile = readTokenFile(userFile, false, notes);
  if (fromUserFile !== undefined) return { token: fromUserFile, source: 'user-file', file: userFile };
  const localAdminFile = serverPaths(options, environment).localAdminTokenFile;
  const fromLocalAdmin = readTokenFile(localAdminFile, true, notes);
  if (fromLocalAdmin !== undefined)
    return { token: fromLocalAdmin, source: 'local-admin-file', file: localAdminFile };
  throw credentialError(
    `no credential: pass --token, set VIGO_TOKEN, write a token to ${userFile} (mode 0600), or run on the ` +
      `server host as the user vigosrv runs as, which reads ${localAdminFile}` +
      (notes.length > 0 ? ` (${notes.join('; ')})` : ''),
  );
}

export function resolveToken(options: GlobalOptions, environment: Environment): string {
  return resolveCredential(options, environment).token;
}
