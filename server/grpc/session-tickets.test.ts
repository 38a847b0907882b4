/**
 * Session tickets against real TLS 1.3 with client certificates from the PKI: what resumes, under which
 * key, and which certificate a resumed session carries.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, createServer } from 'node:tls';
import type { Server, TLSSocket } from 'node:tls';
import { silentLogger } from '../core/index.ts';
import { fromTlsFingerprint } from '../net/index.ts';
import { generateAgentKeyAndCsr, loadOrCreatePki } from '../pki/index.ts';
import type { Pki } from '../pki/index.ts';
import {
  installSessionTickets,
  resumedCertificateExpired,
  sessionTimeoutSeconds,
} from './session-tickets.ts';
import type { TicketKeyRing } from './session-tickets.ts';

interface Client {
  readonly keyPem: string;
  readonly certPem: string;
  readonly fingerprint: string;
}

interface Seen {
  readonly reused: boolean;
  readonly fingerprint: string;
  readonly expiredNow: boolean;
  readonly expiredInTwoYears: boolean;
}

interface Connected {
  readonly reused: boolean;
  /** The newest session the server sent on this connection, if it sent one. */
  readonly session: Buffer | undefined;
}

const root = mkdtempSync(join(tmpdir(), 'vigo-tickets-'));
let pki: Pki;
let alice: Client;
let bob: Client;
let server: Server;
let ring: TicketKeyRing;
let port = 0;
const seen: Seen[] = [];

async function client(envoyId: string): Promise<Client> {
  const { keyPem, csrPem } = await generateAgentKeyAndCsr('host.example.test');
  const issued = await pki.signEnvoyCsr({ csrPem, envoyId });
  return { keyPem, certPem: issued.certPem, fingerprint: issued.fingerprintSha256 };
}

