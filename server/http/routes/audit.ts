/**
 * The audit hash chain (audit.read; Vigo keeps the compliance role out of it):
 *   GET  /api/v1/audit             entries, newest first by default (before=SEQ) or oldest first (after=SEQ)
 *   GET  /api/v1/audit/verify      walk the whole chain and report the first break
 *   POST /api/v1/audit/verify      the same, and check that the chain still holds checkpoint anchors
 *   GET  /api/v1/audit/checkpoint  a signed checkpoint of the current head
 *   POST /api/v1/audit/reanchor    (admin) record a broken head and continue the chain after it
 */
import type { KeyObject } from 'node:crypto';
import type { AuditHead, AuditMonitor, AuditRecord, AuditVerification } from '../../audit/index.ts';
import {
  auditHead,
  checkpointKeyId,
  createAuditCheckpoint,
  listAudit,
  maxAuditListLimit,
  maxReanchorReasonLength,
  reanchorAudit,
  verifyAudit,
} from '../../audit/index.ts';
import { VigoError, actorName } from '../../core/index.ts';
import type { Store } from '../../store/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

export interface AuditRoutesDeps {
  readonly store: Store;
  readonly monitor: AuditMonitor;
  /** The ed25519 key checkpoints are signed with (the bundle-signing key, under its own signature domain). */
  readonly checkpointKey: KeyObject;
  readonly checkpointPublicKeyRaw: Buffer;
}

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

/** Anchors per verify request: a year of hourly checkpoints fits in two requests, and the body stays small. */
export const maxAuditAnchors = 5000;
const anchorPattern = /^(\d{1,16}):([0-9a-f]{64})$/;

const verifyBody = {
  anchors: { type: 'string-array', maxItems: maxAuditAnchors, maxItemLength: 90 },
} as const;
const reanchorBody = { reason: { type: 'string', maxLength: maxReanchorReasonLength } } as const;

function parseAnchors(items: readonly string[]): AuditHead[] {
  return items.map((item, index) => {
    const match = anchorPattern.exec(item);
    const seq = Number(match?.[1]);
    if (!match?.[2] || !Number.isSafeInteger(seq)) {
      throw new VigoError(
        'request.invalid',
        `anchors[${index}] must be "SEQ:HASH" (a checkpoint's seq and its 64-hex head hash), got ${JSON.stringify(item.slice(0, 90))}`,
        { field: 'anchors' },
      );
    }
    return { seq, hash: match[2] };
  });
}

const verificationSchema: JsonSchema = {
  type: 'object',
  required: ['ok', 'count', 'checkpointKey'],
  properties: {
    ok: { type: 'boolean' },
    count: { type: 'integer', description: 'entries that verified' },
    headHash: { type: 'string' },
    brokenSeq: { type: 'integer' },
    reason: { type: 'string' },
    anchorsChecked: { type: 'integer' },
    reanchored: {
      type: 'array',
      description:
        'every re-anchoring the walk passed (at most 100): each records a break that was acknowledged',
      items: {
        type: 'object',
        required: ['seq', 'at', 'actor', 'reason', 'problem'],
        properties: {
          seq: { type: 'integer' },
          at: { type: 'string', format: 'date-time' },
          actor: { type: 'string' },
          reason: { type: 'string' },
          problem: { type: 'string' },
        },
      },
    },
    checkpointKey: {
      type: 'object',
      description: 'the key checkpoints are signed with: its id and raw ed25519 public key (base64)',
      required: ['keyId', 'publicKey'],
      properties: { keyId: { type: 'string' }, publicKey: { type: 'string' } },
    },
  },
};

const checkpointSchema: JsonSchema = {
  type: 'object',
  required: ['format', 'seq', 'headHash', 'at', 'keyId', 'signature'],
  properties: {
    format: { const: 'vigo-audit-checkpoint/1' },
    seq: { type: 'integer' },
    headHash: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
    keyId: { type: 'string' },
    signature: { type: 'string', description: 'base64 ed25519 signature, see docs/vigocli.md' },
  },
};

export function auditRoutes(deps: AuditRoutesDeps): AnyRoute[] {
  const key = {
    keyId: checkpointKeyId(deps.checkpointKey),
    publicKey: deps.checkpointPublicKeyRaw.toString('base64'),
  };
  const verificationView = (result: AuditVerification): Record<string, unknown> => ({
    ...result,
    ...(result.reanchored === undefined
      ? {}
      : { reanchored: result.reanchored.map((note) => ({ ...note, at: new Date(note.at).toISOString() })) }),
    checkpointKey: key,
  });
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
      response: verificationSchema,
      handler: ({ c }) => c.json(verificationView(verifyAudit(deps.store.db))),
    }),
    route<typeof verifyBody>({
      method: 'POST',
      path: '/api/v1/audit/verify',
      summary: 'Verify the whole hash chain and that it still holds each checkpoint anchor ("SEQ:HASH")',
      tag: 'audit',
      access: 'audit.read',
      body: verifyBody,
      response: verificationSchema,
      handler: ({ c, body }) =>
        c.json(verificationView(verifyAudit(deps.store.db, { anchors: parseAnchors(body.anchors) }))),
    }),
    route({
      method: 'GET',
      path: '/api/v1/audit/checkpoint',
      summary: 'A signed checkpoint of the chain head (412 audit.chain_broken while the head is damaged)',
      tag: 'audit',
      access: 'audit.read',
      errors: ['audit.chain_broken'],
      response: checkpointSchema,
      handler: ({ c }) => c.json(createAuditCheckpoint(deps.store.db, deps.checkpointKey)),
    }),
    route<typeof reanchorBody>({
      method: 'POST',
      path: '/api/v1/audit/reanchor',
      summary: 'Record a damaged chain head in the chain and continue it after the newest entry',
      tag: 'audit',
      access: 'admin',
      errors: ['audit.not_broken'],
      body: reanchorBody,
      response: entrySchema,
      handler: ({ c, ctx, body }) => {
        const record = deps.store.tx((db) =>
          reanchorAudit(db, { actor: actorName(ctx.actor), reason: body.reason }),
        );
        deps.monitor.reanchored(record);
        return c.json(auditView(record));
      },
    }),
  ];
}
