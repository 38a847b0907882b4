/** Runs the real bin/vigocli with a clean environment (no VIGO_* or XDG_* leaking in from the caller). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './server-process.ts';

export const vigocliBin = join(repoRoot, 'bin', 'vigocli');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cleanCliEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('VIGO_') && !key.startsWith('XDG_')) env[key] = value;
  }
  return { ...env, HOME: home, ...extra };
}

/** `input` is written to the command's stdin (which is closed either way). */
export function runVigocli(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  input = '',
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(vigocliBin, args, { env, cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}
