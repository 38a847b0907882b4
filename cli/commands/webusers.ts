/**
 * `vigocli webusers …`: the people who sign in to the web UI and own API tokens (admin only). Passwords
 * are typed without echo or piped on stdin, never given on the command line.
 */
import type { UserView } from '../../server/identity/index.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { shortIso, table } from '../format.ts';
import { printJson, readSecret } from './input.ts';

const usersPath = '/api/v1/users';

function userPath(input: CommandInput): string {
  const [user = ''] = input.args;
  return `${usersPath}/${encodeURIComponent(user)}`;
}

function describe(user: UserView): string {
  return `${user.username} (${user.id}, role ${user.role}${user.disabled ? ', disabled' : ''})`;
}

async function list(ctx: CommandContext): Promise<void> {
  const listing = await ctx.client.call<{ items: UserView[]; truncated?: boolean }>('GET', usersPath);
  if (ctx.json) return printJson(ctx.io, listing);
  if (listing.items.length === 0) {
    ctx.io.out('No web users. Create one with: vigocli webusers create --username U --role R\n');
    return;
  }
  const rows = listing.items.map((u) => [
    u.username,
    u.role,
    u.disabled ? 'disabled' : 'enabled',
    u.hasPassword ? 'yes' : 'no',
    u.id,
    shortIso(u.createdAt),
    u.displayName ?? '',
    u.email ?? '',
  ]);
  ctx.io.out(table(['USERNAME', 'ROLE', 'STATUS', 'PASSWORD', 'ID', 'CREATED', 'NAME', 'EMAIL'], rows));
  if (listing.truncated === true) ctx.io.out(`(first ${listing.items.length} shown)\n`);
}

async function create(ctx: CommandContext, input: CommandInput): Promise<void> {
  const body: Record<string, unknown> = { username: input.value('username'), role: input.value('role') };
  const displayName = input.value('display-name');
  if (displayName !== undefined) body['displayName'] = displayName;
  const email = input.value('email');
  if (email !== undefined) body['email'] = email;
  if (input.has('password-stdin'))
    body['password'] = await readSecret(ctx.io, { what: 'password', confirm: true });
  const user = await ctx.client.call<UserView>('POST', usersPath, body);
  if (ctx.json) return printJson(ctx.io, user);
  ctx.io.out(`Created web user ${describe(user)}.\n`);
  if (!user.hasPassword) {
    ctx.io.out(
      `${user.username} has no password, so cannot sign in; set one with "vigocli webusers set-password ` +
        `${user.username}" or give them a token: vigocli tokens create --name NAME --user ${user.username}\n`,
    );
  }
}

async function update(
  ctx: CommandContext,
  input: CommandInput,
  change: Record<string, unknown>,
  done: string,
): Promise<void> {
  const user = await ctx.client.call<UserView>('PUT', userPath(input), change);
  if (ctx.json) return printJson(ctx.io, user);
  ctx.io.out(`${done} ${describe(user)}.\n`);
}

async function setRole(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [, role] = input.args;
  await update(ctx, input, { role }, 'Changed the role of');
}

async function setPassword(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [user = ''] = input.args;
  const password = await readSecret(ctx.io, { what: `new password for ${user}`, confirm: true });
  await update(ctx, input, { password }, 'Set a new password for');
}

async function remove(ctx: CommandContext, input: CommandInput): Promise<void> {
  const deleted = await ctx.client.call<{ id: string; username?: string; deleted: true }>(
    'DELETE',
    userPath(input),
  );
  if (ctx.json) return printJson(ctx.io, deleted);
  ctx.io.out(`Deleted web user ${deleted.username ?? deleted.id}, with their sessions and API tokens.\n`);
}

const userArg = { name: 'USER', doc: 'the username or user id' };
const roleDoc = 'admin, operator, viewer or compliance';

export const webuserCommands: readonly CommandSpec[] = [
  { path: ['webusers', 'list'], summary: 'List web users with their role and state', run: list },
  {
    path: ['webusers', 'create'],
    summary: 'Create a web user',
    flags: [
      { name: 'username', value: 'USER', required: true, doc: 'the sign-in name' },
      { name: 'role', value: 'ROLE', required: true, doc: roleDoc },
      {
        name: 'password-stdin',
        doc: 'set a password: typed twice without echo, or the first line of stdin (else API tokens only)',
      },
      { name: 'display-name', value: 'TEXT', doc: 'the name shown in the web UI' },
      { name: 'email', value: 'ADDRESS', doc: 'contact address' },
    ],
    run: create,
  },
  {
    path: ['webusers', 'set-role'],
    summary: "Change a user's role (ends their web sessions; their API tokens follow the new role)",
    args: [userArg, { name: 'ROLE', doc: roleDoc }],
    run: setRole,
  },
  {
    path: ['webusers', 'set-password'],
    summary: "Set a user's password: typed twice without echo, or the first line of stdin",
    args: [userArg],
    run: setPassword,
  },
  {
    path: ['webusers', 'disable'],
    summary: 'Disable a user: sign-in, sessions and their API tokens stop working',
    args: [userArg],
    run: (ctx, input) => update(ctx, input, { disabled: true }, 'Disabled'),
  },
  {
    path: ['webusers', 'enable'],
    summary: 'Enable a disabled user again',
    args: [userArg],
    run: (ctx, input) => update(ctx, input, { disabled: false }, 'Enabled'),
  },
  {
    path: ['webusers', 'delete'],
    summary: 'Delete a user with their sessions and API tokens',
    args: [userArg],
    run: remove,
  },
];
