/**
 * The agent listener as a client sees it: ALPN selects h2 or refuses the connection, and the HTTP/2
 * SETTINGS the server advertises on every agent connection.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import type { Settings } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { silentLogger } from '../core/index.ts';
import { generateAgentKeyAndCsr, loadOrCreatePki } from '../pki/index.ts';
import type { Pki } from '../pki/index.ts';
import { defaultGrpcConnectionLimits, startGrpcListener } from './server.ts';
import type { GrpcListener } from './server.ts';

let root = '';
let pki: Pki;
let listener: GrpcListener;
let agent: { key: string; cert: string };

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'vigo-grpc-listener-'));
  pki = await loadOrCreatePki({
    tlsDir: join(root, 'tls'),
    hostname: 'vigo.example.test',
    extraSans: [],
    log: silentLogger,
  });
  const { keyPem, csrPem } = await generateAgentKeyAndCsr('agent.example.test');
  const { certPem } = await pki.signEnvoyCsr({ csrPem, envoyId: '5c0ffee0-1234-4abc-8def-0123456789ab' });
  agent = { key: keyPem, cert: certPem };
  listener = await startGrpcListener({
    host: '127.0.0.1',
    port: 0,
    caCertPem: pki.caCertPem,
    serverCertPem: pki.serverCertPem,
    serverKeyPem: pki.serverKeyPem,
    maxMessageBytes: 1 << 20,
    register: () => {},
  });
});

after(() => {
  listener.destroy();
  rmSync(root, { recursive: true, force: true });
});

/** A TLS handshake with the agent's certificate, offering `protocols`; resolves with the socket or rejects. */
function handshake(protocols: string[]): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: listener.port,
      servername: 'localhost',
      ca: pki.caCertPem,
      ...agent,
      ALPNProtocols: protocols,
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', (err: Error) => {
      socket.destroy();
      reject(err);
    });
  });
}

describe('ALPN on the agent port', () => {
  it('selects h2 when the client offers it, whatever else it offers', async () => {
    const socket = await handshake(['http/1.1', 'h2']);
    try {
      assert.equal(socket.alpnProtocol, 'h2');
    } finally {
      socket.destroy();
    }
  });

  it('refuses a client that offers protocols but not h2', async () => {
    await assert.rejects(handshake(['http/1.1']), { code: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' });
  });
});

describe('HTTP/2 SETTINGS on the agent port', () => {
  it('turn off the HPACK dynamic table for what agents send and bound the streams per connection', async () => {
    const session = http2Connect(`https://127.0.0.1:${listener.port}`, {
      servername: 'localhost',
      ca: pki.caCertPem,
      ...agent,
    });
    try {
      const settings = await new Promise<Settings>((resolve, reject) => {
        session.once('remoteSettings', resolve);
        session.once('error', reject);
      });
      assert.equal(settings.headerTableSize, 0);
      assert.equal(settings.maxConcurrentStreams, defaultGrpcConnectionLimits.maxConcurrentStreams);
    } finally {
      session.close();
    }
  });
});
