/**
 * Who is calling the REST API. For now the only principal is the local admin: at every boot vigosrv
 * mints a fresh 256-bit token, writes it 0600 into the data directory for vigocli on the same host,
 * and keeps only its SHA-256. Requests present it as `Authorization: Bearer vgla_…`.
 *
 * `authenticate` names the caller (an `Actor` on the context) and never refuses by itself; guards such
 * as `requireAdmin` refuse. Users and API tokens will plug into `authenticate` the same way.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { Actor, Ctx } from '../core/index.ts';
import { VigoError, writePrivateFile } from '../core/index.ts';
import type { HttpEnv } from './app.ts';

export const localAdminTokenPrefix = 'vgla_';
const bearerPattern = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export interface AuthVariables {
  actor?: Actor;
  /** Why no actor was set, for the guard's error message. */
  authProblem?: string;
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

export interface AuthDeps {
  readonly localAdmin: LocalAdminCredential;
}

function identify(deps: AuthDeps, header: string | undefined): { actor?: Actor; problem?: string } {
  if (header === undefined || header.trim() === '') return { problem: 'no Authorization header was sent' };
  const presented = bearerPattern.exec(header)?.[1];
  if (presented === undefined) return { problem: 'the Authorization header is not "Bearer <token>"' };
  if (deps.localAdmin.matches(presented)) return { actor: { kind: 'local-admin' } };
  return { problem: 'the bearer token is not valid (the local-admin token changes at every server start)' };
}

/** Sets `actor` when the request carries a valid credential, `authProblem` otherwise. */
export function authenticate(deps: AuthDeps): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const { actor, problem } = identify(deps, c.req.header('authorization'));
    if (actor !== undefined) c.set('actor', actor);
    else c.set('authProblem', problem);
    await next();
  };
}

function isAdmin(actor: Actor): boolean {
  switch (actor.kind) {
    case 'local-admin':
    case 'system':
      return true;
    case 'user':
    case 'api-token':
      return actor.role === 'admin';
    case 'envoy':
      return false;
  }
}

function authRequired(c: Context<AuthEnv>): VigoError {
  c.header('WWW-Authenticate', 'Bearer realm="vigo"');
  const problem = c.get('authProblem') ?? 'no credential was presented';
  return new VigoError(
    'auth.required',
    `authentication required: ${problem}. Send "Authorization: Bearer <token>"; on the server host, ` +
      'vigocli reads the local-admin token from local-admin.token in the data directory.',
  );
}

/** Lets only admins through: 401 `auth.required` without a valid credential, 403 `auth.forbidden` for others. */
export const requireAdmin: MiddlewareHandler<AuthEnv> = async (c, next) => {
  const actor = c.get('actor');
  if (actor === undefined) throw authRequired(c);
  if (!isAdmin(actor)) {
    throw new VigoError(
      'auth.forbidden',
      `this endpoint is for admins; ${actor.kind} callers may not use it`,
    );
  }
  await next();
};

/** The use-case context of an authenticated request; throws `auth.required` when no guard ran. */
export function requestCtx(c: Context<AuthEnv>): Ctx {
  const actor = c.get('actor');
  if (actor === undefined) throw authRequired(c);
  return { requestId: c.get('requestId'), actor, log: c.get('log') };
}
