/**
 * `alternatives`: one entry of a Debian/RHEL alternatives group (editor, java, python3…), managed with
 * update-alternatives (or RHEL's `alternatives`, which takes the same options).
 *
 * state selected (default) — the entry is installed and chosen by hand (`--set`); present — installed
 * with its priority, the choice left alone; auto — installed and the group back in automatic mode (the
 * highest priority wins); absent — the entry removed. The group is read with `--query`; `link` (the
 * generic name, e.g. /usr/bin/editor) is needed only to create a group that does not exist yet.
 */
import { findExecutable } from './exec.ts';
import { fail, guardApply, optionalScalar, optionalString, result } from './fs-util.ts';
import type { Executor, ExecutorContext } from './types.ts';
import { absolutePath, runChecked, safeName, underRoot, type RootOptions } from './unix-util.ts';

export interface AlternativesExecutorOptions extends RootOptions {
  /** PATH searched for update-alternatives / alternatives (default: the agent's PATH). */
  readonly pathEnv?: string;
}

type AltState = 'selected' | 'present' | 'auto' | 'absent';

interface Group {
  readonly link: string;
  readonly manual: boolean;
  readonly value: string;
  readonly entries: ReadonlyMap<string, number>;
}

function parseQuery(stdout: string): Group {
  let link = '';
  let manual = false;
  let value = '';
  const entries = new Map<string, number>();
  let current: string | undefined;
  for (const line of stdout.split('\n')) {
    const [key, ...rest] = line.split(': ');
    const v = rest.join(': ').trim();
    if (key === 'Link') link = v;
    else if (key === 'Status') manual = v === 'manual';
    else if (key === 'Value') value = v;
    else if (key === 'Alternative') current = v;
    else if (key === 'Priority' && current !== undefined) entries.set(current, Number(v));
  }
  return { link, manual, value, entries };
}

export function createAlternativesExecutor(options: AlternativesExecutorOptions = {}): Executor {
  const root = options.root ?? '/';
  const dirs =
    root === '/'
      ? []
      : [
          '--altdir',
          underRoot(root, '/etc/alternatives'),
          '--admindir',
          underRoot(root, '/var/lib/dpkg/alternatives'),
        ];

  const query = async (ctx: ExecutorContext, tool: string, name: string): Promise<Group | undefined> => {
    const r = await ctx.run(tool, [...dirs, '--query', name], { timeoutMs: 30_000 });
    if (r.exitCode === 0) return parseQuery(r.stdout);
    if (/no alternatives for/i.test(r.stderr)) return undefined;
    fail(
      `alternatives ${name}: ${tool} --query ${name} failed (exit ${r.exitCode ?? 'killed'}): ${r.stderr.trim().slice(0, 300)}`,
    );
  };

  return {
    type: 'alternatives',
    apply: (params, ctx) =>
      guardApply(async () => {
        const name = safeName(
          optionalString(params, 'alternative') ?? optionalString(params, 'name') ?? '',
          'alternative',
          'editor',
        );
        const target = absolutePath(params, 'target_path', 'path');
        if (target === undefined)
          fail(`alternatives ${name}: path is required (the alternative, e.g. /usr/bin/vim.basic)`);
        const state = (optionalString(params, 'state') ?? 'selected') as AltState;
        if (!['selected', 'present', 'auto', 'absent'].includes(state))
          fail('state must be selected, present, auto or absent');
        const rawPriority = optionalScalar(params, 'priority') ?? '50';
        if (!/^-?\d{1,9}$/.test(rawPriority)) fail(`priority must be a whole number, got "${rawPriority}"`);
        const priority = Number(rawPriority);
        const link = absolutePath(params, 'link');
        const what = `alternatives ${name}`;
        const tool =
          findExecutable('update-alternatives', options.pathEnv) ??
          findExecutable('alternatives', options.pathEnv);
        if (tool === undefined) fail(`${what}: neither update-alternatives nor alternatives is installed`);
        const group = await query(ctx, tool, name);
        const run = (args: string[]): Promise<string> => runChecked(ctx, what, tool, [...dirs, ...args]);

        if (state === 'absent') {
          if (!group?.entries.has(target))
            return result('none', `${target} is not an alternative for ${name}`);
          if (ctx.dryRun) return result('deleted', `would remove ${target} from ${name}`);
          await run(['--remove', name, target]);
          if ((await query(ctx, tool, name))?.entries.has(target) === true)
            fail(`${what}: ${target} is still listed after --remove`);
          return result('deleted', `removed ${target} from ${name}`);
        }
        const steps: string[] = [];
        const have = group?.entries.get(target);
        if (have !== priority) {
          const linkPath = link ?? group?.link;
          if (linkPath === undefined || linkPath === '')
            fail(`${what}: the group does not exist yet; set link (e.g. link: /usr/bin/${name})`);
          steps.push(
            have === undefined
              ? `install ${target} (priority ${priority})`
              : `priority ${have} -> ${priority}`,
          );
          if (!ctx.dryRun) await run(['--install', linkPath, name, target, String(priority)]);
        }
        if (state === 'selected' && (group?.value !== target || !group.manual)) {
          steps.push(`select ${target}`);
          if (!ctx.dryRun) await run(['--set', name, target]);
        }
        if (state === 'auto' && group?.manual === true) {
          steps.push('automatic mode');
          if (!ctx.dryRun) await run(['--auto', name]);
        }
        if (steps.length === 0)
          return result('none', `${name} is ${state === 'selected' ? `set to ${target}` : `as wanted`}`);
        const outcome = have === undefined ? 'created' : 'updated';
        if (ctx.dryRun) return result(outcome, `would ${steps.join(', ')} for ${name}`);
        const after = await query(ctx, tool, name);
        const ok =
          after?.entries.get(target) === priority &&
          (state !== 'selected' || (after.value === target && after.manual)) &&
          (state !== 'auto' || !after.manual);
        if (!ok) fail(`${what}: the group does not show the change after ${tool}`);
        return result(outcome, `${steps.join(', ')} for ${name}`);
      }),
  };
}

export const alternativesExecutor: Executor = createAlternativesExecutor();
