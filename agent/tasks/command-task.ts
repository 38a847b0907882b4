/**
 * Runs an ad-hoc command task: `/bin/sh -c COMMAND` in a process group of its own, at the niceness the
 * dispatch asked for, with stdin at end of file and an environment that carries none of the agent's own
 * variables. The task is its process group: on timeout the whole group gets SIGTERM, then SIGKILL after
 * a grace period; and when the shell exits, whatever it left running in the group is killed, so nothing
 * of a task outlives its result or overlaps the next convergence pass (the work lock's promise). Only a
 * process that leaves the group on purpose (setsid) escapes this.
 *
 * Output is kept as the last `outputMaxBytes` of stdout and of stderr each, in fixed rings.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { TailBuffer } from './tail-buffer.ts';

/** Where a command task's shell starts. */
export const commandTaskCwd = '/';

export interface CommandTaskInput {
  readonly command: string;
  readonly timeoutMs: number;
  /** -20..19; 0 leaves the agent's own niceness. */
  readonly nice: number;
  /** Set in the task's environment as VIGO_TASK_ID. */
  readonly taskId: string;
  /** The agent is stopping: the task is killed like on timeout. */
  readonly signal: AbortSignal;
  readonly outputMaxBytes: number;
  /** Between SIGTERM and SIGKILL on timeout. */
  readonly killGraceMs: number;
  /** The environment the task's is derived from (default: the agent's). */
  readonly parentEnv?: NodeJS.ProcessEnv;
  /** Set in the task's environment besides the above (a named task's VIGO_PARAM_* values). */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export interface CommandTaskOutcome {
  readonly status: 'succeeded' | 'failed' | 'timed_out';
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly truncated: boolean;
  readonly message: string;
}

const taskPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** After the shell exits, how long its pipes may stay open (held by a process that left the group). */
const drainMs = 2_000;

/**
 * The shell waits for one line on stdin before it runs the command, so that the niceness is set before
 * the command can start a single process (children inherit it at fork); then stdin is /dev/null.
 */
const gateScript = 'IFS= read -r _ || exit 125; exec /bin/sh -c "$1" </dev/null';

/** Variables a command may rely on; everything else of the agent's environment (tokens, proxies' credentials, VIGO_*) stays out. */
const passedVariables = new Set(['HOME', 'LANG', 'LANGUAGE', 'TZ', 'USER', 'LOGNAME', 'TERM']);

export function taskEnvironment(parent: NodeJS.ProcessEnv, taskId: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: taskPath, SHELL: '/bin/sh', VIGO_TASK_ID: taskId };
  for (const [key, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (passedVariables.has(key) || key.startsWith('LC_')) env[key] = value;
  }
  env['HOME'] ??= '/';
  return env;
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function runCommandTask(input: CommandTaskInput): Promise<CommandTaskOutcome> {
  return new Promise((resolve) => {
    const stdout = new TailBuffer(input.outputMaxBytes);
    const stderr = new TailBuffer(input.outputMaxBytes);
    const child = spawn('/bin/sh', ['-c', gateScript, 'vigo-task', input.command], {
      cwd: commandTaskCwd,
      env: { ...taskEnvironment(input.parentEnv ?? process.env, input.taskId), ...input.extraEnv },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    let timedOut = false;
    let aborted = false;
    let exited = false;
    let killedHard = false;
    let settled = false;
    let notStarted: string | undefined;
    const timers: NodeJS.Timeout[] = [];

    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, startError?: string): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      input.signal.removeEventListener('abort', onAbort);
      const output = {
        stdout: stdout.bytes(),
        stderr: stderr.bytes(),
        truncated: stdout.truncated || stderr.truncated,
      };
      const reason = startError ?? notStarted;
      if (reason !== undefined) resolve({ status: 'failed', exitCode: -1, ...output, message: reason });
      else if (timedOut)
        resolve({
          status: 'timed_out',
          exitCode: -1,
          ...output,
          message: `killed after its timeout of ${input.timeoutMs / 1000} s`,
        });
      else if (aborted)
        resolve({
          status: 'failed',
          exitCode: -1,
          ...output,
          message: 'killed: the agent stopped while the task ran',
        });
      else if (signal !== null)
        resolve({ status: 'failed', exitCode: -1, ...output, message: `killed by ${signal}` });
      else if (exitCode === 0) resolve({ status: 'succeeded', exitCode: 0, ...output, message: '' });
      else
        resolve({
          status: 'failed',
          exitCode: exitCode ?? -1,
          ...output,
          message: `exited with ${exitCode}`,
        });
    };
    const startDrain = (): void => {
      timers.push(
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          finish(child.exitCode, child.signalCode);
        }, drainMs),
      );
    };
    const killHard = (): void => {
      killedHard = true;
      signalGroup(pid, 'SIGKILL');
      if (exited) startDrain();
    };
    const stop = (): void => {
      signalGroup(pid, 'SIGTERM');
      timers.push(setTimeout(killHard, input.killGraceMs));
    };
    function onAbort(): void {
      if (exited || timedOut || aborted) return;
      aborted = true;
      stop();
    }

    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => finish(null, null, `cannot start /bin/sh: ${err.message}`));
    child.on('exit', () => {
      exited = true;
      // A finished task leaves nothing running; a stopping one gets its grace, then SIGKILL.
      if (!timedOut && !aborted) killHard();
      else if (killedHard) startDrain();
    });
    child.on('close', (code, signal) => finish(code, signal));
    if (pid === undefined) return;

    if (input.nice !== 0) {
      try {
        os.setPriority(pid, input.nice);
      } catch (err) {
        notStarted = `not run: cannot set niceness ${input.nice}: ${(err as Error).message}`;
        killHard();
        return;
      }
    }
    timers.push(
      setTimeout(() => {
        if (exited || aborted) return;
        timedOut = true;
        stop();
      }, input.timeoutMs),
    );
    if (input.signal.aborted) onAbort();
    else input.signal.addEventListener('abort', onAbort, { once: true });
    child.stdin.end('\n');
  });
}
