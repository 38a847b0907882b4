/**
 * `vigocli task run|status|list|abort`: commands and named tasks on envoys over their agent streams,
 * in rolling batches. `task run` follows its run to the end, printing each host's outcome as it
 * arrives, and exits 1 when any target did not succeed.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { parseDurationMs } from '../../server/core/index.ts';
import type {
  DryRunView,
  RunDetailView,
  RunSummaryView,
  TargetView,
} from '../../server/orchestration/index.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { CliError, cliExitCodes, usageError } from '../errors.ts';
import { shortIso, table } from '../format.ts';
import { printJson, wholeNumberFlag } from './input.ts';

const tasksPath = '/api/v1/tasks';
const pollIntervalMs = 500;
const amountPattern = /^\d{1,7}%?$/;

function amountFlag(input: CommandInput, name: string): string | undefined {
  const text = input.value(name);
  if (text === undefined) return undefined;
  if (!amountPattern.test(text))
    throw usageError(
      `--${name} must be a count like 5 or a percentage like 25%, got ${JSON.stringify(text)}`,
    );
  return text;
}

function durationFlag(input: CommandInput, name: string): number | undefined {
  const text = input.value(name);
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined)
    throw usageError(`--${name} must be a duration like 10s, 5m or 1h, got ${JSON.stringify(text)}`);
  return ms;
}

function params(input: CommandInput): Record<string, string> | undefined {
  const pairs = input.values('param');
  if (pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`--param must be NAME=VALUE, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** The request body `task run` sends. */
export function runBody(input: CommandInput): Record<string, unknown> {
  const name = input.value('name');
  const command = input.args[0] ?? '';
  if (name === undefined && command.trim() === '') throw usageError('give a command to run, or --name TASK');
  if (name !== undefined && command !== '')
    throw usageError('give either a command or --name TASK, not both');
  const targets = input.values('target');
  if (targets.length === 0)
    throw usageError('name at least one --target (hostname, glob, envoy id or trait filter)');
  const urlCheck = input.value('health-check-url');
  const commandCheck = input.value('health-check-command');
  if (urlCheck !== undefined && commandCheck !== undefined)
    throw usageError('give --health-check-url or --health-check-command, not both');
  const pauseMs = durationFlag(input, 'pause');
  if (pauseMs !== undefined && pauseMs % 1000 !== 0)
    throw usageError('--pause is whole seconds, e.g. 10s or 2m');
  const body: Record<string, unknown> = {
    ...(name === undefined ? { command } : { taskName: name }),
    targets,
    where: input.values('where'),
    timeout: wholeNumberFlag(input, 'timeout', 1, 86_400),
    nice: wholeNumberFlag(input, 'nice', 0, 19),
    batchSize: amountFlag(input, 'batch-size'),
    maxFailures: amountFlag(input, 'max-failures'),
    canary: wholeNumberFlag(input, 'canary', 1, 1_000_000),
    healthCheck:
      urlCheck !== undefined
        ? { url: urlCheck }
        : commandCheck !== undefined
          ? { command: commandCheck }
          : undefined,
    pauseSeconds: pauseMs === undefined ? undefined : pauseMs / 1000,
    expires: input.value('expires'),
    params: params(input),
    dryRun: input.has('dry-run') ? true : undefined,
    force: input.has('force') ? true : undefined,
  };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}

const openStates = new Set(['pending', 'dispatched']);

