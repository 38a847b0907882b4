/**
 * GET  /admin/enroll-tokens              [fleet.read] enrollment tokens (never their secrets)
 * POST /admin/enroll-tokens              [fleet.write] create one; the page shows its secret once
 * POST /admin/enroll-tokens/{id}/revoke  [fleet.write]
 */
import type { Ctx } from '../../server/core/index.ts';
import type { CreatedEnrollToken, EnrollService, EnrollTokenView } from '../../server/enroll/index.ts';
import { tokenLimits } from '../../server/enroll/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import { isoTimeCell, secretOnce } from '../format.ts';
import type { Html } from '../html.ts';
import { html, joinHtml } from '../html.ts';
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
  const canWrite = viewer.can('fleet.write');
  return dataTable<EnrollTokenView>({
    caption: 'Enrollment tokens',
    rows: tokens,
    empty: 'No enrollment tokens yet.',
    columns: [
      { header: 'Token id', rowHeader: true, cell: (t) => html`<code>${t.id}</code>` },
      {
        header: 'Hostnames',
        cell: (t) =>
          joinHtml(
            t.hostnameGlobs.map((g) => html`<code>${g}</code>`),
            ', ',
          ),
      },
      { header: 'Status', cell: (t) => badge(t.status) },
      { header: 'Uses', cell: (t) => `${t.usesCount} / ${t.usesAllowed}` },
      { header: 'Expires', cell: (t) => isoTimeCell(t.expiresAt, nowMs) },
      { header: 'Created', cell: (t) => html`${isoTimeCell(t.createdAt, nowMs)} by ${t.createdBy}` },
      { header: 'Description', cell: (t) => t.description ?? '' },
      {
        header: 'Actions',
        hiddenHeader: true,
        when: canWrite,
        cell: (t) =>
          t.status === 'active'
            ? actionButton({
                action: `/admin/enroll-tokens/${encodeURIComponent(t.id)}/revoke`,
                viewer,
                label: 'Revoke',
                tone: 'danger',
                confirm: `Revoke enrollment token ${t.id}? Hosts can no longer enroll with it.`,
              })
            : '',
      },
    ],
  });
}

/** The fields of a new enrollment token, shared with the Add hosts page. */
export function tokenFields(defaults: { readonly globs?: string; readonly uses?: number }): FieldSpec[] {
  return [
    {
      kind: 'text',
      name: 'globs',
      label: 'Hostnames',
      required: true,
      value: defaults.globs,
      placeholder: 'web-*, db-1.example.com',
      help: 'Which hostnames may enroll with it: globs, separated by commas.',
    },
    {
      kind: 'number',
      name: 'uses',
      label: 'Uses',
      min: 1,
      max: tokenLimits.maxUses,
      value: defaults.uses ?? 1,
      required: true,
    },
    {
      kind: 'select',
      name: 'expiresIn',
      id: 'expires',
      label: 'Valid for',
      options: expiryChoices.map((e) => ({ value: e, label: expiryLabels[e] })),
      selected: '24h',
    },
    {
      kind: 'text',
      name: 'description',
      label: 'Description',
      maxLength: tokenLimits.maxDescriptionLength,
    },
  ];
}

function createForm(viewer: Viewer): Html {
  if (!viewer.can('fleet.write')) return html``;
  return panel(
    'New enrollment token',
    formView({ action: '/admin/enroll-tokens', viewer, fields: tokenFields({}), submit: 'Create token' }),
  );
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
      Hosts enroll with a token; <a href="/admin/add-hosts">Add hosts</a> shows the install command. The token
      decides which hostnames may use it, how often and until when.
    </p>
    ${createForm(viewer)} ${tokensTable(viewer, listing.tokens, Date.now())}
    ${listing.truncated ? html`<p class="muted small">Only the newest 200 tokens are shown.</p>` : ''}`;
  const page = renderPage(deps.shell, { title: 'Enrollment tokens', viewer, nav: 'enroll', body, ...view });
  return htmlResponse(c, page, view.error?.status ?? view.status ?? 200);
}

export function parseCreate(form: FormFields): {
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
