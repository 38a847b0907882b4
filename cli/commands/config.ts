/**
 * `vigocli config …`: validate and publish stacks, and manage what the fleet is served — history,
 * per-version diff, two-person approval, rollback and freeze.
 */
import type { Diagnostic } from '../../server/policy/index.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { CliError, usageError } from '../errors.ts';
import { shortIso, table } from '../format.ts';
import { fetchDiff, printFieldDiff, rollbackCommand, versionArg } from './config-diff.ts';
import type { FieldDiffView } from './config-diff.ts';
import { formatDiagnostic, validateCommand } from './config-validate.ts';
import { readStackDir } from './stack-files.ts';

interface VersionView {
  version: number;
  status: string;
  snapshotHash: string;
  createdAt: string;
  createdBy: string;
  message: string | null;
  approvedBy: string | null;
  source: string | null;
}

interface EntryDiffView {
  entryId: string;
  status: string;
  added: string[];
  changed: string[];
  removed: string[];
}

interface ImpactView {
  entries: EntryDiffView[];
  envoysTotal: number;
  envoysChanging: number;
  fields: FieldDiffView;
  groups: {
    entryBefore: string | null;
    entryAfter: string | null;
    envoys: number;
    hostnames: string[];
    added: string[];
    changed: string[];
    removed: string[];
  }[];
}

type PublishView =
  | {
      outcome: 'dry_run';
      snapshotHash: string;
      unchanged: boolean;
      diagnostics: Diagnostic[];
      impact: ImpactView;
    }
  | { outcome: 'unchanged'; version: number; snapshotHash: string; diagnostics: Diagnostic[] }
  | {
      outcome: 'pending' | 'activated';
      version: number;
      snapshotHash: string;
      diagnostics: Diagnostic[];
      impact: ImpactView;
    };

function printJson(ctx: CommandContext, value: unknown): void {
  ctx.io.out(`${JSON.stringify(value, null, 2)}\n`);
}

function printDiagnostics(ctx: CommandContext, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) ctx.io.err(`${formatDiagnostic(d)}\n`);
}

/** Prints the server's diagnostics before the error itself when publish refuses the stacks. */
async function withDiagnostics<T>(ctx: CommandContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof CliError && err.diagnostics && !ctx.json)
      printDiagnostics(ctx, err.diagnostics as Diagnostic[]);
    throw err;
  }
}

function list(items: readonly string[]): string {
  return items.length === 0 ? '' : items.join(', ');
}

function printImpact(ctx: CommandContext, impact: ImpactView): void {
  ctx.io.out(`Envoys changing: ${impact.envoysChanging} of ${impact.envoysTotal}\n`);
  for (const g of impact.groups) {
    const move =
      g.entryBefore === g.entryAfter
        ? (g.entryAfter ?? '(no entry)')
        : `${g.entryBefore ?? '(no entry)'} -> ${g.entryAfter ?? '(no entry)'}`;
    ctx.io.out(`\n  ${g.envoys} envoy${g.envoys === 1 ? '' : 's'} on ${move}\n`);
    if (g.added.length > 0) ctx.io.out(`    + added:   ${list(g.added)}\n`);
    if (g.changed.length > 0) ctx.io.out(`    ~ changed: ${list(g.changed)}\n`);
    if (g.removed.length > 0) ctx.io.out(`    - removed: ${list(g.removed)}\n`);
    for (const hostname of g.hostnames) ctx.io.out(`      ${hostname}\n`);
    if (g.hostnames.length < g.envoys) ctx.io.out(`      … and ${g.envoys - g.hostnames.length} more\n`);
  }
  ctx.io.out('\nResources:\n');
  printFieldDiff(ctx, impact.fields);
}

async function publish(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [dir = ''] = input.args;
  const files = readStackDir(dir);
  const dryRun = input.has('dry-run');
  const message = input.value('message');
  if (!ctx.json) ctx.io.err(`Uploading ${files.length} files from ${dir} …\n`);
  const result = await withDiagnostics(ctx, () =>
    ctx.client.call<PublishView>('POST', '/api/v1/config/publish', { files, dryRun, message }),
  );
  if (ctx.json) return printJson(ctx, result);
  printDiagnostics(ctx, result.diagnostics);
  switch (result.outcome) {
    case 'dry_run':
      ctx.io.out(
        result.unchanged
          ? 'Dry run: identical to the active configuration.\n'
          : 'Dry run: nothing was published.\n',
      );
      printImpact(ctx, result.impact);
      return;
    case 'unchanged':
      ctx.io.out(`No change: version ${result.version} already serves exactly this configuration.\n`);
      return;
    case 'pending':
      ctx.io.out(
        `Version ${result.version} is waiting for approval by another admin: vigocli config approve ${result.version}\n`,
      );
      printImpact(ctx, result.impact);
      return;
    case 'activated':
      ctx.io.out(`Published version ${result.version} (snapshot ${result.snapshotHash.slice(0, 12)}).\n`);
      printImpact(ctx, result.impact);
  }
}

