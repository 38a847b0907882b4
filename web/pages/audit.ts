/**
 * GET /audit          the audit log, newest first, paged by sequence number, filterable by actor (an envoy's
 *                     hostname works too), action and time range; envoys show as their hostnames and hashes
 *                     shortened with a copy button, so the page reads at any width
 * GET /audit/verify   the chain check: walks every entry, so the page asks for it separately (htmx,
 *                     on load) and the log shows at once however long the chain is
 *
 * Every query is bounded: one page of 50 by seq, the time range turned into seq bounds by a binary search
 * over the primary key (firstSeqAtOrAfter), actor and action through their (column, seq) indexes.
 */
import type { AuditRecord } from '../../server/audit/index.ts';
import { auditHead, firstSeqAtOrAfter, listAudit, verifyAudit } from '../../server/audit/index.ts';
import { VigoError } from '../../server/core/index.ts';
import type { FleetIndex } from '../../server/fleet/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import type { Store } from '../../server/store/index.ts';
import { count, shortHash, timeCell } from '../format.ts';
import type { Html } from '../html.ts';
import { html, joinHtml } from '../html.ts';
import type { Shell } from '../layout.ts';
import { renderPage } from '../layout.ts';
import type { ErrorView } from '../page-kit.ts';
import {
  copyable,
  dataTable,
  errorView,
  formView,
  htmlResponse,
  requireViewer,
  wantsFragment,
} from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';

export interface AuditPagesDeps {
  readonly shell: Shell;
  readonly store: Store;
  /** Envoy ids in actors and targets are shown as hostnames; a hostname in the actor filter is an envoy. */
  readonly fleet: Pick<FleetIndex, 'get' | 'list'>;
}

const pageSize = 50;
const chainId = 'chain-status';
/** `datetime-local` values, read as UTC: YYYY-MM-DDTHH:MM with optional seconds. */
const timeInput = { type: 'string', maxLength: 32 } as const;
const auditQuery = {
  before: { type: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
  action: { type: 'string', maxLength: 128 },
  actor: { type: 'string', maxLength: 256 },
  from: timeInput,
  to: timeInput,
} as const;

export interface AuditFilter {
  readonly action?: string;
  readonly actor?: string;
  readonly from?: string;
  readonly to?: string;
}

const envoyRef = /^envoy:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const longHex = /^[0-9a-f]{32,}$/;

/** A `datetime-local` value as UTC milliseconds; refuses anything else with the field named. */
export function parseUtcMinute(text: string, label: string): number {
  const normalized = text.length === 16 ? `${text}:00` : text;
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(normalized)
    ? Date.parse(`${normalized}Z`)
    : Number.NaN;
  // Date.parse rolls 31 February over into March: the value must read back the same.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== normalized) {
    throw new VigoError('request.invalid', `${label}: a UTC time such as 2026-03-01T14:30`, { field: label });
  }
  return ms;
}

function chainStatus(store: Store): Html {
  const result = verifyAudit(store.db);
  if (result.ok) {
    return html`<div id="${chainId}" class="banner banner-ok" role="status">
      <p>
        <strong>Chain intact:</strong> all ${count(result.count)} entries verify; head
        ${shortHash(result.headHash, 16)}.
      </p>
    </div>`;
  }
  return html`<div id="${chainId}" class="banner banner-error" role="alert">
    <p><strong>Chain broken at entry ${result.brokenSeq}:</strong> ${result.reason}</p>
    <p class="small">
      ${count(result.count)} entries verified before it. Entries may have been edited or deleted.
    </p>
  </div>`;
}

