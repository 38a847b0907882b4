/**
 * GET /audit          the audit log, newest first, paged by sequence number, filterable by action/actor
 * GET /audit/verify   the chain check: walks every entry, so the page asks for it separately (htmx,
 *                     on load) and the log shows at once however long the chain is
 */
import type { AuditRecord } from '../../server/audit/index.ts';
import { auditHead, listAudit, verifyAudit } from '../../server/audit/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import type { Store } from '../../server/store/index.ts';
import { count, shortHash, timeCell } from '../format.ts';
import type { Html } from '../html.ts';
import { html, joinHtml } from '../html.ts';
import type { Shell } from '../layout.ts';
import { renderPage } from '../layout.ts';
import { htmlResponse, requireViewer, wantsFragment } from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';

export interface AuditPagesDeps {
  readonly shell: Shell;
  readonly store: Store;
}

const pageSize = 50;
const chainId = 'chain-status';
const auditQuery = {
  before: { type: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
  action: { type: 'string', maxLength: 128 },
  actor: { type: 'string', maxLength: 256 },
} as const;

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
}

/** Details as `key=value` pairs; long values are cut, the whole document unfolds below. */
function detailsCell(details: AuditRecord['details']): Html {
  const keys = Object.keys(details);
  if (keys.length === 0) return html``;
  let cut = false;
  const pairs = keys.map((key) => {
    let text = valueText(details[key]);
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

function olderHref(before: number, action: string | undefined, actor: string | undefined): string {
  const params = new URLSearchParams({ before: String(before) });
  if (action !== undefined) params.set('action', action);
  if (actor !== undefined) params.set('actor', actor);
  return `/audit?${params.toString()}`;
}

function filterForm(action: string | undefined, actor: string | undefined): Html {
  return html`<form class="filters" method="get" action="/audit" role="search">
    <div class="field">
      <label for="action">Action</label>
      <input id="action" name="action" value="${action ?? ''}" placeholder="envoy.revoked" />
    </div>
    <div class="field">
      <label for="actor">Actor</label>
      <input id="actor" name="actor" value="${actor ?? ''}" placeholder="user:ann" />
    </div>
    <button type="submit">Filter</button>
  </form>`;
}

function entriesTable(entries: readonly AuditRecord[], nowMs: number): Html {
  if (entries.length === 0) return html`<p class="muted">No entries.</p>`;
  return html`<table class="audit">
    <caption class="visually-hidden">
      Audit entries, newest first
    </caption>
    <thead>
      <tr>
        <th scope="col">#</th>
        <th scope="col">When</th>
        <th scope="col">Actor</th>
        <th scope="col">Action</th>
        <th scope="col">Target</th>
        <th scope="col">Details</th>
      </tr>
    </thead>
    <tbody>
      ${entries.map(
        (e) =>
          html`<tr>
            <th scope="row">${e.seq}</th>
            <td>${timeCell(e.at, nowMs)}</td>
            <td>${e.actor}</td>
            <td><code>${e.action}</code></td>
            <td>${e.target}</td>
            <td>${detailsCell(e.details)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function auditPages(deps: AuditPagesDeps): AnyRoute[] {
  const { shell, store } = deps;
  return [
    pageRoute<typeof auditQuery>(shell, {
      method: 'GET',
      path: '/audit',
      summary: 'Audit log',
      access: 'audit.read',
      nav: 'audit',
      query: auditQuery,
      handler: ({ c, ctx, query }) => {
        const nowMs = Date.now();
        const action = blank(query.action);
        const actor = blank(query.actor);
        const head = auditHead(store.db);
        const beforeSeq = query.before ?? (head?.seq ?? 0) + 1;
        const entries = listAudit(store.db, { limit: pageSize, beforeSeq, action, actor });
        const last = entries.at(-1);
        const more = entries.length === pageSize && last !== undefined && last.seq > 1;
        const body = html`<h1>Audit log</h1>
          <div id="${chainId}" hx-get="/audit/verify" hx-trigger="load" hx-swap="outerHTML">
            <p class="muted">Verifying the hash chain… <a href="/audit/verify">verify now</a></p>
          </div>
          ${filterForm(action, actor)} ${entriesTable(entries, nowMs)}
          <nav class="pager" aria-label="Audit pages">
            ${query.before === undefined ? '' : html`<a href="/audit">Newest</a>`}
            ${more && last !== undefined ? html`<a href="${olderHref(last.seq, action, actor)}" rel="next">Older →</a>` : ''}
          </nav>`;
        return htmlResponse(
          c,
          renderPage(shell, { title: 'Audit log', viewer: requireViewer(c, ctx), nav: 'audit', body }),
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
