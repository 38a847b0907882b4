import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from './canonical-json.ts';

describe('canonicalJson', () => {
  it('sorts keys at every depth and has no whitespace', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x y' } }),
      '{"a":{"c":"x y","d":[3,{"y":null,"z":true}]},"b":1}',
    );
    assert.equal(canonicalJson({ é: 1, Z: 2, a: 3, '10': 4, '9': 5 }), '{"10":4,"9":5,"Z":2,"a":3,"é":1}');
    assert.equal(canonicalJson(-0), '0');
    assert.equal(canonicalJson(Object.assign(Object.create(null) as object, { k: 'v' })), '{"k":"v"}');
  });

  it('gives the same text for the same data whatever the key order, and round-trips', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        assert.equal(canonicalJson(JSON.parse(text)), text);
        assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
        const reversed = JSON.parse(JSON.stringify(value), (_key, v: unknown) =>
          v !== null && typeof v === 'object' && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v).reverse())
            : v,
        ) as unknown;
        assert.equal(canonicalJson(reversed), text);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses values JSON would drop or rewrite, naming where they are', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const sparse: unknown[] = [1];
    sparse[2] = 3;
    const cases: [unknown, RegExp][] = [
      [{ a: undefined }, /\$\.a is undefined/],
      [{ a: [1, () => 1] }, /\$\.a\[1\] is a function/],
      [{ n: Number.NaN }, /\$\.n is NaN/],
      [{ n: Infinity }, /\$\.n is Infinity/],
      [{ big: 10n }, /\$\.big is a bigint/],
      [{ 'odd key': new Date(0) }, /\$\["odd key"\] is a Date/],
      [{ m: new Map() }, /\$\.m is a Map/],
      [{ s: Symbol('x') }, /\$\.s is a symbol/],
      [{ [Symbol('k')]: 1 }, /symbol keys/],
      [cyclic, /\$\.self refers back/],
      [sparse, /\$\[1\] is a hole/],
    ];
    for (const [value, message] of cases) assert.throws(() => canonicalJson(value), message);
  });

  it('accepts the same object twice when it is shared, not cyclic', () => {
    const shared = { x: 1 };
    assert.equal(canonicalJson({ a: shared, b: shared }), '{"a":{"x":1},"b":{"x":1}}');
  });
});
