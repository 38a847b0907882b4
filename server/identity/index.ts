/**
 * Identities: users and their roles, password login, API tokens (`vgot_…`), web sessions and the one-time
 * secret (`vgbs_…`) that creates the first admin. Domain only: the HTTP layer turns cookies and bearer
 * headers into calls on the `IdentityService` and the resulting `Actor` into permission checks.
 *
 * - `permissionsOf(actor)` / `hasPermission(actor, p)`: what an actor may do, from its role now.
 * - `createIdentityService(options)`: everything else; see `IdentityService` for each method's errors.
 * - Credentials are shown once and stored as SHA-256 (tokens, sessions, bootstrap secret) or bcrypt
 *   (passwords); no view returned here ever carries a hash.
 */
export {
  allPermissions,
  allRoles,
  hasPermission,
  isRole,
  permissionsOf,
  rolePermissions,
} from './permissions.ts';
export type { Permission } from './permissions.ts';
export { createIdentityService, identityDefaults } from './service.ts';
export type { IdentityService, IdentityServiceOptions } from './service.ts';
export type { CreateUserInput, UpdateUserInput, UserListing, UserView } from './users.ts';
export { userListLimits } from './users.ts';
export { apiTokenLimits, apiTokenPrefix } from './api-tokens.ts';
export type {
  ApiTokenListing,
  ApiTokenStatus,
  ApiTokenView,
  CreateApiTokenInput,
  CreatedApiToken,
} from './api-tokens.ts';
export { csrfMatches, sessionLimits } from './sessions.ts';
export type { AuthenticatedSession, CreatedSession, SessionClient } from './sessions.ts';
export { adminBootstrapPrefix } from './bootstrap-admin.ts';
export type { ClaimAdminBootstrapInput } from './bootstrap-admin.ts';
export { passwordLimits } from './passwords.ts';
export { reservedUsernames, userLimits } from './validate.ts';
