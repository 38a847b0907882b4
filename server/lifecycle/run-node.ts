/**
 * Chooses what this vigosrv runs from its replication role: the full server (alone, or as the primary of
 * its peers) or the standby runtime (standby, fenced). A role change — a promotion, a fence, a re-join —
 * drains what runs and starts what the new role runs, in the same process and on the same ports.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { LoadedConfig } from '../config/index.ts';
import { resolvePaths } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import { ensurePrivateDir, VigoError } from '../core/index.ts';
import type { ReplicationControl } from '../http/routes/replication.ts';
import { standaloneControl } from '../http/routes/replication.ts';
import { ReplicationNode, initialState, loadOrCreatePeerIdentity } from '../replication/index.ts';
import { DataDirLockedError, acquireDataDirLock } from './data-dir-lock.ts';
import type { ConfigView, RunningServer } from './start.ts';
import { startServer } from './start.ts';
import type { RoleChange } from './standby-runtime.ts';
import { clearPromotionNote, promotionNoteFile, startStandby } from './standby-runtime.ts';
import { StartupError } from './startup-error.ts';

export interface RunningNode {
  /** The full server, when this role runs it (alone or primary). */
  readonly server: RunningServer | undefined;
  readonly role: 'primary' | 'standby' | 'fenced';
  readonly apiPort: number;
  readonly grpcPort: number;
  readonly caFile: string;
  /** Settles when the role changes; what runs is then drained and the new role started. */
  readonly roleChange: Promise<RoleChange>;
  drain(reason: string): Promise<void>;
  abort(): void;
}

/** How long a starting primary waits for its peers' epochs before it serves (a fenced one must not). */
const startProbeTimeoutMs = 5_000;

function primaryControl(node: ReplicationNode): ReplicationControl {
  return {
    status: () => ({ ...node.status() }),
    promote: () => {
      throw new VigoError('replication.role_invalid', 'this server is already the primary');
    },
    rejoin: () => {
      throw new VigoError(
        'replication.role_invalid',
        'this server is the primary: only a fenced server re-joins',
      );
    },
  };
}

export async function startNode(loaded: LoadedConfig, log: Logger, view: ConfigView): Promise<RunningNode> {
  const config = loaded.config;
  let signal: (to: RoleChange) => void = () => undefined;
  const roleChange = new Promise<RoleChange>((resolve) => (signal = resolve));
  const paths = resolvePaths(config);
  ensurePrivateDir(paths.dataDir);
  const name = config['replication.name'];
  // Made on every start, so a server can show its fingerprint (server status) before it has peers.
  const identity = await loadOrCreatePeerIdentity(paths.dataDir, name);
  if (config.peers.length === 0) {
    const control = standaloneControl(name, identity.fingerprint);
    const server = await startServer(loaded, log, view, { control });
    return asPrimary(server, roleChange);
  }
  const node = new ReplicationNode(
    {
      dataDir: paths.dataDir,
      name,
      listen: config['replication.listen'],
      peers: config.peers,
      intervalMs: config['replication.interval'],
      timeoutMs: config['replication.timeout'],
      dirs: { tls: paths.tlsDir, secrets: paths.secretsDir, stacks: paths.stacksDir },
      dbFile: paths.dbFile,
      busyTimeoutMs: config['database.busy_timeout'],
      identity,
      log: log.child({ component: 'replication' }),
    },
    initialState(paths.dataDir, config['replication.role']),
  );
  log.info('replication identity', {
    name,
    fingerprint: identity.fingerprint,
    role: node.state.role,
    epoch: node.state.epoch,
  });
  if (node.state.role === 'primary')
    await node.probePeers(Math.min(startProbeTimeoutMs, config['replication.timeout']));
  if (node.state.role === 'primary') {
    node.onFenced = () => signal('fenced');
    const server = await startServer(loaded, log, view, { control: primaryControl(node), node });
    if (existsSync(promotionNoteFile(paths.dataDir))) {
      const note = JSON.parse(readFileSync(promotionNoteFile(paths.dataDir), 'utf8')) as Record<
        string,
        unknown
      >;
      server.audit.appendSystem({ action: 'server.promoted', target: name, details: note });
      clearPromotionNote(paths.dataDir);
    }
    return asPrimary(server, roleChange);
  }
  let lock;
  try {
    lock = acquireDataDirLock(paths.lockFile);
  } catch (err) {
    if (err instanceof DataDirLockedError)
      throw new StartupError('dataDirLocked', err.message, { cause: err });
    throw err;
  }
  const standby = await startStandby({
    loaded,
    paths,
    node,
    log,
    change: (to) => signal(to),
    releaseLock: () => lock.release(),
  }).catch((err: unknown) => {
    lock.release();
    throw err;
  });
  return {
    server: undefined,
    role: node.state.role,
    apiPort: standby.apiPort,
    grpcPort: standby.grpcPort,
    caFile: standby.caFile,
    roleChange,
    drain: (reason) => standby.drain(reason),
    abort: () => standby.abort(),
  };
}

/** A serving primary (or a server without peers), as the node that runs it. */
function asPrimary(server: RunningServer, roleChange: Promise<RoleChange>): RunningNode {
  return {
    server,
    role: 'primary',
    apiPort: server.apiPort,
    grpcPort: server.grpcPort,
    caFile: server.pki.caFile,
    roleChange,
    ...drains(server),
  };
}

function drains(server: RunningServer): Pick<RunningNode, 'drain' | 'abort'> {
  return { drain: (reason) => server.drain(reason), abort: () => server.abort() };
}
