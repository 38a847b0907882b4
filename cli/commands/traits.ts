/**
 * `vigocli traits livequery TARGET... TRAIT.PATH`: one trait read now on every targeted online envoy,
 * shown as a table of distinct values with how many envoys answered each, then the envoys that did not
 * answer and those that could not read the trait. Vigo's `traits livequery <uuid> <trait.path>` is the
 * one-target case.
 *
 * `vigocli query run NAME TARGET...`: the same for a named read-only query of the stacks (queries.vgo): a
 * trait or a probe such as a file's SHA-256 or a package's version, run by each agent from the definition
 * in its own signed bundle. `vigocli query list` shows the named queries of the active configuration.
 */
import { parseDurationMs } from '../../server/core/index.ts';
import type { LiveQueryAnswer } from '../../server/orchestration/index.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import type { FlagSpec } from '../argv.ts';
import { usageError } from '../errors.ts';
import { table } from '../format.ts';
import { printJson, wholeNumberFlag } from './input.ts';
import { targetArg, whereFlag } from './push.ts';

const deadlineMaxSeconds = 60;
const askDetails =
  'Envoys without an open stream are listed as not answered (offline); envoys asked that did not answer ' +
  'by the deadline as timeout. Exit code 0 whenever the query ran, whoever answered.';
const rawMax = 1000;
const shownValueChars = 200;

/** One line of at most `max` characters, with control characters (which could drive a terminal) blanked. */
export function displayText(text: string, max = shownValueChars): string {
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function deadlineSeconds(input: CommandInput): number | undefined {
  const text = input.value('deadline');
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined || ms % 1000 !== 0 || ms < 1000 || ms > deadlineMaxSeconds * 1000)
    throw usageError(
      `--deadline must be whole seconds from 1s to ${deadlineMaxSeconds}s, such as 10s or 1m; got ${JSON.stringify(text)}`,
    );
  return ms / 1000;
}

function printAnswer(ctx: CommandContext, answer: LiveQueryAnswer, showRows: boolean): void {
  const seconds = (
    (Date.parse(answer.finishedAt ?? answer.startedAt) - Date.parse(answer.startedAt)) /
    1000
  ).toFixed(1);
  const asked = answer.queryName === null ? answer.traitPath : `query ${answer.queryName}`;
  const out: string[] = [
    `${asked} on ${answer.targeted} envoy${answer.targeted === 1 ? '' : 's'}: ${answer.answered} answered, ` +
      `${answer.notAnsweredCount} not answered (${seconds} s)`,
    '',
  ];
  const counted = answer.values.reduce((sum, v) => sum + v.count, 0);
  if (counted + answer.otherValues === 0) out.push('No values.\n');
  else
    out.push(
      table(
        ['COUNT', 'VALUE'],
        answer.values.map((v) => [String(v.count), displayText(JSON.stringify(v.value))]),
      ),
    );
  if (answer.otherValues > 0)
    out.push(
      `(${answer.otherValues} more answers with values beyond the ${answer.values.length} counted one by one)\n`,
    );
  if (showRows && answer.rows.length > 0)
    out.push(
      `\nRaw values (first ${answer.rows.length}):\n${table(
        ['HOSTNAME', 'VALUE'],
        answer.rows.map((r) => [r.hostname, displayText(JSON.stringify(r.value))]),
      )}`,
    );
  if (answer.notAnsweredCount > 0) {
    const reason = (n: LiveQueryAnswer['notAnswered'][number]): string =>
      n.askedToConnect ? `${n.reason} (asked to connect)` : n.reason;
    out.push(
      `\nNot answered (${answer.notAnsweredCount}):\n${table(
        ['HOSTNAME', 'ENVOY', 'REASON'],
        answer.notAnswered.map((n) => [n.hostname, n.envoyId, reason(n)]),
      )}`,
    );
    if (answer.notAnswered.length < answer.notAnsweredCount)
      out.push(
        `(${answer.notAnsweredCount - answer.notAnswered.length} more not listed; --json has the listed ones)\n`,
      );
  }
  if (answer.errorCount > 0) {
    out.push(
      `\n${answer.queryName === null ? 'Could not read the trait' : 'Could not answer'} (${answer.errorCount}):\n${table(
        ['HOSTNAME', 'ERROR'],
        answer.errors.map((e) => [e.hostname, displayText(e.error)]),
      )}`,
    );
  }
  ctx.io.out(out.join('\n').replace(/\n{3,}/g, '\n\n'));
}

