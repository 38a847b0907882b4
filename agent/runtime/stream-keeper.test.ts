/**
 * The agent's stream keeper against a grpc-js server that plays the server's side of AgentStream: what
 * the agent sends (Hello first, heartbeats, answers to Ping), what it does with ForcePush, reopening a
 * held stream, and releasing a stream it was asked to open once the server has gone quiet.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentStreamResponseSchema, VigoAgent, addService, decodePayload } from '../../protocol/index.ts';
import type { AgentStreamRequest, AgentStreamResponse, PayloadOf } from '../../protocol/index.ts';
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { silentLogger } from '../../server/core/index.ts';
import type { ServerLink } from './server-link.ts';
import { linkToTestServer } from './server-link.fixture.ts';
import { StreamKeeper } from './stream-keeper.ts';

type ServerStream = grpc.ServerDuplexStream<AgentStreamRequest, AgentStreamResponse>;

interface Opened {
  readonly call: ServerStream;
  readonly received: PayloadOf<'AgentStream'>['kind'][];
  ended: boolean;
}

const server = new grpc.Server();
const opened: Opened[] = [];
let link: ServerLink;

before(async () => {
  const unused = () => {
    throw new Error('not part of this test');
  };
  addService(server, VigoAgent, {
    checkIn: unused,
    reportResults: unused,
    resolveSecrets: unused,
    agentStream: (call: ServerStream) => {
      const entry: Opened = { call, received: [], ended: false };
      opened.push(entry);
      call.on('data', (request: AgentStreamRequest) =>
        entry.received.push(decodePayload('AgentStream', request.envelope?.body ?? new Uint8Array()).kind),
      );
      const end = (): void => {
        entry.ended = true;
      };
      call.on('cancelled', end);
      call.on('end', end);
      call.on('error', end);
    },
  });
  link = await linkToTestServer(server, 'keeper.example.com');
});

after(() => {
  link.close();
  server.forceShutdown();
});

function until<T>(what: string, check: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 10_000;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      const value = check();
      if (value !== undefined) resolve(value);
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

function send(stream: Opened, kind: MessageInitShape<typeof AgentStreamResponseSchema>['kind']): void {
  stream.call.write(create(AgentStreamResponseSchema, { kind }));
}

function keeper(
  releaseAfterMs: number | undefined,
  events: { forcePushes: string[]; traces?: string[]; released: number },
): StreamKeeper {
  return new StreamKeeper(
    {
      link,
      log: silentLogger,
      timings: { heartbeatMs: 50, reopenInitialMs: 20, reopenMaxMs: 100 },
      policyVersion: () => 7,
      onForcePush: (reason, traceparent) => {
        events.forcePushes.push(reason);
        events.traces?.push(traceparent);
      },
      onReleased: () => (events.released += 1),
    },
    releaseAfterMs,
  );
}

describe('StreamKeeper', () => {
  it('says Hello first, sends heartbeats, answers a Ping and passes on a ForcePush with its trace', async () => {
    const events = { forcePushes: [] as string[], traces: [] as string[], released: 0 };
    const held = keeper(undefined, events);
    try {
      const stream = await until('the stream', () => opened.at(-1));
      const first = await until('the Hello', () => stream.received[0]);
      assert.equal(first.case, 'hello');
      assert.equal(first.value?.$typeName, 'vigo.agent.v1.Hello');
      if (first.case === 'hello') assert.equal(first.value.policyVersion, 7n);
      await until('two heartbeats', () =>
        stream.received.filter((k) => k.case === 'heartbeat').length >= 2 ? true : undefined,
      );
      send(stream, { case: 'ping', value: { pingId: 42n } });
      await until('the answer to the Ping', () =>
        stream.received.some((k) => k.case === 'heartbeat' && k.value.pingId === 42n) ? true : undefined,
      );
      send(stream, { case: 'forcePush', value: { reason: 'policy changed' } });
      await until('the ForcePush', () => events.forcePushes[0]);
      assert.deepEqual(events.forcePushes, ['policy changed']);
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      send(stream, { case: 'forcePush', value: { reason: 'traced', traceparent } });
      send(stream, { case: 'forcePush', value: { reason: 'bad trace', traceparent: 'not-a-trace' } });
      await until('both ForcePushes', () => events.forcePushes[2]);
      assert.deepEqual(events.traces, ['', traceparent, ''], 'a malformed traceparent is passed on as none');
    } finally {
      held.stop();
    }
    await until('the stream to end on stop', () => (opened.at(-1)?.ended === true ? true : undefined));
  });

  it('opens a held stream again when the server ends it', async () => {
    const events = { forcePushes: [] as string[], released: 0 };
    const held = keeper(undefined, events);
    try {
      const first = await until('the stream', () => opened.at(-1));
      await until('its Hello', () => first.received[0]);
      first.call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'server.draining: stopping' });
      const second = await until('a new stream', () => (opened.at(-1) !== first ? opened.at(-1) : undefined));
      assert.equal((await until('a new Hello', () => second.received[0])).case, 'hello');
      assert.equal(held.open, true);
      assert.equal(events.released, 0);
    } finally {
      held.stop();
    }
  });

  it('releases a stream it was asked to open once the server sends nothing, and not before', async () => {
    const events = { forcePushes: [] as string[], released: 0 };
    const count = opened.length;
    keeper(1500, events);
    const stream = await until('the stream', () => opened[count]);
    // Messages from the server keep it: each one starts the idle time over.
    for (let i = 0; i < 4; i += 1) {
      send(stream, { case: 'ping', value: { pingId: BigInt(i + 1) } });
      await until(`the answer to ping ${i + 1}`, () =>
        stream.received.some((k) => k.case === 'heartbeat' && k.value.pingId === BigInt(i + 1))
          ? true
          : undefined,
      );
      assert.equal(events.released, 0);
    }
    await until('the release', () => (events.released === 1 ? true : undefined));
    await until('the server to see it end', () => (stream.ended ? true : undefined));
    assert.equal(opened.length, count + 1, 'a released stream is not opened again');
  });
});
