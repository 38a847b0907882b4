import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HostMatcher, compileGlob } from './host-matcher.ts';

function bruteForce(entries: string[][], host: string): number | undefined {
  const h = host.toLowerCase().replace(/\.$/, '');
  for (let i = 0; i < entries.length; i++) {
    for (const p of entries[i]!) {
      const re = compileGlob(p.toLowerCase());
      if (typeof re !== 'string' && re.test(h)) return i;
    }
  }
  return undefined;
}

describe('compileGlob', () => {
  it('treats * as any run including dots, ? as one char, [..] as a set', () => {
    const re = compileGlob('web-*.example.com') as RegExp;
    assert.ok(re.test('web-1.eu.example.com'));
    assert.ok(!re.test('db-1.example.com'));
    assert.ok((compileGlob('db?.x') as RegExp).test('db1.x'));
    assert.ok(!(compileGlob('db?.x') as RegExp).test('db12.x'));
    assert.ok((compileGlob('n[0-3].x') as RegExp).test('n2.x'));
    assert.ok(!(compileGlob('n[!0-3].x') as RegExp).test('n2.x'));
  });

  it('escapes regex metacharacters and rejects an unclosed set', () => {
    assert.ok(!(compileGlob('a+b.c') as RegExp).test('aab.c'));
    assert.equal(typeof compileGlob('web[1'), 'string');
  });
});

describe('HostMatcher', () => {
  it('returns the first matching entry, not the most specific one', () => {
    const m = new HostMatcher([['*.example.com'], ['web1.example.com'], ['*']]);
    assert.equal(m.match('web1.example.com'), 0);
    assert.equal(m.match('other.org'), 2);
  });

  it('prefers an earlier glob over a later literal and vice versa', () => {
    const m = new HostMatcher([['db-*'], ['db-1'], ['web-1'], ['web-*']]);
    assert.equal(m.match('db-1'), 0);
    assert.equal(m.match('web-1'), 2);
    assert.equal(m.match('WEB-1.'), 2);
    assert.equal(m.match('mail'), undefined);
  });

  it('agrees with trying every pattern in order', () => {
    const label = fc.constantFrom('web', 'db', 'w', 'eu', 'example', 'com', '1', '01', 'a');
    const host = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
    const piece = fc.constantFrom('web', 'db', '*', '?', '.', 'example', 'com', '1', '[0-1]', 'eu', '-');
    const pattern = fc.array(piece, { minLength: 1, maxLength: 5 }).map((p) => p.join(''));
    fc.assert(
      fc.property(
        fc.array(fc.array(pattern, { minLength: 1, maxLength: 3 }), { maxLength: 12 }),
        fc.array(host, { maxLength: 10 }),
        (entries, hosts) => {
          const m = new HostMatcher(entries);
          for (const h of hosts)
            assert.equal(m.match(h), bruteForce(entries, h), `${h} vs ${JSON.stringify(entries)}`);
        },
      ),
      { numRuns: 400 },
    );
  });
});
