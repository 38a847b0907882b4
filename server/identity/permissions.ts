/**
 * Roles and permissions as Vigo defines them. A caller's permissions are derived from its actor on every
 * request, never stored, so a role change takes effect on the very next call.
 */
import type { Actor, Role } from '../core/index.ts';

export type Permission =
  | 'fleet.read'
  | 'fleet.write'
  | 'config.publish'
  | 'config.rollback'
  | 'push.execute'
  | 'workflow.execute'
  | 'query.execute'
  | 'audit.read'
  | 'compliance.read'
  | 'compliance.docs.write'
  | 'admin';

export const allPermissions: readonly Permission[] = Object.freeze([
  'fleet.read',
  'fleet.write',
  'config.publish',
  'config.rollback',
  'push.execute',
  'workflow.execute',
  'query.execute',
  'audit.read',
  'compliance.read',
  'compliance.docs.write',
  'admin',
] as const);

export const allRoles: readonly Role[] = Object.freeze([
  'admin',
  'operator',
  'viewer',
  'compliance',
] as const);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (allRoles as readonly string[]).includes(value);
}

function frozenSet(permissions: readonly Permission[]): ReadonlySet<Permission> {
  const set = new Set(permissions);
  // A ReadonlySet is only read-only to the type checker; callers holding the shared set must not widen a role.
  const deny = (): never => {
    throw new TypeError('role permission sets are fixed');
  };
  set.add = deny;
  set.delete = deny;
  set.clear = deny;
  return set;
}

const everything = frozenSet(allPermissions);
const nothing = frozenSet([]);

export const rolePermissions: Readonly<Record<Role, ReadonlySet<Permission>>> = Object.freeze({
  admin: everything,
  // Operators run the fleet but neither administer the server nor write compliance evidence.
  operator: frozenSet(allPermissions.filter((p) => p !== 'admin' && p !== 'compliance.docs.write')),
  viewer: frozenSet(['fleet.read', 'audit.read', 'compliance.read']),
  // Vigo keeps auditors of compliance evidence away from the raw audit log: no audit.read here.
  compliance: frozenSet(['compliance.read', 'compliance.docs.write']),
});

/**
 * What an actor may do. The local admin (vigocli on the server host) and the server itself may do
 * everything; an envoy holds no API permission at all; users and API tokens hold their role's set, and an
 * API token's role is its owner's current role.
 */
export function permissionsOf(actor: Actor): ReadonlySet<Permission> {
  switch (actor.kind) {
    case 'local-admin':
    case 'system':
      return everything;
    case 'envoy':
      return nothing;
    case 'user':
    case 'api-token':
      return rolePermissions[actor.role];
  }
}

export function hasPermission(actor: Actor, permission: Permission): boolean {
  return permissionsOf(actor).has(permission);
}
