import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildBundleDocument } from './bundle.ts';
import { LazySnapshot, encodeSnapshot } from './snapshot-encoded.ts';
import { deserializeSnapshot, serializeSnapshot } from './snapshot.ts';
import { errorsOf, validateFiles } from './testing.ts';
import type { BundleOptions } from './types.ts';

const crate = (name: string, text: string): string =>
  `name: ${name}\nresources:\n  - name: motd\n    type: file\n    target_path: /etc/${name}\n    content: "${text} {{ .Traits.os.distro }} ünïcødé"\n`;

const files = {
  'configcrates/a.vgo': crate('a', 'alpha'),
  'configcrates/b.vgo': crate('b', 'beta'),
  'roles.vgo': 'roles:\n  ra:\n    configcrates: [a]\n  rb:\n    configcrates: [a, b]\n',
  'envoys.vgo':
    'envoys:\n  - match: "db-1"\n    roles: [rb]\n  - match: "web-*"\n    roles: [ra]\n  - match: "*"\n    roles: [rb]\n',
  'compliance.vgo': 'waivers: []\n',
};
const options: BundleOptions = {
  policyVersion: 2,
  secretsEpoch: 0,
  issuedAtMs: 1,
  expiresAtMs: 2,
  traits: { os: { distro: 'debian' } },
};

describe('encoded snapshots', () => {
  it('encode to exactly the stored body, and index every entry and instance inside it', async () => {
    const result = await validateFiles(files);
    assert.deepEqual(errorsOf(result), []);
    const snap = result.snapshot!;
    const { body, index } = encodeSnapshot(snap);
    assert.equal(body.toString('utf8'), serializeSnapshot(snap));
    assert.equal(body.byteOffset, 0);
    assert.equal(body.buffer.byteLength >= body.length, true);
    assert.deepEqual(
      JSON.parse(index.entries),
      snap.entries.map((e) => [e.id, e.patterns]),
    );
    const hashes = [...snap.instances.keys()].sort();
    assert.equal(index.instanceHashes, hashes.join(''));
    hashes.forEach((hash, i) => {
      const [start, end] = index.instanceSpans.subarray(i * 2, i * 2 + 2);
      assert.deepEqual(
        JSON.parse(body.toString('utf8', start, end)),
        JSON.parse(JSON.stringify(snap.instances.get(hash))),
      );
    });
    snap.entries.forEach((e, i) => {
      const [start, end] = index.entrySpans.subarray(i * 2, i * 2 + 2);
      assert.deepEqual(JSON.parse(body.toString('utf8', start, end)), JSON.parse(JSON.stringify(e)));
    });
    assert.equal(deserializeSnapshot(body.toString('utf8')).hash, snap.hash);
    // A stored snapshot, parsed back, encodes to the same bytes as the one just compiled.
    const stored = deserializeSnapshot(body.toString('utf8'));
    assert.equal(encodeSnapshot(stored).body.toString('utf8'), body.toString('utf8'));
  });

  it('serve lazily what the full snapshot serves, parsing an entry only when it is first needed', async () => {
    const snap = (await validateFiles(files)).snapshot!;
    const { body, index } = encodeSnapshot(snap);
    const lazy = new LazySnapshot(body, index);
    assert.equal(lazy.hash, snap.hash);
    assert.equal(lazy.entryCount, snap.entryCount);
    assert.equal(lazy.instances.size, snap.instances.size);
    // Instances are found by binary search over the sorted hashes.
    const hashes = [...snap.instances.keys()].sort();
    assert.deepEqual([...lazy.instances.keys()], hashes);
    for (const hash of hashes) {
      assert.equal(lazy.instances.has(hash), true);
      assert.deepEqual(lazy.instances.get(hash), JSON.parse(JSON.stringify(snap.instances.get(hash))));
      assert.equal(lazy.instances.get(hash), lazy.instances.get(hash), 'parsed once');
    }
    for (const missing of ['0'.repeat(64), 'f'.repeat(64), hashes[0]!.slice(1), ''])
      assert.equal(lazy.instances.get(missing), undefined);
    for (const host of ['db-1', 'web-7', 'other', 'DB-1']) {
      const a = snap.matchEntry(host);
      const b = lazy.matchEntry(host);
      assert.equal(b?.id, a?.id);
      assert.deepEqual(buildBundleDocument(b!, options), buildBundleDocument(a!, options));
    }
    assert.equal(lazy.entryById(snap.entries[1]!.id)?.merkleRoot, snap.entries[1]!.merkleRoot);
    assert.deepEqual(lazy.compliance, snap.compliance);
    assert.deepEqual(lazy.toJSON(), JSON.parse(serializeSnapshot(snap)));
    assert.ok(Object.isFrozen(lazy.matchEntry('db-1')!.configcrates), 'served entries are frozen');
  });
});
