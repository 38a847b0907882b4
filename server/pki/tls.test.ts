/**
 * The PKI against real TLS stacks: grpc-js with client certificates required (the agent channel) and
 * node's https server (the REST/UI listener).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, get, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../core/index.ts';
import { envoyIdFromCert, generateAgentKeyAndCsr, loadOrCreatePki, type Pki } from './index.ts';

const envoyId = '5c0ffee0-1234-4abc-8def-0123456789ab';
const whoAmIPath = '/vigo.test.v1.Identity/WhoAmI';
const identity = (bytes: Buffer): Buffer => bytes;

const whoAmIService: grpc.ServiceDefinition = {
  whoAmI: {
    path: whoAmIPath,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

interface ClientMaterial {
  keyPem: string;
  certPem: string;
}

let root = '';
let pki: Pki;
let otherPki: Pki;
let ours: ClientMaterial;
let foreign: ClientMaterial;

async function clientMaterial(issuer: Pki): Promise<ClientMaterial> {
  const { keyPem, csrPem } = await generateAgentKeyAndCsr('agent.example.test');
  const { certPem } = await issuer.signEnvoyCsr({ csrPem, envoyId });
  return { keyPem, certPem };
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'vigo-'));
  const base = { hostname: 'vigo.example.test', extraSans: [], log: silentLogger };
  pki = await loadOrCreatePki({ ...base, tlsDir: join(root, 'ours') });
  otherPki = await loadOrCreatePki({ ...base, tlsDir: join(root, 'other') });
  ours = await clientMaterial(pki);
  foreign = await clientMaterial(otherPki);
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('grpc-js with mutual TLS from the PKI', () => {
  const seen: { envoyId: string | undefined; transport: string | undefined }[] = [];
  let server: grpc.Server;
  let address = '';

  before(async () => {
    server = new grpc.Server();
    server.addService(whoAmIService, {
      whoAmI: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const auth = call.getAuthContext();
        const raw = auth?.sslPeerCertificate?.raw;
        const id = raw ? envoyIdFromCert(raw) : undefined;
        seen.push({ envoyId: id, transport: auth?.transportSecurityType });
        callback(null, Buffer.from(id ?? ''));
      },
    });
    const credentials = grpc.ServerCredentials.createSsl(
      Buffer.from(pki.caCertPem),
      [{ private_key: Buffer.from(pki.serverKeyPem), cert_chain: Buffer.from(pki.serverCertPem) }],
      true,
    );
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', credentials, (err, boundPort) =>
        err ? reject(err) : resolve(boundPort),
      );
    });
    address = `127.0.0.1:${port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => {
      server.tryShutdown((err) => {
        if (err) server.forceShutdown();
        resolve();
      });
    });
  });

  async function whoAmI(credentials: grpc.ChannelCredentials): Promise<string> {
    const client = new grpc.Client(address, credentials);
    try {
      return await new Promise<string>((resolve, reject) => {
        client.makeUnaryRequest(
          whoAmIPath,
          identity,
          identity,
          Buffer.from('hello'),
          { deadline: Date.now() + 10_000 },
          (err, reply) => (err ? reject(err) : resolve(reply?.toString() ?? '')),
        );
      });
    } finally {
      client.close();
    }
  }

  function refused(err: unknown): boolean {
    assert.equal((err as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
    return true;
  }

  it('lets an envoy with a certificate from our CA in, and the handler sees who it is', async () => {
    const before = seen.length;
    const creds = grpc.credentials.createSsl(
      Buffer.from(pki.caCertPem),
      Buffer.from(ours.keyPem),
      Buffer.from(ours.certPem),
    );
    assert.equal(await whoAmI(creds), envoyId);
    assert.deepEqual(seen.slice(before), [{ envoyId, transport: 'ssl' }]);
  });

  it('refuses a client certificate from another CA before any handler runs', async () => {
    const before = seen.length;
    const creds = grpc.credentials.createSsl(
      Buffer.from(pki.caCertPem),
      Buffer.from(foreign.keyPem),
      Buffer.from(foreign.certPem),
    );
    await assert.rejects(whoAmI(creds), refused);
    assert.equal(seen.length, before);
  });

  it('refuses a client without a certificate', async () => {
    const before = seen.length;
    await assert.rejects(whoAmI(grpc.credentials.createSsl(Buffer.from(pki.caCertPem))), refused);
    assert.equal(seen.length, before);
  });

  it('is refused by a client that trusts another CA', async () => {
    const creds = grpc.credentials.createSsl(
      Buffer.from(otherPki.caCertPem),
      Buffer.from(foreign.keyPem),
      Buffer.from(foreign.certPem),
    );
    await assert.rejects(whoAmI(creds), refused);
  });
});

describe('https with the server certificate', () => {
  let server: HttpsServer;
  let port = 0;

  before(async () => {
    server = createServer({ key: pki.serverKeyPem, cert: pki.serverCertPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function fetchBody(options: { servername?: string; ca?: string }): Promise<string> {
    return new Promise((resolve, reject) => {
      const request = get({ host: '127.0.0.1', port, path: '/', agent: false, ...options }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
      });
      request.on('error', reject);
    });
  }

  it('is trusted through ca.crt at 127.0.0.1, localhost and the configured hostname', async () => {
    assert.equal(await fetchBody({ ca: pki.caCertPem }), 'ok');
    assert.equal(await fetchBody({ ca: pki.caCertPem, servername: 'localhost' }), 'ok');
    assert.equal(await fetchBody({ ca: pki.caCertPem, servername: 'vigo.example.test' }), 'ok');
  });

  it('fails verification for a name it does not carry or a client that does not trust the CA', async () => {
    await assert.rejects(fetchBody({ ca: pki.caCertPem, servername: 'elsewhere.example.test' }), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    await assert.rejects(fetchBody({ ca: otherPki.caCertPem }), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });
});
