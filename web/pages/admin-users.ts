/**
 * GET  /admin/users        [admin] web users
 * POST /admin/users        [admin] create a user
 * POST /admin/users/{id}   [admin] change one: action = role | disable | enable | password | delete
 */
import type { Ctx, Role } from '../../server/core/index.ts';
import { VigoError } from '../../server/core/index.ts';
import type { IdentityService, UserView } from '../../server/identity/index.ts';
import { allRoles, isRole, passwordLimits } from '../../server/identity/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import { isoTimeCell } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { renderPage } from '../layout.ts';
import type { ErrorView, FieldSpec, FormFields, Viewer, WebContext } from '../page-kit.ts';
import {
  actionButton,
  badge,
  csrfField,
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
  secretField,
  seeOther,
} from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';

export interface UserPagesDeps {
  readonly shell: Shell;
  readonly identity: IdentityService;
}

const actions = ['role', 'disable', 'enable', 'password', 'delete'] as const;
type UserAction = (typeof actions)[number];
const noticeKeys = ['created', 'role', 'disable', 'enable', 'password', 'delete'] as const;
const notices: Readonly<Record<(typeof noticeKeys)[number], string>> = {
  created: 'The user was created.',
  role: 'The role was changed; the user’s sessions ended, so they sign in again with the new role.',
  disable: 'The user is disabled: sessions ended, API tokens stop working.',
  enable: 'The user is enabled again.',
  password: 'The password was changed; the user’s sessions ended.',
  delete: 'The user, their sessions and their API tokens were deleted.',
};
const listQuery = { notice: { type: 'enum', values: noticeKeys } } as const;

function roleOf(text: string): Role {
  if (!isRole(text))
    throw new VigoError('request.invalid', `Role: must be one of ${allRoles.join(', ')}`, { field: 'role' });
  return text;
}

function roleOptions(): { value: string; label: string }[] {
  return allRoles.map((r) => ({ value: r, label: r }));
}

function userActions(viewer: Viewer, u: UserView): Html {
  const base = `/admin/users/${encodeURIComponent(u.id)}`;
  const act = (action: UserAction, label: string, confirm?: string, tone?: 'danger') =>
    actionButton({ action: base, viewer, label, confirm, tone, hidden: { action } });
  return html`<form method="post" action="${base}" class="inline">
      ${csrfField(viewer)}<input type="hidden" name="action" value="role" />
      <label class="visually-hidden" for="role-${u.id}">Role of ${u.username}</label>
      <select id="role-${u.id}" name="role">
        ${allRoles.map((r) => html`<option value="${r}" ${r === u.role ? html`selected` : ''}>${r}</option>`)}
      </select>
      <button type="submit" class="small">Set role</button>
    </form>
    ${u.disabled ? act('enable', 'Enable') : act('disable', 'Disable', `Disable ${u.username}? Their sessions end and their API tokens stop working.`)}
    <details class="inline-details">
      <summary>Password</summary>
      <form method="post" action="${base}" class="inline">
        ${csrfField(viewer)}<input type="hidden" name="action" value="password" />
        <label for="password-${u.id}">New password for ${u.username}</label>
        <input
          id="password-${u.id}"
          name="password"
          type="password"
          autocomplete="new-password"
          minlength="${passwordLimits.minLength}"
          required
        />
        <button type="submit" class="small">Set password</button>
      </form>
    </details>
    ${act('delete', 'Delete', `Delete ${u.username} with their sessions and API tokens? This cannot be undone.`, 'danger')}`;
}

function usersTable(viewer: Viewer, users: readonly UserView[], nowMs: number): Html {
  return dataTable<UserView>({
    caption: 'Users',
    className: 'users',
    rows: users,
    empty: 'No users yet.',
    columns: [
      { header: 'Username', rowHeader: true, cell: (u) => u.username },
      {
        header: 'Name',
        cell: (u) =>
          html`${u.displayName ?? ''}${u.email === null ? '' : html`<br /><span class="muted small">${u.email}</span>`}`,
      },
      { header: 'Role', cell: (u) => u.role },
      {
        header: 'State',
        cell: (u) =>
          html`${u.disabled ? badge('disabled') : badge('active')}${u.hasPassword ? '' : html` <span class="muted small">(tokens only)</span>`}`,
      },
      { header: 'Created', cell: (u) => isoTimeCell(u.createdAt, nowMs) },
      { header: 'Actions', className: 'row-actions', cell: (u) => userActions(viewer, u) },
    ],
  });
}

