import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatListenAddress,
  InvalidValueError,
  isSubjectAltName,
  parseBoolean,
  parseDuration,
  parseInteger,
  parseListenAddress,
  parseNumberAbove,
  parseStringList,
} from './values.ts';
import { closestName as closest, editDistance } from '../core/index.ts';

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof InvalidValueError && pattern.test(err.message));
}

describe('parseListenAddress', () => {
  it('reads every interface, IPv4, IPv6 and host names', () => {
    assert.deepEqual(parseListenAddress(':1530'), { host: '', port: 1530 });
    assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseListenAddress('[::1]:8443'), { host: '::1', port: 8443 });
    assert.deepEqual(parseListenAddress('[::]:65535'), { host: '::', port: 65535 });
    assert.deepEqual(parseListenAddress('vigo.example.com:443'), { host: 'vigo.example.com', port: 443 });
  });

  it('round-trips through formatListenAddress', () => {
    for (const text of [':1530', '127.0.0.1:0', '[::1]:8443', 'localhost:9']) {
      assert.equal(formatListenAddress(parseListenAddress(text)), text);
    }
  });

  it('rejects what is not host:port, naming the value', () => {
    rejects(() => parseListenAddress('nope'), /expected a listen address.*"nope"/);
    rejects(() => parseListenAddress('1530'), /"1530"/);
    rejects(() => parseListenAddress(':70000'), /port 70000 is outside 0-65535/);
    rejects(() => parseListenAddress('::1:8443'), /listen address/);
    rejects(() => parseListenAddress('[1.2.3.4]:80'), /not an IPv6 address/);
    rejects(() => parseListenAddress('bad_host!:80'), /not a host name/);
    rejects(() => parseListenAddress(':'), /listen address/);
    rejects(() => parseListenAddress(1530), /1530 \(a number\).*write ":1530"/);
    rejects(() => parseListenAddress(null), /nothing/);
  });
});

describe('parseDuration', () => {
  it('reads Go-style durations into milliseconds', () => {
    assert.equal(parseDuration('5m', 1), 300_000);
    assert.equal(parseDuration('1h30m', 1), 5_400_000);
    assert.equal(parseDuration('250ms', 1), 250);
  });

  it('accepts zero only where allowed', () => {
    assert.equal(parseDuration('0', 0), 0);
    assert.equal(parseDuration(0, 0), 0);
    rejects(() => parseDuration('0s', 1), /greater than 0/);
  });

  it('rejects bare numbers, suggesting a unit', () => {
    rejects(() => parseDuration(5, 1), /5 \(a number\).*add a unit, e\.g\. "5s"/);
    rejects(() => parseDuration('5', 1), /"5" \(a string\)/);
    rejects(() => parseDuration('-5m', 1), /expected a duration/);
    rejects(() => parseDuration(true, 1), /true \(a boolean\)/);
  });
});

describe('scalar parsers', () => {
  it('booleans: YAML needs a real boolean, text accepts the usual spellings', () => {
    assert.equal(parseBoolean(true, 'file'), true);
    rejects(() => parseBoolean('yes', 'file'), /expected true or false, got "yes"/);
    for (const text of ['true', 'TRUE', '1', 'yes', 'on']) assert.equal(parseBoolean(text, 'text'), true);
    for (const text of ['false', '0', 'no', 'off']) assert.equal(parseBoolean(text, 'text'), false);
    rejects(() => parseBoolean('maybe', 'text'), /"maybe"/);
  });

  it('integers and numbers', () => {
    assert.equal(parseInteger(1024, 'file', 1), 1024);
    assert.equal(parseInteger('2048', 'text', 1), 2048);
    rejects(() => parseInteger('2048', 'file', 1), /whole number/);
    rejects(() => parseInteger(1.5, 'file', 1), /whole number/);
    rejects(() => parseInteger(0, 'file', 1), /at least 1/);
    rejects(() => parseInteger('1e3', 'text', 1), /whole number/);
    assert.equal(parseNumberAbove('2.5', 'text', 1), 2.5);
    rejects(() => parseNumberAbove(1, 'file', 1), /greater than 1, got 1/);
    rejects(() => parseNumberAbove('abc', 'text', 1), /"abc"/);
  });

  it('string lists: YAML sequences or comma-separated text, each item checked', () => {
    const rule = {
      item: 'a DNS name or IP address',
      items: 'DNS names or IP addresses',
      accepts: isSubjectAltName,
    };
    assert.deepEqual(parseStringList(['a.example', '10.0.0.1', '*.b.example'], 'file', rule), [
      'a.example',
      '10.0.0.1',
      '*.b.example',
    ]);
    assert.deepEqual(parseStringList(' a.example , ::1,', 'text', rule), ['a.example', '::1']);
    assert.deepEqual(parseStringList('', 'text', rule), []);
    rejects(() => parseStringList('a.example', 'file', rule), /expected a list/);
    rejects(
      () => parseStringList(['ok.example', 5], 'file', rule),
      /expected a list of DNS names or IP addresses.*item 2 is 5 \(a number\), not a DNS name or IP address/,
    );
    rejects(() => parseStringList('ok,not valid', 'text', rule), /item 2 is "not valid"/);
  });
});

describe('suggestions', () => {
  it('edit distance counts insertions, deletions and substitutions', () => {
    assert.equal(editDistance('interval', 'intervall'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
  });

  it('suggests only close candidates', () => {
    assert.equal(closest('checkin.intervall', ['checkin.interval', 'server.hostname']), 'checkin.interval');
    assert.equal(closest('foo', ['checkin.interval', 'server']), undefined);
  });
});
