/**
 * `vigocli auth login|set-token|status|clear|create-token`: which credential vigocli presents. A token
 * is saved only after the server accepted it, into a saved context together with the server's URL and a
 * copy of its CA certificate ($XDG_CONFIG_HOME/vigo/contexts.json, 0600 in a 0700 directory).
 */
import fs from 'node:fs';
import { hostname } from 'node:os';
import { parseDurationMs } from '../../server/core/index.ts';
import type { UserView } from '../../server/identity/index.ts';
import type { ApiClient } from '../api-client.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { CliError, cliExitCodes, usageError } from '../errors.ts';
import { relativeTime, shortIso } from '../format.ts';
import { contextNameError, readContexts, withContext, writeContexts } from '../contexts.ts';
import type { CredentialSource, ResolvedCredential, Settings } from '../settings.ts';
import { checkCaPem } from '../settings.ts';
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
  context: 'the saved context',
  'user-file': 'the token file (written by older vigocli versions)',
  'local-admin-file': 'the server’s local-admin token file',
};

function describeSource(credential: ResolvedCredential): string {
  const name = sourceNames[credential.source];
  if (credential.context !== undefined) return `${name} ${credential.context}`;
  return credential.file === undefined ? name : `${name} ${credential.file}`;
}

/**
 * The context `auth login` and `auth set-token` save into: the one --context or VIGO_CONTEXT names, else
 * the selected context when the server is its own, else one named after the server's host and port.
 */
function targetContextName(settings: Settings, explicit: string | undefined): string {
  if (explicit !== undefined) {
    const problem = contextNameError(explicit);
    if (problem !== undefined) throw usageError(`--context: ${problem}`);
    return explicit;
  }
  const active = settings.activeContext();
  if (active !== undefined) return active.name;
  const url = settings.server().url;
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/[^A-Za-z0-9._-]/g, '-');
  return (
    `${host}-${url.port === '' ? '443' : url.port}`.replace(/^[^A-Za-z0-9]+/, '').slice(0, 63) || 'default'
  );
}

/**
 * Saves server, CA copy and token as a context and makes it current. Runs after the server accepted the
 * token, so a failed sign-in writes nothing.
 */
interface SaveTarget {
  readonly name: string;
  /** Where the server and CA come from: the context itself when it exists, else without contexts. */
  readonly settings: Settings;
}

function saveTarget(ctx: CommandContext): SaveTarget {
  const settings = ctx.credentials.settings;
  const name = targetContextName(settings, settings.explicitContext);
  const exists = name in settings.contexts().contexts;
  return { name, settings: exists ? settings : settings.withoutContexts() };
}

function saveToContext(target: SaveTarget, token: string): { name: string; file: string } {
  const { name, settings } = target;
  const ca = settings.ca();
  checkCaPem(ca.pem, ca.file ?? `(context ${name})`);
  const file = settings.contextsFile;
  const server = settings.server().url.href;
  writeContexts(file, withContext(readContexts(file), name, { server, caPem: ca.pem, token }, true));
  return { name, file };
}

