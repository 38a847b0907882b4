/**
 * `vigocli db stats|integrity|analyze|checkpoint|vacuum|prune`: database maintenance on a running server
 * (admin only, audited; the server runs it on its maintenance thread, never on the serving thread).
 */
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { CliError, cliExitCodes } from '../errors.ts';
import { table } from '../format.ts';
import { confirmOrRefuse } from './input.ts';

interface TableStats {
  name: string;
  rows: number;
  bytes: number;
}

interface StatsAnswer {
  op: 'stats';
  stats: {
    file: string;
    fileBytes: number;
    walBytes: number;
    pageSize: number;
    pages: number;
    freePages: number;
    tables: TableStats[];
  };
}

interface PruneAnswer {
  op: 'prune';
  olderThan: string;
  deleted: Record<string, number>;
  transactions: number;
  longestTxnMs: number;
  ms: number;
}

/** "1.5 MiB": bytes for people. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

async function stats(ctx: CommandContext): Promise<void> {
  const answer = await ctx.client.call<StatsAnswer>('GET', '/api/v1/db/stats');
  ctx.print(answer.stats, () => {
    const s = answer.stats;
    ctx.io.out(
      `Database:   ${s.file}\n` +
        `Size:       ${formatBytes(s.fileBytes)} (+ ${formatBytes(s.walBytes)} write-ahead log)\n` +
        `Free pages: ${s.freePages} of ${s.pages} (${formatBytes(s.freePages * s.pageSize)} reused before the file grows)\n\n`,
    );
    const tables = [...s.tables].sort((a, b) => b.bytes - a.bytes);
    ctx.io.out(
      table(
        ['TABLE', 'ROWS', 'SIZE'],
        tables.map((t) => [t.name, String(t.rows), formatBytes(t.bytes)]),
      ),
    );
  });
}

async function integrity(ctx: CommandContext): Promise<void> {
  const answer = await ctx.client.call<{ integrity: { ok: boolean; problems: string[] } }>(
    'POST',
    '/api/v1/db/integrity',
  );
  ctx.print(answer.integrity, () => {
    if (answer.integrity.ok) ctx.io.out('ok: the integrity check and the foreign-key check found nothing\n');
    else for (const problem of answer.integrity.problems) ctx.io.out(`${problem}\n`);
  });
  if (!answer.integrity.ok) {
    throw new CliError(
      cliExitCodes.error,
      'cli.db_damaged',
      `the database check found ${answer.integrity.problems.length} problem(s); stop vigosrv and restore a backup`,
    );
  }
}

async function analyze(ctx: CommandContext): Promise<void> {
  const answer = await ctx.client.call<{ ms: number }>('POST', '/api/v1/db/analyze');
  ctx.print(answer, () => ctx.io.out(`Query planner statistics refreshed in ${Math.round(answer.ms)} ms.\n`));
}

async function checkpoint(ctx: CommandContext): Promise<void> {
  const answer = await ctx.client.call<{
    checkpoint: { busy: boolean; walFrames: number; checkpointedFrames: number };
  }>('POST', '/api/v1/db/checkpoint');
  const c = answer.checkpoint;
  ctx.print(c, () =>
    ctx.io.out(
      c.busy
        ? `Checkpoint partly done (${c.checkpointedFrames} of ${c.walFrames} frames): a reader or writer was busy; try again.\n`
        : `Checkpoint done: ${c.checkpointedFrames} frames copied, the write-ahead log truncated.\n`,
    ),
  );
}

async function vacuum(ctx: CommandContext): Promise<void> {
  if (!ctx.json) ctx.io.err('Vacuuming on the server (writers wait until it is done)...\n');
  const answer = await ctx.client.call<{
    vacuum: { beforeBytes: number; afterBytes: number; freeBytes: number; ms: number };
  }>('POST', '/api/v1/db/vacuum');
  const v = answer.vacuum;
  ctx.print(v, () =>
    ctx.io.out(
      `Vacuumed in ${(v.ms / 1000).toFixed(1)} s: ${formatBytes(v.beforeBytes)} before, ${formatBytes(v.afterBytes)} after ` +
        `(${formatBytes(Math.max(0, v.beforeBytes - v.afterBytes))} returned to the file system).\n`,
    ),
  );
}

async function prune(ctx: CommandContext, input: CommandInput): Promise<void> {
  const olderThan = input.value('older-than') ?? '';
  const families = input.values('history');
  const what =
    families.length > 0 ? families.join(', ') : 'runs, tasks, workflows, convergence history and deliveries';
  await confirmOrRefuse(
    ctx.io,
    input,
    `Delete ${what} older than ${olderThan}? The audit log is kept; the rest cannot be recovered.`,
    '"vigocli db prune"',
  );
  if (!ctx.json) ctx.io.err('Pruning on the server (small transactions; large histories take a while)...\n');
  const answer = await ctx.client.call<PruneAnswer>('POST', '/api/v1/db/prune', {
    olderThan,
    ...(families.length > 0 ? { families } : {}),
  });
  ctx.print(answer, () => {
    ctx.io.out(
      table(
        ['HISTORY', 'DELETED'],
        Object.entries(answer.deleted).map(([family, n]) => [family, String(n)]),
      ),
    );
    ctx.io.out(
      `${answer.transactions} transactions in ${(answer.ms / 1000).toFixed(1)} s, the longest ${answer.longestTxnMs.toFixed(1)} ms.\n`,
    );
  });
}

export const dbCommands: readonly CommandSpec[] = [
  { path: ['db', 'stats'], summary: 'Database size, free pages, and rows and size per table', run: stats },
  {
    path: ['db', 'integrity'],
    summary: 'Check the database (integrity and foreign keys); exit 1 when it found problems',
    run: integrity,
  },
  { path: ['db', 'analyze'], summary: "Refresh the query planner's statistics", run: analyze },
  {
    path: ['db', 'checkpoint'],
    summary: 'Copy the write-ahead log into the database file and truncate it',
    run: checkpoint,
  },
  {
    path: ['db', 'vacuum'],
    summary: 'Rebuild the database file and return free pages to the file system (writers wait meanwhile)',
    run: vacuum,
  },
  {
    path: ['db', 'prune'],
    summary: 'Delete history older than a duration now, as the daily pruner does (never the audit log)',
    flags: [
      { name: 'older-than', value: 'DURATION', doc: 'e.g. 30d; at least 1h', required: true },
      {
        name: 'history',
        value: 'NAME',
        repeatable: true,
        doc: 'only this history: runs, tasks, workflows, convergence_history or deliveries (repeatable)',
      },
      { name: 'yes', doc: 'do not ask for confirmation (required when stdin is not a terminal)' },
    ],
    run: prune,
  },
];
