/**
 * GET  /envoys/{id}          one envoy: details with convergence, its convergence chart and recent transitions, traits
 *                            tree, recent runs, last run's resource outcomes
 * POST /envoys/{id}/revoke   [fleet.write] refuse its check-ins from now on (asks for confirmation)
 * POST /envoys/{id}/push     [fleet.write] send the full bundle at its next check-in
 * GET  /runs/{id}            one run with every resource outcome
 */
import type { ComplianceService } from '../../server/compliance/index.ts';
import { envoyComplianceReport } from '../../server/compliance/index.ts';
import type { ConvergenceHistoryItem, ConvergenceHistoryReader } from '../../server/convergence/index.ts';
import { riskBlock } from './compliance.ts';
import type { Ctx } from '../../server/core/index.ts';
import type { EnvoyEntry, FleetAdmin } from '../../server/fleet/index.ts';
import { envoyReachability } from '../../server/fleet/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import type { PublishService } from '../../server/publish/index.ts';
import type { ResourceOutcomeView, RunDetail, RunView, RunsReader } from '../../server/runs/index.ts';
import { envoyHealth } from '../fleet-stats.ts';
import { badge, isoTimeCell, shortHash, timeCell } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { renderPage } from '../layout.ts';
import type { ErrorView, Viewer, WebContext } from '../page-kit.ts';
import {
  errorView,
  pathParam,
  htmlResponse,
  optionalField,
  readForm,
  requireViewer,
  seeOther,
} from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';
import { actionButton, dataTable, formView } from '../view-kit.ts';
import { traitsTree } from '../traits-tree.ts';
import { chartLimits, envoyConvergenceChart } from '../convergence-chart.ts';

export interface EnvoyDetailDeps {
  readonly shell: Shell;
  readonly fleetAdmin: FleetAdmin;
  readonly runs: RunsReader;
  readonly publish: PublishService;
  readonly convergenceHistory: ConvergenceHistoryReader;
  readonly compliance: ComplianceService;
}

/** Transitions shown on the envoy page; the REST API and vigocli page through the rest. */
const historyShown = 10;

const noticeKeys = ['revoked', 'already-revoked', 'push-requested'] as const;
type NoticeKey = (typeof noticeKeys)[number];
const notices: Readonly<Record<NoticeKey, string>> = {
  revoked: 'The envoy is revoked: its check-ins are refused from now on.',
  'already-revoked': 'The envoy was already revoked; nothing changed.',
  'push-requested': 'The full bundle will be sent at its next check-in.',
};
const detailQuery = { notice: { type: 'enum', values: noticeKeys } } as const;

function envoyHref(id: string): string {
  return `/envoys/${encodeURIComponent(id)}`;
}

export function runsTable(runs: readonly RunView[], nowMs: number, showHost: boolean): Html {
  return dataTable({
    caption: 'Runs',
    empty: 'No runs reported yet.',
    rows: runs,
    columns: [
      {
        header: 'Started',
        rowHeader: true,
        cell: (r) =>
          html`<a href="/runs/${encodeURIComponent(r.id)}">${isoTimeCell(r.startedAt, nowMs)}</a>
            ${r.dryRun ? html`<span class="muted small">(dry run)</span>` : ''}
            ${r.heartbeat ? html`<span class="muted small">(no change)</span>` : ''}`,
      },
      {
        header: 'Envoy',
        when: showHost,
        cell: (r) => html`<a href="${envoyHref(r.envoyId)}">${r.hostname ?? r.envoyId}</a>`,
      },
      { header: 'Status', cell: (r) => badge(r.status) },
      { header: 'Version', cell: (r) => r.policyVersion },
      { header: 'Resources', cell: (r) => r.resources.total },
      { header: 'Changed', cell: (r) => r.resources.changed },
      { header: 'Failed', cell: (r) => r.resources.failed },
    ],
  });
}

