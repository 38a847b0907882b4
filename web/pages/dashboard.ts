/**
 * GET /                      the dashboard: envoys by state (counts that open the filtered envoy list, and a
 *                            donut), convergence (now and over 24 h), check-ins per minute over the last
 *                            hour, publishes, activity. Everything comes from memory (FleetIndex, the
 *                            latest-runs follower, the check-in rate ring) or one grouped range query
 *                            (the convergence line): one pass over the fleet per figure block, never a
 *                            scan of the runs table.
 * GET /dashboard/charts      the donut and the check-in chart (htmx refreshes them every minute)
 * GET /dashboard/counters    the counters alone; htmx swaps them in when app.js hears a fleet or config
 *                            event on /api/v1/events, and every 30 s for the check-in figure
 */
import type { VigoEvent } from '../../server/events/index.ts';
import type { FleetConvergenceHistory } from '../../server/convergence/index.ts';
import type { FleetIndex } from '../../server/fleet/index.ts';
import { chartLimits, fleetConvergenceChart } from '../convergence-chart.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import type { PublishService, VersionRow } from '../../server/publish/index.ts';
import type { RecentActivity } from '../activity.ts';
import type { LatestRunsReader } from '../../server/runs/index.ts';
import type { EnvoyHealth, FleetSummary } from '../fleet-stats.ts';
import { envoyHealths, envoyStates, healthFilter, summarizeFleet } from '../fleet-stats.ts';
import { donutChart, stackedBarChart } from '../chart/index.ts';
import type { CheckinRate } from '../../server/checkin/index.ts';
import { checkinRateMinutes } from '../../server/checkin/index.ts';
import { badge, count, percent, timeCell } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { renderPage } from '../layout.ts';
import { htmlResponse, requireViewer } from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';
import { scrollBox } from '../envoy-table/index.ts';

export interface DashboardDeps {
  readonly shell: Shell;
  readonly fleet: FleetIndex;
  readonly publish: PublishService;
  readonly latestRuns: LatestRunsReader;
  readonly checkinRate: CheckinRate;
  readonly activity: RecentActivity;
  readonly convergenceHistory: FleetConvergenceHistory;
}

/** Health colours: green only for healthy (the badge rule: a failing host is never green). */
const healthColours: Readonly<Record<EnvoyHealth, string>> = {
  healthy: '#2e7d32',
  failing: '#c62828',
  stale: '#ed8f03',
  'no runs yet': '#90a4ae',
  'never seen': '#5c6bc0',
  revoked: '#6d4c41',
};

const checkinSeries = [
  { key: 'no_change', label: 'no change', colour: '#90a4ae' },
  { key: 'bundle', label: 'bundle served', colour: '#1565c0' },
  { key: 'refused', label: 'refused', colour: '#c62828' },
] as const;

function filteredList(health: EnvoyHealth): string | undefined {
  const status = healthFilter[health];
  return status === undefined ? undefined : `/envoys?status=${status}`;
}

/** A figure that links to the envoy list filtered to exactly the envoys it counts. */
function countCard(title: string, figure: number, status: string, note: string): Html {
  return html`<article class="card">
    <h2>${title}</h2>
    <p class="figure">
      <a href="/envoys?status=${status}" data-count="${status}">${count(figure)}</a>
    </p>
    <p class="muted small">${note}</p>
  </article>`;
}

interface Figures {
  readonly summary: FleetSummary;
  readonly activeVersion: number | undefined;
  readonly complete: boolean;
}

/** One pass over the FleetIndex (tens of milliseconds at 100,000 envoys), shared by everything a view draws. */
function figures(deps: DashboardDeps, nowMs: number): Figures {
  const activeVersion = deps.publish.status().active?.version;
  const latest = deps.latestRuns.latest();
  const summary = summarizeFleet(deps.fleet.values(), nowMs, latest.runs, activeVersion);
  return { summary, activeVersion, complete: latest.complete };
}

