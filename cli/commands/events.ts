/**
 * `vigocli events [-f] [--types a,b]`: the server's live event stream. Without --follow it lists the
 * event types there are; with it, it reads GET /api/v1/events as ndjson and prints one line per event
 * until Ctrl-C. A dropped connection is resumed with Last-Event-ID, so nothing still in the server's
 * ring is missed; reconnecting backs off and gives up after a bounded number of failed attempts.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { isVigoError } from '../../server/core/index.ts';
import { eventTypes, parseEventTypes } from '../../server/events/index.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { CliError, cliExitCodes, usageError } from '../errors.ts';
import { shortIso } from '../format.ts';
import { printJson } from './input.ts';
import { renderStreamItem } from '../output.ts';

interface StreamedEvent {
  id: string;
  type: string;
  at: string;
  subject?: string;
  data: unknown;
}

/** The server sends a keep-alive every 15 s; four missed in a row means the connection is dead. */
const idleTimeoutMs = 60_000;
const maxReconnectAttempts = 8;
const firstRetryDelayMs = 500;
const maxRetryDelayMs = 30_000;

function isStreamedEvent(value: unknown): value is StreamedEvent {
  const v = value as Partial<StreamedEvent> | null;
  return typeof v === 'object' && v !== null && typeof v.id === 'string' && typeof v.type === 'string';
}

function parseEvent(line: string): StreamedEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    parsed = undefined;
  }
  if (!isStreamedEvent(parsed)) {
    throw new CliError(
      cliExitCodes.error,
      'cli.bad_response',
      `/api/v1/events sent a line that is not an event: ${line.slice(0, 120)}`,
    );
  }
  return parsed;
}

function eventLine(event: StreamedEvent): string {
  const at = typeof event.at === 'string' ? shortIso(event.at) : '-';
  return `${at}  ${event.type.padEnd(22)}  ${event.subject ?? '-'}  ${JSON.stringify(event.data ?? {})}\n`;
}

/** Checked here with the server's own parser, so a typo is a usage error with a did-you-mean. */
function streamPath(input: CommandInput): string {
  const types = input.value('types');
  if (types === undefined) return '/api/v1/events';
  try {
    parseEventTypes(types);
  } catch (err) {
    if (isVigoError(err)) throw usageError(`--${err.message}`);
    throw err;
  }
  return `/api/v1/events?types=${encodeURIComponent(types)}`;
}

/** Runs until `signal` aborts (Ctrl-C), or throws when the server refuses or reconnecting fails. */
async function follow(ctx: CommandContext, path: string, signal: AbortSignal): Promise<void> {
  let lastId: string | undefined;
  let failures = 0;
  let opened = false;
  const notice = (text: string): void => {
    if (!ctx.json) ctx.io.err(`${text}\n`);
  };
  while (!signal.aborted) {
    let reason = 'the server ended the stream';
    let received = false;
    try {
      await ctx.client.streamLines({
        path,
        headers: {
          accept: 'application/x-ndjson',
          ...(lastId === undefined ? {} : { 'last-event-id': lastId }),
        },
        idleTimeoutMs,
        signal,
        onOpen: () => {
          opened = true;
          notice(`Following events from ${ctx.client.baseUrl.origin} (Ctrl-C to stop)`);
        },
        onLine: (line) => {
          received = true;
          if (line.trim() === '') return;
          const event = parseEvent(line);
          lastId = event.id;
          if (ctx.output === 'yaml') ctx.io.out(renderStreamItem('yaml', event));
          else ctx.io.out(ctx.json ? `${line}\n` : eventLine(event));
        },
      });
    } catch (err) {
      // Only a lost connection is worth retrying; a refusal (401, 403, 400) would be refused again, and
      // a first connection that fails is more likely a wrong --server or --ca than a passing outage.
      if (!opened || !(err instanceof CliError) || err.exitCode !== cliExitCodes.unreachable) throw err;
      reason = err.message;
    }
    if (signal.aborted) return;
    // A stream that delivered anything (even a keep-alive) was healthy: start counting afresh.
    failures = received ? 1 : failures + 1;
    if (failures > maxReconnectAttempts) {
      throw new CliError(
        cliExitCodes.unreachable,
        'cli.unreachable',
        `gave up after ${maxReconnectAttempts} attempts to reconnect the event stream: ${reason}`,
      );
    }
    const waitMs = Math.min(maxRetryDelayMs, firstRetryDelayMs * 2 ** (failures - 1));
    notice(
      `Event stream lost (${reason}); reconnecting in ${waitMs / 1000}s (attempt ${failures} of ${maxReconnectAttempts})`,
    );
    await delay(waitMs, undefined, { signal }).catch(() => undefined);
  }
}

async function events(ctx: CommandContext, input: CommandInput): Promise<void> {
  const path = streamPath(input);
  if (!input.has('follow')) {
    if (ctx.json) return printJson(ctx.io, { types: eventTypes });
    ctx.io.out(
      `Event types (follow them with "vigocli events -f [--types a,b]"; "envoy.*" selects a family):\n` +
        eventTypes.map((t) => `  ${t}\n`).join(''),
    );
    return;
  }
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await follow(ctx, path, controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export const eventCommands: readonly CommandSpec[] = [
  {
    path: ['events'],
    summary: 'Follow the live event stream (-f), or list the event types there are',
    flags: [
      { name: 'follow', doc: 'stream events until Ctrl-C, one line each (also -f)' },
      { name: 'types', value: 'LIST', doc: 'only these comma-separated types, e.g. envoy.stale,config.*' },
    ],
    details:
      'Each event prints as TIME TYPE SUBJECT DATA; with --json as the server sends it, one JSON object\n' +
      'a line. A dropped connection is resumed where it stopped (Last-Event-ID), with backoff, up to\n' +
      `${maxReconnectAttempts} attempts in a row. Ctrl-C stops it with exit code 0.`,
    run: events,
  },
];
