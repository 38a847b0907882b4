/**
 * The audit hash chain (audit.read; Vigo keeps the compliance role out of it):
 *   GET /api/v1/audit          entries, newest first by default (before=SEQ) or oldest first (after=SEQ)
 *   GET /api/v1/audit/verify   walk the whole chain and report the first break
 */
import type { AuditRecord } from '../../audit/index.ts';
import { auditHead, listAudit, maxAuditListLimit, verifyAudit } from '../../audit/index.ts';
import type { Store } from '../../store/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

export function auditView(r: AuditRecord): Record<string, unknown> {
  return {
    seq: r.seq,
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    action: r.action,
    target: r.target,
    details: r.details,
    hash: r.hash,
    prevHash: r.prevHash,
  };
}

const entrySchema: JsonSchema = {
  type: 'object',
  required: ['seq', 'at', 'actor', 'action', 'target', 'details', 'hash', 'prevHash'],
  properties: {
    seq: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    actor: { type: 'string' },
    action: { type: 'string' },
    target: { type: 'string' },
    details: { type: 'object' },
    hash: { type: 'string' },
    prevHash: { type: 'string' },
  },
};

const listQuery = {
  before: {
    type: 'integer',
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    description: 'newest first, below this seq',
  },
  after: {
    type: 'integer',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    description: 'oldest first, above this seq',
  },
  action: { type: 'string', maxLength: 128 },
  actor: { type: 'string', maxLength: 256 },
  limit: { type: 'integer', min: 1, max: maxAuditListLimit },
} as const;

export function auditRoutes(deps: { store: Store }): AnyRoute[] {
  return [
    route<Record<never, never>, typeof listQuery>({
      method: 'GET',
      path: '/api/v1/audit',
      summary: 'Audit entries (newest first unless "after" is given)',
      tag: 'audit',
      access: 'audit.read',
      query: listQuery,
      response: {
        type: 'object',
        required: ['items', 'next'],
        properties: { items: { type: 'array', items: entrySchema }, next: { type: ['integer', 'null'] } },
      },
      handler: ({ c, query }) => {
        const limit = query.limit ?? 100;
        const oldestFirst = query.after !== undefined;
        const head = auditHead(deps.store.db);
        const items = listAudit(deps.store.db, {
          limit,
          action: query.action,
          actor: query.actor,
          ...(oldestFirst ? { afterSeq: query.after } : { beforeSeq: query.before ?? (head?.seq ?? 0) + 1 }),
        });
        const last = items.at(-1);
        const more = items.length === limit && last !== undefined && (oldestFirst || last.seq > 1);
        return c.json({ items: items.map(auditView), next: more ? last.seq : null });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/audit/verify',
      summary: 'Verify the whole hash chain; reports the first broken entry',
      tag: 'audit',
      access: 'audit.read',
      response: {
        type: 'object',
        required: ['ok', 'count'],
        properties: {
          ok: { type: 'boolean' },
          count: { type: 'integer' },
          headHash: { type: 'string' },
          brokenSeq: { type: 'integer' },
          reason: { type: 'string' },
        },
      },
      handler: ({ c }) => c.json(verifyAudit(deps.store.db)),
    }),
  ];
}
