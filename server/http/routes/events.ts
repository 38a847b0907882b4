/**
 * GET /api/v1/events: the live event stream, SSE for browsers or ndjson for scripts
 * (`Accept: application/x-ndjson`), resumable with `Last-Event-ID`, filtered with `?types=a,b`.
 */
import type { Actor } from '../../core/index.ts';
import { VigoError } from '../../core/index.ts';
import type { EventBus, EventType } from '../../events/index.ts';
import { eventStreamResponse, eventTypes, parseEventTypes } from '../../events/index.ts';
import { hasPermission } from '../../identity/index.ts';
import type { AnyRoute } from '../route-table.ts';
import { route } from '../route-table.ts';

export interface EventRoutesDeps {
  readonly bus: EventBus;
  readonly keepAliveMs: number;
  /** Undelivered events a slow client may have before its stream is closed (it resumes by id). */
  readonly maxQueued: number;
}

const query = {
  types: {
    type: 'string',
    maxLength: 2048,
    description: 'comma-separated event types; "envoy.*" for a family',
  },
  lastEventId: {
    type: 'string',
    maxLength: 256,
    description: 'resume after this id (for clients that cannot send the Last-Event-ID header)',
  },
} as const;

/** Who did what to users and tokens is for admins; every other event is fleet information. */
const adminOnly = (type: EventType): boolean => type.startsWith('user.') || type.startsWith('token.');

function visibleTypes(
  actor: Actor,
  requested: readonly EventType[] | undefined,
): readonly EventType[] | undefined {
  if (hasPermission(actor, 'admin')) return requested;
  const denied = requested?.filter(adminOnly) ?? [];
  if (denied.length > 0)
    throw new VigoError('auth.forbidden', `events of type ${denied.join(', ')} are for admins only`, {
      permission: 'admin',
    });
  return requested ?? eventTypes.filter((t) => !adminOnly(t));
}

export function eventRoutes(deps: EventRoutesDeps): AnyRoute[] {
  return [
    route<Record<never, never>, typeof query>({
      method: 'GET',
      path: '/api/v1/events',
      summary: 'Live events (SSE, or ndjson with Accept: application/x-ndjson); resumable with Last-Event-ID',
      tag: 'events',
      access: 'fleet.read',
      query,
      produces: 'text/event-stream',
      handler: ({ c, ctx, query: q }) =>
        eventStreamResponse(
          deps.bus,
          {
            accept: c.req.header('accept'),
            lastEventId: c.req.header('last-event-id') ?? q.lastEventId,
            types: visibleTypes(ctx.actor, parseEventTypes(q.types)),
            signal: c.req.raw.signal,
          },
          { keepAliveMs: deps.keepAliveMs, maxQueued: deps.maxQueued },
        ),
    }),
  ];
}
