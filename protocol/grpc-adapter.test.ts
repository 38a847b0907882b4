import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { create, createFileRegistry, toBinary } from '@bufbuild/protobuf';
import type { DescService, Message } from '@bufbuild/protobuf';
import type { GenService } from '@bufbuild/protobuf/codegenv2';
import {
  FileDescriptorProtoSchema,
  Int64ValueSchema,
  file_google_protobuf_wrappers,
} from '@bufbuild/protobuf/wkt';
import {
  AgentStreamResponseSchema,
  CheckInResponseSchema,
  VigoAgent,
  decodePayload,
  errorCodeOf,
  errorStatusMessage,
  errorStatusMetadata,
  signRequest,
  verifyEnvelopeSignature,
} from './index.ts';
import type { AgentStreamRequest, AgentStreamResponse, CheckInRequest, CheckInResponse } from './index.ts';
import { addService, createServiceClient, toGrpcService, undecodableReason } from './grpc-adapter.ts';
import type { ServiceImplementation } from './grpc-adapter.ts';

const agentKey = generateKeyPairSync('ed25519');
const envoyId = '0b7c6f0e-2d4f-4c61-8a1e-5c0f3e9d2a77';

function unimplemented(call: { getPath(): string }): never {
  throw new Error(`the test did not expect a call to ${call.getPath()}`);
}

/** A server that checks every envelope the way the real one does, minus the fleet lookups. */
function agentImplementation(seen: CheckInRequest[]): ServiceImplementation<(typeof VigoAgent)['method']> {
  return {
    checkIn(call, callback) {
      seen.push(call.request);
      if (!verifyEnvelopeSignature(agentKey.publicKey, 'CheckIn', call.request.envelope)) {
        callback({
          code: grpc.status.UNAUTHENTICATED,
          details: errorStatusMessage('checkin.bad_signature', 'the envelope signature does not verify'),
          metadata: errorStatusMetadata('checkin.bad_signature'),
        });
        return;
      }
      const payload = decodePayload('CheckIn', call.request.envelope!.body);
      callback(null, noChangeResponse(payload.policyVersion));
    },
    reportResults: unimplemented,
    resolveSecrets: unimplemented,
    agentStream(call) {
      call.on('data', (request: AgentStreamRequest) => {
        if (!verifyEnvelopeSignature(agentKey.publicKey, 'AgentStream', request.envelope)) {
          call.destroy(new Error('bad stream signature'));
          return;
        }
        const payload = decodePayload('AgentStream', request.envelope!.body);
        if (payload.kind.case === 'hello') {
          call.write(create(AgentStreamResponseSchema, { kind: { case: 'ping', value: { pingId: 41n } } }));
        } else if (payload.kind.case === 'heartbeat' && payload.kind.value.pingId === 41n) {
          call.end();
        }
      });
    },
  };
}

function noChangeResponse(policyVersion: bigint): CheckInResponse {
  return create(CheckInResponseSchema, {
    outcome: { case: 'noChange', value: {} },
    policyVersion,
    intervalMs: 300_000,
    observeOnly: false,
    sendTraits: false,
    serverTimeMs: BigInt(Date.now()),
    secretsEpoch: 17n,
  });
}

function listen(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    );
  });
}

