/**
 * `vigocli envoys list|show|revoke|push`: the fleet as the server's in-memory index sees it. An envoy is
 * named by its id or, where that is unambiguous, by its exact hostname.
 */
import { convergenceStatuses, driftLevels, reachabilities } from '../../server/convergence/index.ts';
import type { ConvergenceHistoryItem } from '../../server/convergence/index.ts';
import type { ResourceOutcomeView, RunView } from '../../server/runs/index.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { usageError } from '../errors.ts';
import { flattenForDisplay, isSummarised, progressLine, relativeTime, shortIso, table } from '../format.ts';
import { confirmOrRefuse, printJson, wholeNumberFlag } from './input.ts';
import { outcomeRows, outcomeHeaders, runRow, runHeaders } from './runs.ts';
import { resolveEnvoyName } from './envoy-lookup.ts';
import type { EnvoyPage, EnvoyView } from './envoy-lookup.ts';

interface EnvoyDetail extends EnvoyView {
  traits: Record<string, unknown> | null;
  runs: RunView[];
  resources: ResourceOutcomeView[];
}

const envoysPath = '/api/v1/envoys';
/** The API's envoy list statuses (server/fleet envoyListStatuses; a test keeps them equal). */
export const envoyStatuses = ['active', 'revoked', 'stale', 'never_seen', 'failing'] as const;
const maxPageSize = 1000;
const maxHistory = 500;
const defaultHistory = 10;
/** The list filters that take one of a closed set of values: flag (and query parameter) → values. */
const stateFilters: readonly [string, readonly string[]][] = [
  ['status', envoyStatuses],
  ['convergence', convergenceStatuses],
  ['drift', driftLevels],
  ['reachability', reachabilities],
];

function listQuery(input: CommandInput, limit: number | undefined, cursor: string | null): string {
  const params = new URLSearchParams();
  for (const [flag, values] of stateFilters) {
    const value = input.value(flag);
    if (value === undefined) continue;
    if (!values.includes(value))
      throw usageError(`--${flag} must be one of ${values.join(', ')}, got ${value}`);
    params.set(flag, value);
  }
  const hostname = input.value('hostname');
  if (hostname !== undefined) params.set('hostname', hostname);
  const traits = input.values('trait');
  if (traits.length > 0) params.set('trait', traits.join(','));
  if (limit !== undefined) params.set('limit', String(limit));
  if (cursor !== null) params.set('cursor', cursor);
  const text = params.toString();
  return text === '' ? envoysPath : `${envoysPath}?${text}`;
}

/** Every page, following cursors; progress on stderr when a person is watching. */
async function allPages(ctx: CommandContext, input: CommandInput, pageSize: number): Promise<EnvoyPage> {
  const items: EnvoyView[] = [];
  let cursor: string | null = null;
  let total = 0;
  const progress = progressLine(ctx.io, !ctx.json && process.stderr.isTTY === true);
  do {
    const page: EnvoyPage = await ctx.client.call<EnvoyPage>('GET', listQuery(input, pageSize, cursor));
    items.push(...page.items);
    total = page.total;
    cursor = page.nextCursor;
    progress.update(`fetched ${items.length} of ${total} envoys…`);
  } while (cursor !== null);
  progress.done();
  return { items, total, nextCursor: null };
}

function lastSeen(envoy: EnvoyView, nowMs: number): string {
  return envoy.lastSeenAt === null ? 'never' : relativeTime(Date.parse(envoy.lastSeenAt), nowMs);
}

async function list(ctx: CommandContext, input: CommandInput): Promise<void> {
  const limit = wholeNumberFlag(input, 'limit', 1, maxPageSize);
  const page = input.has('all')
    ? await allPages(ctx, input, limit ?? maxPageSize)
    : await ctx.client.call<EnvoyPage>('GET', listQuery(input, limit, null));
  if (ctx.json) return printJson(ctx.io, page);
  if (page.items.length === 0) {
    ctx.io.out(
      page.total === 0 && input.values('trait').length === 0 && input.value('hostname') === undefined
        ? 'No envoys match. Enroll hosts with a token from: vigocli enroll token create --hostname GLOB\n'
        : 'No envoys match.\n',
    );
    return;
  }
  const nowMs = Date.now();
  const rows = page.items.map((e) => [
    e.id,
    e.hostname,
    e.status,
    e.convergence,
    e.drift,
    e.reachability,
    lastSeen(e, nowMs),
    String(e.policyVersion),
    e.agentVersion ?? '',
    e.forcePush ? 'pending' : '',
  ]);
  ctx.io.out(
    table(
      ['ID', 'HOSTNAME', 'STATUS', 'CONVERGENCE', 'DRIFT', 'REACH', 'LAST SEEN', 'POLICY', 'AGENT', 'PUSH'],
      rows,
    ),
  );
  if (page.nextCursor !== null) {
    ctx.io.out(
      `(${page.items.length} of ${page.total} shown; --all lists every one, or narrow with filters)\n`,
    );
  } else ctx.io.out(`${page.total} envoy${page.total === 1 ? '' : 's'}\n`);
}

