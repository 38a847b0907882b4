/**
 * The `custom` executor: hands a resource to an operator-supplied program, `<customExecutorDir>/<executor>`.
 *
 * Protocol (Vigo's custom executor contract): the program gets `{"params": {…}, "dry_run": bool}` as JSON on
 * stdin and prints `{"action": "none"|"created"|"updated"|"deleted", "changed": bool, "error": string|null}`
 * on stdout; an optional `"message"` string is shown to the operator. With dry_run true it must only report
 * what it would do. `changed` must agree with `action` (false exactly when the action is "none").
 * If stdout is not one JSON document, its last non-empty line is tried, so a program may log before its answer.
 *
 * The program runs as the agent (root), so it must be a regular executable file that is not writable by
 * group or others; anything else is refused.
 */
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { tailLines } from './exec.ts';
import type { Executor, ExecutorContext, ExecutorOutcome, ExecutorResult } from './types.ts';

export const defaultCustomTimeoutSeconds = 300;
const executorNamePattern = /^[a-z0-9][a-z0-9_-]*$/;
const actions = new Set(['none', 'created', 'updated', 'deleted']);
const dryVerb: Record<string, string> = { created: 'create', updated: 'update', deleted: 'delete' };

interface CustomReply {
  readonly action: Exclude<ExecutorOutcome, 'failed'>;
  readonly error: string | null;
  readonly message?: string;
}

function failed(message: string): ExecutorResult {
  return { outcome: 'failed', message };
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  const candidates = [
    text.trim(),
    text
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .pop() ?? '',
  ];
  for (const c of candidates) {
    try {
      const v: unknown = JSON.parse(c);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // Try the next candidate.
    }
  }
  return undefined;
}

/** The program's answer, or a string saying what is wrong with it. */
function parseReply(stdout: string): CustomReply | string {
  const obj = parseJsonObject(stdout);
  if (!obj) {
    const shown = stdout.trim() === '' ? 'nothing' : `"${tailLines(stdout, 2)}"`;
    return `printed ${shown} instead of a JSON object like {"action":"none","changed":false,"error":null}`;
  }
  const { action, changed, error, message } = obj;
  if (error !== undefined && error !== null && typeof error !== 'string')
    return '"error" must be a string or null';
  if (message !== undefined && typeof message !== 'string') return '"message" must be a string';
  if (typeof error === 'string' && error !== '') return { action: 'none', error, message };
  if (typeof action !== 'string' || !actions.has(action)) {
    return `"action" must be one of none, created, updated, deleted (got ${JSON.stringify(action) ?? 'nothing'})`;
  }
  if (typeof changed !== 'boolean') return '"changed" must be true or false';
  if (changed !== (action !== 'none')) {
    return `"changed": ${changed} contradicts "action": "${action}" (changed is false exactly when action is none)`;
  }
  return { action: action as CustomReply['action'], error: null, message };
}

/** Absolute path of a runnable executor, or why it cannot be run. */
async function locate(dir: string, name: string): Promise<string | { problem: string }> {
  if (!executorNamePattern.test(name)) {
    return { problem: `executor name "${name}" is invalid: use lowercase letters, digits, _ and - (no "/")` };
  }
  if (!isAbsolute(dir)) return { problem: `the custom executor directory "${dir}" is not an absolute path` };
  const path = join(dir, name);
  const st = await stat(path).catch(() => undefined);
  if (!st) return { problem: `custom executor "${name}" not found: install an executable at ${path}` };
  if (!st.isFile()) return { problem: `${path} is not a regular file` };
  if ((st.mode & 0o022) !== 0) {
    return { problem: `refusing to run ${path}: it is writable by group or others (chmod go-w ${path})` };
  }
  try {
    await access(path, fsConstants.X_OK);
  } catch {
    return { problem: `${path} is not executable (chmod +x ${path})` };
  }
  return path;
}

function parseTimeout(v: unknown): number | undefined {
  if (v === undefined) return defaultCustomTimeoutSeconds;
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : undefined;
}

async function applyCustom(
  params: Readonly<Record<string, unknown>>,
  ctx: ExecutorContext,
): Promise<ExecutorResult> {
  const name = typeof params.executor === 'string' ? params.executor : '';
  const inner = params.params ?? {};
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
    return failed(`custom ${name}: params must be a map`);
  }
  const timeoutSeconds = parseTimeout(params.timeout);
  if (timeoutSeconds === undefined)
    return failed(`custom ${name}: timeout must be a whole number of seconds, at least 1`);
  const path = await locate(ctx.customExecutorDir, name);
  if (typeof path !== 'string') return failed(path.problem);
  const input = `${JSON.stringify({ params: inner, dry_run: ctx.dryRun })}\n`;
  const r = await ctx.run(path, [], { input, cwd: ctx.customExecutorDir, timeoutMs: timeoutSeconds * 1000 });
  if (r.timedOut) return failed(`custom executor ${name} timed out after ${timeoutSeconds}s`);
  const reply = parseReply(r.stdout);
  if (r.exitCode !== 0) {
    const detail =
      typeof reply !== 'string' && reply.error ? reply.error : tailLines(r.stderr || r.stdout, 5);
    const how = r.exitCode === null ? 'was killed' : `exited with ${r.exitCode}`;
    return failed(`custom executor ${name} ${how}${detail ? `: ${detail}` : ''}`);
  }
  if (typeof reply === 'string') return failed(`custom executor ${name} ${reply}`);
  if (reply.error) return failed(`custom executor ${name}: ${reply.error}`);
  const said = reply.message ? `: ${reply.message}` : '';
  if (reply.action === 'none')
    return { outcome: 'none', message: `custom executor ${name}: no change${said}` };
  const verb = dryVerb[reply.action] ?? reply.action;
  const message = ctx.dryRun
    ? `would ${verb} (custom executor ${name})${said}`
    : `custom executor ${name}: ${reply.action}${said}`;
  return { outcome: reply.action, message };
}

export const customExecutor: Executor = {
  type: 'custom',
  async apply(params, ctx) {
    try {
      return await applyCustom(params, ctx);
    } catch (err) {
      return failed(`custom executor: ${err instanceof Error ? err.message : String(err)}`);
    }
  },
};