/** After saving: say so when --token or VIGO_TOKEN will keep taking precedence over the saved context. */
function warnIfShadowed(ctx: CommandContext): void {
  let current: ResolvedCredential;
  try {
    current = ctx.credentials.resolve();
  } catch {
    return;
  }
  if (current.source === 'flag' || current.source === 'env') {
    ctx.io.err(`note: ${sourceNames[current.source]} still takes precedence over the saved context\n`);
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
  const target = saveTarget(ctx);
  const reply = await ctx.credentials.clientWith(undefined, target.settings).call<{
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
  const saved = saveToContext(target, reply.token);
  const data = {
    user: reply.user,
    tokenId: reply.id,
    expiresAt: reply.expiresAt,
    context: saved.name,
    contextsFile: saved.file,
  };
  ctx.print(data, () =>
    ctx.io.out(
      `Logged in to ${target.settings.server().url.origin} as ${reply.user.username} (role ${reply.user.role}).\n` +
        `Server, CA and API token ${reply.id} saved as context ${saved.name} (now current) in ` +
        `${saved.file}; the token ${expiresText(reply.expiresAt)}.\n`,
    ),
  );
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
  const target = saveTarget(ctx);
  const who = await whoami(ctx.credentials.clientWith(token, target.settings));
  const saved = saveToContext(target, token);
  ctx.print({ ...who, context: saved.name, contextsFile: saved.file }, () =>
    ctx.io.out(
      `Token saved in context ${saved.name} (now current) in ${saved.file}; it acts as ${describeActor(who.actor)}.\n`,
    ),
  );
  warnIfShadowed(ctx);
}

async function status(ctx: CommandContext): Promise<void> {
  const credential = ctx.credentials.resolve();
  const who = await whoami(ctx.client);
  const source = {
    source: credential.source,
    file: credential.file ?? null,
    context: credential.context ?? null,
  };
  const context = ctx.credentials.settings.activeContext()?.name ?? null;
  if (ctx.json)
    return printJson(ctx.io, { server: ctx.client.baseUrl.href, context, ...who, credential: source });
  ctx.io.out(
    [
      `Server:       ${ctx.client.baseUrl.origin}`,
      `Context:      ${context ?? '(none)'}`,
      `Signed in as: ${describeActor(who.actor)}`,
      `Credential:   ${describeSource(credential)}`,
      `Permissions:  ${who.permissions.join(', ') || '(none)'}`,
      '',
    ].join('\n'),
  );
}

/** The legacy token file's content, or undefined when there is none. */
function readLegacyToken(file: string): string | undefined {
  try {
    if (fs.statSync(file).size > 4096) return '';
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

/** Removes the token of the context in use (keeping its server and CA) and the older token file. */
async function clear(ctx: CommandContext, input: CommandInput): Promise<void> {
  const settings = ctx.credentials.settings;
  const legacyFile = ctx.credentials.userTokenFile;
  const legacy = readLegacyToken(legacyFile);
  const active = settings.activeContext();
  const stored = active?.context.token ?? (legacy === '' ? undefined : legacy);
  const revoked = stored !== undefined && input.has('revoke') ? await revokeStored(ctx, stored) : undefined;
  let context: string | null = null;
  if (active?.context.token !== undefined) {
    const file = settings.contextsFile;
    const current = readContexts(file);
    const { token: _removed, ...kept } = active.context;
    writeContexts(file, { ...current, contexts: { ...current.contexts, [active.name]: kept } });
    context = active.name;
  }
  if (legacy !== undefined) fs.rmSync(legacyFile, { force: true });
  const removedLegacy = legacy !== undefined;
  ctx.print({ context, tokenFile: removedLegacy ? legacyFile : null, revoked: revoked ?? null }, () => {
    if (context === null && !removedLegacy) {
      ctx.io.out('No saved token; nothing to clear.\n');
      return;
    }
    const what = [
      ...(context === null ? [] : [`the token of context ${context}`]),
      ...(removedLegacy ? [legacyFile] : []),
    ].join(' and ');
    const revokedText = revoked === undefined ? '' : ` and revoked API token ${revoked} on the server`;
    ctx.io.out(`Removed ${what}${revokedText}.\n`);
  });
}

export const authCommands: readonly CommandSpec[] = [
  {
    path: ['auth', 'login'],
    summary: 'Sign in with your password; save the server, its CA and an API token as a context',
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
      'stdin is not a terminal: printf %s "$PASSWORD" | vigocli auth login --username alice\n' +
      'The server (--server), a copy of its CA certificate (--ca) and the token are saved as the context\n' +
      '--context NAME (default: the current context for that server, else one named after its host and\n' +
      'port), which becomes current. See "vigocli help contexts".',
    run: login,
  },
  {
    path: ['auth', 'set-token'],
    summary: 'Check an API token with the server and save it, with the server and CA, as a context',
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
    summary: "Remove the context's saved token (--revoke also revokes it on the server)",
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
