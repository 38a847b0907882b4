/**
 * ServerLink's resend on checkin.replayed (agent.proto: a stream message signed just before a request can
 * overtake it): the request is signed again with a fresh timestamp and sent once more, and only once.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CheckInResponseSchema,
  VigoAgent,
  addService,
  createEnvelopeClock,
  errorCodeOf,
  errorStatusMessage,
  errorStatusMetadata,
} from '../../protocol/index.ts';
import { ServerLink } from './server-link.ts';
import type { LoadedIdentity } from './state-dir.ts';

const server = new grpc.Server();
/** Timestamps of the CheckIns received, and how many of the next ones to refuse as replayed. */
const received: bigint[] = [];
let refuseNext = 0;
let link: ServerLink;

before(async () => {
  const unused = () => {
    throw new Error('not part of this test');
  };
  addService(server, VigoAgent, {
    checkIn: (call, callback) => {
      received.push(call.request.envelope?.tsMs ?? 0n);
      if (refuseNext > 0) {
        refuseNext -= 1;
        callback({
          code: grpc.status.FAILED_PRECONDITION,
          details: errorStatusMessage('checkin.replayed', 'not after the last accepted one'),
          metadata: errorStatusMetadata('checkin.replayed'),
        });
        return;
      }
      callback(null, create(CheckInResponseSchema, { intervalMs: 1000 }));
    },
    reportResults: unused,
    resolveSecrets: unused,
    agentStream: unused,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  const loaded: LoadedIdentity = {
    identity: {
      envoyId: '5c0ffee0-1234-4abc-8def-0123456789ab',
      hostname: 'link.example.com',
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
  link = new ServerLink(loaded, {
    credentials: grpc.credentials.createInsecure(),
    clock: createEnvelopeClock(),
  });
});

after(() => {
  link.close();
  server.forceShutdown();
});

const input = {
  hostname: 'link.example.com',
  policyVersion: 0,
  stateFingerprint: '',
  traitsHash: '',
  secretsEpoch: 0,
};

describe('ServerLink', () => {
  it('signs a request refused as replayed again, with a later timestamp, and sends it once more', async () => {
    received.length = 0;
    refuseNext = 1;
    const reply = await link.checkIn(input);
    assert.equal(reply.intervalMs, 1000);
    assert.equal(received.length, 2);
    assert.ok((received[1] ?? 0n) > (received[0] ?? 0n), 'the resend carries a fresh timestamp');
  });

  it('gives up after one resend', async () => {
    received.length = 0;
    refuseNext = 2;
    await assert.rejects(link.checkIn(input), (err: grpc.ServiceError) => {
      assert.equal(errorCodeOf(err), 'checkin.replayed');
      return true;
    });
    assert.equal(received.length, 2);
  });
});
