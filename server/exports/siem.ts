/**
 * The SIEM export: server events (the bus's retained history) and audit entries (the audit log), merged by
 * time into one ndjson stream of ECS documents, for pull-based collectors.
 *
 * A page is produced as the client reads it: each source is read in chunks (a keyset query on the audit
 * log, a slice of the event ring), merged, and turned into lines only when the previous ones were taken,
 * so a page never sits whole in memory. The last line is always the page trailer, which carries the
 * cursor the next request passes as `after`. The cursor holds one position per source, so nothing is
 * skipped or repeated across pages even when the two sources' clocks interleave.
 */
// The audit reader alone, not the audit runtime and its metrics: vigocli reads siemLimits from here.
import { listAudit } from '../audit/list.ts';
import type { AuditRecord } from '../audit/chain.ts';
import { VigoError } from '../core/index.ts';
import type { EventBus, EventType, GapReason, VigoEvent } from '../events/index.ts';
import type { Db } from '../store/index.ts';
import { auditToEcs, eventToEcs } from './ecs.ts';

export const siemLimits = {
  defaultLimit: 500,
  maxLimit: 5000,
  /** Rows read from one source at a time. */
  chunk: 200,
  maxCursorLength: 80,
} as const;

/** Where a reader is in each source: the last audit seq taken, the last event id taken (if any yet). */
export interface SiemCursor {
  readonly auditSeq: number;
  readonly eventId: string | undefined;
}

const cursorPattern = /^v1\.(0|[1-9][0-9]{0,15})\.(_|[0-9a-z]{1,32}-(?:0|[1-9][0-9]{0,15}))$/;

export function formatSiemCursor(cursor: SiemCursor): string {
  return `v1.${cursor.auditSeq}.${cursor.eventId ?? '_'}`;
}

function badCursor(message: string): VigoError {
  return new VigoError('export.cursor_invalid', `after: ${message}`, { field: 'after' });
}

export function parseSiemCursor(text: string): SiemCursor {
  const match = cursorPattern.exec(text);
  const auditSeq = Number(match?.[1]);
  if (match === null || !Number.isSafeInteger(auditSeq))
    throw badCursor(
      'not a cursor this server gave; pass the next_cursor of the previous page, or leave it out',
    );
  return { auditSeq, eventId: match[2] === '_' ? undefined : match[2] };
}

export interface SiemExportDeps {
  readonly db: Db;
  readonly bus: EventBus;
}

export interface SiemPageRequest {
  /** The `after` cursor; undefined starts at the oldest audit entry and the oldest retained event. */
  readonly after: string | undefined;
  readonly limit: number;
  /** Events of other types are passed over (the cursor still moves past them). */
  readonly includeEvent: (type: EventType) => boolean;
  /** Whether audit entries are part of the stream (the audit position then stays where it was). */
  readonly includeAudit: boolean;
}

/** The last line of every page. */
export interface SiemTrailer {
  readonly vigo: {
    readonly page: {
      readonly next_cursor: string;
      readonly count: number;
      readonly more: boolean;
      /** Set when events after the cursor's position were no longer held (server restart, ring overwritten). */
      readonly events_gap: Extract<GapReason, 'expired' | 'other-boot'> | null;
    };
  };
}

const encoder = new TextEncoder();

const newestStatements = new WeakMap<Db, () => number>();

function newestAuditSeq(db: Db): number {
  let read = newestStatements.get(db);
  if (read === undefined) {
    const statement = db.prepare<[], number>('SELECT coalesce(max(seq), 0) FROM audit_log').pluck();
    read = () => statement.get() ?? 0;
    newestStatements.set(db, read);
  }
  return read();
}

class MergedSources {
  readonly #deps: SiemExportDeps;
  readonly #include: (type: EventType) => boolean;
  /** The cursor: the last audit entry and the last event taken (emitted or passed over). */
  #auditSeq: number;
  #eventId: string | undefined;
  /** Where the next read of the event ring continues (ahead of #eventId by what is buffered). */
  #fetchedEventId: string | undefined;
  #audit: AuditRecord[] = [];
  #events: VigoEvent[] = [];
  #auditDone = false;
  #eventsDone = false;
  lostEvents = false;

  constructor(
    deps: SiemExportDeps,
    cursor: SiemCursor,
    include: (type: EventType) => boolean,
    withAudit: boolean,
  ) {
    this.#deps = deps;
    this.#include = include;
    this.#auditDone = !withAudit;
    this.#auditSeq = cursor.auditSeq;
    this.#eventId = cursor.eventId;
    this.#fetchedEventId = cursor.eventId;
  }

