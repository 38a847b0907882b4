/**
 * GET /api/v1/events as a web-standard Response, so a hono handler returns it as is.
 *
 * Server-Sent Events by default (the web UI's EventSource); newline-delimited JSON when the Accept header
 * lists `application/x-ndjson` (scripts: one VigoEvent object a line). Keep-alives hold proxies and
 * load balancers open: an SSE comment line, or an empty line in ndjson, which line-oriented readers skip and
 * which cannot be mistaken for an event the way a `{"type":"keep-alive"}` object could.
 *
 * The body is pulled: a frame is produced only when the previous one was taken, so a client that stops
 * reading leaves events in the bus's ring (bounded) rather than in a per-client buffer, until its
 * subscription overflows and the stream ends. Every way the stream can end (client gone, abort signal,
 * overflow, bus shutdown) releases the subscription and the keep-alive timer. The timer is deliberately
 * not unref'd: the open socket keeps the process alive anyway, and a leaked stream then shows up as a
 * process that does not exit instead of going unnoticed.
 */
import { VigoError } from '../core/index.ts';
import type { EventBus, Subscription } from './bus.ts';
import { eventFrame } from './encode.ts';
import type { EventStreamFormat } from './encode.ts';
import type { EventType } from './event-types.ts';

export interface EventStreamRequest {
  accept: string | undefined;
  /** The `Last-Event-ID` header (EventSource sends it when it reconnects). */
  lastEventId: string | undefined;
  types: readonly EventType[] | undefined;
  /** Aborts when the client goes away (hono: `c.req.raw.signal`). */
  signal: AbortSignal;
}

export interface EventStreamOptions {
  keepAliveMs: number;
  maxQueued: number;
}

/** How long an EventSource waits before reconnecting after the stream ends. */
export const sseRetryMs = 3000;

const encoder = new TextEncoder();
const keepAliveFrames: Record<EventStreamFormat, Uint8Array> = {
  sse: encoder.encode(': keep-alive\n\n'),
  ndjson: encoder.encode('\n'),
};
const contentTypes: Record<EventStreamFormat, string> = {
  sse: 'text/event-stream; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};
/** setInterval's upper bound; longer delays fire at once. */
const maxTimerMs = 2_147_483_647;

/** ndjson when the Accept header lists `application/x-ndjson` (with a non-zero q), SSE otherwise. */
export function negotiateEventFormat(accept: string | undefined): EventStreamFormat {
  if (accept === undefined) return 'sse';
  for (const range of accept.split(',')) {
    const [mediaType = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    if (mediaType !== 'application/x-ndjson') continue;
    const q = params.find((param) => param.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return 'ndjson';
  }
  return 'sse';
}

function checkOptions(options: EventStreamOptions): void {
  const problems: [string, number, number][] = [
    ['keepAliveMs', options.keepAliveMs, maxTimerMs],
    ['maxQueued', options.maxQueued, Number.MAX_SAFE_INTEGER],
  ];
  for (const [name, value, max] of problems) {
    if (!Number.isSafeInteger(value) || value < 1 || value > max) {
      throw new VigoError(
        'config.invalid',
        `${name}: must be a whole number from 1 to ${max}, got ${value}`,
        {
          field: name,
        },
      );
    }
  }
}

function eventBody(
  subscription: Subscription | undefined,
  signal: AbortSignal,
  keepAliveMs: number,
  format: EventStreamFormat,
): ReadableStream<Uint8Array> {
  let timer: NodeJS.Timeout | undefined;
  let ended = subscription === undefined;
  let onAbort: (() => void) | undefined;

  const release = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    subscription?.close();
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (subscription === undefined) {
        controller.close();
        return;
      }
      onAbort = () => {
        release();
        controller.close();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      timer = setInterval(() => {
        // Only when the client has taken everything: a stalled client needs no keep-alive, and
        // enqueuing regardless would grow the stream's queue without bound.
        if ((controller.desiredSize ?? 0) > 0) controller.enqueue(keepAliveFrames[format]);
      }, keepAliveMs);
      if (format === 'sse') controller.enqueue(encoder.encode(`retry: ${sseRetryMs}\n\n`));
    },
    async pull(controller) {
      const event = await subscription?.next();
      if (ended) return;
      if (event === undefined) {
        release();
        controller.close();
        return;
      }
      controller.enqueue(eventFrame(event, format));
    },
    cancel() {
      release();
    },
  });
}

/**
 * Opens a live event stream. Throws before any response is made: `config.invalid` for nonsensical
 * options, `request.invalid` for an empty type list. An unusable Last-Event-ID is not an error but a
 * `stream.gap` event at the start of the stream.
 */
export function eventStreamResponse(
  bus: EventBus,
  request: EventStreamRequest,
  options: EventStreamOptions,
): Response {
  checkOptions(options);
  const format = negotiateEventFormat(request.accept);
  // Subscribing here rather than when the body starts makes a refused subscription an error the
  // handler sees, not a broken stream; a client already gone gets an empty body and no subscription.
  const subscription = request.signal.aborted
    ? undefined
    : bus.subscribe({ afterId: request.lastEventId, types: request.types, maxQueued: options.maxQueued });
  return new Response(eventBody(subscription, request.signal, options.keepAliveMs, format), {
    status: 200,
    headers: {
      'content-type': contentTypes[format],
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    },
  });
}
