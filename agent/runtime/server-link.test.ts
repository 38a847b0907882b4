/**
 * ServerLink's resend on checkin.replayed (agent.proto: a stream message signed just before a request can
 * overtake it): the request is signed again with a fresh timestamp and sent once more, and only once.
 * A check-in carries the traceparent it is given.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { after, before, describe, it } from 'node:test';
import {
  CheckInResponseSchema,
  VigoAgent,
  addService,
  decodePayload,
  errorCodeOf,
  errorStatusMessage,
  errorStatusMetadata,
} from '../../protocol/index.ts';
import type { ServerLink } from './server-link.ts';
import { linkToTestServer } from './server-link.fixture.ts';

const server = new grpc.Server();
/** Timestamps of the CheckIns received, and how many of the next ones to refuse as replayed. */
const received: bigint[] = [];
/** The traceparent of each CheckIn received. */
const traces: string[] = [];
let refuseNext = 0;
let link: ServerLink;

before(async () => {
  const unused = () => {
    throw new Error('not part of this test');
  };
  addService(server, VigoAgent, {
    checkIn: (call, callback) => {
      received.push(call.request.envelope?.tsMs ?? 0n);
      traces.push(decodePayload('CheckIn', call.request.envelope?.body ?? new Uint8Array()).traceparent);
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
  link = await linkToTestServer(server, 'link.example.com');
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

  it('sends the traceparent of the check-in, or none', async () => {
    traces.length = 0;
    refuseNext = 0;
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await link.checkIn({ ...input, traceparent });
    await link.checkIn(input);
    assert.deepEqual(traces, [traceparent, '']);
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
