/**
 * What agent-side when-builtins ask the machine (server/policy/when AgentProbes). The evaluator is
 * synchronous, so the probes are too: filesystem calls are *Sync and `command_succeeds` blocks the
 * agent for at most its timeout, which is why the timeout is short.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AgentProbes } from '../../server/policy/when/index.ts';

export interface ProbeOptions {
  /** How long `command_succeeds` may run before it is killed and counts as failed; default 10 s. */
  readonly commandTimeoutMs?: number;
  /** Where running processes are listed; default /proc. */
  readonly procDir?: string;
  /** The clock for the time-window builtins; default the system clock. */
  readonly now?: () => Date;
}

export const defaultCommandTimeoutMs = 10_000;
/** The kernel keeps at most 15 characters of a process name in /proc/<pid>/comm. */
const commLength = 15;

function statOf(path: string): ReturnType<typeof statSync> {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    // EACCES, ENOTDIR, ELOOP…: the agent cannot see it, so for a condition it is not there.
    return undefined;
  }
}

function readProcText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // The process exited while we looked: it is simply not running.
    return undefined;
  }
}

function processRunning(procDir: string, name: string): boolean {
  let entries: string[];
  try {
    entries = readdirSync(procDir);
  } catch {
    return false;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    const comm = readProcText(join(procDir, pid, 'comm'))?.replace(/\n$/, '');
    if (comm === undefined) continue;
    if (comm === name) return true;
    // A longer name is truncated in comm; confirm it with the program path in cmdline.
    if (name.length > commLength && comm === name.slice(0, commLength)) {
      const argv0 = readProcText(join(procDir, pid, 'cmdline'))?.split('\0')[0];
      if (argv0 !== undefined && basename(argv0) === name) return true;
    }
  }
  return false;
}

/**
 * `file_exists` is true for anything that is not a directory (symbolic links followed);
 * `dir_exists` for directories; `process_running` matches the process name (/proc/<pid>/comm, or the
 * program's file name when the name is longer than the kernel keeps); `command_succeeds` runs the
 * text with /bin/sh -c and is true on exit status 0 within the timeout.
 */
export function createProbes(options: ProbeOptions = {}): AgentProbes {
  const timeoutMs = options.commandTimeoutMs ?? defaultCommandTimeoutMs;
  const procDir = options.procDir ?? '/proc';
  const now = options.now ?? (() => new Date());
  return {
    fileExists: (p) => {
      const info = statOf(p);
      return info !== undefined && !info.isDirectory();
    },
    dirExists: (p) => statOf(p)?.isDirectory() === true,
    processRunning: (name) => name !== '' && processRunning(procDir, name),
    commandSucceeds: (cmd) => {
      const r = spawnSync('/bin/sh', ['-c', cmd], {
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        stdio: 'ignore',
      });
      return r.error === undefined && r.status === 0;
    },
    now,
  };
}
