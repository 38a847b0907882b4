/**
 * The web UI: server-rendered HTML pages with htmx, declared in the server's one route table like every
 * API route (each page names the access it needs; pages stay out of the OpenAPI document). No inline
 * scripts: htmx and app.js load from /static, so the Content-Security-Policy can forbid inline script.
 *
 * Pages: /login /logout /setup, / (dashboard), /envoys (+ bulk actions), /envoys/{id}, /runs/{id}, /tasks, /tasks/{id}, /workflows, /workflows/{id}, /queries,
 * /config,
 * /config/versions/{v}, /audit, /compliance, /compliance/envoys/{id}, /integrations, /admin/enroll-tokens, /admin/add-hosts,
 * /admin/users, /admin/tokens.
 */
import {
  createConvergenceHistoryReader,
  createFleetConvergenceHistory,
} from '../server/convergence/index.ts';
import type { CheckinRate } from '../server/checkin/index.ts';
import type { ComplianceService } from '../server/compliance/index.ts';
import type { BootstrapService } from '../server/bootstrap/index.ts';
import type { EnrollService } from '../server/enroll/index.ts';
import type { EventBus } from '../server/events/index.ts';
import type { FleetAdmin, FleetIndex } from '../server/fleet/index.ts';
import type { AnyRoute } from '../server/http/route-table.ts';
import type { IdentityService } from '../server/identity/index.ts';
import type { Integrations } from '../server/integrations/index.ts';
import type { ForcePush, LiveQueries, TaskService, WorkflowService } from '../server/orchestration/index.ts';
import type { PublishService } from '../server/publish/index.ts';
import type { LatestRunsReader, RunsReader } from '../server/runs/index.ts';
import type { Store } from '../server/store/index.ts';
import { followRecentActivity } from './activity.ts';
import { createLatestRunsReader } from '../server/runs/index.ts';
import type { Shell } from './layout.ts';
import { tokenPages } from './pages/admin-tokens.ts';
import { enrollPages } from './pages/admin-enroll.ts';
import { addHostsPages } from './pages/add-hosts.ts';
import { userPages } from './pages/admin-users.ts';
import { auditPages } from './pages/audit.ts';
import { compliancePages } from './pages/compliance.ts';
import { integrationPages } from './pages/integrations.ts';
import { configPages } from './pages/config.ts';
import { dashboardPages } from './pages/dashboard.ts';
import { envoyDetailPages } from './pages/envoy-detail.ts';
import { envoyListPages } from './pages/envoys.ts';
import { envoyBulkPages } from './pages/envoy-bulk.ts';
import { queryPages } from './pages/queries.ts';
import { sessionPages } from './pages/session.ts';
import { taskPages } from './pages/tasks.ts';
import { workflowPages } from './pages/workflows.ts';
import { loadStaticAssets } from './static-assets.ts';

/** The dashboard's convergence rule, which the convergence metric shares. */

export interface WebDeps {
  readonly identity: IdentityService;
  readonly fleet: FleetIndex;
  readonly fleetAdmin: FleetAdmin;
  readonly runs: RunsReader;
  /** Each envoy's latest run, shared with whatever else follows it (the metrics' convergence); one is made without it. */
  readonly latestRuns?: LatestRunsReader;
  /** Check-ins per minute over the last hour (the dashboard's chart). */
  readonly checkinRate: CheckinRate;
  readonly publish: PublishService;
  /** Audit log and chain check, and the dashboard's latest-run-per-envoy query. */
  readonly store: Store;
  readonly enroll: EnrollService;
  /** The install command the Add hosts page shows. */
  readonly bootstrap: Pick<BootstrapService, 'installCommand'>;
  /** The dashboard's "recent activity" follows it. */
  readonly events: EventBus;
  /** Task runs: listed, started and followed on /tasks. */
  readonly tasks: TaskService;
  /** Workflow runs: listed, followed, approved and aborted on /workflows. */
  readonly workflows: WorkflowService;
  /** Live queries, asked from /queries. */
  readonly queries: LiveQueries;
  /** Force-push of many envoys, from /tasks. */
  readonly push: ForcePush;
  /** Framework compliance: /compliance and the envoy page's risk score. */
  readonly compliance: ComplianceService;
  /** Event sinks and their delivery health, on /integrations. */
  readonly integrations: Integrations;
  /** Shown in the footer. */
  readonly version: string;
}

/**
 * The dashboard's convergence figure reads new runs at most every 5 s and works at most 25 ms per view,
 * so catching up after a start on a large fleet never stalls check-ins.
 */
export const latestRunsOptions = { maxAgeMs: 5_000, budgetMs: 25, chunkRows: 2_000 } as const;
const recentActivityKept = 15;

/** Every web UI route; reads the static assets now, so a missing file fails at start-up. */
export function webRoutes(deps: WebDeps): AnyRoute[] {
  const assets = loadStaticAssets();
  const shell: Shell = { version: deps.version, assets };
  const latestRuns = deps.latestRuns ?? createLatestRunsReader(deps.store.db, latestRunsOptions);
  return [
    ...assets.routes(),
    ...sessionPages({ shell, identity: deps.identity }),
    ...dashboardPages({
      shell,
      fleet: deps.fleet,
      publish: deps.publish,
      latestRuns,
      checkinRate: deps.checkinRate,
      activity: followRecentActivity(deps.events, recentActivityKept),
      convergenceHistory: createFleetConvergenceHistory(deps.store.db),
    }),
    ...envoyListPages({
      shell,
      fleet: deps.fleet,
      fleetAdmin: deps.fleetAdmin,
      publish: deps.publish,
      latestRuns,
    }),
    ...envoyBulkPages({ shell, fleetAdmin: deps.fleetAdmin, push: deps.push }),
    ...envoyDetailPages({
      shell,
      fleetAdmin: deps.fleetAdmin,
      runs: deps.runs,
      publish: deps.publish,
      convergenceHistory: createConvergenceHistoryReader(deps.store.db),
      compliance: deps.compliance,
    }),
    ...compliancePages({ shell, compliance: deps.compliance, fleetAdmin: deps.fleetAdmin }),
    ...taskPages({ shell, tasks: deps.tasks, push: deps.push }),
    ...workflowPages({ shell, workflows: deps.workflows }),
    ...queryPages({ shell, queries: deps.queries }),
    ...configPages({ shell, publish: deps.publish }),
    ...auditPages({ shell, store: deps.store, fleet: deps.fleet }),
    ...integrationPages({ shell, integrations: deps.integrations }),
    ...enrollPages({ shell, enroll: deps.enroll }),
    ...addHostsPages({ shell, enroll: deps.enroll, bootstrap: deps.bootstrap }),
    ...userPages({ shell, identity: deps.identity }),
    ...tokenPages({ shell, identity: deps.identity }),
  ];
}
