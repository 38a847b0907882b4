import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rateLimitKey } from './address-key.ts';

describe('rateLimitKey', () => {
  it('counts IPv4 per address and IPv6 per /64', () => {
    assert.equal(rateLimitKey('192.0.2.7'), '192.0.2.7');
    assert.equal(rateLimitKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(rateLimitKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(rateLimitKey('2001:0DB8:0001:0002:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(rateLimitKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(rateLimitKey('::1'), '0:0:0:0::/64');
    assert.equal(rateLimitKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.notEqual(rateLimitKey('2001:db8:1:3::1'), rateLimitKey('2001:db8:1:2::1'));
  });
});
