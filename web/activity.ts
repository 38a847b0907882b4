/**
 * The dashboard's "recent activity": the last few operator-visible events, kept from the event bus in a
 * small ring so a freshly loaded page shows what just happened. Run reports are left out (a large fleet
 * sends many per second, and the counters already reflect them).
 */
import type { EventBus, EventType, Subscription, VigoEvent } from '../server/events/index.ts';
import { eventTypes } from '../server/events/index.ts';

export interface RecentActivity {
  /** Newest first. */
  list(): readonly VigoEvent[];
}

const shownTypes: readonly EventType[] = eventTypes.filter((t) => t !== 'run.reported' && t !== 'stream.gap');

export function followRecentActivity(bus: EventBus, keep: number): RecentActivity {
  const ring: VigoEvent[] = [];
  const subscribe = (afterId: string | undefined): Subscription =>
    bus.subscribe({ types: shownTypes, maxQueued: 1000, afterId });
  const pump = async (subscription: Subscription): Promise<void> => {
    let lastId: string | undefined;
    for await (const event of subscription) {
      if (event.type === 'stream.gap') continue;
      lastId = event.id;
      ring.unshift(event);
      if (ring.length > keep) ring.length = keep;
    }
    // Only an overflow (this reader fell behind) resumes; 'shutdown' means the server is stopping.
    if (subscription.closedReason === 'overflow') await pump(subscribe(lastId));
  };
  // Subscribing here, not inside pump, makes a bad option fail at start-up instead of in the background.
  void pump(subscribe(undefined));
  return { list: () => ring };
}
