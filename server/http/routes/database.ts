/**
 * Database maintenance, admin only, every call audited (`vigocli db …`); the work runs on the pruner's
 * thread, never on the serving thread:
 *   GET  /api/v1/db/stats       sizes, free pages and rows per table
 *   POST /api/v1/db/integrity   PRAGMA integrity_check and foreign_key_check
 *   POST /api/v1/db/analyze     ANALYZE (fresh statistics for the query planner)
 *   POST /api/v1/db/checkpoint  a TRUNCATE checkpoint of the WAL
 *   POST /api/v1/db/prune       delete history older than a duration now (the pruner's own path)
 *   POST /api/v1/db/vacuum      VACUUM (rebuild the file, give free pages back), refused without the space
 */
import { VigoError, actorName, parseDurationMs } from '../../core/index.ts';
import type { Ctx } from '../../core/index.ts';
import { appendAudit } from '../../audit/index.ts';
import { cutoffsFor, pruneFamilies } from '../../store/index.ts';
import type {
  MaintenanceOp,
  MaintenanceResult,
  PruneCutoffs,
  PruneReport,
  Store,
} from '../../store/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

export interface DatabaseMaintenance {
  prune(cutoffs: PruneCutoffs): Promise<PruneReport>;
  maintain(op: MaintenanceOp): Promise<MaintenanceResult>;
}

/** The shortest age `db prune --older-than` accepts: history younger than this is never pruned by hand. */
const minimumPruneAgeMs = 3_600_000;

const pruneBody = {
  olderThan: { type: 'string', maxLength: 32 },
  families: {
    type: 'string-array',
    optional: true,
    maxItems: pruneFamilies.length,
    maxItemLength: 32,
  },
} as const;

const anyObject: JsonSchema = { type: 'object' };

export function databaseRoutes(deps: { store: Store; maintenance: DatabaseMaintenance }): AnyRoute[] {
  const tag = 'database';
  const audited = async <T>(
    ctx: Ctx,
    action: string,
    work: () => Promise<T>,
    details: (result: T) => Record<string, unknown>,
  ): Promise<T> => {
    let result: T;
    try {
      result = await work();
    } catch (err) {
      throw new VigoError('db.maintenance_failed', `database ${action} failed: ${(err as Error).message}`);
    }
    deps.store.tx((db) =>
      appendAudit(db, {
        actor: actorName(ctx.actor),
        action: `db.${action}`,
        target: 'database',
        details: details(result),
      }),
    );
    return result;
  };
  const maintain = (ctx: Ctx, op: MaintenanceOp): Promise<MaintenanceResult> =>
    audited(
      ctx,
      op,
      () => deps.maintenance.maintain(op),
      (result) => summary(result),
    );

  return [
    route({
      method: 'GET',
      path: '/api/v1/db/stats',
      summary: 'Database size, free pages and rows and bytes per table (counted on the maintenance thread)',
      tag,
      access: 'admin',
      errors: ['db.maintenance_failed'],
      response: anyObject,
      handler: async ({ c, ctx }) => c.json(await maintain(ctx, 'stats')),
    }),
    ...(['integrity', 'analyze', 'checkpoint'] as const).map((op) =>
      route({
        method: 'POST',
        path: `/api/v1/db/${op}`,
        summary: {
          integrity: 'Check the database: PRAGMA integrity_check and foreign_key_check (first 100 problems)',
          analyze: 'Refresh the query planner statistics (ANALYZE)',
          checkpoint: 'Copy the whole WAL into the database file and truncate it',
        }[op],
        tag,
        access: 'admin',
        errors: ['db.maintenance_failed'],
        response: anyObject,
        handler: async ({ c, ctx }) => c.json(await maintain(ctx, op)),
      }),
    ),
    route({
      method: 'POST',
      path: '/api/v1/db/vacuum',
      summary:
        'Rebuild the database file and return its free pages to the file system (VACUUM); writers wait while it runs',
      tag,
      access: 'admin',
      errors: ['db.vacuum_no_space', 'db.maintenance_failed'],
      response: anyObject,
      handler: async ({ c, ctx }) => {
        const result = await maintain(ctx, 'vacuum');
        if (result.op === 'vacuum' && !result.vacuum.ran) {
          throw new VigoError(
            'db.vacuum_no_space',
            `vacuum needs free space of at least the database's size: ${result.vacuum.freeBytes} bytes free, ${result.vacuum.beforeBytes} needed`,
            { freeBytes: result.vacuum.freeBytes, neededBytes: result.vacuum.beforeBytes },
          );
        }
        return c.json(result);
      },
    }),
    route<typeof pruneBody>({
      method: 'POST',
      path: '/api/v1/db/prune',
      summary:
        'Delete history older than a duration now, as the background pruner does (the audit log never)',
      tag,
      access: 'admin',
      errors: ['db.prune_invalid', 'db.maintenance_failed'],
      body: pruneBody,
      response: anyObject,
      handler: async ({ c, ctx, body }) => {
        const ageMs = parseDurationMs(body.olderThan);
        if (ageMs === undefined || ageMs < minimumPruneAgeMs) {
          throw new VigoError(
            'db.prune_invalid',
            `olderThan ${JSON.stringify(body.olderThan)} must be a duration of at least 1h, e.g. "30d"`,
          );
        }
        const families = body.families ?? [...pruneFamilies];
        const unknown = families.filter((f) => !(pruneFamilies as readonly string[]).includes(f));
        if (unknown.length > 0) {
          throw new VigoError(
            'db.prune_invalid',
            `unknown history ${unknown.join(', ')}: give some of ${pruneFamilies.join(', ')}`,
          );
        }
        const all = cutoffsFor(
          Object.fromEntries(pruneFamilies.map((f) => [f, ageMs])) as Record<
            (typeof pruneFamilies)[number],
            number
          >,
          Date.now(),
        );
        const cutoffs: PruneCutoffs = Object.fromEntries(
          families.map((f) => [f, all[f as keyof PruneCutoffs]]),
        );
        const report = await audited(
          ctx,
          'pruned',
          () => deps.maintenance.prune(cutoffs),
          (r) => ({ olderThan: body.olderThan, families, deleted: r.deleted }),
        );
        return c.json({ op: 'prune', olderThan: body.olderThan, ...report });
      },
    }),
  ];
}

function summary(result: MaintenanceResult): Record<string, unknown> {
  switch (result.op) {
    case 'stats':
      return { op: 'stats' };
    case 'integrity':
      return { op: 'integrity', ok: result.integrity.ok, problems: result.integrity.problems.length };
    case 'analyze':
      return { op: 'analyze', ms: Math.round(result.ms) };
    case 'checkpoint':
      return { op: 'checkpoint', ...result.checkpoint };
    case 'vacuum': {
      const { ran, beforeBytes, afterBytes, freeBytes } = result.vacuum;
      return { op: 'vacuum', ran, beforeBytes, afterBytes, freeBytes, ms: Math.round(result.vacuum.ms) };
    }
  }
}