export function outcomesTable(results: readonly ResourceOutcomeView[]): Html {
  return dataTable({
    caption: 'Resource outcomes',
    className: 'outcomes',
    empty: 'The run managed no resources.',
    rows: results,
    columns: [
      { header: 'Resource', rowHeader: true, cell: (r) => html`<code>${r.resourceId}</code>` },
      { header: 'Type', cell: (r) => r.resourceType },
      { header: 'Configcrate', cell: (r) => r.configcrate ?? '' },
      { header: 'Outcome', cell: (r) => badge(r.outcome) },
      { header: 'Duration', cell: (r) => (r.durationMs === null ? '' : `${r.durationMs} ms`) },
      { header: 'Message', className: 'message', cell: (r) => r.message ?? '' },
    ],
  });
}

/**
 * A run's resources: the outcomes table, or for a heartbeat (stored without per-resource outcomes) what is
 * known of it: how many resources it checked, that none changed, and where the same resources are listed.
 */
export function runResources(run: RunDetail, nowMs: number): Html {
  if (!run.heartbeat) return outcomesTable(run.results);
  const listed = run.resourcesListedIn;
  return html`<p class="heartbeat">
    <strong>${run.resources.total} resources, none changed.</strong>
    <span class="muted small"
      >Every resource was already as desired, so the run is kept without per-resource outcomes.</span
    >
    ${
      listed === null
        ? ''
        : html`The same resources are listed in the run of
            <a href="/runs/${encodeURIComponent(listed.runId)}">${isoTimeCell(listed.startedAt, nowMs)}</a>.`
    }
    Resource set ${shortHash(run.resourcesDigest)}
  </p>`;
}

function facts(e: EnvoyEntry, nowMs: number, activeVersion: number | undefined): Html {
  const behind = activeVersion !== undefined && e.policyVersion !== activeVersion;
  return html`<dl class="facts">
    <dt>State</dt>
    <dd data-health="${envoyHealth(e)}">${badge(envoyHealth(e))}</dd>
    <dt>Convergence</dt>
    <dd>
      ${badge(e.convergence.status)}
      ${e.convergence.sinceMs === 0 ? '' : html`<span class="muted small">since ${timeCell(e.convergence.sinceMs, nowMs)}</span>`}
    </dd>
    <dt>Drift</dt>
    <dd>${badge(e.convergence.drift)}</dd>
    <dt>Reachability</dt>
    <dd>${badge(envoyReachability(e))}</dd>
    <dt>Envoy id</dt>
    <dd><code>${e.id}</code></dd>
    <dt>Last check-in</dt>
    <dd>${timeCell(e.lastSeenAtMs, nowMs)}</dd>
    <dt>Enrolled</dt>
    <dd>${timeCell(e.enrolledAtMs, nowMs)}</dd>
    <dt>Config version served</dt>
    <dd>${e.policyVersion}${behind ? html` <span class="muted">(active is ${activeVersion})</span>` : ''}</dd>
    <dt>Agent version</dt>
    <dd>${e.agentVersion === '' ? '—' : e.agentVersion}</dd>
    <dt>Check-in interval</dt>
    <dd>${e.intervalMs === 0 ? 'server default' : `${Math.round(e.intervalMs / 1000)} s`}</dd>
    <dt>State fingerprint</dt>
    <dd>${shortHash(e.stateFingerprint)}</dd>
    <dt>Force push</dt>
    <dd>${e.forcePush ? 'pending: the full bundle goes out at the next check-in' : 'no'}</dd>
  </dl>`;
}

function movedCell(from: string, to: string): Html {
  return from === to ? badge(to) : html`${badge(from)} → ${badge(to)}`;
}

