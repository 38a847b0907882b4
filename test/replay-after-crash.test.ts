/**
 * The replay watermark survives kill -9: a signed request the server answered is refused as a replay after
 * an unclean restart, even when the write-behind flusher never ran, and the agent's next fresh request
 * is accepted at once.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEnvelopeClock, errorCodeOf, signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-replay-crash-');
// The flusher would persist the watermark too, eventually; an hour makes sure it never does here.
const options = { dataDir: temp.path, env: { VIGO_FLEET_FLUSH_INTERVAL: '1h' } };
let server: ReadyServer;
let agent: EnrolledAgent;
before(async () => {
  server = await startServer(options);
  agent = await enrollAgent(
    server,
    await createEnrollToken(server, ['crash-*.example.com']),
    'crash-1.example.com',
  );
});
after(async () => {
  if (server?.exitCode() === undefined) server.child.kill('SIGKILL');
  await server?.exited();
  temp.remove();
});

describe('replay after a crash', () => {
  it('refuses an answered request replayed after kill -9 and restart', async () => {
    const clock = createEnvelopeClock();
    const captured = signRequest('CheckIn', agent.signingKey, agent.envoyId, clock(), {
      agentVersion: 'test',
      hostname: agent.hostname,
    });
    const first = agentClient(server, agent);
    const answered = await first.methods.checkIn(captured);
    first.close();
    assert.equal(answered.outcome.case, 'bundle');

    server.child.kill('SIGKILL');
    await server.exited();
    server = await startServer(options);

    const client = agentClient(server, agent);
    try {
      const replay = await client.methods.checkIn(captured).then(
        () => undefined,
        (err: grpc.ServiceError) => ({ code: err.code, vigo: errorCodeOf(err) }),
      );
      assert.deepEqual(replay, { code: grpc.status.FAILED_PRECONDITION, vigo: 'checkin.replayed' });
      const fresh = await client.methods.checkIn(
        signRequest('CheckIn', agent.signingKey, agent.envoyId, clock(), { hostname: agent.hostname }),
      );
      assert.equal(fresh.outcome.case, 'bundle', 'the agent itself is not refused after the restart');
    } finally {
      client.close();
    }
  });
});
