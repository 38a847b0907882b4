/**
 * The health check between batches of a rolling task: an HTTP(S) URL that must answer 2xx, or a command
 * run on the server host that must exit 0, each within its timeout. A command runs in its own process
 * group, is killed as a group when its time is up, and only the last few KiB of its output are kept.
 */
import { spawn } from 'node:child_process';
import type { HealthCheck } from './task-request.ts';

export interface HealthOutcome {
  readonly ok: boolean;
  /** What happened, for a person: the status, the exit code, the tail of the output. */
  readonly detail: string;
}

export const healthCheckLimits = { maxOutputBytes: 4096 } as const;

export async function runHealthCheck(check: HealthCheck): Promise<HealthOutcome> {
  return check.kind === 'url'
    ? checkUrl(check.url, check.timeoutSeconds)
    : checkCommand(check.command, check.timeoutSeconds);
}

async function checkUrl(url: string, timeoutSeconds: number): Promise<HealthOutcome> {
  try {
    const response = await fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    });
    // The body is not needed; cancelling it frees the connection.
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 300;
    return { ok, detail: `${url} answered ${response.status}` };
  } catch (err) {
    const why =
      err instanceof Error && err.name === 'TimeoutError'
        ? `no answer within ${timeoutSeconds} s`
        : err instanceof Error
          ? err.cause instanceof Error
            ? err.cause.message
            : err.message
          : String(err);
    return { ok: false, detail: `${url}: ${why}` };
  }
}

function checkCommand(command: string, timeoutSeconds: number): Promise<HealthOutcome> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = Buffer.alloc(0);
    const keep = (chunk: Buffer): void => {
      output = Buffer.concat([output, chunk]);
      if (output.length > healthCheckLimits.maxOutputBytes)
        output = output.subarray(output.length - healthCheckLimits.maxOutputBytes);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutSeconds * 1000);
    const finish = (outcome: HealthOutcome): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    child.on('error', (err) => finish({ ok: false, detail: `the command could not start: ${err.message}` }));
    child.on('close', (code, signal) => {
      const tail = output.toString('utf8').trim();
      const said = tail === '' ? '' : `: ${tail}`;
      if (timedOut)
        return finish({
          ok: false,
          detail: `the command ran longer than ${timeoutSeconds} s and was killed${said}`,
        });
      if (code === 0) return finish({ ok: true, detail: `the command exited 0${said}` });
      finish({
        ok: false,
        detail: `the command ${signal === null ? `exited ${code}` : `was killed by ${signal}`}${said}`,
      });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
