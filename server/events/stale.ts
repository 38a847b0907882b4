/**
 * Turns the fleet flusher's stale/online transitions into events. Typed structurally so the bus does not
 * depend on the fleet module; `StaleTransition` from server/fleet fits. Wiring, in server/lifecycle:
 * `onTransition: (t) => { …; publishStale(t); }` with `const publishStale = staleEventPublisher(bus)`.
 */
import type { EventBus, VigoEvent } from './bus.ts';

export interface StaleTransitionLike {
  readonly entry: { readonly id: string; readonly hostname: string; readonly lastSeenAtMs: number };
  readonly stale: boolean;
}

export function staleEventPublisher(bus: EventBus): (transition: StaleTransitionLike) => VigoEvent {
  return ({ entry, stale }) =>
    bus.publish(
      stale ? 'envoy.stale' : 'envoy.online',
      {
        envoyId: entry.id,
        hostname: entry.hostname,
        lastSeenAt: entry.lastSeenAtMs === 0 ? null : new Date(entry.lastSeenAtMs).toISOString(),
      },
      entry.id,
    );
}
