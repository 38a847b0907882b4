import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeHostname } from './hostname.ts';
import { isEnrollTokenId, newEnrollToken, parseEnrollToken } from './token-secret.ts';

describe('normalizeHostname', () => {
  it('accepts RFC 1123 names and lower-cases them', () => {
    assert.equal(normalizeHostname('Web-01.Example.COM'), 'web-01.example.com');
    assert.equal(normalizeHostname('1host'), '1host', 'RFC 1123 allows a leading digit');
    assert.equal(normalizeHostname(`${'a'.repeat(63)}.b`), `${'a'.repeat(63)}.b`);
    const longest = Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.');
    assert.equal(longest.length, 251);
    assert.equal(normalizeHostname(longest), longest);
  });

  it('refuses anything else with enroll.hostname_invalid', () => {
    const bad = [
      '',
      '-web',
      'web-',
      'web..example',
      '.web',
      'web.',
      'web_01',
      'web 01',
      'wéb',
      `${'a'.repeat(64)}.b`,
    ];
    bad.push(Array.from({ length: 64 }, () => 'abc').join('.'));
    for (const hostname of bad) {
      assert.throws(() => normalizeHostname(hostname), { code: 'enroll.hostname_invalid' }, hostname);
    }
  });
});

describe('enrollment token format', () => {
  it('round-trips a new token and keeps id and secret apart', () => {
    const { id, secret, token } = newEnrollToken();
    assert.match(token, /^vget_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(secret, 'base64url').length, 32, '256-bit secret');
    assert.deepEqual(parseEnrollToken(token), { id, secret });
    assert.equal(isEnrollTokenId(id), true);
    assert.notEqual(newEnrollToken().token, token);
  });

  it('rejects malformed tokens', () => {
    const { token } = newEnrollToken();
    for (const bad of [
      '',
      'vget_',
      token.slice(0, -1),
      `${token}x`,
      token.replace('vget_', 'vgot_'),
      token.toUpperCase(),
    ]) {
      assert.equal(parseEnrollToken(bad), undefined, bad);
    }
  });
});
