/**
 * The server's replication role (`vigocli server status | promote | rejoin`), admin only:
 *   GET  /api/v1/server/replication  role, epoch, peers, each standby's lag or the primary followed
 *   POST /api/v1/server/promote      a standby becomes primary at a new epoch (audited by the new primary)
 *   POST /api/v1/server/rejoin       a fenced former primary becomes a standby of the current primary
 */
import { VigoError, actorName } from '../../core/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

export interface ReplicationControl {
  status(): Record<string, unknown>;
  promote(actor: string): Promise<{ role: string; epoch: number }>;
  rejoin(actor: string): Promise<{ role: string; epoch: number }>;
}

/** A server with no peers: always primary, nothing to promote or re-join. */
export function standaloneControl(name: string, fingerprint: string): ReplicationControl {
  const noPeers = (): never => {
    throw new VigoError('replication.role_invalid', 'this server has no peers (peers: in server.yaml)');
  };
  return {
    status: () => ({
      name,
      role: 'primary',
      epoch: 0,
      fingerprint,
      standalone: true,
      peers: [],
      standbys: [],
    }),
    promote: noPeers,
    rejoin: noPeers,
  };
}

const anyObject: JsonSchema = { type: 'object' };

export function replicationRoutes(control: ReplicationControl): AnyRoute[] {
  const tag = 'replication';
  return [
    route({
      method: 'GET',
      path: '/api/v1/server/replication',
      summary: "This server's replication role and epoch, its peers, and each standby's lag (primary)",
      tag,
      access: 'admin',
      response: anyObject,
      handler: ({ c }) => c.json(control.status()),
    }),
    route({
      method: 'POST',
      path: '/api/v1/server/promote',
      summary: 'Make this standby the primary at a new epoch; a returning old primary is then fenced',
      tag,
      access: 'admin',
      errors: ['replication.role_invalid'],
      response: anyObject,
      handler: async ({ c, ctx }) => c.json(await control.promote(actorName(ctx.actor))),
    }),
    route({
      method: 'POST',
      path: '/api/v1/server/rejoin',
      summary:
        'Make this fenced former primary a standby of the current primary (its own changes are dropped)',
      tag,
      access: 'admin',
      errors: ['replication.role_invalid'],
      response: anyObject,
      handler: async ({ c, ctx }) => c.json(await control.rejoin(actorName(ctx.actor))),
    }),
  ];
}
