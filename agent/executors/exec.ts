/**
 * The `exec` executor: runs `command` with /bin/sh -c, guarded so it runs only while needed — `creates`
 * (skip when the path exists), `onlyif` (run only when this command exits 0) and `unless` (skip when it
 * exits 0). Guards are evaluated in that order and also in dry run: they are read-only checks by contract,
 * and without them a dry run could not tell whether the command would run. A command with no guard runs at
 * every apply (the publish validator insists on a guard unless the resource is a notify handler).
 *
 * Guards run as the same user, group, cwd and environment as the command. When `timeout` is absent the
 * command runs without a limit (the agent's shutdown still stops it) but each guard is capped at
 * `defaultGuardTimeoutSeconds` so a hung check cannot stall the whole run.
 */
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import type {
  CommandOptions,
  CommandResult,
  CommandRunner,
  Executor,
  ExecutorContext,
  ExecutorResult,
} from './types.ts';

export const defaultGuardTimeoutSeconds = 300;
const fallbackPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The last `count` non-empty lines of `text`, joined with " | ", at most 500 characters. */
export function tailLines(text: string, count: number): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const out = lines.slice(-count).join(' | ');
  return out.length > 500 ? `…${out.slice(-499)}` : out;
}

/** Absolute path of an executable found on PATH (plus the sbin directories root normally has), or undefined. */
export function findExecutable(name: string, pathEnv: string = process.env.PATH ?? ''): string | undefined {
  const dirs = [...pathEnv.split(delimiter), ...fallbackPath.split(delimiter)].filter((d) => isAbsolute(d));
  for (const dir of new Set(dirs)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not in this directory; keep looking.
    }
  }
  return undefined;
}

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly gecos: string;
  readonly home: string;
  readonly shell: string;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** One NSS database entry split into fields; undefined when the key is unknown (getent exit 2). */
export async function getent(run: CommandRunner, db: string, key: string): Promise<string[] | undefined> {
  // A key getent would read as an option, or an empty one (which lists the whole database), matches nothing.
  if (key === '' || key.startsWith('-')) return undefined;
  const r = await run('getent', [db, key]);
  if (r.exitCode === 2) return undefined;
  if (r.exitCode !== 0) {
    throw new Error(`getent ${db} ${key} failed (exit ${r.exitCode}): ${tailLines(r.stderr, 3)}`);
  }
  return (r.stdout.split('\n')[0] ?? '').split(':');
}

/** Looks a user up by name or numeric id through NSS (files, LDAP, …); undefined when unknown. */
export async function lookupUser(run: CommandRunner, nameOrId: string): Promise<PasswdEntry | undefined> {
  const f = await getent(run, 'passwd', nameOrId);
  if (!f || f.length < 7) return undefined;
  return {
    name: f[0] ?? '',
    uid: Number(f[2]),
    gid: Number(f[3]),
    gecos: f[4] ?? '',
    home: f[5] ?? '',
    shell: f[6] ?? '',
  };
}

/** Looks a group up by name or numeric id; undefined when unknown. */
export async function lookupGroup(run: CommandRunner, nameOrId: string): Promise<GroupEntry | undefined> {
  const f = await getent(run, 'group', nameOrId);
  if (!f || f.length < 4) return undefined;
  const members = (f[3] ?? '').split(',').filter((m) => m !== '');
  return { name: f[0] ?? '', gid: Number(f[2]), members };
}

function shorten(command: string): string {
  const oneLine = command.replace(/\s*\n\s*/g, '; ');
  return oneLine.length > 200 ? `${oneLine.slice(0, 199)}…` : oneLine;
}

interface ExecParams {
  readonly command: string;
  readonly onlyif?: string;
  readonly unless?: string;
  readonly creates?: string;
  readonly timeoutSeconds?: number;
  readonly user?: string;
  readonly group?: string;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

function parseParams(p: Readonly<Record<string, unknown>>): ExecParams | string {
  if (typeof p.command !== 'string' || p.command.trim() === '') return 'exec needs a non-empty command';
  for (const k of ['onlyif', 'unless', 'creates', 'user', 'group', 'cwd'] as const) {
    if (p[k] !== undefined && (typeof p[k] !== 'string' || p[k] === ''))
      return `exec: ${k} must be a non-empty string`;
  }
  for (const k of ['creates', 'cwd'] as const) {
    if (typeof p[k] === 'string' && !isAbsolute(p[k]))
      return `exec: ${k} must be an absolute path, got "${p[k]}"`;
  }
  const t = p.timeout;
  if (t !== undefined && !(typeof t === 'number' && Number.isInteger(t) && t >= 1)) {
    return 'exec: timeout must be a whole number of seconds, at least 1';
  }
  let env: Record<string, string> | undefined;
  if (p.env !== undefined) {
    if (typeof p.env !== 'object' || p.env === null || Array.isArray(p.env)) return 'exec: env must be a map';
    env = {};
    for (const [k, v] of Object.entries(p.env as Record<string, unknown>)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) return `exec: env name "${k}" is not a valid variable name`;
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        return `exec: env ${k} must be a string, number or boolean`;
      }
      env[k] = String(v);
    }
  }
  return {
    command: p.command,
    onlyif: p.onlyif as string | undefined,
    unless: p.unless as string | undefined,
    creates: p.creates as string | undefined,
    timeoutSeconds: t,
    user: p.user as string | undefined,
    group: p.group as string | undefined,
    cwd: p.cwd as string | undefined,
    env,
  };
}

