/** `vigocli audit list|verify`: the server's SHA-256 hash-chained audit log. */
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { CliError, cliExitCodes } from '../errors.ts';
import { shortIso, table } from '../format.ts';
import { printJson, wholeNumberFlag } from './input.ts';

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

type VerifyResult =
  | { ok: true; count: number; headHash?: string }
  | { ok: false; count: number; brokenSeq: number; reason: string };

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

async function verify(ctx: CommandContext): Promise<void> {
  const result = await ctx.client.call<VerifyResult>('GET', '/api/v1/audit/verify');
  if (ctx.json) printJson(ctx.io, result);
  if (result.ok) {
    if (!ctx.json) {
      const head = result.headHash === undefined ? '' : `; head ${result.headHash}`;
      ctx.io.out(`Audit chain intact: ${result.count} entries verified${head}.\n`);
    }
    return;
  }
  throw new CliError(
    cliExitCodes.error,
    'cli.audit_chain_broken',
    `the audit chain is broken at seq ${result.brokenSeq}: ${result.reason} (${result.count} entries checked); ` +
      'an entry was edited, removed or inserted outside vigosrv',
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
    summary: 'Verify the whole hash chain; exit 1 with the first broken entry when it does not hold',
    run: verify,
  },
];
