/**
 * Operator actions on envoys: show one with its traits, revoke it, ask it to re-apply its bundle at the
 * next check-in (force-push). Each change is written and audited in one transaction before the in-memory
 * index is touched, so a revoked envoy is refused from the next check-in on and the revocation survives a
 * crash; the check-in path itself still never reads the database.
 */
import type { Ctx } from '../core/index.ts';
import { VigoError, actorName, traceDetails } from '../core/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Store } from '../store/index.ts';
import type { EnvoyEntry } from './envoy-entry.ts';
import type { FleetIndex } from './fleet-index.ts';

export interface FleetChange {
  readonly type: 'envoy.revoked' | 'envoy.push_requested';
  readonly envoyId: string;
  readonly hostname: string;
}

export interface FleetAdminDeps {
  readonly store: Store;
  readonly index: FleetIndex;
  readonly nowMs?: () => number;
  /** Told after each committed change (the event bus). */
  readonly onChange?: (change: FleetChange) => void;
}

export interface FleetAdmin {
  /** The entry, or `fleet.envoy_not_found`. */
  get(id: string): EnvoyEntry;
  /** A traits document by hash, parsed; undefined when unknown. */
  traitsByHash(hash: string): Record<string, unknown> | undefined;
  /** Revokes an envoy; revoking a revoked envoy changes nothing and says so. */
  revoke(ctx: Ctx, id: string, reason: string): { envoyId: string; revoked: true; changed: boolean };
  /**
   * Sends the full bundle at the envoy's next check-in even when it reports itself current. `pushedNow`
   * is set where the server also tells an online envoy to check in now (orchestration's force-push).
   */
  requestPush(ctx: Ctx, id: string): { envoyId: string; forcePush: true; pushedNow?: boolean };
  /**
   * requestPush for many envoys at once: one transaction sets every flag and appends one audit entry
   * (action `push.requested`, with `details`); the entries are marked only after it commits. No event is
   * published per envoy: the caller summarises. Revoked envoys are refused (nothing is written).
   */
  requestPushes(ctx: Ctx, entries: readonly EnvoyEntry[], details: Record<string, unknown>): void;
}

export function createFleetAdmin(deps: FleetAdminDeps): FleetAdmin {
  const now = deps.nowMs ?? Date.now;
  const traitsJson = deps.store.db
    .prepare<[string], string>('SELECT json FROM traits WHERE hash = ?')
    .pluck();
  const revokeRow = deps.store.db.prepare<[number, string]>(
    "UPDATE envoys SET status = 'revoked', revoked_at = ? WHERE id = ? AND status = 'active'",
  );
  const pushRow = deps.store.db.prepare<[string]>('UPDATE envoys SET force_push = 1 WHERE id = ?');
  const pushRows = deps.store.db.prepare<[string]>(
    'UPDATE envoys SET force_push = 1 WHERE id IN (SELECT value FROM json_each(?))',
  );

  const get = (id: string): EnvoyEntry => {
    const entry = deps.index.get(id);
    if (entry === undefined) throw new VigoError('fleet.envoy_not_found', `no envoy has the id ${id}`);
    return entry;
  };

  return {
    get,
    traitsByHash(hash) {
      if (hash === '') return undefined;
      const json = deps.index.pendingTraitsJson(hash) ?? traitsJson.get(hash);
      return json === undefined ? undefined : (JSON.parse(json) as Record<string, unknown>);
    },
    revoke(ctx, id, reason) {
      const entry = get(id);
      if (entry.status === 'revoked') return { envoyId: id, revoked: true, changed: false };
      deps.store.tx((db) => {
        revokeRow.run(now(), id);
        appendAudit(db, {
          actor: actorName(ctx.actor),
          action: 'envoy.revoked',
          target: `envoy:${id}`,
          details: { hostname: entry.hostname, reason },
        });
      });
      entry.status = 'revoked';
      deps.onChange?.({ type: 'envoy.revoked', envoyId: id, hostname: entry.hostname });
      return { envoyId: id, revoked: true, changed: true };
    },
    requestPush(ctx, id) {
      const entry = get(id);
      if (entry.status === 'revoked')
        throw new VigoError(
          'fleet.envoy_revoked',
          `envoy ${id} (${entry.hostname}) is revoked; nothing to push`,
        );
      deps.store.tx((db) => {
        pushRow.run(id);
        appendAudit(db, {
          actor: actorName(ctx.actor),
          action: 'envoy.push_requested',
          target: `envoy:${id}`,
          details: { hostname: entry.hostname, ...traceDetails(ctx.traceparent) },
        });
      });
      entry.forcePush = true;
      deps.index.markDirty(entry);
      deps.onChange?.({ type: 'envoy.push_requested', envoyId: id, hostname: entry.hostname });
      return { envoyId: id, forcePush: true };
    },
    requestPushes(ctx, entries, details) {
      const revoked = entries.find((entry) => entry.status === 'revoked');
      if (revoked !== undefined)
        throw new VigoError(
          'fleet.envoy_revoked',
          `envoy ${revoked.id} (${revoked.hostname}) is revoked; nothing to push`,
        );
      deps.store.tx((db) => {
        pushRows.run(JSON.stringify(entries.map((entry) => entry.id)));
        appendAudit(db, {
          actor: actorName(ctx.actor),
          action: 'push.requested',
          target: `envoys:${entries.length}`,
          details,
        });
      });
      for (const entry of entries) {
        entry.forcePush = true;
        deps.index.markDirty(entry);
      }
    },
  };
}
