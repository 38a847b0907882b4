/**
 * The gRPC address handed out at enrollment is one the agent can reach: by default the host its
 * enrollment request was addressed to (not server.hostname, which may not resolve from the agent), or
 * server.grpc_advertise when set, whose host the server certificate then names.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { connect } from 'node:tls';
import { after, describe, it } from 'node:test';
import { VigoAgent, createServiceClient, signRequest } from '../protocol/index.ts';
import { createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temps: { remove(): void }[] = [];
const servers: ReadyServer[] = [];
after(async () => {
  for (const server of servers) await server.stop();
  for (const temp of temps) temp.remove();
});

async function serverWith(env: Record<string, string>): Promise<ReadyServer> {
  const temp = makeTempDir('vigo-advertise-');
  temps.push(temp);
  // A name no resolver knows: what server.hostname often is as seen from an agent.
  const server = await startServer({
    dataDir: temp.path,
    env: { VIGO_HOSTNAME: 'vigo.unresolvable.invalid', ...env },
  });
  servers.push(server);
  return server;
}

/** The DNS names and IP addresses on the certificate the gRPC listener presents. */
function grpcCertificateNames(server: ReadyServer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port: server.grpcPort,
      ca: server.ca,
      ALPNProtocols: ['h2'],
      servername: 'localhost',
    });
    socket.once('secureConnect', () => {
      const cert = new X509Certificate(socket.getPeerX509Certificate()!.raw);
      socket.destroy();
      resolve(cert.subjectAltName ?? '');
    });
    socket.once('error', reject);
  });
}

describe('the advertised gRPC address', () => {
  it('is, by default, the host the enrollment request was addressed to, and reachable', async () => {
    const server = await serverWith({});
    const token = await createEnrollToken(server, ['*.example.com']);
    const agent = await enrollAgent(server, token, 'web-1.example.com', 'localhost');
    assert.equal(agent.grpcAddress, `localhost:${server.grpcPort}`);
    const client = createServiceClient(
      VigoAgent,
      agent.grpcAddress,
      grpc.credentials.createSsl(
        Buffer.from(server.ca),
        Buffer.from(agent.tlsKeyPem),
        Buffer.from(agent.certPem),
      ),
    );
    try {
      const response = await client.methods.checkIn(
        signRequest('CheckIn', agent.signingKey, agent.envoyId, Date.now(), { hostname: agent.hostname }),
      );
      assert.equal(response.outcome.case, 'bundle');
    } finally {
      client.close();
    }
    const viaAddress = await enrollAgent(server, token, 'web-2.example.com', '127.0.0.1');
    assert.equal(viaAddress.grpcAddress, `127.0.0.1:${server.grpcPort}`);
  });

  it('is server.grpc_advertise when set, and the server certificate names its host', async () => {
    const server = await serverWith({ VIGO_GRPC_ADVERTISE: 'agents.example.net:9443' });
    const token = await createEnrollToken(server, ['*.example.com']);
    const agent = await enrollAgent(server, token, 'web-1.example.com', 'localhost');
    assert.equal(agent.grpcAddress, 'agents.example.net:9443');
    assert.match(await grpcCertificateNames(server), /DNS:agents\.example\.net/);
  });
});
