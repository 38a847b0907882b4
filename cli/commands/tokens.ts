/**
 * `vigocli tokens list|create|revoke`: API tokens (`vgot_…`) over /api/v1/tokens. A token acts with its
 * owner's current role; anyone manages their own, admins everyone's. `auth create-token` (Vigo's name)
 * runs the same `create`.
 */
import type { ApiTokenView, CreatedApiToken } from '../../server/identity/index.ts';
import { parseDurationMs } from '../../server/core/index.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import type { FlagSpec } from '../argv.ts';
import { usageError } from '../errors.ts';
import { relativeTime, shortIso, table } from '../format.ts';
import { printJson } from './input.ts';

const tokensPath = '/api/v1/tokens';
export const defaultTokenLifetime = '720h';

/** "2026-05-01T10:00:00Z (in 29d 23h)", or "never". */
function whenText(iso: string | null, nowMs: number, never = 'never'): string {
  return iso === null ? never : `${shortIso(iso)} (${relativeTime(Date.parse(iso), nowMs)})`;
}

/** The request's expiresIn: a duration, or undefined for `never` (the token lives until revoked). */
function expiresIn(input: CommandInput): string | undefined {
  const text = input.value('expires-in') ?? defaultTokenLifetime;
  if (text === 'never') return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0)
    throw usageError(
      `--expires-in must be a duration such as 720h or 90d, or "never"; got ${JSON.stringify(text)}`,
    );
  return text;
}

export async function createToken(ctx: CommandContext, input: CommandInput): Promise<void> {
  const body: Record<string, unknown> = { name: input.value('name') };
  const lifetime = expiresIn(input);
  if (lifetime !== undefined) body['expiresIn'] = lifetime;
  const user = input.value('user');
  if (user !== undefined) body['user'] = user;
  const created = await ctx.client.call<CreatedApiToken>('POST', tokensPath, body);
  if (ctx.json) return printJson(ctx.io, created);
  ctx.io.out(
    [
      'API token created. It is shown only this once: copy it now.',
      '',
      `ID: ${created.id}`,
      `Token: ${created.token}`,
      `Name: ${created.name}`,
      `User: ${created.username}`,
      `Expires: ${whenText(created.expiresAt, Date.now(), 'never (until revoked)')}`,
      '',
      `It acts with ${created.username}'s role. Use it with "vigocli auth set-token TOKEN" or VIGO_TOKEN=TOKEN;`,
      `revoke it with: vigocli tokens revoke ${created.id}`,
      '',
    ].join('\n'),
  );
}

async function list(ctx: CommandContext, input: CommandInput): Promise<void> {
  const user = input.value('user');
  const query = user === undefined ? '' : `?user=${encodeURIComponent(user)}`;
  const listing = await ctx.client.call<{ items: ApiTokenView[]; truncated?: boolean }>(
    'GET',
    `${tokensPath}${query}`,
  );
  if (ctx.json) return printJson(ctx.io, listing);
  if (listing.items.length === 0) {
    ctx.io.out('No API tokens. Create one with: vigocli tokens create --name NAME\n');
    return;
  }
  const nowMs = Date.now();
  const rows = listing.items.map((t) => [
    t.id,
    t.name,
    t.username,
    t.status,
    shortIso(t.createdAt),
    whenText(t.expiresAt, nowMs),
    t.lastUsedAt === null ? 'never' : relativeTime(Date.parse(t.lastUsedAt), nowMs),
  ]);
  ctx.io.out(table(['ID', 'NAME', 'USER', 'STATUS', 'CREATED', 'EXPIRES', 'LAST USED'], rows));
  if (listing.truncated === true) ctx.io.out(`(newest ${listing.items.length} shown)\n`);
}

async function revoke(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [id = ''] = input.args;
  const token = await ctx.client.call<ApiTokenView>('DELETE', `${tokensPath}/${encodeURIComponent(id)}`);
  if (ctx.json) return printJson(ctx.io, token);
  ctx.io.out(`API token ${token.id} (${token.name}, user ${token.username}) is revoked.\n`);
}

export const createTokenFlags: readonly FlagSpec[] = [
  {
    name: 'name',
    value: 'NAME',
    required: true,
    doc: 'what the token is for, shown in lists (up to 64 characters)',
  },
  {
    name: 'expires-in',
    value: 'DURATION',
    doc: `lifetime such as 720h or 90d, at most 366d, or "never" (default ${defaultTokenLifetime})`,
  },
  {
    name: 'user',
    value: 'USER',
    doc: "the owner's username or id (admins only; required as the local admin)",
  },
];

export const tokenCommands: readonly CommandSpec[] = [
  {
    path: ['tokens', 'list'],
    summary: 'List API tokens (your own; admins see everyone’s) with status, expiry and last use',
    flags: [{ name: 'user', value: 'USER', doc: "only this user's tokens (admins only)" }],
    run: list,
  },
  {
    path: ['tokens', 'create'],
    summary: 'Create an API token (vgot_…, printed once) that acts with its owner’s role',
    flags: createTokenFlags,
    details: 'The server keeps only a SHA-256 hash of the token: save it when it is printed.',
    run: createToken,
  },
  {
    path: ['tokens', 'revoke'],
    summary: 'Revoke an API token: requests with it are refused from now on',
    args: [{ name: 'ID', doc: 'the token id (tok_…), as "vigocli tokens list" shows it' }],
    run: revoke,
  },
];
