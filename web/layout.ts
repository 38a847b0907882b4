/**
 * The one page layout: skip link, header with the navigation the viewer may use, the page's content,
 * notices and errors in live regions, and the footer with the server version and a link to the API
 * documentation (/docs). The stylesheet follows the system's light or dark scheme.
 */
import type { Permission } from '../server/identity/index.ts';
import type { Html, HtmlValue } from './html.ts';
import { html } from './html.ts';
import type { ErrorView, Viewer } from './page-kit.ts';
import type { StaticAssets } from './static-assets.ts';
import { csrfField } from './view-kit.ts';

export type NavKey =
  | 'dashboard'
  | 'envoys'
  | 'tasks'
  | 'workflows'
  | 'queries'
  | 'config'
  | 'audit'
  | 'compliance'
  | 'integrations'
  | 'enroll'
  | 'add-hosts'
  | 'users'
  | 'tokens'
  | 'none';

interface NavItem {
  readonly key: NavKey;
  readonly href: string;
  readonly label: string;
  readonly needs: Permission | 'authenticated';
}

const navItems: readonly NavItem[] = [
  { key: 'dashboard', href: '/', label: 'Dashboard', needs: 'fleet.read' },
  { key: 'envoys', href: '/envoys', label: 'Envoys', needs: 'fleet.read' },
  { key: 'tasks', href: '/tasks', label: 'Tasks', needs: 'fleet.read' },
  { key: 'workflows', href: '/workflows', label: 'Workflows', needs: 'fleet.read' },
  { key: 'queries', href: '/queries', label: 'Live query', needs: 'query.execute' },
  { key: 'config', href: '/config', label: 'Config', needs: 'fleet.read' },
  { key: 'audit', href: '/audit', label: 'Audit', needs: 'audit.read' },
  { key: 'compliance', href: '/compliance', label: 'Compliance', needs: 'compliance.read' },
  { key: 'integrations', href: '/integrations', label: 'Integrations', needs: 'fleet.read' },
  { key: 'enroll', href: '/admin/enroll-tokens', label: 'Enrollment', needs: 'fleet.read' },
  { key: 'add-hosts', href: '/admin/add-hosts', label: 'Add hosts', needs: 'fleet.write' },
  { key: 'users', href: '/admin/users', label: 'Users', needs: 'admin' },
  { key: 'tokens', href: '/admin/tokens', label: 'API tokens', needs: 'authenticated' },
];

/** Where the navigation entry of a section points, for "back to …" links. */
export function section(key: NavKey): { href: string; label: string } {
  const item = navItems.find((i) => i.key === key);
  return item === undefined ? { href: '/', label: 'the start page' } : { href: item.href, label: item.label };
}

/** The first page this viewer may open: where a sign-in without `next` lands. */
export function landingPath(viewer: Pick<Viewer, 'can'>): string {
  return viewer.can('fleet.read') ? '/' : '/admin/tokens';
}

export interface Shell {
  readonly version: string;
  readonly assets: StaticAssets;
}

export interface PageOptions {
  readonly title: string;
  readonly viewer: Viewer | undefined;
  readonly nav: NavKey;
  readonly body: HtmlValue;
  /** A success message (after a redirect from a form post). */
  readonly notice?: string;
  readonly error?: ErrorView;
}

function navigation(viewer: Viewer, current: NavKey): Html {
  const items = navItems.filter((item) => item.needs === 'authenticated' || viewer.can(item.needs));
  return html`<nav class="main-nav" aria-label="Main">
    <ul>
      ${items.map(
        (item) =>
          html`<li>
            <a href="${item.href}" ${item.key === current ? html`aria-current="page"` : ''}>${item.label}</a>
          </li>`,
      )}
    </ul>
  </nav>`;
}

function account(viewer: Viewer): Html {
  return html`<div class="account">
    <span class="who"
      >${viewer.name}${viewer.role === undefined ? '' : html` <span class="muted">(${viewer.role})</span>`}</span
    >
    ${
      viewer.csrfToken === undefined
        ? ''
        : html`<form method="post" action="/logout" class="inline">
            <input type="hidden" name="_csrf" value="${viewer.csrfToken}" />
            <button type="submit" class="link-button">Sign out</button>
          </form>`
    }
  </div>`;
}

export function errorBanner(error: ErrorView | undefined): Html {
  if (error === undefined) return html``;
  return html`<div class="banner banner-error" role="alert">
    <p>
      <strong>${error.status === 500 ? 'Something went wrong' : 'That did not work'}:</strong>
      ${error.message}
    </p>
    <p class="muted small">code ${error.code} · request ${error.requestId}</p>
  </div>`;
}

export function noticeBanner(notice: string | undefined): Html {
  if (notice === undefined) return html``;
  return html`<div class="banner banner-ok" role="status"><p>${notice}</p></div>`;
}

/**
 * No eval and no injected styles (the Content-Security-Policy allows neither scripts nor needs them), no
 * page snapshots in localStorage (they would keep CSRF tokens and fleet data), and 4xx fragments are
 * swapped in: they carry the message saying what to fix.
 */
const htmxConfig = JSON.stringify({
  allowEval: false,
  includeIndicatorStyles: false,
  historyCacheSize: 0,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '4..', swap: true, error: true },
    { code: '...', swap: false, error: true },
  ],
});

export function renderPage(shell: Shell, options: PageOptions): Html {
  const { viewer } = options;
  const csrfHeaders =
    viewer?.csrfToken === undefined ? undefined : JSON.stringify({ 'X-CSRF-Token': viewer.csrfToken });
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="htmx-config" content="${htmxConfig}" />
        <title>${options.title} · Vigo</title>
        <link rel="icon" type="image/svg+xml" href="${shell.assets.url('favicon.svg')}" />
        <link rel="stylesheet" href="${shell.assets.url('app.css')}" />
        <script src="${shell.assets.url('htmx.min.js')}" defer></script>
        <script src="${shell.assets.url('app.js')}" defer></script>
      </head>
      <body ${csrfHeaders === undefined ? '' : html`hx-headers="${csrfHeaders}"`}>
        <a class="skip-link" href="#main">Skip to content</a>
        <header class="site-header">
          <a class="brand" href="/">Vigo</a>
          ${viewer === undefined ? '' : navigation(viewer, options.nav)}
          ${viewer === undefined ? '' : account(viewer)}
        </header>
        <main id="main" tabindex="-1">
          ${noticeBanner(options.notice)} ${errorBanner(options.error)} ${options.body}
        </main>
        <footer class="site-footer">
          <span>vigosrv ${shell.version}</span>
          <a href="/docs">API documentation</a>
        </footer>
      </body>
    </html> `;
}

/** The hidden field that carries the session's CSRF token in a plain form post (the view kit's csrfField). */
export const csrfInput = csrfField;
