/**
 * The servers an agent may check in with (agent.proto, "Standby servers"): learnt from each CheckIn reply,
 * kept in `<state>/servers.json` so a restarted agent still knows where to fail over, and how an RPC error
 * says to move on: a standby's redirect (FAILED_PRECONDITION replication.not_primary, with `vigo-primary`
 * naming the primary) or a server that cannot be reached.
 */
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import path from 'node:path';

export const maxServers = 16;
const addressPattern = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253}):\d{1,5}$/;

export function serversFile(stateRoot: string): string {
  return path.join(stateRoot, 'servers.json');
}

/** Only well-formed host:port entries, deduplicated, at most maxServers. */
export function cleanServerList(list: readonly string[]): string[] {
  return [...new Set(list.filter((a) => a.length <= 260 && addressPattern.test(a)))].slice(0, maxServers);
}

export function readServers(stateRoot: string): string[] {
  try {
    const raw: unknown = JSON.parse(fs.readFileSync(serversFile(stateRoot), 'utf8'));
    return Array.isArray(raw) ? cleanServerList(raw.filter((a): a is string => typeof a === 'string')) : [];
  } catch {
    return [];
  }
}

export function writeServers(stateRoot: string, list: readonly string[]): void {
  const file = serversFile(stateRoot);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(list)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export type Failover =
  { readonly kind: 'redirect'; readonly primary: string } | { readonly kind: 'unreachable' };

/** Whether an RPC error means "try another server", and which. */
export function failoverFor(err: unknown): Failover | undefined {
  const e = err as Partial<grpc.ServiceError> | undefined;
  if (e === undefined || typeof e.code !== 'number') return undefined;
  if (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED)
    return { kind: 'unreachable' };
  if (e.code === grpc.status.FAILED_PRECONDITION && (e.details ?? '').startsWith('replication.not_primary')) {
    const named = e.metadata?.get('vigo-primary')[0];
    const primary = typeof named === 'string' ? (cleanServerList([named])[0] ?? '') : '';
    return { kind: 'redirect', primary };
  }
  return undefined;
}
