/**
 * The `group` executor: a local group managed with groupadd/groupmod/groupdel/gpasswd (never by editing
 * /etc/group, so gshadow stays consistent). `members`, when given, is the exact list of supplementary
 * members (`gpasswd -M`): users listed elsewhere are removed, and `members: []` empties the group. Users
 * whose primary group this is are not members in that sense and are never touched. `system` only matters
 * when the group is created.
 */
import { lookupGroup, lookupUser, tailLines, type GroupEntry } from './exec.ts';
import type { CommandRunner, Executor, ExecutorContext, ExecutorResult } from './types.ts';
import { accountNamePattern } from './user.ts';

interface GroupParams {
  readonly name: string;
  readonly state: 'present' | 'absent';
  readonly gid?: number;
  readonly system: boolean;
  readonly members?: readonly string[];
}

function parseParams(p: Readonly<Record<string, unknown>>): GroupParams | string {
  const name = typeof p.group === 'string' ? p.group : typeof p.name === 'string' ? p.name : '';
  if (!accountNamePattern.test(name)) {
    return `group name "${name}" is not a valid group name (letters, digits, _ . -; at most 32 characters)`;
  }
  const state = p.state ?? 'present';
  if (state !== 'present' && state !== 'absent') return `group ${name}: state must be present or absent`;
  if (p.gid !== undefined && !(Number.isInteger(p.gid) && (p.gid as number) >= 0)) {
    return `group ${name}: gid must be a non-negative integer`;
  }
  const m = p.members;
  if (m !== undefined && !(Array.isArray(m) && m.every((x) => typeof x === 'string' && x !== ''))) {
    return `group ${name}: members must be a list of user names`;
  }
  return {
    name,
    state,
    gid: p.gid as number | undefined,
    system: p.system === true,
    members: m as string[] | undefined,
  };
}

async function runTool(run: CommandRunner, tool: string, args: string[]): Promise<void> {
  const r = await run(tool, args);
  if (r.exitCode !== 0) {
    throw new Error(`${tool} failed (exit ${r.exitCode ?? 'killed'}): ${tailLines(r.stderr || r.stdout, 5)}`);
  }
}

/** Member names as getent reports them, so "1001" and "alice" compare equal; a string is an error. */
async function resolveMembers(run: CommandRunner, g: GroupParams): Promise<string[] | string | undefined> {
  if (g.members === undefined) return undefined;
  const names: string[] = [];
  for (const m of g.members) {
    const u = await lookupUser(run, m);
    if (!u) return `group ${g.name}: member "${m}" is not a user on this node; declare the user first`;
    if (!names.includes(u.name)) names.push(u.name);
  }
  return names.sort();
}

function drift(cur: GroupEntry, g: GroupParams, members: readonly string[] | undefined): string[] {
  const changes: string[] = [];
  if (g.gid !== undefined && g.gid !== cur.gid) changes.push(`gid ${cur.gid} -> ${g.gid}`);
  if (members !== undefined) {
    const have = [...cur.members].sort();
    if (have.join(',') !== members.join(',')) {
      changes.push(`members [${have.join(', ')}] -> [${members.join(', ')}]`);
    }
  }
  return changes;
}

async function ensureAbsent(g: GroupParams, ctx: ExecutorContext): Promise<ExecutorResult> {
  const cur = await lookupGroup(ctx.run, g.name);
  if (!cur) return { outcome: 'none', message: `group ${g.name} is absent` };
  if (cur.gid === 0)
    return { outcome: 'failed', message: `refusing to delete group ${g.name}: it has gid 0` };
  if (ctx.dryRun) return { outcome: 'deleted', message: `would delete group ${g.name}` };
  await runTool(ctx.run, 'groupdel', [g.name]);
  if (await lookupGroup(ctx.run, g.name)) {
    return { outcome: 'failed', message: `groupdel ${g.name} succeeded but the group still exists` };
  }
  return { outcome: 'deleted', message: `deleted group ${g.name}` };
}

async function verify(
  g: GroupParams,
  ctx: ExecutorContext,
  members: string[] | undefined,
): Promise<string[]> {
  const now = await lookupGroup(ctx.run, g.name);
  return now ? drift(now, g, members) : ['the group does not exist'];
}

async function ensurePresent(g: GroupParams, ctx: ExecutorContext): Promise<ExecutorResult> {
  const members = await resolveMembers(ctx.run, g);
  if (typeof members === 'string') return { outcome: 'failed', message: members };
  const cur = await lookupGroup(ctx.run, g.name);
  if (!cur) {
    const what = `group ${g.name}${members?.length ? ` with members ${members.join(', ')}` : ''}`;
    if (ctx.dryRun) return { outcome: 'created', message: `would create ${what}` };
    const args = [...(g.system ? ['-r'] : []), ...(g.gid !== undefined ? ['-g', String(g.gid)] : []), g.name];
    await runTool(ctx.run, 'groupadd', args);
    if (members !== undefined && members.length > 0)
      await runTool(ctx.run, 'gpasswd', ['-M', members.join(','), g.name]);
    const left = await verify(g, ctx, members);
    if (left.length > 0)
      return { outcome: 'failed', message: `created group ${g.name} but ${left.join('; ')}` };
    const created = await lookupGroup(ctx.run, g.name);
    return { outcome: 'created', message: `created ${what} (gid ${created?.gid ?? '?'})` };
  }
  const changes = drift(cur, g, members);
  if (changes.length === 0) return { outcome: 'none', message: `group ${g.name} is up to date` };
  if (ctx.dryRun)
    return { outcome: 'updated', message: `would change group ${g.name}: ${changes.join('; ')}` };
  if (g.gid !== undefined && g.gid !== cur.gid)
    await runTool(ctx.run, 'groupmod', ['-g', String(g.gid), g.name]);
  if (members !== undefined) await runTool(ctx.run, 'gpasswd', ['-M', members.join(','), g.name]);
  const left = await verify(g, ctx, members);
  if (left.length > 0)
    return { outcome: 'failed', message: `changed group ${g.name} but it still differs: ${left.join('; ')}` };
  return { outcome: 'updated', message: `changed group ${g.name}: ${changes.join('; ')}` };
}

async function applyGroup(
  params: Readonly<Record<string, unknown>>,
  ctx: ExecutorContext,
): Promise<ExecutorResult> {
  const g = parseParams(params);
  if (typeof g === 'string') return { outcome: 'failed', message: g };
  try {
    return g.state === 'absent' ? await ensureAbsent(g, ctx) : await ensurePresent(g, ctx);
  } catch (err) {
    return {
      outcome: 'failed',
      message: `group ${g.name}: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

export const groupExecutor: Executor = { type: 'group', apply: applyGroup };
