/**
 * The context every use case receives: who is acting and under which request id. Transports build it;
 * domain code never sees a hono Context or a grpc-js call.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from './log.ts';

export type Role = 'admin' | 'operator' | 'viewer' | 'compliance';

export type Actor =
  | { kind: 'system' }
  | { kind: 'local-admin' }
  | { kind: 'user'; userId: string; username: string; role: Role }
  | { kind: 'api-token'; tokenId: string; userId: string; username: string; role: Role }
  | { kind: 'envoy'; envoyId: string };

export interface Ctx {
  readonly requestId: string;
  readonly actor: Actor;
  readonly log: Logger;
  /** The W3C traceparent of the request (REST requests always have one), passed on to what it sends agents. */
  readonly traceparent?: string;
}

export function newRequestId(): string {
  return randomUUID();
}

/** A stable, human-readable name for an actor, used in audit entries and logs. */
export function actorName(actor: Actor): string {
  switch (actor.kind) {
    case 'system':
      return 'system';
    case 'local-admin':
      return 'local-admin';
    case 'user':
      return `user:${actor.username}`;
    case 'api-token':
      return `token:${actor.tokenId}(${actor.username})`;
    case 'envoy':
      return `envoy:${actor.envoyId}`;
  }
}

export function systemCtx(log: Logger): Ctx {
  return { requestId: newRequestId(), actor: { kind: 'system' }, log };
}
