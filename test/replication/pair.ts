/**
 * A primary/standby pair of real vigosrv processes on fixed loopback ports, each with its peer identity
 * made up front so each config can pin the other's fingerprint.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreatePeerIdentity } from '../../server/replication/index.ts';
import { waitFor } from '../helpers/deadline.ts';
import { httpsRequest } from '../helpers/https-client.ts';
import type { HttpsResponse } from '../helpers/https-client.ts';
import { freeLoopbackPort, makeTempDir, spawnServer } from '../helpers/server-process.ts';
import type { ServerProcess } from '../helpers/server-process.ts';

export interface PeerSetup {
  readonly name: string;
  readonly dataDir: string;
  readonly grpcPort: number;
  readonly apiPort: number;
  readonly replicationPort: number;
  readonly fingerprint: string;
  readonly configFile: string;
}

export interface Pair {
  readonly a: PeerSetup;
  readonly b: PeerSetup;
  remove(): void;
}

async function setup(name: string, root: string): Promise<Omit<PeerSetup, 'configFile'>> {
  const dataDir = join(root, name);
  const identity = await loadOrCreatePeerIdentity(dataDir, name);
  return {
    name,
    dataDir,
    grpcPort: await freeLoopbackPort(),
    apiPort: await freeLoopbackPort(),
    replicationPort: await freeLoopbackPort(),
    fingerprint: identity.fingerprint,
  };
}

function peerEntry(peer: Omit<PeerSetup, 'configFile'>): string {
  return [
    `  - name: ${peer.name}`,
    `    address: "127.0.0.1:${peer.replicationPort}"`,
    `    agent_address: "127.0.0.1:${peer.grpcPort}"`,
    `    fingerprint: "${peer.fingerprint}"`,
  ].join('\n');
}

export async function makePair(intervalMs = 200, extra: readonly string[] = []): Promise<Pair> {
  const root = makeTempDir('vigo-repl-');
  const a0 = await setup('a', root.path);
  const b0 = await setup('b', root.path);
  const write = (self: typeof a0, other: typeof a0, role: string): PeerSetup => {
    const configFile = join(root.path, `${self.name}.yaml`);
    writeFileSync(
      configFile,
      [
        'server:',
        '  hostname: localhost',
        '  tls_sans: ["127.0.0.1"]',
        `  grpc_advertise: "127.0.0.1:${self.grpcPort}"`,
        ...extra,
        'replication:',
        `  role: ${role}`,
        `  name: ${self.name}`,
        `  listen: "127.0.0.1:${self.replicationPort}"`,
        `  interval: ${intervalMs}ms`,
        '  timeout: 10s',
        'peers:',
        peerEntry(other),
        '',
      ].join('\n'),
    );
    return { ...self, configFile };
  };
  return { a: write(a0, b0, 'primary'), b: write(b0, a0, 'standby'), remove: () => root.remove() };
}

export function spawnPeer(peer: PeerSetup): ServerProcess {
  return spawnServer({
    dataDir: peer.dataDir,
    grpcListen: `127.0.0.1:${peer.grpcPort}`,
    apiListen: `127.0.0.1:${peer.apiPort}`,
    args: ['--config', peer.configFile],
  });
}

/** The n-th "ready" line (role changes log another), and the CA it names. */
export async function readyAs(proc: ServerProcess, role: string, nth = 1): Promise<{ ca: string }> {
  const line = await proc.waitForLog(
    `ready #${nth} as ${role}`,
    (candidate) => {
      const found = proc.logs.filter((l) => l.msg === 'ready')[nth - 1];
      return candidate === found && found['role'] === role;
    },
    60_000,
  );
  return { ca: readFileSync(line['caFile'] as string, 'utf8') };
}

/** An API call as the peer's local admin (the token it minted at its latest start). */
export function adminCall(
  peer: PeerSetup,
  ca: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<HttpsResponse> {
  const token = readFileSync(join(peer.dataDir, 'local-admin.token'), 'utf8').trim();
  return httpsRequest(`https://127.0.0.1:${peer.apiPort}${path}`, {
    ca,
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function replicationStatus(peer: PeerSetup, ca: string): Promise<Record<string, unknown>> {
  const res = await adminCall(peer, ca, 'GET', '/api/v1/server/replication');
  if (res.status !== 200) throw new Error(`status ${res.status}: ${res.body}`);
  return JSON.parse(res.body) as Record<string, unknown>;
}

export { waitFor };
