import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Actor } from '../../server/core/index.ts';
import { EnvoyEntry } from '../../server/fleet/index.ts';
import { hasPermission } from '../../server/identity/index.ts';
import { renderPage } from '../layout.ts';
import type { Shell } from '../layout.ts';
import type { Viewer } from '../page-kit.ts';
import { outcomesTable, runResources, runsTable } from './envoy-detail.ts';
import { envoyRow } from '../envoy-table/index.ts';

const xss = '<script>alert(1)</script>';
const shell: Shell = {
  version: '<b>1</b>',
  assets: { url: (name) => `/static/${name}?v=1`, routes: () => [] },
};

function viewerAs(role: 'admin' | 'viewer', username = 'ann'): Viewer {
  const actor: Actor = { kind: 'user', userId: 'usr_1', username, role };
  return { actor, name: username, role, csrfToken: 'tok"en', can: (p) => hasPermission(actor, p) };
}

function noScript(out: string): void {
  assert.equal(/<script>alert/i.test(out), false, out);
}

describe('views escape what agents and users send', () => {
  it('envoy rows', () => {
    const e = new EnvoyEntry({
      id: `id"${xss}`,
      hostname: xss,
      public_key: Buffer.alloc(32),
      cert_fingerprint: null,
      status: 'active',
      enrolled_at: 1,
      last_seen_at: 2,
      last_ts_ms: 0,
      policy_version: 1,
      state_fingerprint: null,
      traits_hash: null,
      interval_ms: null,
      force_push: 0,
      agent_version: xss,
    });
    const out = envoyRow(e, { nowMs: 10, activeVersion: 1, selectForm: 'bulk' }).text;
    noScript(out);
    assert.match(out, /href="\/envoys\/id%22%3Cscript%3E/);
    assert.match(out, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  it('run and outcome tables', () => {
    const runs = runsTable(
      [
        {
          id: xss,
          envoyId: 'e1',
          hostname: xss,
          policyVersion: 1,
          startedAt: '2026-01-01T00:00:00.000Z',
          finishedAt: '2026-01-01T00:00:01.000Z',
          receivedAt: '2026-01-01T00:00:01.000Z',
          dryRun: false,
          status: xss,
          resources: { total: 1, changed: 0, failed: 0 },
          heartbeat: false,
        },
      ],
      Date.parse('2026-01-01T00:01:00Z'),
      true,
    ).text;
    noScript(runs);
    const outcomes = outcomesTable([
      { resourceId: xss, resourceType: xss, configcrate: xss, outcome: xss, message: xss, durationMs: 3 },
    ]).text;
    noScript(outcomes);
    assert.match(outcomes, /3 ms/);
  });

  it('a heartbeat run: its count and where its resources are listed, never an outcomes table', () => {
    const heartbeat = {
      id: 'r2',
      envoyId: 'e1',
      hostname: 'web-1',
      policyVersion: 4,
      startedAt: '2026-01-01T00:05:00.000Z',
      finishedAt: '2026-01-01T00:05:01.000Z',
      receivedAt: '2026-01-01T00:05:01.000Z',
      dryRun: false,
      status: 'converged',
      resources: { total: 50, changed: 0, failed: 0 },
      heartbeat: true,
      results: [],
      resourcesDigest: 'ab'.repeat(32),
      resourcesListedIn: { runId: xss, startedAt: '2026-01-01T00:00:00.000Z' },
    };
    const now = Date.parse('2026-01-01T00:06:00Z');
    const out = runResources(heartbeat, now).text;
    noScript(out);
    assert.match(out, /50 resources, none changed\./);
    assert.match(out, /href="\/runs\/%3Cscript%3E/);
    assert.doesNotMatch(out, /<table/);
    const unlisted = runResources({ ...heartbeat, resourcesListedIn: null }, now).text;
    assert.doesNotMatch(unlisted, /are listed in/);
    const full = runResources({ ...heartbeat, heartbeat: false }, now).text;
    assert.match(full, /The run managed no resources\./);
  });

  it('the page layout: username, version and the CSRF token in htmx headers', () => {
    const out = renderPage(shell, {
      title: xss,
      viewer: viewerAs('viewer', xss),
      nav: 'envoys',
      body: xss,
    }).text;
    noScript(out);
    assert.match(out, /hx-headers="\{&quot;X-CSRF-Token&quot;:&quot;tok\\&quot;en&quot;\}"/);
    assert.match(out, /<input type="hidden" name="_csrf" value="tok&quot;en" \/>/);
    assert.match(out, /vigosrv &lt;b&gt;1&lt;\/b&gt;/);
  });

  it('the navigation shows only what the viewer may open', () => {
    const asViewer = renderPage(shell, {
      title: 't',
      viewer: viewerAs('viewer'),
      nav: 'envoys',
      body: '',
    }).text;
    assert.match(asViewer, /href="\/envoys" aria-current="page"/);
    assert.match(asViewer, /href="\/audit"/);
    assert.doesNotMatch(asViewer, /href="\/admin\/users"/);
    const asAdmin = renderPage(shell, { title: 't', viewer: viewerAs('admin'), nav: 'users', body: '' }).text;
    assert.match(asAdmin, /href="\/admin\/users" aria-current="page"/);
    const anonymous = renderPage(shell, { title: 't', viewer: undefined, nav: 'none', body: '' }).text;
    assert.doesNotMatch(anonymous, /<nav/);
    assert.doesNotMatch(anonymous, /hx-headers/);
  });
});
