/** `vigocli enroll token create|list|revoke`: enrollment-token administration over the REST API. */
import type { InstallCommand } from '../../server/bootstrap/index.ts';
import type { EnrollTokenView, TokenListing, CreatedEnrollToken } from '../../server/enroll/index.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { usageError } from '../errors.ts';
import { relativeTime, shortIso, table } from '../format.ts';

const tokensPath = '/api/v1/enroll/tokens';

/** The reply to a create: the token and the server's install command for hosts. */
type CreatedWithInstall = CreatedEnrollToken & { readonly install: InstallCommand };

function installLines(install: InstallCommand): string[] {
  return [
    'To add a host whose name matches, save the token in a file there (it stays out of the shell history',
    'and the process list), then run the install command in the same directory:',
    '',
    `  ${install.tokenFileHint}`,
    `  ${install.command}`,
    '',
    `The command trusts the server only if its CA has SHA-256 fingerprint ${install.caSha256}.`,
  ];
}

function parseWholeNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text))
    throw usageError(`--${flag} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

function printJson(ctx: CommandContext, value: unknown): void {
  ctx.io.out(`${JSON.stringify(value, null, 2)}\n`);
}

function describeUses(token: EnrollTokenView): string {
  return `${token.usesCount}/${token.usesAllowed}`;
}

async function create(ctx: CommandContext, input: CommandInput): Promise<void> {
  const hostnameGlobs = input.values('hostname');
  const body: Record<string, unknown> = { hostnameGlobs };
  const uses = parseWholeNumber('uses', input.value('uses'));
  if (uses !== undefined) body['uses'] = uses;
  const expires = input.value('expires');
  if (expires !== undefined) body['expiresIn'] = expires;
  const description = input.value('description');
  if (description !== undefined) body['description'] = description;
  const created = await ctx.client.call<CreatedWithInstall>('POST', tokensPath, body);
  if (ctx.json) return printJson(ctx, created);
  ctx.io.out(
    [
      'Enrollment token created. It is shown only this once: copy it now.',
      '',
      `  ${created.token}`,
      '',
      `  id:           ${created.id}`,
      `  hostnames:    ${created.hostnameGlobs.join(', ')}`,
      `  uses:         ${created.usesAllowed}`,
      `  expires:      ${shortIso(created.expiresAt)} (${relativeTime(Date.parse(created.expiresAt), Date.now())})`,
      ...(created.description === null ? [] : [`  description:  ${created.description}`]),
      '',
      ...installLines(created.install),
      `Revoke it early with: vigocli enroll token revoke ${created.id}`,
      '',
    ].join('\n'),
  );
}

async function list(ctx: CommandContext, input: CommandInput): Promise<void> {
  const limit = parseWholeNumber('limit', input.value('limit'));
  const query = limit === undefined ? '' : `?limit=${limit}`;
  const listing = await ctx.client.call<TokenListing>('GET', `${tokensPath}${query}`);
  if (ctx.json) return printJson(ctx, listing);
  if (listing.tokens.length === 0) {
    ctx.io.out('No enrollment tokens. Create one with: vigocli enroll token create --hostname GLOB\n');
    return;
  }
  const nowMs = Date.now();
  const rows = listing.tokens.map((t) => [
    t.id,
    t.status,
    describeUses(t),
    `${shortIso(t.expiresAt)} (${relativeTime(Date.parse(t.expiresAt), nowMs)})`,
    t.hostnameGlobs.join(','),
    t.description ?? '',
  ]);
  ctx.io.out(table(['ID', 'STATUS', 'USES', 'EXPIRES', 'HOSTNAMES', 'DESCRIPTION'], rows));
  if (listing.truncated) ctx.io.out(`(newest ${listing.tokens.length} shown; raise --limit to see more)\n`);
}

async function revoke(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [id] = input.args;
  const token = await ctx.client.call<EnrollTokenView>(
    'DELETE',
    `${tokensPath}/${encodeURIComponent(id ?? '')}`,
  );
  if (ctx.json) return printJson(ctx, token);
  ctx.io.out(
    `Enrollment token ${token.id} is revoked (since ${shortIso(token.revokedAt ?? '')}; used ${describeUses(token)} times).\n`,
  );
}

export const enrollTokenCommands: readonly CommandSpec[] = [
  {
    path: ['enroll', 'token', 'create'],
    summary: 'Create an enrollment token (printed once) for hosts matching hostname globs',
    flags: [
      {
        name: 'hostname',
        value: 'GLOB',
        repeatable: true,
        required: true,
        doc: 'hosts it may enroll: * any run, ? one character, [a-z] classes',
      },
      { name: 'uses', value: 'N', doc: 'how many enrollments it allows, 1 to 100000 (default 1)' },
      {
        name: 'expires',
        value: 'DURATION',
        doc: 'lifetime such as 30m, 24h or 7d, at most 90d (default 24h)',
      },
      { name: 'description', value: 'TEXT', doc: 'a note shown in token lists' },
    ],
    details:
      'The token is stored only as a bcrypt hash: save it when it is printed. The reply also prints the ' +
      'one-line install command for hosts: it pins the CA by SHA-256 fingerprint and reads the token from a file.',
    run: create,
  },
  {
    path: ['enroll', 'token', 'list'],
    summary: 'List enrollment tokens with their status, uses and expiry (never their secrets)',
    flags: [
      { name: 'limit', value: 'N', doc: 'show at most N tokens, newest first, 1 to 1000 (default 200)' },
    ],
    run: list,
  },
  {
    path: ['enroll', 'token', 'revoke'],
    summary: 'Revoke an enrollment token so it enrolls nothing more',
    args: [{ name: 'ID', doc: 'the token id, as "vigocli enroll token list" shows it' }],
    run: revoke,
  },
];
