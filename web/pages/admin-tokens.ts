/**
 * GET  /admin/tokens              [signed in] API tokens: one's own; admins see everyone's
 * POST /admin/tokens              create one (admins may create for another user); shown once
 * POST /admin/tokens/{id}/revoke  one's own, or any as admin
 */
import type { Ctx } from '../../server/core/index.ts';
import { VigoError, parseDurationMs } from '../../server/core/index.ts';
import type { ApiTokenView, CreatedApiToken, IdentityService } from '../../server/identity/index.ts';
import { apiTokenLimits } from '../../server/identity/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import { isoTimeCell, secretOnce } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { renderPage } from '../layout.ts';
import type { ErrorView, FieldSpec, FormFields, Viewer, WebContext } from '../page-kit.ts';
import {
  actionButton,
  badge,
  dataTable,
  errorView,
  formView,
  panel,
  pathParam,
  htmlResponse,
  optionalField,
  readForm,
  requireViewer,
  requiredField,
  seeOther,
} from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';

export interface TokenPagesDeps {
  readonly shell: Shell;
  readonly identity: IdentityService;
}

const lifetimes = ['720h', '2160h', '8784h', 'never'] as const;
const lifetimeLabels: Readonly<Record<(typeof lifetimes)[number], string>> = {
  '720h': '30 days',
  '2160h': '90 days',
  '8784h': '366 days',
  never: 'until revoked',
};
const listQuery = { notice: { type: 'enum', values: ['revoked'] } } as const;

function tokensTable(viewer: Viewer, tokens: readonly ApiTokenView[], nowMs: number): Html {
  return dataTable<ApiTokenView>({
    caption: 'API tokens',
    rows: tokens,
    empty: 'No API tokens yet.',
    columns: [
      {
        header: 'Name',
        rowHeader: true,
        cell: (t) => html`${t.name} <span class="muted small"><code>${t.id}</code></span>`,
      },
      { header: 'User', when: viewer.can('admin'), cell: (t) => t.username },
      { header: 'Status', cell: (t) => badge(t.status) },
      { header: 'Created', cell: (t) => isoTimeCell(t.createdAt, nowMs) },
      { header: 'Expires', cell: (t) => isoTimeCell(t.expiresAt, nowMs, 'never') },
      { header: 'Last used', cell: (t) => isoTimeCell(t.lastUsedAt, nowMs, 'never') },
      {
        header: 'Actions',
        hiddenHeader: true,
        cell: (t) =>
          t.status === 'active'
            ? actionButton({
                action: `/admin/tokens/${encodeURIComponent(t.id)}/revoke`,
                viewer,
                label: 'Revoke',
                tone: 'danger',
                confirm: `Revoke the API token ${t.name}? Scripts using it stop working at once.`,
              })
            : '',
      },
    ],
  });
}

function createForm(viewer: Viewer): Html {
  const fields: FieldSpec[] = [
    {
      kind: 'text',
      name: 'name',
      id: 'token-name',
      label: 'Name',
      required: true,
      maxLength: apiTokenLimits.maxNameLength,
      placeholder: 'ci-publish',
      help: 'What uses it. The token acts with its owner’s role.',
    },
    {
      kind: 'select',
      name: 'lifetime',
      id: 'token-lifetime',
      label: 'Valid for',
      options: lifetimes.map((l) => ({ value: l, label: lifetimeLabels[l] })),
    },
  ];
  if (viewer.can('admin')) {
    fields.push({
      kind: 'text',
      name: 'user',
      id: 'token-user',
      label: 'For user',
      placeholder: viewer.name,
      help: 'Leave empty for yourself.',
    });
  }
  return panel(
    'New API token',
    formView({ action: '/admin/tokens', viewer, fields, submit: 'Create token' }),
  );
}

interface View {
  readonly created?: CreatedApiToken;
  readonly notice?: string;
  readonly error?: ErrorView;
  readonly status?: number;
}

function tokensPage(deps: TokenPagesDeps, c: WebContext, ctx: Ctx, view: View): Response {
  const viewer = requireViewer(c, ctx);
  const listing = deps.identity.listApiTokens(ctx);
  const body = html`<h1>API tokens</h1>
    ${view.created === undefined ? '' : secretOnce(`API token ${view.created.name}:`, view.created.token)}
    <p class="muted">For vigocli and scripts: send <code>Authorization: Bearer vgot_…</code>.</p>
    ${createForm(viewer)} ${tokensTable(viewer, listing.tokens, Date.now())}`;
  const page = renderPage(deps.shell, { title: 'API tokens', viewer, nav: 'tokens', body, ...view });
  return htmlResponse(c, page, view.error?.status ?? view.status ?? 200);
}

function ownerOf(ctx: Ctx, form: FormFields): string {
  const named = optionalField(form, 'user', 128, 'For user');
  if (named !== undefined) return named;
  const actor = ctx.actor;
  if (actor.kind === 'user' || actor.kind === 'api-token') return actor.userId;
  throw new VigoError('request.invalid', 'For user: name the user the token is for', { field: 'user' });
}

function lifetimeMs(form: FormFields): number | undefined {
  const choice = lifetimes.find((l) => l === requiredField(form, 'lifetime', 16, 'Valid for'));
  if (choice === undefined)
    throw new VigoError('request.invalid', `Valid for: one of ${lifetimes.join(', ')}`);
  return choice === 'never' ? undefined : parseDurationMs(choice);
}

export function tokenPages(deps: TokenPagesDeps): AnyRoute[] {
  const { shell, identity } = deps;
  return [
    pageRoute<typeof listQuery>(shell, {
      method: 'GET',
      path: '/admin/tokens',
      summary: 'API tokens',
      access: 'authenticated',
      nav: 'tokens',
      query: listQuery,
      handler: ({ c, ctx, query }) =>
        tokensPage(deps, c, ctx, {
          notice: query.notice === 'revoked' ? 'The token is revoked.' : undefined,
        }),
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/admin/tokens',
      summary: 'Create an API token',
      access: 'authenticated',
      nav: 'tokens',
      handler: async ({ c, ctx }) => {
        const form = await readForm(c);
        try {
          const created = identity.createApiToken(ctx, {
            userId: ownerOf(ctx, form),
            name: requiredField(form, 'name', apiTokenLimits.maxNameLength, 'Name'),
            expiresInMs: lifetimeMs(form),
          });
          // Rendered, not redirected: the secret exists only in this response.
          return tokensPage(deps, c, ctx, { created, status: 201 });
        } catch (err) {
          return tokensPage(deps, c, ctx, { error: errorView(c, err) });
        }
      },
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/admin/tokens/{id}/revoke',
      summary: 'Revoke an API token',
      access: 'authenticated',
      nav: 'tokens',
      handler: ({ c, ctx }) => {
        try {
          identity.revokeApiToken(ctx, pathParam(c, 'id'));
          return seeOther(c, '/admin/tokens?notice=revoked');
        } catch (err) {
          return tokensPage(deps, c, ctx, { error: errorView(c, err) });
        }
      },
    }),
  ];
}
