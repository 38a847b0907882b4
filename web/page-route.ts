/**
 * Page routes: entries of the server's one route table with the settings every page shares (hidden from
 * OpenAPI, HTML, a browser without a session is sent to the login page) and one error net, so a failing
 * handler answers with a readable page and the error's status instead of JSON.
 */
import type { Ctx } from '../server/core/index.ts';
import type { QueryRules } from '../server/http/query.ts';
import type { AnyRoute, RouteDef, RouteRequest } from '../server/http/route-table.ts';
import { route } from '../server/http/route-table.ts';
import { html } from './html.ts';
import type { NavKey, Shell } from './layout.ts';
import { renderPage, section } from './layout.ts';
import type { WebContext } from './page-kit.ts';
import { errorView, htmlResponse, viewerOf } from './page-kit.ts';

type Shared = 'tag' | 'hidden' | 'produces' | 'onUnauthenticated' | 'body' | 'deferBody' | 'renderError';

export interface PageDef<Q extends QueryRules> extends Omit<RouteDef<Record<never, never>, Q>, Shared> {
  /** Highlighted in the navigation, also on the error page. */
  readonly nav: NavKey;
}

/** A whole page standing for an error, with a way back. */
export function errorPage(shell: Shell, c: WebContext, ctx: Ctx, nav: NavKey, err: unknown): Response {
  const error = errorView(c, err);
  const back = section(nav);
  const body = html`<h1>${error.status === 404 ? 'Not found' : 'That did not work'}</h1>
    <p><a href="${back.href}">Back to ${back.label}</a></p>`;
  return htmlResponse(
    c,
    renderPage(shell, { title: 'Error', viewer: viewerOf(c, ctx), nav, body, error }),
    error.status,
  );
}

export function pageRoute<Q extends QueryRules = Record<never, never>>(
  shell: Shell,
  def: PageDef<Q>,
): AnyRoute {
  const { nav, handler, ...rest } = def;
  return route<Record<never, never>, Q>({
    ...rest,
    tag: 'web',
    hidden: true,
    produces: 'text/html',
    onUnauthenticated: 'login-redirect',
    renderError: (c, err) =>
      errorPage(
        shell,
        c,
        { requestId: c.get('requestId'), log: c.get('log'), actor: c.get('actor') ?? { kind: 'system' } },
        nav,
        err,
      ),
    handler: async (req: RouteRequest<Record<never, never>, Q>) => {
      try {
        return await handler(req);
      } catch (err) {
        return errorPage(shell, req.c, req.ctx, nav, err);
      }
    },
  });
}
