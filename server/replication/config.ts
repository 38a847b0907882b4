/**
 * The `peers:` list of server.yaml: the other servers of a primary/standby pair (or group), each
 * `{name, address, agent_address, fingerprint}`. Parsed once at load; every problem of every entry is
 * reported together. Kept free of runtime imports: vigocli reads the config registry too.
 */
import { isHostname, parseDialAddress } from '../config/values.ts';
import net from 'node:net';

export interface PeerConfig {
  /** How logs, status and redirects name the peer. */
  readonly name: string;
  /** host:port of the peer's replication listener (its replication.listen). */
  readonly address: { host: string; port: number };
  /** host:port agents dial for gRPC on that peer: what a redirect and the agents' server list carry. */
  readonly agentAddress: string;
  /** sha256:<hex> of the peer's certificate (replication/peer.crt; `vigocli server status` shows it). */
  readonly fingerprint: string;
}

export const fingerprintPattern = /^sha256:[0-9a-f]{64}$/;
export const peerNamePattern = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const maxPeers = 8;
const knownKeys = new Set(['name', 'address', 'agent_address', 'fingerprint']);

function hostPort(text: unknown): { host: string; port: number } | undefined {
  if (typeof text !== 'string') return undefined;
  const parsed = parseDialAddress(text);
  if (parsed === undefined || parsed.port === undefined) return undefined;
  if (!isHostname(parsed.host) && net.isIP(parsed.host) === 0) return undefined;
  return { host: parsed.host, port: parsed.port };
}

export function parsePeers(raw: unknown): { value: readonly PeerConfig[]; problems: string[] } {
  const problems: string[] = [];
  if (raw === null || raw === undefined) return { value: [], problems };
  if (!Array.isArray(raw)) return { value: [], problems: ['must be a list of peers'] };
  if (raw.length > maxPeers) problems.push(`at most ${maxPeers} peers`);
  const peers: PeerConfig[] = [];
  raw.slice(0, maxPeers).forEach((item: unknown, i) => {
    const where = `[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`${where}: must be a mapping with name, address, agent_address and fingerprint`);
      return;
    }
    const entry = item as Record<string, unknown>;
    for (const key of Object.keys(entry))
      if (!knownKeys.has(key))
        problems.push(`${where}.${key}: unknown key (known: ${[...knownKeys].join(', ')})`);
    const name = entry['name'];
    if (typeof name !== 'string' || !peerNamePattern.test(name))
      problems.push(`${where}.name: must match ${peerNamePattern.source}`);
    const address = hostPort(entry['address']);
    if (address === undefined)
      problems.push(`${where}.address: must be "host:port" of the peer's replication.listen`);
    const agentAddress = entry['agent_address'];
    if (hostPort(agentAddress) === undefined)
      problems.push(`${where}.agent_address: must be "host:port" agents dial for gRPC on that peer`);
    const fingerprint = entry['fingerprint'];
    if (typeof fingerprint !== 'string' || !fingerprintPattern.test(fingerprint))
      problems.push(`${where}.fingerprint: must be "sha256:" and 64 lower-case hex digits`);
    if (problems.length === 0 && address !== undefined)
      peers.push({
        name: name as string,
        address,
        agentAddress: agentAddress as string,
        fingerprint: fingerprint as string,
      });
  });
  const names = new Set<string>();
  for (const peer of peers) {
    if (names.has(peer.name)) problems.push(`peer name ${peer.name} appears twice`);
    names.add(peer.name);
  }
  return { value: problems.length === 0 ? peers : [], problems };
}
