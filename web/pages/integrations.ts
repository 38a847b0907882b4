/**
 * GET /integrations   each event sink target (server.yaml `integrations:`) with its delivery health: queue
 *                     depth, deliveries since start, the last success and the last error.
 */
import type { AnyRoute } from '../../server/http/route-table.ts';
import type { IntegrationStatus, Integrations } from '../../server/integrations/index.ts';
import { badge, count, timeCell } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { renderPage } from '../layout.ts';
import { htmlResponse, requireViewer } from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';

export interface IntegrationPagesDeps {
  readonly shell: Shell;
  readonly integrations: Integrations;
}

const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

function targetRow(t: IntegrationStatus, nowMs: number): Html {
  return html`<tr>
    <th scope="row"><code>${t.name}</code></th>
    <td>${t.type}</td>
    <td><code>${t.endpoint}</code></td>
    <td>${badge(t.health)}</td>
    <td class="num">${count(t.queueDepth)}</td>
    <td class="num">${count(t.delivered)}</td>
    <td class="num">${count(t.retried)}</td>
    <td class="num">${count(t.dead)}</td>
    <td>${timeCell(ms(t.lastSuccessAt), nowMs)}</td>
    <td>
      ${timeCell(ms(t.lastErrorAt), nowMs, 'none')}
      ${t.lastError === null ? '' : html`<div class="small">${t.lastError}</div>`}
    </td>
    <td class="small">${t.events.join(', ')} (${t.minSeverity} and above)</td>
  </tr>`;
}

function targetsTable(targets: readonly IntegrationStatus[], nowMs: number): Html {
  if (targets.length === 0)
    return html`<p class="muted">
      No integration targets are configured. Add them under <code>integrations:</code> in server.yaml.
    </p>`;
  return html`<table class="integrations">
    <caption class="visually-hidden">
      Integration targets and their delivery health
    </caption>
    <thead>
      <tr>
        <th scope="col">Target</th>
        <th scope="col">Type</th>
        <th scope="col">Endpoint</th>
        <th scope="col">Health</th>
        <th scope="col">Queued</th>
        <th scope="col">Delivered</th>
        <th scope="col">Retried</th>
        <th scope="col">Dead</th>
        <th scope="col">Last success</th>
        <th scope="col">Last error</th>
        <th scope="col">Events</th>
      </tr>
    </thead>
    <tbody>
      ${targets.map((t) => targetRow(t, nowMs))}
    </tbody>
  </table>`;
}

export function integrationPages(deps: IntegrationPagesDeps): AnyRoute[] {
  const { shell, integrations } = deps;
  return [
    pageRoute(shell, {
      method: 'GET',
      path: '/integrations',
      summary: 'Integration targets and their delivery health',
      access: 'fleet.read',
      nav: 'integrations',
      handler: ({ c, ctx }) => {
        const body = html`<h1>Integrations</h1>
          <p class="muted">
            Events delivered to webhooks, e-mail, syslog and SIEMs. Counts are since the server started; send
            a test event with <code>vigocli integrations test NAME</code>.
          </p>
          ${targetsTable(integrations.list(), Date.now())}`;
        return htmlResponse(
          c,
          renderPage(shell, {
            title: 'Integrations',
            viewer: requireViewer(c, ctx),
            nav: 'integrations',
            body,
          }),
        );
      },
    }),
  ];
}
