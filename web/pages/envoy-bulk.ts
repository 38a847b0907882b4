/**
 * Bulk actions on the envoys selected in the list, each in two steps: the first post shows what would
 * happen to whom (hostnames, and what is refused) with a confirm button; only the second post, carrying
 * confirm=yes, acts. Both go through the services the REST API uses, so every change is audited there:
 *
 * POST /envoys/bulk/push     [push.execute] force-push (ForcePush.push, as POST /api/v1/push)
 * POST /envoys/bulk/revoke   [fleet.write]  revoke each (FleetAdmin.revoke, as POST /api/v1/envoys/{id}/revoke)
 *
 * The selection is bounded (at most bulkLimits.maxEnvoys ids, each a bounded string) and checked whole
 * before anything changes: an unknown envoy refuses the request with nothing done.
 */
import { VigoError } from '../../server/core/index.ts';
import type { EnvoyEntry, FleetAdmin } from '../../server/fleet/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import type { ForcePush } from '../../server/orchestration/index.ts';
import { pushReasonMaxBytes, targetLimits } from '../../server/orchestration/index.ts';
import { badge } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { csrfInput, renderPage } from '../layout.ts';
import type { Viewer, WebContext } from '../page-kit.ts';
import { htmlResponse, optionalField, requireViewer, safeNext, seeOther } from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';

export const bulkFormId = 'envoy-bulk';
export const bulkLimits = { maxEnvoys: targetLimits.maxTargets, idLength: 64 } as const;

export interface EnvoyBulkDeps {
  readonly shell: Shell;
  readonly fleetAdmin: FleetAdmin;
  readonly push: ForcePush;
}

type BulkAction = 'push' | 'revoke';

const wording: Readonly<Record<BulkAction, { title: string; verb: string; button: string }>> = {
  push: {
    title: 'Force push',
    verb: 'get their full bundle again: now if their stream is open, otherwise at their next check-in',
    button: 'Force push',
  },
  revoke: {
    title: 'Revoke',
    verb: 'be revoked: their check-ins are refused until they enroll again with a new token',
    button: 'Revoke',
  },
};

interface Selection {
  readonly ids: string[];
  readonly reason: string | undefined;
  readonly back: string;
  readonly confirmed: boolean;
}

/** The posted selection, bounded and deduplicated; request.invalid for none, too many or malformed ids. */
async function readSelection(c: WebContext): Promise<Selection> {
  const body = await c.req.parseBody({ all: true });
  const raw = body['id'];
  const values = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]).filter(
    (v): v is string => typeof v === 'string',
  );
  if (values.length === 0)
    throw new VigoError('request.invalid', 'id: select at least one envoy in the list', { field: 'id' });
  if (values.length > bulkLimits.maxEnvoys)
    throw new VigoError(
      'request.invalid',
      `id: ${values.length} envoys selected; at most ${bulkLimits.maxEnvoys} at once (narrow the list with a filter)`,
      { field: 'id' },
    );
  for (const id of values)
    if (id.length === 0 || id.length > bulkLimits.idLength)
      throw new VigoError('request.invalid', 'id: not an envoy id', { field: 'id' });
  const single = (name: string): Record<string, string> => {
    const value = body[name];
    return typeof value === 'string' ? { [name]: value } : {};
  };
  return {
    ids: [...new Set(values)],
    reason: optionalField(single('reason'), 'reason', pushReasonMaxBytes, 'Reason'),
    back: safeNext(optionalField(single('back'), 'back', 2048), '/envoys'),
    confirmed: single('confirm')['confirm'] === 'yes',
  };
}