/** An id as given; a hostname looked up exactly (case-insensitive, as hostnames are). */
function resolveEnvoy(ctx: CommandContext, input: CommandInput): Promise<{ id: string; hostname?: string }> {
  const [name = ''] = input.args;
  return resolveEnvoyName(ctx, name);
}

function envoyPath(id: string, action = ''): string {
  return `${envoysPath}/${encodeURIComponent(id)}${action}`;
}

interface HistoryPage {
  items: ConvergenceHistoryItem[];
  nextBefore: number | null;
}

const moved = (from: string, to: string): string => (from === to ? to : `${from} -> ${to}`);

function historyRows(items: readonly ConvergenceHistoryItem[]): string[][] {
  return items.map((h) => [
    shortIso(h.at),
    moved(h.fromStatus, h.status),
    moved(h.fromDrift, h.drift),
    h.fromReachability === null || h.reachability === null ? '' : moved(h.fromReachability, h.reachability),
    h.runId ?? '',
  ]);
}

function printDetail(ctx: CommandContext, envoy: EnvoyDetail, history: HistoryPage): void {
  const nowMs = Date.now();
  const lines = [
    `Envoy ${envoy.hostname}`,
    `  id:             ${envoy.id}`,
    `  status:         ${envoy.status}`,
    `  enrolled:       ${shortIso(envoy.enrolledAt)} (${relativeTime(Date.parse(envoy.enrolledAt), nowMs)})`,
    `  last seen:      ${envoy.lastSeenAt === null ? 'never' : `${shortIso(envoy.lastSeenAt)} (${lastSeen(envoy, nowMs)})`}`,
    `  policy version: ${envoy.policyVersion}`,
    `  agent:          ${envoy.agentVersion ?? 'unknown'}`,
    `  interval:       ${envoy.intervalMs === null ? 'unknown' : `${Math.round(envoy.intervalMs / 1000)}s`}`,
    `  state:          ${envoy.stateFingerprint ?? 'not reported'}`,
    `  force push:     ${envoy.forcePush ? 'pending (full bundle at the next check-in)' : 'no'}`,
    `  convergence:    ${envoy.convergence}${envoy.convergenceSince === null ? '' : ` (since ${shortIso(envoy.convergenceSince)})`}`,
    `  drift:          ${envoy.drift}`,
    `  reachability:   ${envoy.reachability}`,
    '',
  ];
  ctx.io.out(lines.join('\n'));
  const traits = envoy.traits === null ? [] : flattenForDisplay(envoy.traits);
  const summarised = traits.filter((row) => isSummarised(row[1] ?? '')).length;
  ctx.io.out(
    traits.length === 0 ? 'Traits: none reported\n' : `Traits:\n${table(['TRAIT', 'VALUE'], traits)}`,
  );
  if (summarised > 0)
    ctx.io.out(
      `(${summarised} long trait value${summarised === 1 ? '' : 's'} summarised; -o json shows them whole)\n`,
    );
  ctx.io.out(
    envoy.runs.length === 0
      ? '\nRuns: none reported\n'
      : `\nRuns (newest ${envoy.runs.length}):\n${table(runHeaders, envoy.runs.map(runRow))}`,
  );
  if (envoy.resources.length > 0)
    ctx.io.out(`\nResources in the last run:\n${table(outcomeHeaders, outcomeRows(envoy.resources))}`);
  if (history.items.length > 0) {
    const more = history.nextBefore === null ? '' : ' (--history N shows more)';
    ctx.io.out(
      `\nConvergence history (newest ${history.items.length})${more}:\n` +
        table(['AT', 'CONVERGENCE', 'DRIFT', 'REACH', 'RUN'], historyRows(history.items)),
    );
  } else ctx.io.out('\nConvergence history: no transitions yet\n');
}

