/**
 * bench:checkin drives thousands of per-envoy connections through a lean node:http2 client
 * (bench/checkin/envoy-link.ts) instead of a grpc-js channel each; its figures only stand for real agents
 * if that client puts on the wire what the reference agent's ServerLink (grpc-js) does. A recording
 * HTTP/2 server receives one CheckIn from each and compares: TLS version and ALPN, the client
 * certificate, the HTTP/2 settings, every request header in order, and the gRPC-framed request bytes
 * (identical when signed with the same timestamp: ed25519 signatures are deterministic).
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { createSecureServer } from 'node:http2';
import type { Http2SecureServer, ServerHttp2Stream, Settings } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { ServerLink } from '../agent/runtime/server-link.ts';
import type { CheckInInput } from '../agent/runtime/server-link.ts';
import { TlsSessionCache, resumingCredentials } from '../agent/runtime/tls-session.ts';
import { CallError, EnvoyLink } from '../bench/checkin/envoy-link.ts';
import {
  CheckInRequestSchema,
  CheckInResponseSchema,
  VigoAgent,
  createEnvelopeClock,
  errorCodeOf,
  errorStatusMessage,
  signRequest,
} from '../protocol/index.ts';
import { silentLogger } from '../server/core/index.ts';
import { generateAgentKeyAndCsr, loadOrCreatePki } from '../server/pki/index.ts';
import type { Pki } from '../server/pki/index.ts';
import { makeTempDir } from './helpers/server-process.ts';

interface Received {
  rawHeaders: string[];
  body: Buffer;
  settings: Settings;
  protocol: string | null;
  alpn: string | false | null;
  peerFingerprint: string;
}

const envoyId = 'b5a1f0de-1d5c-4c57-9a4e-3f1f6f0c2a11';
const checkInPath = `/${VigoAgent.typeName}/${VigoAgent.method.checkIn.name}`;
const input: CheckInInput = {
  hostname: 'host-1.example.com',
  policyVersion: 7,
  stateFingerprint: 'ab'.repeat(32),
  traitsHash: 'cd'.repeat(32),
  secretsEpoch: 3,
};

const temp = makeTempDir('vigo-envoy-link-');
const received: Received[] = [];
/** What the recording server answers the next request with: a gRPC status, 0 for a no-change reply. */
let answerStatus = 0;
let server: Http2SecureServer;
let pki: Pki;
let port: number;
let tlsKeyPem: string;
let tlsCertPem: string;
let signingKey: KeyObject;

function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

before(async () => {
  pki = await loadOrCreatePki({
    tlsDir: join(temp.path, 'tls'),
    hostname: 'localhost',
    extraSans: [],
    log: silentLogger,
  });
  const agentTls = await generateAgentKeyAndCsr('host-1.example.com');
  tlsKeyPem = agentTls.keyPem;
  tlsCertPem = (await pki.signEnvoyCsr({ csrPem: agentTls.csrPem, envoyId })).certPem;
  signingKey = generateKeyPairSync('ed25519').privateKey;
  server = createSecureServer({
    ca: pki.caCertPem,
    cert: pki.serverCertPem,
    key: pki.serverKeyPem,
    requestCert: true,
    rejectUnauthorized: true,
  });
  const settingsBySession = new WeakMap<object, Settings>();
  server.on('session', (session) =>
    session.once('remoteSettings', (s: Settings) => settingsBySession.set(session, s)),
  );
  server.on(
    'stream',
    (stream: ServerHttp2Stream, _headers: unknown, _flags: number, rawHeaders: string[]) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const socket = stream.session!.socket as TLSSocket;
        received.push({
          rawHeaders,
          body: Buffer.concat(chunks),
          settings: settingsBySession.get(stream.session!) ?? {},
          protocol: socket.getProtocol(),
          alpn: socket.alpnProtocol,
          peerFingerprint: socket.getPeerCertificate().fingerprint256,
        });
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () =>
          stream.sendTrailers(
            answerStatus === 0
              ? { 'grpc-status': '0' }
              : {
                  'grpc-status': String(answerStatus),
                  'grpc-message': encodeURIComponent(errorStatusMessage('checkin.revoked', 'envoy revoked')),
                  'vigo-error-code': 'checkin.revoked',
                },
          ),
        );
        const reply = toBinary(
          CheckInResponseSchema,
          create(CheckInResponseSchema, { policyVersion: 7n, outcome: { case: 'noChange', value: {} } }),
        );
        stream.end(answerStatus === 0 ? frame(reply) : undefined);
      });
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.close();
  temp.remove();
});

