/**
 * The connection model end to end: the real server start-up in this process (real TLS and gRPC on
 * loopback ports, a temp SQLite database) and the reference agent's own runner, connection and daemon.
 *
 * - held: one channel for good and a live AgentStream, back after a server restart;
 * - poll: a channel per check-in, closed afterwards, resuming the TLS session; after a ticket-key
 *   rotation within the grace it still resumes, beyond it a full handshake and the agent works on;
 * - promotion: FleetIndex.requestStream → the next reply says open_stream → the agent's stream arrives
 *   and is registered for that envoy → it is released once idle, and the channel with it;
 * - an operator switching the fleet between the modes with one setting.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAgentRunner } from '../agent/runtime/agent-runner.ts';
import type { AgentRunner, CycleResult } from '../agent/runtime/agent-runner.ts';
import type { AgentConnection } from '../agent/runtime/connection.ts';
import { runDaemon } from '../agent/runtime/daemon.ts';
import { silentLogger } from '../server/core/index.ts';
import { waitFor } from './helpers/deadline.ts';
import { enrollReferenceAgent, fixedTraits, startInProcessServer } from './helpers/in-process-server.ts';
import type { InProcessServer } from './helpers/in-process-server.ts';
import { makeTempDir } from './helpers/server-process.ts';

const temps: { remove(): void }[] = [];
const servers: InProcessServer[] = [];
const runners: AgentRunner[] = [];
/** Stream reopening fast enough for a test; the product waits 1 s, then backs off to 60 s. */
const fastStreams = { reopenInitialMs: 100, reopenMaxMs: 500 };

after(async () => {
  for (const runner of runners) runner.close();
  for (const server of servers) await server.stop();
  for (const temp of temps) temp.remove();
});

async function serverWith(env: Record<string, string>): Promise<InProcessServer> {
  const dir = makeTempDir('vigo-conn-srv-');
  temps.push(dir);
  const server = await startInProcessServer({ dataDir: dir.path, env });
  servers.push(server);
  return server;
}

async function enrolled(server: InProcessServer, hostname: string) {
  const dir = makeTempDir('vigo-conn-agent-');
  temps.push(dir);
  const token = await server.enrollToken([hostname]);
  return enrollReferenceAgent(server, token, hostname, join(dir.path, 'state'));
}

async function pollingRunner(server: InProcessServer, hostname: string) {
  const agent = await enrolled(server, hostname);
  const runner = createAgentRunner({
    ...agent,
    log: silentLogger,
    signal: new AbortController().signal,
    traits: fixedTraits,
    holdStreams: true,
    streamTimings: fastStreams,
  });
  runners.push(runner);
  return { runner, envoyId: agent.loaded.identity.envoyId };
}

function openConnections(server: InProcessServer): Promise<number> {
  return server.metric(/^vigo_grpc_connections_open (\d+)/m);
}

function streamOpen(server: InProcessServer, envoyId: string): boolean {
  return server.running.fleet.get(envoyId)?.streamOpen ?? false;
}

async function reachable(runner: AgentRunner): Promise<CycleResult> {
  const result = await runner.cycle(false);
  assert.equal(result.reachable, true, 'the agent reached the server');
  assert.equal(result.blockedReason, null);
  return result;
}

describe('held mode (the default)', () => {
  it('keeps one channel and a live stream, and has them back after a server restart', async () => {
    const server = await serverWith({ VIGO_CHECKIN_INTERVAL: '200ms' });
    const agent = await enrolled(server, 'held-1.example.com');
    const envoyId = agent.loaded.identity.envoyId;
    const stop = new AbortController();
    let cycles = 0;
    let connection: AgentConnection | undefined;
    const daemon = runDaemon({
      ...agent,
      log: silentLogger,
      signal: stop.signal,
      dryRun: false,
      traits: fixedTraits,
      startSpreadMs: 0,
      streamTimings: fastStreams,
      onCycle: (result, current) => {
        if (result.reachable) cycles += 1;
        connection = current;
      },
    });
    try {
      await waitFor('the stream to be registered for the envoy', () =>
        streamOpen(server, envoyId) ? true : undefined,
      );
      await waitFor('three check-ins', () => (cycles >= 3 ? true : undefined));
      assert.equal(connection?.mode, 'held');
      assert.deepEqual(connection.sessions.handshakes, { full: 1, resumed: 0 }, 'one connection for all');
      assert.equal(await openConnections(server), 1);
      assert.equal(await server.metric(/^vigo_agent_streams_open (\d+)/m), 1);

      // The drain ends the held stream (server.draining) instead of waiting for it.
      await server.restart();
      assert.equal(streamOpen(server, envoyId), false, 'a new process knows no stream yet');
      await waitFor(
        'the stream to be back after the restart',
        () => (streamOpen(server, envoyId) ? true : undefined),
        20_000,
      );
      const after = cycles;
      await waitFor('a check-in after the restart', () => (cycles > after ? true : undefined), 20_000);
      assert.equal(connection.sessions.handshakes.full, 2, 'the restarted server has new ticket keys');
    } finally {
      stop.abort();
      await daemon;
    }
    await waitFor('the stream to end with the agent', () => (streamOpen(server, envoyId) ? undefined : true));
  });
});

