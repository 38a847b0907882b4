/**
 * GET /envoys: search (hostname prefix or glob), status, convergence, drift, reachability and trait filters,
 * cursor paging both ways. The
 * form and the pager ask htmx for the results block only and push the URL, so every view is a shareable
 * link; without JavaScript the same URLs load whole pages. FleetIndex answers from memory (binary search
 * plus scan), so a page costs the same at 100,000 envoys as at ten.
 */
import { convergenceStatuses, driftLevels, reachabilities } from '../../server/convergence/index.ts';
import type { EnvoyEntry, FleetAdmin, FleetIndex } from '../../server/fleet/index.ts';
import { envoyReachability } from '../../server/fleet/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import type { PublishService } from '../../server/publish/index.ts';
import type { EnvoySearch } from '../envoy-query.ts';
import {
  decodeCursor,
  encodeCursor,
  envoyFilter,
  envoyStatusFilters,
  parseChoice,
  parseStatusFilter,
} from '../envoy-query.ts';
import { envoyState } from '../fleet-stats.ts';
import { badge, count, timeCell } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { renderPage } from '../layout.ts';
import type { WebContext } from '../page-kit.ts';
import { errorView, htmlResponse, requireViewer, wantsFragment } from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';

export interface EnvoyListDeps {
  readonly shell: Shell;
  readonly fleet: FleetIndex;
  readonly fleetAdmin: FleetAdmin;
  readonly publish: PublishService;
}

export const envoyPageSize = { default: 50, max: 200 } as const;
const resultsId = 'envoy-results';

const listQuery = {
  q: { type: 'string', maxLength: 253 },
  status: { type: 'string', maxLength: 16 },
  convergence: { type: 'string', maxLength: 16 },
  drift: { type: 'string', maxLength: 16 },
  reachability: { type: 'string', maxLength: 16 },
  trait: { type: 'string', maxLength: 1024 },
  cursor: { type: 'string', maxLength: 1400 },
  limit: { type: 'integer', min: 1, max: envoyPageSize.max },
} as const;

function listUrl(search: EnvoySearch, cursor: string | undefined, limit: number): string {
  const params = new URLSearchParams();
  if (search.q !== undefined) params.set('q', search.q);
  if (search.status !== undefined) params.set('status', search.status);
  if (search.convergence !== undefined) params.set('convergence', search.convergence);
  if (search.drift !== undefined) params.set('drift', search.drift);
  if (search.reachability !== undefined) params.set('reachability', search.reachability);
  if (search.trait !== undefined) params.set('trait', search.trait);
  if (cursor !== undefined) params.set('cursor', encodeCursor(cursor));
  if (limit !== envoyPageSize.default) params.set('limit', String(limit));
  const text = params.toString();
  return text === '' ? '/envoys' : `/envoys?${text}`;
}

function pagerLink(label: string, href: string | undefined, rel: string): Html {
  if (href === undefined) return html`<span class="pager-off" aria-disabled="true">${label}</span>`;
  return html`<a
    href="${href}"
    rel="${rel}"
    hx-get="${href}"
    hx-target="#${resultsId}"
    hx-swap="outerHTML"
    hx-push-url="true"
    >${label}</a
  >`;
}

export function envoyRow(e: EnvoyEntry, nowMs: number, activeVersion: number | undefined): Html {
  const current = activeVersion !== undefined && e.policyVersion === activeVersion;
  return html`<tr>
    <th scope="row"><a href="/envoys/${encodeURIComponent(e.id)}">${e.hostname}</a></th>
    <td>${badge(envoyState(e))}</td>
    <td>${badge(e.convergence.status)}</td>
    <td>${badge(e.convergence.drift)}</td>
    <td>${badge(envoyReachability(e))}</td>
    <td>${timeCell(e.lastSeenAtMs, nowMs)}</td>
    <td>${e.policyVersion}${current ? html` <span class="muted small">(active)</span>` : ''}</td>
    <td>${e.agentVersion === '' ? html`<span class="muted">—</span>` : e.agentVersion}</td>
    <td>${timeCell(e.enrolledAtMs, nowMs)}</td>
  </tr>`;
}

interface Results {
  readonly items: readonly EnvoyEntry[];
  readonly total: number;
  readonly previous: string | undefined;
  readonly next: string | undefined;
}

function resultsBlock(r: Results, nowMs: number, activeVersion: number | undefined): Html {
  const table =
    r.items.length === 0
      ? html`<p class="muted">No envoy matches.</p>`
      : html`<table class="envoys">
          <caption class="visually-hidden">
            Envoys
          </caption>
          <thead>
            <tr>
              <th scope="col">Hostname</th>
              <th scope="col">State</th>
              <th scope="col">Convergence</th>
              <th scope="col">Drift</th>
              <th scope="col">Reachability</th>
              <th scope="col">Last seen</th>
              <th scope="col">Config version</th>
              <th scope="col">Agent</th>
              <th scope="col">Enrolled</th>
            </tr>
          </thead>
          <tbody>
            ${r.items.map((e) => envoyRow(e, nowMs, activeVersion))}
          </tbody>
        </table>`;
  return html`<div id="${resultsId}" aria-live="polite">
    <p class="result-count">${count(r.total)} ${r.total === 1 ? 'envoy matches' : 'envoys match'}</p>
    ${table}
    <nav class="pager" aria-label="Pages">
      ${pagerLink('← Previous', r.previous, 'prev')} ${pagerLink('Next →', r.next, 'next')}
    </nav>
  </div>`;
}

