import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { appendAudit, firstSeqAtOrAfter } from '../../server/audit/index.ts';
import { isVigoError, silentLogger } from '../../server/core/index.ts';
import { EnvoyEntry } from '../../server/fleet/index.ts';
import type { EnvoyPage } from '../../server/fleet/index.ts';
import { openStore } from '../../server/store/index.ts';
import type { Store } from '../../server/store/index.ts';
import type { AuditPagesDeps } from './audit.ts';
import { auditPage, parseUtcMinute } from './audit.ts';

const root = mkdtempSync(join(tmpdir(), 'vigo-audit-page-'));
const envoyId = '0b6c2f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const minuteMs = 60_000;
const startMs = Date.parse('2026-03-01T00:00:00Z');
let store: Store;

const web1 = new EnvoyEntry({
  id: envoyId,
  hostname: 'web-1',
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
  agent_version: null,
});
const fleet: AuditPagesDeps['fleet'] = {
  get: (id) => (id === envoyId ? web1 : undefined),
  list: (filter): EnvoyPage => {
    const items =
      filter.hostnamePrefix !== undefined && 'web-1'.startsWith(filter.hostnamePrefix) ? [web1] : [];
    return { items, total: items.length, nextCursor: undefined };
  },
};

before(() => {
  store = openStore({ file: join(root, 'vigo.db'), log: silentLogger, busyTimeoutMs: 5000 });
  // 120 entries, one a minute from 2026-03-01T00:00Z: even ones by ann, odd ones by the envoy web-1.
  store.tx((db) => {
    for (let i = 0; i < 120; i += 1) {
      appendAudit(db, {
        actor: i % 2 === 0 ? 'user:ann' : `envoy:${envoyId}`,
        action: i % 3 === 0 ? 'config.published' : 'envoy.checked_in',
        target: `envoy:${envoyId}`,
        at: startMs + i * minuteMs,
        details: { hash: 'ab'.repeat(32) },
      });
    }
  });
});

after(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

describe('audit page queries', () => {
  it('finds the first entry at or after a time by binary search over seq', () => {
    const head = 120;
    assert.equal(firstSeqAtOrAfter(store.db, startMs - 1, head), 1);
    assert.equal(firstSeqAtOrAfter(store.db, startMs + 10 * minuteMs, head), 11);
    assert.equal(firstSeqAtOrAfter(store.db, startMs + 10 * minuteMs + 1, head), 12);
    assert.equal(firstSeqAtOrAfter(store.db, startMs + 1000 * minuteMs, head), 121);
  });

  it('pages newest first, 50 at a time, and stops at the oldest', () => {
    const first = auditPage(store, fleet, {}, undefined);
    assert.equal(first.entries.length, 50);
    assert.equal(first.entries[0]?.seq, 120);
    assert.equal(first.olderBefore, 71);
    const third = auditPage(store, fleet, {}, 21);
    assert.equal(third.entries.length, 20);
    assert.equal(third.olderBefore, undefined);
  });

  it('keeps to the time range, From inclusive and Until exclusive', () => {
    const page = auditPage(store, fleet, { from: '2026-03-01T00:10', to: '2026-03-01T00:20' }, undefined);
    assert.deepEqual(
      page.entries.map((e) => e.seq),
      [20, 19, 18, 17, 16, 15, 14, 13, 12, 11],
    );
    assert.equal(page.olderBefore, undefined);
    assert.deepEqual(auditPage(store, fleet, { from: '2027-01-01T00:00' }, undefined).entries, []);
  });

  it('filters by actor, taking a bare hostname as that envoy, and by action', () => {
    const byHost = auditPage(store, fleet, { actor: 'web-1', to: '2026-03-01T00:06' }, undefined);
    assert.deepEqual(
      byHost.entries.map((e) => e.seq),
      [6, 4, 2],
    );
    const byAction = auditPage(store, fleet, { actor: 'user:ann', action: 'config.published' }, undefined);
    assert.ok(byAction.entries.every((e) => e.actor === 'user:ann' && e.action === 'config.published'));
    assert.equal(byAction.entries.length, 20);
  });

  it('refuses times that are not UTC minutes and a range that ends before it starts', () => {
    for (const bad of ['yesterday', '2026-02-31T10:00', '2026-03-01 10:00', '2026-03-01T25:00']) {
      assert.throws(
        () => parseUtcMinute(bad, 'From'),
        (err) => isVigoError(err) && err.code === 'request.invalid',
        bad,
      );
    }
    assert.equal(parseUtcMinute('2026-03-01T10:30', 'From'), Date.parse('2026-03-01T10:30:00Z'));
    assert.throws(
      () => auditPage(store, fleet, { from: '2026-03-01T10:00', to: '2026-03-01T09:00' }, undefined),
      /Until: must be later than From/,
    );
  });
});
