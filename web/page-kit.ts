/**
 * What every page handler shares: who is looking (and what they may do), HTML responses that are never
 * cached, errors turned into readable pages with the right status, form fields parsed at the boundary,
 * and the checks for public form posts and post-login redirects.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Actor, Ctx } from '../server/core/index.ts';
import { VigoError, isVigoError, toPublicError } from '../server/core/index.ts';
import { httpStatusByKind, retryAfterSeconds } from '../server/http/error-map.ts';
import type { AuthEnv } from '../server/http/auth.ts';
import type { Permission } from '../server/identity/index.ts';
import { hasPermission } from '../server/identity/index.ts';
import type { Html } from './html.ts';

export type WebContext = Context<AuthEnv>;

/** The signed-in person a page is rendered for. */
export interface Viewer {
  readonly actor: Actor;
  /** Shown in the header: username, or what kind of caller this is. */
  readonly name: string;
  readonly role: string | undefined;
  /** Present for web sessions; pages embed it in forms and in htmx's request headers. */
  readonly csrfToken: string | undefined;
  can(permission: Permission): boolean;
}

export function viewerOf(c: WebContext, ctx: Ctx): Viewer | undefined {
  const actor = ctx.actor;
  if (actor.kind === 'system' || actor.kind === 'envoy') return undefined;
  const person = actor.kind === 'user' || actor.kind === 'api-token';
  return {
    actor,
    name: person ? actor.username : actor.kind,
    role: person ? actor.role : undefined,
    csrfToken: c.get('csrfToken'),
    can: (permission) => hasPermission(actor, permission),
  };
}

/** The viewer of a route that requires authentication (the route table already refused anyone else). */
export function requireViewer(c: WebContext, ctx: Ctx): Viewer {
  const viewer = viewerOf(c, ctx);
  if (viewer === undefined) throw new VigoError('auth.forbidden', 'the web UI is for people; sign in first');
  return viewer;
}

/** A path parameter of the route (`{id}`); empty when absent. */
export function pathParam(c: WebContext, name: string): string {
  return c.req.param(name) ?? '';
}

/** An HTML response. Pages carry the CSRF token and fleet data: no cache may keep them. */
export function htmlResponse(c: WebContext, body: Html, status = 200): Response {
  return c.body(body.text, status as ContentfulStatusCode, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    Vary: 'HX-Request, HX-Target',
  });
}

/** 303 See Other: after a form post the browser loads the target with GET. */
export function seeOther(c: WebContext, location: string): Response {
  return c.redirect(location, 303);
}

export interface ErrorView {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly requestId: string;
}

/**
 * The page form of an error: a VigoError keeps its message and maps to its status; anything else is
 * logged and shown only as "internal error" with the request id to look it up.
 */
export function errorView(c: WebContext, err: unknown): ErrorView {
  const pub = toPublicError(err);
  const status = httpStatusByKind[pub.kind];
  const requestId = c.get('requestId');
  if (!isVigoError(err) || status >= 500) c.get('log').error('web page failed', { err, path: c.req.path });
  const retryAfter = retryAfterSeconds(err);
  if (retryAfter !== undefined) c.header('Retry-After', String(retryAfter));
  const message =
    pub.kind === 'internal'
      ? `internal error; the server log has the details under request id ${requestId}`
      : pub.message;
  return { status, code: pub.code, message, requestId };
}

/** True when htmx asks for the element with this id only (not when it restores a page from history). */
export function wantsFragment(c: WebContext, targetId: string): boolean {
  return (
    c.req.header('hx-request') === 'true' &&
    c.req.header('hx-target') === targetId &&
    c.req.header('hx-history-restore-request') !== 'true'
  );
}

export type FormFields = Readonly<Record<string, string>>;

/** The posted form's text fields (files are ignored); the body size is already bounded by the app. */
export async function readForm(c: WebContext): Promise<FormFields> {
  const parsed = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

/** A form field, trimmed; undefined when absent or blank. Throws request.invalid when too long. */
export function optionalField(
  form: FormFields,
  name: string,
  maxLength: number,
  label = name,
): string | undefined {
  const value = form[name];
  if (value === undefined) return undefined;
  if (value.length > maxLength) {
    throw new VigoError('request.invalid', `${label}: at most ${maxLength} characters`, { field: name });
  }
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function requiredField(form: FormFields, name: string, maxLength: number, label = name): string {
  const value = optionalField(form, name, maxLength, label);
  if (value === undefined) throw new VigoError('request.invalid', `${label}: required`, { field: name });
  return value;
}

/** A field taken exactly as typed (passwords: leading or trailing spaces are part of them). */
export function secretField(form: FormFields, name: string, maxLength: number, label = name): string {
  const value = form[name] ?? '';
  if (value === '') throw new VigoError('request.invalid', `${label}: required`, { field: name });
  if (value.length > maxLength) {
    throw new VigoError('request.invalid', `${label}: at most ${maxLength} characters`, { field: name });
  }
  return value;
}

/**
 * Refuses a form post that a browser marked as coming from another site. Public forms (login, setup)
 * carry no CSRF token, and a cross-site login would sign a victim in to an attacker's account.
 */
export function requireSameOrigin(c: WebContext): void {
  const fetchSite = c.req.header('sec-fetch-site');
  const origin = c.req.header('origin');
  const host = c.req.header('host');
  let crossSite = fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none';
  if (!crossSite && origin !== undefined && origin !== 'null' && host !== undefined) {
    try {
      crossSite = new URL(origin).host !== host;
    } catch {
      crossSite = true;
    }
  }
  if (crossSite) {
    throw new VigoError(
      'auth.forbidden',
      'this form was posted from another site and is refused; use the Vigo page',
    );
  }
}

/**
 * Where to go after signing in: only a path on this server (`/…`, not `//host` or `/\host`, which
 * browsers read as another site), without control characters; anything else gives the fallback.
 */
export function safeNext(next: string | undefined, fallback: string): string {
  if (next === undefined || next.length > 2048) return fallback;
  if (!/^\/(?![/\\])/.test(next) || /[\p{Cc}\\]/u.test(next)) return fallback;
  const url = new URL(next, 'https://vigo.invalid');
  if (url.origin !== 'https://vigo.invalid') return fallback;
  return `${url.pathname}${url.search}`;
}

export type {
  ActionSpec,
  Column,
  ConfirmStepSpec,
  FieldSpec,
  FormSpec,
  HiddenField,
  InputField,
  SelectField,
  TableSpec,
} from './view-kit.ts';
export {
  actionButton,
  badge,
  confirmStep,
  copyable,
  csrfField,
  dataTable,
  emptyState,
  field,
  formView,
  panel,
} from './view-kit.ts';
