/**
 * HTTP side of the error hierarchy: every error kind maps to one status (exhaustive, so a new kind does
 * not compile until it is mapped) and every error leaves as the same envelope.
 */
import type { ErrorKind } from '../core/index.ts';
import { isVigoError, toPublicError } from '../core/index.ts';

export const httpStatusByKind: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition: 412,
  too_large: 413,
  exhausted: 429,
  unavailable: 503,
  internal: 500,
};

export interface ErrorEnvelope {
  code: string;
  message: string;
  requestId: string;
  /** Every finding, when the error is about a stacks tree (publish.stacks_invalid). */
  diagnostics?: unknown[];
}

export function errorResponseBody(err: unknown, requestId: string): { status: number; body: ErrorEnvelope } {
  const pub = toPublicError(err);
  const body: ErrorEnvelope = { code: pub.code, message: pub.message, requestId };
  const diagnostics = isVigoError(err) ? err.details['diagnostics'] : undefined;
  if (Array.isArray(diagnostics)) body.diagnostics = diagnostics;
  return { status: httpStatusByKind[pub.kind], body };
}

/**
 * `Retry-After` for an error that says when to come back (rate limits, an agent build that failed):
 * set by the error mapping for every route, API or page, so no route has to remember it.
 */
export function retryAfterSeconds(err: unknown): number | undefined {
  if (!isVigoError(err)) return undefined;
  const seconds = err.details['retryAfterSeconds'];
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0
    ? Math.ceil(seconds)
    : undefined;
}
