/**
 * `process`: a process matching `pattern` (a regular expression over its full command line, as
 * `pgrep -f` matches) is running, or is not.
 *
 * running: when nothing matches, `start` runs through /bin/sh in the background (its output goes to
 * /dev/null; a program that must log should log itself) and the executor waits up to `timeout` seconds
 * for a match to appear. stopped: `stop` runs when given; otherwise every match gets SIGTERM, and
 * SIGKILL once `timeout` has passed. Either way the result is verified by listing processes again.
 * Processes are read from /proc (their cmdline files, 64 at a time); zombies, kernel threads and the
 * agent itself never match. The start and stop commands may carry secrets, so messages name them
 * ("the start command") without repeating them.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { lookupUser, tailLines } from './exec.ts';
import { compileRegex, fail, guardApply, optionalString, requiredString, result } from './fs-util.ts';
import type { CommandOptions, Executor, ExecutorContext, ExecutorResult } from './types.ts';
import { oneOf, optionalInt, toolEnv } from './xplat-util.ts';

export interface ProcessExecutorOptions {
  /** Where processes are listed; /proc unless a test points elsewhere. */
  readonly procRoot?: string;
}

const pollMs = 100;
const maxScannedProcesses = 100_000;

export interface ProcessEntry {
  readonly pid: number;
  readonly cmdline: string;
}

async function readCmdline(procRoot: string, name: string): Promise<ProcessEntry | undefined> {
  try {
    const raw = await fsp.readFile(path.join(procRoot, name, 'cmdline'));
    // Kernel threads and zombies have an empty command line: neither is a running program.
    if (raw.length === 0) return undefined;
    return { pid: Number(name), cmdline: raw.toString('utf8').replace(/\0+$/, '').replaceAll('\0', ' ') };
  } catch {
    return undefined; // The process ended while being read.
  }
}

/** Running processes (not zombies, not kernel threads, not the agent) with their command lines. */
export async function listProcesses(procRoot: string): Promise<ProcessEntry[]> {
  const names = (await fsp.readdir(procRoot))
    .filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid)
    .slice(0, maxScannedProcesses);
  const out: ProcessEntry[] = [];
  for (let i = 0; i < names.length; i += 64) {
    const batch = await Promise.all(names.slice(i, i + 64).map((n) => readCmdline(procRoot, n)));
    for (const e of batch) if (e !== undefined) out.push(e);
  }
  return out;
}

interface ProcessSpec {
  readonly pattern: RegExp;
  readonly shown: string;
  readonly timeoutMs: number;
  readonly procRoot: string;
}

async function matching(spec: ProcessSpec): Promise<number[]> {
  return (await listProcesses(spec.procRoot)).filter((p) => spec.pattern.test(p.cmdline)).map((p) => p.pid);
}

