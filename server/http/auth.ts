/**
 * Who is calling over HTTPS. Three credentials: the local admin (at every boot vigosrv mints a fresh
 * 256-bit `vgla_` token, writes it 0600 into the data directory for vigocli on the same host and keeps
 * only its SHA-256), API tokens (`vgot_…`, resolved to their user's current role on every call) and web
 * sessions (an HttpOnly cookie plus a CSRF token for anything that changes state).
 *
 * `identifyRequest` names the caller; the route table decides whether that caller may go on.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import type { Actor, Ctx } from '../core/index.ts';
import { VigoError, writePrivateFile } from '../core/index.ts';
import type { HttpEnv } from './app.ts';

export const localAdminTokenPrefix = 'vgla_';
const bearerPattern = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export interface AuthVariables {
  actor?: Actor;
  /** Why no actor was set, for the guard's error message. */
  authProblem?: string;
  /** The session's CSRF token, when the caller signed in through the web UI (pages embed it). */
  csrfToken?: string;
}

export interface AuthEnv {
  Variables: HttpEnv['Variables'] & AuthVariables;
}

export interface LocalAdminCredential {
  /** Where the token was written. */
  readonly file: string;
  /** Constant-time check of a presented token. */
  matches(presented: string): boolean;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** A credential for an already known token (tests, and the minting below). */
export function localAdminCredentialFor(token: string, file: string): LocalAdminCredential {
  const expected = sha256(token);
  return {
    file,
    // Hashing first makes both sides 32 bytes, so neither the comparison nor a length check leaks anything.
    matches: (presented) => timingSafeEqual(sha256(presented), expected),
  };
}

/** Mints this boot's local-admin token and writes it to `file` (0600, atomically). */
export function mintLocalAdminCredential(file: string): LocalAdminCredential {
  const token = `${localAdminTokenPrefix}${randomBytes(32).toString('base64url')}`;
  writePrivateFile(file, `${token}\n`);
  return localAdminCredentialFor(token, file);
}

/** What the HTTP layer needs from the identity module: cheap lookups, no bcrypt. */
export interface IdentityLookup {
  authenticateApiToken(presented: string): Actor | undefined;
  authenticateSession(sessionId: string): { actor: Actor; csrfToken: string } | undefined;
  csrfMatches(expected: string, presented: string): boolean;
}

export interface AuthDeps {
  readonly localAdmin: LocalAdminCredential;
  readonly identity?: IdentityLookup;
}

/** The session cookie: `__Host-` binds it to this origin over HTTPS with Path=/ and no Domain. */
export const sessionCookieName = '__Host-vigo_session';
export const csrfHeaderName = 'x-csrf-token';

/** `Set-Cookie` for a new session: host-only, HTTPS-only, invisible to scripts, never sent cross-site. */
export function sessionCookie(sessionId: string): string {
  return `${sessionCookieName}=${sessionId}; Path=/; HttpOnly; Secure; SameSite=Strict`;
}

export const clearedSessionCookie = `${sessionCookieName}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0`;
const safeMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

function identifyBearer(deps: AuthDeps, header: string): { actor?: Actor; problem?: string } {
  const presented = bearerPattern.exec(header)?.[1];
  if (presented === undefined) return { problem: 'the Authorization header is not "Bearer <token>"' };
  if (presented.startsWith(localAdminTokenPrefix)) {
    if (deps.localAdmin.matches(presented)) return { actor: { kind: 'local-admin' } };
    return {
      problem: 'the local-admin token is not valid (it changes at every server start; read it again)',
    };
  }
  const actor = deps.identity?.authenticateApiToken(presented);
  if (actor !== undefined) return { actor };
  return { problem: 'the bearer token is unknown, expired or revoked, or its user is disabled' };
}

/** The session cookie's value, when the request carries one. */
export function sessionIdOf(c: Context): string | undefined {
  for (const part of (c.req.header('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === sessionCookieName) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function csrfRefused(): VigoError {
  return new VigoError(
    'auth.csrf',
    "this request changes something but does not carry the session's CSRF token " +
      '(send it as the X-CSRF-Token header); reload the page and try again',
  );
}

const formTypePattern = /^(application\/x-www-form-urlencoded|multipart\/form-data)/i;

/**
 * Names the caller from the request's headers alone — a bearer token (local admin or API token) or a web
 * session cookie — and never reads the body. Never refuses by itself, except that a cookie-authenticated
 * request that changes something must carry the session's CSRF token: in the `X-CSRF-Token` header
 * (checked here) or, for a plain form post, in the form field `_csrf`. For the latter it returns the
 * token the form must carry, and the route table calls `checkFormCsrf` once the caller has been
 * authorized and the body may be read.
 */
export function identifyRequest(deps: AuthDeps, c: Context<AuthEnv>): { formCsrf?: string } {
  const header = c.req.header('authorization');
  if (header !== undefined && header.trim() !== '') {
    const { actor, problem } = identifyBearer(deps, header);
    if (actor !== undefined) c.set('actor', actor);
    else c.set('authProblem', problem);
    return {};
  }
  const sessionId = sessionIdOf(c);
  if (sessionId === undefined || deps.identity === undefined) {
    c.set('authProblem', 'no Authorization header or session cookie was sent');
    return {};
  }
  const session = deps.identity.authenticateSession(sessionId);
  if (session === undefined) {
    c.set('authProblem', 'the session has ended (signed out, idle too long or expired); sign in again');
    return {};
  }
  c.set('actor', session.actor);
  c.set('csrfToken', session.csrfToken);
  if (safeMethods.has(c.req.method)) return {};
  const presented = c.req.header(csrfHeaderName);
  if (presented === undefined && formTypePattern.test(c.req.header('content-type') ?? '')) {
    return { formCsrf: session.csrfToken };
  }
  if (presented === undefined || !deps.identity.csrfMatches(session.csrfToken, presented))
    throw csrfRefused();
  return {};
}

/** Checks the `_csrf` field of a form post against the session's token; the body is read within its cap. */
export async function checkFormCsrf(deps: AuthDeps, c: Context<AuthEnv>, expected: string): Promise<void> {
  const field = (await c.req.parseBody())['_csrf'];
  const presented = typeof field === 'string' ? field : undefined;
  if (presented === undefined || deps.identity?.csrfMatches(expected, presented) !== true)
    throw csrfRefused();
}

/** The 401 for a request without a valid credential, with the reason it had none. */
export function authRequired(c: Context<AuthEnv>): VigoError {
  c.header('WWW-Authenticate', 'Bearer realm="vigo"');
  const problem = c.get('authProblem') ?? 'no credential was presented';
  return new VigoError(
    'auth.required',
    `authentication required: ${problem}. Send "Authorization: Bearer <token>" (an API token vgot_…, or ` +
      'on the server host the local-admin token from local-admin.token in the data directory), or sign in.',
  );
}

/** The use-case context of an authenticated request; throws `auth.required` when nobody is signed in. */
export function requestCtx(c: Context<AuthEnv>): Ctx {
  const actor = c.get('actor');
  if (actor === undefined) throw authRequired(c);
  return { requestId: c.get('requestId'), actor, log: c.get('log'), traceparent: c.get('traceparent') };
}
