/**
 * GET /envoys: the fleet as a table — health (following convergence), last run, OS, address, config
 * version — searched with the REST API's query language (status incl. never_seen and failing,
 * convergence, drift, reachability, hostname glob, hostname_prefix, trait) plus the search box `q`, and
 * sortable by hostname, state, last seen, config version or agent. The form, the pager and the sort
 * headers ask htmx for the results block only and push the URL, so every view is a shareable link; without
 * JavaScript the same URLs load whole pages.
 *
 * Cost at 100,000 envoys: sorted by hostname, FleetIndex answers from the order it keeps (binary search
 * plus one filtering scan); any other sort filters the fleet once and sorts the matches (one keyed sort,
 * tens of milliseconds), then shows one page of them. Traits are read for the shown rows only.
 */
import { convergenceStatuses, driftLevels, reachabilities } from '../../server/convergence/index.ts';
import type { EnvoyEntry, FleetAdmin, FleetIndex } from '../../server/fleet/index.ts';
import { envoyListStatuses, envoyQueryTextRules } from '../../server/fleet/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import type { PublishService } from '../../server/publish/index.ts';
import type { LatestRunsReader } from '../../server/runs/index.ts';
import { envoyTable } from '../envoy-table/index.ts';
import type { EnvoyOrder, EnvoySearch } from '../envoy-query.ts';
import {
  decodeCursor,
  defaultOrder,
  encodeCursor,
  envoyFilter,
  parseEnvoySearch,
  parseOrder,
  searchParams,
  sortEnvoys,
} from '../envoy-query.ts';
import { count } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { csrfInput, renderPage } from '../layout.ts';
import type { Viewer, WebContext } from '../page-kit.ts';
import { errorView, htmlResponse, requireViewer, wantsFragment } from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';
import { bulkFormId, bulkLimits, bulkNotice } from './envoy-bulk.ts';

export interface EnvoyListDeps {
  readonly shell: Shell;
  readonly fleet: FleetIndex;
  readonly fleetAdmin: FleetAdmin;
  readonly publish: PublishService;
  readonly latestRuns: LatestRunsReader;
}

export const envoyPageSize = { default: 50, max: 200 } as const;
/** How deep a sorted (not by hostname) list pages: offsets beyond any fleet this server holds. */
const maxOffset = 1_000_000;
const resultsId = 'envoy-results';

const listQuery = {
  q: { type: 'string', maxLength: 253 },
  ...envoyQueryTextRules,
  sort: { type: 'string', maxLength: 16 },
  dir: { type: 'string', maxLength: 4 },
  cursor: { type: 'string', maxLength: 1400 },
  from: { type: 'integer', min: 0, max: maxOffset },
  limit: { type: 'integer', min: 1, max: envoyPageSize.max },
  notice: { type: 'enum', values: ['bulk-pushed', 'bulk-revoked'] },
  n: { type: 'integer', min: 0, max: bulkLimits.maxEnvoys },
} as const;

interface Paging {
  readonly cursor?: string;
  readonly from?: number;
}

