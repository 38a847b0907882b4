import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../server/core/index.ts';
import { EnvoyEntry } from '../server/fleet/index.ts';
import { openStore } from '../server/store/index.ts';
import type { LatestRun } from '../server/runs/index.ts';
import { createLatestRunsReader } from '../server/runs/index.ts';
import { envoyHealth, envoyState, isConvergedRun, summarizeFleet } from './fleet-stats.ts';

function entry(
  id: string,
  fields: { revoked?: boolean; stale?: boolean; lastSeenAtMs?: number },
): EnvoyEntry {
  const e = new EnvoyEntry({
    id,
    hostname: id,
    public_key: Buffer.alloc(32),
    cert_fingerprint: null,
    status: fields.revoked === true ? 'revoked' : 'active',
    enrolled_at: 1,
    last_seen_at: fields.lastSeenAtMs ?? null,
    last_ts_ms: 0,
    policy_version: 0,
    state_fingerprint: null,
    traits_hash: null,
    interval_ms: null,
    force_push: 0,
    agent_version: null,
  });
  e.stale = fields.stale ?? false;
  return e;
}

describe('envoyState', () => {
  it('tells revoked, never seen, stale and active apart', () => {
    assert.equal(envoyState(entry('a', { revoked: true, lastSeenAtMs: 5 })), 'revoked');
    assert.equal(envoyState(entry('b', { stale: true })), 'never seen');
    assert.equal(envoyState(entry('c', { stale: true, lastSeenAtMs: 5 })), 'stale');
    assert.equal(envoyState(entry('d', { lastSeenAtMs: 5 })), 'active');
  });
});

describe('envoyHealth', () => {
  const withConvergence = (
    e: EnvoyEntry,
    status: 'converged' | 'degraded' | 'failed' | 'no_data',
  ): EnvoyEntry => {
    e.convergence = { ...e.convergence, status };
    return e;
  };
  it('is green (healthy) only when the last run converged; a failing envoy is failing even when stale', () => {
    assert.equal(envoyHealth(withConvergence(entry('a', { lastSeenAtMs: 5 }), 'converged')), 'healthy');
    assert.equal(envoyHealth(withConvergence(entry('b', { lastSeenAtMs: 5 }), 'failed')), 'failing');
    assert.equal(envoyHealth(withConvergence(entry('c', { lastSeenAtMs: 5 }), 'degraded')), 'failing');
    assert.equal(
      envoyHealth(withConvergence(entry('d', { lastSeenAtMs: 5, stale: true }), 'failed')),
      'failing',
    );
    assert.equal(envoyHealth(withConvergence(entry('e', { lastSeenAtMs: 5 }), 'no_data')), 'no runs yet');
    assert.equal(
      envoyHealth(withConvergence(entry('f', { lastSeenAtMs: 5, stale: true }), 'converged')),
      'stale',
    );
    assert.equal(envoyHealth(entry('g', {})), 'never seen');
    assert.equal(envoyHealth(withConvergence(entry('h', { revoked: true }), 'failed')), 'revoked');
  });
});

describe('isConvergedRun', () => {
  const run = (status: string, policyVersion: number, failed = 0): LatestRun => ({
    status,
    policyVersion,
    failed,
  });
  it('counts converged or changed-without-failures runs on the active version only', () => {
    assert.equal(isConvergedRun(run('converged', 3), 3), true);
    assert.equal(isConvergedRun(run('changed', 3), 3), true);
    assert.equal(isConvergedRun(run('changed', 3, 1), 3), false);
    assert.equal(isConvergedRun(run('failed', 3, 2), 3), false);
    assert.equal(isConvergedRun(run('partial', 3), 3), false);
    assert.equal(isConvergedRun(run('converged', 2), 3), false);
    assert.equal(isConvergedRun(undefined, 3), false);
    assert.equal(isConvergedRun(run('converged', 3), undefined), false);
  });
});

