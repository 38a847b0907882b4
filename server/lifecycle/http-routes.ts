/**
 * The server's whole HTTP route table, assembled from each module's routes: the API, the web pages and the
 * operational endpoints (start.ts mounts it). One list, so the OpenAPI document and /api/v1/system/routes
 * describe exactly what is served.
 */
import type { Registry } from 'prom-client';
import { buildOpenApiDocument } from '../http/openapi.ts';
import type { Readiness } from '../http/readiness.ts';
import type { AnyRoute } from '../http/route-table.ts';
import { withBodyCap } from '../http/route-table.ts';
import { auditRoutes } from '../http/routes/audit.ts';
import { bootstrapRoutes } from '../http/routes/bootstrap.ts';
import { configRoutes, configUploadPaths } from '../http/routes/config.ts';
import { enrollRoutes } from '../http/routes/enroll.ts';
import { envoyRoutes } from '../http/routes/envoys.ts';
import { convergenceRoutes } from '../http/routes/convergence.ts';
import { complianceRoutes } from '../http/routes/compliance.ts';
import { createConvergenceHistoryReader } from '../convergence/index.ts';
import { eventRoutes } from '../http/routes/events.ts';
import { exportRoutes } from '../http/routes/exports.ts';
import { createCmdbReader } from '../exports/index.ts';
import type { ExportName } from '../exports/index.ts';
import { identityRoutes } from '../http/routes/identity.ts';
import { integrationRoutes } from '../http/routes/integrations.ts';
import { pushRoutes } from '../http/routes/push.ts';
import { targetGroupRoutes } from '../http/routes/target-groups.ts';
import { databaseRoutes } from '../http/routes/database.ts';
import { backupRoutes } from '../http/routes/backups.ts';
import { queryRoutes } from '../http/routes/queries.ts';
import { runRoutes } from '../http/routes/runs.ts';
import { secretRoutes } from '../http/routes/secrets.ts';
import { systemRoutes } from '../http/routes/system.ts';
import { taskRoutes } from '../http/routes/tasks.ts';
import { workflowRoutes } from '../http/routes/workflows.ts';
import type { SystemInfo } from '../http/app.ts';
import type { Pki } from '../pki/index.ts';
import type { Store } from '../store/index.ts';
import { webRoutes } from '../../web/index.ts';

type Dep<F extends (deps: never) => unknown, K extends keyof Parameters<F>[0]> = Parameters<F>[0][K];

export interface RouteParts {
  readonly system: SystemInfo;
  readonly readiness: Readiness;
  readonly metrics: Registry;
  readonly store: Store;
  readonly pki: Pick<Pki, 'bundleSigningKey' | 'bundlePublicKeyRaw'>;
  readonly identity: Dep<typeof webRoutes, 'identity'>;
  readonly enroll: Dep<typeof webRoutes, 'enroll'>;
  readonly fleet: Dep<typeof webRoutes, 'fleet'>;
  readonly fleetAdmin: Dep<typeof webRoutes, 'fleetAdmin'>;
  readonly runs: Dep<typeof webRoutes, 'runs'>;
  readonly latestRuns: Dep<typeof webRoutes, 'latestRuns'>;
  readonly checkinRate: Dep<typeof webRoutes, 'checkinRate'>;
  readonly publish: Dep<typeof webRoutes, 'publish'>;
  readonly liveQueries: Dep<typeof queryRoutes, 'queries'>;
  readonly forcePush: Dep<typeof pushRoutes, 'push'>;
  readonly targetGroups: Dep<typeof targetGroupRoutes, 'groups'>;
  readonly database: Dep<typeof databaseRoutes, 'maintenance'>;
  readonly backups: Dep<typeof backupRoutes, 'backups'>;
  readonly vault: Dep<typeof secretRoutes, 'vault'>;
  readonly auditMonitor: Dep<typeof auditRoutes, 'monitor'>;
  readonly bus: Dep<typeof eventRoutes, 'bus'>;
  readonly bootstrap: Dep<typeof bootstrapRoutes, 'bootstrap'>;
  readonly tasks: Dep<typeof taskRoutes, 'tasks'>;
  readonly workflows: Dep<typeof workflowRoutes, 'workflows'>;
  readonly compliance: Dep<typeof complianceRoutes, 'compliance'>;
  readonly oscalEnabled: () => boolean;
  readonly activeVersion: () => number;
  readonly integrations: Dep<typeof integrationRoutes, 'integrations'>;
  readonly version: string;
  /** Whether server.yaml serves an export now (exports.siem, exports.cmdb). */
  readonly exportsEnabled: (name: ExportName) => boolean;
}

