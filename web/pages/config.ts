/**
 * GET  /config                          active and pending versions, freeze, history (paged)
 * GET  /config/versions/{version}       one version and its diff against the version before it
 * POST /config/versions/{version}/approve|reject   [config.publish] decide a pending version
 * and the rollback preview and confirmation (config-diff.ts)
 */
import type { Ctx } from '../../server/core/index.ts';
import { VigoError } from '../../server/core/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import type { PublishService, VersionRow } from '../../server/publish/index.ts';
import { badge, shortHash, timeCell } from '../format.ts';
import type { Html } from '../html.ts';
import { html, joinHtml } from '../html.ts';
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
import { dataTable, formView } from '../view-kit.ts';
import { configDiffPages, envoysChanging, fieldDiffView, rollbackLink } from './config-diff.ts';

export interface ConfigPagesDeps {
  readonly shell: Shell;
  readonly publish: PublishService;
}

const historyPageSize = 25;
const noticeKeys = ['approved', 'rejected', 'rolledback'] as const;
const notices: Readonly<Record<(typeof noticeKeys)[number], string>> = {
  approved: 'The version is approved and now active; envoys receive it at their next check-in.',
  rejected: 'The version is rejected; it will not be served.',
  rolledback:
    'Rolled back: the new active version serves the earlier configuration; envoys receive it at their next check-in.',
};
const configQuery = {
  before: { type: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
  notice: { type: 'enum', values: noticeKeys },
} as const;

function versionNumber(text: string): number {
  const n = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new VigoError('request.invalid', `version: "${text.slice(0, 40)}" is not a version number`, {
      field: 'version',
    });
  }
  return n;
}

function versionHref(v: number): string {
  return `/config/versions/${v}`;
}

function decisionForms(viewer: Viewer, v: VersionRow): Html {
  if (v.status !== 'pending' || !viewer.can('config.publish')) return html``;
  return html`<div class="decision">
    ${formView({
      action: `${versionHref(v.version)}/approve`,
      viewer,
      layout: 'filters',
      submit: `Approve version ${v.version}`,
      confirm: `Approve version ${v.version}? It becomes active for the whole fleet at once.`,
      fields: [],
    })}
    ${formView({
      action: `${versionHref(v.version)}/reject`,
      viewer,
      layout: 'filters',
      tone: 'danger',
      submit: 'Reject',
      fields: [
        {
          kind: 'text',
          name: 'reason',
          id: `reject-reason-${v.version}`,
          label: 'Reason',
          maxLength: 1024,
          placeholder: 'why it must not ship',
        },
      ],
    })}
  </div>`;
}

function historyTable(rows: readonly VersionRow[], nowMs: number): Html {
  return dataTable({
    caption: 'Config versions',
    empty: 'No versions yet.',
    rows,
    columns: [
      {
        header: 'Version',
        rowHeader: true,
        cell: (v) => html`<a href="${versionHref(v.version)}">${v.version}</a>`,
      },
      { header: 'Status', cell: (v) => badge(v.status) },
      { header: 'Published by', cell: (v) => v.createdBy },
      { header: 'When', cell: (v) => timeCell(v.createdAtMs, nowMs) },
      { header: 'Approved by', cell: (v) => v.approvedBy ?? '' },
      { header: 'Snapshot', cell: (v) => shortHash(v.snapshotHash) },
      { header: 'Message', cell: (v) => v.message ?? '' },
    ],
  });
}

function statusBlock(deps: ConfigPagesDeps, viewer: Viewer, nowMs: number): Html {
  const { active, pending, frozen } = deps.publish.status();
  return html`<section aria-labelledby="status-title" class="status-block">
    <h2 id="status-title">Status</h2>
    <dl class="facts">
      <dt>Active version</dt>
      <dd id="active-version">
        ${
          active === undefined
            ? 'none'
            : html`<a href="${versionHref(active.version)}">${active.version}</a> by ${active.createdBy},
                ${timeCell(active.createdAtMs, nowMs)}`
        }
      </dd>
      <dt>Pending approval</dt>
      <dd id="pending-version">
        ${
          pending === undefined
            ? 'none'
            : html`<a href="${versionHref(pending.version)}">${pending.version}</a> by ${pending.createdBy},
                ${timeCell(pending.createdAtMs, nowMs)}${pending.message === null ? '' : html` — ${pending.message}`}`
        }
      </dd>
      <dt>Freeze</dt>
      <dd>
        ${
          frozen === undefined
            ? 'not frozen'
            : html`frozen until
              ${timeCell(frozen.untilMs, nowMs)}${frozen.reason === '' ? '' : html`: ${frozen.reason}`}`
        }
      </dd>
    </dl>
    ${pending === undefined ? '' : decisionForms(viewer, pending)}
  </section>`;
}

interface View {
  readonly notice?: string;
  readonly error?: ErrorView;
}

function configPage(
  deps: ConfigPagesDeps,
  c: WebContext,
  ctx: Ctx,
  before: number | undefined,
  view: View,
): Response {
  const nowMs = Date.now();
  const viewer = requireViewer(c, ctx);
  const rows = deps.publish.history(historyPageSize + 1, before);
  const shown = rows.slice(0, historyPageSize);
  const last = shown.at(-1);
  const older =
    rows.length > historyPageSize && last !== undefined ? `/config?before=${last.version}` : undefined;
  const body = html`<h1>Config</h1>
    ${statusBlock(deps, viewer, nowMs)}
    <section aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      ${historyTable(shown, nowMs)}
      <nav class="pager" aria-label="History pages">
        ${before === undefined ? '' : html`<a href="/config">Newest</a>`}
        ${older === undefined ? '' : html`<a href="${older}" rel="next">Older →</a>`}
      </nav>
    </section>`;
  const page = renderPage(deps.shell, { title: 'Config', viewer, nav: 'config', body, ...view });
  return htmlResponse(c, page, view.error?.status ?? 200);
}

