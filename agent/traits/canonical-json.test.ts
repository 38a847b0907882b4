import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson as serverCanonicalJson } from '../../server/policy/canonical.ts';
import { canonicalJson, hashableTraits, traitsHash, traitsPayload } from './canonical-json.ts';
import { fixtureEnv, testdataDir } from './testing.ts';
import { createTraitCollector } from './trait-source.ts';
import type { Traits } from './types.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('canonicalJson (agent copy)', () => {
  it('encodes the fixture hosts byte for byte like the server', async () => {
    for (const distro of ['debian', 'ubuntu', 'rocky', 'alpine']) {
      const { traits } = await createTraitCollector({ env: fixtureEnv(join(testdataDir, distro)) }).collect();
      assert.equal(canonicalJson(traits), serverCanonicalJson(traits), distro);
    }
  });

  it('agrees with the server on awkward values', () => {
    const samples: unknown[] = [
      { b: 1, a: { d: [1, 'x', null], c: true }, u: undefined },
      { 'a"b': 'line\n\u2028', é: 'ü', '\ud800': 'lone surrogate', Z: 1, a: 2, _: 3, '10': 4, '9': 5 },
      [undefined, () => 1, Symbol('s'), 1e21, -0, 5e-324, 0.1 + 0.2],
      // eslint-disable-next-line no-sparse-arrays
      [1, , 3],
      { nested: [{ z: [] }, {}, [[]]], date: new Date(0) },
      'just text',
      null,
    ];
    for (const value of samples) assert.equal(canonicalJson(value), serverCanonicalJson(value));
  });

  it('agrees with the server on arbitrary JSON (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => canonicalJson(value) === serverCanonicalJson(value)),
      { numRuns: 500 },
    );
  });

  it('refuses non-finite numbers like the server', () => {
    assert.throws(() => canonicalJson({ x: Number.POSITIVE_INFINITY }), TypeError);
  });
});

describe('traits hash', () => {
  const traits: Traits = {
    os: { family: 'debian' },
    memory: { total_mb: 4096, free_mb: 100, available_mb: 200 },
    swap: { total_mb: 0, free_mb: 0 },
    mounts: [{ mountpoint: '/', size_mb: 1000, used_mb: 10 }],
    uptime_seconds: 5,
    load: { '1m': 1, '5m': 1, '15m': 1 },
    host_self: { fs_root_pct: 1 },
  };

  it('hashableTraits drops exactly the volatile values', () => {
    assert.deepEqual(hashableTraits(traits), {
      os: { family: 'debian' },
      memory: { total_mb: 4096 },
      swap: { total_mb: 0 },
      mounts: [{ mountpoint: '/', size_mb: 1000 }],
    });
    assert.equal((traits.memory as Traits).free_mb, 100, 'the input is not changed');
    assert.deepEqual(hashableTraits({ memory: 'odd', mounts: 'odd' }), { memory: 'odd', mounts: 'odd' });
  });

  it('the hash does not move with volatile values but does with stable ones', () => {
    const later = { ...traits, uptime_seconds: 6, memory: { total_mb: 4096, free_mb: 1, available_mb: 2 } };
    assert.equal(traitsHash(hashableTraits(later)), traitsHash(hashableTraits(traits)));
    const bigger = { ...traits, memory: { total_mb: 8192, free_mb: 100, available_mb: 200 } };
    assert.notEqual(traitsHash(hashableTraits(bigger)), traitsHash(hashableTraits(traits)));
    assert.equal(traitsHash({ b: 1, a: 2 }), sha256('{"a":2,"b":1}'));
  });

  it('traitsPayload: json is the canonical hashable traits and hash its SHA-256, as the server checks', () => {
    const payload = traitsPayload(traits);
    assert.equal(payload.json, serverCanonicalJson(hashableTraits(traits)));
    assert.equal(payload.hash, sha256(payload.json));
    assert.deepEqual(payload.omitted, []);
  });

  it('traitsPayload drops the largest traits until the JSON fits, and says which', () => {
    const installed = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`pkg-${i}`, '1.0-1']));
    const big = { ...traits, packages: { manager: 'dpkg', count: 200, installed } };
    const payload = traitsPayload(big, 1000);
    assert.deepEqual(payload.omitted, ['packages']);
    const sent = JSON.parse(payload.json) as Traits;
    assert.equal(sent.packages, undefined);
    assert.deepEqual(sent.traits_omitted, ['packages']);
    assert.deepEqual(sent.os, { family: 'debian' });
    assert.ok(Buffer.byteLength(payload.json) <= 1000);
    assert.equal(payload.hash, sha256(payload.json));
  });
});
