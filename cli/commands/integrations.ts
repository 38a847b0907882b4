/**
 * `vigocli integrations list|test NAME`: the server's event sinks (server.yaml `integrations:`) and their
 * delivery health; `test` queues a test event for one target and reports its first try, exiting 1 with
 * `cli.integration_test_failed` when it was not delivered.
 */
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { CliError, cliExitCodes } from '../errors.ts';
import { shortIso, table } from '../format.ts';

interface TargetStatus {
  name: string;
  type: string;
  endpoint: string;
  health: string;
  queueDepth: number;
  delivered: number;
  retried: number;
  dead: number;
  lastSuccessAt: string | null;
  lastErrorAt: string | null;
  lastError: string | null;
}

interface TestResult {
  target: string;
  deliveryId: string;
  outcome: 'delivered' | 'retried' | 'dead' | 'pending';
  error: string | null;
}

function printJson(ctx: CommandContext, value: unknown): void {
  ctx.io.out(`${JSON.stringify(value, null, 2)}\n`);
}

async function list(ctx: CommandContext): Promise<void> {
  const listing = await ctx.client.call<{ items: TargetStatus[] }>('GET', '/api/v1/integrations');
  if (ctx.json) return printJson(ctx, listing);
  if (listing.items.length === 0) {
    ctx.io.out('No integration targets. Configure them under "integrations:" in server.yaml.\n');
    return;
  }
  ctx.io.out(
    table(
      [
        'NAME',
        'TYPE',
        'ENDPOINT',
        'HEALTH',
        'QUEUED',
        'DELIVERED',
        'RETRIED',
        'DEAD',
        'LAST SUCCESS',
        'LAST ERROR',
      ],
      listing.items.map((t) => [
        t.name,
        t.type,
        t.endpoint,
        t.health,
        String(t.queueDepth),
        String(t.delivered),
        String(t.retried),
        String(t.dead),
        t.lastSuccessAt === null ? '-' : shortIso(t.lastSuccessAt),
        t.lastErrorAt === null ? '-' : `${shortIso(t.lastErrorAt)} ${t.lastError ?? ''}`.trim(),
      ]),
    ),
  );
}

async function test(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [name = ''] = input.args;
  const result = await ctx.client.call<TestResult>(
    'POST',
    `/api/v1/integrations/${encodeURIComponent(name)}/test`,
  );
  if (ctx.json) printJson(ctx, result);
  else if (result.outcome === 'delivered')
    ctx.io.out(`Test event delivered to ${result.target} (delivery ${result.deliveryId}).\n`);
  if (result.outcome === 'delivered') return;
  const what = {
    retried: 'failed; it will be tried again',
    dead: 'failed and will not be retried',
    pending: 'was not tried yet',
  }[result.outcome];
  throw new CliError(
    cliExitCodes.error,
    'cli.integration_test_failed',
    `the test delivery ${result.deliveryId} to ${result.target} ${what}${result.error === null ? '' : `: ${result.error}`}`,
  );
}

export const integrationCommands: readonly CommandSpec[] = [
  {
    path: ['integrations', 'list'],
    summary: 'List event sink targets with queue depth and delivery health',
    run: list,
  },
  {
    path: ['integrations', 'test'],
    summary: 'Send a test event to one target and report whether it was delivered',
    args: [{ name: 'NAME', doc: 'the target name from server.yaml integrations:' }],
    details:
      'Exit 0 when the receiver accepted the event, 1 (cli.integration_test_failed) otherwise. Needs admin.',
    run: test,
  },
];
