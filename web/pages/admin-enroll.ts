/**
 * GET  /admin/enroll-tokens              [fleet.read] enrollment tokens (never their secrets)
 * POST /admin/enroll-tokens              [fleet.write] create one; the page shows its secret once
 * POST /admin/enroll-tokens/{id}/revoke  [fleet.write]
 */
import type { Ctx } from '../../server/core/index.ts';
import type { CreatedEnrollToken, EnrollService, EnrollTokenView } from '../../server/enroll/index.ts';
import { tokenLimits } from '../../server/enroll/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import { badge, isoTimeCell, secretOnce } from '../format.ts';
import type { Html } from '../html.ts';
import { html, joinHtml } from '../html.ts';
import type { Shell } from '../layout.ts';
import { csrfInput, renderPage } from '../layout.ts';
import type { ErrorView, FormFields, Viewer, WebContext } from '../page-kit.ts';
import {
  errorView,
  pathParam,
  htmlResponse,
  optionalField,
  readForm,
  requireViewer,
  requiredField,
  seeOther,
} from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';
import { VigoError } from '../../server/core/index.ts';

export interface EnrollPagesDeps {
  readonly shell: Shell;
  readonly enroll: EnrollService;
}

const expiryChoices = ['1h', '24h', '168h', '720h', '2160h'] as const;
const expiryLabels: Readonly<Record<(typeof expiryChoices)[number], string>> = {
  '1h': '1 hour',
  '24h': '1 day',
  '168h': '7 days',
  '720h': '30 days',
  '2160h': '90 days',
};
const listQuery = { notice: { type: 'enum', values: ['revoked'] } } as const;

