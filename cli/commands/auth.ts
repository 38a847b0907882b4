/**
 * `vigocli auth login|set-token|status|clear|create-token`: which credential vigocli presents. Tokens
 * are saved to ~/.config/vigo/token (0600 in a 0700 directory) only after the server accepted them.
 */
import fs from 'node:fs';
import { hostname } from 'node:os';
import { parseDurationMs, writePrivateFile } from '../../server/core/index.ts';
import type { UserView } from '../../server/identity/index.ts';
import type { ApiClient } from '../api-client.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { CliError, cliExitCodes, usageError } from '../errors.ts';
import { relativeTime, shortIso } from '../format.ts';
import type { CredentialSource, ResolvedCredential } from '../settings.ts';
import { askLine, printJson, readSecret, stdinIsTerminal } from './input.ts';
import { createToken, createTokenFlags } from './tokens.ts';

/** The server's API token prefix (identity's `apiTokenPrefix`; a test keeps the two equal). */
export const apiTokenPrefix = 'vgot_';
const maxTokenNameLength = 64;

export interface WhoAmI {
  actor: { kind: string; username?: string; role?: string; tokenId?: string; userId?: string };
  permissions: string[];
}

function whoami(client: ApiClient): Promise<WhoAmI> {
  return client.call<WhoAmI>('GET', '/api/v1/auth/whoami');
}

function describeActor(actor: WhoAmI['actor']): string {
  if (actor.kind === 'local-admin') return 'the local admin (the server host’s local-admin token)';
  const role = actor.role === undefined ? '' : ` (role ${actor.role})`;
  const via =
    actor.kind === 'api-token' && actor.tokenId !== undefined ? ` via API token ${actor.tokenId}` : '';
  return `${actor.username ?? actor.kind}${role}${via}`;
}

const sourceNames: Record<CredentialSource, string> = {
  flag: 'the --token flag',
  env: 'the VIGO_TOKEN environment variable',
  'user-file': 'the token file',
  'local-admin-file': 'the server’s local-admin token file',
};

function describeSource(credential: ResolvedCredential): string {
  const name = sourceNames[credential.source];
  return credential.file === undefined ? name : `${name} ${credential.file}`;
}

