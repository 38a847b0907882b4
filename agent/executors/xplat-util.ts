/**
 * Helpers the cross-platform executors share: running a tool with a timeout and a failure message that
 * names the subject and the command, bounded downloads with checksum verification, and parameter readers
 * the file-family helpers do not have.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { tailLines } from './exec.ts';
import { ExecutorFailure, fail } from './fs-util.ts';
import type { CommandOptions, CommandResult, ExecutorContext } from './types.ts';

type Params = Readonly<Record<string, unknown>>;

/** A tool call that has no `timeout:` of its own: long enough for a slow mirror, short of forever. */
export const defaultToolTimeoutMs = 300_000;

/** Runs a program with a timeout; a non-zero exit fails with the subject, the command and its last output lines. */
export async function mustRun(
  ctx: ExecutorContext,
  subject: string,
  file: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  const r = await ctx.run(file, args, { timeoutMs: defaultToolTimeoutMs, ...options });
  if (r.exitCode !== 0) fail(commandFailure(subject, file, args, r));
  return r;
}

export function commandFailure(
  subject: string,
  file: string,
  args: readonly string[],
  r: CommandResult,
): string {
  const how = r.timedOut ? 'timed out' : `failed (exit ${r.exitCode ?? 'killed'})`;
  const out = tailLines(r.stderr || r.stdout, 5);
  return `${subject}: \`${[file, ...args].join(' ')}\` ${how}${out ? `: ${out}` : ''}`;
}

/** An environment for a tool: the agent's own, without prompts, plus `extra`. */
export function toolEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter((kv): kv is [string, string] => typeof kv[1] === 'string'),
  );
  return { ...base, LC_ALL: 'C', ...extra };
}

// ---- parameters ----------------------------------------------------------------------------------

export function optionalInt(params: Params, key: string, min: number, max: number): number | undefined {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A string or a list of strings, as a list. */
export function optionalStringList(params: Params, key: string): string[] {
  const v = params[key];
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    fail(`${key} must be a string or a list of strings`);
  }
  return v as string[];
}

export function oneOf<T extends string>(params: Params, key: string, allowed: readonly T[], fallback: T): T {
  const v = params[key] ?? fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(`${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** A timeout in seconds (`timeout:`) as milliseconds, or the default. */
export function timeoutMsParam(params: Params, fallbackMs = defaultToolTimeoutMs): number {
  const s = optionalInt(params, 'timeout', 1, 86_400);
  return s === undefined ? fallbackMs : s * 1000;
}

/** A URL with its user and password removed, for messages and stored configuration. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

// ---- checksums and downloads ---------------------------------------------------------------------

/** `sha256:<hex>` or bare 64-hex, lowercased; anything else is refused. */
export function parseSha256(value: string, field: string): string {
  const hex = value.startsWith('sha256:') ? value.slice('sha256:'.length) : value;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    fail(`${field} must be a SHA-256 digest (64 hex digits, optionally prefixed "sha256:")`);
  }
  return hex.toLowerCase();
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface DownloadLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

/**
 * Downloads an http(s) URL into `dest` (created 0600), refusing a body larger than maxBytes and stopping
 * at timeoutMs or when the agent shuts down. Credentials in the URL are never repeated in messages.
 */
export async function downloadFile(
  ctx: ExecutorContext,
  subject: string,
  url: string,
  dest: string,
  limits: DownloadLimits,
): Promise<void> {
  const shown = redactUrl(url);
  // fetch refuses URLs with credentials: they travel as a Basic Authorization header instead.
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    fail(`${subject}: ${shown} is not a valid URL`);
  }
  const headers: Record<string, string> = {};
  if (target.username !== '' || target.password !== '') {
    const user = decodeURIComponent(target.username);
    const pass = decodeURIComponent(target.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(limits.timeoutMs)]);
  let response: Response;
  try {
    response = await fetch(target, { signal, headers, redirect: 'follow' });
  } catch (err) {
    fail(`${subject}: downloading ${shown} failed: ${(err as Error).message.replaceAll(url, shown)}`);
  }
  if (!response.ok || response.body === null) {
    fail(`${subject}: downloading ${shown} failed: HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > limits.maxBytes) {
    await response.body.cancel();
    fail(`${subject}: ${shown} is ${declared} bytes, more than the ${limits.maxBytes}-byte limit`);
  }
  const handle = await fsp.open(dest, 'w', 0o600);
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += (chunk as Uint8Array).length;
      if (size > limits.maxBytes) fail(`${subject}: ${shown} exceeds the ${limits.maxBytes}-byte limit`);
      await handle.write(chunk as Uint8Array);
    }
  } catch (err) {
    await handle.close();
    await fsp.rm(dest, { force: true });
    if (err instanceof ExecutorFailure) throw err;
    fail(`${subject}: downloading ${shown} failed: ${(err as Error).message}`);
  }
  await handle.close();
}