before(async () => {
  pki = await loadOrCreatePki({
    tlsDir: join(root, 'tls'),
    hostname: 'localhost',
    extraSans: [],
    log: silentLogger,
  });
  alice = await client('aaaaaaaa-1111-4111-8111-111111111111');
  bob = await client('bbbbbbbb-2222-4222-8222-222222222222');
  const options = { rotationMs: 3_600_000, lifetimeMs: 3_600_000 };
  server = createServer({
    ca: pki.caCertPem,
    cert: pki.serverCertPem,
    key: pki.serverKeyPem,
    requestCert: true,
    rejectUnauthorized: true,
    sessionTimeout: sessionTimeoutSeconds(options),
  });
  ring = installSessionTickets(server, options);
  server.on('secureConnection', (socket: TLSSocket) => {
    const now = Date.now();
    seen.push({
      reused: socket.isSessionReused(),
      fingerprint: fromTlsFingerprint(socket.getPeerCertificate().fingerprint256),
      expiredNow: resumedCertificateExpired(socket, now),
      expiredInTwoYears: resumedCertificateExpired(socket, now + 2 * 365 * 86_400_000),
    });
    socket.end('bye');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(() => {
  ring.stop();
  server.close();
  rmSync(root, { recursive: true, force: true });
});

function connectAs(who: Client, session?: Buffer): Promise<Connected> {
  return new Promise((resolve, reject) => {
    let newest: Buffer | undefined;
    let reused = false;
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: pki.caCertPem,
      cert: who.certPem,
      key: who.keyPem,
      session,
    });
    socket.on('session', (ticket: Buffer) => (newest = ticket));
    socket.on('secureConnect', () => (reused = socket.isSessionReused()));
    socket.on('data', () => undefined);
    socket.on('error', reject);
    socket.on('close', () => resolve({ reused, session: newest }));
  });
}

function lastSeen(): Seen {
  const last = seen.at(-1);
  assert.ok(last !== undefined, 'the server saw a connection');
  return last;
}

describe('session tickets', () => {
  it('use the ticket-key hook, so the previous key keeps resuming', () => {
    assert.equal(ring.graceful, true);
  });

  it('resume a session, which keeps the certificate of the handshake that created it', async () => {
    const first = await connectAs(alice);
    assert.equal(first.reused, false);
    assert.ok(first.session, 'the server issued a ticket');
    assert.equal(lastSeen().fingerprint, alice.fingerprint);

    const resumed = await connectAs(alice, first.session);
    assert.equal(resumed.reused, true);
    assert.equal(lastSeen().reused, true);
    assert.equal(lastSeen().fingerprint, alice.fingerprint);
  });

  it("give another client's certificate no say: a resumed session is the envoy that created it", async () => {
    const aliceSession = (await connectAs(alice)).session;
    const borrowed = await connectAs(bob, aliceSession);
    assert.equal(borrowed.reused, true);
    assert.equal(lastSeen().fingerprint, alice.fingerprint, "bob's certificate was never looked at");
    assert.notEqual(lastSeen().fingerprint, bob.fingerprint);
  });

  it('resume under the previous key once, renewing the ticket, and not after a second rotation', async () => {
    const ticket = (await connectAs(alice)).session;
    ring.rotate();
    const graced = await connectAs(alice, ticket);
    assert.equal(graced.reused, true, 'the previous key still resumes');
    assert.ok(graced.session, 'and the server renewed the ticket under the current key');
    ring.rotate();
    const tooOld = await connectAs(alice, ticket);
    assert.equal(tooOld.reused, false, 'two rotations back: a full handshake');
    assert.ok(tooOld.session);
    const renewed = await connectAs(alice, graced.session);
    assert.equal(renewed.reused, true, 'the renewed ticket resumes under the key it was renewed with');
  });

  it('flag a resumed session whose certificate has expired, and never a full handshake', async () => {
    const ticket = (await connectAs(alice)).session;
    assert.equal(lastSeen().expiredInTwoYears, false, 'a full handshake has just verified the certificate');
    await connectAs(alice, ticket);
    assert.equal(lastSeen().reused, true);
    assert.equal(lastSeen().expiredNow, false);
    assert.equal(lastSeen().expiredInTwoYears, true, 'the envoy certificate is valid for 365 days');
  });
});

describe('the session lifetime', () => {
  it('ends resumption of a ticket older than it: a full handshake instead', async () => {
    const options = { rotationMs: 3_600_000, lifetimeMs: 1_000 };
    const short = createServer({
      ca: pki.caCertPem,
      cert: pki.serverCertPem,
      key: pki.serverKeyPem,
      requestCert: true,
      rejectUnauthorized: true,
      sessionTimeout: sessionTimeoutSeconds(options),
    });
    const shortRing = installSessionTickets(short, options);
    short.on('secureConnection', (socket: TLSSocket) => socket.end('bye'));
    await new Promise<void>((resolve) => short.listen(0, '127.0.0.1', resolve));
    const mainPort = port;
    port = (short.address() as AddressInfo).port;
    try {
      const first = await connectAs(alice);
      const issuedAtMs = Date.now();
      assert.equal((await connectAs(alice, first.session)).reused, true, 'within its lifetime');
      // OpenSSL counts session age in whole seconds.
      await new Promise<void>((resolve) => {
        const poll = (): void => {
          if (Date.now() > issuedAtMs + 2_100) resolve();
          else setTimeout(poll, 50);
        };
        poll();
      });
      assert.equal((await connectAs(alice, first.session)).reused, false, 'past its lifetime');
    } finally {
      port = mainPort;
      shortRing.stop();
      short.close();
    }
  });
});

describe('sessionTimeoutSeconds', () => {
  it('is the lifetime in whole seconds, at least one', () => {
    assert.equal(sessionTimeoutSeconds({ rotationMs: 1, lifetimeMs: 3_600_000 }), 3600);
    assert.equal(sessionTimeoutSeconds({ rotationMs: 1, lifetimeMs: 10 }), 1);
  });
});
