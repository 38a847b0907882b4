/**
 * Enrolls a simulated host against a real vigosrv over REST and talks to its gRPC listener with the
 * issued client certificate, using the same protocol module as the reference agent.
 */
import * as grpc from '@grpc/grpc-js';
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VigoAgent, createServiceClient, rawFromPublicKey } from '../../protocol/index.ts';
import type { ServiceClient } from '../../protocol/index.ts';
import { generateAgentKeyAndCsr } from '../../server/pki/index.ts';
import { httpsRequest } from './https-client.ts';
import type { ReadyServer } from './server-process.ts';

export interface EnrolledAgent {
  envoyId: string;
  hostname: string;
  /** The gRPC address the server handed out. */
  grpcAddress: string;
  signingKey: KeyObject;
  tlsKeyPem: string;
  certPem: string;
}

export async function createEnrollToken(server: ReadyServer, globs: string[], uses = 10): Promise<string> {
  const adminToken = readFileSync(join(server.dataDir, 'local-admin.token'), 'utf8').trim();
  const reply = await server.request('/api/v1/enroll/tokens', {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ hostnameGlobs: globs, uses, expiresIn: '1h' }),
  });
  if (reply.status !== 201) throw new Error(`token creation failed: ${reply.status} ${reply.body}`);
  return reply.json<{ token: string }>().token;
}

export async function enrollAgent(
  server: Pick<ReadyServer, 'ca' | 'apiPort'>,
  token: string,
  hostname: string,
  /** The host the enrollment request is addressed to; the server's loopback address by default. */
  apiHost = '127.0.0.1',
): Promise<EnrolledAgent> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const { keyPem, csrPem } = await generateAgentKeyAndCsr(hostname);
  const reply = await httpsRequest(`https://${apiHost}:${server.apiPort}/api/v1/enroll`, {
    ca: server.ca,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token,
      hostname,
      publicKey: rawFromPublicKey(publicKey).toString('base64'),
      csr: csrPem,
    }),
  });
  if (reply.status !== 200 && reply.status !== 201)
    throw new Error(`enrollment failed: ${reply.status} ${reply.body}`);
  const body = reply.json<{ envoyId: string; clientCertPem: string; grpcAddress: string }>();
  return {
    envoyId: body.envoyId,
    hostname,
    grpcAddress: body.grpcAddress,
    signingKey: privateKey,
    tlsKeyPem: keyPem,
    certPem: body.clientCertPem,
  };
}

export function agentClient(
  server: Pick<ReadyServer, 'ca' | 'grpcPort'>,
  identity: { tlsKeyPem: string; certPem: string } | undefined,
): ServiceClient<typeof VigoAgent.method> {
  const credentials = identity
    ? grpc.credentials.createSsl(
        Buffer.from(server.ca),
        Buffer.from(identity.tlsKeyPem),
        Buffer.from(identity.certPem),
      )
    : grpc.credentials.createSsl(Buffer.from(server.ca));
  return createServiceClient(VigoAgent, `127.0.0.1:${server.grpcPort}`, credentials);
}
