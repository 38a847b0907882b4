/** For the agent runtime's tests: a ServerLink to a plaintext gRPC server on a loopback port. */
import * as grpc from '@grpc/grpc-js';
import { generateKeyPairSync } from 'node:crypto';
import { createEnvelopeClock } from '../../protocol/index.ts';
import { ServerLink } from './server-link.ts';
import type { LoadedIdentity } from './state-dir.ts';

/** Binds `server` to an ephemeral loopback port and returns a link to it, as envoy `hostname`. */
export async function linkToTestServer(server: grpc.Server, hostname: string): Promise<ServerLink> {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  const loaded: LoadedIdentity = {
    identity: {
      envoyId: '5c0ffee0-1234-4abc-8def-0123456789ab',
      hostname,
      grpcAddress: `127.0.0.1:${port}`,
      apiUrl: 'https://127.0.0.1:1',
      bundlePublicKey: '',
      enrolledAtMs: 0,
    },
    signingKey: generateKeyPairSync('ed25519').privateKey,
    tlsKeyPem: '',
    tlsCertPem: '',
    caPem: '',
  };
  return new ServerLink(loaded, {
    credentials: grpc.credentials.createInsecure(),
    clock: createEnvelopeClock(),
  });
}
