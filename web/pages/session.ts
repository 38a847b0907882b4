/**
 * Signing in and out, and creating the first admin:
 *   GET/POST /login    password form → session cookie → back to `next` (a path on this server only)
 *   POST     /logout   ends the session
 *   GET/POST /setup    the first admin, with the one-time bootstrap secret, while no admin exists; the new
 *                      admin is signed in at once. While no user exists at all, /login (and so every page
 *                      that needs a session, `/` included) sends the visitor here.
 */
import type { Actor } from '../../server/core/index.ts';
import { VigoError } from '../../server/core/index.ts';
import { permissionsOf } from '../../server/identity/index.ts';
import type { IdentityService } from '../../server/identity/index.ts';
import { clearedSessionCookie, sessionCookie, sessionIdOf } from '../../server/http/auth.ts';
import { sourceAddress } from '../../server/http/peer.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { landingPath, renderPage } from '../layout.ts';
import type { ErrorView, WebContext } from '../page-kit.ts';
import {
  errorView,
  htmlResponse,
  optionalField,
  readForm,
  requireSameOrigin,
  requiredField,
  safeNext,
  secretField,
  seeOther,
} from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';

export interface SessionPagesDeps {
  readonly shell: Shell;
  readonly identity: IdentityService;
}

const noticeKeys = ['signed-out'] as const;
const notices: Readonly<Record<(typeof noticeKeys)[number], string>> = {
  'signed-out': 'You have signed out.',
};
const loginQuery = {
  next: { type: 'string', maxLength: 2048 },
  notice: { type: 'enum', values: noticeKeys },
} as const;

function landingFor(actor: Actor): string {
  return landingPath({ can: (p) => permissionsOf(actor).has(p) });
}

function loginForm(next: string | undefined, username: string | undefined): Html {
  // After a failed attempt the name is kept, so the cursor goes where the retyping starts.
  const focusPassword = username !== undefined;
  return html`<section class="auth-card" aria-labelledby="login-title">
    <h1 id="login-title">Sign in to Vigo</h1>
    <form method="post" action="/login" class="stack">
      ${next === undefined ? '' : html`<input type="hidden" name="next" value="${next}" />`}
      <label for="username">Username</label>
      <input
        id="username"
        name="username"
        autocomplete="username"
        required
        ${focusPassword ? '' : html`autofocus`}
        value="${username ?? ''}"
      />
      <label for="password">Password</label>
      <input
        id="password"
        name="password"
        type="password"
        autocomplete="current-password"
        required
        ${focusPassword ? html`autofocus` : ''}
      />
      <button type="submit" class="primary">Sign in</button>
    </form>
    <p class="muted small">
      First start? <a href="/setup">Create the first admin</a> with the bootstrap secret the server printed.
    </p>
  </section>`;
}

interface LoginView {
  readonly next?: string;
  readonly username?: string;
  readonly notice?: string;
  readonly error?: ErrorView;
}

function loginPage(shell: Shell, c: WebContext, view: LoginView): Response {
  const body = loginForm(view.next, view.username);
  const page = renderPage(shell, { title: 'Sign in', viewer: undefined, nav: 'none', body, ...view });
  return htmlResponse(c, page, view.error?.status ?? 200);
}

/** Password → session cookie → `next`; a refusal shows the form again with the reason and its status. */
async function signIn(deps: SessionPagesDeps, c: WebContext): Promise<Response> {
  const form = await readForm(c);
  const next = optionalField(form, 'next', 2048);
  const username = optionalField(form, 'username', 128, 'Username');
  try {
    requireSameOrigin(c);
    const user = await deps.identity.verifyPassword(
      requiredField(form, 'username', 128, 'Username'),
      secretField(form, 'password', 1024, 'Password'),
      sourceAddress(c),
    );
    const session = deps.identity.createSession(user.id, {
      ip: sourceAddress(c),
      userAgent: c.req.header('user-agent') ?? null,
    });
    c.header('Set-Cookie', sessionCookie(session.sessionId));
    const actor = { kind: 'user', userId: user.id, username: user.username, role: user.role } as const;
    return seeOther(c, safeNext(next, landingFor(actor)));
  } catch (err) {
    return loginPage(deps.shell, c, { next, username, error: errorView(c, err) });
  }
}

function loginRoutes(deps: SessionPagesDeps): AnyRoute[] {
  const { shell, identity } = deps;
  return [
    pageRoute<typeof loginQuery>(shell, {
      method: 'GET',
      path: '/login',
      summary: 'Sign-in page',
      access: 'public',
      nav: 'none',
      query: loginQuery,
      handler: ({ c, ctx, query }) => {
        // Already signed in: a second login form would only confuse.
        if (ctx.actor.kind === 'user') return seeOther(c, safeNext(query.next, landingFor(ctx.actor)));
        // A fresh installation has nobody to sign in as: the only way forward is the first admin.
        if (noUsersYet(identity)) return seeOther(c, '/setup');
        const notice = query.notice === undefined ? undefined : notices[query.notice];
        return loginPage(shell, c, { next: query.next, notice });
      },
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/login',
      summary: 'Sign in with a password',
      access: 'public',
      nav: 'none',
      handler: ({ c }) => signIn(deps, c),
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/logout',
      summary: 'Sign out',
      access: 'authenticated',
      nav: 'none',
      handler: ({ c }) => {
        const id = sessionIdOf(c);
        if (id !== undefined) identity.destroySession(id);
        c.header('Set-Cookie', clearedSessionCookie);
        return seeOther(c, '/login?notice=signed-out');
      },
    }),
  ];
}