async function history(ctx: CommandContext, input: CommandInput): Promise<void> {
  const limit = input.value('limit');
  if (limit !== undefined && !/^\d{1,3}$/.test(limit))
    throw usageError('--limit must be a whole number up to 500');
  const page = await ctx.client.call<{ items: VersionView[] }>(
    'GET',
    `/api/v1/config/history${limit === undefined ? '' : `?limit=${limit}`}`,
  );
  if (ctx.json) return printJson(ctx, page);
  const rows = page.items.map((v) => [
    String(v.version),
    v.status,
    shortIso(v.createdAt),
    v.createdBy,
    v.approvedBy ?? '',
    v.snapshotHash.slice(0, 12),
    v.message ?? '',
  ]);
  ctx.io.out(table(['VERSION', 'STATUS', 'CREATED', 'BY', 'APPROVED BY', 'SNAPSHOT', 'MESSAGE'], rows));
}

async function show(ctx: CommandContext, input: CommandInput): Promise<void> {
  const version = versionArg(input);
  const [detail, changes] = await Promise.all([
    ctx.client.call<VersionView & { entries: number; comparedWith: number | null; diff: EntryDiffView[] }>(
      'GET',
      `/api/v1/config/versions/${version}`,
    ),
    fetchDiff(ctx, version),
  ]);
  if (ctx.json) return printJson(ctx, { ...detail, fields: changes.impact.fields });
  ctx.io.out(
    [
      `version ${detail.version} (${detail.status}) by ${detail.createdBy} at ${shortIso(detail.createdAt)}`,
      `snapshot ${detail.snapshotHash}, ${detail.entries} entries${detail.message ? `, "${detail.message}"` : ''}`,
      detail.comparedWith === null ? 'first version' : `changes since version ${detail.comparedWith}:`,
      '',
    ].join('\n'),
  );
  for (const d of detail.diff) {
    ctx.io.out(`  ${d.status.padEnd(8)} ${d.entryId}\n`);
    if (d.added.length > 0) ctx.io.out(`    + ${list(d.added)}\n`);
    if (d.changed.length > 0) ctx.io.out(`    ~ ${list(d.changed)}\n`);
    if (d.removed.length > 0) ctx.io.out(`    - ${list(d.removed)}\n`);
  }
  if (detail.comparedWith === null) return;
  ctx.io.out(
    `\nResources, field by field (${changes.impact.envoysChanging} of ${changes.impact.envoysTotal} envoys enrolled now change):\n`,
  );
  printFieldDiff(ctx, changes.impact.fields);
}

async function status(ctx: CommandContext): Promise<void> {
  const s = await ctx.client.call<{
    active: VersionView | null;
    pending: VersionView | null;
    frozen: { until: string; reason: string } | null;
    autoRollback?: AutoRollbackView | null;
    blastRadiusWatch?: BlastRadiusWatchView | null;
  }>('GET', '/api/v1/config/status');
  if (ctx.json) return printJson(ctx, s);
  const watch = s.blastRadiusWatch;
  const auto = s.autoRollback;
  ctx.io.out(
    [
      `active:  ${s.active ? `version ${s.active.version} by ${s.active.createdBy} at ${shortIso(s.active.createdAt)}` : 'none'}`,
      `pending: ${s.pending ? `version ${s.pending.version} by ${s.pending.createdBy} (vigocli config approve ${s.pending.version})` : 'none'}`,
      `frozen:  ${s.frozen ? `until ${shortIso(s.frozen.until)}${s.frozen.reason ? ` (${s.frozen.reason})` : ''}` : 'no'}`,
      `blast radius: ${watch ? `watching version ${watch.version} since ${shortIso(watch.since)}: ${watch.converged} of ${watch.reporting} reporting envoys converged (rollback target ${watch.previousVersion})` : 'not watching'}`,
      `last automatic rollback: ${
        auto
          ? `${shortIso(auto.at)}: version ${auto.rolledBack} rolled back to ${auto.restored} (now version ${auto.version}); ` +
            `${auto.converged} of ${auto.reporting} envoys converged (${auto.convergedPct}%), below ${auto.minConvergencePct}% ` +
            `(at least ${auto.minEnvoys} envoys within ${auto.window})`
          : 'none'
      }`,
      '',
    ].join('\n'),
  );
}

