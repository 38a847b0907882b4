/**
 * How a stable error code rides on a gRPC status (agent.proto, "Errors"): the status message starts with
 * "<code>: " and the trailing metadata key vigo-error-code holds the code alone. The server builds statuses
 * with these helpers; the agent reads the code back from a failed call.
 */
import { Metadata } from '@grpc/grpc-js';
import { errorMetadataKeys } from './constants.ts';

const codeAtStart = /^([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+): /;

/** The status message for `code`: the code, ": ", then the explanation for a person. */
export function errorStatusMessage(code: string, explanation: string): string {
  return `${code}: ${explanation}`;
}

/** Trailing metadata carrying `code` (and, for back-pressure, how long to wait before resending). */
export function errorStatusMetadata(code: string, retryAfterMs?: number): Metadata {
  const metadata = new Metadata();
  metadata.set(errorMetadataKeys.code, code);
  if (retryAfterMs !== undefined)
    metadata.set(errorMetadataKeys.retryAfterMs, String(Math.max(0, retryAfterMs)));
  return metadata;
}

/**
 * The stable code of a failed call (a grpc-js ServiceError or anything shaped like one): from the
 * vigo-error-code trailer when present, else from the start of the status message; undefined when the
 * status carries no code (for example a transport error).
 */
export function errorCodeOf(err: { details?: unknown; metadata?: unknown }): string | undefined {
  if (err.metadata instanceof Metadata) {
    const [value] = err.metadata.get(errorMetadataKeys.code);
    if (typeof value === 'string' && value !== '') return value;
  }
  if (typeof err.details === 'string') return codeAtStart.exec(err.details)?.[1];
  return undefined;
}

/** The server's suggested delay before resending, from the vigo-retry-after-ms trailer, if any. */
export function retryAfterMsOf(err: { metadata?: unknown }): number | undefined {
  if (!(err.metadata instanceof Metadata)) return undefined;
  const [value] = err.metadata.get(errorMetadataKeys.retryAfterMs);
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}
