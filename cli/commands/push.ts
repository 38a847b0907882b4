/**
 * `vigocli push TARGET...`: force-push. Every targeted envoy gets its full bundle at its next check-in;
 * those whose stream is open are told to check in now.
 */
import type { PushAnswer } from '../../server/orchestration/index.ts';
import type { ArgSpec, CommandContext, CommandInput, CommandSpec } from '../command.ts';
import type { FlagSpec } from '../argv.ts';
import { table } from '../format.ts';
import { printJson } from './input.ts';

export const targetArg: ArgSpec = {
  name: 'TARGET...',
  doc: 'envoy ids, hostnames, hostname globs (web-*), trait filters (os.distro=ubuntu) or saved groups (@web-prod); all are united',
  variadic: true,
};

export const whereFlag: FlagSpec = {
  name: 'where',
  value: 'EXPR',
  repeatable: true,
  doc: 'only targets whose traits match, such as os.family=debian (all must match)',
};

async function push(ctx: CommandContext, input: CommandInput): Promise<void> {
  const where = input.values('where');
  const reason = input.value('reason');
  const answer = await ctx.client.call<PushAnswer>('POST', '/api/v1/push', {
    targets: input.args,
    ...(where.length > 0 ? { where } : {}),
    ...(reason === undefined ? {} : { reason }),
  });
  if (ctx.json) return printJson(ctx.io, answer);
  const rows = [
    ...answer.pushedNow.map((e) => [e.hostname, e.envoyId, 'checking in now']),
    ...answer.atNextCheckin.map((e) => [e.hostname, e.envoyId, 'at its next check-in']),
  ];
  ctx.io.out(
    `Force-push to ${answer.targeted} envoy${answer.targeted === 1 ? '' : 's'}: ${answer.pushedNow.length} ` +
      `checking in now, ${answer.atNextCheckin.length} get their full bundle at their next check-in.\n\n` +
      table(['HOSTNAME', 'ENVOY', 'BUNDLE'], rows),
  );
}

export const pushCommands: readonly CommandSpec[] = [
  {
    path: ['push'],
    summary:
      'Force-push: online targets check in now, the others get their full bundle at their next check-in',
    args: [targetArg],
    flags: [
      whereFlag,
      { name: 'reason', value: 'TEXT', doc: "recorded in the audit log and the agent's log" },
    ],
    run: push,
  },
];