describe('toGrpcService', () => {
  it('maps every RPC of VigoAgent to its path and streaming flags', () => {
    const definition = toGrpcService(VigoAgent);
    assert.deepEqual(Object.keys(definition).sort(), [
      'agentStream',
      'checkIn',
      'reportResults',
      'resolveSecrets',
    ]);
    assert.equal(definition.checkIn!.path, '/vigo.agent.v1.VigoAgent/CheckIn');
    assert.equal(definition.checkIn!.originalName, 'CheckIn');
    assert.deepEqual([definition.checkIn!.requestStream, definition.checkIn!.responseStream], [false, false]);
    assert.equal(definition.agentStream!.path, '/vigo.agent.v1.VigoAgent/AgentStream');
    assert.deepEqual(
      [definition.agentStream!.requestStream, definition.agentStream!.responseStream],
      [true, true],
    );
  });

  it('refuses to serialize a message of the wrong type or over the size limit', () => {
    const definition = toGrpcService(VigoAgent, { maxMessageBytes: 16 });
    const wrong = create(CheckInResponseSchema);
    assert.throws(
      () => definition.checkIn!.requestSerialize(wrong),
      /expected a vigo\.agent\.v1\.CheckInRequest/,
    );
    const big = signRequest('CheckIn', agentKey.privateKey, envoyId, 1n, { hostname: 'h' });
    assert.throws(() => definition.checkIn!.requestSerialize(big), /limit is 16/);
    const standIn = definition.checkIn!.requestDeserialize(Buffer.alloc(17)) as Message;
    assert.match(undecodableReason(standIn) ?? '', /limit is 16/);
  });

  it('turns request bytes that do not decode into a marked stand-in, never an exception', () => {
    const definition = toGrpcService(VigoAgent);
    const standIn = definition.checkIn!.requestDeserialize(Buffer.from([0xff, 0xff, 0xff])) as Message;
    assert.equal(standIn.$typeName, 'vigo.agent.v1.CheckInRequest');
    assert.notEqual(undecodableReason(standIn), undefined);
    const real = signRequest('CheckIn', agentKey.privateKey, envoyId, 1n, { hostname: 'h' });
    const decoded = definition.checkIn!.requestDeserialize(
      definition.checkIn!.requestSerialize(real),
    ) as Message;
    assert.equal(undecodableReason(decoded), undefined);
  });
});

