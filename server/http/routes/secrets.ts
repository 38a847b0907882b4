/**
 * REST routes of the local secrets vault (the admin permission). Values go in
 * and never come out: there is no route that returns one. Every change is audited without its value.
 *   GET    /api/v1/secrets              paths, versions and the secrets epoch
 *   POST   /api/v1/secrets              set a value {path, value}
 *   DELETE /api/v1/secrets/{path+}      remove one
 *   POST   /api/v1/secrets/rotate-key   re-encrypt everything under a new master key
 */
import { appendAudit, assertAuditWritable } from '../../audit/index.ts';
import { actorName } from '../../core/index.ts';
import type { Vault } from '../../secrets/index.ts';
import { maxSecretPathLength, maxSecretValueBytes } from '../../secrets/index.ts';
import type { Store } from '../../store/index.ts';
import type { AnyRoute } from '../route-table.ts';
import { route } from '../route-table.ts';

export interface SecretRoutesDeps {
  readonly vault: Vault;
  readonly store: Store;
}

const setBody = {
  path: { type: 'string', maxLength: maxSecretPathLength },
  // Characters, not bytes: the vault enforces the byte limit with its own error code.
  value: { type: 'string', maxLength: maxSecretValueBytes },
} as const;

const epochSchema = {
  type: 'object',
  required: ['epoch'],
  properties: { epoch: { type: 'integer' } },
} as const;

export function secretRoutes(deps: SecretRoutesDeps): AnyRoute[] {
  const tag = 'secrets';
  return [
    route({
      method: 'GET',
      path: '/api/v1/secrets',
      summary: 'Secret paths, versions and the secrets epoch (never values)',
      tag,
      access: 'admin',
      response: { ...epochSchema, required: ['epoch', 'items'] },
      handler: ({ c }) =>
        c.json({
          epoch: deps.vault.epoch,
          items: deps.vault.list().map((s) => ({
            path: s.path,
            version: s.version,
            updatedAt: new Date(s.updatedAtMs).toISOString(),
          })),
        }),
    }),
    route<typeof setBody>({
      method: 'POST',
      path: '/api/v1/secrets',
      summary: 'Set a secret value',
      tag,
      access: 'admin',
      errors: [
        'secrets.path_invalid',
        'secrets.value_invalid',
        'secrets.value_too_large',
        'secrets.vault_corrupt',
      ],
      body: setBody,
      success: [200, 201],
      response: { type: 'object', required: ['path', 'version', 'created', 'epoch'] },
      handler: ({ c, ctx, body }) => {
        const result = deps.store.tx((db) => {
          // The vault file changes outside this transaction: refuse before it does if the change cannot be audited.
          assertAuditWritable(db, 'secrets.set');
          const set = deps.vault.set(body.path, body.value);
          appendAudit(db, {
            actor: actorName(ctx.actor),
            action: set.created ? 'secrets.created' : 'secrets.updated',
            target: `secret:${set.path}`,
            details: { version: set.version, epoch: set.epoch },
          });
          return set;
        });
        return c.json(
          {
            path: result.path,
            version: result.version,
            created: result.created,
            epoch: result.epoch,
            updatedAt: new Date(result.updatedAtMs).toISOString(),
          },
          result.created ? 201 : 200,
        );
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/secrets/rotate-key',
      summary: 'Re-encrypt every secret under a new master key',
      tag,
      access: 'admin',
      errors: ['secrets.vault_corrupt'],
      response: epochSchema,
      handler: ({ c, ctx }) => {
        const rotation = deps.store.tx((db) => {
          assertAuditWritable(db, 'secrets.master_key_rotated');
          const r = deps.vault.rotateMasterKey();
          appendAudit(db, {
            actor: actorName(ctx.actor),
            action: 'secrets.master_key_rotated',
            target: 'secrets',
            details: { keyId: r.keyId, previousKeyId: r.previousKeyId, secrets: r.secrets, epoch: r.epoch },
          });
          return r;
        });
        return c.json(rotation);
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/secrets/{path+}',
      summary: 'Delete a secret',
      tag,
      access: 'admin',
      errors: ['secrets.path_invalid', 'secrets.not_found'],
      response: epochSchema,
      handler: ({ c, ctx, param }) => {
        const deleted = deps.store.tx((db) => {
          assertAuditWritable(db, 'secrets.deleted');
          const d = deps.vault.delete(param('path'));
          appendAudit(db, {
            actor: actorName(ctx.actor),
            action: 'secrets.deleted',
            target: `secret:${d.path}`,
            details: { version: d.version, epoch: d.epoch },
          });
          return d;
        });
        return c.json(deleted);
      },
    }),
  ];
}