function counters(f: Figures): Html {
  const { summary: s, activeVersion } = f;
  return html`<section
    id="dashboard-counters"
    class="cards"
    aria-label="Fleet figures"
    hx-get="/dashboard/counters"
    hx-trigger="refresh, every 30s"
    hx-swap="outerHTML"
    style="flex-wrap: wrap"
  >
    <article class="card">
      <h2>Envoys</h2>
      <p class="figure"><a href="/envoys">${count(s.total)}</a></p>
      <ul class="state-list">
        ${envoyStates.map(
          (state) =>
            html`<li>
              <a href="/envoys?status=${state.replace(' ', '_')}"
                >${badge(state)}
                <span class="state-count" data-state="${state}">${count(s.byState[state])}</span></a
              >
            </li>`,
        )}
      </ul>
    </article>
    ${countCard('Failing', s.failing, 'failing', 'active envoys whose last run had failed resources.')}
    ${countCard('Stale', s.byState.stale, 'stale', 'silent for longer than their check-in interval allows.')}
    ${countCard('Never seen', s.byState['never seen'], 'never_seen', 'enrolled, no check-in yet.')}
    <article class="card">
      <h2>Converged</h2>
      <p class="figure" data-figure="convergence">${percent(s.converged, s.convergenceBase)}</p>
      <p class="muted small">
        ${count(s.converged)} of ${count(s.convergenceBase)} active envoys: latest run without failures, on
        the active version${activeVersion === undefined ? '' : html` (${activeVersion})`}.
      </p>
      ${f.complete ? '' : html`<p class="small">Still reading the run history; the figure is provisional.</p>`}
    </article>
    <article class="card">
      <h2>Check-ins</h2>
      <p class="figure" data-figure="checkins">${count(s.checkedInLastMinute)}</p>
      <p class="muted small">envoys that checked in during the last minute.</p>
    </article>
  </section>`;
}

/** The status donut and the check-in rate; refreshed with the counters. */
function charts(deps: DashboardDeps, s: FleetSummary, nowMs: number): Html {
  const minutes = deps.checkinRate.perMinute(nowMs, checkinRateMinutes);
  const lastHour = minutes.reduce((n, m) => n + m.noChange + m.bundle + m.refused, 0);
  return html`<div
    id="dashboard-charts"
    class="columns"
    hx-get="/dashboard/charts"
    hx-trigger="every 60s"
    hx-swap="outerHTML"
  >
    <section aria-labelledby="status-donut-title" style="min-width: 0">
      <h2 id="status-donut-title">Envoys by state</h2>
      ${donutChart({
        name: 'envoy-states',
        label: 'Envoys by state',
        slices: envoyHealths.map((h) => ({
          key: h,
          label: h,
          value: s.byHealth[h],
          colour: healthColours[h],
          href: filteredList(h),
        })),
      })}
    </section>
    <section aria-labelledby="checkin-rate-title" style="min-width: 0">
      <h2 id="checkin-rate-title">Check-ins per minute, last hour</h2>
      ${stackedBarChart({
        name: 'checkins-per-minute',
        label: 'Check-ins per minute',
        unit: 'check-ins',
        series: checkinSeries,
        bars: minutes.map((m) => ({ atMs: m.startMs, values: [m.noChange, m.bundle, m.refused] })),
      })}
      <p class="muted small">
        <span data-figure="checkins-hour">${count(lastHour)}</span> check-ins in the last hour (counted since
        the server started).
      </p>
    </section>
  </div>`;
}

