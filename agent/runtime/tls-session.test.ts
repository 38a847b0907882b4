/**
 * The agent's resuming mTLS credentials against the server's own agent listener (real TLS 1.3 and
 * grpc-js): they verify the server like grpc-js's SSL credentials do, keep the session the server sends
 * and offer it on the next connection.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CheckInResponseSchema, VigoAgent, addService, createServiceClient } from '../../protocol/index.ts';
import { create } from '@bufbuild/protobuf';
import { silentLogger } from '../../server/core/index.ts';
import { startGrpcListener } from '../../server/grpc/index.ts';
import type { GrpcListener } from '../../server/grpc/index.ts';
import { generateAgentKeyAndCsr, loadOrCreatePki } from '../../server/pki/index.ts';
import type { Pki } from '../../server/pki/index.ts';
import { TlsSessionCache, resumingCredentials } from './tls-session.ts';

const root = mkdtempSync(join(tmpdir(), 'vigo-agent-tls-'));
let pki: Pki;
let otherPki: Pki;
let listener: GrpcListener;
let client: { keyPem: string; certPem: string };

before(async () => {
  const base = { hostname: 'vigo.example.test', extraSans: [], log: silentLogger };
  pki = await loadOrCreatePki({ ...base, tlsDir: join(root, 'ours') });
  otherPki = await loadOrCreatePki({ ...base, tlsDir: join(root, 'other') });
  const { keyPem, csrPem } = await generateAgentKeyAndCsr('agent.example.test');
  const { certPem } = await pki.signEnvoyCsr({ csrPem, envoyId: '5c0ffee0-1234-4abc-8def-0123456789ab' });
  client = { keyPem, certPem };
  const unused = () => {
    throw new Error('not part of this test');
  };
  listener = await startGrpcListener({
    host: '127.0.0.1',
    port: 0,
    caCertPem: pki.caCertPem,
    serverCertPem: pki.serverCertPem,
    serverKeyPem: pki.serverKeyPem,
    maxMessageBytes: 1 << 20,
    register: (server) =>
      addService(server, VigoAgent, {
        checkIn: (_call, callback) => callback(null, create(CheckInResponseSchema, { intervalMs: 1 })),
        reportResults: unused,
        resolveSecrets: unused,
        agentStream: unused,
      }),
  });
});

after(() => {
  listener.destroy();
  rmSync(root, { recursive: true, force: true });
});

/** One call on a new channel, closed again; the error, if the call failed. */
async function callOnce(
  sessions: TlsSessionCache,
  options: { host?: string; caPem?: string } = {},
): Promise<Error | undefined> {
  const host = options.host ?? '127.0.0.1';
  const credentials = resumingCredentials({
    caPem: options.caPem ?? pki.caCertPem,
    keyPem: client.keyPem,
    certPem: client.certPem,
    host,
    sessions,
  });
  const channel = createServiceClient(VigoAgent, `127.0.0.1:${listener.port}`, credentials, {
    channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
  });
  try {
    await channel.methods.checkIn({}, { deadline: Date.now() + 10_000 });
    return undefined;
  } catch (err) {
    return err as Error;
  } finally {
    channel.close();
  }
}

describe('resumingCredentials', () => {
  it('keep the session the server sends and resume it on the next connection', async () => {
    const sessions = new TlsSessionCache();
    assert.equal(await callOnce(sessions), undefined);
    assert.ok(sessions.current, 'the session was kept');
    assert.equal(await callOnce(sessions), undefined);
    assert.equal(await callOnce(sessions), undefined);
    assert.deepEqual(sessions.handshakes, { full: 1, resumed: 2 });
  });

  it('verify the server by name: a certificate that does not name the dialled host is refused', async () => {
    const sessions = new TlsSessionCache();
    assert.equal(
      await callOnce(sessions, { host: 'localhost' }),
      undefined,
      'the certificate names localhost',
    );
    const wrong = await callOnce(new TlsSessionCache(), { host: 'elsewhere.example.net' });
    assert.ok(wrong, 'a name the certificate does not list is refused');
    assert.equal((wrong as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
  });

  it('verify the server by CA: a server of another CA is refused', async () => {
    const refused = await callOnce(new TlsSessionCache(), { caPem: otherPki.caCertPem });
    assert.ok(refused);
    assert.equal((refused as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
  });
});
