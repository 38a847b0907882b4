import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { principalOf, unmatchedPath } from './access-log.ts';

describe('access log fields', () => {
  it('names the principal by kind and name, never by a secret', () => {
    assert.equal(principalOf(undefined), 'anonymous');
    assert.equal(principalOf({ kind: 'local-admin' }), 'local-admin');
    assert.equal(principalOf({ kind: 'system' }), 'system');
    assert.equal(principalOf({ kind: 'user', userId: 'usr_1', username: 'ann', role: 'admin' }), 'user:ann');
    assert.equal(
      principalOf({ kind: 'api-token', tokenId: 'tok_9', userId: 'usr_1', username: 'ann', role: 'viewer' }),
      'api-token:ann/tok_9',
    );
    assert.equal(principalOf({ kind: 'envoy', envoyId: 'e-1' }), 'envoy:e-1');
  });

  it('blanks anything shaped like a credential in an unmatched path, and bounds its length', () => {
    assert.equal(unmatchedPath('/x/vgot_abcDEF-123/y'), '/x/[redacted]/y');
    assert.equal(unmatchedPath('/VGET_abc.def'), '/[redacted]');
    assert.equal(unmatchedPath('/a/vgbs_1/vgla_2'), '/a/[redacted]/[redacted]');
    assert.equal(unmatchedPath('/plain/path'), '/plain/path');
    assert.equal(unmatchedPath(`/${'a'.repeat(1000)}`).length, 256);
  });
});
