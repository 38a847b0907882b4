/** `vigocli runs list|show`: what envoys reported after applying their bundles, newest first. */
import type { ResourceOutcomeView, RunDetail, RunPage, RunView } from '../../server/runs/index.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { usageError } from '../errors.ts';
import { shortIso, table } from '../format.ts';
import { resolveEnvoyName } from './envoy-lookup.ts';
import { wholeNumberFlag } from './input.ts';

const runsPath = '/api/v1/runs';
const statuses = ['converged', 'changed', 'failed', 'partial'];
const maxLimit = 500;

export const runHeaders = ['RUN', 'HOSTNAME', 'STARTED', 'STATUS', 'POLICY', 'CHANGED', 'FAILED', 'TOTAL'];

export function runRow(run: RunView): string[] {
  return [
    run.id,
    run.hostname ?? run.envoyId,
    shortIso(run.startedAt),
    run.dryRun ? `${run.status} (dry run)` : run.status,
    String(run.policyVersion),
    String(run.resources.changed),
    String(run.resources.failed),
    String(run.resources.total),
  ];
}

export const outcomeHeaders = ['RESOURCE', 'TYPE', 'CONFIGCRATE', 'OUTCOME', 'DURATION', 'MESSAGE'];

export function outcomeRows(outcomes: readonly ResourceOutcomeView[]): string[][] {
  return outcomes.map((o) => [
    o.resourceId,
    o.resourceType,
    o.configcrate ?? '',
    o.outcome,
    o.durationMs === null ? '' : `${o.durationMs}ms`,
    // A table row is one line; a multi-line message (a command's stderr) keeps its first.
    (o.message ?? '').split('\n', 1)[0] ?? '',
  ]);
}

async function list(ctx: CommandContext, input: CommandInput): Promise<void> {
  const params = new URLSearchParams();
  const status = input.value('status');
  if (status !== undefined && !statuses.includes(status))
    throw usageError(`--status must be one of ${statuses.join(', ')}, got ${status}`);
  const limit = wholeNumberFlag(input, 'limit', 1, maxLimit);
  const envoy = input.value('envoy');
  if (envoy !== undefined) params.set('envoy', (await resolveEnvoyName(ctx, envoy)).id);
  // "failed" is what an operator means by a failed run: any resource failed, all of them or some.
  if (status === 'failed') params.set('failed', 'true');
  else if (status !== undefined) params.set('status', status);
  if (limit !== undefined) params.set('limit', String(limit));
  const query = params.toString();
  const page = await ctx.client.call<RunPage>('GET', query === '' ? runsPath : `${runsPath}?${query}`);
  ctx.print(page, () => {
    if (page.items.length === 0) {
      ctx.io.out('No runs match.\n');
      return;
    }
    ctx.io.out(table(runHeaders, page.items.map(runRow)));
    if (page.nextBefore !== null)
      ctx.io.out(`(newest ${page.items.length} shown; raise --limit, up to ${maxLimit}, to see more)\n`);
  });
}

async function show(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [id = ''] = input.args;
  const run = await ctx.client.call<RunDetail>('GET', `${runsPath}/${encodeURIComponent(id)}`);
  ctx.print(run, () => printRun(ctx, run));
}

function printRun(ctx: CommandContext, run: RunDetail): void {
  const r = run.resources;
  ctx.io.out(
    [
      `Run ${run.id}${run.dryRun ? ' (dry run)' : ''}`,
      `  envoy:    ${run.hostname ?? ''} (${run.envoyId})`,
      `  status:   ${run.status}`,
      `  policy:   version ${run.policyVersion}`,
      `  started:  ${shortIso(run.startedAt)}`,
      `  finished: ${shortIso(run.finishedAt)} (${Date.parse(run.finishedAt) - Date.parse(run.startedAt)} ms)`,
      `  received: ${shortIso(run.receivedAt)}`,
      `  resources: ${r.total} total, ${r.changed} changed, ${r.failed} failed`,
      '',
    ].join('\n'),
  );
  if (run.heartbeat) {
    const listed = run.resourcesListedIn;
    ctx.io.out(
      [
        `${r.total} resources, none changed: kept without per-resource outcomes.`,
        ...(listed === null ? [] : [`The same resources are listed in run ${listed.runId}.`]),
        ...(run.resourcesDigest === null ? [] : [`Resource set digest: ${run.resourcesDigest}`]),
        '',
      ].join('\n'),
    );
    return;
  }
  if (run.results.length === 0) {
    ctx.io.out('No resource outcomes were reported.\n');
    return;
  }
  ctx.io.out(table(outcomeHeaders, outcomeRows(run.results)));
  const multiLine = run.results.filter((o) => (o.message ?? '').includes('\n'));
  for (const o of multiLine) ctx.io.out(`\n${o.resourceId}:\n${o.message ?? ''}\n`);
}

export const runCommands: readonly CommandSpec[] = [
  {
    path: ['runs', 'list'],
    summary: 'List runs, newest first, with how many resources changed or failed',
    flags: [
      { name: 'envoy', value: 'ENVOY', doc: "only this envoy's runs: its id, or its exact hostname" },
      {
        name: 'status',
        value: 'STATUS',
        doc: 'converged, changed, partial, or failed (any resource failed: failed and partial runs)',
      },
      { name: 'limit', value: 'N', doc: `show at most N runs, 1 to ${maxLimit} (default 50)` },
    ],
    run: list,
  },
  {
    path: ['runs', 'show'],
    summary: 'One run with the outcome of every resource',
    args: [{ name: 'RUN_ID', doc: 'the run id, as "vigocli runs list" shows it' }],
    run: show,
  },
];
