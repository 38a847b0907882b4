/**
 * vigosrv as a standby (following its primary) or fenced (a former primary that met a higher epoch). It
 * holds the data directory's lock and runs no part of the serving server: the database it follows is
 * replaced page by page and must not be written here. Once the fleet's TLS material has arrived it serves
 * HTTPS with the replication routes (status, promote, rejoin), /healthz and /readyz (503: not the primary),
 * answers every other API request with `replication.not_primary` naming the primary, and every agent RPC
 * with a redirect to the primary (redirect-port.ts).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig, ResolvedPaths } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import { VigoError, writePrivateFile } from '../core/index.ts';
import { createHttpApp } from '../http/app.ts';
import { mintLocalAdminCredential } from '../http/auth.ts';
import { startHttpsListener } from '../http/listener.ts';
import type { HttpsListener } from '../http/listener.ts';
import type { AnyRoute } from '../http/route-table.ts';
import { route } from '../http/route-table.ts';
import type { ReplicationControl } from '../http/routes/replication.ts';
import { replicationRoutes } from '../http/routes/replication.ts';
import { waitForFile } from '../replication/wait.ts';
import { startRedirectPort } from '../replication/redirect-port.ts';
import type { RedirectPort } from '../replication/redirect-port.ts';
import type { ReplicationNode } from '../replication/index.ts';
import { replicationDir } from '../replication/index.ts';
import { loadPkiOrFail, listenFailure } from './open-parts.ts';

/** `resumed`: a promotion that failed part-way; the standby starts following again. */
export type RoleChange = 'promoted' | 'fenced' | 'rejoined' | 'resumed';

export interface RunningStandby {
  readonly apiPort: number;
  readonly grpcPort: number;
  readonly caFile: string;
  drain(reason: string): Promise<void>;
  abort(): void;
}

/** Left by a promotion for the new primary to record in its audit log once it has started. */
export function promotionNoteFile(dataDir: string): string {
  return join(replicationDir(dataDir), 'promotion.json');
}

function standbyControl(
  node: ReplicationNode,
  paths: ResolvedPaths,
  log: Logger,
  change: (to: RoleChange) => void,
): ReplicationControl {
  let changing = false;
  return {
    status: () => ({ ...node.status() }),
    promote: async (actor) => {
      const state = node.state;
      if (state.role !== 'standby' || changing)
        throw new VigoError(
          'replication.role_invalid',
          `this server is ${state.role}: only a standby can be promoted`,
        );
      changing = true;
      await node.stop();
      let epoch: number;
      try {
        const image = node.replica.verified();
        if (image === undefined)
          throw new VigoError(
            'replication.role_invalid',
            'this standby holds no verified copy of the database yet: it cannot become primary',
          );
        node.replica.install(paths.dbFile);
        epoch = Math.max(state.epoch, image.epoch) + 1;
        writePrivateFile(
          promotionNoteFile(paths.dataDir),
          JSON.stringify({ actor, epoch, previousPrimary: state.primary, imageTakenAtMs: image.takenAtMs }),
        );
        node.setState({ role: 'primary', epoch, primary: '', reason: `promoted by ${actor}` });
        log.warn('promoted to primary', {
          actor,
          epoch,
          previousPrimary: state.primary,
          imageTakenAtMs: image.takenAtMs,
        });
      } catch (err) {
        // The link to the primary was closed for the promotion: the standby starts again and follows.
        change('resumed');
        throw err;
      }
      change('promoted');
      return { role: 'primary', epoch };
    },
    rejoin: async (actor) => {
      const state = node.state;
      if (state.role !== 'fenced' || changing)
        throw new VigoError(
          'replication.role_invalid',
          `this server is ${state.role}: only a fenced server re-joins`,
        );
      changing = true;
      node.setState({
        role: 'standby',
        epoch: state.epoch,
        primary: state.primary,
        reason: `re-joined by ${actor}`,
      });
      log.warn('re-joined as standby', { actor, epoch: state.epoch, primary: state.primary });
      change('rejoined');
      return { role: 'standby', epoch: state.epoch };
    },
  };
}