interface AutoRollbackView {
  at: string;
  rolledBack: number;
  restored: number;
  version: number;
  reason: string;
  reporting: number;
  converged: number;
  convergedPct: number;
  minConvergencePct: number;
  minEnvoys: number;
  window: string;
}

interface BlastRadiusWatchView {
  version: number;
  previousVersion: number;
  since: string;
  reporting: number;
  converged: number;
}

async function approve(ctx: CommandContext, input: CommandInput): Promise<void> {
  const version = versionArg(input);
  const result = await ctx.client.call<{ version: number }>(
    'POST',
    `/api/v1/config/versions/${version}/approve`,
  );
  if (ctx.json) return printJson(ctx, result);
  ctx.io.out(`Approved: version ${result.version} is now active.\n`);
}

async function reject(ctx: CommandContext, input: CommandInput): Promise<void> {
  const version = versionArg(input);
  const result = await ctx.client.call<{ version: number }>(
    'POST',
    `/api/v1/config/versions/${version}/reject`,
    {
      reason: input.value('reason') ?? '',
    },
  );
  if (ctx.json) return printJson(ctx, result);
  ctx.io.out(`Rejected version ${result.version}; it will never be served.\n`);
}

async function freeze(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [until = ''] = input.args;
  const result = await ctx.client.call<{ until: string; reason: string }>('POST', '/api/v1/config/freeze', {
    until,
    reason: input.value('reason') ?? '',
  });
  if (ctx.json) return printJson(ctx, result);
  ctx.io.out(`Publishing is frozen until ${shortIso(result.until)}.\n`);
}

async function unfreeze(ctx: CommandContext): Promise<void> {
  const result = await ctx.client.call<{ wasFrozen: boolean }>('POST', '/api/v1/config/unfreeze');
  if (ctx.json) return printJson(ctx, result);
  ctx.io.out(result.wasFrozen ? 'Publishing is allowed again.\n' : 'Publishing was not frozen.\n');
}

const dirArg = { name: 'DIR', doc: 'the stacks directory (configcrates/, roles.vgo, envoys.vgo …)' };
const versionArgSpec = {
  name: 'VERSION',
  doc: 'a config version number, as "vigocli config history" shows it',
};

export const configCommands: readonly CommandSpec[] = [
  validateCommand,
  {
    path: ['config', 'publish'],
    summary: 'Validate, compile and activate a stacks directory (or show what would change)',
    args: [dirArg],
    flags: [
      { name: 'dry-run', doc: 'show which envoys and resources would change; publish nothing' },
      { name: 'message', value: 'TEXT', doc: 'why, recorded in history and the audit log' },
    ],
    details:
      'With publish.approval: required the new version waits for another admin: vigocli config approve VERSION.',
    run: publish,
  },
  {
    path: ['config', 'status'],
    summary: 'Show the active and pending versions, any freeze and the blast-radius check',
    run: status,
  },
  {
    path: ['config', 'history'],
    summary: 'List config versions, newest first',
    flags: [{ name: 'limit', value: 'N', doc: 'show at most N versions (default 50)' }],
    run: history,
  },
  {
    path: ['config', 'show'],
    summary: 'Show one version and what it changed',
    args: [versionArgSpec],
    run: show,
  },
  {
    path: ['config', 'approve'],
    summary: "Approve another admin's pending publish, activating it",
    args: [versionArgSpec],
    run: approve,
  },
  {
    path: ['config', 'reject'],
    summary: 'Reject a pending publish',
    args: [versionArgSpec],
    flags: [{ name: 'reason', value: 'TEXT', doc: 'recorded in the audit log' }],
    run: reject,
  },
  rollbackCommand,
  {
    path: ['config', 'freeze'],
    summary: 'Block publishes until a time or for a duration (rollback stays possible)',
    args: [{ name: 'UNTIL', doc: 'a duration such as 2h or a time such as 2026-12-24T08:00:00Z' }],
    flags: [{ name: 'reason', value: 'TEXT', doc: 'shown to whoever tries to publish' }],
    run: freeze,
  },
  { path: ['config', 'unfreeze'], summary: 'Allow publishes again', run: unfreeze },
];
