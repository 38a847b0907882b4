import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGlobs, normalizeGlob } from './glob.ts';

function matches(globs: string[], hostname: string): boolean {
  return compileGlobs(globs)(hostname);
}

describe('hostname globs', () => {
  it('match the whole name: * any run (dots included), ? exactly one character', () => {
    assert.equal(matches(['web-*'], 'web-01'), true);
    assert.equal(matches(['web-*'], 'web-01.example.com'), true);
    assert.equal(matches(['web-*'], 'db-web-01'), false, 'no match inside the name');
    assert.equal(matches(['*.dc1.*'], 'web3.dc1.example.com'), true);
    assert.equal(matches(['*.dc1.*'], 'web3.dc2.example.com'), false);
    assert.equal(matches(['web-??'], 'web-01'), true);
    assert.equal(matches(['web-??'], 'web-1'), false);
    assert.equal(matches(['web-??'], 'web-001'), false);
    assert.equal(matches(['web'], 'web.example.com'), false, 'a literal is not a prefix match');
    assert.equal(matches(['web.example.com'], 'webxexample.com'), false, 'a dot is literal');
    assert.equal(matches(['*'], 'anything.at.all'), true);
    assert.equal(matches(['a**b'], 'ab'), true);
  });

  it('are case-insensitive on both sides', () => {
    assert.equal(matches(['WEB-*'], 'web-01'), true);
    assert.equal(matches(['web-*'], 'WEB-01'), true);
    assert.equal(normalizeGlob('Web-[A-C]*'), 'web-[a-c]*');
  });

  it('support character classes, ranges and negation', () => {
    assert.equal(matches(['web-[abc]1'], 'web-b1'), true);
    assert.equal(matches(['web-[abc]1'], 'web-d1'), false);
    assert.equal(matches(['node[0-9][0-9]'], 'node42'), true);
    assert.equal(matches(['node[0-9][0-9]'], 'node4x'), false);
    assert.equal(matches(['node[!0-9]'], 'nodex'), true);
    assert.equal(matches(['node[!0-9]'], 'node7'), false);
    assert.equal(matches(['node[^a-z]'], 'node7'), true);
    assert.equal(matches(['x[-a]'], 'x-'), true, 'a leading hyphen is literal');
    assert.equal(matches(['x[a-]'], 'x-'), true, 'a trailing hyphen is literal');
  });

  it('match when any one of several globs matches', () => {
    const globs = ['web-*', 'db-[0-9]', 'cache?.example.com'];
    assert.equal(matches(globs, 'db-3'), true);
    assert.equal(matches(globs, 'cache1.example.com'), true);
    assert.equal(matches(globs, 'web-x'), true);
    assert.equal(matches(globs, 'mail-1'), false);
  });

  it('refuse malformed globs with enroll.glob_invalid', () => {
    for (const bad of [
      '',
      'web-[abc',
      'web-]',
      '[]',
      '[!]',
      'web_*',
      'web *',
      'a!b',
      '[z-a]',
      'x'.repeat(254),
    ]) {
      assert.throws(() => normalizeGlob(bad), { code: 'enroll.glob_invalid' }, JSON.stringify(bad));
    }
  });

  it('stay fast on globs that make backtracking matchers explode', () => {
    const glob = `${'*a'.repeat(60)}*b`;
    const name = 'a'.repeat(253);
    const started = performance.now();
    assert.equal(matches([normalizeGlob(glob)], name), false);
    assert.ok(performance.now() - started < 500, 'matching took too long');
  });
});