function blank(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

/** An actor or target: an envoy as its hostname (linked), other long names shortened with a copy button. */
function partyCell(fleet: AuditPagesDeps['fleet'], text: string): Html {
  const envoy = envoyRef.exec(text);
  if (envoy !== null) {
    const id = envoy[1] ?? '';
    const entry = fleet.get(id);
    if (entry !== undefined) {
      return html`<a href="/envoys/${encodeURIComponent(id)}" title="${text}">${entry.hostname}</a>`;
    }
    return html`envoy ${copyable(id, 8)}`;
  }
  return text.length > 32 ? copyable(text, 24) : html`${text}`;
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
}

/** Details as `key=value` pairs; hashes shortened with a copy button, long values cut, all of it below. */
function detailsCell(details: AuditRecord['details']): Html {
  const keys = Object.keys(details);
  if (keys.length === 0) return html``;
  let cut = false;
  const pairs = keys.map((key) => {
    const value = details[key];
    if (typeof value === 'string' && longHex.test(value)) {
      return html`<span class="detail"><span class="muted">${key}=</span>${copyable(value)}</span>`;
    }
    let text = valueText(value);
    if (text.length > 80) {
      text = `${text.slice(0, 80)}…`;
      cut = true;
    }
    return html`<span class="detail"><span class="muted">${key}=</span>${text}</span>`;
  });
  const line = html`<span class="details">${joinHtml(pairs, ' · ')}</span>`;
  if (!cut) return line;
  return html`${line}
    <details>
      <summary class="small">whole entry</summary>
      <pre class="details">${JSON.stringify(details, null, 2)}</pre>
    </details>`;
}

function pageHref(filter: AuditFilter, before?: number): string {
  const params = new URLSearchParams();
  if (before !== undefined) params.set('before', String(before));
  for (const key of ['actor', 'action', 'from', 'to'] as const) {
    const value = filter[key];
    if (value !== undefined) params.set(key, value);
  }
  const text = params.toString();
  return text === '' ? '/audit' : `/audit?${text}`;
}

function filterForm(filter: AuditFilter): Html {
  return formView({
    action: '/audit',
    method: 'get',
    layout: 'filters',
    submit: 'Filter',
    tone: 'plain',
    fields: [
      {
        kind: 'search',
        name: 'actor',
        label: 'Actor',
        value: filter.actor,
        placeholder: 'user:ann or web-1',
      },
      { kind: 'search', name: 'action', label: 'Action', value: filter.action, placeholder: 'envoy.revoked' },
      { kind: 'datetime-local', name: 'from', label: 'From (UTC)', value: filter.from },
      { kind: 'datetime-local', name: 'to', label: 'Until (UTC)', value: filter.to },
    ],
  });
}

function entriesTable(fleet: AuditPagesDeps['fleet'], entries: readonly AuditRecord[], nowMs: number): Html {
  return dataTable<AuditRecord>({
    caption: 'Audit entries, newest first',
    className: 'audit',
    rows: entries,
    empty: 'No entries match.',
    columns: [
      { header: '#', rowHeader: true, cell: (e) => e.seq },
      { header: 'When', cell: (e) => timeCell(e.at, nowMs) },
      { header: 'Actor', cell: (e) => partyCell(fleet, e.actor) },
      { header: 'Action', cell: (e) => html`<code>${e.action}</code>` },
      { header: 'Target', cell: (e) => partyCell(fleet, e.target) },
      { header: 'Details', cell: (e) => detailsCell(e.details) },
      { header: 'Hash', cell: (e) => copyable(e.hash, 8) },
    ],
  });
}

/** The actor as stored: a bare name that is an envoy's hostname means that envoy. */
function actorFilter(fleet: AuditPagesDeps['fleet'], actor: string | undefined): string | undefined {
  if (actor === undefined || actor.includes(':')) return actor;
  const hostname = actor.toLowerCase();
  const match = fleet.list({ hostnamePrefix: hostname }, 50).items.find((e) => e.hostname === hostname);
  return match === undefined ? actor : `envoy:${match.id}`;
}

export interface AuditPage {
  readonly entries: AuditRecord[];
  /** The seq to ask for older entries with, when there are any. */
  readonly olderBefore: number | undefined;
}

/** One page of entries, newest first, within the filter; at most pageSize rows read. */
export function auditPage(
  store: Store,
  fleet: AuditPagesDeps['fleet'],
  filter: AuditFilter,
  before: number | undefined,
): AuditPage {
  const headSeq = auditHead(store.db)?.seq ?? 0;
  const fromMs = filter.from === undefined ? undefined : parseUtcMinute(filter.from, 'From');
  const toMs = filter.to === undefined ? undefined : parseUtcMinute(filter.to, 'Until');
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
    throw new VigoError('request.invalid', 'Until: must be later than From', { field: 'to' });
  }
  let beforeSeq = before ?? headSeq + 1;
  if (toMs !== undefined) beforeSeq = Math.min(beforeSeq, firstSeqAtOrAfter(store.db, toMs, headSeq));
  const lowestSeq = fromMs === undefined ? 1 : firstSeqAtOrAfter(store.db, fromMs, headSeq);
  if (beforeSeq <= lowestSeq) return { entries: [], olderBefore: undefined };
  const listed = listAudit(store.db, {
    limit: pageSize,
    beforeSeq,
    action: filter.action,
    actor: actorFilter(fleet, filter.actor),
  });
  const entries = listed.filter((e) => e.seq >= lowestSeq);
  const last = entries.at(-1);
  const more = listed.length === pageSize && entries.length === listed.length && last !== undefined;
  return { entries, olderBefore: more && last.seq > lowestSeq ? last.seq : undefined };
}

