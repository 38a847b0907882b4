/**
 * `cron`: one entry in a user's crontab, read and written through `crontab -u USER -l` / `-`.
 *
 * The executor receives only params (not the resource name), so an entry is identified by its
 * command text: there is one entry per (user, command). A line running the same command is the
 * managed one; its schedule is corrected, and further lines with that command are removed as
 * duplicates. Comments, variables (MAILTO=…) and other entries are kept as they are.
 * The crontab is not a file the agent writes, so no snapshot is taken; messages show schedules but
 * never the command, which may carry credentials.
 */
import {
  fail,
  guardApply,
  joinLines,
  optionalScalar,
  optionalString,
  requiredString,
  resolveUserId,
  result,
  splitLines,
  stateParam,
} from './fs-util.ts';
import type { Executor, ExecutorContext, ExecutorResult } from './types.ts';

export interface CronExecutorOptions {
  /** The crontab program; found on PATH unless a test points elsewhere. */
  readonly crontabPath?: string;
}

const crontabTimeoutMs = 30_000;
const scheduleFields = ['minute', 'hour', 'day', 'month', 'weekday'] as const;
const specials = new Set(['reboot', 'yearly', 'annually', 'monthly', 'weekly', 'daily', 'hourly']);

interface CronLine {
  readonly schedule: string;
  readonly command: string;
}

function parseCronLine(line: string): CronLine | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#') || /^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(t)) return undefined;
  const special = /^(@\S+)\s+(.*)$/.exec(t);
  if (special) return { schedule: special[1] ?? '', command: (special[2] ?? '').trim() };
  const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(t);
  if (!m) return undefined;
  return { schedule: m.slice(1, 6).join(' '), command: (m[6] ?? '').trim() };
}

function scheduleOf(params: Readonly<Record<string, unknown>>): string {
  const special = optionalString(params, 'special');
  const fields = scheduleFields.map((f) => optionalScalar(params, f));
  if (special !== undefined) {
    if (!specials.has(special)) fail(`special must be one of ${[...specials].join(', ')}, got "${special}"`);
    if (fields.some((f) => f !== undefined)) {
      fail('special replaces minute/hour/day/month/weekday; set one or the other');
    }
    return `@${special}`;
  }
  return fields
    .map((f, i) => {
      const v = (f ?? '*').trim();
      if (!/^[A-Za-z0-9*,/-]+$/.test(v)) fail(`${scheduleFields[i] ?? 'field'} "${v}" is not a cron field`);
      return v;
    })
    .join(' ');
}

interface CronPlan {
  readonly user: string;
  readonly command: string;
  readonly schedule: string;
  readonly absent: boolean;
}

/** The new table, or null when the entry is already as desired; with a summary for the message. */
function editTable(
  table: string,
  plan: CronPlan,
): { text: string; summary: string; outcome: 'created' | 'updated' | 'deleted' } | null {
  const lines = splitLines(table);
  const owned = lines.flatMap((l, i) => (parseCronLine(l)?.command === plan.command ? [i] : []));
  const first = owned[0];
  const entry = `${plan.schedule} ${plan.command}`;
  if (plan.absent) {
    if (first === undefined) return null;
    for (const i of [...owned].reverse()) lines.splice(i, 1);
    return { text: joinLines(lines), summary: `removed ${owned.length} entry line(s)`, outcome: 'deleted' };
  }
  if (first === undefined) {
    lines.push(entry);
    return { text: joinLines(lines), summary: `added entry "${plan.schedule}"`, outcome: 'created' };
  }
  const before = parseCronLine(lines[first] ?? '')?.schedule ?? '';
  if (owned.length === 1 && before === plan.schedule) return null;
  lines[first] = entry;
  for (const i of owned.slice(1).reverse()) lines.splice(i, 1);
  return {
    text: joinLines(lines),
    summary: `schedule "${before}" -> "${plan.schedule}"`,
    outcome: 'updated',
  };
}

async function readTable(crontab: string, user: string, ctx: ExecutorContext): Promise<string> {
  const r = await ctx.run(crontab, ['-u', user, '-l'], { timeoutMs: crontabTimeoutMs });
  if (r.exitCode === 127) fail('crontab not found; install cron');
  if (r.exitCode === 0) return r.stdout;
  if (/no crontab/i.test(r.stderr)) return '';
  fail(`crontab -u ${user} -l failed (exit ${r.exitCode ?? 'timeout'}): ${r.stderr.trim()}`);
}

async function writeTable(crontab: string, user: string, text: string, ctx: ExecutorContext): Promise<void> {
  const r = await ctx.run(crontab, ['-u', user, '-'], { input: text, timeoutMs: crontabTimeoutMs });
  if (r.exitCode === 127) fail('crontab not found; install cron');
  if (r.exitCode !== 0) {
    fail(`crontab -u ${user} - failed (exit ${r.exitCode ?? 'timeout'}): ${r.stderr.trim()}`);
  }
}

async function applyCron(crontab: string, plan: CronPlan, ctx: ExecutorContext): Promise<ExecutorResult> {
  const edit = editTable(await readTable(crontab, plan.user, ctx), plan);
  if (!edit) return result('none', `cron entry for ${plan.user} is up to date`);
  const what = `cron entry for ${plan.user}: ${edit.summary}`;
  const verb = { created: 'create', updated: 'update', deleted: 'delete' }[edit.outcome];
  if (ctx.dryRun) return result(edit.outcome, `would ${verb} ${what}`);
  await writeTable(crontab, plan.user, edit.text, ctx);
  if (editTable(await readTable(crontab, plan.user, ctx), plan)) {
    return result('failed', `after writing the crontab of ${plan.user}, the entry still differs`);
  }
  return result(edit.outcome, `${edit.outcome} ${what}`);
}

export function createCronExecutor(options: CronExecutorOptions = {}): Executor {
  const crontab = options.crontabPath ?? 'crontab';
  return {
    type: 'cron',
    apply: (params, ctx) =>
      guardApply(async () => {
        const command = requiredString(params, 'command').trim();
        if (/[\n\r]/.test(command)) fail('command must be a single line');
        const user = optionalString(params, 'user') ?? 'root';
        if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(user)) fail(`user "${user}" is not a valid user name`);
        await resolveUserId(user, ctx.run, 'user');
        const absent = stateParam(params) === 'absent';
        const schedule = absent ? '' : scheduleOf(params);
        return applyCron(crontab, { user, command, schedule, absent }, ctx);
      }),
  };
}

export const cronExecutor: Executor = createCronExecutor();
