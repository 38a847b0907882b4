import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigoError } from '../core/index.ts';
import { cmdbFields, decodeCmdbCursor, encodeCmdbCursor, parseCmdbFields, primaryIp } from './cmdb.ts';

const refusedWith = (code: string) => (err: unknown) => isVigoError(err) && err.code === code;

describe('cmdb export', () => {
  it('picks the first global IPv4 address, else a global IPv6 one, never loopback or link-local', () => {
    const iface = (...addresses: string[]) => ({ name: 'x', addresses });
    assert.equal(primaryIp([iface('127.0.0.1/8'), iface('169.254.1.1/16', '192.0.2.7/24')]), '192.0.2.7');
    assert.equal(primaryIp([iface('::1/128', 'fe80::1/64', '2001:db8::5/64')]), '2001:db8::5');
    assert.equal(primaryIp([iface('2001:db8::5/64'), iface('10.1.2.3/8')]), '10.1.2.3');
    assert.equal(primaryIp([iface('127.0.0.1/8')]), null);
    assert.equal(primaryIp('not a list'), null);
    assert.equal(primaryIp([null, { addresses: [42] }]), null);
  });

  it('parses a field list, keeping its order and collapsing repeats; all fields without one', () => {
    assert.deepEqual(parseCmdbFields(undefined), [...cmdbFields]);
    assert.deepEqual(parseCmdbFields('last_seen, hostname,last_seen'), ['last_seen', 'hostname']);
    assert.throws(
      () => parseCmdbFields('hostname,nope'),
      (err) => refusedWith('export.field_unknown')(err) && /"nope"/.test((err as Error).message),
    );
    assert.throws(() => parseCmdbFields(''), refusedWith('export.field_unknown'));
  });

  it('round-trips a cursor and refuses anything it did not make', () => {
    const key = 'web-1\u0000abc';
    assert.equal(decodeCmdbCursor(encodeCmdbCursor(key)), key);
    for (const bad of [
      '',
      '!!',
      encodeCmdbCursor('no-separator'),
      encodeCmdbCursor('\u0000id'),
      encodeCmdbCursor('a\u0000b\u0000c'),
    ])
      assert.throws(() => decodeCmdbCursor(bad), refusedWith('export.cursor_invalid'));
  });
});