function listUrl(search: EnvoySearch, order: EnvoyOrder, paging: Paging, limit: number): string {
  const params = searchParams(search);
  if (order.sort !== defaultOrder.sort || order.dir !== defaultOrder.dir) {
    params.set('sort', order.sort);
    params.set('dir', order.dir);
  }
  if (paging.cursor !== undefined) params.set('cursor', encodeCursor(paging.cursor));
  if (paging.from !== undefined && paging.from > 0) params.set('from', String(paging.from));
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

interface Results {
  readonly items: readonly EnvoyEntry[];
  readonly total: number;
  readonly previous: string | undefined;
  readonly next: string | undefined;
}

function findResults(
  deps: EnvoyListDeps,
  search: EnvoySearch,
  order: EnvoyOrder,
  paging: Paging,
  limit: number,
): Results {
  const filter = envoyFilter(search, deps.fleetAdmin);
  if (order.sort === 'hostname' && order.dir === 'asc') {
    const cursor = paging.cursor;
    const page = deps.fleet.list(filter, limit, cursor);
    return {
      items: page.items,
      total: page.total,
      previous:
        cursor === undefined
          ? undefined
          : listUrl(search, order, { cursor: deps.fleet.previousCursor(filter, cursor, limit) }, limit),
      next:
        page.nextCursor === undefined
          ? undefined
          : listUrl(search, order, { cursor: page.nextCursor }, limit),
    };
  }
  const all = deps.fleet.list(filter, Math.max(1, deps.fleet.size), undefined).items;
  const from = Math.min(paging.from ?? 0, Math.max(0, all.length - 1));
  const items = sortEnvoys(all, order).slice(from, from + limit);
  return {
    items,
    total: all.length,
    previous: from === 0 ? undefined : listUrl(search, order, { from: Math.max(0, from - limit) }, limit),
    next: from + limit >= all.length ? undefined : listUrl(search, order, { from: from + limit }, limit),
  };
}

function mayAct(viewer: Viewer): boolean {
  return viewer.can('push.execute') || viewer.can('fleet.write');
}

function bulkForm(viewer: Viewer, back: string): Html {
  if (!mayAct(viewer)) return html``;
  return html`<form id="${bulkFormId}" class="bulk-actions" method="post" action="/envoys/bulk/push">
    ${csrfInput(viewer)}
    <input type="hidden" name="back" value="${back}" />
    <span class="muted small">Selected envoys (up to ${bulkLimits.maxEnvoys}):</span>
    ${
      viewer.can('push.execute')
        ? html`<button type="submit" formaction="/envoys/bulk/push" data-bulk="push">Force push…</button>`
        : ''
    }
    ${
      viewer.can('fleet.write')
        ? html`<button type="submit" formaction="/envoys/bulk/revoke" class="danger" data-bulk="revoke">
            Revoke…
          </button>`
        : ''
    }
  </form>`;
}

function resultsBlock(
  deps: EnvoyListDeps,
  r: Results,
  view: { viewer: Viewer; search: EnvoySearch; order: EnvoyOrder; limit: number; here: string },
): Html {
  const nowMs = Date.now();
  const act = mayAct(view.viewer);
  const table =
    r.items.length === 0
      ? html`<p class="muted">No envoy matches.</p>`
      : envoyTable(
          r.items,
          {
            nowMs,
            activeVersion: deps.publish.status().active?.version,
            latestRuns: deps.latestRuns.latest().runs,
            traitsByHash: (hash) => deps.fleetAdmin.traitsByHash(hash),
            selectForm: act ? bulkFormId : undefined,
            order: view.order,
            sortLink: (sort, dir) => listUrl(view.search, { sort, dir }, {}, view.limit),
          },
          resultsId,
        );
  return html`<div id="${resultsId}" aria-live="polite">
    <p class="result-count">${count(r.total)} ${r.total === 1 ? 'envoy matches' : 'envoys match'}</p>
    ${r.items.length === 0 ? '' : bulkForm(view.viewer, view.here)} ${table}
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
      ${values.map(
        (v) =>
          html`<option value="${v}" ${chosen === v ? html`selected` : ''}>${v.replace('_', ' ')}</option>`,
      )}
    </select>
  </div>`;
}

function textField(name: string, label: string, value: string | undefined, placeholder: string): Html {
  return html`<div class="field grow">
    <label for="${name}">${label}</label>
    <input
      id="${name}"
      name="${name}"
      value="${value ?? ''}"
      placeholder="${placeholder}"
      autocomplete="off"
    />
  </div>`;
}

/**
 * What the search box shows: `q`, or the API's hostname parameters of a link (/envoys?hostname=db-*),
 * which the box then carries on as `q` with the same meaning (a glob, or a prefix).
 */
function searchBoxText(search: EnvoySearch): string {
  return search.q ?? search.hostname ?? search.hostname_prefix ?? '';
}

function searchForm(search: EnvoySearch, order: EnvoyOrder): Html {
  const sorted = order.sort !== defaultOrder.sort || order.dir !== defaultOrder.dir;
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
    style="flex-wrap: wrap"
  >
    <div class="field">
      <label for="q">Hostname</label>
      <input
        id="q"
        name="q"
        type="search"
        value="${searchBoxText(search)}"
        placeholder="web- or web-*.eu"
        aria-describedby="q-help"
        autocomplete="off"
      />
      <span id="q-help" class="muted small">prefix, or a glob with * and ?</span>
    </div>
    ${choiceField('status', 'Status', envoyListStatuses, search.status)}
    ${choiceField('convergence', 'Convergence', convergenceStatuses, search.convergence)}
    ${choiceField('drift', 'Drift', driftLevels, search.drift)}
    ${choiceField('reachability', 'Reachability', reachabilities, search.reachability)}
    ${textField('trait', 'Traits', search.trait, 'os.family=debian,memory.total_mb>=4096')}
    ${
      sorted
        ? html`<input type="hidden" name="sort" value="${order.sort}" />
            <input type="hidden" name="dir" value="${order.dir}" />`
        : ''
    }
    <button type="submit">Search</button>
  </form>`;
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
      summary: 'Envoys: search, filter, sort, page',
      access: 'fleet.read',
      nav: 'envoys',
      query: listQuery,
      handler: ({ c, ctx, query }) => {
        const viewer = requireViewer(c, ctx);
        const limit = query.limit ?? envoyPageSize.default;
        let search: EnvoySearch = {
          q: query.q?.trim() || undefined,
          trait: query.trait?.trim() || undefined,
        };
        let order = defaultOrder;
        let shown: { block: Html; status: number };
        try {
          search = parseEnvoySearch(query);
          order = parseOrder(query.sort, query.dir);
          const paging = { cursor: decodeCursor(query.cursor), from: query.from };
          const results = findResults(deps, search, order, paging, limit);
          const here = listUrl(search, order, paging, limit);
          shown = { block: resultsBlock(deps, results, { viewer, search, order, limit, here }), status: 200 };
        } catch (err) {
          // A bad glob or trait filter is shown under the form, which keeps what was typed.
          shown = errorBlock(c, err);
        }
        if (wantsFragment(c, resultsId)) return htmlResponse(c, shown.block, shown.status);
        const notice = bulkNotice(query.notice, query.n);
        const body = html`<h1>Envoys</h1>
          ${searchForm(search, order)} ${shown.block}`;
        return htmlResponse(
          c,
          renderPage(shell, { title: 'Envoys', viewer, nav: 'envoys', body, notice }),
          shown.status,
        );
      },
    }),
  ];
}
