/**
 * An envoy's reachability as the fleet sweep last judged it (docs/convergence.md): revoked envoys and envoys
 * that never checked in are offline; the others are online, stale or offline by their `stale` and `offline`
 * flags, which the sweep sets from last-seen time and observed cadence.
 */
import type { Reachability } from '../convergence/index.ts';
import type { EnvoyEntry } from './envoy-entry.ts';

export function envoyReachability(entry: EnvoyEntry): Reachability {
  if (entry.status === 'revoked' || entry.lastSeenAtMs === 0 || entry.offline) return 'offline';
  return entry.stale ? 'stale' : 'online';
}
