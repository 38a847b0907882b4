/**
 * The access matrix: every route of the running server's table, called by every role and by nobody,
 * answers as the route's declared access says — 401 (or a login redirect for pages) without credentials,
 * 403 for a role without the permission, and neither (nor a 5xx) for a role that has it. Also checks that
 * every route declares an access and that the OpenAPI document describes exactly the documented routes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Role } from '../server/core/index.ts';
import type { Permission } from '../server/identity/index.ts';
import { allPermissions, rolePermissions } from '../server/identity/index.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-access-');
let server: ReadyServer;
let adminHeaders: Record<string, string>;
const tokens = new Map<Role, string>();
const roles: readonly Role[] = ['admin', 'operator', 'viewer', 'compliance'];

interface RouteInfo {
  method: string;
  path: string;
  access: string;
  documented: boolean;
}
let table: RouteInfo[] = [];

after(async () => {
  await server?.stop();
  temp.remove();
});

before(async () => {
  server = await startServer({ dataDir: temp.path });
  adminHeaders = {
    authorization: `Bearer ${readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim()}`,
    'content-type': 'application/json',
  };
  for (const role of roles) {
    const username = `matrix-${role}`;
    const created = await server.request('/api/v1/users', {
      method: 'POST',
      headers: adminHeaders,
      body: JSON.stringify({ username, role }),
    });
    assert.equal(created.status, 201, created.body);
    const token = await server.request('/api/v1/tokens', {
      method: 'POST',
      headers: adminHeaders,
      body: JSON.stringify({ name: 'matrix', user: username }),
    });
    assert.equal(token.status, 201, token.body);
    tokens.set(role, token.json<{ token: string }>().token);
  }
  const listing = await server.request('/api/v1/system/routes', { headers: adminHeaders });
  assert.equal(listing.status, 200);
  table = listing.json<{ items: RouteInfo[] }>().items;
});

/** Only the status: event streams never end, so the response is dropped once its head arrives. */
function statusOf(
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? '{}' : undefined;
    const req = request(
      `${server.apiUrl}${path}`,
      {
        method,
        ca: readFileSync(join(temp.path, 'tls', 'ca.crt')),
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        agent: false,
      },
      (res) => {
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
        res.destroy();
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const concretePath = (path: string): string => path.replace(/\{[a-zA-Z]+\+?\}/g, 'no-such-thing');

function allowed(role: Role, access: string): boolean {
  if (access === 'public' || access === 'authenticated') return true;
  return rolePermissions[role].has(access as Permission);
}

describe('access matrix', () => {
  it('every route declares a known access', () => {
    assert.ok(table.length > 40, `the table lists ${table.length} routes`);
    const valid = new Set<string>([...allPermissions, 'public', 'authenticated']);
    for (const r of table) assert.ok(valid.has(r.access), `${r.method} ${r.path}: ${r.access}`);
  });

  it('the OpenAPI document describes exactly the documented routes', async () => {
    const doc = (await server.request('/api/v1/openapi.json')).json<{
      openapi: string;
      paths: Record<string, Record<string, { 'x-vigo-access': string }>>;
    }>();
    assert.equal(doc.openapi, '3.1.0');
    const fromSpec = Object.entries(doc.paths)
      .flatMap(([path, ops]) =>
        Object.entries(ops).map(([m, op]) => `${m.toUpperCase()} ${path} ${op['x-vigo-access']}`),
      )
      .sort();
    const fromTable = table
      .filter((r) => r.documented)
      .map((r) => `${r.method} ${r.path.replace(/\{([a-zA-Z]+)\+\}/g, '{$1}')} ${r.access}`)
      .sort();
    assert.deepEqual(fromSpec, fromTable);
  });

  it('Vigo spot checks hold', () => {
    assert.equal(allowed('viewer', 'config.publish'), false);
    assert.equal(
      allowed('compliance', 'audit.read'),
      false,
      'Vigo keeps compliance out of the raw audit log',
    );
    assert.equal(allowed('operator', 'admin'), false);
    assert.equal(allowed('viewer', 'fleet.read'), true);
    const access = (method: string, path: string): string | undefined =>
      table.find((r) => r.method === method && r.path === path)?.access;
    assert.equal(access('POST', '/api/v1/config/publish'), 'config.publish');
    assert.equal(access('POST', '/api/v1/config/rollback'), 'config.rollback');
    assert.equal(access('POST', '/api/v1/queries'), 'query.execute');
    assert.equal(access('GET', '/api/v1/queries/{id}'), 'query.execute');
    assert.equal(access('GET', '/api/v1/named-queries'), 'query.execute');
    assert.equal(access('POST', '/api/v1/push'), 'push.execute');
    assert.equal(access('POST', '/api/v1/envoys/{id}/push'), 'fleet.write');
    assert.equal(allowed('viewer', 'query.execute'), false, 'Vigo keeps viewers from live queries');
    assert.equal(allowed('viewer', 'push.execute'), false);
    assert.equal(allowed('operator', 'query.execute'), true);
    assert.equal(allowed('operator', 'push.execute'), true);
    assert.equal(access('GET', '/api/v1/audit'), 'audit.read');
    assert.equal(access('POST', '/api/v1/envoys/{id}/revoke'), 'fleet.write');
    assert.equal(access('GET', '/api/v1/users'), 'admin');
    assert.equal(access('GET', '/healthz'), 'public');
    assert.equal(access('POST', '/api/v1/tasks'), 'push.execute');
    assert.equal(access('POST', '/api/v1/task'), 'push.execute');
    assert.equal(access('POST', '/api/v1/tasks/{id}/abort'), 'push.execute');
    assert.equal(access('GET', '/api/v1/tasks'), 'fleet.read');
    assert.equal(access('GET', '/api/v1/tasks/{id}'), 'fleet.read');
    for (const path of [
      '/api/v1/workflows/runs',
      '/api/v1/workflows/runs/{id}/abort',
      '/api/v1/workflows/runs/{id}/approve',
      '/api/v1/workflows/runs/{id}/reject',
    ])
      assert.equal(access('POST', path), 'workflow.execute', path);
    for (const path of ['/api/v1/workflows', '/api/v1/workflows/runs', '/api/v1/workflows/runs/{id}'])
      assert.equal(access('GET', path), 'fleet.read', path);
    assert.equal(allowed('viewer', 'workflow.execute'), false, 'viewers neither start nor approve workflows');
    assert.equal(allowed('compliance', 'workflow.execute'), false);
    assert.equal(allowed('operator', 'workflow.execute'), true);
    assert.equal(allowed('viewer', 'push.execute'), false);
    for (const path of [
      '/api/v1/compliance',
      '/api/v1/compliance/frameworks/{framework}',
      '/api/v1/compliance/envoys/{id}',
      '/api/v1/compliance/waivers',
      '/api/v1/export/oscal',
      '/compliance',
      '/compliance/envoys/{id}',
    ])
      assert.equal(access('GET', path), 'compliance.read', path);
    assert.equal(allowed('compliance', 'compliance.read'), true, 'auditors read compliance and its exports');
  });

  it('every route × every role and no credentials answers as declared', async () => {
    const failures: string[] = [];
    for (const r of table) {
      const path = concretePath(r.path);
      const anonymous = await statusOf(r.method, path, {});
      if (r.access === 'public') {
        if (anonymous.status === 401 || anonymous.status === 403 || anonymous.status >= 500)
          failures.push(`${r.method} ${r.path} anonymous → ${anonymous.status}, expected open`);
      } else {
        const redirectedToLogin = anonymous.status === 303 && (anonymous.location ?? '').startsWith('/login');
        if (anonymous.status !== 401 && !redirectedToLogin)
          failures.push(`${r.method} ${r.path} anonymous → ${anonymous.status}, expected 401`);
      }
      for (const role of roles) {
        const got = await statusOf(r.method, path, { authorization: `Bearer ${tokens.get(role) ?? ''}` });
        const expectOk = allowed(role, r.access);
        if (expectOk && (got.status === 401 || got.status === 403 || got.status >= 500))
          failures.push(`${r.method} ${r.path} as ${role} → ${got.status}, expected access`);
        if (!expectOk && got.status !== 403)
          failures.push(`${r.method} ${r.path} as ${role} → ${got.status}, expected 403`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
