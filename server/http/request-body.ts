/**
 * Request bodies, read only after the caller is authenticated and authorized, and never past the route's
 * cap: a Content-Length above the cap is refused before a byte is read, and a chunked body is counted as
 * it streams and cut off at the cap (`request.too_large`, 413). Every byte read is held against the
 * client's body budget until the request is done. A client that goes away mid-body is `request.aborted`,
 * which nobody needs to be alarmed about.
 */
import type { Context } from 'hono';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VigoError, isVigoError } from '../core/index.ts';
import type { BodyReservation } from './body-budget.ts';

/** The node request and response behind `c`, when it is served by the node listener (not in unit tests). */
export function nodeExchange(
  c: Context,
): { incoming: IncomingMessage; outgoing: ServerResponse } | undefined {
  const env: unknown = c.env;
  if (typeof env !== 'object' || env === null) return undefined;
  const incoming: unknown = Reflect.get(env, 'incoming');
  const outgoing: unknown = Reflect.get(env, 'outgoing');
  if (
    typeof incoming !== 'object' ||
    incoming === null ||
    typeof outgoing !== 'object' ||
    outgoing === null
  ) {
    return undefined;
  }
  return { incoming: incoming as IncomingMessage, outgoing: outgoing as ServerResponse };
}

function tooLarge(c: Context, maxBytes: number, got: string): VigoError {
  return new VigoError(
    'request.too_large',
    `the request body ${got}; ${c.req.method} ${c.req.path} accepts at most ${maxBytes} bytes`,
    { maxBytes },
  );
}

export function clientAborted(cause?: unknown): VigoError {
  return new VigoError(
    'request.aborted',
    'the client closed the connection before it had sent the whole request body',
    {},
    { cause },
  );
}

/** The declared Content-Length, or undefined for a chunked body (node has already refused malformed ones). */
function declaredLength(c: Context): number | undefined {
  const text = c.req.header('content-length');
  if (text === undefined || c.req.header('transfer-encoding') !== undefined) return undefined;
  const length = Number(text);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

/** Asks a client that sent `Expect: 100-continue` for its body, now that it may send one. */
function invite(c: Context): void {
  const exchange = nodeExchange(c);
  if (exchange === undefined || !/100-continue/i.test(exchange.incoming.headers.expect ?? '')) return;
  if (!exchange.outgoing.headersSent) exchange.outgoing.writeContinue();
}

export interface BoundBodyOptions {
  readonly maxBytes: number;
  readonly reservation: BodyReservation;
}

/**
 * Replaces the request's body with one that enforces the cap and the budget as it is read; nothing is
 * read here. Throws `request.too_large` at once for a Content-Length above the cap, and the budget's
 * refusal for one that does not fit.
 */
export function boundRequestBody(c: Context, options: BoundBodyOptions): void {
  const source = c.req.raw.body;
  if (source === null) return;
  const { maxBytes, reservation } = options;
  const declared = declaredLength(c);
  if (declared !== undefined && declared > maxBytes) throw tooLarge(c, maxBytes, `is ${declared} bytes`);
  if (declared !== undefined) reservation.take(declared);
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let count = 0;
  const bounded = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      if (reader === undefined) {
        invite(c);
        reader = source.getReader();
      }
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw isVigoError(err) ? err : clientAborted(err);
      }
      if (chunk.done) {
        controller.close();
        return;
      }
      count += chunk.value.byteLength;
      if (count > maxBytes) {
        void reader.cancel();
        throw tooLarge(c, maxBytes, 'is larger than that');
      }
      if (declared === undefined) reservation.take(chunk.value.byteLength);
      controller.enqueue(chunk.value);
    },
    cancel: (reason) => reader?.cancel(reason),
  });
  c.req.raw = new Request(c.req.raw, { body: bounded, duplex: 'half' });
}
