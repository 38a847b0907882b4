import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  VigoAgent,
  addService,
  createServiceClient,
  decodePayload,
  errorCodeOf,
} from '../../protocol/index.ts';
import { silentLogger } from '../core/index.ts';
import { FleetIndex } from '../fleet/index.ts';
import { createAgentStreams } from './agent-stream.ts';
import { rejection } from './rejection.ts';
import { storeWithEnvoy } from './test-fixtures.ts';
import { EnvelopeRejection, peerFingerprint, verifyEnvelope } from './verify.ts';
import { createWatermarkCommitter } from './watermark-committer.ts';

const fixture = storeWithEnvoy();
const server = new grpc.Server();
const refused: string[] = [];
let client: ReturnType<typeof createServiceClient<(typeof VigoAgent)['method']>>;

before(async () => {
  const index = FleetIndex.load(fixture.store.db);
  const watermarks = createWatermarkCommitter({ store: fixture.store, log: silentLogger, maxDelayMs: 1 });
  const streams = createAgentStreams({
    index,
    now: Date.now,
    verify: (rpc, envelope, call) =>
      verifyEnvelope(rpc, envelope, peerFingerprint(call), {
        index,
        clockSkewMs: 300_000,
        nowMs: Date.now(),
      }),
    decode: (rpc, envelope) => decodePayload(rpc, envelope?.body ?? new Uint8Array()),
    durable: (entry) => watermarks.durable(entry),
    fail: (_rpc, err) =>
      err instanceof EnvelopeRejection
        ? rejection(err.code, err.message)
        : { code: grpc.status.INTERNAL, details: 'internal', metadata: new grpc.Metadata() },
    onRefused: (code) => refused.push(code),
    helloTimeoutMs: 100,
  });
  const unused = () => {
    throw new Error('not part of this test');
  };
  addService(server, VigoAgent, {
    checkIn: unused,
    reportResults: unused,
    resolveSecrets: unused,
    agentStream: (call) => streams.handle(call),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  client = createServiceClient(VigoAgent, `127.0.0.1:${port}`, grpc.credentials.createInsecure());
});
after(() => {
  client.close();
  server.forceShutdown();
  fixture.cleanup();
});

function ended(stream: ReturnType<typeof client.methods.agentStream>): Promise<grpc.StatusObject> {
  stream.on('error', () => undefined);
  return new Promise((resolve) => stream.on('status', resolve));
}

describe('agent streams', () => {
  it('end a stream with no Hello by its deadline, and free its place', async () => {
    const silent = Array.from({ length: 4 }, () => client.methods.agentStream());
    for (const status of await Promise.all(silent.map(ended))) {
      assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(errorCodeOf(status), 'stream.hello_required');
    }
    assert.deepEqual(refused, Array(4).fill('stream.hello_required'));
    // Had the four kept their places, a fifth would be refused with stream.pending_limit at once.
    const status = await ended(client.methods.agentStream());
    assert.equal(errorCodeOf(status), 'stream.hello_required');
  });
});