function confirmPage(
  viewer: Viewer,
  action: BulkAction,
  entries: readonly EnvoyEntry[],
  selection: Selection,
): Html {
  const words = wording[action];
  const revoked = entries.filter((e) => e.status === 'revoked');
  const blocked = action === 'push' && revoked.length > 0;
  return html`<p class="breadcrumb"><a href="${selection.back}">Envoys</a> /</p>
    <h1>${words.title}: ${entries.length} ${entries.length === 1 ? 'envoy' : 'envoys'}</h1>
    <p>These envoys will ${words.verb}.</p>
    <ul class="bulk-selection" data-bulk-selection="${action}">
      ${entries.map(
        (e) =>
          html`<li>
            <a href="/envoys/${encodeURIComponent(e.id)}">${e.hostname}</a>
            ${e.status === 'revoked' ? badge('revoked') : ''}
          </li>`,
      )}
    </ul>
    ${
      blocked
        ? html`<div class="banner banner-error" role="alert">
            <p>
              ${revoked.map((e) => e.hostname).join(', ')}: revoked, nothing to push. Go back and leave
              ${revoked.length === 1 ? 'it' : 'them'} out.
            </p>
          </div>`
        : html`<form method="post" action="/envoys/bulk/${action}" class="confirm-bulk">
            ${csrfInput(viewer)}
            ${entries.map((e) => html`<input type="hidden" name="id" value="${e.id}" />`)}
            <input type="hidden" name="back" value="${selection.back}" />
            <input type="hidden" name="confirm" value="yes" />
            <div class="field">
              <label for="reason">Reason</label>
              <input
                id="reason"
                name="reason"
                maxlength="${pushReasonMaxBytes}"
                value="${selection.reason ?? ''}"
                placeholder="optional, kept in the audit log"
              />
            </div>
            <button
              type="submit"
              class="${action === 'revoke' ? 'danger' : ''}"
              data-confirm-bulk="${action}"
            >
              ${words.button} ${entries.length} ${entries.length === 1 ? 'envoy' : 'envoys'}
            </button>
            <a href="${selection.back}">Cancel</a>
          </form>`
    }`;
}

function withNotice(back: string, notice: string, n: number): string {
  const url = new URL(back, 'https://vigo.invalid');
  url.searchParams.set('notice', notice);
  url.searchParams.set('n', String(n));
  return `${url.pathname}${url.search}`;
}

function bulkRoute(deps: EnvoyBulkDeps, action: BulkAction): AnyRoute {
  return pageRoute(deps.shell, {
    method: 'POST',
    path: `/envoys/bulk/${action}`,
    summary: action === 'push' ? 'Force-push the selected envoys' : 'Revoke the selected envoys',
    access: action === 'push' ? 'push.execute' : 'fleet.write',
    nav: 'envoys',
    handler: async ({ c, ctx }) => {
      const viewer = requireViewer(c, ctx);
      const selection = await readSelection(c);
      // Every id is looked up before anything changes: an unknown one refuses the whole request.
      const entries = selection.ids.map((id) => deps.fleetAdmin.get(id));
      if (!selection.confirmed) {
        const body = confirmPage(viewer, action, entries, selection);
        return htmlResponse(
          c,
          renderPage(deps.shell, { title: wording[action].title, viewer, nav: 'envoys', body }),
        );
      }
      if (action === 'push') {
        const answer = deps.push.push(ctx, { targets: selection.ids, reason: selection.reason });
        return seeOther(c, withNotice(selection.back, 'bulk-pushed', answer.targeted));
      }
      let changed = 0;
      for (const entry of entries)
        if (deps.fleetAdmin.revoke(ctx, entry.id, selection.reason ?? '').changed) changed += 1;
      return seeOther(c, withNotice(selection.back, 'bulk-revoked', changed));
    },
  });
}

export function envoyBulkPages(deps: EnvoyBulkDeps): AnyRoute[] {
  return [bulkRoute(deps, 'push'), bulkRoute(deps, 'revoke')];
}

/** The banner the list shows after a bulk action (fixed wording; only the count comes from the URL). */
export function bulkNotice(notice: string | undefined, n: number | undefined): string | undefined {
  const envoys = `${n ?? 0} ${n === 1 ? 'envoy' : 'envoys'}`;
  if (notice === 'bulk-pushed') return `Force push requested for ${envoys}.`;
  if (notice === 'bulk-revoked') return `Revoked ${envoys}.`;
  return undefined;
}
