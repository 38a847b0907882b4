/**
 * People and their credentials:
 *   POST   /api/v1/auth/login        public: password → web session (cookie) or an API token for vigocli
 *   POST   /api/v1/auth/logout       ends the caller's web session
 *   GET    /api/v1/auth/whoami       who the credential stands for, and its permissions
 *   POST   /api/v1/auth/bootstrap    public: the first admin, with the one-time secret printed at first start
 *   /api/v1/users[/{id}]            admin: web users
 *   /api/v1/tokens[/{id}]           API tokens: one's own; admins anyone's
 */
import type { Actor } from '../../core/index.ts';
import { VigoError, parseDurationMs } from '../../core/index.ts';
import type { IdentityService, UserView } from '../../identity/index.ts';
import { allRoles, permissionsOf } from '../../identity/index.ts';
import { clearedSessionCookie, sessionCookie, sessionIdOf } from '../auth.ts';
import { sourceAddress } from '../peer.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

export interface IdentityRoutesDeps {
  readonly identity: IdentityService;
}

function expiresInMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0)
    throw new VigoError(
      'request.invalid',
      `expiresIn: expected a duration such as "720h", got ${JSON.stringify(text)}`,
      {
        field: 'expiresIn',
      },
    );
  return ms;
}

function actorView(actor: Actor): Record<string, unknown> {
  switch (actor.kind) {
    case 'user':
      return { kind: 'user', userId: actor.userId, username: actor.username, role: actor.role };
    case 'api-token':
      return {
        kind: 'api-token',
        tokenId: actor.tokenId,
        userId: actor.userId,
        username: actor.username,
        role: actor.role,
      };
    default:
      return { kind: actor.kind };
  }
}

const userSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'username', 'role', 'disabled', 'createdAt'],
  properties: {
    id: { type: 'string' },
    username: { type: 'string' },
    displayName: { type: ['string', 'null'] },
    email: { type: ['string', 'null'] },
    role: { enum: [...allRoles] },
    hasPassword: { type: 'boolean' },
    disabled: { type: 'boolean' },
    disabledAt: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
};
const tokenSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'userId', 'username', 'name', 'createdAt', 'status'],
  properties: {
    id: { type: 'string' },
    userId: { type: 'string' },
    username: { type: 'string' },
    name: { type: 'string' },
    createdAt: { type: 'string' },
    expiresAt: { type: ['string', 'null'] },
    lastUsedAt: { type: ['string', 'null'] },
    revokedAt: { type: ['string', 'null'] },
    status: { enum: ['active', 'expired', 'revoked'] },
  },
};

const loginBody = {
  username: { type: 'string', maxLength: 128 },
  password: { type: 'string', maxLength: 1024 },
  as: { type: 'string', optional: true, maxLength: 16 },
  tokenName: { type: 'string', optional: true, maxLength: 64 },
  expiresIn: { type: 'string', optional: true, maxLength: 32 },
} as const;
const bootstrapBody = {
  secret: { type: 'string', maxLength: 256 },
  username: { type: 'string', maxLength: 128 },
  password: { type: 'string', maxLength: 1024 },
} as const;
const createUserBody = {
  username: { type: 'string', maxLength: 128 },
  role: { type: 'string', maxLength: 32 },
  password: { type: 'string', optional: true, maxLength: 1024 },
  displayName: { type: 'string', optional: true, maxLength: 256 },
  email: { type: 'string', optional: true, maxLength: 320 },
} as const;
const updateUserBody = {
  role: { type: 'string', optional: true, maxLength: 32 },
  password: { type: 'string', optional: true, maxLength: 1024 },
  displayName: { type: 'string', optional: true, maxLength: 256 },
  email: { type: 'string', optional: true, maxLength: 320 },
  disabled: { type: 'boolean', optional: true },
} as const;
const createTokenBody = {
  name: { type: 'string', maxLength: 64 },
  expiresIn: { type: 'string', optional: true, maxLength: 32 },
  user: { type: 'string', optional: true, maxLength: 128 },
} as const;
const tokenListQuery = { user: { type: 'string', maxLength: 128 } } as const;

