import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvoyEntry } from './envoy-entry.ts';
import { envoyListFilter, parseEnvoyQuery } from './envoy-query.ts';
import { FleetIndex } from './fleet-index.ts';

function entry(
  id: string,
  hostname: string,
  fields: { revoked?: boolean; lastSeenAtMs?: number; convergence?: 'failed' | 'degraded' | 'converged' },
): EnvoyEntry {
  const e = new EnvoyEntry({
    id,
    hostname,
    public_key: Buffer.alloc(32),
    cert_fingerprint: null,
    status: fields.revoked === true ? 'revoked' : 'active',
    enrolled_at: 1,
    last_seen_at: fields.lastSeenAtMs ?? null,
    last_ts_ms: 0,
    policy_version: 1,
    state_fingerprint: null,
    traits_hash: null,
    interval_ms: null,
    force_push: 0,
    agent_version: null,
  });
  if (fields.convergence !== undefined) e.convergence = { ...e.convergence, status: fields.convergence };
  return e;
}

const fleet = new FleetIndex();
fleet.put(entry('1', 'db-1', { lastSeenAtMs: 5, convergence: 'failed' }));
fleet.put(entry('2', 'db-2', { lastSeenAtMs: 5, convergence: 'degraded' }));
fleet.put(entry('3', 'web-1', { lastSeenAtMs: 5, convergence: 'converged' }));
fleet.put(entry('4', 'web-2', {}));
fleet.put(entry('5', 'web-3', { revoked: true, convergence: 'failed' }));

const names = (raw: Parameters<typeof parseEnvoyQuery>[0]): string[] =>
  fleet
    .list(
      envoyListFilter(parseEnvoyQuery(raw), () => undefined),
      100,
    )
    .items.map((e) => e.hostname);

describe('the envoy query language', () => {
  it('takes a hostname glob, an exact hostname and a prefix', () => {
    assert.deepEqual(names({ hostname: 'db-*' }), ['db-1', 'db-2']);
    assert.deepEqual(names({ hostname: 'web-1' }), ['web-1']);
    assert.deepEqual(names({ hostname_prefix: 'WEB-' }), ['web-1', 'web-2', 'web-3']);
  });

  it('lists failing (active, failed resources in the last run) and never seen envoys', () => {
    assert.deepEqual(names({ status: 'failing' }), ['db-1', 'db-2']);
    assert.deepEqual(names({ status: 'never_seen' }), ['web-2']);
    assert.deepEqual(names({ status: 'failing', hostname: '*-2' }), ['db-2']);
  });

  it('reads blank values as no filter, as an HTML form sends them', () => {
    assert.equal(names({ status: '', convergence: '', hostname: ' ', trait: '' }).length, 5);
  });

  it('refuses unknown words and bad trait filters, naming the field', () => {
    assert.throws(() => parseEnvoyQuery({ status: 'broken' }), {
      code: 'request.invalid',
      message: /status: must be one of active, revoked, stale, never_seen, failing/,
    });
    assert.throws(() => parseEnvoyQuery({ drift: 'sideways' }), { code: 'request.invalid' });
    assert.throws(() => parseEnvoyQuery({ hostname: 'x'.repeat(254) }), { code: 'request.invalid' });
    assert.throws(() => envoyListFilter(parseEnvoyQuery({ trait: '=debian' }), () => undefined), {
      code: 'fleet.trait_filter',
    });
    const many = Array.from({ length: 17 }, (_, i) => `a${i}=1`).join(',');
    assert.throws(() => envoyListFilter(parseEnvoyQuery({ trait: many }), () => undefined), {
      code: 'fleet.trait_filter',
      message: /at most 16/,
    });
  });
});
