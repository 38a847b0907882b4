import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { storeWithEnvoy } from '../checkin/test-fixtures.ts';
import { silentLogger } from '../core/index.ts';
import { FleetIndex } from './fleet-index.ts';
import { createFleetFlusher } from './flusher.ts';

const fixture = storeWithEnvoy();
after(() => fixture.cleanup());

function snapshot(index: FleetIndex): unknown[] {
  return [...index.values()].map((e) => ({
    id: e.id,
    hostname: e.hostname,
    lastSeenAtMs: e.lastSeenAtMs,
    lastTsMs: e.lastTsMs,
    policyVersion: e.policyVersion,
    stateFingerprint: e.stateFingerprint,
    traitsHash: e.traitsHash,
    intervalMs: e.intervalMs,
    agentVersion: e.agentVersion,
    certFingerprint: e.certFingerprint,
  }));
}

describe('fleet flusher', () => {
  it('persists changed entries so the index rebuilt from SQLite equals the one before', () => {
    let now = 1_000_000;
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
    const traits = JSON.stringify({ os: { family: 'debian' } });
    index.addTraits('f'.repeat(64), traits);
    Object.assign(entry, {
      lastSeenAtMs: now,
      lastTsMs: now - 5,
      policyVersion: 7,
      stateFingerprint: 'e'.repeat(64),
      traitsHash: 'f'.repeat(64),
      intervalMs: 60_000,
      agentVersion: '0.1.0',
    });
    index.markDirty(entry);
    flusher.flush();
    assert.equal(index.pendingCount(), 0);
    const reloaded = FleetIndex.load(fixture.store.db);
    assert.deepEqual(snapshot(reloaded), snapshot(index));
    assert.ok(reloaded.hasTraits('f'.repeat(64)), 'trait documents are stored and known after restart');

    now += 2.5 * 60_000 + 1;
    const transitions = flusher.sweepStale();
    assert.deepEqual(
      transitions.map((t) => [t.entry.id, t.stale]),
      [[fixture.envoyId, true]],
    );
    assert.equal(flusher.sweepStale().length, 0, 'a transition is reported once');
    entry.lastSeenAtMs = now;
    assert.deepEqual(
      flusher.sweepStale().map((t) => t.stale),
      [false],
    );
  });
});
