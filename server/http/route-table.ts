/**
 * The one declarative route table. Every HTTP route the server answers — API, web pages, operational
 * endpoints — is a `RouteDef` with its method, path, input rules, output schema and the access it needs.
 * Mounting wraps each handler so that the caller is authenticated and authorized before the handler runs,
 * and the same definitions produce the OpenAPI document. A route without a declared access fails at
 * startup, so no handler can forget to authorize.
 *
 * Bodies: the caller is identified and authorized from the headers alone, so a request without the right
 * credential is refused (401/403) before any byte of its body is read. Each route declares the largest
 * body it takes (`bodyCap`), enforced as the body streams in, and every body counts against its client's
 * share of the server's body budget (see body-budget.ts).
 */
import type { Context, Hono } from 'hono';
import type { Ctx, ErrorCode } from '../core/index.ts';
import { VigoError } from '../core/index.ts';
import type { Permission } from '../identity/index.ts';
import { allPermissions, hasPermission } from '../identity/index.ts';
import type { HttpEnv } from './app.ts';
import { addressKey } from '../net/index.ts';
import type { AuthDeps, AuthEnv } from './auth.ts';
import { authRequired, checkFormCsrf, identifyRequest } from './auth.ts';
import type { BodyBudget, BodyReservation } from './body-budget.ts';
import type { BodyOf, BodyRules } from './json-body.ts';
import { readJsonBody, readRawJsonBody } from './json-body.ts';
import { sourceAddress } from './peer.ts';
import type { QueryOf, QueryRules } from './query.ts';
import { parseQuery } from './query.ts';
import { boundRequestBody } from './request-body.ts';

/**
 * Who may call a route: a permission, `authenticated` (any identity: whoami, one's own API tokens) or
 * `public` (health, enrollment with its own token, the bootstrap script, the login page).
 */
export type Access = Permission | 'authenticated' | 'public';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * The largest body a route takes: `small` (public routes by default: login, setup, enrollment; 64 KiB at
 * most), `standard` (every other route by default: `http.max_body_bytes`) or `upload` (stack uploads:
 * `publish.max_upload_bytes`).
 */
export type BodyCap = 'small' | 'standard' | 'upload';

/** What the mounted table needs to bound bodies. */
export interface RouteBodies {
  /** Bytes a cap allows, asked per request (the upload cap follows config reloads). */
  capBytes(cap: BodyCap): number;
  readonly budget: BodyBudget;
}

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it). */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface RouteRequest<B extends BodyRules, Q extends QueryRules> {
  readonly c: Context<AuthEnv>;
  /** The caller; for public routes the actor is `system` only when nobody authenticated. */
  readonly ctx: Ctx;
  /** The parsed body; empty when the route defers reading it (`deferBody`). */
  readonly body: BodyOf<B>;
  /** Reads and checks the body now, for routes that must refuse some callers before parsing it. */
  readonly readBody: () => Promise<BodyOf<B>>;
  /** The JSON body's bytes, bounded like any body but neither decoded nor parsed (`rawBody` routes). */
  readonly readRawBody: () => Promise<Buffer>;
  readonly query: QueryOf<Q>;
  readonly param: (name: string) => string;
}

