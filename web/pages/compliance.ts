/**
 * GET /compliance               a gauge per framework, the controls failing somewhere, the waivers (expired
 *                               ones highlighted) — all from the compliance service's memory
 * GET /compliance/envoys/{id}   one envoy: its risk score beside the formula and its terms, and per framework
 *                               each control with its claiming resources' last outcomes and waivers
 */
import type { ComplianceService, EnvoyComplianceReport, WaiverView } from '../../server/compliance/index.ts';
import { complianceOverview, envoyComplianceReport, frameworkReport } from '../../server/compliance/index.ts';
import { VigoError } from '../../server/core/index.ts';
import type { FleetAdmin } from '../../server/fleet/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import { badge } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { renderPage } from '../layout.ts';
import { htmlResponse, pathParam, requireViewer } from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';

export interface CompliancePagesDeps {
  readonly shell: Shell;
  readonly compliance: ComplianceService;
  readonly fleetAdmin: FleetAdmin;
}

/** Failing-control rows shown per framework on the overview. */
const failingShown = 20;

function stateBadge(state: string): Html {
  const tone =
    state === 'enforced' ? 'ok' : state === 'failing' ? 'bad' : state === 'waived' ? 'info' : 'warn';
  return html`<span class="badge badge-${tone}">${state}</span>`;
}

function gauge(framework: string, pct: number): Html {
  return html`<div class="gauge">
    <meter id="gauge-${framework}" min="0" max="100" low="80" high="95" optimum="100" value="${pct}">
      ${pct}%
    </meter>
    <label for="gauge-${framework}"><strong>${framework}</strong> ${pct.toFixed(1)}%</label>
  </div>`;
}

