import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import {
  AgentStreamResponseSchema,
  TaskStatus,
  VigoAgent,
  addService,
  createEnvelopeClock,
  createServiceClient,
  decodePayload,
  errorCodeOf,
  protocolLimits,
  signRequest,
} from '../../protocol/index.ts';
import type { AgentStreamResponse } from '../../protocol/index.ts';
import { silentLogger } from '../core/index.ts';
import { FleetIndex } from '../fleet/index.ts';
import { createAgentStreams } from './agent-stream.ts';
import type { AgentStreams } from './agent-stream.ts';
import { rejection } from './rejection.ts';
import { storeWithEnvoy } from './test-fixtures.ts';
import { EnvelopeRejection, peerFingerprint, verifyEnvelope } from './verify.ts';
import { createWatermarkCommitter } from './watermark-committer.ts';

const fixture = storeWithEnvoy();
const server = new grpc.Server();
const refused: string[] = [];
let client: ReturnType<typeof createServiceClient<(typeof VigoAgent)['method']>>;
let index: FleetIndex;
let streams: AgentStreams;

before(async () => {
  index = FleetIndex.load(fixture.store.db);
  const watermarks = createWatermarkCommitter({ store: fixture.store, log: silentLogger, maxDelayMs: 1 });
  streams = createAgentStreams({
    index,
    now: Date.now,
    // The channel below has no TLS: a stream without a certificate stands for the fixture's envoy, so
    // that Hellos verify. Identity binding itself is verify.ts's (and its tests').
    verify: (rpc, envelope, call) =>
      verifyEnvelope(rpc, envelope, peerFingerprint(call) ?? fixture.certFingerprintHex, {
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

const clock = createEnvelopeClock();

function hello(): ReturnType<typeof signRequest<'AgentStream'>> {
  return signRequest('AgentStream', fixture.privateKey, fixture.envoyId, clock(), {
    kind: { case: 'hello', value: { agentVersion: 'test', policyVersion: 0n } },
  });
}

function entry() {
  const found = index.get(fixture.envoyId);
  assert.ok(found);
  return found;
}

function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

describe('an envoy stream after its Hello', () => {
  it("marks the envoy's stream open and clears the server's wish for it, until it ends", async () => {
    assert.equal(index.requestStream(fixture.envoyId), 'requested');
    const stream = client.methods.agentStream();
    const status = ended(stream);
    stream.write(hello());
    await until('the Hello to take effect', () => entry().streamOpen);
    assert.equal(entry().streamRequested, false);
    assert.equal(streams.openCount(), 1);
    assert.equal(index.requestStream(fixture.envoyId), 'open');
    stream.end();
    await status;
    await until('the stream to be forgotten', () => !entry().streamOpen);
    assert.equal(streams.openCount(), 0);
  });

  it('keeps the envoy marked open when a newer stream replaces the older', async () => {
    const older = client.methods.agentStream();
    const olderStatus = ended(older);
    older.write(hello());
    await until('the first stream to open', () => entry().streamOpen);
    const newer = client.methods.agentStream();
    const newerStatus = ended(newer);
    newer.write(hello());
    assert.equal(errorCodeOf(await olderStatus), 'stream.replaced');
    assert.equal(entry().streamOpen, true);
    assert.equal(streams.openCount(), 1);
    newer.end();
    await newerStatus;
    await until('the stream to be forgotten', () => !entry().streamOpen);
  });

  it('carries work both ways: send reaches the open stream, results reach attached handlers in order', async () => {
    const heard: string[] = [];
    const detach = streams.attach({
      opened: (e) => heard.push(`opened ${e.id}`),
      taskResult: (_e, r) => heard.push(`task ${r.taskId} ${r.exitCode}`),
      queryResult: (_e, r) => heard.push(`query ${r.queryId} ${Buffer.from(r.valueJson).toString()}`),
      closed: (e) => heard.push(`closed ${e.id}`),
    });
    assert.equal(streams.send(fixture.envoyId, create(AgentStreamResponseSchema, {})), false);
    const stream = client.methods.agentStream();
    const status = ended(stream);
    const received: AgentStreamResponse[] = [];
    stream.on('data', (message: AgentStreamResponse) => received.push(message));
    stream.write(hello());
    await until('the stream to open', () => streams.isOpen(fixture.envoyId));
    const ping = create(AgentStreamResponseSchema, { kind: { case: 'ping', value: { pingId: 7n } } });
    assert.equal(streams.send(fixture.envoyId, ping), true);
    await until('the ping to arrive', () => received.length === 1);
    assert.equal(received[0]?.kind.case, 'ping');
    const taskId = '0b6e2c4a-8f1d-4e5b-9a7c-3d2e1f0a9b8c';
    const queryId = '1c7f3d5b-9a2e-4f6c-8b8d-4e3f2a1b0c9d';
    stream.write(
      signRequest('AgentStream', fixture.privateKey, fixture.envoyId, clock(), {
        kind: { case: 'taskResult', value: { taskId, status: TaskStatus.SUCCEEDED, exitCode: 0 } },
      }),
    );
    stream.write(
      signRequest('AgentStream', fixture.privateKey, fixture.envoyId, clock(), {
        kind: { case: 'queryResult', value: { queryId, valueJson: Buffer.from('"24.04"') } },
      }),
    );
    await until('both results to be heard', () => heard.length === 3);
    stream.end();
    await status;
    await until('the close to be heard', () => heard.length === 4);
    detach();
    assert.deepEqual(heard, [
      `opened ${fixture.envoyId}`,
      `task ${taskId} 0`,
      `query ${queryId} "24.04"`,
      `closed ${fixture.envoyId}`,
    ]);
  });

  it('ends a stream whose task result breaks its limits, and hands nothing of it on', async () => {
    const heard: string[] = [];
    const detach = streams.attach({ taskResult: (_e, r) => heard.push(r.taskId) });
    const stream = client.methods.agentStream();
    const status = ended(stream);
    stream.write(hello());
    await until('the stream to open', () => streams.isOpen(fixture.envoyId));
    stream.write(
      signRequest('AgentStream', fixture.privateKey, fixture.envoyId, clock(), {
        kind: {
          case: 'taskResult',
          value: {
            taskId: '2d8a4e6c-0b3f-4a7d-9c9e-5f4a3b2c1d0e',
            status: TaskStatus.FAILED,
            stdout: Buffer.alloc(protocolLimits.taskOutputMaxBytes + 1, 0x61),
          },
        },
      }),
    );
    const ending = await status;
    detach();
    assert.equal(errorCodeOf(ending), 'checkin.payload_invalid');
    assert.match(ending.details, /stdout is 65537 bytes; the limit is 65536/);
    assert.deepEqual(heard, []);
  });

  it('ends every stream with server.draining on drain, and refuses new ones', async () => {
    const open = client.methods.agentStream();
    const openStatus = ended(open);
    open.write(hello());
    await until('the stream to open', () => entry().streamOpen);
    const waiting = client.methods.agentStream();
    const waitingStatus = ended(waiting);
    streams.drain();
    for (const status of await Promise.all([openStatus, waitingStatus])) {
      assert.equal(status.code, grpc.status.UNAVAILABLE);
      assert.equal(errorCodeOf(status), 'server.draining');
    }
    assert.equal(entry().streamOpen, false);
    assert.equal(errorCodeOf(await ended(client.methods.agentStream())), 'server.draining');
  });
});