export function assembleRoutes(p: RouteParts): AnyRoute[] {
  const ping = p.store.db.prepare('SELECT 1').pluck();
  const routes: AnyRoute[] = [];
  let openApi: Record<string, unknown> | undefined;
  routes.push(
    ...systemRoutes({
      systemInfo: p.system,
      readiness: p.readiness,
      metrics: p.metrics,
      databaseReady: () => {
        try {
          return ping.get() === 1;
        } catch {
          return false;
        }
      },
      openApi: () => (openApi ??= buildOpenApiDocument(routes, { version: p.version })),
      table: () => routes,
    }),
    ...identityRoutes({ identity: p.identity }),
    ...enrollRoutes({ enroll: p.enroll, bootstrap: p.bootstrap }),
    ...envoyRoutes({ fleet: p.fleet, admin: p.fleetAdmin, runs: p.runs }),
    ...convergenceRoutes({
      fleet: p.fleet,
      admin: p.fleetAdmin,
      history: createConvergenceHistoryReader(p.store.db),
    }),
    ...complianceRoutes({
      compliance: p.compliance,
      admin: p.fleetAdmin,
      oscalEnabled: p.oscalEnabled,
      activeVersion: p.activeVersion,
    }),
    ...runRoutes({ runs: p.runs }),
    ...taskRoutes({ tasks: p.tasks }),
    ...workflowRoutes({ workflows: p.workflows }),
    ...withBodyCap(configRoutes({ publish: p.publish }), configUploadPaths, 'upload'),
    ...secretRoutes({ vault: p.vault, store: p.store }),
    ...auditRoutes({
      store: p.store,
      monitor: p.auditMonitor,
      checkpointKey: p.pki.bundleSigningKey,
      checkpointPublicKeyRaw: p.pki.bundlePublicKeyRaw,
    }),
    ...eventRoutes({ bus: p.bus, keepAliveMs: 15_000, maxQueued: 1_000 }),
    ...exportRoutes({
      siem: { db: p.store.db, bus: p.bus },
      cmdb: createCmdbReader({ db: p.store.db, fleet: p.fleet }),
      enabled: p.exportsEnabled,
    }),
    ...bootstrapRoutes({ bootstrap: p.bootstrap }),
    ...queryRoutes({ queries: p.liveQueries }),
    ...pushRoutes({ push: p.forcePush }),
    ...targetGroupRoutes({ groups: p.targetGroups }),
    ...databaseRoutes({ store: p.store, maintenance: p.database }),
    ...backupRoutes({ store: p.store, backups: p.backups }),
    ...integrationRoutes({ integrations: p.integrations }),
    ...webRoutes({
      identity: p.identity,
      fleet: p.fleet,
      fleetAdmin: p.fleetAdmin,
      runs: p.runs,
      latestRuns: p.latestRuns,
      checkinRate: p.checkinRate,
      publish: p.publish,
      store: p.store,
      enroll: p.enroll,
      bootstrap: p.bootstrap,
      events: p.bus,
      tasks: p.tasks,
      workflows: p.workflows,
      queries: p.liveQueries,
      push: p.forcePush,
      compliance: p.compliance,
      integrations: p.integrations,
      version: p.version,
    }),
  );
  return routes;
}
