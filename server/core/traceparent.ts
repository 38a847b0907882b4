/**
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/): the trace an action belongs to,
 * carried from a REST request into what it sends agents and records. Only version 00 is accepted, in its
 * exact 55-character lowercase form, with a non-zero trace id and parent id; anything else is treated as
 * absent and replaced by a fresh trace, so a malformed header never travels further.
 */
import { randomBytes } from 'node:crypto';

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const allZero = /^0+$/;

/** `value` when it is a valid version-00 traceparent, else undefined. */
export function parseTraceparent(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  const match = traceparentPattern.exec(value);
  if (match === null) return undefined;
  if (allZero.test(match[1]!) || allZero.test(match[2]!)) return undefined;
  return value;
}

/** A new traceparent that starts a trace: random trace id and parent id, not sampled. */
export function newTraceparent(): string {
  let traceId = randomBytes(16).toString('hex');
  let parentId = randomBytes(8).toString('hex');
  // All-zero ids are invalid; the odds are negligible, but the result must always parse.
  if (allZero.test(traceId)) traceId = `${traceId.slice(0, 31)}1`;
  if (allZero.test(parentId)) parentId = `${parentId.slice(0, 15)}1`;
  return `00-${traceId}-${parentId}-00`;
}

/** The 32-hex trace id of a valid traceparent, or "" for anything else. */
export function traceIdOf(traceparent: string | undefined): string {
  const valid = parseTraceparent(traceparent);
  return valid === undefined ? '' : valid.slice(3, 35);
}

/** What audit entries and events of a traced action carry: the traceparent and its trace id. */
export function traceDetails(traceparent: string | undefined): { traceparent?: string; traceId?: string } {
  const valid = parseTraceparent(traceparent);
  return valid === undefined ? {} : { traceparent: valid, traceId: valid.slice(3, 35) };
}