function choiceField(
  name: string,
  label: string,
  values: readonly string[],
  chosen: string | undefined,
): Html {
  return html`<div class="field">
    <label for="${name}">${label}</label>
    <select id="${name}" name="${name}">
      <option value="">all</option>
      ${values.map((v) => html`<option value="${v}" ${chosen === v ? html`selected` : ''}>${v}</option>`)}
    </select>
  </div>`;
}

function searchForm(search: EnvoySearch): Html {
  return html`<form
    class="filters"
    method="get"
    action="/envoys"
    role="search"
    hx-get="/envoys"
    hx-target="#${resultsId}"
    hx-swap="outerHTML"
    hx-push-url="true"
    hx-trigger="submit, input changed delay:300ms from:#q, change from:select"
  >
    <div class="field">
      <label for="q">Hostname</label>
      <input
        id="q"
        name="q"
        type="search"
        value="${search.q ?? ''}"
        placeholder="web- or web-*.eu"
        aria-describedby="q-help"
        autocomplete="off"
      />
      <span id="q-help" class="muted small">prefix, or a glob with * and ?</span>
    </div>
    <div class="field">
      <label for="status">Status</label>
      <select id="status" name="status">
        <option value="">all</option>
        ${envoyStatusFilters.map(
          (s) => html`<option value="${s}" ${search.status === s ? html`selected` : ''}>${s}</option>`,
        )}
      </select>
    </div>
    ${choiceField('convergence', 'Convergence', convergenceStatuses, search.convergence)}
    ${choiceField('drift', 'Drift', driftLevels, search.drift)}
    ${choiceField('reachability', 'Reachability', reachabilities, search.reachability)}
    <div class="field grow">
      <label for="trait">Traits</label>
      <input
        id="trait"
        name="trait"
        value="${search.trait ?? ''}"
        placeholder="os.family=debian,memory.total_mb>=4096"
        autocomplete="off"
      />
    </div>
    <button type="submit">Search</button>
  </form>`;
}

function blank(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

function findResults(
  deps: EnvoyListDeps,
  search: EnvoySearch,
  cursorText: string | undefined,
  limit: number,
): Results {
  const filter = envoyFilter(search, deps.fleetAdmin);
  const cursor = decodeCursor(cursorText);
  const page = deps.fleet.list(filter, limit, cursor);
  const previous =
    cursor === undefined
      ? undefined
      : listUrl(search, deps.fleet.previousCursor(filter, cursor, limit), limit);
  return {
    items: page.items,
    total: page.total,
    previous,
    next: page.nextCursor === undefined ? undefined : listUrl(search, page.nextCursor, limit),
  };
}

function errorBlock(c: WebContext, err: unknown): { block: Html; status: number } {
  const error = errorView(c, err);
  const block = html`<div id="${resultsId}" aria-live="polite">
    <div class="banner banner-error" role="alert"><p>${error.message}</p></div>
  </div>`;
  return { block, status: error.status };
}

export function envoyListPages(deps: EnvoyListDeps): AnyRoute[] {
  const { shell } = deps;
  return [
    pageRoute<typeof listQuery>(shell, {
      method: 'GET',
      path: '/envoys',
      summary: 'Envoys: search, filter, page',
      access: 'fleet.read',
      nav: 'envoys',
      query: listQuery,
      handler: ({ c, ctx, query }) => {
        const nowMs = Date.now();
        const activeVersion = deps.publish.status().active?.version;
        let search: EnvoySearch = { q: blank(query.q), trait: blank(query.trait) };
        let shown: { block: Html; status: number };
        try {
          search = {
            ...search,
            status: parseStatusFilter(blank(query.status)),
            convergence: parseChoice('convergence', convergenceStatuses, blank(query.convergence)),
            drift: parseChoice('drift', driftLevels, blank(query.drift)),
            reachability: parseChoice('reachability', reachabilities, blank(query.reachability)),
          };
          const results = findResults(
            deps,
            search,
            blank(query.cursor),
            query.limit ?? envoyPageSize.default,
          );
          shown = { block: resultsBlock(results, nowMs, activeVersion), status: 200 };
        } catch (err) {
          // A bad glob or trait filter is shown under the form, which keeps what was typed.
          shown = errorBlock(c, err);
        }
        if (wantsFragment(c, resultsId)) return htmlResponse(c, shown.block, shown.status);
        const body = html`<h1>Envoys</h1>
          ${searchForm(search)} ${shown.block}`;
        const viewer = requireViewer(c, ctx);
        return htmlResponse(
          c,
          renderPage(shell, { title: 'Envoys', viewer, nav: 'envoys', body }),
          shown.status,
        );
      },
    }),
  ];
}
