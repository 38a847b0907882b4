/**
 * Saved contexts: named servers vigocli talks to, each with a copy of the server's CA certificate and,
 * once signed in, an API token. They live in one file, `$XDG_CONFIG_HOME/vigo/contexts.json` (default
 * ~/.config/vigo/), 0600 in a 0700 directory, with one of them current — kubectl's habits.
 *
 * The file is parsed before anything in it is used: a file others may read, a file too large, or one
 * whose content is not exactly what vigocli writes is refused as a whole with a clear message.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { writePrivateFile } from '../server/core/index.ts';
import { CliError, cliExitCodes } from './errors.ts';

export interface SavedContext {
  /** The API's URL, https only. */
  readonly server: string;
  /** A copy of the server's CA certificate (PEM): it keeps working when the server's file moves. */
  readonly caPem?: string;
  /** The API token vigocli presents to this server (vgot_…). */
  readonly token?: string;
}

export interface ContextsFile {
  readonly current: string | null;
  readonly contexts: Readonly<Record<string, SavedContext>>;
}

export const contextLimits = {
  /** The whole file; a hundred contexts with their certificates fit many times over. */
  maxFileBytes: 1024 * 1024,
  maxContexts: 100,
  maxCaBytes: 64 * 1024,
  maxTokenLength: 512,
  maxServerLength: 2048,
} as const;

/** A context name: what `--context NAME` and `vigocli context use NAME` take. */
export const contextNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const emptyContexts: ContextsFile = { current: null, contexts: {} };

/** `$XDG_CONFIG_HOME/vigo`, or ~/.config/vigo: where the contexts file and the older token file live. */
export function userConfigDir(env: Readonly<Record<string, string | undefined>>): string {
  const configHome = env['XDG_CONFIG_HOME'];
  const base =
    configHome !== undefined && path.isAbsolute(configHome) ? configHome : path.join(homedir(), '.config');
  return path.join(base, 'vigo');
}

export function contextsFilePath(env: Readonly<Record<string, string | undefined>>): string {
  return path.join(userConfigDir(env), 'contexts.json');
}

function fileError(file: string, problem: string): CliError {
  return new CliError(
    cliExitCodes.error,
    'cli.context_file',
    `refusing the contexts file ${file}: ${problem}; fix or remove it ("vigocli help contexts" describes it)`,
  );
}

export function contextNameError(name: string): string | undefined {
  return contextNamePattern.test(name)
    ? undefined
    : `context names are 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit; got ${JSON.stringify(name.slice(0, 80))}`;
}

