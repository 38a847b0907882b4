/**
 * `vigocli server status|promote|rejoin`: the server's replication role (admin only).
 *   status   role, epoch, peer fingerprint; on a primary each standby's lag, on a standby the primary followed
 *   promote  make this standby the primary at a new epoch (audited by the new primary)
 *   rejoin   make this fenced former primary a standby of the current primary
 */
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { table } from '../format.ts';
import { confirmOrRefuse } from './input.ts';

interface StandbyLink {
  peer: string;
  connectedAtMs: number;
  batches: number;
  pagesSent: number;
  bytesSent: number;
  lastLagMs?: number;
  maxLagMs: number;
  ackedTakenAtMs?: number;
}

interface Follow {
  primary: string;
  connected: boolean;
  lastAppliedAtMs?: number;
  takenAtMs?: number;
  batches: number;
  lastError: string;
}

interface Status {
  name?: string;
  role: string;
  epoch?: number;
  primary?: string;
  fingerprint?: string;
  standalone?: boolean;
  peers?: { name: string; agentAddress: string }[];
  standbys?: StandbyLink[];
  follow?: Follow;
}

const ago = (ms: number | undefined, now: number): string =>
  ms === undefined ? '-' : `${((now - ms) / 1000).toFixed(1)} s ago`;

async function status(ctx: CommandContext): Promise<void> {
  const s = await ctx.client.call<Status>('GET', '/api/v1/server/replication');
  ctx.print(s, () => {
    const now = Date.now();
    ctx.io.out(
      `Name:        ${s.name ?? '-'}\n` +
        `Role:        ${s.role}${s.standalone === true ? ' (no peers)' : ''}\n` +
        `Epoch:       ${s.epoch ?? 0}\n` +
        (s.primary !== undefined && s.primary !== '' ? `Primary:     ${s.primary}\n` : '') +
        `Fingerprint: ${s.fingerprint ?? '-'}\n`,
    );
    if ((s.peers ?? []).length > 0)
      ctx.io.out(
        `\n${table(
          ['PEER', 'AGENT ADDRESS'],
          (s.peers ?? []).map((p) => [p.name, p.agentAddress]),
        )}`,
      );
    if ((s.standbys ?? []).length > 0)
      ctx.io.out(
        `\n${table(
          ['STANDBY', 'BATCHES', 'LAG (LAST)', 'LAG (MAX)', 'HOLDS DATA AS OF'],
          (s.standbys ?? []).map((l) => [
            l.peer,
            String(l.batches),
            l.lastLagMs === undefined ? '-' : `${l.lastLagMs} ms`,
            `${l.maxLagMs} ms`,
            ago(l.ackedTakenAtMs, now),
          ]),
        )}`,
      );
    const f = s.follow;
    if (f !== undefined)
      ctx.io.out(
        `\nFollowing:   ${f.primary === '' ? '-' : f.primary} (${f.connected ? 'connected' : 'not connected'})\n` +
          `Batches:     ${f.batches}\n` +
          `Holds data:  as of ${ago(f.takenAtMs, now)} (primary's clock)\n` +
          (f.lastError === '' ? '' : `Last error:  ${f.lastError}\n`),
      );
  });
}

async function promote(ctx: CommandContext, input: CommandInput): Promise<void> {
  await confirmOrRefuse(
    ctx.io,
    input,
    'Make this standby the primary? Do it only when the old primary is down: once it returns it is fenced, and what it acknowledged after the standby last caught up is not on this server.',
    '"vigocli server promote"',
  );
  const answer = await ctx.client.call<{ role: string; epoch: number }>('POST', '/api/v1/server/promote');
  ctx.print(answer, () =>
    ctx.io.out(
      `Promoted: this server is now the primary at epoch ${answer.epoch}; it restarts in that role.\n`,
    ),
  );
}

async function rejoin(ctx: CommandContext, input: CommandInput): Promise<void> {
  await confirmOrRefuse(
    ctx.io,
    input,
    "Re-join as a standby? This server's own database is replaced by the current primary's.",
    '"vigocli server rejoin"',
  );
  const answer = await ctx.client.call<{ role: string; epoch: number }>('POST', '/api/v1/server/rejoin');
  ctx.print(answer, () =>
    ctx.io.out(`Re-joined: this server follows the primary as a standby (epoch ${answer.epoch}).\n`),
  );
}

const yes = { name: 'yes', doc: 'do not ask for confirmation (required when stdin is not a terminal)' };

export const serverCommands: readonly CommandSpec[] = [
  {
    path: ['server', 'status'],
    summary: "Replication role and epoch, peer fingerprint, each standby's lag or the primary followed",
    run: status,
  },
  {
    path: ['server', 'promote'],
    summary: 'Make this standby the primary (at a new epoch)',
    flags: [yes],
    run: promote,
  },
  {
    path: ['server', 'rejoin'],
    summary: 'Make this fenced former primary a standby of the current primary',
    flags: [yes],
    run: rejoin,
  },
];