  get cursor(): SiemCursor {
    return { auditSeq: this.#auditSeq, eventId: this.#eventId };
  }

  #fillAudit(): void {
    if (this.#audit.length > 0 || this.#auditDone) return;
    this.#audit = listAudit(this.#deps.db, { afterSeq: this.#auditSeq, limit: siemLimits.chunk });
    if (this.#audit.length < siemLimits.chunk) this.#auditDone = true;
  }

  /** The next event to emit, passing over (and past) the ones the reader may not see. */
  #headEvent(): VigoEvent | undefined {
    for (;;) {
      if (this.#events.length === 0 && !this.#eventsDone) {
        const { events, gap } = this.#deps.bus.replay(this.#fetchedEventId, siemLimits.chunk);
        // The ring overwrote events between two reads of this page (a burst of events): say so.
        if (gap !== undefined) this.lostEvents = true;
        if (events.length < siemLimits.chunk) this.#eventsDone = true;
        this.#events = [...events];
        this.#fetchedEventId = events.at(-1)?.id ?? this.#fetchedEventId;
        // An empty ring still pins the position to this boot, so events published later are not missed.
        if (this.#eventId === undefined && events.length === 0) this.#eventId = `${this.#deps.bus.bootTag}-0`;
      }
      const head = this.#events[0];
      if (head === undefined || this.#include(head.type)) return head;
      this.#events.shift();
      this.#eventId = head.id;
    }
  }

  /** Whether nothing is left after what was taken. */
  get exhausted(): boolean {
    this.#fillAudit();
    return this.#audit.length === 0 && this.#headEvent() === undefined;
  }

  /** The next record in time order (audit first on a tie), or undefined when both sources are drained. */
  take(): string | undefined {
    this.#fillAudit();
    const entry = this.#audit[0];
    const event = this.#headEvent();
    if (entry !== undefined && (event === undefined || entry.at <= Date.parse(event.at))) {
      this.#audit.shift();
      this.#auditSeq = entry.seq;
      return JSON.stringify(auditToEcs(entry));
    }
    if (event === undefined) return undefined;
    this.#events.shift();
    this.#eventId = event.id;
    return JSON.stringify(eventToEcs(event));
  }
}

/**
 * Checks the cursor and returns the page as a stream of ndjson lines. Refusals (a malformed cursor, one
 * ahead of what this server issued) are thrown here, before any byte is sent.
 */
export function siemPage(deps: SiemExportDeps, request: SiemPageRequest): ReadableStream<Uint8Array> {
  const cursor =
    request.after === undefined ? { auditSeq: 0, eventId: undefined } : parseSiemCursor(request.after);
  const newestSeq = newestAuditSeq(deps.db);
  // Only checked for readers of the audit log: the others learn nothing about it, not even its length.
  if (request.includeAudit && cursor.auditSeq > newestSeq)
    throw badCursor(`audit position ${cursor.auditSeq} is beyond the newest audit entry (${newestSeq})`);
  let gap: SiemTrailer['vigo']['page']['events_gap'] = null;
  if (cursor.eventId !== undefined) {
    const probe = deps.bus.replay(cursor.eventId, 0).gap;
    if (probe === 'ahead' || probe === 'malformed')
      throw badCursor('event position was never issued by this server');
    gap = probe ?? null;
  }
  // After a gap the cursor restarts at the oldest retained event of this boot.
  const sources = new MergedSources(
    deps,
    gap === null ? cursor : { ...cursor, eventId: undefined },
    request.includeEvent,
    request.includeAudit,
  );
  let count = 0;
  let finished = false;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (finished) return;
        const lines: string[] = [];
        while (lines.length < siemLimits.chunk && count < request.limit) {
          const line = sources.take();
          if (line === undefined) break;
          lines.push(line);
          count += 1;
        }
        if (lines.length === siemLimits.chunk && count < request.limit) {
          controller.enqueue(encoder.encode(`${lines.join('\n')}\n`));
          return;
        }
        const trailer: SiemTrailer = {
          vigo: {
            page: {
              next_cursor: formatSiemCursor(sources.cursor),
              count,
              more: count >= request.limit && !sources.exhausted,
              events_gap: gap ?? (sources.lostEvents ? 'expired' : null),
            },
          },
        };
        lines.push(JSON.stringify(trailer));
        controller.enqueue(encoder.encode(`${lines.join('\n')}\n`));
        finished = true;
        controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}
