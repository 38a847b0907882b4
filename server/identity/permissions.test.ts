import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Actor, Role } from '../core/index.ts';
import type { Permission } from './permissions.ts';
import {
  allPermissions,
  allRoles,
  hasPermission,
  isRole,
  permissionsOf,
  rolePermissions,
} from './permissions.ts';

/** The Vigo matrix, written out in full so a change to any cell fails here. */
const expected: Record<Role, Record<Permission, boolean>> = {
  admin: {
    'fleet.read': true,
    'fleet.write': true,
    'config.publish': true,
    'config.rollback': true,
    'push.execute': true,
    'workflow.execute': true,
    'query.execute': true,
    'audit.read': true,
    'compliance.read': true,
    'compliance.docs.write': true,
    admin: true,
  },
  operator: {
    'fleet.read': true,
    'fleet.write': true,
    'config.publish': true,
    'config.rollback': true,
    'push.execute': true,
    'workflow.execute': true,
    'query.execute': true,
    'audit.read': true,
    'compliance.read': true,
    'compliance.docs.write': false,
    admin: false,
  },
  viewer: {
    'fleet.read': true,
    'fleet.write': false,
    'config.publish': false,
    'config.rollback': false,
    'push.execute': false,
    'workflow.execute': false,
    'query.execute': false,
    'audit.read': true,
    'compliance.read': true,
    'compliance.docs.write': false,
    admin: false,
  },
  compliance: {
    'fleet.read': false,
    'fleet.write': false,
    'config.publish': false,
    'config.rollback': false,
    'push.execute': false,
    'workflow.execute': false,
    'query.execute': false,
    'audit.read': false,
    'compliance.read': true,
    'compliance.docs.write': true,
    admin: false,
  },
};

describe('permissions', () => {
  it('lists every permission once', () => {
    assert.equal(new Set(allPermissions).size, allPermissions.length);
    assert.deepEqual(Object.keys(expected.admin).sort(), [...allPermissions].sort());
  });

  for (const role of allRoles) {
    it(`gives a ${role} user and a ${role} API token exactly the ${role} column`, () => {
      const user: Actor = { kind: 'user', userId: 'usr_1', username: 'ann', role };
      const token: Actor = { kind: 'api-token', tokenId: 'tok_1', userId: 'usr_1', username: 'ann', role };
      for (const permission of allPermissions) {
        const want = expected[role][permission];
        assert.equal(hasPermission(user, permission), want, `${role} user, ${permission}`);
        assert.equal(hasPermission(token, permission), want, `${role} token, ${permission}`);
        assert.equal(rolePermissions[role].has(permission), want);
      }
    });
  }

  it('denies the compliance role the raw audit log', () => {
    const actor: Actor = { kind: 'user', userId: 'u', username: 'c', role: 'compliance' };
    assert.equal(hasPermission(actor, 'audit.read'), false);
  });

  it('gives the local admin and the server itself everything, an envoy nothing', () => {
    for (const permission of allPermissions) {
      assert.equal(hasPermission({ kind: 'local-admin' }, permission), true);
      assert.equal(hasPermission({ kind: 'system' }, permission), true);
      assert.equal(hasPermission({ kind: 'envoy', envoyId: 'e1' }, permission), false);
    }
    assert.equal(permissionsOf({ kind: 'envoy', envoyId: 'e1' }).size, 0);
  });

  it('will not let a caller widen a shared role set', () => {
    const viewer = rolePermissions.viewer as Set<Permission>;
    assert.throws(() => viewer.add('admin'), TypeError);
    assert.throws(() => viewer.clear(), TypeError);
    assert.equal(hasPermission({ kind: 'user', userId: 'u', username: 'v', role: 'viewer' }, 'admin'), false);
    assert.equal(viewer.size, 3);
  });

  it('recognises roles', () => {
    for (const role of allRoles) assert.equal(isRole(role), true);
    for (const notRole of ['Admin', 'root', '', undefined, 1]) assert.equal(isRole(notRole), false);
  });
});
