/**
 * REST routes of the local secrets vault (admin only until roles and permissions arrive). Values go in
 * and never come out: there is no route that returns one. Every change is audited without its value.
 *   GET    /api/v1/secrets              paths, versions and the secrets epoch
 *   POST   /api/v1/secrets              set a value {path, value}
 *   DELETE /api/v1/secrets/:path        remove one
 *   POST   /api/v1/secrets/rotate-key   re-encrypt everything under a new master key
 */
import { Hono } from 'hono';
import { appendAudit } from '../../audit/index.ts';
import { actorName } from '../../core/index.ts';
import type { Vault } from '../../secrets/index.ts';
import { maxSecretPathLength, maxSecretValueBytes } from '../../secrets/index.ts';
import type { Store } from '../../store/index.ts';
import type { HttpEnv } from '../app.ts';
import type { AuthDeps, AuthEnv } from '../auth.ts';
import { authenticate, requestCtx, requireAdmin } from '../auth.ts';
import { readJsonBody } from '../json-body.ts';

export interface SecretRoutesDeps {
  readonly vault: Vault;
  readonly store: Store;
  readonly auth: AuthDeps;
}

const setBody = {
  path: { type: 'string', maxLength: maxSecretPathLength },
  // Characters, not bytes: the vault enforces the byte limit with its own error code.
  value: { type: 'string', maxLength: maxSecretValueBytes },
} as const;

export function secretRoutes(deps: SecretRoutesDeps): (app: Hono<HttpEnv>) => void {
  const routes = new Hono<AuthEnv>();
  routes.use(authenticate(deps.auth), requireAdmin);

  routes.get('/', (c) =>
    c.json({
      epoch: deps.vault.epoch,
      items: deps.vault.list().map((s) => ({
        path: s.path,
        version: s.version,
        updatedAt: new Date(s.updatedAtMs).toISOString(),
      })),
    }),
  );

  routes.post('/', async (c) => {
    const body = await readJsonBody(c, setBody);
    const ctx = requestCtx(c);
    const result = deps.store.tx((db) => {
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
  });

  routes.post('/rotate-key', (c) => {
    const ctx = requestCtx(c);
    const rotation = deps.store.tx((db) => {
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
  });

  routes.delete('/:path{.+}', (c) => {
    const ctx = requestCtx(c);
    const secretPath = c.req.param('path');
    const deleted = deps.store.tx((db) => {
      const d = deps.vault.delete(secretPath);
      appendAudit(db, {
        actor: actorName(ctx.actor),
        action: 'secrets.deleted',
        target: `secret:${d.path}`,
        details: { version: d.version, epoch: d.epoch },
      });
      return d;
    });
    return c.json(deleted);
  });

  return (app) => {
    app.route('/api/v1/secrets', routes);
  };
}
