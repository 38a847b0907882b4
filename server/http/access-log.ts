/**
 * The HTTP access log (log.access: on): one `http access` record per request once its response is done
 * (or the client went away), with the method, the route template that answered (the raw path only when no
 * route matched, with anything shaped like a credential blanked), the status, the response body bytes,
 * the duration and who asked. Never a header, a query string or a body: tokens travel in those.
 */
import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import type { Actor, Logger } from '../core/index.ts';
import type { HttpEnv } from './app.ts';
import type { AuthEnv } from './auth.ts';
import { sourceAddress } from './peer.ts';
import { nodeExchange } from './request-body.ts';

/** Every credential vigosrv issues starts with one of these (API, bootstrap, local-admin, enrollment). */
const credentialPattern = /\b(?:vgot|vgbs|vgla|vget)_[^/]*/gi;
const unmatchedPathMaxChars = 256;

/** Who made the request, by name and kind; never a secret (token ids are public). */
export function principalOf(actor: Actor | undefined): string {
  if (actor === undefined) return 'anonymous';
  switch (actor.kind) {
    case 'user':
      return `user:${actor.username}`;
    case 'api-token':
      return `api-token:${actor.username}/${actor.tokenId}`;
    case 'envoy':
      return `envoy:${actor.envoyId}`;
    default:
      return actor.kind;
  }
}

/** The path of a request no route answered, as safe to log as a route template. */
export function unmatchedPath(path: string): string {
  return path.replace(credentialPattern, '[redacted]').slice(0, unmatchedPathMaxChars);
}

function chunkBytes(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string')
    return Buffer.byteLength(
      chunk,
      Buffer.isEncoding(String(encoding)) ? (encoding as BufferEncoding) : 'utf8',
    );
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}

/** Counts the body bytes this response writes (its own write and end, not the prototype's). */
function countBodyBytes(outgoing: ServerResponse): () => number {
  let bytes = 0;
  const write = outgoing.write.bind(outgoing) as (...args: unknown[]) => boolean;
  const end = outgoing.end.bind(outgoing) as (...args: unknown[]) => ServerResponse;
  outgoing.write = ((...args: unknown[]) => {
    bytes += chunkBytes(args[0], args[1]);
    return write(...args);
  }) as ServerResponse['write'];
  outgoing.end = ((...args: unknown[]) => {
    if (typeof args[0] !== 'function') bytes += chunkBytes(args[0], args[1]);
    return end(...args);
  }) as ServerResponse['end'];
  return () => bytes;
}

/**
 * Arranges the access record of the request in `c`, called once the app has answered it. Over node's
 * HTTP server the record is written when the response has been sent; elsewhere (in-process requests)
 * at once, with the bytes the response declares.
 */
export function logAccess(c: Context<HttpEnv>, log: Logger, startedAtMs: number): void {
  const route = c.get('route');
  const base = {
    method: c.req.method,
    route: route ?? null,
    ...(route === undefined ? { path: unmatchedPath(c.req.path) } : {}),
    principal: principalOf((c as unknown as Context<AuthEnv>).get('actor')),
    client: sourceAddress(c),
  };
  const durationMs = (): number => Math.round((performance.now() - startedAtMs) * 100) / 100;
  const outgoing = nodeExchange(c)?.outgoing;
  if (outgoing === undefined) {
    const length = Number(c.res.headers.get('content-length') ?? Number.NaN);
    log.info('http access', {
      ...base,
      status: c.res.status,
      bytes: Number.isFinite(length) ? length : null,
      durationMs: durationMs(),
    });
    return;
  }
  const bytes = countBodyBytes(outgoing);
  outgoing.once('close', () => {
    log.info('http access', {
      ...base,
      status: outgoing.statusCode,
      bytes: bytes(),
      durationMs: durationMs(),
      // The client went away before the whole response was sent.
      ...(outgoing.writableFinished ? {} : { aborted: true }),
    });
  });
}