function notPrimary(node: ReplicationNode): VigoError {
  const status = node.status();
  const primary = status.peers.find((peer) => peer.name === status.primary);
  return new VigoError(
    'replication.not_primary',
    `this server is ${status.role}${status.primary === '' ? '' : `; the primary is ${status.primary}${primary === undefined ? '' : ` (agents: ${primary.agentAddress})`}`}: send writes and check-ins there`,
    { role: status.role, primary: status.primary, primaryAgentAddress: primary?.agentAddress ?? '' },
  );
}

export async function startStandby(input: {
  loaded: LoadedConfig;
  paths: ResolvedPaths;
  node: ReplicationNode;
  log: Logger;
  change: (to: RoleChange) => void;
  releaseLock: () => void;
}): Promise<RunningStandby> {
  const { loaded, paths, node, log } = input;
  const config = loaded.config;
  await node.listen();
  if (node.state.role === 'standby') node.startFollowing();
  // The API presents the fleet's certificate: wait until the primary has shipped it (a fenced server has it).
  const caFile = join(paths.tlsDir, 'ca.crt');
  await waitForFile(
    join(paths.tlsDir, 'server.key'),
    () => node.state.role !== 'standby' && !existsSync(caFile),
  );
  const pki = await loadPkiOrFail(paths, loaded, log, 'this server is a standby of a primary that issued it');
  const localAdmin = mintLocalAdminCredential(paths.localAdminTokenFile);
  const routes: AnyRoute[] = [
    route({
      method: 'GET',
      path: '/healthz',
      summary: 'Liveness',
      tag: 'system',
      access: 'public',
      handler: ({ c }) => c.json({ status: 'ok', role: node.state.role }),
    }),
    route({
      method: 'GET',
      path: '/readyz',
      summary: 'Readiness: a standby does not take traffic',
      tag: 'system',
      access: 'public',
      handler: ({ c }) => c.json({ status: node.state.role, primary: node.state.primary }, 503),
    }),
    ...replicationRoutes(standbyControl(node, paths, log, input.change)),
  ];
  const app = createHttpApp({
    log,
    maxBodyBytes: config['http.max_body_bytes'],
    auth: { localAdmin },
    routes,
  });
  app.all('/api/*', () => {
    throw notPrimary(node);
  });
  const grpcListen = config['server.grpc_listen'];
  let redirect: RedirectPort;
  try {
    redirect = await startRedirectPort({
      host: grpcListen.host,
      port: grpcListen.port,
      caPem: pki.caCertPem,
      keyPem: pki.serverKeyPem,
      certPem: pki.serverCertPem,
      primary: () => node.status().peers.find((peer) => peer.name === node.state.primary)?.agentAddress ?? '',
    });
  } catch (err) {
    await node.stop();
    throw listenFailure('agents (gRPC)', `${grpcListen.host}:${grpcListen.port}`, err);
  }
  let https: HttpsListener;
  const api = config['server.api_listen'];
  try {
    https = await startHttpsListener({
      host: api.host,
      port: api.port,
      keyPem: pki.serverKeyPem,
      certPem: pki.serverCertPem,
      fetch: app.fetch,
    });
  } catch (err) {
    await Promise.all([node.stop(), redirect.close()]);
    throw listenFailure('the API (HTTPS)', `${api.host}:${api.port}`, err);
  }
  let drained: Promise<void> | undefined;
  return {
    apiPort: https.port,
    grpcPort: redirect.port,
    caFile: pki.caFile,
    drain: (reason) =>
      (drained ??= (async () => {
        await Promise.all([https.close(), redirect.close(), node.stop()]);
        input.releaseLock();
        log.info('stopped', { reason, role: node.state.role });
      })()),
    abort: () => https.destroy(),
  };
}

/** Removes the promotion note once the new primary has recorded it. */
export function clearPromotionNote(dataDir: string): void {
  rmSync(promotionNoteFile(dataDir), { force: true });
}
