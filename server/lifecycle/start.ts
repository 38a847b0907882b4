/**
 * Brings vigosrv up in a fixed order — lock, data-dir checks, store, PKI, listeners — and takes it down in
 * reverse with a drain. Each start-up failure carries its documented exit code; nothing is opened before the
 * config has been validated, nothing is touched before the data directory's lock is held, and no part of the
 * data directory is created anew while the others show an established server (data-dir-checks.ts).
 */
import type { AdminBootstrapNotice } from './admin-bootstrap-notice.ts';
import { publishAdminBootstrap } from './admin-bootstrap-notice.ts';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { LoadedConfig, ResolvedPaths } from '../config/index.ts';
import { resolvePaths } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import { ensurePrivateDir } from '../core/index.ts';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createCheckinMetrics } from '../checkin/index.ts';
import { FairQueue, agentDialAddress, createEnrollService, defaultBcryptQueue } from '../enroll/index.ts';
import { createFleetAdmin } from '../fleet/index.ts';
import type { FleetIndex } from '../fleet/index.ts';
import { createEventBus } from '../events/index.ts';
import { createIdentityService } from '../identity/index.ts';
import { createConnectionMetrics } from '../net/index.ts';
import { createHttpMetrics, createIntegrationMetrics, createPublishMetrics } from '../metrics/index.ts';
import { createIntegrations } from '../integrations/index.ts';
import { createMetricsRuntime } from './metrics-runtime.ts';
import { createFleetRuntime } from './fleet-runtime.ts';
import { createRunsReader } from '../runs/index.ts';
import { identityWithEvents, publishWithEvents } from './event-wiring.ts';
import { createBlastRadiusRuntime } from './blast-radius-runtime.ts';
import type { FleetFlusher } from '../fleet/index.ts';
import { startAgentPort } from './agent-port.ts';
import type { CheckinFronts } from '../checkin/front/index.ts';
import { createHttpApp } from '../http/app.ts';
import { mintLocalAdminCredential } from '../http/auth.ts';
import { startHttpsListener } from '../http/listener.ts';
import type { HttpsListener } from '../http/listener.ts';
import { Readiness } from '../http/readiness.ts';
import type { Pki } from '../pki/index.ts';
import type { Store } from '../store/index.ts';
import { startWalCheckpointer } from '../store/index.ts';
import { startHistoryPruner } from './history-pruner.ts';
import { createBackupRuntime } from './backup-runtime.ts';
import { DataDirLockedError, acquireDataDirLock } from './data-dir-lock.ts';
import type { DataDirLock } from './data-dir-lock.ts';
import { apiDialAddress, createBootstrapService } from '../bootstrap/index.ts';
import { createPolicyRuntime } from './policy-runtime.ts';
import { createOrchestration } from './orchestration-runtime.ts';
import { assembleRoutes } from './http-routes.ts';
import { httpBodySettings, httpsListenerSettings } from './transport-settings.ts';
import { StartupError } from './startup-error.ts';
import { listenFailure, loadPkiOrFail, openStoreOrFail, openVaultOrFail } from './open-parts.ts';
import { checkpointSettings, createAuditRuntime } from './audit-runtime.ts';
import { checkDatabaseFile, checkVaultPresence, pkiDependents } from './data-dir-checks.ts';
import { vaultFileName } from '../secrets/index.ts';
import type { AuditRuntime } from './audit-runtime.ts';
import { serverVersion } from './version.ts';
import { standaloneControl } from '../http/routes/replication.ts';
import { agentServerList, startShipping } from './replication-runtime.ts';
import type { ServerReplication } from './replication-runtime.ts';

export interface RunningServer {
  readonly paths: ResolvedPaths;
  readonly fleet: FleetIndex;
  readonly flusher: FleetFlusher;
  readonly grpcPort: number;
  readonly apiPort: number;
  readonly bootId: string;
  readonly store: Store;
  readonly pki: Pki;
  readonly readiness: Readiness;
  /** Replaces the agent port's session-ticket key now (it also rotates every 30 minutes). */
  rotateTicketKeys(): void;
  /** The check-in processes, when checkin.workers runs any. */
  readonly checkinWorkers: CheckinFronts | undefined;
  /** The audit chain's alarm and the server's own entries (start, stop, reloads). */
  readonly audit: AuditRuntime;
  /** The one-time secret that creates the first admin and the file holding it, while no admin exists. */
  readonly adminBootstrap: AdminBootstrapNotice | undefined;
  /** Graceful drain: stop accepting, finish in-flight work, flush, checkpoint, release the lock. */
  drain(reason: string): Promise<void>;
  /** Drops every connection at once (used when the drain budget runs out or a second signal arrives). */
  abort(): void;
}