function historyTable(items: readonly ConvergenceHistoryItem[], nowMs: number): Html {
  return dataTable({
    caption: 'Convergence history',
    className: 'convergence-history',
    empty: 'No transitions yet: no run has been reported.',
    rows: items,
    columns: [
      { header: 'When', rowHeader: true, cell: (h) => isoTimeCell(h.at, nowMs) },
      { header: 'Convergence', cell: (h) => movedCell(h.fromStatus, h.status) },
      { header: 'Drift', cell: (h) => movedCell(h.fromDrift, h.drift) },
      {
        header: 'Reachability',
        cell: (h) =>
          h.fromReachability === null || h.reachability === null
            ? ''
            : movedCell(h.fromReachability, h.reachability),
      },
      {
        header: 'Run',
        cell: (h) =>
          h.runId === null
            ? ''
            : html`<a href="/runs/${encodeURIComponent(h.runId)}"><code>${h.runId.slice(0, 8)}</code></a>`,
      },
    ],
  });
}

function actions(viewer: Viewer, e: EnvoyEntry): Html {
  if (!viewer.can('fleet.write') || e.status === 'revoked') return html``;
  return html`<section class="actions" aria-labelledby="actions-title">
    <h2 id="actions-title">Actions</h2>
    ${actionButton({ action: `${envoyHref(e.id)}/push`, viewer, label: 'Force push', tone: 'plain' })}
    ${formView({
      action: `${envoyHref(e.id)}/revoke`,
      viewer,
      layout: 'filters',
      tone: 'danger',
      submit: 'Revoke',
      confirm: `Revoke ${e.hostname}? Its check-ins will be refused until it enrolls again with a new token.`,
      fields: [
        {
          kind: 'text',
          name: 'reason',
          label: 'Reason',
          maxLength: 1024,
          placeholder: 'optional, kept in the audit log',
        },
      ],
    })}
  </section>`;
}

function complianceSection(deps: EnvoyDetailDeps, viewer: Viewer, id: string): Html {
  if (!viewer.can('compliance.read')) return html``;
  const report = envoyComplianceReport(deps.compliance, id);
  if (report === undefined) return html``;
  return html`<section aria-labelledby="compliance-title">
    <h2 id="compliance-title">Compliance</h2>
    ${riskBlock(report)}
    <p><a href="/compliance/envoys/${encodeURIComponent(id)}">Controls and claiming resources</a></p>
  </section>`;
}

interface DetailView {
  readonly notice?: string;
  readonly error?: ErrorView;
}

function detailPage(deps: EnvoyDetailDeps, c: WebContext, ctx: Ctx, id: string, view: DetailView): Response {
  const nowMs = Date.now();
  const viewer = requireViewer(c, ctx);
  const e = deps.fleetAdmin.get(id);
  const activeVersion = deps.publish.status().active?.version;
  const latest = deps.runs.latestFor(e.id);
  const history = deps.convergenceHistory.page(e.id, chartLimits.envoyTransitions).items;
  const body = html`<p class="breadcrumb"><a href="/envoys">Envoys</a> /</p>
    <h1>${e.hostname}</h1>
    ${facts(e, nowMs, activeVersion)} ${complianceSection(deps, viewer, e.id)} ${actions(viewer, e)}
    <section aria-labelledby="outcomes-title">
      <h2 id="outcomes-title">Resources in the last run</h2>
      ${
        latest === undefined
          ? html`<p class="muted">No runs reported yet.</p>`
          : html`<p class="muted small">
                Run of ${isoTimeCell(latest.startedAt, nowMs)}, ${badge(latest.status)}, config version
                ${latest.policyVersion}.
              </p>
              ${runResources(latest, nowMs)}`
      }
    </section>
    <section aria-labelledby="convergence-title">
      <h2 id="convergence-title">Convergence history</h2>
      ${envoyConvergenceChart(history, nowMs)} ${historyTable(history.slice(0, historyShown), nowMs)}
    </section>
    <section aria-labelledby="runs-title">
      <h2 id="runs-title">Recent runs</h2>
      ${runsTable(deps.runs.list({ envoyId: e.id, limit: 10 }).items, nowMs, false)}
    </section>
    <section aria-labelledby="traits-title">
      <h2 id="traits-title">Traits</h2>
      ${traitsTree(deps.fleetAdmin.traitsByHash(e.traitsHash))}
    </section>`;
  const page = renderPage(deps.shell, { title: e.hostname, viewer, nav: 'envoys', body, ...view });
  return htmlResponse(c, page, view.error?.status ?? 200);
}

