/**
 * `vigocli secrets set|list|delete|rotate`: the server's local vault. A value is read from stdin or a
 * file, never from the command line, where other users could see it in the process list.
 */
import fs from 'node:fs';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { usageError } from '../errors.ts';
import { shortIso, table } from '../format.ts';

function printJson(ctx: CommandContext, value: unknown): void {
  ctx.io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** The value from --from-file, else stdin; one trailing newline (as `echo` adds) is dropped. */
function readValue(input: CommandInput): string {
  const file = input.value('from-file');
  let text: string;
  try {
    text = fs.readFileSync(file ?? 0, 'utf8');
  } catch (err) {
    throw usageError(`cannot read the secret value from ${file ?? 'stdin'}: ${(err as Error).message}`);
  }
  if (!input.has('keep-newline')) text = text.replace(/\r?\n$/, '');
  if (text.length === 0) throw usageError('the secret value is empty: pipe it in or use --from-file FILE');
  return text;
}

async function set(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [path = ''] = input.args;
  const value = readValue(input);
  const result = await ctx.client.call<{ path: string; version: number; created: boolean; epoch: number }>(
    'POST',
    '/api/v1/secrets',
    { path, value },
  );
  if (ctx.json) return printJson(ctx, result);
  ctx.io.out(
    `${result.created ? 'Created' : 'Updated'} secret ${result.path} (version ${result.version}); reference it as "secret:${result.path}".\n`,
  );
}

async function list(ctx: CommandContext): Promise<void> {
  const listing = await ctx.client.call<{
    epoch: number;
    items: { path: string; version: number; updatedAt: string }[];
  }>('GET', '/api/v1/secrets');
  if (ctx.json) return printJson(ctx, listing);
  if (listing.items.length === 0) {
    ctx.io.out('No secrets. Add one with: printf %s VALUE | vigocli secrets set PATH\n');
    return;
  }
  ctx.io.out(
    table(
      ['PATH', 'VERSION', 'UPDATED'],
      listing.items.map((s) => [s.path, String(s.version), shortIso(s.updatedAt)]),
    ),
  );
  ctx.io.out(`secrets epoch ${listing.epoch}\n`);
}

async function remove(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [path = ''] = input.args;
  const result = await ctx.client.call<{ path: string }>(
    'DELETE',
    `/api/v1/secrets/${path.split('/').map(encodeURIComponent).join('/')}`,
  );
  if (ctx.json) return printJson(ctx, result);
  ctx.io.out(`Deleted secret ${result.path}. Stacks that still reference it will no longer validate.\n`);
}

async function rotate(ctx: CommandContext): Promise<void> {
  const result = await ctx.client.call<{ keyId: string; previousKeyId: string; secrets: number }>(
    'POST',
    '/api/v1/secrets/rotate-key',
  );
  if (ctx.json) return printJson(ctx, result);
  ctx.io.out(
    `Master key rotated (${result.previousKeyId} -> ${result.keyId}); ${result.secrets} secrets re-encrypted.\n`,
  );
}

const pathArg = {
  name: 'PATH',
  doc: 'the secret path, as stacks reference it after "secret:" (e.g. db/password)',
};

export const secretCommands: readonly CommandSpec[] = [
  {
    path: ['secrets', 'set'],
    summary: 'Create or update a secret; the value is read from stdin or --from-file',
    args: [pathArg],
    flags: [
      { name: 'from-file', value: 'FILE', doc: 'read the value from FILE instead of stdin' },
      { name: 'keep-newline', doc: 'keep a trailing newline (dropped by default)' },
    ],
    details: 'Example: printf %s "$DB_PASSWORD" | vigocli secrets set db/password',
    run: set,
  },
  { path: ['secrets', 'list'], summary: 'List secret paths and versions (never values)', run: list },
  { path: ['secrets', 'delete'], summary: 'Delete a secret', args: [pathArg], run: remove },
  {
    path: ['secrets', 'rotate'],
    summary: 'Rotate the vault master key, re-encrypting every secret',
    run: rotate,
  },
];
