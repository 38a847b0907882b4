/** The TCP peer's address, for rate limits and audit entries; "unknown" when not served by the node listener. */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

export function sourceAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