/** Live view of the reloadable part of the config: SIGHUP swaps `current`, readers see it at once. */
export interface ConfigView {
  current: LoadedConfig['config'];
}

export async function startServer(
  loaded: LoadedConfig,
  log: Logger,
  view: ConfigView = { current: loaded.config },
  replication: ServerReplication = { control: standaloneControl('vigo', '') },
): Promise<RunningServer> {
  const config = loaded.config;
  const paths = resolvePaths(config);
  ensurePrivateDir(paths.dataDir);

  let lock: DataDirLock;
  try {
    lock = acquireDataDirLock(paths.lockFile);
  } catch (err) {
    if (err instanceof DataDirLockedError)
      throw new StartupError('dataDirLocked', err.message, { cause: err });
    throw err;
  }

  const cleanups: (() => void)[] = [() => lock.release()];
  const unwind = (): void => {
    for (const cleanup of cleanups.reverse()) cleanup();
  };

  try {
    checkDatabaseFile(paths, log);
    const store = openStoreOrFail(paths, loaded, log);
    cleanups.push(() => store.close());
    // Checkpoints run on their own thread, never inside a commit on the serving thread.
    const walCheckpointer = startWalCheckpointer(store, {
      log: log.child({ component: 'store' }),
      busyTimeoutMs: loaded.config['database.busy_timeout'],
    });
    cleanups.push(() => void walCheckpointer.stop());
    const pki = await loadPkiOrFail(paths, loaded, log, pkiDependents(store.db, paths.dbFile));
    cleanups.push(await startShipping(replication.node));
    let agentServers: readonly string[] = [];
    const bootId = randomUUID();
    const startedAtMs = Date.now();
    const readiness = new Readiness();
    const metricsRegistry = new Registry();
    // Process CPU, memory, GC and event-loop delay (nodejs_eventloop_lag_*: the longest stall between scrapes),
    // under their standard names so stock Node.js dashboards and alerts work unchanged.
    collectDefaultMetrics({ register: metricsRegistry, eventLoopMonitoringPrecision: 10 });
    const historyPruner = startHistoryPruner({
      store,
      view,
      log: log.child({ component: 'store' }),
      registry: metricsRegistry,
      busyTimeoutMs: loaded.config['database.busy_timeout'],
    });
    cleanups.push(() => void historyPruner.stop());
    const checkinMetrics = createCheckinMetrics(metricsRegistry);
    const publishMetrics = createPublishMetrics(metricsRegistry);
    const connectionMetrics = createConnectionMetrics(metricsRegistry);

    const bus = createEventBus({ retain: 10_000 });
    cleanups.push(() => bus.close());
    const checkpoints = checkpointSettings(config, paths, pki.bundleSigningKey, serverVersion);
    const audit = createAuditRuntime({ store, log, registry: metricsRegistry, bus, checkpoints });
    cleanups.push(() => audit.close());
    const backups = createBackupRuntime({
      paths,
      configFile: loaded.configFile,
      busyTimeoutMs: loaded.config['database.busy_timeout'],
      version: serverVersion,
      view,
      log: log.child({ component: 'backup' }),
      registry: metricsRegistry,
      audit,
    });
    cleanups.push(() => void backups.schedule.stop());
    const { fleet, flusher, results, resultsCapacity, onRunCommitted, compliance } = createFleetRuntime({
      store,
      log,
      view,
      config,
      bus,
      checkinMetrics,
    });
    checkVaultPresence(paths, store.db, vaultFileName);
    const vault = openVaultOrFail(paths, log);
    const integrations = createIntegrations({
      targets: config.integrations,
      store,
      bus,
      vault,
      log: log.child({ component: 'integrations' }),
      serverHostname: config['server.hostname'],
      metrics: (queueDepth) =>
        createIntegrationMetrics(
          metricsRegistry,
          config.integrations.map((target) => target.name),
          queueDepth,
        ),
    });
    // Subscribed before the start-up publish, so its config.published reaches the sinks too.
    integrations.start();
    cleanups.push(() => void integrations.stop());
    const policy = createPolicyRuntime({
      store,
      fleet,
      pki,
      paths,
      view,
      log,
      secretPaths: () => vault.list().map((secret) => secret.path),
      secretsEpoch: () => vault.epoch,
      metrics: publishMetrics,
      onActivate: (_version, snapshot) => compliance.activate(snapshot),
    });
    cleanups.push(() => void policy.close());
    cleanups.push(() => compliance.close());
    const { census, latestRuns } = createMetricsRuntime({
      registry: metricsRegistry,
      store,
      databaseFile: paths.dbFile,
      version: serverVersion,
      fleet,
      flusher,
      results,
      resultsCapacity,
      compliance,
      compliancePerEnvoy: config['metrics.compliance_per_envoy'],
    });
    cleanups.push(() => census.stop());
    if (config['publish.at_start']) await policy.publishAtStart();

    const agentPort = await startAgentPort({
      config,
      pki,
      fleet,
      log,
      connectionMetrics,
      service: {
        index: fleet,
        store,
        log: log.child({ component: 'checkin' }),
        metrics: checkinMetrics,
        results,
        policy: () => policy.current(),
        intervalMs: () => view.current['checkin.interval'],
        clockSkewMs: () => view.current['checkin.clock_skew'],
        observeOnly: () => view.current['checkin.observe_only'],
        connection: () => view.current['checkin.connection'],
        streamIdleReleaseMs: () => view.current['checkin.stream_idle_release'],
        servers: () => agentServers,
        secrets: {
          allowedFor: policy.secretPathsFor,
          resolve: (allowed, refs) => vault.resolveForBundle(allowed, refs),
        },
      },
    });
    const { grpc, fronts } = agentPort;
    agentServers = agentServerList(config, replication.node, grpc.port);
    cleanups.push(() => agentPort.destroy());
    const agentStreams = agentPort.service.streams;
    checkinMetrics.countOpenStreams(() => agentStreams.openCount());
    connectionMetrics.countGrpcConnections(() => grpc.openConnections() + (fronts?.openConnections() ?? 0));

    // One bcrypt budget for logins and enrollments: both burn the same thread pool.
    const bcryptQueue = new FairQueue(defaultBcryptQueue);
    const localAdmin = mintLocalAdminCredential(paths.localAdminTokenFile);
    log.info('local-admin token written', { file: localAdmin.file });
    const enroll = createEnrollService({
      store,
      pki,
      log: log.child({ component: 'enroll' }),
      grpcAddress: (requestHost) =>
        agentDialAddress({
          advertised: config['server.grpc_advertise'],
          requestHost,
          fallbackHost: config['server.hostname'],
          grpcPort: grpc.port,
        }),
      bcryptQueue,
      onEnrolled: (envoy) => {
        fleet.recordEnrollment(envoy);
        compliance.refresh(envoy.id);
        bus.publish(
          'envoy.enrolled',
          { envoyId: envoy.id, hostname: envoy.hostname, reenrolled: envoy.reenrolled },
          envoy.id,
        );
      },
    });
    const identity = identityWithEvents(
      createIdentityService({
        store,
        log: log.child({ component: 'identity' }),
        sessionIdleTimeoutMs: () => view.current['auth.session_idle_timeout'],
        bcryptQueue,
      }),
      bus,
    );
    identity.pruneExpiredSessions();
    const sessionPruner = setInterval(() => identity.pruneExpiredSessions(), 3_600_000);
    sessionPruner.unref();
    cleanups.push(() => clearInterval(sessionPruner));
    const adminBootstrap = audit.unlessChainBroken('minting the admin bootstrap secret', () =>
      identity.prepareAdminBootstrap(),
    );
    const adminBootstrapNotice = publishAdminBootstrap(paths.dataDir, adminBootstrap, log);
    const { publish } = createBlastRadiusRuntime({
      publish: publishWithEvents(policy.publish, bus),
      fleet,
      bus,
      view,
      log,
      onRunCommitted,
    });
    const { fleetAdmin, forcePush, liveQueries, targetGroups, tasks, workflows } = createOrchestration({
      fleet,
      fleetAdmin: createFleetAdmin({
        store,
        index: fleet,
        onChange: (change) => {
          if (change.type === 'envoy.revoked') compliance.refresh(change.envoyId);
          bus.publish(change.type, { envoyId: change.envoyId, hostname: change.hostname }, change.envoyId);
        },
      }),
      streams: agentStreams,
      store,
      bus,
      connection: () => view.current['checkin.connection'],
      log,
      registry: metricsRegistry,
      namedQueries: () => policy.namedQueries(),
      dataDir: paths.dataDir,
      namedTasks: policy.namedTasks,
      workflows: () => policy.workflows(),
      activeVersion: () => policy.activeVersion(),
      publish,
      onClose: (close) => cleanups.push(close),
    });
    const runs = createRunsReader(store.db);

    let boundApiPort = 0;
    const bootstrap = createBootstrapService({
      serverVersion,
      caCertPem: pki.caCertPem,
      serverAddress: () => apiDialAddress(config['server.hostname'], boundApiPort),
      cacheDir: join(paths.dataDir, 'bootstrap'),
      log: log.child({ component: 'bootstrap' }),
    });
    const auth = { localAdmin, identity };
    const routes = assembleRoutes({
      system: { version: serverVersion, bootId, mode: loaded.mode, startedAtMs },
      readiness,
      metrics: metricsRegistry,
      store,
      pki,
      identity,
      enroll,
      fleet,
      fleetAdmin,
      runs,
      latestRuns,
      checkinRate: checkinMetrics.checkinsPerMinute,
      database: historyPruner,
      backups: backups.service,
      publish,
      liveQueries,
      forcePush,
      targetGroups,
      vault,
      auditMonitor: audit.monitor,
      bus,
      bootstrap,
      tasks,
      workflows,
      compliance,
      oscalEnabled: () => view.current['exports.oscal'],
      activeVersion: () => policy.activeVersion(),
      integrations,
      version: serverVersion,
      exportsEnabled: (name) => view.current[`exports.${name}`],
      replication: replication.control,
    });
    const app = createHttpApp({
      log,
      ...httpBodySettings(config, () => view.current),
      auth,
      routes,
      metrics: createHttpMetrics(metricsRegistry, routes),
      accessLog: () => view.current['log.access'] === 'on',
    });
    const apiAddress = config['server.api_listen'];
    let https: HttpsListener;
    try {
      https = await startHttpsListener({
        host: apiAddress.host,
        port: apiAddress.port,
        keyPem: pki.serverKeyPem,
        certPem: pki.serverCertPem,
        fetch: app.fetch,
        ...httpsListenerSettings(config, connectionMetrics, log),
      });
    } catch (err) {
      throw listenFailure('the API (HTTPS)', `${apiAddress.host}:${apiAddress.port}`, err);
    }
    cleanups.push(() => https.destroy());
    connectionMetrics.countHttpsBytes(() => https.receivedBytes());
    boundApiPort = https.port;

    audit.appendSystem({
      action: 'server.start',
      target: 'vigosrv',
      details: {
        bootId,
        version: serverVersion,
        mode: loaded.mode,
        grpcPort: grpc.port,
        apiPort: https.port,
      },
    });
    audit.startCheckpoints();
    flusher.start();
    census.start();
    readiness.markReady();
    // The start-up publish warmed the validator already; otherwise the active version's upload does.
    if (!config['publish.at_start'])
      policy.revalidateAtStart().catch((err: unknown) =>
        log.error('start-up validation failed', {
          message: err instanceof Error ? err.message : String(err),
        }),
      );

    let drained: Promise<void> | undefined;
    const drain = async (reason: string): Promise<void> => {
      readiness.markDraining();
      log.info('draining', { reason, httpInFlight: https.inFlight() });
      // Open event streams would hold the HTTPS close open; end them first.
      bus.close();
      clearInterval(sessionPruner);
      // A validation still running would hold its request (and the HTTPS close) open until its budget.
      await policy.close();
      // A live query holds its request open until its deadline: answer it with what it has.
      liveQueries.close();
      // A held stream is a call in flight that would hold the gRPC close open until its idle timeout.
      agentStreams.drain();
      await Promise.all([https.close(), agentPort.close()]);
      // Standbys get no batch past the last one acknowledged; their links close with the listener.
      await replication.node?.stop();
      flusher.stop();
      census.stop();
      await results.drain();
      compliance.close();
      // Buffered events are queued and requests in flight finish (each bounded by its target's timeout).
      await integrations.stop();
      workflows.close();
      tasks.close();
      await audit.stopCheckpoints();
      void backups.schedule.stop();
      await Promise.all([walCheckpointer.stop(), historyPruner.stop()]);
      flusher.flush();
      audit.appendSystem({ action: 'server.stop', target: 'vigosrv', details: { bootId, reason } });
      // The monitor's periodic inspection must not look at a closed database.
      audit.close();
      store.checkpoint();
      store.close();
      lock.release();
      log.info('stopped', { reason });
    };

    return {
      paths,
      fleet,
      flusher,
      grpcPort: grpc.port,
      apiPort: https.port,
      bootId,
      store,
      pki,
      readiness,
      rotateTicketKeys: () => grpc.rotateTicketKeys(),
      checkinWorkers: fronts,
      audit,
      adminBootstrap: adminBootstrapNotice,
      drain: (reason) => (drained ??= drain(reason)),
      abort: () => {
        https.destroy();
        agentPort.destroy();
      },
    };
  } catch (err) {
    unwind();
    throw err;
  }
}
