import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { initialConvergence } from '../convergence/index.ts';
import { EnvoyEntry, FleetIndex } from '../fleet/index.ts';
import type { EnvoyRow } from '../fleet/index.ts';
import { censusSliceEnvoys, createFleetCensus } from './fleet-census.ts';

const nowMs = 1_800_000_000_000;

function envoy(id: string, row: Partial<EnvoyRow> = {}, stale = false): EnvoyEntry {
  const entry = new EnvoyEntry({
    id,
    hostname: `${id}.example.com`,
    public_key: Buffer.alloc(32, 7),
    cert_fingerprint: null,
    status: 'active',
    enrolled_at: nowMs - 86_400_000,
    last_seen_at: null,
    last_ts_ms: 0,
    policy_version: 0,
    state_fingerprint: null,
    traits_hash: null,
    interval_ms: null,
    force_push: 0,
    agent_version: null,
    ...row,
  });
  entry.stale = stale;
  return entry;
}

function fleet(): FleetIndex {
  const index = new FleetIndex();
  index.put(envoy('fresh', { last_seen_at: nowMs - 3_000 }));
  index.put(envoy('recent', { last_seen_at: nowMs - 100_000 }));
  index.put(envoy('stale', { last_seen_at: nowMs - 2 * 3_600_000 }, true));
  index.put(envoy('new'));
  index.put(envoy('gone', { status: 'revoked', last_seen_at: nowMs - 1_000 }));
  return index;
}

function sample(text: string, line: string): number {
  const escaped = line.replace(/[{}"+.]/g, '\\$&');
  const found = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  assert.ok(found, `${line} is exported`);
  return Number(found[1]);
}

describe('fleet census', () => {
  it('counts envoys by state, the last hour, convergence and check-in ages from one walk', async () => {
    const registry = new Registry();
    const index = fleet();
    const census = createFleetCensus({
      registry,
      envoys: () => index.values(),
      convergence: () => (entry) => entry.id === 'fresh',
      intervalMs: 60_000,
      now: () => nowMs,
    });
    const result = census.take();
    assert.deepEqual(result.byState, { active: 2, stale: 1, never_seen: 1, revoked: 1 });
    assert.equal(result.enrolled, 4, 'revoked envoys are not enrolled');
    assert.equal(result.checkedInLastHour, 2);
    assert.equal(result.converged, 1);
    assert.equal(result.convergence, 0.5);

    const text = await registry.metrics();
    assert.equal(sample(text, 'vigo_nodes_total'), 4);
    assert.equal(sample(text, 'vigo_nodes_active_total'), 2);
    assert.equal(sample(text, 'vigo_envoys{state="never_seen"}'), 1);
    assert.equal(sample(text, 'vigo_convergence_pct'), 0.5);
    assert.equal(sample(text, 'vigo_fleet_census_timestamp_seconds'), nowMs / 1000);
    // Ages of the three envoys that checked in and are not revoked: 3 s, 100 s, 7200 s.
    assert.equal(sample(text, 'vigo_checkin_age_seconds_bucket{le="5"}'), 1);
    assert.equal(sample(text, 'vigo_checkin_age_seconds_bucket{le="60"}'), 1);
    assert.equal(sample(text, 'vigo_checkin_age_seconds_bucket{le="120"}'), 2);
    assert.equal(sample(text, 'vigo_checkin_age_seconds_bucket{le="3600"}'), 2);
    assert.equal(sample(text, 'vigo_checkin_age_seconds_bucket{le="7200"}'), 3);
    assert.equal(sample(text, 'vigo_checkin_age_seconds_count'), 3);
    assert.equal(sample(text, 'vigo_checkin_age_seconds_sum'), 7303);
  });

  it('counts enrolled envoys by convergence status, drift and reachability, every label from zero', async () => {
    const registry = new Registry();
    const index = fleet();
    index.get('fresh')!.convergence = { ...initialConvergence, status: 'converged', drift: 'changed' };
    index.get('recent')!.convergence = { ...initialConvergence, status: 'failed', drift: 'diverged' };
    index.get('gone')!.convergence = { ...initialConvergence, status: 'failed' };
    const census = createFleetCensus({
      registry,
      envoys: () => index.values(),
      intervalMs: 60_000,
      now: () => nowMs,
    });
    const result = census.take();
    assert.deepEqual(result.byConvergence, { converged: 1, degraded: 0, failed: 1, no_data: 2 });
    assert.deepEqual(result.byDrift, { none: 2, changed: 1, diverged: 1 });
    assert.deepEqual(result.byReachability, { online: 2, stale: 1, offline: 1 });
    const text = await registry.metrics();
    assert.equal(sample(text, 'vigo_envoys_convergence{status="failed"}'), 1);
    assert.equal(sample(text, 'vigo_envoys_convergence{status="degraded"}'), 0);
    assert.equal(sample(text, 'vigo_envoys_drift{drift="diverged"}'), 1);
    assert.equal(sample(text, 'vigo_envoys_reachability{reachability="offline"}'), 1);
  });

  it('serves the last census to a scrape without walking the fleet again', async () => {
    const registry = new Registry();
    const index = fleet();
    let walks = 0;
    const census = createFleetCensus({
      registry,
      envoys: () => {
        walks += 1;
        return index.values();
      },
      intervalMs: 60_000,
      now: () => nowMs,
    });
    census.take();
    index.put(envoy('later', { last_seen_at: nowMs }));
    const text = await registry.metrics();
    assert.equal(walks, 1, 'the scrape did not walk the fleet');
    assert.equal(sample(text, 'vigo_nodes_total'), 4, 'the scrape shows the census, not the index now');
    census.take();
    assert.equal(sample(await registry.metrics(), 'vigo_nodes_total'), 5);
  });

  it('reports convergence 0 when no envoy is active, and starts every state at zero', async () => {
    const registry = new Registry();
    const census = createFleetCensus({
      registry,
      envoys: () => [],
      intervalMs: 60_000,
      now: () => nowMs,
    });
    const before = await registry.metrics();
    for (const state of ['active', 'stale', 'never_seen', 'revoked'])
      assert.equal(sample(before, `vigo_envoys{state="${state}"}`), 0);
    assert.equal(census.take().convergence, 0);
  });
});

describe('fleet census on its timer', () => {
  it('walks a large fleet in slices, giving the event loop back between them, and publishes once done', async () => {
    const index = new FleetIndex();
    const count = censusSliceEnvoys * 2 + 10;
    for (let i = 0; i < count; i++) index.put(envoy(`e${i}`, { last_seen_at: nowMs - 1_000 }));
    const census = createFleetCensus({
      registry: new Registry(),
      envoys: () => index.values(),
      intervalMs: 60_000,
      now: () => nowMs,
    });
    const last = () => census.last;
    census.start();
    try {
      assert.equal(last(), undefined, 'the first slice did not count the whole fleet');
      const deadline = Date.now() + 10_000;
      while (last() === undefined && Date.now() < deadline)
        await new Promise((resolve) => setImmediate(resolve));
      const done = last();
      assert.ok(done, 'the census finished');
      assert.equal(done.enrolled, count);
      assert.equal(done.byState.active, count);
    } finally {
      census.stop();
    }
  });
});
