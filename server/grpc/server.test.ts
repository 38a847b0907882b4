/**
 * The agent listener's session handling with real TLS 1.3: it reports full and resumed handshakes, counts
 * open connections, and closes a resumed connection whose client certificate has expired since the
 * session was created (OpenSSL does not look at the certificate of a resumed session again).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { silentLogger } from '../core/index.ts';
import { generateAgentKeyAndCsr, loadOrCreatePki } from '../pki/index.ts';
import type { Pki } from '../pki/index.ts';
import { startGrpcListener } from './server.ts';
import type { GrpcListener } from './server.ts';

const root = mkdtempSync(join(tmpdir(), 'vigo-grpc-listener-'));
const tlsDir = join(root, 'tls');
const dayMs = 86_400_000;
const events: string[] = [];
let pki: Pki;
let listener: GrpcListener;

before(async () => {
  pki = await loadOrCreatePki({ tlsDir, hostname: 'localhost', extraSans: [], log: silentLogger });
  listener = await startGrpcListener({
    host: '127.0.0.1',
    port: 0,
    caCertPem: pki.caCertPem,
    serverCertPem: pki.serverCertPem,
    serverKeyPem: pki.serverKeyPem,
    maxMessageBytes: 1 << 20,
    events: {
      handshake: (session) => events.push(session),
      expiredSessionRefused: () => events.push('expired'),
    },
    register: () => undefined,
  });
});

after(() => {
  listener.destroy();
  rmSync(root, { recursive: true, force: true });
});

/** A client certificate of the same CA that is valid until about `validForMs` from now. */
async function certificateValidFor(validForMs: number): Promise<{ keyPem: string; certPem: string }> {
  const issuer = await loadOrCreatePki({
    tlsDir,
    hostname: 'localhost',
    extraSans: [],
    log: silentLogger,
    now: () => new Date(Date.now() - dayMs + validForMs),
  });
  const { keyPem, csrPem } = await generateAgentKeyAndCsr('short.example.com');
  const { certPem } = await issuer.signEnvoyCsr({
    csrPem,
    envoyId: '5c0ffee0-1234-4abc-8def-0123456789ab',
    validityDays: 1,
  });
  return { keyPem, certPem };
}

interface Outcome {
  readonly session: Buffer | undefined;
  /** The server's HTTP/2 settings arrived: the connection was handed to grpc-js. */
  readonly served: boolean;
}

function connectOnce(client: { keyPem: string; certPem: string }, session?: Buffer): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let newest: Buffer | undefined;
    let served = false;
    const socket = connect({
      host: '127.0.0.1',
      port: listener.port,
      servername: 'localhost',
      ca: pki.caCertPem,
      cert: client.certPem,
      key: client.keyPem,
      ALPNProtocols: ['h2'],
      session,
    });
    socket.on('session', (ticket: Buffer) => (newest = ticket));
    socket.on('data', () => {
      served = true;
      socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ session: newest, served }));
  });
}

function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

describe('the agent listener', () => {
  it('reports full and resumed handshakes', async () => {
    const client = await certificateValidFor(dayMs / 2);
    events.length = 0;
    const first = await connectOnce(client);
    assert.ok(first.served);
    const second = await connectOnce(client, first.session);
    assert.ok(second.served);
    assert.deepEqual(events, ['full', 'resumed']);
    await until('the connections to be closed', () => listener.openConnections() === 0);
  });

  it('closes a resumed connection whose certificate expired after the session was created', async () => {
    const client = await certificateValidFor(3_000);
    const notAfterMs = Date.parse(new X509Certificate(client.certPem).validTo);
    events.length = 0;
    const first = await connectOnce(client);
    assert.ok(first.served, 'the certificate is still valid');
    assert.ok(first.session);
    await until('the certificate to expire', () => Date.now() > notAfterMs + 1_000);
    const resumed = await connectOnce(client, first.session);
    assert.equal(resumed.served, false, 'the resumed connection was closed before grpc-js saw it');
    assert.deepEqual(events, ['full', 'expired']);
    // A full handshake with it is refused by TLS itself (an alert or an error, never served).
    const full = await connectOnce(client).catch(() => ({ served: false }));
    assert.equal(full.served, false);
    assert.deepEqual(events, ['full', 'expired']);
  });
});