function diffList(label: string, ids: readonly string[]): Html {
  if (ids.length === 0) return html``;
  return html`<p>
    <strong>${label}:</strong> ${joinHtml(
      ids.map((id) => html`<code>${id}</code>`),
      ', ',
    )}
  </p>`;
}

async function versionPage(
  deps: ConfigPagesDeps,
  c: WebContext,
  ctx: Ctx,
  version: number,
  view: View,
): Promise<Response> {
  const nowMs = Date.now();
  const viewer = requireViewer(c, ctx);
  const [detail, fieldDiff] = await Promise.all([deps.publish.show(version), deps.publish.diff(version)]);
  const v = detail.version;
  const changed = detail.diff.filter((d) => d.status !== 'unchanged');
  const unchanged = detail.diff.length - changed.length;
  const body = html`<p class="breadcrumb"><a href="/config">Config</a> /</p>
    <h1>Version ${v.version} ${badge(v.status)}</h1>
    <dl class="facts">
      <dt>Published by</dt>
      <dd>${v.createdBy}, ${timeCell(v.createdAtMs, nowMs)}</dd>
      <dt>Message</dt>
      <dd>${v.message ?? '—'}</dd>
      <dt>Approved by</dt>
      <dd>${v.approvedBy === null ? '—' : html`${v.approvedBy}, ${timeCell(v.approvedAtMs, nowMs)}`}</dd>
      <dt>Source</dt>
      <dd>${v.source ?? '—'}</dd>
      <dt>Snapshot</dt>
      <dd>${shortHash(v.snapshotHash, 64)}</dd>
      <dt>Host entries</dt>
      <dd>${detail.entries}</dd>
    </dl>
    ${decisionForms(viewer, v)} ${rollbackLink(viewer, v.version, deps.publish.status().active?.version)}
    <section aria-labelledby="fields-title">
      <h2 id="fields-title">
        Resources, field by field
        ${fieldDiff.against === null ? '' : html`since version ${fieldDiff.against}`}
      </h2>
      ${envoysChanging(fieldDiff.impact)} ${fieldDiffView(fieldDiff.impact.fields)}
    </section>
    <section aria-labelledby="diff-title">
      <h2 id="diff-title">
        Changes ${detail.comparedWith === null ? '' : html`since version ${detail.comparedWith}`}
      </h2>
      ${
        changed.length === 0
          ? html`<p class="muted">No host entry changes.</p>`
          : html`<ul class="diff">
              ${changed.map(
                (d) =>
                  html`<li>
                    <h3><code>${d.entryId}</code> ${badge(d.status)}</h3>
                    ${diffList('Added', d.added)} ${diffList('Changed', d.changed)}
                    ${diffList('Removed', d.removed)}
                  </li>`,
              )}
            </ul>`
      }
      ${unchanged > 0 ? html`<p class="muted small">${unchanged} host entries unchanged.</p>` : ''}
    </section>`;
  const page = renderPage(deps.shell, {
    title: `Version ${v.version}`,
    viewer,
    nav: 'config',
    body,
    ...view,
  });
  return htmlResponse(c, page, view.error?.status ?? 200);
}

function decisionRoute(deps: ConfigPagesDeps, decision: 'approve' | 'reject'): AnyRoute {
  return pageRoute(deps.shell, {
    method: 'POST',
    path: `/config/versions/{version}/${decision}`,
    summary: decision === 'approve' ? 'Approve a pending config version' : 'Reject a pending config version',
    access: 'config.publish',
    nav: 'config',
    handler: async ({ c, ctx }) => {
      const version = versionNumber(pathParam(c, 'version'));
      const form = await readForm(c);
      try {
        if (decision === 'approve') await deps.publish.approve(ctx, version);
        else deps.publish.reject(ctx, version, optionalField(form, 'reason', 1024, 'Reason') ?? '');
        return seeOther(c, `/config?notice=${decision === 'approve' ? 'approved' : 'rejected'}`);
      } catch (err) {
        return await versionPage(deps, c, ctx, version, { error: errorView(c, err) });
      }
    },
  });
}

export function configPages(deps: ConfigPagesDeps): AnyRoute[] {
  const { shell } = deps;
  return [
    pageRoute<typeof configQuery>(shell, {
      method: 'GET',
      path: '/config',
      summary: 'Config status and history',
      access: 'fleet.read',
      nav: 'config',
      query: configQuery,
      handler: ({ c, ctx, query }) =>
        configPage(deps, c, ctx, query.before, {
          notice: query.notice === undefined ? undefined : notices[query.notice],
        }),
    }),
    pageRoute(shell, {
      method: 'GET',
      path: '/config/versions/{version}',
      summary: 'One config version and its diff',
      access: 'fleet.read',
      nav: 'config',
      handler: ({ c, ctx }) => versionPage(deps, c, ctx, versionNumber(pathParam(c, 'version')), {}),
    }),
    decisionRoute(deps, 'approve'),
    decisionRoute(deps, 'reject'),
    ...configDiffPages({ ...deps, versionNumber }),
  ];
}