async function viaReferenceAgent(): Promise<Received> {
  const loaded = {
    identity: {
      envoyId,
      hostname: input.hostname,
      grpcAddress: `127.0.0.1:${port}`,
      apiUrl: 'https://127.0.0.1:1',
      bundlePublicKey: '',
      enrolledAtMs: 0,
    },
    signingKey,
    tlsKeyPem,
    tlsCertPem,
    caPem: pki.caCertPem,
  };
  const link = new ServerLink(loaded, {
    credentials: resumingCredentials({
      caPem: pki.caCertPem,
      keyPem: tlsKeyPem,
      certPem: tlsCertPem,
      host: '127.0.0.1',
      sessions: new TlsSessionCache(),
    }),
    clock: createEnvelopeClock(),
  });
  try {
    await link.checkIn(input);
  } finally {
    link.close();
  }
  return received.at(-1)!;
}

async function openLeanLink(): Promise<EnvoyLink> {
  return EnvoyLink.open({
    host: '127.0.0.1',
    port,
    secureContext: createSecureContext({ ca: pki.caCertPem, cert: tlsCertPem, key: tlsKeyPem }),
    timeoutMs: 10_000,
  });
}

test('the lean per-envoy client sends what the reference agent sends', async () => {
  answerStatus = 0;
  const agent = await viaReferenceAgent();
  const agentRequest = fromBinary(CheckInRequestSchema, agent.body.subarray(5));
  const link = await openLeanLink();
  let reply: Buffer;
  try {
    // The same payload signed with the same timestamp: the bytes must match exactly.
    const request = signRequest('CheckIn', signingKey, envoyId, agentRequest.envelope!.tsMs, {
      agentVersion: '0.1.0',
      hostname: input.hostname,
      policyVersion: BigInt(input.policyVersion),
      stateFingerprint: input.stateFingerprint,
      traitsHash: input.traitsHash,
      traitsJson: new Uint8Array(),
      secretsEpoch: BigInt(input.secretsEpoch),
    });
    reply = await link.unary(checkInPath, toBinary(CheckInRequestSchema, request), 30_000);
  } finally {
    link.close();
  }
  const lean = received.at(-1)!;

  assert.deepEqual(lean.body, agent.body, 'gRPC-framed request bytes');
  const names = (raw: string[]) => raw.filter((_, i) => i % 2 === 0);
  assert.deepEqual(names(lean.rawHeaders), names(agent.rawHeaders), 'header names and order');
  const values = (raw: string[]) =>
    raw.map((v, i) => (raw[i - 1] === 'grpc-timeout' ? v.replace(/^\d+m$/, '<ms>m') : v));
  assert.deepEqual(values(lean.rawHeaders), values(agent.rawHeaders), 'header values (timeout in ms)');
  assert.deepEqual(lean.settings, agent.settings, 'HTTP/2 settings');
  assert.equal(lean.protocol, 'TLSv1.3');
  assert.equal(lean.protocol, agent.protocol);
  assert.equal(lean.alpn, agent.alpn);
  assert.equal(lean.peerFingerprint, agent.peerFingerprint, 'the same client certificate');
  const response = fromBinary(CheckInResponseSchema, reply);
  assert.equal(response.outcome.case, 'noChange');
});

test('a failed call carries its status and stable error code as grpc-js reports them', async () => {
  answerStatus = 7;
  const link = await openLeanLink();
  try {
    const request = signRequest('CheckIn', signingKey, envoyId, Date.now(), { hostname: input.hostname });
    await assert.rejects(link.unary(checkInPath, toBinary(CheckInRequestSchema, request), 30_000), (err) => {
      assert.ok(err instanceof CallError);
      assert.equal(err.code, 7);
      assert.equal(err.details, 'checkin.revoked: envoy revoked');
      assert.equal(errorCodeOf(err), 'checkin.revoked');
      return true;
    });
  } finally {
    link.close();
    answerStatus = 0;
  }
});