function createForm(viewer: Viewer): Html {
  const fields: FieldSpec[] = [
    {
      kind: 'text',
      name: 'username',
      id: 'new-username',
      label: 'Username',
      required: true,
      autocomplete: 'off',
    },
    {
      kind: 'select',
      name: 'role',
      id: 'new-role',
      label: 'Role',
      options: roleOptions(),
      selected: 'viewer',
    },
    {
      kind: 'password',
      name: 'password',
      id: 'new-password',
      label: 'Password',
      autocomplete: 'new-password',
      minLength: passwordLimits.minLength,
      help: 'Leave empty for a user who only uses API tokens.',
    },
    { kind: 'text', name: 'displayName', id: 'new-display', label: 'Display name' },
    { kind: 'email', name: 'email', id: 'new-email', label: 'E-mail' },
  ];
  return panel(
    'New user',
    formView({ action: '/admin/users', viewer, fields, submit: 'Create user' }),
    false,
  );
}

interface View {
  readonly notice?: string;
  readonly error?: ErrorView;
}

function usersPage(deps: UserPagesDeps, c: WebContext, ctx: Ctx, view: View): Response {
  const viewer = requireViewer(c, ctx);
  const listing = deps.identity.listUsers({ limit: 1000 });
  const body = html`<h1>Users</h1>
    <p class="muted">
      Roles: <strong>admin</strong> everything; <strong>operator</strong> runs the fleet and publishes;
      <strong>viewer</strong> reads fleet and audit; <strong>compliance</strong> compliance evidence only.
    </p>
    ${createForm(viewer)} ${usersTable(viewer, listing.users, Date.now())}
    ${listing.truncated ? html`<p class="muted small">Only the first 1000 users are shown.</p>` : ''}`;
  const page = renderPage(deps.shell, { title: 'Users', viewer, nav: 'users', body, ...view });
  return htmlResponse(c, page, view.error?.status ?? 200);
}

async function applyAction(
  identity: IdentityService,
  ctx: Ctx,
  id: string,
  form: FormFields,
): Promise<UserAction> {
  const action = actions.find((a) => a === form['action']);
  if (action === undefined)
    throw new VigoError('request.invalid', `action: must be one of ${actions.join(', ')}`);
  switch (action) {
    case 'role':
      await identity.updateUser(ctx, id, { role: roleOf(requiredField(form, 'role', 32, 'Role')) });
      break;
    case 'disable':
    case 'enable':
      await identity.updateUser(ctx, id, { disabled: action === 'disable' });
      break;
    case 'password':
      await identity.updateUser(ctx, id, {
        password: secretField(form, 'password', passwordLimits.maxLength, 'Password'),
      });
      break;
    case 'delete':
      identity.deleteUser(ctx, id);
      break;
  }
  return action;
}

export function userPages(deps: UserPagesDeps): AnyRoute[] {
  const { shell, identity } = deps;
  return [
    pageRoute<typeof listQuery>(shell, {
      method: 'GET',
      path: '/admin/users',
      summary: 'Users',
      access: 'admin',
      nav: 'users',
      query: listQuery,
      handler: ({ c, ctx, query }) =>
        usersPage(deps, c, ctx, { notice: query.notice === undefined ? undefined : notices[query.notice] }),
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/admin/users',
      summary: 'Create a user',
      access: 'admin',
      nav: 'users',
      handler: async ({ c, ctx }) => {
        const form = await readForm(c);
        try {
          const password =
            form['password'] === undefined || form['password'] === '' ? undefined : form['password'];
          await identity.createUser(ctx, {
            username: requiredField(form, 'username', 128, 'Username'),
            role: roleOf(requiredField(form, 'role', 32, 'Role')),
            password:
              password === undefined
                ? undefined
                : secretField(form, 'password', passwordLimits.maxLength, 'Password'),
            displayName: optionalField(form, 'displayName', 256, 'Display name'),
            email: optionalField(form, 'email', 320, 'E-mail'),
          });
          return seeOther(c, '/admin/users?notice=created');
        } catch (err) {
          return usersPage(deps, c, ctx, { error: errorView(c, err) });
        }
      },
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/admin/users/{id}',
      summary: 'Change a user',
      access: 'admin',
      nav: 'users',
      handler: async ({ c, ctx }) => {
        const form = await readForm(c);
        try {
          const action = await applyAction(identity, ctx, pathParam(c, 'id'), form);
          return seeOther(c, `/admin/users?notice=${action}`);
        } catch (err) {
          return usersPage(deps, c, ctx, { error: errorView(c, err) });
        }
      },
    }),
  ];
}
