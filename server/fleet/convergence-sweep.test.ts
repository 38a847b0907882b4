/**
 * The fleet sweep judges reachability against each envoy's observed cadence and publishes fleet convergence
 * aggregates; list filters read the same per-envoy states.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { storeWithEnvoy } from '../checkin/test-fixtures.ts';
import { createConvergenceHistoryReader } from '../convergence/index.ts';
import { silentLogger } from '../core/index.ts';
import { FleetIndex } from './fleet-index.ts';
import { createFleetFlusher } from './flusher.ts';
import { envoyReachability } from './reachability.ts';

const fixture = storeWithEnvoy();
after(() => fixture.cleanup());

describe('convergence in the fleet sweep', () => {
  it('moves an envoy online → stale → offline by its observed cadence, and counts the fleet', () => {
    let now = 10_000_000;
    const index = FleetIndex.load(fixture.store.db);
    const flusher = createFleetFlusher({
      store: fixture.store,
      index,
      log: silentLogger,
      flushIntervalMs: () => 1000,
      defaultIntervalMs: () => 60_000,
      staleFactor: () => 2.5,
      now: () => now,
    });
    const entry = index.get(fixture.envoyId)!;
    assert.equal(envoyReachability(entry), 'offline', 'never checked in');
    assert.equal(index.convergenceTotals(now).reachability.offline, 1, 'counted before the first sweep');

    Object.assign(entry, { lastSeenAtMs: now, intervalMs: 60_000, observedCadenceMs: 100_000 });
    flusher.sweepStale();
    assert.equal(envoyReachability(entry), 'online');
    assert.deepEqual(index.convergenceTotals(now).reachability, { online: 1, stale: 0, offline: 0 });

    now += 2.5 * 60_000 + 1; // stale by the configured interval, but not by the observed cadence
    flusher.sweepStale();
    assert.equal(envoyReachability(entry), 'online');
    now = entry.lastSeenAtMs + 2.5 * 100_000 + 1;
    assert.equal(flusher.sweepStale().length, 1, 'envoy.stale is reported as before');
    assert.equal(envoyReachability(entry), 'stale');
    now = entry.lastSeenAtMs + 10 * 100_000 + 1;
    assert.equal(flusher.sweepStale().length, 0, 'stale to offline is no new stale transition');
    assert.equal(envoyReachability(entry), 'offline');
    assert.equal(index.list({ reachability: 'offline' }, 10).total, 1);
    assert.equal(index.list({ reachability: 'online' }, 10).total, 0);

    entry.convergence = { ...entry.convergence, status: 'failed', drift: 'diverged' };
    flusher.sweepStale();
    const totals = index.convergenceTotals(now);
    assert.equal(totals.total, 1);
    assert.deepEqual(totals.status, { converged: 0, degraded: 0, failed: 1, no_data: 0 });
    assert.deepEqual(totals.drift, { none: 0, changed: 0, diverged: 1 });
    assert.equal(totals.convergedFraction, 0);
    assert.equal(index.list({ convergence: 'failed', drift: 'diverged' }, 10).total, 1);
    assert.equal(index.list({ convergence: 'converged' }, 10).total, 0);

    entry.lastSeenAtMs = now;
    flusher.sweepStale();
    assert.equal(envoyReachability(entry), 'online', 'seen again');

    // The first sweep re-derived reachability (no rows); every later change is queued and flushed.
    assert.equal(index.pendingCount(), 3);
    flusher.flush();
    assert.equal(index.pendingCount(), 0);
    const history = createConvergenceHistoryReader(fixture.store.db).page(fixture.envoyId, 10).items;
    assert.deepEqual(
      history.map((h) => [h.cause, h.runId, h.fromReachability, h.reachability, h.status, h.drift]),
      [
        ['reachability', null, 'offline', 'online', 'failed', 'diverged'],
        ['reachability', null, 'stale', 'offline', 'no_data', 'none'],
        ['reachability', null, 'online', 'stale', 'no_data', 'none'],
      ],
    );
    entry.status = 'revoked';
    flusher.sweepStale();
    assert.equal(index.convergenceTotals(now).total, 0, 'revoked envoys are not counted');
    assert.equal(envoyReachability(entry), 'offline');
  });

  it('keeps reachability transitions, in order, for the next flush when a flush fails', () => {
    const index = FleetIndex.load(fixture.store.db);
    const errors: unknown[] = [];
    const flusher = createFleetFlusher({
      store: fixture.store,
      index,
      log: {
        ...silentLogger,
        error: (_msg: string, fields?: Record<string, unknown>) => errors.push(fields),
      },
      flushIntervalMs: () => 1000,
      defaultIntervalMs: () => 60_000,
      staleFactor: () => 2.5,
    });
    const change = (atMs: number, to: 'stale' | 'online') => ({
      envoyId: fixture.envoyId,
      atMs,
      from: to === 'stale' ? ('online' as const) : ('stale' as const),
      to,
      status: 'converged' as const,
      drift: 'none' as const,
      changedStreak: 0,
    });
    index.queueReachabilityChange(change(1, 'stale'));
    const db = fixture.store.db;
    db.exec(
      `CREATE TEMP TRIGGER refuse BEFORE INSERT ON convergence_history BEGIN SELECT RAISE(ABORT, 'refused'); END`,
    );
    flusher.flush();
    assert.equal(errors.length, 1);
    assert.equal(index.pendingCount(), 1, 'kept for the next flush');
    db.exec('DROP TRIGGER refuse');
    index.queueReachabilityChange(change(2, 'online'));
    flusher.flush();
    const rows = db
      .prepare('SELECT at, to_reachability FROM convergence_history WHERE at < 3 ORDER BY seq')
      .all();
    assert.deepEqual(rows, [
      { at: 1, to_reachability: 'stale' },
      { at: 2, to_reachability: 'online' },
    ]);
  });
});