function runBody(run: RunDetail, nowMs: number): Html {
  return html`<p class="breadcrumb">
      <a href="/envoys">Envoys</a> / <a href="${envoyHref(run.envoyId)}">${run.hostname ?? run.envoyId}</a> /
    </p>
    <h1>Run ${badge(run.status)}</h1>
    <dl class="facts">
      <dt>Run id</dt>
      <dd><code>${run.id}</code></dd>
      <dt>Started</dt>
      <dd>${isoTimeCell(run.startedAt, nowMs)}</dd>
      <dt>Finished</dt>
      <dd>${isoTimeCell(run.finishedAt, nowMs)}</dd>
      <dt>Received</dt>
      <dd>${isoTimeCell(run.receivedAt, nowMs)}</dd>
      <dt>Config version</dt>
      <dd>${run.policyVersion}</dd>
      <dt>Dry run</dt>
      <dd>${run.dryRun ? 'yes' : 'no'}</dd>
      <dt>Resources</dt>
      <dd>${run.resources.total} total, ${run.resources.changed} changed, ${run.resources.failed} failed</dd>
    </dl>
    <h2>Resources</h2>
    ${runResources(run, nowMs)}`;
}

function actionRoute(deps: EnvoyDetailDeps, action: 'revoke' | 'push'): AnyRoute {
  return pageRoute(deps.shell, {
    method: 'POST',
    path: `/envoys/{id}/${action}`,
    summary: action === 'revoke' ? 'Revoke an envoy' : 'Force-push to an envoy',
    access: 'fleet.write',
    nav: 'envoys',
    handler: async ({ c, ctx }) => {
      const id = pathParam(c, 'id');
      const form = await readForm(c);
      try {
        if (action === 'push') {
          deps.fleetAdmin.requestPush(ctx, id);
          return seeOther(c, `${envoyHref(id)}?notice=push-requested`);
        }
        const result = deps.fleetAdmin.revoke(ctx, id, optionalField(form, 'reason', 1024, 'Reason') ?? '');
        return seeOther(c, `${envoyHref(id)}?notice=${result.changed ? 'revoked' : 'already-revoked'}`);
      } catch (err) {
        return detailPage(deps, c, ctx, id, { error: errorView(c, err) });
      }
    },
  });
}

export function envoyDetailPages(deps: EnvoyDetailDeps): AnyRoute[] {
  const { shell } = deps;
  return [
    pageRoute<typeof detailQuery>(shell, {
      method: 'GET',
      path: '/envoys/{id}',
      summary: 'One envoy',
      access: 'fleet.read',
      nav: 'envoys',
      query: detailQuery,
      handler: ({ c, ctx, query }) =>
        detailPage(deps, c, ctx, pathParam(c, 'id'), {
          notice: query.notice === undefined ? undefined : notices[query.notice],
        }),
    }),
    actionRoute(deps, 'revoke'),
    actionRoute(deps, 'push'),
    pageRoute(shell, {
      method: 'GET',
      path: '/runs/{id}',
      summary: 'One run',
      access: 'fleet.read',
      nav: 'envoys',
      handler: ({ c, ctx }) => {
        const body = runBody(deps.runs.get(pathParam(c, 'id')), Date.now());
        const viewer = requireViewer(c, ctx);
        return htmlResponse(c, renderPage(shell, { title: 'Run', viewer, nav: 'envoys', body }));
      },
    }),
  ];
}