/** Why a CA certificate cannot be saved or used, or undefined when it is a readable PEM certificate. */
export function caPemProblem(pem: string): string | undefined {
  if (pem.length > contextLimits.maxCaBytes) return `larger than ${contextLimits.maxCaBytes} bytes`;
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return 'not a PEM certificate';
  try {
    new X509Certificate(pem);
  } catch (err) {
    return `not a readable certificate (${err instanceof Error ? err.message : String(err)})`;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseContext(name: string, value: unknown): SavedContext | string {
  if (!isRecord(value)) return `context ${name} is not an object`;
  const unknown = Object.keys(value).filter((k) => !['server', 'caPem', 'token'].includes(k));
  if (unknown.length > 0) return `context ${name} has unknown fields: ${unknown.join(', ')}`;
  const { server, caPem, token } = value;
  if (typeof server !== 'string' || server.length > contextLimits.maxServerLength)
    return `context ${name} has no valid server`;
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return `context ${name}: server ${JSON.stringify(server.slice(0, 80))} is not a URL`;
  }
  if (url.protocol !== 'https:') return `context ${name}: server is not an https:// URL`;
  if (caPem !== undefined) {
    if (typeof caPem !== 'string') return `context ${name}: caPem is not a string`;
    const problem = caPemProblem(caPem);
    if (problem !== undefined) return `context ${name}: its CA certificate is ${problem}`;
  }
  if (token !== undefined) {
    if (typeof token !== 'string' || token.length > contextLimits.maxTokenLength || !/^\S+$/.test(token))
      return `context ${name}: its token is not a token`;
  }
  return {
    server,
    ...(caPem === undefined ? {} : { caPem }),
    ...(token === undefined ? {} : { token }),
  };
}

/** Checks a parsed file; returns it, or what is wrong with it. */
export function parseContextsFile(value: unknown): ContextsFile | string {
  if (!isRecord(value)) return 'it is not a JSON object';
  const unknown = Object.keys(value).filter((k) => !['current', 'contexts'].includes(k));
  if (unknown.length > 0) return `unknown fields: ${unknown.join(', ')}`;
  const { current, contexts } = value;
  if (!isRecord(contexts)) return '"contexts" is not an object';
  const names = Object.keys(contexts);
  if (names.length > contextLimits.maxContexts) return `more than ${contextLimits.maxContexts} contexts`;
  const parsed: Record<string, SavedContext> = {};
  for (const name of names) {
    const nameProblem = contextNameError(name);
    if (nameProblem !== undefined) return nameProblem;
    const context = parseContext(name, contexts[name]);
    if (typeof context === 'string') return context;
    parsed[name] = context;
  }
  if (current !== null && current !== undefined) {
    if (typeof current !== 'string' || !(current in parsed)) return `"current" names no context in the file`;
  }
  return { current: typeof current === 'string' ? current : null, contexts: parsed };
}

/** The saved contexts; an absent file is no contexts. Refuses a file group or others can read. */
export function readContexts(file: string): ContextsFile {
  let stat;
  try {
    stat = statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return emptyContexts;
    throw fileError(file, `cannot read it (${code ?? String(err)})`);
  }
  if (!stat.isFile()) throw fileError(file, 'it is not a regular file');
  if ((stat.mode & 0o077) !== 0) {
    throw new CliError(
      cliExitCodes.auth,
      'cli.credentials',
      `refusing the contexts file ${file}: its mode is ${(stat.mode & 0o777).toString(8).padStart(4, '0')}, ` +
        `so others may read its tokens; run "chmod 600 ${file}"`,
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && uid !== 0 && stat.uid !== uid)
    throw fileError(file, `it belongs to uid ${stat.uid}, not to you`);
  if (stat.size > contextLimits.maxFileBytes)
    throw fileError(file, `it is larger than ${contextLimits.maxFileBytes} bytes`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw fileError(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  // The file may have grown between stat and read.
  if (text.length > contextLimits.maxFileBytes)
    throw fileError(file, `it is larger than ${contextLimits.maxFileBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw fileError(file, `it is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = parseContextsFile(value);
  if (typeof parsed === 'string') throw fileError(file, parsed);
  return parsed;
}

/** Writes the whole file atomically, 0600 in a 0700 directory. */
export function writeContexts(file: string, contexts: ContextsFile): void {
  const names = Object.keys(contexts.contexts);
  if (names.length > contextLimits.maxContexts) {
    throw new CliError(
      cliExitCodes.error,
      'cli.context_file',
      `at most ${contextLimits.maxContexts} contexts can be saved; delete some with "vigocli context delete NAME"`,
    );
  }
  try {
    writePrivateFile(file, `${JSON.stringify(contexts, null, 2)}\n`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new CliError(
      cliExitCodes.error,
      'cli.context_file',
      `cannot write the contexts file ${file}: ${code}`,
    );
  }
}

/** The same file with one context added or replaced (made current when `makeCurrent`). */
export function withContext(
  contexts: ContextsFile,
  name: string,
  context: SavedContext,
  makeCurrent: boolean,
): ContextsFile {
  return {
    current: makeCurrent || contexts.current === null ? name : contexts.current,
    contexts: { ...contexts.contexts, [name]: context },
  };
}

/** The SHA-256 fingerprint of a PEM certificate, as `openssl x509 -fingerprint -sha256` prints it. */
export function caFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}
