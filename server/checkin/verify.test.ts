import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { PeerCertificate } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signEnvelope } from '../../protocol/index.ts';
import { silentLogger } from '../core/index.ts';
import { FleetIndex } from '../fleet/index.ts';
import { generateAgentKeyAndCsr, loadOrCreatePki } from '../pki/index.ts';
import type { Pki } from '../pki/index.ts';
import { storeWithEnvoy } from './test-fixtures.ts';
import { EnvelopeRejection, peerFingerprint, verifyEnvelope } from './verify.ts';

const fixture = storeWithEnvoy();
after(() => fixture.cleanup());
const peer = fixture.certFingerprintHex;
const body = new Uint8Array([1, 2, 3]);

function rejects(code: string, run: () => unknown): void {
  assert.throws(run, (err: unknown) => err instanceof EnvelopeRejection && err.code === code);
}

describe('verifyEnvelope', () => {
  const index = FleetIndex.load(fixture.store.db);
  const context = (nowMs: number) => ({ index, clockSkewMs: 60_000, nowMs });

  it('accepts a fresh, signed envelope and records its timestamp', () => {
    const now = Date.now();
    const envelope = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now, body);
    const entry = verifyEnvelope('CheckIn', envelope, peer, context(now));
    assert.equal(entry.id, fixture.envoyId);
    assert.equal(entry.lastTsMs, now);
  });

  it('refuses a replayed envelope and one older than the last accepted', () => {
    const now = Date.now() + 10;
    const envelope = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now, body);
    verifyEnvelope('CheckIn', envelope, peer, context(now));
    rejects('checkin.replayed', () => verifyEnvelope('CheckIn', envelope, peer, context(now)));
    const older = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now - 5, body);
    rejects('checkin.replayed', () => verifyEnvelope('CheckIn', older, peer, context(now)));
  });

  it('refuses timestamps outside the skew window', () => {
    const now = Date.now() + 1000;
    const future = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now + 120_000, body);
    rejects('checkin.clock_skew', () => verifyEnvelope('CheckIn', future, peer, context(now)));
  });

  it('refuses a signature by another key, for another RPC, or over other bytes', () => {
    const now = Date.now() + 2000;
    const { privateKey: other } = generateKeyPairSync('ed25519');
    const wrongKey = signEnvelope(other, 'CheckIn', fixture.envoyId, now, body);
    rejects('checkin.bad_signature', () => verifyEnvelope('CheckIn', wrongKey, peer, context(now)));
    const otherRpc = signEnvelope(fixture.privateKey, 'ReportResults', fixture.envoyId, now, body);
    rejects('checkin.bad_signature', () => verifyEnvelope('CheckIn', otherRpc, peer, context(now)));
    const tampered = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now, body);
    tampered.body = new Uint8Array([1, 2, 4]);
    rejects('checkin.bad_signature', () => verifyEnvelope('CheckIn', tampered, peer, context(now)));
  });

  it('refuses unknown envoys, a foreign certificate, a missing certificate and a missing envelope', () => {
    const now = Date.now() + 3000;
    const unknown = signEnvelope(
      fixture.privateKey,
      'CheckIn',
      '00000000-0000-4000-8000-000000000000',
      now,
      body,
    );
    rejects('checkin.unknown_envoy', () => verifyEnvelope('CheckIn', unknown, peer, context(now)));
    const envelope = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now, body);
    rejects('checkin.identity_mismatch', () =>
      verifyEnvelope('CheckIn', envelope, 'cd'.repeat(32), context(now)),
    );
    rejects('checkin.identity_mismatch', () => verifyEnvelope('CheckIn', envelope, undefined, context(now)));
    rejects('checkin.envelope_invalid', () => verifyEnvelope('CheckIn', undefined, peer, context(now)));
  });

  it('refuses a revoked envoy even with a valid signature', () => {
    const now = Date.now() + 4000;
    const entry = index.get(fixture.envoyId)!;
    entry.status = 'revoked';
    try {
      const envelope = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now, body);
      rejects('checkin.revoked', () => verifyEnvelope('CheckIn', envelope, peer, context(now)));
    } finally {
      entry.status = 'active';
    }
  });
});

const seenPath = '/vigo.test.v1.Peer/Seen';
const asIs = (bytes: Buffer): Buffer => bytes;

interface Client {
  fingerprint: string;
  seen(): Promise<string>;
  close(): void;
}