async function show(ctx: CommandContext, input: CommandInput): Promise<void> {
  const { id } = await resolveEnvoy(ctx, input);
  const limit = wholeNumberFlag(input, 'history', 1, maxHistory) ?? defaultHistory;
  const [envoy, history] = await Promise.all([
    ctx.client.call<EnvoyDetail>('GET', envoyPath(id)),
    ctx.client.call<HistoryPage>('GET', envoyPath(id, `/convergence/history?limit=${limit}`)),
  ]);
  ctx.print({ ...envoy, convergenceHistory: history.items }, () => printDetail(ctx, envoy, history));
}

async function revoke(ctx: CommandContext, input: CommandInput): Promise<void> {
  const envoy = await resolveEnvoy(ctx, input);
  const name = envoy.hostname === undefined ? envoy.id : `${envoy.hostname} (${envoy.id})`;
  await confirmOrRefuse(
    ctx.io,
    input,
    `Revoke envoy ${name}? Its check-ins are refused from then on, and it must enroll again.`,
    '"vigocli envoys revoke"',
  );
  const reason = input.value('reason');
  const result = await ctx.client.call<{ envoyId: string; revoked: true; changed: boolean }>(
    'POST',
    envoyPath(envoy.id, '/revoke'),
    reason === undefined ? {} : { reason },
  );
  if (ctx.json) return printJson(ctx.io, result);
  ctx.io.out(
    result.changed
      ? `Envoy ${name} is revoked: its check-ins are refused from now on.\n`
      : `Envoy ${name} was already revoked; nothing changed.\n`,
  );
}

async function push(ctx: CommandContext, input: CommandInput): Promise<void> {
  const envoy = await resolveEnvoy(ctx, input);
  const result = await ctx.client.call<{ envoyId: string; forcePush: true; pushedNow?: boolean }>(
    'POST',
    envoyPath(envoy.id, '/push'),
    {},
  );
  if (ctx.json) return printJson(ctx.io, result);
  const name = envoy.hostname ?? result.envoyId;
  ctx.io.out(
    result.pushedNow === true
      ? `Envoy ${name} is checking in now and gets its full bundle.\n`
      : `Envoy ${name} gets its full bundle at its next check-in.\n`,
  );
}

const envoyArg = { name: 'ENVOY', doc: 'the envoy id, or its exact hostname' };

export const envoyCommands: readonly CommandSpec[] = [
  {
    path: ['envoys', 'list'],
    summary: 'List envoys with status, convergence, last check-in and policy version (filter, page, --all)',
    flags: [
      {
        name: 'status',
        value: 'STATUS',
        doc: 'active, stale, revoked, never_seen (no check-in yet) or failing (its last run had failed resources)',
      },
      { name: 'convergence', value: 'STATE', doc: convergenceStatuses.join(', ') },
      { name: 'drift', value: 'LEVEL', doc: driftLevels.join(', ') },
      { name: 'reachability', value: 'STATE', doc: reachabilities.join(', ') },
      { name: 'hostname', value: 'GLOB', doc: 'hostnames matching a glob such as web-*' },
      {
        name: 'trait',
        value: 'EXPR',
        repeatable: true,
        doc: 'trait filter such as os.family=debian or memory.total_mb>=4096 (all must match)',
      },
      {
        name: 'limit',
        value: 'N',
        doc: `page size, 1 to ${maxPageSize} (default 100; with --all ${maxPageSize})`,
      },
      { name: 'all', doc: 'follow the pages to the end and list every match' },
    ],
    run: list,
  },
  {
    path: ['envoys', 'show'],
    summary:
      'One envoy: its state and convergence history, traits, recent runs and the outcome of each resource in its last run',
    args: [envoyArg],
    flags: [
      {
        name: 'history',
        value: 'N',
        doc: `convergence transitions to show, newest first, 1 to ${maxHistory} (default ${defaultHistory})`,
      },
    ],
    run: show,
  },
  {
    path: ['envoys', 'revoke'],
    summary: 'Revoke an envoy: its check-ins are refused from now on',
    args: [envoyArg],
    flags: [
      { name: 'reason', value: 'TEXT', doc: 'recorded in the audit log' },
      { name: 'yes', doc: 'do not ask for confirmation (required when stdin is not a terminal)' },
    ],
    run: revoke,
  },
  {
    path: ['envoys', 'push'],
    summary: 'Force-push: the envoy gets its full bundle, at once if its stream is open',
    args: [envoyArg],
    run: push,
  },
];