export function auditPages(deps: AuditPagesDeps): AnyRoute[] {
  const { shell, store, fleet } = deps;
  return [
    pageRoute<typeof auditQuery>(shell, {
      method: 'GET',
      path: '/audit',
      summary: 'Audit log',
      access: 'audit.read',
      nav: 'audit',
      query: auditQuery,
      handler: ({ c, ctx, query }) => {
        const filter: AuditFilter = {
          action: blank(query.action),
          actor: blank(query.actor),
          from: blank(query.from),
          to: blank(query.to),
        };
        let page: AuditPage = { entries: [], olderBefore: undefined };
        let error: ErrorView | undefined;
        try {
          page = auditPage(store, fleet, filter, query.before);
        } catch (err) {
          error = errorView(c, err);
        }
        const body = html`<h1>Audit log</h1>
          <div id="${chainId}" hx-get="/audit/verify" hx-trigger="load" hx-swap="outerHTML">
            <p class="muted">Verifying the hash chain… <a href="/audit/verify">verify now</a></p>
          </div>
          ${filterForm(filter)} ${error === undefined ? entriesTable(fleet, page.entries, Date.now()) : ''}
          <nav class="pager" aria-label="Audit pages">
            ${query.before === undefined ? '' : html`<a href="${pageHref(filter)}">Newest</a>`}
            ${page.olderBefore === undefined ? '' : html`<a href="${pageHref(filter, page.olderBefore)}" rel="next">Older →</a>`}
          </nav>`;
        const viewer = requireViewer(c, ctx);
        return htmlResponse(
          c,
          renderPage(shell, { title: 'Audit log', viewer, nav: 'audit', body, error }),
          error?.status ?? 200,
        );
      },
    }),
    pageRoute(shell, {
      method: 'GET',
      path: '/audit/verify',
      summary: 'Verify the audit hash chain',
      access: 'audit.read',
      nav: 'audit',
      handler: ({ c, ctx }) => {
        const status = chainStatus(store);
        if (wantsFragment(c, chainId)) return htmlResponse(c, status);
        const body = html`<h1>Audit chain</h1>
          ${status}
          <p><a href="/audit">Back to the audit log</a></p>`;
        return htmlResponse(
          c,
          renderPage(shell, { title: 'Audit chain', viewer: requireViewer(c, ctx), nav: 'audit', body }),
        );
      },
    }),
  ];
}