describe('peerFingerprint over real mTLS connections', () => {
  let root = '';
  let pki: Pki;
  let server: grpc.Server;
  let port = 0;
  /** getAuthContext() calls the handler made, i.e. peer certificates decoded. */
  let certificateReads = 0;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'vigo-'));
    pki = await loadOrCreatePki({
      hostname: 'vigo.example.test',
      extraSans: [],
      log: silentLogger,
      tlsDir: join(root, 'tls'),
    });
    server = new grpc.Server();
    const service: grpc.ServiceDefinition = {
      seen: {
        path: seenPath,
        requestStream: false,
        responseStream: false,
        requestSerialize: asIs,
        requestDeserialize: asIs,
        responseSerialize: asIs,
        responseDeserialize: asIs,
      },
    };
    server.addService(service, {
      seen: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const read = call.getAuthContext.bind(call);
        call.getAuthContext = () => {
          certificateReads += 1;
          return read();
        };
        callback(null, Buffer.from(peerFingerprint(call) ?? 'none'));
      },
    });
    const credentials = grpc.ServerCredentials.createSsl(
      Buffer.from(pki.caCertPem),
      [{ private_key: Buffer.from(pki.serverKeyPem), cert_chain: Buffer.from(pki.serverCertPem) }],
      true,
    );
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
    );
  });

  after(() => {
    server.forceShutdown();
    rmSync(root, { recursive: true, force: true });
  });

  /** A client on its own connection with a freshly issued envoy certificate. */
  async function connect(envoyId: string): Promise<Client> {
    const { keyPem, csrPem } = await generateAgentKeyAndCsr('web-1.example.com');
    const issued = await pki.signEnvoyCsr({ csrPem, envoyId });
    const credentials = grpc.credentials.createSsl(
      Buffer.from(pki.caCertPem),
      Buffer.from(keyPem),
      Buffer.from(issued.certPem),
    );
    // A private subchannel pool: each client gets its own TLS connection.
    const client = new grpc.Client(`127.0.0.1:${port}`, credentials, {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.ssl_target_name_override': 'localhost',
      'grpc.default_authority': 'localhost',
    });
    const seen = (): Promise<string> =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          seenPath,
          asIs,
          asIs,
          Buffer.alloc(0),
          { deadline: Date.now() + 10_000 },
          (err, reply) => (err ? reject(err) : resolve(reply?.toString() ?? '')),
        );
      });
    return { fingerprint: issued.fingerprintSha256, seen, close: () => client.close() };
  }

  it('reads the certificate once per connection and gives each connection its own identity', async () => {
    const a = await connect('11111111-1111-4111-8111-111111111111');
    const b = await connect('22222222-2222-4222-8222-222222222222');
    try {
      assert.notEqual(a.fingerprint, b.fingerprint);
      const readsBefore = certificateReads;
      assert.equal(await a.seen(), a.fingerprint);
      assert.equal(await b.seen(), b.fingerprint);
      for (let i = 0; i < 5; i++) {
        const [fromA, fromB] = await Promise.all([a.seen(), b.seen()]);
        assert.equal(fromA, a.fingerprint);
        assert.equal(fromB, b.fingerprint);
      }
      assert.equal(certificateReads - readsBefore, 2, 'one certificate read per connection, not per call');
    } finally {
      a.close();
      b.close();
    }
  });

  it('reads the certificate again for a new connection with another certificate', async () => {
    const first = await connect('33333333-3333-4333-8333-333333333333');
    assert.equal(await first.seen(), first.fingerprint);
    first.close();
    const second = await connect('33333333-3333-4333-8333-333333333333');
    try {
      const readsBefore = certificateReads;
      assert.equal(await second.seen(), second.fingerprint);
      assert.equal(certificateReads - readsBefore, 1);
    } finally {
      second.close();
    }
  });
});

describe('peerFingerprint on a call without grpc-js internals', () => {
  it('falls back to getAuthContext() on every call and converts the fingerprint', () => {
    let reads = 0;
    // Only the fingerprint of the certificate is read.
    const certificate = { fingerprint256: 'AB:CD:0F' } as PeerCertificate;
    const call = {
      getAuthContext: () => {
        reads += 1;
        return { transportSecurityType: 'ssl', sslPeerCertificate: certificate };
      },
    };
    assert.equal(peerFingerprint(call), 'abcd0f');
    assert.equal(peerFingerprint(call), 'abcd0f');
    assert.equal(reads, 2);
  });

  it('is undefined when the connection presented no certificate', () => {
    assert.equal(peerFingerprint({ getAuthContext: () => ({}) }), undefined);
  });
});
