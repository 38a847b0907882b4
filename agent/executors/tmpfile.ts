/**
 * `tmpfile`: a systemd-tmpfiles rule in /etc/tmpfiles.d/<name>.conf (one line: type, path, mode,
 * user, group, age, argument), applied at once with `systemd-tmpfiles --create <that file>`.
 *
 * The rule file is written only when it differs. For the types that create something (directories,
 * files, pipes, symlinks) a path that has gone missing while the rule stayed is created again, so the
 * resource keeps the path there, not only the rule. state: absent removes the rule file and leaves
 * the path alone. Where systemd-tmpfiles is missing the rule is written and applies at the next boot.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { findExecutable } from './exec.ts';
import { fail, guardApply, optionalString, result, stateParam } from './fs-util.ts';
import type { Executor, ExecutorContext, ExecutorResult } from './types.ts';
import {
  absolutePath,
  changed,
  fileStem,
  removeWholeFile,
  runChecked,
  underRoot,
  writeWholeFile,
  type RootOptions,
} from './unix-util.ts';

export interface TmpfileExecutorOptions extends RootOptions {
  /** The systemd-tmpfiles program; found on PATH unless a test says otherwise. */
  readonly tmpfilesPath?: string;
}

const entryTypePattern = /^[fwdDevqQpLcbCxXrRzZtThHaA][+!\-=~^]{0,3}$/;
const ownerPattern = /^(-|[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?|\d+)$/;
const modePattern = /^(-|[~:]?[0-7]{3,4})$/;
const agePattern = /^(-|~?[0-9]+(us|ms|s|sec|m|min|h|d|w)?( ?[0-9]+(us|ms|s|sec|m|min|h|d|w))*)$/;
/** Types whose path systemd-tmpfiles --create makes exist. */
const creates = /^[fdDvqQpLcbC]/;

interface Rule {
  readonly line: string;
  readonly type: string;
  readonly target: string;
}

function field(
  params: Readonly<Record<string, unknown>>,
  key: string,
  pattern: RegExp,
  fallback: string,
): string {
  const raw = params[key];
  const v = typeof raw === 'number' ? String(raw) : (optionalString(params, key) ?? fallback);
  if (!pattern.test(v)) fail(`${key} ${JSON.stringify(v)} is not valid in a tmpfiles.d line`);
  return v;
}

function parseRule(params: Readonly<Record<string, unknown>>): Rule {
  const target = absolutePath(params, 'target_path', 'path');
  if (target === undefined) fail('path is required, e.g. path: /run/myapp');
  if (/\s/.test(target)) fail(`path "${target}" contains whitespace; tmpfiles.d fields are space-separated`);
  const type = field(params, 'entry_type', entryTypePattern, 'd');
  const mode = field(params, 'mode', modePattern, type.startsWith('L') ? '-' : '0755');
  const user = field(params, 'user', ownerPattern, '-');
  const group = field(params, 'group', ownerPattern, '-');
  const age = field(params, 'age', agePattern, '-');
  const argument = optionalString(params, 'argument');
  if (argument !== undefined && (argument.includes('\n') || argument.length > 4096)) {
    fail('argument must be one line of at most 4096 characters');
  }
  const parts = [type, target, mode, user, group, age];
  if (argument !== undefined && argument !== '') parts.push(argument);
  return { line: `${parts.join(' ')}\n`, type, target };
}

async function exists(p: string): Promise<boolean> {
  return (await fsp.lstat(p).catch(() => null)) !== null;
}

export function createTmpfileExecutor(options: TmpfileExecutorOptions = {}): Executor {
  const root = options.root ?? '/';
  const apply = async (
    what: string,
    conf: string,
    rule: Rule,
    written: ExecutorResult,
    ctx: ExecutorContext,
  ): Promise<ExecutorResult> => {
    const targetOnDisk = underRoot(root, rule.target);
    const makesPath = creates.test(rule.type);
    const missing = makesPath && !(await exists(targetOnDisk));
    if (!changed(written) && !missing) return written;
    const outcome = changed(written) ? written.outcome : 'updated';
    const lead = changed(written) ? written.message : `${rule.target} is missing`;
    const tool = options.tmpfilesPath ?? findExecutable('systemd-tmpfiles');
    if (tool === undefined) {
      return result(outcome, `${lead}; systemd-tmpfiles is not installed, the rule applies at boot`);
    }
    if (ctx.dryRun) return result(outcome, `${lead}; would run systemd-tmpfiles --create`);
    const args = [...(root === '/' ? [] : [`--root=${root}`]), '--create', conf];
    await runChecked(ctx, what, tool, args);
    if (makesPath && !(await exists(targetOnDisk))) {
      fail(`${what}: systemd-tmpfiles --create ran but ${rule.target} still does not exist`);
    }
    return result(outcome, `${lead}; applied with systemd-tmpfiles --create`);
  };
  return {
    type: 'tmpfile',
    apply: (params, ctx) =>
      guardApply(async () => {
        const stem = fileStem(params, 'name', 'myapp-runtime');
        const conf = underRoot(root, path.join('/etc/tmpfiles.d', `${stem}.conf`));
        const what = `tmpfile ${stem}`;
        if (stateParam(params) === 'absent') return removeWholeFile(ctx, conf);
        const rule = parseRule(params);
        const written = await writeWholeFile(ctx, conf, rule.line);
        if (written.outcome === 'failed') return written;
        return apply(what, conf, rule, written, ctx);
      }),
  };
}

export const tmpfileExecutor: Executor = createTmpfileExecutor();
