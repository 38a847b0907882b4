/**
 * The agent contract of agent.proto against the real vigosrv over mTLS, for what a client written from the
 * .proto alone may send: bytes that are not protobuf, payloads that break a documented limit, and the
 * CheckIn answers the .proto promises. Every refusal carries its status and stable code and stores nothing.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCodeOf } from '../protocol/index.ts';
import { createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-contract-');
let server: ReadyServer;
let web: EnrolledAgent;
before(async () => {
  server = await startServer({ dataDir: temp.path });
  const token = await createEnrollToken(server, ['*.example.com'], 20);
  web = await enrollAgent(server, token, 'web-1.example.com');
});
after(async () => {
  await server?.stop();
  temp.remove();
});

function rawClient(agent: EnrolledAgent): grpc.Client {
  return new grpc.Client(
    `127.0.0.1:${server.grpcPort}`,
    grpc.credentials.createSsl(
      Buffer.from(server.ca),
      Buffer.from(agent.tlsKeyPem),
      Buffer.from(agent.certPem),
    ),
  );
}

const same = (bytes: Buffer): Buffer => bytes;

function status(err: grpc.ServiceError | grpc.StatusObject | null): {
  code: number;
  vigo: string | undefined;
} {
  assert.ok(err !== null, 'the call was refused');
  return { code: err.code, vigo: errorCodeOf(err) };
}

describe('bytes that are not protobuf', () => {
  const garbage = Buffer.from([0xff, 0xff, 0xff]);
  const payloadInvalid = { code: grpc.status.INVALID_ARGUMENT, vigo: 'checkin.payload_invalid' };

  it('answer INVALID_ARGUMENT checkin.payload_invalid on every unary RPC, never INTERNAL', async () => {
    const client = rawClient(web);
    try {
      for (const rpc of ['CheckIn', 'ReportResults', 'ResolveSecrets']) {
        const err = await new Promise<grpc.ServiceError | null>((resolve) =>
          client.makeUnaryRequest(`/vigo.agent.v1.VigoAgent/${rpc}`, same, same, garbage, (e) => resolve(e)),
        );
        assert.deepEqual(status(err), payloadInvalid, rpc);
      }
    } finally {
      client.close();
    }
  });

  it('end an AgentStream with INVALID_ARGUMENT checkin.payload_invalid', async () => {
    const client = rawClient(web);
    try {
      const stream = client.makeBidiStreamRequest('/vigo.agent.v1.VigoAgent/AgentStream', same, same);
      const ended = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
      stream.on('error', () => undefined);
      stream.write(garbage);
      assert.deepEqual(status(await ended), payloadInvalid);
    } finally {
      client.close();
    }
  });
});