export interface RouteDef<B extends BodyRules = BodyRules, Q extends QueryRules = QueryRules> {
  readonly method: HttpMethod;
  /** OpenAPI style: `/api/v1/envoys/{id}`; `{name+}` matches the rest of the path, slashes included. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: Access;
  readonly query?: Q;
  readonly body?: B;
  /** The handler reads the body itself with `readBody()` (after its own rate limiting, say). */
  readonly deferBody?: boolean;
  /**
   * The handler takes the body's bytes with `readRawBody()` and has them parsed elsewhere — a stacks
   * upload is parsed by the validator worker against the same `body` rules, never on this thread.
   */
  readonly rawBody?: boolean;
  /** The largest body accepted; `small` for public routes and `standard` for the others unless declared. */
  readonly bodyCap?: BodyCap;
  /** Schema of the success body; `produces` other than JSON document the media type instead. */
  readonly response?: JsonSchema;
  /** Success statuses (default 200). */
  readonly success?: readonly number[];
  /**
   * The codes the handler itself may answer with, for the OpenAPI document. The refusals the table raises
   * before a handler runs (credentials, permission, CSRF, query and body limits, a damaged audit chain on a
   * privileged change) are added by the document itself; see openapi.ts.
   */
  readonly errors?: readonly ErrorCode[];
  /** Media type of the success body (default application/json). */
  readonly produces?: string;
  /** Undeclared query parameters are ignored instead of refused (the bootstrap script's `?os=`). */
  readonly ignoreUnknownQuery?: boolean;
  /** Web pages send a browser to the login page instead of answering 401. */
  readonly onUnauthenticated?: 'error' | 'login-redirect';
  /**
   * Renders a refusal raised before the handler runs (permission, CSRF, bad query) in the route's own
   * media type — web pages answer with a page, not the JSON envelope. Same status either way.
   */
  readonly renderError?: (c: Context<AuthEnv>, err: unknown) => Response;
  /** Leave out of the OpenAPI document (web pages, the document itself). */
  readonly hidden?: boolean;
  readonly handler: (req: RouteRequest<B, Q>) => Response | Promise<Response>;
}

/** A route of any input shape, as the table holds it. */
export type AnyRoute = RouteDef<BodyRules, QueryRules>;

/** Declares one route; the generic parameters give the handler typed body and query. */
export function route<
  B extends BodyRules = Record<never, never>,
  Q extends QueryRules = Record<never, never>,
>(def: RouteDef<B, Q>): AnyRoute {
  return def as unknown as AnyRoute;
}

const accessValues: ReadonlySet<string> = new Set<string>([...allPermissions, 'authenticated', 'public']);
const pathPattern = /^\/(?:[A-Za-z0-9._~-]+|\{[a-zA-Z]+\+?\})?(?:\/(?:[A-Za-z0-9._~-]+|\{[a-zA-Z]+\+?\}))*$/;

/** The hono form of a table path: `{id}` → `:id`, `{rest+}` → `:rest{.+}`. */
export function honoPath(path: string): string {
  return path.replace(/\{([a-zA-Z]+)\+\}/g, ':$1{.+}').replace(/\{([a-zA-Z]+)\}/g, ':$1');
}

/** Fails (at startup) on a route without a valid access, a malformed path or a duplicate method+path. */
export function checkRouteTable(routes: readonly AnyRoute[]): void {
  const seen = new Set<string>();
  for (const r of routes) {
    const name = `${r.method} ${r.path}`;
    if (typeof r.access !== 'string' || !accessValues.has(r.access)) {
      throw new Error(
        `route ${name} declares no valid access (got ${JSON.stringify(r.access)}); every route must name a ` +
          `permission, "authenticated" or "public"`,
      );
    }
    if (!pathPattern.test(r.path)) throw new Error(`route ${name} has a malformed path`);
    if (seen.has(name)) throw new Error(`route ${name} is declared twice`);
    seen.add(name);
    if (r.body !== undefined && r.method === 'GET') throw new Error(`route ${name} is a GET with a body`);
  }
}

function loginRedirect(c: Context<AuthEnv>): Response {
  const next = c.req.path + (new URL(c.req.url).search || '');
  if (c.req.header('hx-request') === 'true') {
    // htmx follows HX-Redirect with a full page load instead of swapping the login page into a fragment.
    return c.body(null, 401, { 'HX-Redirect': `/login?next=${encodeURIComponent(next)}` });
  }
  return c.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
}