function tokensTable(viewer: Viewer, tokens: readonly EnrollTokenView[], nowMs: number): Html {
  if (tokens.length === 0) return html`<p class="muted">No enrollment tokens yet.</p>`;
  return html`<table>
    <caption class="visually-hidden">
      Enrollment tokens
    </caption>
    <thead>
      <tr>
        <th scope="col">Token id</th>
        <th scope="col">Hostnames</th>
        <th scope="col">Status</th>
        <th scope="col">Uses</th>
        <th scope="col">Expires</th>
        <th scope="col">Created</th>
        <th scope="col">Description</th>
        ${viewer.can('fleet.write') ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : ''}
      </tr>
    </thead>
    <tbody>
      ${tokens.map(
        (t) =>
          html`<tr>
            <th scope="row"><code>${t.id}</code></th>
            <td>
              ${joinHtml(
                t.hostnameGlobs.map((g) => html`<code>${g}</code>`),
                ', ',
              )}
            </td>
            <td>${badge(t.status)}</td>
            <td>${t.usesCount} / ${t.usesAllowed}</td>
            <td>${isoTimeCell(t.expiresAt, nowMs)}</td>
            <td>${isoTimeCell(t.createdAt, nowMs)} by ${t.createdBy}</td>
            <td>${t.description ?? ''}</td>
            ${
              viewer.can('fleet.write')
                ? html`<td>
                    ${
                      t.status === 'active'
                        ? html`<form
                            method="post"
                            action="/admin/enroll-tokens/${t.id}/revoke"
                            class="inline"
                            data-confirm="Revoke enrollment token ${t.id}? Hosts can no longer enroll with it."
                          >
                            ${csrfInput(viewer)}<button type="submit" class="danger small">Revoke</button>
                          </form>`
                        : ''
                    }
                  </td>`
                : ''
            }
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function createForm(viewer: Viewer): Html {
  if (!viewer.can('fleet.write')) return html``;
  return html`<details class="panel" open>
    <summary><h2>New enrollment token</h2></summary>
    <form method="post" action="/admin/enroll-tokens" class="grid-form">
      ${csrfInput(viewer)}
      <label for="globs">Hostnames</label>
      <input
        id="globs"
        name="globs"
        required
        placeholder="web-*, db-1.example.com"
        aria-describedby="globs-help"
      />
      <p id="globs-help" class="muted small">
        Which hostnames may enroll with it: globs, separated by commas.
      </p>
      <label for="uses">Uses</label>
      <input id="uses" name="uses" type="number" min="1" max="${tokenLimits.maxUses}" value="1" required />
      <label for="expires">Valid for</label>
      <select id="expires" name="expiresIn">
        ${expiryChoices.map((e) => html`<option value="${e}" ${e === '24h' ? html`selected` : ''}>${expiryLabels[e]}</option>`)}
      </select>
      <label for="description">Description</label>
      <input id="description" name="description" maxlength="${tokenLimits.maxDescriptionLength}" />
      <div class="form-actions"><button type="submit" class="primary">Create token</button></div>
    </form>
  </details>`;
}

interface View {
  readonly created?: CreatedEnrollToken;
  readonly notice?: string;
  readonly error?: ErrorView;
  readonly status?: number;
}

function listPage(deps: EnrollPagesDeps, c: WebContext, ctx: Ctx, view: View): Response {
  const viewer = requireViewer(c, ctx);
  const listing = deps.enroll.listTokens(ctx, { limit: 200 });
  const body = html`<h1>Enrollment tokens</h1>
    ${view.created === undefined ? '' : secretOnce(`Enrollment token ${view.created.id}:`, view.created.token)}
    <p class="muted">
      A host enrolls with <code>vigo enroll --server … --token …</code>; the token decides which hostnames may
      use it, how often and until when.
    </p>
    ${createForm(viewer)} ${tokensTable(viewer, listing.tokens, Date.now())}
    ${listing.truncated ? html`<p class="muted small">Only the newest 200 tokens are shown.</p>` : ''}`;
  const page = renderPage(deps.shell, { title: 'Enrollment tokens', viewer, nav: 'enroll', body, ...view });
  return htmlResponse(c, page, view.error?.status ?? view.status ?? 200);
}

function parseCreate(form: FormFields): {
  hostnameGlobs: string[];
  uses: number;
  expiresIn: string;
  description?: string;
} {
  const globs = requiredField(form, 'globs', 8192, 'Hostnames')
    .split(/[\s,]+/)
    .filter((g) => g !== '');
  const usesText = requiredField(form, 'uses', 16, 'Uses');
  const uses = /^\d+$/.test(usesText) ? Number(usesText) : Number.NaN;
  if (!Number.isSafeInteger(uses))
    throw new VigoError('request.invalid', 'Uses: a whole number', { field: 'uses' });
  return {
    hostnameGlobs: globs,
    uses,
    expiresIn: requiredField(form, 'expiresIn', 16, 'Valid for'),
    description: optionalField(form, 'description', 1024, 'Description'),
  };
}

export function enrollPages(deps: EnrollPagesDeps): AnyRoute[] {
  const { shell } = deps;
  return [
    pageRoute<typeof listQuery>(shell, {
      method: 'GET',
      path: '/admin/enroll-tokens',
      summary: 'Enrollment tokens',
      access: 'fleet.read',
      nav: 'enroll',
      query: listQuery,
      handler: ({ c, ctx, query }) =>
        listPage(deps, c, ctx, { notice: query.notice === 'revoked' ? 'The token is revoked.' : undefined }),
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/admin/enroll-tokens',
      summary: 'Create an enrollment token',
      access: 'fleet.write',
      nav: 'enroll',
      handler: async ({ c, ctx }) => {
        const form = await readForm(c);
        try {
          const created = await deps.enroll.createToken(ctx, parseCreate(form));
          // Rendered, not redirected: the secret exists only in this response.
          return listPage(deps, c, ctx, { created, status: 201 });
        } catch (err) {
          return listPage(deps, c, ctx, { error: errorView(c, err) });
        }
      },
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/admin/enroll-tokens/{id}/revoke',
      summary: 'Revoke an enrollment token',
      access: 'fleet.write',
      nav: 'enroll',
      handler: ({ c, ctx }) => {
        try {
          deps.enroll.revokeToken(ctx, pathParam(c, 'id'));
          return seeOther(c, '/admin/enroll-tokens?notice=revoked');
        } catch (err) {
          return listPage(deps, c, ctx, { error: errorView(c, err) });
        }
      },
    }),
  ];
}