async function livequery(ctx: CommandContext, input: CommandInput): Promise<void> {
  await ask(ctx, input, input.args.slice(0, -1), { traitPath: input.args.at(-1) ?? '' });
}

async function namedQuery(ctx: CommandContext, input: CommandInput): Promise<void> {
  await ask(ctx, input, input.args.slice(1), { name: input.args[0] ?? '' });
}

async function ask(
  ctx: CommandContext,
  input: CommandInput,
  targets: string[],
  what: { traitPath: string } | { name: string },
): Promise<void> {
  const deadline = deadlineSeconds(input);
  const raw = wholeNumberFlag(input, 'raw', 0, rawMax);
  const body = {
    targets,
    ...what,
    ...(input.values('where').length > 0 ? { where: input.values('where') } : {}),
    ...(deadline === undefined ? {} : { deadlineSeconds: deadline }),
    ...(raw === undefined ? {} : { rawLimit: raw }),
  };
  // The server answers at the deadline at the latest; allow for the trip on top.
  const waitMs = ((deadline ?? 10) + 30) * 1000;
  const answer = await ctx.client.call<LiveQueryAnswer>('POST', '/api/v1/queries', body, waitMs);
  if (ctx.json) return printJson(ctx.io, answer);
  printAnswer(ctx, answer, raw !== undefined);
}

interface NamedQueryView {
  name: string;
  description: string;
  trait: string | null;
  probe: string | null;
  args: Record<string, string>;
}

async function listQueries(ctx: CommandContext): Promise<void> {
  const answer = await ctx.client.call<{ items: NamedQueryView[] }>('GET', '/api/v1/named-queries');
  if (ctx.json) return printJson(ctx.io, answer);
  if (answer.items.length === 0) {
    ctx.io.out('The active configuration defines no named queries (queries.vgo).\n');
    return;
  }
  const asks = (q: NamedQueryView): string =>
    q.trait !== null
      ? `trait ${q.trait}`
      : `${q.probe ?? ''} ${Object.entries(q.args)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`.trim();
  ctx.io.out(
    table(
      ['NAME', 'ASKS', 'DESCRIPTION'],
      answer.items.map((q) => [q.name, displayText(asks(q), 120), displayText(q.description, 120)]),
    ),
  );
}

/** What a live query of a trait and of a named query both take. */
const askFlags: readonly FlagSpec[] = [
  whereFlag,
  {
    name: 'deadline',
    value: 'DURATION',
    doc: `answer with what has arrived by then: 1s to ${deadlineMaxSeconds}s (default 10s)`,
  },
  {
    name: 'raw',
    value: 'N',
    doc: `also list the first N answers host by host, 0 to ${rawMax} (default: not listed; 100 in --json)`,
  },
];

export const traitCommands: readonly CommandSpec[] = [
  {
    path: ['traits', 'livequery'],
    summary: 'Live query: read one trait now on every targeted online envoy and count the values',
    args: [targetArg, { name: 'TRAIT.PATH', doc: 'the dotted trait path, e.g. os.version' }],
    flags: askFlags,
    details: askDetails,
    run: livequery,
  },
  {
    path: ['query', 'run'],
    summary: 'Ask a named read-only query of the stacks (queries.vgo) now on every targeted online envoy',
    args: [{ name: 'NAME', doc: 'the query name, as queries.vgo defines it' }, targetArg],
    flags: askFlags,
    details:
      'Each agent answers from the definition in its own signed bundle: a trait, or a probe such as ' +
      'file_sha256 or package_version. A name the active configuration does not define is refused ' +
      '(query.unknown). ' +
      askDetails,
    run: namedQuery,
  },
  {
    path: ['query', 'list'],
    summary: 'List the named read-only queries of the active configuration (queries.vgo)',
    args: [],
    flags: [],
    details: 'NAME is what vigocli query run takes; ASKS is the trait or the probe with its arguments.',
    run: listQueries,
  },
];
