/**
 * The serving server's side of replication: its routes' control, the node that ships to standbys when
 * it is a primary, and the list of servers every check-in reply carries (where agents fail over to).
 */
import type { ServerConfig } from '../config/index.ts';
import { agentDialAddress } from '../enroll/index.ts';
import type { ReplicationControl } from '../http/routes/replication.ts';
import type { ReplicationNode } from '../replication/index.ts';

export interface ServerReplication {
  readonly control: ReplicationControl;
  readonly node?: ReplicationNode;
}

/** Starts shipping to the standbys, if any; the returned function stops it. */
export async function startShipping(node: ReplicationNode | undefined): Promise<() => void> {
  if (node === undefined) return () => undefined;
  await node.listen();
  node.startShipping();
  return () => void node.stop();
}

/** With standby peers: this server's agent address, then each peer's. Without: none (no failover list). */
export function agentServerList(
  config: ServerConfig,
  node: ReplicationNode | undefined,
  grpcPort: number,
): readonly string[] {
  if (node === undefined) return [];
  const self = agentDialAddress({
    advertised: config['server.grpc_advertise'],
    requestHost: undefined,
    fallbackHost: config['server.hostname'],
    grpcPort,
  });
  return [self, ...config.peers.map((peer) => peer.agentAddress)];
}