describe('VigoAgent over a real grpc-js server', () => {
  const seen: CheckInRequest[] = [];
  const server = new grpc.Server();
  let client: ReturnType<typeof createServiceClient<(typeof VigoAgent)['method']>>;
  let port: number;

  before(async () => {
    addService(server, VigoAgent, agentImplementation(seen));
    port = await listen(server);
    client = createServiceClient(VigoAgent, `127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(() => {
    client.close();
    server.forceShutdown();
  });

  it('round-trips a signed CheckIn that the server verifies', async (t) => {
    const request = signRequest('CheckIn', agentKey.privateKey, envoyId, Date.now(), {
      agentVersion: '0.1.0',
      hostname: 'web-01',
      policyVersion: 1234n,
      traitsHash: 'a'.repeat(64),
    });
    const response = await client.methods.checkIn(request);
    assert.equal(response.outcome.case, 'noChange');
    assert.equal(response.policyVersion, 1234n);
    assert.equal(response.intervalMs, 300_000);
    assert.equal(seen.at(-1)?.envelope?.envoyId, envoyId);
    const sizeBytes = toBinary(CheckInResponseSchema, response).length;
    t.diagnostic(`no-change CheckInResponse: ${sizeBytes} bytes on the wire`);
    assert.ok(sizeBytes < 128, `a no-change reply must stay small, got ${sizeBytes} bytes`);
  });

  it('carries the stable error code of a refused envelope back to the client', async () => {
    const request = signRequest('CheckIn', agentKey.privateKey, envoyId, Date.now(), { policyVersion: 1n });
    request.envelope!.tsMs += 1n;
    await assert.rejects(client.methods.checkIn(request), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.UNAUTHENTICATED);
      assert.equal(errorCodeOf(err), 'checkin.bad_signature');
      return true;
    });
  });

  it('streams: the agent says hello, the server pings, the heartbeat closes the exchange', async () => {
    const call = client.methods.agentStream();
    const received: AgentStreamResponse[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('error', reject);
      call.on('end', resolve);
    });
    call.on('data', (message: AgentStreamResponse) => {
      received.push(message);
      if (message.kind.case === 'ping') {
        const pingId = message.kind.value.pingId;
        call.write(
          signRequest('AgentStream', agentKey.privateKey, envoyId, Date.now() + 1, {
            kind: { case: 'heartbeat', value: { pingId } },
          }),
        );
        call.end();
      }
    });
    call.write(
      signRequest('AgentStream', agentKey.privateKey, envoyId, Date.now(), {
        kind: { case: 'hello', value: { agentVersion: '0.1.0', policyVersion: 1234n } },
      }),
    );
    await ended;
    assert.equal(received.length, 1);
    assert.equal(received[0]!.kind.case, 'ping');
  });

  it('answers request bytes that are not protobuf with INVALID_ARGUMENT, unary and streaming', async () => {
    const raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const same = (bytes: Buffer): Buffer => bytes;
    const garbage = Buffer.from([0xff, 0xff, 0xff]);
    try {
      const unary = await new Promise<grpc.ServiceError | null>((resolve) =>
        raw.makeUnaryRequest('/vigo.agent.v1.VigoAgent/CheckIn', same, same, garbage, (err) => resolve(err)),
      );
      assert.equal(unary?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(unary?.details ?? '', /not a valid vigo\.agent\.v1\.CheckInRequest/);

      const stream = raw.makeBidiStreamRequest('/vigo.agent.v1.VigoAgent/AgentStream', same, same);
      const ended = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
      stream.on('error', () => undefined);
      stream.write(garbage);
      assert.equal((await ended).code, grpc.status.INVALID_ARGUMENT);
    } finally {
      raw.close();
    }
  });

  it('cancels a call when its signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    const request = signRequest('CheckIn', agentKey.privateKey, envoyId, Date.now(), {});
    await assert.rejects(
      client.methods.checkIn(request, { signal: controller.signal }),
      (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.CANCELLED);
        return true;
      },
    );
  });
});

// VigoAgent has no one-directional streams; a small runtime-built service covers the other two kinds.
const streamsFile = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: 'vigo/test/v1/streams.proto',
    package: 'vigo.test.v1',
    syntax: 'proto3',
    dependency: ['google/protobuf/wrappers.proto'],
    service: [
      {
        name: 'Streams',
        method: [
          {
            name: 'Count',
            inputType: '.google.protobuf.Int64Value',
            outputType: '.google.protobuf.Int64Value',
            serverStreaming: true,
          },
          {
            name: 'Sum',
            inputType: '.google.protobuf.Int64Value',
            outputType: '.google.protobuf.Int64Value',
            clientStreaming: true,
          },
        ],
      },
    ],
  }),
  (name) => (name === 'google/protobuf/wrappers.proto' ? file_google_protobuf_wrappers : undefined),
);
type Int64 = typeof Int64ValueSchema;
const Streams = streamsFile.getService('vigo.test.v1.Streams') as DescService as GenService<{
  count: { methodKind: 'server_streaming'; input: Int64; output: Int64 };
  sum: { methodKind: 'client_streaming'; input: Int64; output: Int64 };
}>;

describe('server- and client-streaming methods', () => {
  const server = new grpc.Server();
  let client: ReturnType<typeof createServiceClient<(typeof Streams)['method']>>;
  let port: number;

  before(async () => {
    addService(server, Streams, {
      count(call) {
        for (let i = 1n; i <= call.request.value; i++) call.write(create(Int64ValueSchema, { value: i }));
        call.end();
      },
      sum(call, callback) {
        let total = 0n;
        call.on('data', (message: { value: bigint }) => (total += message.value));
        call.on('end', () => callback(null, create(Int64ValueSchema, { value: total })));
      },
    });
    port = await listen(server);
    client = createServiceClient(Streams, `127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(() => {
    client.close();
    server.forceShutdown();
  });

  it('serves a server stream', async () => {
    const values: bigint[] = [];
    for await (const message of client.methods.count({ value: 3n }))
      values.push((message as { value: bigint }).value);
    assert.deepEqual(values, [1n, 2n, 3n]);
  });

  it('serves a client stream', async () => {
    const { call, response } = client.methods.sum();
    for (const value of [5n, 7n, 30n]) call.write(create(Int64ValueSchema, { value }));
    call.end();
    assert.equal((await response).value, 42n);
  });

  it('refuses a client stream whose message does not decode, before the handler sees it', async () => {
    const raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const same = (bytes: Buffer): Buffer => bytes;
    try {
      const err = await new Promise<grpc.ServiceError | null>((resolve) => {
        const call = raw.makeClientStreamRequest('/vigo.test.v1.Streams/Sum', same, same, (e) => resolve(e));
        call.write(Buffer.from([0xff, 0xff]));
        call.end();
      });
      assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    } finally {
      raw.close();
    }
  });
});
