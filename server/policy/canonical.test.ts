import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalJson, leafHash, merkleRoot } from './canonical.ts';

function sha(...parts: Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

describe('canonicalJson', () => {
  it('sorts keys at every level, drops undefined members and adds no whitespace', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, 'x', null], c: true }, u: undefined }),
      '{"a":{"c":true,"d":[1,"x",null]},"b":1}',
    );
  });

  it('escapes keys and strings like JSON', () => {
    assert.equal(canonicalJson({ 'a"b': 'line\n' }), '{"a\\"b":"line\\n"}');
  });

  it('refuses numbers JSON cannot represent', () => {
    assert.throws(() => canonicalJson({ x: Number.NaN }), TypeError);
  });
});

describe('merkleRoot', () => {
  it('hashes leaves as documented: 0x00 || label || 0x00 || canonical JSON', () => {
    const expected = sha(Buffer.from([0]), Buffer.from('vars\0{"a":1}'));
    assert.deepEqual(leafHash('vars', { a: 1 }), expected);
  });

  it('hashes up to 16 children into one inner node: SHA-256(0x01 || children)', () => {
    const leaves = [leafHash('a', 1), leafHash('b', 2), leafHash('c', 3)];
    assert.equal(merkleRoot(leaves), sha(Buffer.from([1]), ...leaves).toString('hex'));
  });

  it('builds a second level above 16 leaves and changes when any leaf changes', () => {
    const leaves = Array.from({ length: 17 }, (_, i) => leafHash('n', i));
    const first = sha(Buffer.from([1]), ...leaves.slice(0, 16));
    const root = sha(Buffer.from([1]), first, sha(Buffer.from([1]), leaves[16]!));
    assert.equal(merkleRoot(leaves), root.toString('hex'));
    const changed = [...leaves];
    changed[16] = leafHash('n', 99);
    assert.notEqual(merkleRoot(changed), merkleRoot(leaves));
  });
});
