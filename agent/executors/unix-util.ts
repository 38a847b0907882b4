/**
 * Helpers the Unix and Linux executors share: a root every system path is taken under (so a test can
 * point an executor at a temporary tree), bounded commands whose failures name the resource and the
 * command, whole-file writes of agent-owned configuration files, and name checks for values that end
 * up in file names or on a command line.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { tailLines } from './exec.ts';
import { applyTextEdit, fail, lstatIfExists, optionalString, result } from './fs-util.ts';
import type { CommandResult, ExecutorContext, ExecutorResult } from './types.ts';

type Params = Readonly<Record<string, unknown>>;

/** Commands the Unix executors run are bounded; none of them should take long. */
export const commandTimeoutMs = 60_000;

/** Where an executor finds the system's files: "/" on a real host, a temporary tree in tests. */
export interface RootOptions {
  readonly root?: string;
}

/** `abs` (an absolute system path such as /etc/fstab) under `root`. */
export function underRoot(root: string, abs: string): string {
  return root === '/' ? abs : path.join(root, abs);
}

/** Runs a command, failing with "<what>: <command> failed (exit N): <last lines>". */
export async function runChecked(
  ctx: ExecutorContext,
  what: string,
  file: string,
  args: readonly string[],
  options: { timeoutMs?: number; input?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const r = await ctx.run(file, args, { timeoutMs: options.timeoutMs ?? commandTimeoutMs, ...options });
  if (r.exitCode !== 0) fail(commandFailure(what, file, args, r));
  return r.stdout;
}

export function commandFailure(
  what: string,
  file: string,
  args: readonly string[],
  r: CommandResult,
): string {
  const why = r.timedOut ? 'timed out' : `exit ${r.exitCode ?? 'killed'}`;
  const detail = tailLines(r.stderr || r.stdout, 3);
  return `${what}: ${[file, ...args].join(' ')} failed (${why})${detail ? `: ${detail}` : ''}`;
}

/** Names that become file names or command arguments: no "/", no leading "-" or ".", bounded. */
const safeNamePattern = /^[A-Za-z0-9_@][A-Za-z0-9_@.:+-]{0,199}$/;

export function safeName(value: string, field: string, example: string): string {
  if (!safeNamePattern.test(value)) {
    fail(
      `${field} "${value.slice(0, 80)}" is not usable here: letters, digits and _ @ . : + - only, ` +
        `not starting with "-" or "." (e.g. ${example})`,
    );
  }
  return value;
}

/** A field that names a file the executor writes: `field`, else the resource name. */
export function fileStem(params: Params, field: string, example: string): string {
  const raw = optionalString(params, field) ?? optionalString(params, 'name');
  if (raw === undefined || raw === '') fail(`${field} is required (or give the resource a name)`);
  return safeName(raw, field, example);
}

/** Absolute path fields (`target_path`; Vigo's `path` arrives as target_path). */
export function absolutePath(params: Params, field: string, fallback?: string): string | undefined {
  const raw = optionalString(params, field) ?? (fallback ? optionalString(params, fallback) : undefined);
  if (raw === undefined) return undefined;
  if (raw === '' || raw.includes('\0') || raw.includes('\n') || !path.isAbsolute(raw)) {
    fail(`${field} must be an absolute path, got ${JSON.stringify(raw.slice(0, 120))}`);
  }
  return raw;
}

/** Makes `file` hold exactly `content` (an agent-owned file): created, updated or none. */
export function writeWholeFile(
  ctx: ExecutorContext,
  file: string,
  content: string,
  mode = 0o644,
): Promise<ExecutorResult> {
  return applyTextEdit(ctx, {
    file,
    create: true,
    createParent: true,
    absent: false,
    attrs: { mode },
    transform: (current) => (current === content ? null : { text: content, summary: 'content' }),
  });
}

/** Removes an agent-owned file (snapshotted first); a missing file is already as desired. */
export async function removeWholeFile(ctx: ExecutorContext, file: string): Promise<ExecutorResult> {
  const st = await lstatIfExists(file);
  if (!st) return result('none', `${file} does not exist`);
  if (st.isDirectory()) fail(`${file} is a directory; refusing to remove it`);
  if (ctx.dryRun) return result('deleted', `would remove ${file}`);
  await ctx.snapshotFile(file);
  await fsp.rm(file, { force: true });
  return result('deleted', `removed ${file}`);
}

/** True when the outcome changed something (or, in a dry run, would). */
export function changed(r: ExecutorResult): boolean {
  return r.outcome === 'created' || r.outcome === 'updated' || r.outcome === 'deleted';
}
