/**
 * The one way the agent starts programs: argv only (never a shell unless the caller runs sh -c itself),
 * output bounded, a timeout that kills the whole process group, and abort on agent shutdown.
 */
import { spawn } from 'node:child_process';
import type { CommandOptions, CommandResult } from '../executors/types.ts';

/** Output kept per stream; the rest is dropped and marked, so a chatty command cannot exhaust memory. */
export const maxOutputBytes = 1024 * 1024;
const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

class BoundedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  push(chunk: Buffer): void {
    const room = maxOutputBytes - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length < chunk.length) this.truncated = true;
    this.chunks.push(part);
    this.size += part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8') + (this.truncated ? '\n[output truncated]' : '');
  }
}

export function runCommand(
  file: string,
  args: readonly string[],
  options: CommandOptions & { signal?: AbortSignal } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const env = options.env ? { PATH: defaultPath, ...options.env } : process.env;
    let child;
    try {
      child = spawn(file, args, {
        cwd: options.cwd,
        env,
        uid: options.uid,
        gid: options.gid,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (err) {
      resolve({ exitCode: 127, stdout: '', stderr: `cannot start ${file}: ${String(err)}`, timedOut: false });
      return;
    }
    const stdout = new BoundedBuffer();
    const stderr = new BoundedBuffer();
    let timedOut = false;
    let settled = false;
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer =
      options.timeoutMs !== undefined && options.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            killGroup();
          }, options.timeoutMs)
        : undefined;
    const onAbort = (): void => killGroup();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (result: CommandResult): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.stdin.on('error', () => {
      // The program may exit without reading its input; that is its business, not an agent error.
    });
    child.on('error', (err: NodeJS.ErrnoException) =>
      finish({
        exitCode: err.code === 'ENOENT' || err.code === 'EACCES' ? 127 : 126,
        stdout: stdout.text(),
        stderr: `cannot start ${file}: ${err.message}`,
        timedOut: false,
      }),
    );
    child.on('close', (code) =>
      finish({ exitCode: timedOut ? null : code, stdout: stdout.text(), stderr: stderr.text(), timedOut }),
    );
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}
