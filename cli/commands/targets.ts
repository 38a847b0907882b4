/**
 * `vigocli targets list|show|save|delete`: saved target groups, used as `@NAME` wherever a command takes
 * targets (task run, push, query run, traits livequery, workflows).
 */
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { table } from '../format.ts';
import { printJson } from './input.ts';
import { targetArg, whereFlag } from './push.ts';

interface GroupView {
  name: string;
  description: string;
  targets: string[];
  where: string[];
  updatedBy: string;
  updatedAt: string;
}

const path = (name: string): string => `/api/v1/target-groups/${encodeURIComponent(name)}`;

function describe(group: GroupView): string {
  const lines = [
    `Name:        @${group.name}`,
    `Description: ${group.description || '-'}`,
    `Targets:     ${group.targets.join(' ')}`,
    `Where:       ${group.where.length === 0 ? '-' : group.where.join(', ')}`,
    `Saved:       ${group.updatedAt} by ${group.updatedBy}`,
  ];
  return lines.join('\n') + '\n';
}

async function list(ctx: CommandContext): Promise<void> {
  const { items } = await ctx.client.call<{ items: GroupView[] }>('GET', '/api/v1/target-groups');
  if (ctx.json) return printJson(ctx.io, { items });
  ctx.io.out(
    table(
      ['GROUP', 'TARGETS', 'WHERE', 'DESCRIPTION'],
      items.map((g) => [`@${g.name}`, g.targets.join(' '), g.where.join(', '), g.description]),
    ),
  );
}

async function show(ctx: CommandContext, input: CommandInput): Promise<void> {
  const group = await ctx.client.call<GroupView>('GET', path(input.args[0] ?? ''));
  if (ctx.json) return printJson(ctx.io, group);
  ctx.io.out(describe(group));
}

async function save(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [name = '', ...targets] = input.args;
  const where = input.values('where');
  const description = input.value('description');
  const group = await ctx.client.call<GroupView>('POST', '/api/v1/target-groups', {
    name,
    targets,
    ...(where.length > 0 ? { where } : {}),
    ...(description === undefined ? {} : { description }),
  });
  if (ctx.json) return printJson(ctx.io, group);
  ctx.io.out(`Saved @${group.name}.\n${describe(group)}`);
}

async function remove(ctx: CommandContext, input: CommandInput): Promise<void> {
  const group = await ctx.client.call<GroupView>('DELETE', path(input.args[0] ?? ''));
  if (ctx.json) return printJson(ctx.io, group);
  ctx.io.out(`Deleted @${group.name}.\n`);
}

const nameArg = {
  name: 'NAME',
  doc: 'the group name (without @): a-z, 0-9, _ and -, starting with a letter',
};

export const targetCommands: readonly CommandSpec[] = [
  { path: ['targets', 'list'], summary: 'Saved target groups', run: list },
  { path: ['targets', 'show'], summary: 'One saved target group', args: [nameArg], run: show },
  {
    path: ['targets', 'save'],
    summary: 'Save (or replace) a target group, then name it as @NAME wherever targets are taken',
    args: [nameArg, targetArg],
    flags: [whereFlag, { name: 'description', value: 'TEXT', doc: 'what the group is for' }],
    run: save,
  },
  { path: ['targets', 'delete'], summary: 'Delete a saved target group', args: [nameArg], run: remove },
];