describe('poll mode', () => {
  let server: InProcessServer;
  before(async () => {
    server = await serverWith({ VIGO_CHECKIN_CONNECTION: 'poll', VIGO_CHECKIN_STREAM_IDLE_RELEASE: '1s' });
  });

  it('connects for each check-in, closes afterwards and resumes its TLS session', async () => {
    const { runner, envoyId } = await pollingRunner(server, 'poll-1.example.com');
    const resumedBefore = await server.metric(/^vigo_grpc_tls_handshakes_total\{session="resumed"\} (\d+)/m);
    await reachable(runner);
    assert.equal(runner.connection.mode, 'poll');
    assert.equal(runner.connection.linkOpen, false, 'the channel closed after the cycle');
    await waitFor('the server to see the connection close', async () =>
      (await openConnections(server)) === 0 ? true : undefined,
    );
    await reachable(runner);
    await reachable(runner);
    assert.deepEqual(runner.connection.sessions.handshakes, { full: 1, resumed: 2 });
    assert.equal(
      (await server.metric(/^vigo_grpc_tls_handshakes_total\{session="resumed"\} (\d+)/m)) - resumedBefore,
      2,
      'the server resumed them too',
    );
    assert.equal(streamOpen(server, envoyId), false, 'no stream unless asked');
    assert.equal(runner.connection.streamKept, false);
  });

  it('resumes after one ticket-key rotation, and after two does a full handshake and works on', async () => {
    const { runner } = await pollingRunner(server, 'poll-2.example.com');
    await reachable(runner);
    server.running.rotateTicketKeys();
    await reachable(runner);
    assert.deepEqual(runner.connection.sessions.handshakes, { full: 1, resumed: 1 }, 'within the grace');
    server.running.rotateTicketKeys();
    server.running.rotateTicketKeys();
    await reachable(runner);
    assert.deepEqual(runner.connection.sessions.handshakes, { full: 2, resumed: 1 }, 'beyond it');
    await reachable(runner);
    assert.deepEqual(runner.connection.sessions.handshakes, { full: 2, resumed: 2 }, 'and resumes again');
  });

  it('opens its stream when the server has work, registered for the envoy, and releases it when idle', async () => {
    const { runner, envoyId } = await pollingRunner(server, 'poll-3.example.com');
    await reachable(runner);
    assert.equal(server.running.fleet.requestStream(envoyId), 'requested');
    await reachable(runner);
    assert.equal(runner.connection.streamKept, true, 'the reply said open_stream');
    assert.equal(runner.connection.linkOpen, true, 'the stream keeps the channel open');
    await waitFor('the stream to be registered for the envoy', () =>
      streamOpen(server, envoyId) ? true : undefined,
    );
    assert.equal(server.running.fleet.requestStream(envoyId), 'open');
    assert.equal(await server.metric(/^vigo_agent_streams_open (\d+)/m), 1);
    // checkin.stream_idle_release is 1s and the server sends nothing on the stream.
    await waitFor('the idle stream to be released', () => (streamOpen(server, envoyId) ? undefined : true));
    await waitFor('the channel to close with it', () => (runner.connection.linkOpen ? undefined : true));
    await waitFor('the server to see the connection close', async () =>
      (await openConnections(server)) === 0 ? true : undefined,
    );
    assert.equal(runner.connection.streamKept, false);
    await reachable(runner);
    assert.equal(runner.connection.streamKept, false, 'nothing asked, nothing opened');
  });

  it('works on after a server restart, with a full handshake', async () => {
    const { runner } = await pollingRunner(server, 'poll-4.example.com');
    await reachable(runner);
    await server.restart();
    await reachable(runner);
    await reachable(runner);
    assert.deepEqual(runner.connection.sessions.handshakes, { full: 2, resumed: 1 });
  });
});

describe('checkin.connection', () => {
  it('switches the fleet between held and poll from one setting', async () => {
    const server = await serverWith({});
    const { runner, envoyId } = await pollingRunner(server, 'switch-1.example.com');
    await reachable(runner);
    await waitFor('the held stream', () => (streamOpen(server, envoyId) ? true : undefined));
    assert.equal(runner.connection.linkOpen, true);

    server.view.current = { ...server.view.current, 'checkin.connection': 'poll' };
    await reachable(runner);
    assert.equal(runner.connection.mode, 'poll');
    assert.equal(runner.connection.streamKept, false);
    assert.equal(runner.connection.linkOpen, false);
    await waitFor('the stream to end', () => (streamOpen(server, envoyId) ? undefined : true));

    server.view.current = { ...server.view.current, 'checkin.connection': 'held' };
    await reachable(runner);
    assert.equal(runner.connection.mode, 'held');
    await waitFor('the held stream again', () => (streamOpen(server, envoyId) ? true : undefined));
    assert.equal(runner.connection.linkOpen, true);
  });
});