describe('summarizeFleet', () => {
  it('counts states, recent check-ins and convergence over active envoys', () => {
    const nowMs = 1_000_000;
    const entries = [
      entry('active-converged', { lastSeenAtMs: nowMs - 1_000 }),
      entry('active-old-version', { lastSeenAtMs: nowMs - 30_000 }),
      entry('active-no-run', { lastSeenAtMs: nowMs - 90_000 }),
      entry('stale-converged', { stale: true, lastSeenAtMs: nowMs - 900_000 }),
      entry('never', {}),
      entry('revoked', { revoked: true, lastSeenAtMs: nowMs - 10 }),
    ];
    const runs = new Map<string, LatestRun>([
      ['active-converged', { status: 'converged', policyVersion: 7, failed: 0 }],
      ['active-old-version', { status: 'converged', policyVersion: 6, failed: 0 }],
      ['stale-converged', { status: 'converged', policyVersion: 7, failed: 0 }],
    ]);
    const s = summarizeFleet(entries, nowMs, runs, 7);
    assert.deepEqual(s.byState, { active: 3, stale: 1, 'never seen': 1, revoked: 1 });
    assert.equal(s.total, 6);
    assert.equal(s.checkedInLastMinute, 3, 'revoked envoys that still knock count as check-ins');
    assert.equal(s.converged, 1);
    assert.equal(s.convergenceBase, 3);
  });
});

describe('createLatestRunsReader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigo-web-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("follows each envoy's latest real run: dry runs and late older runs do not replace it", () => {
    const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
    try {
      const addEnvoy = store.db.prepare(
        'INSERT INTO envoys (id, hostname, public_key, enrolled_at) VALUES (?, ?, zeroblob(32), 1)',
      );
      const addRun = store.db.prepare(
        `INSERT INTO runs (id, envoy_id, policy_version, started_at, finished_at, received_at, dry_run, status,
           resources_failed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      addEnvoy.run('e1', 'web-1');
      addEnvoy.run('e2', 'web-2');
      addRun.run('r1', 'e1', 1, 100, 101, 102, 0, 'failed', 2);
      addRun.run('r2', 'e1', 2, 200, 201, 202, 0, 'converged', 0);
      addRun.run('r3', 'e1', 3, 300, 301, 302, 1, 'failed', 1);
      let nowMs = 0;
      const reader = createLatestRunsReader(
        store.db,
        { maxAgeMs: 10_000, budgetMs: 1000, chunkRows: 100 },
        () => nowMs,
      );
      const first = reader.latest();
      assert.equal(first.complete, true);
      assert.deepEqual([...first.runs.keys()], ['e1']);
      assert.deepEqual(first.runs.get('e1'), {
        status: 'converged',
        policyVersion: 2,
        failed: 0,
        startedAt: 200,
      });

      addRun.run('r4', 'e2', 2, 400, 401, 402, 0, 'changed', 0);
      addRun.run('r5', 'e1', 1, 150, 151, 500, 0, 'failed', 1);
      nowMs = 9_999;
      assert.equal(reader.latest().runs.has('e2'), false, 'within maxAgeMs the last answer stands');
      nowMs = 10_000;
      const later = reader.latest().runs;
      assert.equal(later.get('e2')?.status, 'changed');
      assert.equal(later.get('e1')?.status, 'converged', 'a late run that started earlier does not win');
    } finally {
      store.close();
    }
  });

  it('catches up in bounded steps, envoy by envoy, then follows new rows, and says when it is complete', () => {
    const store = openStore({ file: join(dir, 'steps.db'), log: silentLogger, busyTimeoutMs: 1000 });
    try {
      const addEnvoy = store.db.prepare(
        'INSERT INTO envoys (id, hostname, public_key, enrolled_at) VALUES (?, ?, zeroblob(32), 1)',
      );
      const addRun = store.db.prepare(
        `INSERT INTO runs (id, envoy_id, policy_version, started_at, finished_at, received_at, status)
         VALUES (?, ?, ?, ?, 0, 0, 'converged')`,
      );
      for (let i = 1; i <= 25; i++) {
        const id = `e${String(i).padStart(2, '0')}`;
        addEnvoy.run(id, id);
        addRun.run(`r${i}`, id, 1, i);
      }
      let nowMs = 0;
      const reader = createLatestRunsReader(
        store.db,
        { maxAgeMs: 60_000, budgetMs: 0, chunkRows: 10 },
        () => nowMs,
      );
      const steps: [boolean, number][] = [];
      const call = (): void => {
        const latest = reader.latest();
        steps.push([latest.complete, latest.runs.size]);
      };
      for (let i = 0; i < 4; i++) call();
      assert.deepEqual(steps, [
        [false, 10],
        [false, 20],
        [false, 25],
        [true, 25],
      ]);
      for (let i = 1; i <= 12; i++) addRun.run(`n${i}`, 'e01', 2, 100 + i);
      nowMs = 60_000;
      call();
      call();
      assert.deepEqual(steps.slice(4), [
        [false, 25],
        [true, 25],
      ]);
      assert.equal(reader.latest().runs.get('e01')?.policyVersion, 2);
    } finally {
      store.close();
    }
  });
});