function waiverTable(waivers: readonly WaiverView[]): Html {
  if (waivers.length === 0) return html`<p class="muted">The active configuration has no waivers.</p>`;
  return html`<table class="waivers">
    <thead>
      <tr>
        <th scope="col">Framework</th>
        <th scope="col">Control</th>
        <th scope="col">Envoys</th>
        <th scope="col">Owner</th>
        <th scope="col">Expires</th>
        <th scope="col">Reason</th>
      </tr>
    </thead>
    <tbody>
      ${waivers.map(
        (w) =>
          html`<tr class="${w.expired ? 'row-expired' : ''}">
            <td>${w.framework}</td>
            <td><code>${w.control}</code></td>
            <td>${w.match.join(', ')} <span class="muted small">(${w.envoys} now)</span></td>
            <td>${w.owner}</td>
            <td>${w.expires} ${w.expired ? html`<span class="badge badge-bad">expired</span>` : ''}</td>
            <td>${w.reason} <span class="muted small">${w.source}</span></td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function overviewBody(service: ComplianceService): Html {
  const overview = complianceOverview(service);
  if (overview.frameworks.length === 0)
    return html`<h1>Compliance</h1>
      <p class="muted">
        No envoy claims a compliance control. Configcrates claim controls with
        <code>compliance: {framework: [control ids]}</code>.
      </p>
      <h2>Waivers</h2>
      ${waiverTable(service.waivers())}`;
  const failingRows = overview.frameworks.flatMap((f) => {
    const report = frameworkReport(service, f.framework, { limit: 1 });
    return report.controlList
      .filter((c) => c.failing > 0)
      .slice(0, failingShown)
      .map(
        (c) =>
          html`<tr>
            <td>${f.framework}</td>
            <td><code>${c.control}</code></td>
            <td>${c.failing} of ${c.envoys}</td>
          </tr>`,
      );
  });
  return html`<h1>Compliance</h1>
    <p class="muted">
      ${overview.envoys} envoys evaluated. Coverage = (enforced + waived) / claimed controls.
    </p>
    <section aria-labelledby="gauges-title">
      <h2 id="gauges-title">Coverage by framework</h2>
      <div class="gauges">${overview.frameworks.map((f) => gauge(f.framework, f.coveragePct))}</div>
      <table>
        <thead>
          <tr>
            <th scope="col">Framework</th>
            <th scope="col">Envoys</th>
            <th scope="col">Enforced</th>
            <th scope="col">Failing</th>
            <th scope="col">Waived</th>
            <th scope="col">Pending</th>
          </tr>
        </thead>
        <tbody>
          ${overview.frameworks.map(
            (f) =>
              html`<tr>
                <td>${f.framework}</td>
                <td>${f.envoys}</td>
                <td>${f.enforced}</td>
                <td>${f.failing}</td>
                <td>${f.waived}</td>
                <td>${f.pending}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section aria-labelledby="failing-title">
      <h2 id="failing-title">Failing controls</h2>
      ${
        failingRows.length === 0
          ? html`<p class="muted">No control fails on any envoy.</p>`
          : html`<table class="failing-controls">
              <thead>
                <tr>
                  <th scope="col">Framework</th>
                  <th scope="col">Control</th>
                  <th scope="col">Envoys failing</th>
                </tr>
              </thead>
              <tbody>
                ${failingRows}
              </tbody>
            </table>`
      }
    </section>
    <section aria-labelledby="waivers-title">
      <h2 id="waivers-title">Waivers</h2>
      ${waiverTable(service.waivers())}
    </section>`;
}

/** The risk score with its formula and terms (also shown on the envoy page). */
export function riskBlock(report: EnvoyComplianceReport): Html {
  const t = report.risk.terms;
  return html`<dl class="facts risk">
    <dt>Risk score</dt>
    <dd><strong>${report.risk.score}</strong> / 100</dd>
    <dt>Terms</dt>
    <dd>
      failing ${t.failing} + drift ${t.drift} + staleness ${t.staleness} + waivers ${t.waivers} + security
      updates ${t.securityUpdates}
    </dd>
    <dt>Formula</dt>
    <dd class="small">${report.risk.formula}</dd>
  </dl>`;
}

function envoyBody(report: EnvoyComplianceReport): Html {
  return html`<p class="breadcrumb">
      <a href="/compliance">Compliance</a> /
      <a href="/envoys/${encodeURIComponent(report.envoyId)}">${report.hostname}</a> /
    </p>
    <h1>Compliance of ${report.hostname}</h1>
    ${riskBlock(report)}
    ${
      report.frameworks.length === 0
        ? html`<p class="muted">This envoy claims no control.</p>`
        : report.frameworks.map(
            (f) =>
              html`<section>
                <h2>${f.framework} <span class="muted small">${f.coveragePct.toFixed(1)}% coverage</span></h2>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Control</th>
                      <th scope="col">State</th>
                      <th scope="col">Claiming resources (last outcome)</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${f.controls.map(
                      (c) =>
                        html`<tr>
                          <td><code>${c.control}</code></td>
                          <td>${stateBadge(c.state)}</td>
                          <td>
                            ${c.resources.map(
                              (r) =>
                                html`<span class="detail"
                                  ><code>${r.resourceId}</code> ${badge(r.outcome ?? 'not reported')}</span
                                > `,
                            )}
                          </td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </section>`,
          )
    }
    <h2>Waivers covering it</h2>
    ${waiverTable(report.waiverDetails)}`;
}

export function compliancePages(deps: CompliancePagesDeps): AnyRoute[] {
  const { shell } = deps;
  return [
    pageRoute(shell, {
      method: 'GET',
      path: '/compliance',
      summary: 'Compliance',
      access: 'compliance.read',
      nav: 'compliance',
      handler: ({ c, ctx }) => {
        const viewer = requireViewer(c, ctx);
        const body = overviewBody(deps.compliance);
        return htmlResponse(c, renderPage(shell, { title: 'Compliance', viewer, nav: 'compliance', body }));
      },
    }),
    pageRoute(shell, {
      method: 'GET',
      path: '/compliance/envoys/{id}',
      summary: "One envoy's compliance",
      access: 'compliance.read',
      nav: 'compliance',
      handler: ({ c, ctx }) => {
        const viewer = requireViewer(c, ctx);
        const entry = deps.fleetAdmin.get(pathParam(c, 'id'));
        const report = envoyComplianceReport(deps.compliance, entry.id);
        if (report === undefined)
          throw new VigoError(
            'fleet.envoy_revoked',
            `envoy ${entry.id} is revoked; it has no compliance status`,
          );
        const body = envoyBody(report);
        return htmlResponse(
          c,
          renderPage(shell, { title: `Compliance of ${report.hostname}`, viewer, nav: 'compliance', body }),
        );
      },
    }),
  ];
}
