import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { ServerAddressError, agentPortHint, answersAsAgentPort, parseEnrollServer } from './enroll-target.ts';

describe('vigo enroll --server', () => {
  it('takes https://host:port as vigocli does, and bare host:port', () => {
    assert.equal(parseEnrollServer('https://vigo.example.com:8443'), 'vigo.example.com:8443');
    assert.equal(parseEnrollServer('https://vigo.example.com:8443/'), 'vigo.example.com:8443');
    assert.equal(parseEnrollServer('vigo.example.com:8443'), 'vigo.example.com:8443');
    assert.equal(parseEnrollServer('https://[::1]:8443'), '[::1]:8443');
    assert.equal(parseEnrollServer('https://vigo.example.com'), 'vigo.example.com:443');
  });

  it('refuses what is not the HTTPS API origin, saying what to give', () => {
    for (const [text, why] of [
      ['http://vigo.example.com:8443', /HTTPS only; use https:\/\/vigo.example.com:8443/],
      ['https://vigo.example.com:8443/api/v1', /only the scheme, host and port/],
      ['https://user:pw@vigo.example.com:8443', /only the scheme, host and port/],
      ['https://vigo.example.com:8443?x=1', /only the scheme, host and port/],
      ['https://:8443', /not an address|names no host/],
      ['x'.repeat(400), /longer than/],
    ] as const) {
      assert.throws(
        () => parseEnrollServer(text),
        (err: unknown) => {
          assert.ok(err instanceof ServerAddressError);
          assert.match(err.message, why, text);
          return true;
        },
      );
    }
  });

  it('names the API port in the agent-port hint', () => {
    assert.equal(
      agentPortHint('vigo.example.com:1530'),
      'vigo.example.com:1530 is the agent (gRPC) port, which agents use only after enrolling; use the API port, e.g. https://vigo.example.com:8443',
    );
  });

  it('does not take a server that is not TLS for the agent port', async (t) => {
    const plain = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    t.after(() => plain.close());
    const address = plain.address();
    assert.ok(address !== null && typeof address === 'object');
    assert.equal(await answersAsAgentPort(`127.0.0.1:${address.port}`, '', 2000), false);
  });
});