function publishes(rows: readonly VersionRow[], nowMs: number): Html {
  if (rows.length === 0) return html`<p class="muted">Nothing has been published yet.</p>`;
  return scrollBox(
    html`<table>
      <caption class="visually-hidden">
        Recent publishes
      </caption>
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Status</th>
          <th scope="col">By</th>
          <th scope="col">When</th>
          <th scope="col">Message</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (v) =>
            html`<tr>
              <td><a href="/config/versions/${v.version}">${v.version}</a></td>
              <td>${badge(v.status)}</td>
              <td>${v.createdBy}</td>
              <td>${timeCell(v.createdAtMs, nowMs)}</td>
              <td>${v.message ?? ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>`,
  );
}

function eventSummary(event: VigoEvent): string {
  const parts: string[] = [];
  for (const key of ['hostname', 'version', 'username', 'name', 'by', 'reason'] as const) {
    const value = event.data[key];
    if (typeof value === 'string' || typeof value === 'number') parts.push(`${key} ${String(value)}`);
  }
  return parts.join(' · ');
}

function activityList(events: readonly VigoEvent[], nowMs: number): Html {
  if (events.length === 0) return html`<p class="muted">No activity since the server started.</p>`;
  return html`<ol class="activity">
    ${events.map(
      (e) => html`<li>${timeCell(Date.parse(e.at), nowMs)} <code>${e.type}</code> ${eventSummary(e)}</li>`,
    )}
  </ol>`;
}

export function dashboardPages(deps: DashboardDeps): AnyRoute[] {
  const { shell } = deps;
  return [
    pageRoute(shell, {
      method: 'GET',
      path: '/',
      summary: 'Dashboard',
      access: 'fleet.read',
      nav: 'dashboard',
      handler: ({ c, ctx }) => {
        const nowMs = Date.now();
        const shown = figures(deps, nowMs);
        const pending = deps.publish.status().pending;
        const body = html`<h1>Dashboard</h1>
          ${
            pending === undefined
              ? ''
              : html`<p class="banner banner-warn">
                  Version ${pending.version} by ${pending.createdBy} is waiting for approval.
                  <a href="/config/versions/${pending.version}">Review it</a>
                </p>`
          }
          <div data-live-events="/api/v1/events?types=envoy.*,config.*">${counters(shown)}</div>
          ${charts(deps, shown.summary, nowMs)}
          <section aria-labelledby="fleet-convergence-title">
            <h2 id="fleet-convergence-title">Fleet convergence, last 24 hours</h2>
            ${fleetConvergenceChart(
              deps.convergenceHistory.series(
                deps.fleet.convergenceTotals(nowMs),
                nowMs,
                chartLimits.fleetWindowMs,
                chartLimits.fleetBuckets,
              ),
            )}
            <p class="muted small">
              Converged share of the active envoys that have reported a run, every 30 minutes, from the
              recorded convergence transitions.
            </p>
          </section>
          <div class="columns">
            <section aria-labelledby="publishes-title" style="min-width: 0">
              <h2 id="publishes-title">Recent publishes</h2>
              ${publishes(deps.publish.history(5), nowMs)}
              <p><a href="/config">All versions</a></p>
            </section>
            <section aria-labelledby="activity-title" style="min-width: 0">
              <h2 id="activity-title">Recent activity</h2>
              ${activityList(deps.activity.list(), nowMs)}
            </section>
          </div>`;
        return htmlResponse(
          c,
          renderPage(shell, { title: 'Dashboard', viewer: requireViewer(c, ctx), nav: 'dashboard', body }),
        );
      },
    }),
    pageRoute(shell, {
      method: 'GET',
      path: '/dashboard/counters',
      summary: 'Dashboard counters (fragment)',
      access: 'fleet.read',
      nav: 'dashboard',
      handler: ({ c }) => htmlResponse(c, counters(figures(deps, Date.now()))),
    }),
    pageRoute(shell, {
      method: 'GET',
      path: '/dashboard/charts',
      summary: 'Dashboard state donut and check-in rate (fragment)',
      access: 'fleet.read',
      nav: 'dashboard',
      handler: ({ c }) => {
        const nowMs = Date.now();
        return htmlResponse(c, charts(deps, figures(deps, nowMs).summary, nowMs));
      },
    }),
  ];
}
