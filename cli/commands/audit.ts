/** `vigocli audit list|verify|checkpoint|reanchor`: the server's SHA-256 hash-chained audit log. */
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { usageError } from '../errors.ts';
import { shortIso, table } from '../format.ts';
import { chainBroken, takeCheckpoint, verifyAgainstCheckpoints } from './audit-checkpoint.ts';
import type { VerifyResult } from './audit-checkpoint.ts';
import { confirmOrRefuse, printJson, wholeNumberFlag } from './input.ts';

interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
  hash: string;
  prevHash: string;
}

const maxLimit = 1000;
const maxDetailsLength = 60;

function detailsText(details: Record<string, unknown>): string {
  const text = Object.keys(details).length === 0 ? '' : JSON.stringify(details);
  return text.length <= maxDetailsLength ? text : `${text.slice(0, maxDetailsLength - 1)}…`;
}

async function list(ctx: CommandContext, input: CommandInput): Promise<void> {
  const params = new URLSearchParams();
  const limit = wholeNumberFlag(input, 'limit', 1, maxLimit);
  if (limit !== undefined) params.set('limit', String(limit));
  const before = wholeNumberFlag(input, 'before', 1, Number.MAX_SAFE_INTEGER);
  if (before !== undefined) params.set('before', String(before));
  for (const name of ['action', 'actor']) {
    const value = input.value(name);
    if (value !== undefined) params.set(name, value);
  }
  const query = params.toString();
  const page = await ctx.client.call<{ items: AuditEntry[]; next: number | null }>(
    'GET',
    query === '' ? '/api/v1/audit' : `/api/v1/audit?${query}`,
  );
  if (ctx.json) return printJson(ctx.io, page);
  if (page.items.length === 0) {
    ctx.io.out('No audit entries match.\n');
    return;
  }
  const rows = page.items.map((e) => [
    String(e.seq),
    shortIso(e.at),
    e.actor,
    e.action,
    e.target,
    detailsText(e.details),
  ]);
  ctx.io.out(table(['SEQ', 'AT', 'ACTOR', 'ACTION', 'TARGET', 'DETAILS'], rows));
  if (page.next !== null) ctx.io.out(`(older entries: add --before ${page.next})\n`);
}

/** Re-anchorings stay in the chain for good; every verification says so. */
function reanchorLines(result: VerifyResult): string {
  return (result.reanchored ?? [])
    .map(
      (note) =>
        `Re-anchored at seq ${note.seq} on ${shortIso(note.at)} by ${note.actor}: ${note.problem} ` +
        `(reason: ${note.reason})\n`,
    )
    .join('');
}

async function verify(ctx: CommandContext, input: CommandInput): Promise<void> {
  const checkpointFile = input.value('checkpoint');
  if (checkpointFile !== undefined) return verifyAgainstCheckpoints(ctx, input, checkpointFile);
  if (input.value('key') !== undefined) throw usageError('--key goes with --checkpoint FILE');
  const result = await ctx.client.call<VerifyResult>('GET', '/api/v1/audit/verify');
  if (ctx.json) printJson(ctx.io, result);
  if (!result.ok) throw chainBroken(result);
  if (ctx.json) return;
  const head = result.headHash === undefined ? '' : `; head ${result.headHash}`;
  ctx.io.out(`Audit chain intact: ${result.count} entries verified${head}.\n${reanchorLines(result)}`);
}

interface ReanchorEntry {
  seq: number;
  details: { problem?: string; reason?: string };
}

async function reanchor(ctx: CommandContext, input: CommandInput): Promise<void> {
  const reason = input.value('reason');
  if (reason === undefined || reason.trim() === '')
    throw usageError(
      'vigocli audit reanchor needs --reason TEXT: what was found and why the chain may continue',
    );
  await confirmOrRefuse(
    ctx.io,
    input,
    'Record the break in the audit chain and continue it after its newest entry? The record stays in the chain for good.',
    'vigocli audit reanchor',
  );
  const entry = await ctx.client.call<ReanchorEntry>('POST', '/api/v1/audit/reanchor', { reason });
  if (ctx.json) return printJson(ctx.io, entry);
  ctx.io.out(
    `Audit chain re-anchored at seq ${entry.seq}; recorded: ${entry.details.problem ?? ''}.\n` +
      'Audited actions are accepted again. Take a checkpoint now: vigocli audit checkpoint --output FILE\n',
  );
}

export const auditCommands: readonly CommandSpec[] = [
  {
    path: ['audit', 'list'],
    summary: 'List audit entries, newest first',
    flags: [
      { name: 'limit', value: 'N', doc: `show at most N entries, 1 to ${maxLimit} (default 100)` },
      { name: 'action', value: 'ACTION', doc: 'only this action, e.g. envoy.revoked' },
      { name: 'actor', value: 'ACTOR', doc: 'only entries by this actor, e.g. user:alice' },
      { name: 'before', value: 'SEQ', doc: 'only entries older than this sequence number (next page)' },
    ],
    run: list,
  },
  {
    path: ['audit', 'verify'],
    summary: 'Verify the whole hash chain (and, with --checkpoint, that it still holds signed checkpoints)',
    flags: [
      {
        name: 'checkpoint',
        value: 'FILE',
        doc: 'also check the signature of every checkpoint in FILE (one JSON line each) and that the chain still holds it',
      },
      {
        name: 'key',
        value: 'FILE',
        doc: "ed25519 public key (PEM, or raw base64) to check signatures with instead of the server's",
      },
    ],
    details:
      'Exit 1 with the first broken entry, or the checkpoint that does not hold, when the chain is not intact.',
    run: verify,
  },
  {
    path: ['audit', 'checkpoint'],
    summary: 'Print a signed checkpoint of the chain head, or append it to a file',
    flags: [{ name: 'output', value: 'FILE', doc: 'append the checkpoint to FILE as one JSON line' }],
    details:
      'Keep checkpoints off the server: "vigocli audit verify --checkpoint FILE" later exposes any rewrite behind them.',
    run: takeCheckpoint,
  },
  {
    path: ['audit', 'reanchor'],
    summary: 'Record a damaged chain head in the chain and continue after its newest entry (admin)',
    flags: [
      { name: 'reason', value: 'TEXT', doc: 'what was found and why the chain may continue (recorded)' },
      { name: 'yes', doc: 'do not ask for confirmation (required when stdin is not a terminal)' },
    ],
    run: reanchor,
  },
];