interface SetupValues {
  readonly username?: string;
  /** Kept after a refusal so a typo elsewhere does not mean fetching the secret again. */
  readonly secret?: string;
}

function setupForm(values: SetupValues): Html {
  return html`<section class="auth-card" aria-labelledby="setup-title">
    <h1 id="setup-title">Create the first admin</h1>
    <p>
      No admin exists yet. At start-up the server wrote a one-time secret (<code>vgbs_…</code>) to the file
      <code>admin-bootstrap.secret</code> in its data directory, and showed it in its start-up banner when
      started from a terminal. It creates one admin account and then stops working.
    </p>
    <form method="post" action="/setup" class="stack">
      <label for="secret">Bootstrap secret</label>
      <input
        id="secret"
        name="secret"
        type="password"
        autocomplete="off"
        required
        spellcheck="false"
        value="${values.secret ?? ''}"
      />
      <label for="username">Username</label>
      <input
        id="username"
        name="username"
        autocomplete="username"
        required
        value="${values.username ?? ''}"
        pattern="[a-z0-9][a-z0-9._\\-]*"
        aria-describedby="username-help"
      />
      <p id="username-help" class="muted small">Lower case letters, digits, dot, underscore and dash.</p>
      <label for="password">Password</label>
      <input
        id="password"
        name="password"
        type="password"
        autocomplete="new-password"
        required
        minlength="12"
        aria-describedby="password-help"
      />
      <p id="password-help" class="muted small">
        At least 12 characters; a passphrase of several words is easiest.
      </p>
      <label for="confirm">Password again</label>
      <input
        id="confirm"
        name="confirm"
        type="password"
        autocomplete="new-password"
        required
        minlength="12"
      />
      <button type="submit" class="primary">Create admin</button>
    </form>
  </section>`;
}

/** True on a fresh installation: not a single user exists. */
function noUsersYet(identity: IdentityService): boolean {
  return identity.listUsers({ limit: 1 }).users.length === 0;
}

/** Whether an enabled admin exists among the first users; the claim itself is the authority. */
function adminExists(identity: IdentityService): boolean {
  return identity.listUsers({ limit: 1000 }).users.some((u) => u.role === 'admin' && !u.disabled);
}

function setupPage(shell: Shell, c: WebContext, body: Html, error?: ErrorView): Response {
  const page = renderPage(shell, { title: 'First admin', viewer: undefined, nav: 'none', body, error });
  return htmlResponse(c, page, error?.status ?? 200);
}

const setupDone = html`<section class="auth-card">
  <h1>Setup is complete</h1>
  <p>An admin account exists, so the bootstrap secret is no longer accepted.</p>
  <p><a href="/login">Sign in</a></p>
</section>`;

/**
 * Creates the first admin and signs them in; the secret's checks (and their rate limit) are the identity
 * service's. A refused attempt shows the form again with what was typed, except the passwords; nothing is
 * echoed back to a post from another site.
 */
async function claimSetup(deps: SessionPagesDeps, c: WebContext): Promise<Response> {
  const form = await readForm(c);
  let kept: SetupValues = {};
  try {
    requireSameOrigin(c);
    kept = {
      username: optionalField(form, 'username', 128, 'Username'),
      secret: optionalField(form, 'secret', 256, 'Bootstrap secret'),
    };
    const password = secretField(form, 'password', 1024, 'Password');
    if (password !== (form['confirm'] ?? '')) {
      throw new VigoError('request.invalid', 'the two passwords differ; type the same password twice', {
        field: 'confirm',
      });
    }
    const admin = await deps.identity.claimAdminBootstrap({
      secret: requiredField(form, 'secret', 256, 'Bootstrap secret'),
      username: requiredField(form, 'username', 128, 'Username'),
      password,
      sourceAddress: sourceAddress(c),
    });
    const session = deps.identity.createSession(admin.id, {
      ip: sourceAddress(c),
      userAgent: c.req.header('user-agent') ?? null,
    });
    c.header('Set-Cookie', sessionCookie(session.sessionId));
    const actor = { kind: 'user', userId: admin.id, username: admin.username, role: admin.role } as const;
    return seeOther(c, landingFor(actor));
  } catch (err) {
    return setupPage(deps.shell, c, setupForm(kept), errorView(c, err));
  }
}

function setupRoutes(deps: SessionPagesDeps): AnyRoute[] {
  const { shell, identity } = deps;
  return [
    pageRoute(shell, {
      method: 'GET',
      path: '/setup',
      summary: 'Create the first admin with the bootstrap secret',
      access: 'public',
      nav: 'none',
      handler: ({ c }) => setupPage(shell, c, adminExists(identity) ? setupDone : setupForm({})),
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/setup',
      summary: 'Create the first admin',
      access: 'public',
      nav: 'none',
      handler: ({ c }) => claimSetup(deps, c),
    }),
  ];
}

export function sessionPages(deps: SessionPagesDeps): AnyRoute[] {
  return [...loginRoutes(deps), ...setupRoutes(deps)];
}
