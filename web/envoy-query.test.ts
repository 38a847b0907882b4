import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EnvoyEntry, FleetIndex } from '../server/fleet/index.ts';
import type { EnvoyListFilter } from '../server/fleet/index.ts';
import {
  decodeCursor,
  encodeCursor,
  envoyFilter,
  parseEnvoySearch,
  parseOrder,
  sortEnvoys,
} from './envoy-query.ts';

interface Spec {
  hostname: string;
  revoked: boolean;
  stale: boolean;
}

function entry(id: number, spec: Spec): EnvoyEntry {
  const e = new EnvoyEntry({
    id: `env-${String(id).padStart(4, '0')}`,
    hostname: spec.hostname,
    public_key: Buffer.alloc(32),
    cert_fingerprint: null,
    status: spec.revoked ? 'revoked' : 'active',
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
  e.stale = spec.stale;
  return e;
}

function fleetOf(specs: readonly Spec[]): FleetIndex {
  const fleet = new FleetIndex();
  specs.forEach((spec, i) => fleet.put(entry(i, spec)));
  return fleet;
}

const noTraits = { traitsByHash: () => undefined };

describe("FleetIndex.previousCursor with the search form's filters", () => {
  it('leads back through exactly the pages FleetIndex.list went forward through', () => {
    const spec = fc.record({
      hostname: fc.constantFrom('a', 'web-1', 'web-2', 'web-10', 'db-1', 'db-2', 'x.example'),
      revoked: fc.boolean(),
      stale: fc.boolean(),
    });
    const search = fc.record({
      q: fc.constantFrom(undefined, 'web', 'db-', '*-1', 'w*'),
      status: fc.constantFrom(undefined, 'active' as const, 'stale' as const, 'revoked' as const),
    });
    fc.assert(
      fc.property(
        fc.array(spec, { maxLength: 60 }),
        search,
        fc.integer({ min: 1, max: 7 }),
        (specs, s, limit) => {
          const fleet = fleetOf(specs);
          const filter: EnvoyListFilter = envoyFilter(s, noTraits);
          const cursors: (string | undefined)[] = [undefined];
          for (;;) {
            const page = fleet.list(filter, limit, cursors.at(-1));
            if (page.nextCursor === undefined) break;
            cursors.push(page.nextCursor);
          }
          for (let k = 1; k < cursors.length; k++) {
            assert.equal(fleet.previousCursor(filter, cursors[k] as string, limit), cursors[k - 1]);
          }
        },
      ),
    );
  });
});

describe('envoyFilter', () => {
  const fleet = fleetOf([
    { hostname: 'web-1', revoked: false, stale: false },
    { hostname: 'web-2', revoked: true, stale: false },
    { hostname: 'db-web', revoked: false, stale: true },
  ]);
  const names = (q: string | undefined, status?: 'active' | 'stale' | 'revoked') =>
    fleet.list(envoyFilter({ q, status }, noTraits), 100).items.map((e) => e.hostname);

  it('reads a plain search as a hostname prefix and one with * or ? as a glob, ignoring case', () => {
    assert.deepEqual(names('web'), ['web-1', 'web-2']);
    assert.deepEqual(names('*web'), ['db-web']);
    assert.deepEqual(names('WEB-?'), ['web-1', 'web-2']);
  });

  it('filters by status, stale being active but silent', () => {
    assert.deepEqual(names(undefined, 'revoked'), ['web-2']);
    assert.deepEqual(names(undefined, 'stale'), ['db-web']);
  });

  it('refuses a malformed trait filter', () => {
    assert.throws(() => envoyFilter({ trait: '=debian' }, noTraits), { code: 'fleet.trait_filter' });
  });
});

describe('cursors in URLs', () => {
  it('round-trip, and a forged cursor is refused with request.invalid', () => {
    assert.equal(decodeCursor(encodeCursor('web-1\u0000env-1')), 'web-1\u0000env-1');
    assert.equal(decodeCursor(''), undefined);
    assert.throws(() => decodeCursor('bm90LWEtY3Vyc29y'), { code: 'request.invalid' });
  });
});

describe('the page speaks the API query language', () => {
  const fleet = fleetOf([
    { hostname: 'db-1', revoked: false, stale: false },
    { hostname: 'db-2', revoked: false, stale: false },
    { hostname: 'web-1', revoked: false, stale: false },
  ]);
  const names = (raw: Parameters<typeof parseEnvoySearch>[0]) =>
    fleet.list(envoyFilter(parseEnvoySearch(raw), noTraits), 100).items.map((e) => e.hostname);

  it('takes ?hostname=db-* as the API does, and the search box beside it', () => {
    assert.deepEqual(names({ hostname: 'db-*' }), ['db-1', 'db-2']);
    assert.deepEqual(names({ hostname_prefix: 'web' }), ['web-1']);
    assert.deepEqual(names({ q: 'db-*', status: 'active' }), ['db-1', 'db-2']);
    assert.throws(() => names({ q: 'db-*', hostname: 'web-*' }), { code: 'request.invalid' });
  });
});

describe('sorting', () => {
  it('orders by the chosen key, ties by hostname, either way', () => {
    const fleet = fleetOf([
      { hostname: 'c', revoked: false, stale: false },
      { hostname: 'a', revoked: false, stale: false },
      { hostname: 'b', revoked: false, stale: false },
    ]);
    const all = fleet.list({}, 10).items;
    const [c, a] = [all.find((e) => e.hostname === 'c'), all.find((e) => e.hostname === 'a')];
    assert.ok(c && a);
    c.policyVersion = 3;
    a.policyVersion = 3;
    const byVersion = sortEnvoys(all, parseOrder('version', 'desc')).map((e) => e.hostname);
    assert.deepEqual(byVersion, ['a', 'c', 'b']);
    assert.deepEqual(
      sortEnvoys(all, parseOrder('hostname', 'desc')).map((e) => e.hostname),
      ['c', 'b', 'a'],
    );
    assert.throws(() => parseOrder('password', 'asc'), { code: 'request.invalid' });
    assert.throws(() => parseOrder('version', 'up'), { code: 'request.invalid' });
  });
});