async function waitUntil(
  ctx: ExecutorContext,
  spec: ProcessSpec,
  done: (pids: number[]) => boolean,
): Promise<number[]> {
  const deadline = Date.now() + spec.timeoutMs;
  for (;;) {
    const pids = await matching(spec);
    if (done(pids) || Date.now() >= deadline || ctx.signal.aborted) return pids;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function runAs(
  params: Readonly<Record<string, unknown>>,
  ctx: ExecutorContext,
): Promise<Pick<CommandOptions, 'uid' | 'gid' | 'cwd'>> {
  const user = optionalString(params, 'user');
  const cwd = optionalString(params, 'cwd');
  if (cwd !== undefined && !path.isAbsolute(cwd)) fail(`cwd must be absolute, got "${cwd}"`);
  if (user === undefined || user === '') return { cwd };
  const acct = await lookupUser(ctx.run, user);
  if (acct === undefined) fail(`unknown user "${user}"`);
  return { uid: acct.uid, gid: acct.gid, cwd };
}

/**
 * Runs a start or stop command through /bin/sh. The command travels in the environment, not on argv, so
 * it is not visible in `ps` and the wrapper's own command line cannot match the pattern.
 */
async function runShell(
  ctx: ExecutorContext,
  spec: ProcessSpec,
  which: 'start' | 'stop',
  command: string,
  options: CommandOptions,
): Promise<void> {
  const script =
    which === 'start'
      ? 'c=$VIGO_PROCESS_COMMAND; unset VIGO_PROCESS_COMMAND; (eval "$c") </dev/null >/dev/null 2>&1 &'
      : 'c=$VIGO_PROCESS_COMMAND; unset VIGO_PROCESS_COMMAND; eval "$c"';
  const env = toolEnv({ VIGO_PROCESS_COMMAND: command });
  const r = await ctx.run('/bin/sh', ['-c', script], { ...options, env, timeoutMs: spec.timeoutMs });
  if (r.exitCode !== 0) {
    const how = r.timedOut ? 'timed out' : `failed (exit ${r.exitCode ?? 'killed'})`;
    const out = tailLines(r.stderr || r.stdout, 5);
    fail(`process /${spec.shown}/: the ${which} command ${how}${out ? `: ${out}` : ''}`);
  }
}

async function ensureRunning(
  params: Readonly<Record<string, unknown>>,
  ctx: ExecutorContext,
  spec: ProcessSpec,
): Promise<ExecutorResult> {
  const pids = await matching(spec);
  if (pids.length > 0) return result('none', `process /${spec.shown}/ is running (pid ${pids.join(', ')})`);
  const start = requiredString(params, 'start');
  if (ctx.dryRun) return result('created', `would start process /${spec.shown}/`);
  await runShell(ctx, spec, 'start', start, await runAs(params, ctx));
  const now = await waitUntil(ctx, spec, (p) => p.length > 0);
  if (now.length === 0) {
    fail(
      `process /${spec.shown}/: the start command ran but no matching process appeared within ${spec.timeoutMs / 1000} s`,
    );
  }
  return result('created', `started process /${spec.shown}/ (pid ${now.join(', ')})`);
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

async function ensureStopped(
  params: Readonly<Record<string, unknown>>,
  ctx: ExecutorContext,
  spec: ProcessSpec,
): Promise<ExecutorResult> {
  const pids = await matching(spec);
  if (pids.length === 0) return result('none', `no process matches /${spec.shown}/`);
  const stop = optionalString(params, 'stop');
  const how = stop !== undefined ? 'the stop command' : 'SIGTERM';
  if (ctx.dryRun)
    return result('deleted', `would stop process /${spec.shown}/ (pid ${pids.join(', ')}) with ${how}`);
  if (stop !== undefined) await runShell(ctx, spec, 'stop', stop, await runAs(params, ctx));
  else signalAll(pids, 'SIGTERM');
  let left = await waitUntil(ctx, spec, (p) => p.length === 0);
  let killed = '';
  if (left.length > 0 && stop === undefined) {
    signalAll(left, 'SIGKILL');
    left = await waitUntil(
      ctx,
      { ...spec, timeoutMs: Math.min(spec.timeoutMs, 5000) },
      (p) => p.length === 0,
    );
    killed = ', SIGKILL after the timeout';
  }
  if (left.length > 0) fail(`process /${spec.shown}/ still runs after ${how} (pid ${left.join(', ')})`);
  return result('deleted', `stopped process /${spec.shown}/ (pid ${pids.join(', ')}) with ${how}${killed}`);
}

export function createProcessExecutor(options: ProcessExecutorOptions = {}): Executor {
  const procRoot = options.procRoot ?? '/proc';
  return {
    type: 'process',
    apply: (params, ctx) =>
      guardApply(async () => {
        const source = requiredString(params, 'pattern');
        if (source.length > 1000) fail('pattern is longer than 1000 characters');
        const state = oneOf(params, 'state', ['running', 'stopped'], 'running');
        const timeoutMs = (optionalInt(params, 'timeout', 1, 3600) ?? 30) * 1000;
        const spec = { pattern: compileRegex(source, 'pattern'), shown: source, timeoutMs, procRoot };
        return state === 'running' ? ensureRunning(params, ctx, spec) : ensureStopped(params, ctx, spec);
      }),
  };
}

export const processExecutor: Executor = createProcessExecutor();