function saveToken(file: string, token: string): void {
  try {
    writePrivateFile(file, `${token}\n`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new CliError(cliExitCodes.error, 'cli.token_file', `cannot write the token file ${file}: ${code}`);
  }
}

/** After saving: say so when --token or VIGO_TOKEN will keep taking precedence over the saved file. */
function warnIfShadowed(ctx: CommandContext): void {
  let current: ResolvedCredential;
  try {
    current = ctx.credentials.resolve();
  } catch {
    return;
  }
  if (current.source === 'flag' || current.source === 'env') {
    ctx.io.err(
      `note: ${sourceNames[current.source]} still takes precedence over ${ctx.credentials.userTokenFile}\n`,
    );
  }
}

function expiresText(expiresAt: string | null): string {
  return expiresAt === null
    ? 'never expires'
    : `expires ${shortIso(expiresAt)} (${relativeTime(Date.parse(expiresAt), Date.now())})`;
}

async function loginUsername(ctx: CommandContext, input: CommandInput): Promise<string> {
  const given = input.value('username');
  if (given !== undefined && given !== '') return given;
  if (!stdinIsTerminal())
    throw usageError('"vigocli auth login" needs --username USER when stdin is not a terminal');
  const typed = await askLine(ctx.io, 'Username: ');
  if (typed === '') throw usageError('no username given');
  return typed;
}

async function login(ctx: CommandContext, input: CommandInput): Promise<void> {
  const expiresIn = input.value('expires-in');
  if (expiresIn !== undefined && !((parseDurationMs(expiresIn) ?? 0) > 0))
    throw usageError(`--expires-in must be a duration such as 720h or 30d, got ${JSON.stringify(expiresIn)}`);
  const username = await loginUsername(ctx, input);
  const password = await readSecret(ctx.io, { what: 'password', confirm: false });
  const reply = await ctx.credentials.clientWith(undefined).call<{
    user: UserView;
    token: string;
    id: string;
    expiresAt: string | null;
  }>('POST', '/api/v1/auth/login', {
    username,
    password,
    as: 'token',
    tokenName: `vigocli@${hostname()}`.slice(0, maxTokenNameLength),
    ...(expiresIn === undefined ? {} : { expiresIn }),
  });
  const file = ctx.credentials.userTokenFile;
  saveToken(file, reply.token);
  if (ctx.json) {
    printJson(ctx.io, { user: reply.user, tokenId: reply.id, expiresAt: reply.expiresAt, tokenFile: file });
  } else {
    ctx.io.out(
      `Logged in to ${ctx.client.baseUrl.origin} as ${reply.user.username} (role ${reply.user.role}).\n` +
        `API token ${reply.id} saved to ${file}; it ${expiresText(reply.expiresAt)}.\n`,
    );
  }
  warnIfShadowed(ctx);
}

function tokenArgument(input: CommandInput): string {
  const [arg = ''] = input.args;
  let token = arg;
  if (arg === '-') {
    try {
      token = fs.readFileSync(0, 'utf8');
    } catch (err) {
      throw usageError(`cannot read the token from stdin: ${(err as Error).message}`);
    }
  }
  token = token.trim();
  if (!token.startsWith(apiTokenPrefix) || token.length <= apiTokenPrefix.length || /\s/.test(token)) {
    throw usageError(
      `that is not an API token: they start with ${apiTokenPrefix} ("vigocli tokens create" makes one)`,
    );
  }
  return token;
}

async function setToken(ctx: CommandContext, input: CommandInput): Promise<void> {
  const token = tokenArgument(input);
  const who = await whoami(ctx.credentials.clientWith(token));
  const file = ctx.credentials.userTokenFile;
  saveToken(file, token);
  if (ctx.json) printJson(ctx.io, { ...who, tokenFile: file });
  else ctx.io.out(`Token saved to ${file}; it acts as ${describeActor(who.actor)}.\n`);
  warnIfShadowed(ctx);
}

async function status(ctx: CommandContext): Promise<void> {
  const credential = ctx.credentials.resolve();
  const who = await whoami(ctx.client);
  const source = { source: credential.source, file: credential.file ?? null };
  if (ctx.json) return printJson(ctx.io, { server: ctx.client.baseUrl.href, ...who, credential: source });
  ctx.io.out(
    [
      `Server:       ${ctx.client.baseUrl.origin}`,
      `Signed in as: ${describeActor(who.actor)}`,
      `Credential:   ${describeSource(credential)}`,
      `Permissions:  ${who.permissions.join(', ') || '(none)'}`,
      '',
    ].join('\n'),
  );
}

function readStoredToken(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(
      cliExitCodes.error,
      'cli.token_file',
      `cannot read the token file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/** Revokes the stored token on the server; undefined when the server no longer accepts it anyway. */
async function revokeStored(ctx: CommandContext, token: string): Promise<string | undefined> {
  const client = ctx.credentials.clientWith(token);
  let who: WhoAmI;
  try {
    who = await whoami(client);
  } catch (err) {
    if (err instanceof CliError && err.exitCode === cliExitCodes.auth) return undefined;
    throw err;
  }
  const id = who.actor.tokenId;
  if (id === undefined) return undefined;
  await client.call('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
  return id;
}

async function clear(ctx: CommandContext, input: CommandInput): Promise<void> {
  const file = ctx.credentials.userTokenFile;
  const stored = readStoredToken(file);
  const revoked =
    stored !== undefined && stored !== '' && input.has('revoke')
      ? await revokeStored(ctx, stored)
      : undefined;
  if (stored !== undefined) fs.rmSync(file, { force: true });
  if (ctx.json)
    return printJson(ctx.io, { tokenFile: file, removed: stored !== undefined, revoked: revoked ?? null });
  if (stored === undefined) ctx.io.out(`No token file at ${file}; nothing to clear.\n`);
  else {
    const what = revoked === undefined ? '' : ` and revoked API token ${revoked} on the server`;
    ctx.io.out(`Removed ${file}${what}.\n`);
  }
}

export const authCommands: readonly CommandSpec[] = [
  {
    path: ['auth', 'login'],
    summary: 'Sign in with your password and save an API token for vigocli in ~/.config/vigo/token',
    flags: [
      { name: 'username', value: 'USER', doc: 'who signs in (asked on the terminal when left out)' },
      {
        name: 'expires-in',
        value: 'DURATION',
        doc: 'lifetime of the saved token such as 720h, at most 366d (default 30 days)',
      },
    ],
    details:
      'The password is asked on the terminal without echo, or read as the first line of stdin when\n' +
      'stdin is not a terminal: printf %s "$PASSWORD" | vigocli auth login --username alice',
    run: login,
  },
  {
    path: ['auth', 'set-token'],
    summary: 'Check an API token with the server and save it in ~/.config/vigo/token',
    args: [{ name: 'TOKEN', doc: 'an API token (vgot_…), or - to read it from stdin' }],
    run: setToken,
  },
  {
    path: ['auth', 'status'],
    summary: 'Who the current credential signs in as, its role and permissions, and where it came from',
    run: status,
  },
  {
    path: ['auth', 'clear'],
    summary: 'Remove the saved token file (--revoke also revokes the token on the server)',
    flags: [{ name: 'revoke', doc: 'revoke the saved token on the server before removing the file' }],
    run: clear,
  },
  {
    path: ['auth', 'create-token'],
    summary: 'Create an API token (same as "vigocli tokens create")',
    flags: createTokenFlags,
    details: 'The server keeps only a SHA-256 hash of the token: save it when it is printed.',
    run: createToken,
  },
];
