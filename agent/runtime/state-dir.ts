/**
 * The agent's state directory (default /var/lib/vigo): its identity from enrollment, the last verified
 * bundle, the durable results queue, file snapshots, the traits cache and pushed tasks' results. Everything in it is private
 * (0700 dirs, 0600 files) and written atomically, so a crash never leaves a half-written file behind.
 */
import { createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const defaultStateDir = '/var/lib/vigo';

export interface AgentIdentity {
  envoyId: string;
  hostname: string;
  /** host:port of the server's gRPC listener. */
  grpcAddress: string;
  /** https://host:port of the server's API, for re-enrollment and status. */
  apiUrl: string;
  /** base64 of the server's raw ed25519 bundle-signing key, pinned at enrollment. */
  bundlePublicKey: string;
  enrolledAtMs: number;
}

export interface StatePaths {
  root: string;
  identityFile: string;
  signingKeyFile: string;
  tlsKeyFile: string;
  tlsCertFile: string;
  caFile: string;
  bundleFile: string;
  queueDir: string;
  snapshotDir: string;
  traitsCacheFile: string;
  statusFile: string;
  executorsDir: string;
  /** Results of pushed tasks, by task_id (tasks/result-store.ts). */
  tasksDir: string;
}

export function statePaths(root: string): StatePaths {
  const abs = path.resolve(root);
  return {
    root: abs,
    identityFile: path.join(abs, 'identity.json'),
    signingKeyFile: path.join(abs, 'keys', 'signing.key'),
    tlsKeyFile: path.join(abs, 'keys', 'tls.key'),
    tlsCertFile: path.join(abs, 'keys', 'tls.crt'),
    caFile: path.join(abs, 'keys', 'ca.crt'),
    bundleFile: path.join(abs, 'bundle.json'),
    queueDir: path.join(abs, 'queue'),
    snapshotDir: path.join(abs, 'snapshots'),
    traitsCacheFile: path.join(abs, 'traits-cache.json'),
    statusFile: path.join(abs, 'status.json'),
    executorsDir: path.join(abs, 'executors'),
    tasksDir: path.join(abs, 'tasks'),
  };
}

export function ensureDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Temp file in the same directory, fsync, rename, fsync the directory. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  ensureDir(path.dirname(file));
  const temp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(temp, 'w', 0o600);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

export class NotEnrolledError extends Error {
  constructor(root: string) {
    super(
      `this host is not enrolled (no ${path.join(root, 'identity.json')}); run "vigo enroll --server https://HOST:8443 --token TOKEN --ca CA_FILE" first`,
    );
    this.name = 'NotEnrolledError';
  }
}

export interface LoadedIdentity {
  identity: AgentIdentity;
  signingKey: KeyObject;
  tlsKeyPem: string;
  tlsCertPem: string;
  caPem: string;
}

export function loadIdentity(paths: StatePaths): LoadedIdentity {
  if (!fs.existsSync(paths.identityFile)) throw new NotEnrolledError(paths.root);
  const identity = JSON.parse(fs.readFileSync(paths.identityFile, 'utf8')) as AgentIdentity;
  return {
    identity,
    signingKey: createPrivateKey(fs.readFileSync(paths.signingKeyFile, 'utf8')),
    tlsKeyPem: fs.readFileSync(paths.tlsKeyFile, 'utf8'),
    tlsCertPem: fs.readFileSync(paths.tlsCertFile, 'utf8'),
    caPem: fs.readFileSync(paths.caFile, 'utf8'),
  };
}

export interface LastRunStatus {
  runId: string;
  policyVersion: number;
  startedAtMs: number;
  finishedAtMs: number;
  dryRun: boolean;
  counts: Record<string, number>;
  /** Where the bundle came from: the server this run, or the on-disk cache when the server was unreachable. */
  bundleSource: 'server' | 'cache';
  /** Set when the run did not apply anything (no bundle, expired bundle). */
  blockedReason: string | null;
}

export function readStatus(paths: StatePaths): LastRunStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(paths.statusFile, 'utf8')) as LastRunStatus;
  } catch {
    return undefined;
  }
}

export function writeStatus(paths: StatePaths, status: LastRunStatus): void {
  writeFileAtomic(paths.statusFile, `${JSON.stringify(status, null, 2)}\n`);
}