function authorize(c: Context<AuthEnv>, r: AnyRoute): Ctx | Response {
  const actor = c.get('actor');
  const base = { requestId: c.get('requestId'), log: c.get('log'), traceparent: c.get('traceparent') };
  if (r.access === 'public') return { ...base, actor: actor ?? { kind: 'system' } };
  if (actor === undefined) {
    if (r.onUnauthenticated === 'login-redirect') return loginRedirect(c);
    throw authRequired(c);
  }
  if (r.access !== 'authenticated' && !hasPermission(actor, r.access)) {
    throw new VigoError(
      'auth.forbidden',
      `${r.method} ${r.path} needs the "${r.access}" permission, which ${describeActor(actor)} does not have`,
      { permission: r.access },
    );
  }
  return { ...base, actor };
}

function describeActor(actor: Ctx['actor']): string {
  switch (actor.kind) {
    case 'user':
    case 'api-token':
      return `${actor.username} (role ${actor.role})`;
    default:
      return actor.kind;
  }
}

/** The cap that applies to `r`. */
export function bodyCapOf(r: AnyRoute): BodyCap {
  return r.bodyCap ?? (r.access === 'public' ? 'small' : 'standard');
}

/** `routes` with the routes at `paths` taking bodies up to `cap` (wiring for tables declared elsewhere). */
export function withBodyCap(routes: readonly AnyRoute[], paths: readonly string[], cap: BodyCap): AnyRoute[] {
  return routes.map((r) => (paths.includes(r.path) ? { ...r, bodyCap: cap } : r));
}

/**
 * Everything that happens before the handler, in this order: the caller is named from the headers and
 * authorized, the query is parsed, the body is bounded (not read), and a form post's CSRF field is
 * checked. A Response is the login redirect for a page.
 */
async function admit(
  c: Context<AuthEnv>,
  r: AnyRoute,
  auth: AuthDeps,
  bodies: RouteBodies,
  reservation: BodyReservation,
): Promise<{ ctx: Ctx; query: QueryOf<QueryRules> } | Response> {
  const { formCsrf } = identifyRequest(auth, c);
  const ctx = authorize(c, r);
  if (ctx instanceof Response) return ctx;
  const query = parseQuery(c, r.query ?? {}, r.ignoreUnknownQuery === true);
  boundRequestBody(c, { maxBytes: bodies.capBytes(bodyCapOf(r)), reservation });
  if (formCsrf !== undefined) await checkFormCsrf(auth, c, formCsrf);
  return { ctx, query };
}

/** Registers every route of the table on `app`, each behind authentication and its access check. */
export function mountRouteTable(
  app: Hono<HttpEnv>,
  routes: readonly AnyRoute[],
  auth: AuthDeps,
  bodies: RouteBodies,
): void {
  checkRouteTable(routes);
  const authed = app as unknown as Hono<AuthEnv>;
  for (const r of routes) {
    authed.on(r.method, honoPath(r.path), async (c) => {
      c.set('route', r.path);
      const reservation = bodies.budget.open(addressKey(sourceAddress(c)));
      try {
        let admitted: Awaited<ReturnType<typeof admit>>;
        try {
          admitted = await admit(c, r, auth, bodies, reservation);
        } catch (err) {
          if (r.renderError === undefined) throw err;
          return r.renderError(c, err);
        }
        if (admitted instanceof Response) return admitted;
        const rules = r.body ?? {};
        const readBody = (): Promise<BodyOf<BodyRules>> => readJsonBody(c, rules);
        const readRawBody = (): Promise<Buffer> => readRawJsonBody(c);
        const deferred = r.deferBody === true || r.rawBody === true;
        const body = r.body === undefined || deferred ? ({} as BodyOf<BodyRules>) : await readBody();
        const { ctx, query } = admitted;
        const param = (name: string): string => c.req.param(name) ?? '';
        return await r.handler({ c, ctx, body, readBody, readRawBody, query, param });
      } finally {
        reservation.release();
      }
    });
  }
}
