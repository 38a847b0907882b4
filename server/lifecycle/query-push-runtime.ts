/**
 * Live queries and force-push wired to the agent streams, the event bus and the metrics. The fleet admin
 * every route and page uses comes back wrapped, so a force-push from anywhere also reaches an online
 * envoy's stream at once.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import type { FleetAdmin, FleetIndex } from '../fleet/index.ts';
import { createForcePush, createLiveQueries, withStreamPush } from '../orchestration/index.ts';
import type { ForcePush, LiveQueries, LiveQueryDeps, StreamLink } from '../orchestration/index.ts';
import type { Store } from '../store/index.ts';

export interface QueryPushParts {
  readonly fleet: FleetIndex;
  /** The fleet admin as created, without the stream push. */
  readonly fleetAdmin: FleetAdmin;
  readonly streams: StreamLink;
  readonly store: Store;
  readonly bus: EventBus;
  readonly connection: () => 'held' | 'poll';
  readonly log: Logger;
  readonly registry: Registry;
  /** The named queries of the active configuration. */
  readonly namedQueries: LiveQueryDeps['namedQueries'];
}

export function createQueryPushRuntime(p: QueryPushParts): {
  fleetAdmin: FleetAdmin;
  forcePush: ForcePush;
  liveQueries: LiveQueries;
} {
  const traitsByHash = (hash: string): unknown => p.fleetAdmin.traitsByHash(hash);
  const forcePush = createForcePush({
    fleet: p.fleet,
    traitsByHash,
    streams: p.streams,
    admin: p.fleetAdmin,
    publish: (data) => p.bus.publish('push.requested', data),
  });
  const liveQueries = createLiveQueries({
    fleet: p.fleet,
    traitsByHash,
    streams: p.streams,
    store: p.store,
    connection: p.connection,
    log: p.log,
    registry: p.registry,
    namedQueries: p.namedQueries,
    publish: (type, data, queryId) => p.bus.publish(type, data, queryId),
  });
  return { fleetAdmin: withStreamPush(p.fleetAdmin, forcePush), forcePush, liveQueries };
}