function role(text: string | undefined): UserView['role'] | undefined {
  if (text === undefined) return undefined;
  const found = allRoles.find((r) => r === text);
  if (found === undefined)
    throw new VigoError('request.invalid', `role: must be one of ${allRoles.join(', ')}`, { field: 'role' });
  return found;
}

/** The user a new token belongs to: the caller, or (admins only) whoever `user` names. */
function tokenOwner(actor: Actor, user: string | undefined): string {
  if (user !== undefined) return user;
  if (actor.kind === 'user' || actor.kind === 'api-token') return actor.userId;
  throw new VigoError(
    'request.invalid',
    'token owner must be a real web user: pass "user" (vigocli: --user NAME) when acting as the local admin',
    { field: 'user' },
  );
}

function authRoutes(deps: IdentityRoutesDeps): AnyRoute[] {
  const { identity } = deps;
  return [
    route<typeof loginBody>({
      method: 'POST',
      path: '/api/v1/auth/login',
      summary: 'Sign in with a password: a web session (cookie) or, with as=token, an API token',
      tag: 'auth',
      access: 'public',
      errors: ['rate_limited', 'identity.login_failed', 'identity.user_disabled', 'audit.chain_broken'],
      body: loginBody,
      response: { type: 'object', required: ['user'], properties: { user: userSchema } },
      handler: async ({ c, body }) => {
        if (body.as !== undefined && body.as !== 'session' && body.as !== 'token')
          throw new VigoError('request.invalid', 'as: must be "session" or "token"', { field: 'as' });
        const user = await identity.verifyPassword(body.username, body.password, sourceAddress(c));
        if (body.as === 'token') {
          const ctx = {
            requestId: c.get('requestId'),
            log: c.get('log'),
            actor: { kind: 'user', userId: user.id, username: user.username, role: user.role } as const,
          };
          const created = identity.createApiToken(ctx, {
            userId: user.id,
            name: body.tokenName ?? 'vigocli',
            expiresInMs: expiresInMs(body.expiresIn) ?? 30 * 86_400_000,
          });
          return c.json({ user, token: created.token, id: created.id, expiresAt: created.expiresAt });
        }
        const session = identity.createSession(user.id, {
          ip: sourceAddress(c),
          userAgent: c.req.header('user-agent') ?? null,
        });
        c.header('Set-Cookie', sessionCookie(session.sessionId));
        return c.json({ user, csrfToken: session.csrfToken, expiresAt: session.expiresAt });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/auth/logout',
      summary: 'End the web session of this request',
      tag: 'auth',
      access: 'authenticated',
      response: { type: 'object', required: ['ok'] },
      handler: ({ c }) => {
        const id = sessionIdOf(c);
        if (id !== undefined) identity.destroySession(id);
        c.header('Set-Cookie', clearedSessionCookie);
        return c.json({ ok: true });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/auth/whoami',
      summary: 'Who this credential stands for, and what it may do',
      tag: 'auth',
      access: 'authenticated',
      response: {
        type: 'object',
        required: ['actor', 'permissions'],
        properties: { actor: { type: 'object' }, permissions: { type: 'array', items: { type: 'string' } } },
      },
      handler: ({ c, ctx }) =>
        c.json({ actor: actorView(ctx.actor), permissions: [...permissionsOf(ctx.actor)] }),
    }),
    route<typeof bootstrapBody>({
      method: 'POST',
      path: '/api/v1/auth/bootstrap',
      summary: 'Create the first admin with the one-time secret vigosrv printed at start',
      tag: 'auth',
      access: 'public',
      errors: [
        'rate_limited',
        'identity.bootstrap_invalid',
        'identity.bootstrap_used',
        'identity.username_invalid',
        'identity.password_invalid',
        'audit.chain_broken',
      ],
      body: bootstrapBody,
      success: [201],
      response: { type: 'object', required: ['user'], properties: { user: userSchema } },
      handler: async ({ c, body }) => {
        const user = await identity.claimAdminBootstrap({ ...body, sourceAddress: sourceAddress(c) });
        return c.json({ user }, 201);
      },
    }),
  ];
}

function userRoutes(deps: IdentityRoutesDeps): AnyRoute[] {
  const { identity } = deps;
  const tag = 'users';
  return [
    route({
      method: 'GET',
      path: '/api/v1/users',
      summary: 'Web users',
      tag,
      access: 'admin',
      response: {
        type: 'object',
        required: ['items'],
        properties: { items: { type: 'array', items: userSchema } },
      },
      handler: ({ c }) => {
        const listing = identity.listUsers();
        return c.json({ items: listing.users, truncated: listing.truncated });
      },
    }),
    route<typeof createUserBody>({
      method: 'POST',
      path: '/api/v1/users',
      summary: 'Create a web user',
      tag,
      access: 'admin',
      errors: ['identity.user_exists', 'identity.username_invalid', 'identity.password_invalid'],
      body: createUserBody,
      success: [201],
      response: userSchema,
      handler: async ({ c, ctx, body }) =>
        c.json(await identity.createUser(ctx, { ...body, role: role(body.role) ?? 'viewer' }), 201),
    }),
    route({
      method: 'GET',
      path: '/api/v1/users/{id}',
      summary: 'One web user (by id or username)',
      tag,
      access: 'admin',
      errors: ['identity.user_not_found'],
      response: userSchema,
      handler: ({ c, param }) => c.json(identity.getUser(param('id'))),
    }),
    route<typeof updateUserBody>({
      method: 'PUT',
      path: '/api/v1/users/{id}',
      summary: "Change a user's role, password, names or disabled state (a role change ends their sessions)",
      tag,
      access: 'admin',
      errors: ['identity.user_not_found', 'identity.password_invalid', 'identity.last_admin'],
      body: updateUserBody,
      response: userSchema,
      handler: async ({ c, ctx, body, param }) =>
        c.json(await identity.updateUser(ctx, param('id'), { ...body, role: role(body.role) })),
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/users/{id}',
      summary: 'Delete a user, their sessions and their API tokens',
      tag,
      access: 'admin',
      errors: ['identity.user_not_found', 'identity.last_admin'],
      response: { type: 'object', required: ['id', 'deleted'] },
      handler: ({ c, ctx, param }) => {
        const deleted = identity.deleteUser(ctx, param('id'));
        return c.json({ id: deleted.id, username: deleted.username, deleted: true });
      },
    }),
  ];
}

function tokenRoutes(deps: IdentityRoutesDeps): AnyRoute[] {
  const { identity } = deps;
  const tag = 'tokens';
  return [
    route<Record<never, never>, typeof tokenListQuery>({
      method: 'GET',
      path: '/api/v1/tokens',
      summary: "API tokens: one's own, or (admins) everyone's or one user's",
      tag,
      access: 'authenticated',
      query: tokenListQuery,
      response: {
        type: 'object',
        required: ['items'],
        properties: { items: { type: 'array', items: tokenSchema } },
      },
      handler: ({ c, ctx, query }) => {
        const listing = identity.listApiTokens(ctx, { userId: query.user });
        return c.json({ items: listing.tokens, truncated: listing.truncated });
      },
    }),
    route<typeof createTokenBody>({
      method: 'POST',
      path: '/api/v1/tokens',
      summary: 'Create an API token (vgot_…, shown once); it acts with its owner’s current role',
      tag,
      access: 'authenticated',
      errors: [
        'identity.user_not_found',
        'identity.user_disabled',
        'identity.token_limit',
        'audit.chain_broken',
      ],
      body: createTokenBody,
      success: [201],
      response: { ...tokenSchema, required: [...(tokenSchema['required'] as string[]), 'token'] },
      handler: ({ c, ctx, body }) =>
        c.json(
          identity.createApiToken(ctx, {
            userId: tokenOwner(ctx.actor, body.user),
            name: body.name,
            expiresInMs: expiresInMs(body.expiresIn),
          }),
          201,
        ),
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/tokens/{id}',
      summary: 'Revoke an API token (one’s own, or any as admin)',
      tag,
      access: 'authenticated',
      errors: ['identity.token_not_found', 'audit.chain_broken'],
      response: tokenSchema,
      handler: ({ c, ctx, param }) => c.json(identity.revokeApiToken(ctx, param('id'))),
    }),
  ];
}

export function identityRoutes(deps: IdentityRoutesDeps): AnyRoute[] {
  return [...authRoutes(deps), ...userRoutes(deps), ...tokenRoutes(deps)];
}