function hostLine(t: TargetView): string {
  const code = t.exitCode === null ? '' : ` exit ${t.exitCode}`;
  const lines = [
    `${t.hostname}: ${t.state}${code}${t.message === '' ? '' : ` (${t.message.split('\n', 1)[0]})`}`,
  ];
  for (const [label, text] of [
    ['stdout', t.stdout],
    ['stderr', t.stderr],
  ] as const) {
    if (text.trim() === '') continue;
    lines.push(
      ...text
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => `  ${label === 'stderr' ? '! ' : '| '}${l}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

function printPlan(ctx: CommandContext, plan: DryRunView): void {
  ctx.io.out(
    `Dry run: ${plan.targets.length} target(s) in ${plan.batches.length} batch(es); nothing was dispatched.\n`,
  );
  for (const b of plan.batches) ctx.io.out(`  batch ${b.batch}: ${b.hostnames.join(', ')}\n`);
  const offline = plan.targets.filter((t) => !t.online).map((t) => t.hostname);
  if (offline.length > 0)
    ctx.io.out(`Not connected now (they get the task when they connect): ${offline.join(', ')}\n`);
}

/** Every target of a run, page by page. */
async function readRun(ctx: CommandContext, id: string): Promise<RunDetailView> {
  const path = `${tasksPath}/${encodeURIComponent(id)}`;
  const first = await ctx.client.call<RunDetailView>('GET', path);
  const items = [...first.items];
  for (let offset = first.nextOffset; offset !== null;) {
    const page = await ctx.client.call<RunDetailView>('GET', `${path}?offset=${offset}`);
    items.push(...page.items);
    offset = page.nextOffset;
  }
  return { ...first, items, nextOffset: null };
}

async function follow(ctx: CommandContext, id: string): Promise<RunDetailView> {
  const printed = new Set<string>();
  let batch = 0;
  for (;;) {
    const run = await readRun(ctx, id);
    if (!ctx.json && run.currentBatch !== batch && run.batches > 1) {
      batch = run.currentBatch;
      if (batch > 0) ctx.io.out(`-- batch ${batch} of ${run.batches}\n`);
    }
    for (const t of run.items) {
      if (openStates.has(t.state) || printed.has(t.taskId)) continue;
      printed.add(t.taskId);
      if (!ctx.json) ctx.io.out(hostLine(t));
    }
    if (run.status !== 'running') return run;
    await delay(pollIntervalMs);
  }
}

function summaryLine(run: RunSummaryView): string {
  const counts = Object.entries(run.counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  return `Task run ${run.id}: ${run.status} (${counts})${run.message === '' ? '' : `: ${run.message}`}\n`;
}

function failIfNotAllSucceeded(run: RunSummaryView): void {
  const succeeded = run.counts.succeeded ?? 0;
  if (succeeded === run.targets) return;
  throw new CliError(
    cliExitCodes.error,
    'cli.task_failed',
    `${run.targets - succeeded} of ${run.targets} target(s) did not succeed; see "vigocli task status ${run.id}"`,
  );
}

async function run(ctx: CommandContext, input: CommandInput): Promise<void> {
  const started = await ctx.client.call<RunSummaryView | DryRunView>('POST', tasksPath, runBody(input));
  if ('dryRun' in started) return ctx.json ? printJson(ctx.io, started) : printPlan(ctx, started);
  if (!ctx.json)
    ctx.io.out(`Task run ${started.id}: ${started.targets} target(s) in ${started.batches} batch(es)\n`);
  if (input.has('no-wait')) {
    if (ctx.json) printJson(ctx.io, started);
    return;
  }
  const finished = await follow(ctx, started.id);
  if (ctx.json) printJson(ctx.io, finished);
  else ctx.io.out(summaryLine(finished));
  failIfNotAllSucceeded(finished);
}

async function status(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [id = ''] = input.args;
  const detail = await readRun(ctx, id);
  if (ctx.json) return printJson(ctx.io, detail);
  ctx.io.out(
    [
      `Task run ${detail.id}`,
      `  what:     ${detail.kind === 'command' ? detail.command : `task ${detail.taskName}`}`,
      `  targets:  ${detail.selection.targets.join(', ')}${detail.selection.where.length > 0 ? ` where ${detail.selection.where.join(', ')}` : ''}`,
      `  by:       ${detail.actor} at ${shortIso(detail.createdAt)}`,
      `  status:   ${detail.status}${detail.message === '' ? '' : ` (${detail.message})`}`,
      `  batches:  ${detail.currentBatch} of ${detail.batches} started`,
      '',
      '',
    ].join('\n'),
  );
  ctx.io.out(
    table(
      ['HOSTNAME', 'BATCH', 'STATE', 'EXIT', 'MESSAGE'],
      detail.items.map((t) => [
        t.hostname,
        String(t.batch),
        t.state,
        t.exitCode === null ? '' : String(t.exitCode),
        t.message.split('\n', 1)[0] ?? '',
      ]),
    ),
  );
  for (const t of detail.items) if (t.stdout !== '' || t.stderr !== '') ctx.io.out(`\n${hostLine(t)}`);
}

async function list(ctx: CommandContext, input: CommandInput): Promise<void> {
  const limit = wholeNumberFlag(input, 'limit', 1, 500) ?? 20;
  const page = await ctx.client.call<{ items: RunSummaryView[]; nextCursor: string | null }>(
    'GET',
    `${tasksPath}?limit=${limit}`,
  );
  if (ctx.json) return printJson(ctx.io, page);
  if (page.items.length === 0) {
    ctx.io.out('No task runs yet.\n');
    return;
  }
  ctx.io.out(
    table(
      ['RUN', 'CREATED', 'BY', 'STATUS', 'TARGETS', 'OK', 'WHAT'],
      page.items.map((r) => [
        r.id,
        shortIso(r.createdAt),
        r.actor,
        r.status,
        String(r.targets),
        String(r.counts.succeeded ?? 0),
        (r.command ?? `task ${r.taskName ?? ''}`).slice(0, 60),
      ]),
    ),
  );
}

async function abort(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [id = ''] = input.args;
  const reason = input.value('reason');
  const result = await ctx.client.call<RunSummaryView>(
    'POST',
    `${tasksPath}/${encodeURIComponent(id)}/abort`,
    reason === undefined ? {} : { reason },
  );
  if (ctx.json) return printJson(ctx.io, result);
  ctx.io.out(`Aborting task run ${result.id}: targets not yet reached are aborted; running ones finish.\n`);
}

export const taskCommands: readonly CommandSpec[] = [
  {
    path: ['task', 'run'],
    summary: 'Run a command (or a named task) on targets, in rolling batches, and follow it to the end',
    args: [
      {
        name: 'COMMAND',
        optional: true,
        doc: 'the command line, run with /bin/sh -c on each target (quote it as one argument); not with --name',
      },
    ],
    flags: [
      {
        name: 'target',
        value: 'T',
        repeatable: true,
        required: true,
        doc: 'hostname, glob (web-*), envoy id or trait filter (os.distro=ubuntu)',
      },
      {
        name: 'where',
        value: 'FILTER',
        repeatable: true,
        doc: 'only targets whose traits match, e.g. os.family=debian',
      },
      { name: 'name', value: 'TASK', doc: 'run the named task instead of a command' },
      { name: 'param', value: 'NAME=VALUE', repeatable: true, doc: 'a parameter of the named task' },
      { name: 'timeout', value: 'SECONDS', doc: 'the agent kills the task after this long (default 60)' },
      { name: 'nice', value: 'N', doc: 'scheduling niceness 0 (normal) to 19 (lowest)' },
      { name: 'batch-size', value: 'N|P%', doc: 'targets per batch (default: all at once)' },
      { name: 'max-failures', value: 'N|P%', doc: 'abort the rest once more targets than this fail' },
      { name: 'canary', value: 'N', doc: 'run on N targets first, alone in the first batch' },
      { name: 'health-check-url', value: 'URL', doc: 'between batches, this URL must answer 2xx' },
      {
        name: 'health-check-command',
        value: 'CMD',
        doc: 'between batches, this command must exit 0 on the server host (admins only)',
      },
      { name: 'pause', value: 'DURATION', doc: 'wait this long between batches, e.g. 10s' },
      {
        name: 'expires',
        value: 'DURATION',
        doc: 'offline targets get the task when they connect, until then (default 1h)',
      },
      { name: 'dry-run', doc: 'show the targets and the batch plan; dispatch nothing' },
      { name: 'force', doc: 'run a command the server guardrail refuses (audited)' },
      { name: 'no-wait', doc: 'print the run id and return without following it' },
    ],
    details:
      'Exit status: 0 when every target succeeded, 1 when any failed, timed out, was rejected, expired or was aborted.',
    run,
  },
  {
    path: ['task', 'status'],
    summary: "One task run with every target's state, exit code and output",
    args: [{ name: 'RUN_ID', doc: 'as "vigocli task run" or "task list" shows it' }],
    run: status,
  },
  {
    path: ['task', 'list'],
    summary: 'Task runs, newest first',
    flags: [{ name: 'limit', value: 'N', doc: 'show at most N runs, 1 to 500 (default 20)' }],
    run: list,
  },
  {
    path: ['task', 'abort'],
    summary: 'Abort a task run: targets not yet reached are aborted, running ones finish',
    args: [{ name: 'RUN_ID', doc: 'the run to abort' }],
    flags: [{ name: 'reason', value: 'TEXT', doc: 'why, for the audit log' }],
    run: abort,
  },
];
