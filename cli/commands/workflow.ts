/**
 * `vigocli workflow run|status|list|abort|approve`: workflows (workflows.vgo) of the active
 * configuration. `workflow run` follows its run to the end, printing each step as it starts and ends
 * (and when an approval is waited for), and exits 1 when the run did not succeed.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type {
  WorkflowDefinitionView,
  WorkflowRunDetailView,
  WorkflowRunView,
  WorkflowStepView,
} from '../../server/orchestration/index.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { CliError, cliExitCodes, usageError } from '../errors.ts';
import { shortIso, table } from '../format.ts';
import { printJson, wholeNumberFlag } from './input.ts';

const base = '/api/v1/workflows';
const pollIntervalMs = 500;

function params(input: CommandInput): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of input.values('param')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`--param must be NAME=VALUE, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

const runPath = (id: string): string => `${base}/runs/${encodeURIComponent(id)}`;

function stepLine(s: WorkflowStepView): string {
  const why = s.message === '' ? '' : `: ${s.message.split('\n', 1)[0]}`;
  const task = s.taskRunId === null ? '' : ` (task run ${s.taskRunId})`;
  return `step ${s.stepId} [${s.type}] ${s.status}${task}${why}\n`;
}

function finalLine(run: WorkflowRunView): string {
  const why = run.message === '' ? '' : `: ${run.message}`;
  const code = run.errorCode === null ? '' : ` [${run.errorCode}]`;
  return `Workflow run ${run.id} (${run.workflow}): ${run.status}${code}${why}\n`;
}

async function follow(ctx: CommandContext, id: string): Promise<WorkflowRunDetailView> {
  const seen = new Map<number, string>();
  for (;;) {
    const run = await ctx.client.call<WorkflowRunDetailView>('GET', runPath(id));
    for (const s of run.steps) {
      if (seen.get(s.seq) === s.status) continue;
      seen.set(s.seq, s.status);
      if (ctx.json) continue;
      ctx.io.out(stepLine(s));
      if (s.type === 'approval' && s.status === 'waiting')
        ctx.io.out(
          `  waiting for approval until ${shortIso(s.deadlineAt ?? '')}: another person runs "vigocli workflow approve ${run.id}"\n`,
        );
    }
    if (run.status !== 'running') return run;
    await delay(pollIntervalMs);
  }
}

function failUnlessSucceeded(run: WorkflowRunView): void {
  if (run.status === 'succeeded') return;
  throw new CliError(
    cliExitCodes.error,
    'cli.workflow_failed',
    `workflow run ${run.id} ended ${run.status}${run.errorCode === null ? '' : ` (${run.errorCode})`}; see "vigocli workflow status ${run.id}"`,
  );
}

async function run(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [workflow = ''] = input.args;
  if (workflow === '')
    throw usageError('name the workflow to run (see "vigocli workflow list --definitions")');
  const started = await ctx.client.call<WorkflowRunView>('POST', `${base}/runs`, {
    workflow,
    params: params(input),
  });
  if (!ctx.json) ctx.io.out(`Workflow run ${started.id}: ${workflow} started\n`);
  if (input.has('no-wait')) {
    if (ctx.json) printJson(ctx.io, started);
    return;
  }
  const finished = await follow(ctx, started.id);
  if (ctx.json) printJson(ctx.io, finished);
  else ctx.io.out(finalLine(finished));
  failUnlessSucceeded(finished);
}

async function status(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [id = ''] = input.args;
  const detail = await ctx.client.call<WorkflowRunDetailView>('GET', runPath(id));
  if (ctx.json) return printJson(ctx.io, detail);
  const shownParams = Object.entries(detail.params).map(([k, v]) => `${k}=${v}`);
  ctx.io.out(
    [
      `Workflow run ${detail.id}`,
      `  workflow: ${detail.workflow} (configuration version ${detail.configVersion})`,
      `  params:   ${shownParams.length === 0 ? '(none)' : shownParams.join(' ')}`,
      `  by:       ${detail.actor} at ${shortIso(detail.createdAt)}`,
      `  status:   ${detail.status}${detail.errorCode === null ? '' : ` [${detail.errorCode}]`}${detail.message === '' ? '' : ` (${detail.message})`}`,
      `  now:      ${detail.currentStep === null ? '-' : `step ${detail.currentStep}${detail.awaitingApproval ? ' (waiting for approval)' : ''}`}`,
      '',
      '',
    ].join('\n'),
  );
  ctx.io.out(
    table(
      ['#', 'STEP', 'TYPE', 'STATUS', 'STARTED', 'MESSAGE'],
      detail.steps.map((s) => [
        String(s.seq),
        s.stepId,
        s.type,
        s.status,
        shortIso(s.startedAt),
        (s.message.split('\n', 1)[0] ?? '').slice(0, 80),
      ]),
    ),
  );
}

async function list(ctx: CommandContext, input: CommandInput): Promise<void> {
  if (input.has('definitions')) {
    const defs = await ctx.client.call<{ items: WorkflowDefinitionView[] }>('GET', base);
    if (ctx.json) return printJson(ctx.io, defs);
    if (defs.items.length === 0) return ctx.io.out('The active configuration defines no workflows.\n');
    ctx.io.out(
      table(
        ['WORKFLOW', 'STEPS', 'PARAMS', 'DESCRIPTION'],
        defs.items.map((d) => [
          d.name,
          d.steps.map((s) => s.id).join(' > '),
          Object.keys(d.params).join(', '),
          d.description.slice(0, 60),
        ]),
      ),
    );
    return;
  }
  const limit = wholeNumberFlag(input, 'limit', 1, 500) ?? 20;
  const page = await ctx.client.call<{ items: WorkflowRunView[]; nextCursor: string | null }>(
    'GET',
    `${base}/runs?limit=${limit}`,
  );
  if (ctx.json) return printJson(ctx.io, page);
  if (page.items.length === 0) return ctx.io.out('No workflow runs yet.\n');
  ctx.io.out(
    table(
      ['RUN', 'WORKFLOW', 'CREATED', 'BY', 'STATUS', 'STEP'],
      page.items.map((r) => [
        r.id,
        r.workflow,
        shortIso(r.createdAt),
        r.actor,
        r.status,
        r.currentStep === null ? '' : `${r.currentStep}${r.awaitingApproval ? ' (approval)' : ''}`,
      ]),
    ),
  );
}

async function abort(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [id = ''] = input.args;
  const reason = input.value('reason');
  const result = await ctx.client.call<WorkflowRunView>(
    'POST',
    `${runPath(id)}/abort`,
    reason === undefined ? {} : { reason },
  );
  if (ctx.json) return printJson(ctx.io, result);
  ctx.io.out(finalLine(result));
}

async function approve(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [id = ''] = input.args;
  const comment = input.value('comment');
  const verb = input.has('reject') ? 'reject' : 'approve';
  const result = await ctx.client.call<WorkflowRunView>(
    'POST',
    `${runPath(id)}/${verb}`,
    comment === undefined ? {} : { comment },
  );
  if (ctx.json) return printJson(ctx.io, result);
  ctx.io.out(
    `${verb === 'approve' ? 'Approved' : 'Rejected'}; workflow run ${result.id} is ${result.status}` +
      `${result.currentStep === null ? '' : ` (now at step ${result.currentStep})`}\n`,
  );
}

export const workflowCommands: readonly CommandSpec[] = [
  {
    path: ['workflow', 'run'],
    summary: 'Start a workflow of the active configuration and follow it step by step to the end',
    args: [{ name: 'WORKFLOW', doc: 'its name in workflows.vgo' }],
    flags: [
      { name: 'param', value: 'NAME=VALUE', repeatable: true, doc: 'a parameter of the workflow' },
      { name: 'no-wait', doc: 'print the run id and return without following it' },
    ],
    details:
      'Exit status: 0 when the run succeeded, 1 when it failed, was aborted or was interrupted (cli.workflow_failed).',
    run,
  },
  {
    path: ['workflow', 'status'],
    summary: 'One workflow run with every step it executed',
    args: [{ name: 'RUN_ID', doc: 'as "vigocli workflow run" or "workflow list" shows it' }],
    run: status,
  },
  {
    path: ['workflow', 'list'],
    summary: 'Workflow runs, newest first (or, with --definitions, the workflows one can start)',
    flags: [
      { name: 'limit', value: 'N', doc: 'show at most N runs, 1 to 500 (default 20)' },
      { name: 'definitions', doc: 'list the workflows of the active configuration instead of runs' },
    ],
    run: list,
  },
  {
    path: ['workflow', 'abort'],
    summary: 'Abort a workflow run (and the task run its current step started)',
    args: [{ name: 'RUN_ID', doc: 'the run to abort' }],
    flags: [{ name: 'reason', value: 'TEXT', doc: 'why, for the audit log' }],
    run: abort,
  },
  {
    path: ['workflow', 'approve'],
    summary: 'Approve (or with --reject, reject) the approval step a workflow run waits on',
    args: [{ name: 'RUN_ID', doc: 'the run waiting for approval' }],
    flags: [
      { name: 'reject', doc: 'reject instead: the run follows the step\u2019s on_failure' },
      { name: 'comment', value: 'TEXT', doc: 'why, for the audit log' },
    ],
    details: 'The person who started the run cannot approve or reject it (workflow.self_approval).',
    run: approve,
  },
];
