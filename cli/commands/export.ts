/**
 * `vigocli export siem|cmdb`: pulls an export (docs/exports.md) page after page until the server says
 * there is no more, to stdout or a file. `siem` writes the ECS ndjson records and ends by printing the
 * cursor to resume from; `cmdb` writes the whole inventory as one CSV table or one JSON document.
 */
import fs from 'node:fs';
import { isVigoError } from '../../server/core/index.ts';
import { cmdbLimits, parseCmdbFields } from '../../server/exports/cmdb.ts';
import type { CmdbPage } from '../../server/exports/cmdb.ts';
import { csvRow } from '../../server/exports/csv.ts';
import { siemLimits } from '../../server/exports/siem.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { CliError, cliExitCodes, usageError } from '../errors.ts';
import { wholeNumberFlag } from './input.ts';

/** Where the export goes: a new file (0600, replaced if present) or stdout. */
interface Sink {
  write(text: string): void;
  close(): void;
}

function openSink(ctx: CommandContext, file: string | undefined): Sink {
  if (file === undefined) return { write: (text) => ctx.io.out(text), close: () => {} };
  let fd: number;
  try {
    fd = fs.openSync(file, 'w', 0o600);
  } catch (err) {
    throw new CliError(cliExitCodes.error, 'cli.output', `cannot write ${file}: ${(err as Error).message}`);
  }
  return { write: (text) => fs.writeSync(fd, text), close: () => fs.closeSync(fd) };
}

interface SiemTrailer {
  next_cursor: string;
  count: number;
  more: boolean;
  events_gap: string | null;
}

function trailerOf(line: string): SiemTrailer | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  const page = (parsed as { vigo?: { page?: Partial<SiemTrailer> } } | null)?.vigo?.page;
  return typeof page?.next_cursor === 'string' && typeof page.more === 'boolean'
    ? (page as SiemTrailer)
    : undefined;
}

/** Pages of the SIEM export; no page may be empty and claim more, so a broken server cannot loop us. */
const maxEmptyPages = 1;

async function siem(ctx: CommandContext, input: CommandInput): Promise<void> {
  const limit = wholeNumberFlag(input, 'limit', 1, siemLimits.maxLimit) ?? siemLimits.maxLimit;
  let cursor = input.value('after');
  const sink = openSink(ctx, input.value('output'));
  let records = 0;
  let emptyPages = 0;
  const gaps: string[] = [];
  try {
    for (;;) {
      const params = new URLSearchParams({ limit: String(limit) });
      if (cursor !== undefined) params.set('after', cursor);
      let previous: string | undefined;
      await ctx.client.streamLines({
        path: `/api/v1/export/siem?${params.toString()}`,
        headers: { accept: 'application/x-ndjson' },
        idleTimeoutMs: 60_000,
        signal: new AbortController().signal,
        onOpen: () => {},
        onLine: (line) => {
          if (line === '') return;
          // Only the last line is the trailer; the one before it is a record, written now.
          if (previous !== undefined) {
            sink.write(`${previous}\n`);
            records += 1;
          }
          previous = line;
        },
      });
      const trailer = previous === undefined ? undefined : trailerOf(previous);
      if (trailer === undefined)
        throw new CliError(
          cliExitCodes.error,
          'cli.bad_response',
          'the SIEM export ended without its page trailer',
        );
      if (trailer.events_gap !== null) gaps.push(trailer.events_gap);
      cursor = trailer.next_cursor;
      emptyPages = trailer.count === 0 ? emptyPages + 1 : 0;
      if (!trailer.more || emptyPages > maxEmptyPages) break;
    }
  } finally {
    sink.close();
  }
  if (gaps.length > 0)
    ctx.io.err(
      `Some events were no longer held by the server (${[...new Set(gaps)].join(', ')}); the stream resumed at the oldest it had.\n`,
    );
  ctx.io.err(`${records} records. Resume with: vigocli export siem --after ${cursor ?? ''}\n`);
}

function fieldsFlag(input: CommandInput): string | undefined {
  const text = input.value('fields');
  if (text === undefined) return undefined;
  try {
    return parseCmdbFields(text).join(',');
  } catch (err) {
    if (isVigoError(err)) throw usageError(`--${err.message}`);
    throw err;
  }
}

async function cmdb(ctx: CommandContext, input: CommandInput): Promise<void> {
  const format = input.value('format') ?? 'csv';
  if (format !== 'csv' && format !== 'json')
    throw usageError(`--format must be csv or json, got ${JSON.stringify(format)}`);
  const fields = fieldsFlag(input);
  const limit = wholeNumberFlag(input, 'limit', 1, cmdbLimits.maxLimit) ?? cmdbLimits.maxLimit;
  const sink = openSink(ctx, input.value('output'));
  let cursor: string | null = null;
  let rows = 0;
  try {
    for (let first = true; first || cursor !== null; first = false) {
      const params = new URLSearchParams({ limit: String(limit) });
      if (fields !== undefined) params.set('fields', fields);
      if (cursor !== null) params.set('cursor', cursor);
      const page: CmdbPage = await ctx.client.call<CmdbPage>(
        'GET',
        `/api/v1/export/cmdb?${params.toString()}`,
      );
      if (first)
        sink.write(
          format === 'csv' ? csvRow(page.fields) : `{"fields":${JSON.stringify(page.fields)},"items":[`,
        );
      for (const item of page.items) {
        if (format === 'csv') sink.write(csvRow(page.fields.map((f) => item[f] ?? null)));
        else sink.write(`${rows === 0 ? '' : ','}\n${JSON.stringify(item)}`);
        rows += 1;
      }
      if (page.nextCursor !== null && page.nextCursor === cursor)
        throw new CliError(cliExitCodes.error, 'cli.bad_response', 'the CMDB export repeated its cursor');
      cursor = page.nextCursor;
    }
    if (format === 'json') sink.write('\n]}\n');
  } finally {
    sink.close();
  }
  ctx.io.err(`${rows} envoys exported.\n`);
}

export const exportCommands: readonly CommandSpec[] = [
  {
    path: ['export', 'siem'],
    summary: 'Pull events and audit entries as Elastic Common Schema ndjson, every page',
    flags: [
      {
        name: 'after',
        value: 'CURSOR',
        doc: 'resume after this cursor (printed at the end of the previous pull)',
      },
      {
        name: 'limit',
        value: 'N',
        doc: `records per request, 1 to ${siemLimits.maxLimit} (default ${siemLimits.maxLimit})`,
      },
      { name: 'output', value: 'FILE', doc: 'write to FILE (created 0600, replaced) instead of stdout' },
    ],
    details: 'The server must serve it (exports.siem: true). The resume cursor is printed on stderr.',
    run: siem,
  },
  {
    path: ['export', 'cmdb'],
    summary: 'Export the envoy inventory as CSV or JSON, every page',
    flags: [
      { name: 'format', value: 'csv|json', doc: 'csv (default; RFC 4180, formula-safe) or json' },
      {
        name: 'fields',
        value: 'A,B,...',
        doc: 'only these fields, in this order (docs/exports.md lists them)',
      },
      {
        name: 'limit',
        value: 'N',
        doc: `envoys per request, 1 to ${cmdbLimits.maxLimit} (default ${cmdbLimits.maxLimit})`,
      },
      { name: 'output', value: 'FILE', doc: 'write to FILE (created 0600, replaced) instead of stdout' },
    ],
    details: 'The server must serve it (exports.cmdb: true).',
    run: cmdb,
  },
];