/** uid, gid and environment the command runs with; a string is the reason it cannot run. */
async function processOptions(e: ExecParams, ctx: ExecutorContext): Promise<CommandOptions | string> {
  let uid: number | undefined;
  let gid: number | undefined;
  let userEnv: Record<string, string> = {};
  if (e.user !== undefined) {
    const u = await lookupUser(ctx.run, e.user);
    if (u) {
      uid = u.uid;
      gid = u.gid;
      userEnv = { HOME: u.home, USER: u.name, LOGNAME: u.name };
    } else if (/^\d+$/.test(e.user)) {
      uid = Number(e.user);
    } else {
      return `exec: user "${e.user}" does not exist on this node`;
    }
  }
  if (e.group !== undefined) {
    const g = await lookupGroup(ctx.run, e.group);
    if (g) gid = g.gid;
    else if (/^\d+$/.test(e.group)) gid = Number(e.group);
    else return `exec: group "${e.group}" does not exist on this node`;
  }
  if (uid !== undefined && gid === undefined) {
    // Without a passwd entry there is no primary group, and the child would keep the agent's gid 0.
    return `exec: user ${e.user} has no passwd entry, so set group as well`;
  }
  if (e.cwd !== undefined) {
    const st = await stat(e.cwd).catch(() => undefined);
    if (!st?.isDirectory()) return `exec: cwd ${e.cwd} is not an existing directory`;
  }
  const replaceEnv = e.env !== undefined || e.user !== undefined;
  const base = Object.fromEntries(
    Object.entries(process.env).filter((kv): kv is [string, string] => typeof kv[1] === 'string'),
  );
  return {
    cwd: e.cwd,
    uid,
    gid,
    env: replaceEnv ? { ...base, ...userEnv, ...e.env } : undefined,
  };
}

function describeFailure(what: string, r: CommandResult, timeoutSeconds: number | undefined): string {
  if (r.timedOut) return `${what} timed out after ${timeoutSeconds ?? defaultGuardTimeoutSeconds}s`;
  const output = tailLines(r.stderr.trim() !== '' ? r.stderr : r.stdout, 5);
  const how = r.exitCode === null ? 'was killed' : `exited with ${r.exitCode}`;
  return `${what} ${how}${output ? `: ${output}` : ''}`;
}

async function pathExists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/** A reason to skip, a failure, or undefined when the command should run. */
async function checkGuards(
  e: ExecParams,
  ctx: ExecutorContext,
  opts: CommandOptions,
): Promise<ExecutorResult | undefined> {
  if (e.creates !== undefined && (await pathExists(e.creates))) {
    return { outcome: 'none', message: `skipped: creates ${e.creates} exists` };
  }
  const guardTimeout = e.timeoutSeconds ?? defaultGuardTimeoutSeconds;
  const guardOpts = { ...opts, timeoutMs: guardTimeout * 1000 };
  if (e.onlyif !== undefined) {
    const r = await ctx.run('/bin/sh', ['-c', e.onlyif], guardOpts);
    if (r.timedOut) return { outcome: 'failed', message: describeFailure('onlyif guard', r, guardTimeout) };
    if (r.exitCode !== 0) {
      return {
        outcome: 'none',
        message: `skipped: onlyif \`${shorten(e.onlyif)}\` exited ${r.exitCode ?? 'by signal'}`,
      };
    }
  }
  if (e.unless !== undefined) {
    const r = await ctx.run('/bin/sh', ['-c', e.unless], guardOpts);
    if (r.timedOut) return { outcome: 'failed', message: describeFailure('unless guard', r, guardTimeout) };
    if (r.exitCode === 0)
      return { outcome: 'none', message: `skipped: unless \`${shorten(e.unless)}\` succeeded` };
  }
  return undefined;
}

async function applyExec(
  params: Readonly<Record<string, unknown>>,
  ctx: ExecutorContext,
): Promise<ExecutorResult> {
  const e = parseParams(params);
  if (typeof e === 'string') return { outcome: 'failed', message: e };
  try {
    const opts = await processOptions(e, ctx);
    if (typeof opts === 'string') return { outcome: 'failed', message: opts };
    const skip = await checkGuards(e, ctx, opts);
    if (skip) return skip;
    const shown = shorten(e.command);
    if (ctx.dryRun) return { outcome: 'updated', message: `would run: ${shown}` };
    const timeoutMs = e.timeoutSeconds !== undefined ? e.timeoutSeconds * 1000 : undefined;
    const r = await ctx.run('/bin/sh', ['-c', e.command], { ...opts, timeoutMs });
    if (r.exitCode !== 0 || r.timedOut) {
      const reason = ctx.signal.aborted ? 'was stopped because the agent is shutting down' : undefined;
      return { outcome: 'failed', message: reason ?? describeFailure(shown, r, e.timeoutSeconds) };
    }
    if (e.creates !== undefined && !(await pathExists(e.creates))) {
      return {
        outcome: 'failed',
        message: `ran: ${shown}, but ${e.creates} (creates) still does not exist, so it would run again every time`,
      };
    }
    return { outcome: 'updated', message: `ran: ${shown}` };
  } catch (err) {
    return { outcome: 'failed', message: `exec: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export const execExecutor: Executor = { type: 'exec', apply: applyExec };
