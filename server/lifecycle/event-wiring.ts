/**
 * Where domain changes become events on the bus. The use cases stay unaware of the bus: each service is
 * wrapped so that an event is published after its change has committed, never for one that failed.
 */
import { actorName } from '../core/index.ts';
import type { Ctx } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import type { IdentityService } from '../identity/index.ts';
import type { PublishService } from '../publish/index.ts';

function by(ctx: Ctx): string {
  return actorName(ctx.actor);
}

export function publishWithEvents(inner: PublishService, bus: EventBus): PublishService {
  return {
    ...inner,
    async publish(ctx, source, options) {
      const result = await inner.publish(ctx, source, options);
      if (result.outcome === 'activated' || result.outcome === 'pending') {
        bus.publish(
          result.outcome === 'activated' ? 'config.published' : 'config.pending',
          { version: result.version, snapshotHash: result.snapshotHash, by: by(ctx) },
          `config:${result.version}`,
        );
      }
      return result;
    },
    async approve(ctx, version) {
      const result = await inner.approve(ctx, version);
      bus.publish('config.approved', { version: result.version, by: by(ctx) }, `config:${result.version}`);
      bus.publish('config.published', { version: result.version, by: by(ctx) }, `config:${result.version}`);
      return result;
    },
    reject(ctx, version, reason) {
      const result = inner.reject(ctx, version, reason);
      bus.publish('config.rejected', { version: result.version, by: by(ctx), reason }, `config:${version}`);
      return result;
    },
    async rollback(ctx, toVersion, message, automatic) {
      const result = await inner.rollback(ctx, toVersion, message, automatic);
      bus.publish(
        'config.rolled_back',
        { version: result.version, restored: result.restored, by: by(ctx) },
        `config:${result.version}`,
      );
      return result;
    },
    freeze(ctx, untilMs, reason) {
      const state = inner.freeze(ctx, untilMs, reason);
      bus.publish('config.frozen', { until: new Date(state.untilMs).toISOString(), reason, by: by(ctx) });
      return state;
    },
    unfreeze(ctx) {
      const result = inner.unfreeze(ctx);
      if (result.wasFrozen) bus.publish('config.unfrozen', { by: by(ctx) });
      return result;
    },
  };
}

export function identityWithEvents(inner: IdentityService, bus: EventBus): IdentityService {
  return {
    ...inner,
    async createUser(ctx, input) {
      const user = await inner.createUser(ctx, input);
      bus.publish(
        'user.created',
        { userId: user.id, username: user.username, role: user.role, by: by(ctx) },
        user.id,
      );
      return user;
    },
    async claimAdminBootstrap(input) {
      const user = await inner.claimAdminBootstrap(input);
      bus.publish('user.created', {
        userId: user.id,
        username: user.username,
        role: user.role,
        by: 'admin-bootstrap',
      });
      return user;
    },
    async updateUser(ctx, id, patch) {
      const user = await inner.updateUser(ctx, id, patch);
      bus.publish(
        'user.updated',
        { userId: user.id, username: user.username, role: user.role, disabled: user.disabled, by: by(ctx) },
        user.id,
      );
      return user;
    },
    deleteUser(ctx, id) {
      const user = inner.deleteUser(ctx, id);
      bus.publish('user.deleted', { userId: user.id, username: user.username, by: by(ctx) }, user.id);
      return user;
    },
    createApiToken(ctx, input) {
      const token = inner.createApiToken(ctx, input);
      bus.publish('token.created', {
        tokenId: token.id,
        username: token.username,
        name: token.name,
        by: by(ctx),
      });
      return token;
    },
    revokeApiToken(ctx, id) {
      const token = inner.revokeApiToken(ctx, id);
      bus.publish('token.revoked', { tokenId: token.id, username: token.username, by: by(ctx) }, token.id);
      return token;
    },
  };
}
