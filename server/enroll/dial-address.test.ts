import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDialAddress } from '../config/index.ts';
import { advertisedSans, agentDialAddress } from './service.ts';

const dial = (advertised: string, requestHost: string | undefined): string =>
  agentDialAddress({ advertised, requestHost, fallbackHost: 'vigo.internal', grpcPort: 1530 });

describe('the gRPC address handed out at enrollment', () => {
  it('is the host the enrollment request was addressed to, with the gRPC port', () => {
    assert.equal(dial('', 'agents.example.com'), 'agents.example.com:1530');
    assert.equal(dial('', '10.0.0.5'), '10.0.0.5:1530');
    assert.equal(dial('', '[::1]'), '[::1]:1530');
    assert.equal(
      dial('', 'api.example.com:8443'),
      'api.example.com:1530',
      'the API port is not the gRPC port',
    );
  });

  it('falls back to server.hostname when the request named no usable host', () => {
    for (const junk of [undefined, '', 'two words', 'a/b', 'x'.repeat(300), '[not-v6]', 'host:99999'])
      assert.equal(dial('', junk), 'vigo.internal:1530', String(junk));
  });

  it('is server.grpc_advertise when set, with the gRPC port unless it names one', () => {
    assert.equal(dial('grpc.example.net', 'agents.example.com'), 'grpc.example.net:1530');
    assert.equal(dial('grpc.example.net:443', 'agents.example.com'), 'grpc.example.net:443');
    assert.equal(dial('[2001:db8::1]:9443', undefined), '[2001:db8::1]:9443');
    assert.equal(dial('2001:db8::1', undefined), '[2001:db8::1]:1530');
  });

  it('puts the advertised host, and only it, on the server certificate', () => {
    assert.deepEqual(advertisedSans(''), []);
    assert.deepEqual(advertisedSans('grpc.example.net:443'), ['grpc.example.net']);
    assert.deepEqual(advertisedSans('[2001:db8::1]:9443'), ['2001:db8::1']);
  });

  it('parses only host, host:port, [v6], [v6]:port and bare IPv6', () => {
    assert.deepEqual(parseDialAddress('h.example'), { host: 'h.example', port: undefined });
    assert.deepEqual(parseDialAddress('h.example:1'), { host: 'h.example', port: 1 });
    assert.deepEqual(parseDialAddress('[::1]:65535'), { host: '::1', port: 65535 });
    for (const bad of ['', ':1530', 'h.example:0', 'h.example:65536', 'h:1:2', '[h.example]:1', 'http://h'])
      assert.equal(parseDialAddress(bad), undefined, bad);
  });
});
