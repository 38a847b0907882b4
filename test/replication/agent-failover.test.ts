/**
 * A real agent (bin/vigo daemon) enrolled with the primary of a pair learns both servers from its check-in
 * replies; when the primary is killed and the standby promoted it moves to the new primary and checks in
 * there, and a fenced old primary answers its agent port with a redirect the agent follows.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { AgentDaemon } from '../helpers/agent-daemon.ts';
import { runVigo, startAgentDaemon } from '../helpers/agent-daemon.ts';
import type { ReadyServer, ServerProcess } from '../helpers/server-process.ts';
import { makeTempDir } from '../helpers/server-process.ts';
import type { Pair, PeerSetup } from './pair.ts';
import { adminCall, makePair, readyAs, spawnPeer, waitFor } from './pair.ts';

describe('agent failover', () => {
  let pair: Pair | undefined;
  const procs: ServerProcess[] = [];
  let agent: AgentDaemon | undefined;
  const home = makeTempDir('vigo-agent-home-');

  after(async () => {
    await agent?.stop();
    for (const proc of procs)
      if (proc.exitCode() === undefined) {
        proc.child.kill('SIGKILL');
        await proc.exited();
      }
    pair?.remove();
    home.remove();
  });

  const lastSeen = async (peer: PeerSetup, ca: string, envoyId: string): Promise<number> => {
    const res = await adminCall(peer, ca, 'GET', `/api/v1/envoys/${envoyId}`);
    assert.equal(res.status, 200, res.body);
    const seen = (JSON.parse(res.body) as { lastSeenAt: string | null }).lastSeenAt;
    return seen === null ? 0 : Date.parse(seen);
  };

  it('moves to the promoted standby, and follows the fenced old primary redirect', async () => {
    pair = await makePair(200, ['checkin:', '  interval: 1s']);
    const a = spawnPeer(pair.a);
    procs.push(a);
    const { ca } = await readyAs(a, 'primary');
    const b = spawnPeer(pair.b);
    procs.push(b);
    await readyAs(b, 'standby');
    const token = await adminCall(pair.a, ca, 'POST', '/api/v1/enroll/tokens', { hostnameGlobs: ['*.test'] });
    assert.equal(token.status, 201, token.body);
    const server = { apiPort: pair.a.apiPort, dataDir: pair.a.dataDir } as ReadyServer;
    agent = await startAgentDaemon(server, {
      hostname: 'web-1.test',
      enrollToken: (JSON.parse(token.body) as { token: string }).token,
      home: home.path,
    });
    const addressB = `127.0.0.1:${pair.b.grpcPort}`;
    await waitFor('the agent to learn both servers', () => {
      try {
        const servers = JSON.parse(readFileSync(join(agent!.stateDir, 'servers.json'), 'utf8')) as string[];
        return servers.includes(addressB) ? servers : undefined;
      } catch {
        return undefined;
      }
    });
    const envoyId = agent.envoyId;
    // The standby holds the envoy once a batch after its enrollment is acknowledged.
    await waitFor('the standby to hold the envoy', async () => {
      const res = await adminCall(pair!.a, ca, 'GET', '/api/v1/server/replication');
      const standbys = (JSON.parse(res.body) as { standbys: { ackedTakenAtMs?: number }[] }).standbys;
      return (standbys[0]?.ackedTakenAtMs ?? 0) > Date.now() - 100 ? true : undefined;
    });

    a.child.kill('SIGKILL');
    await a.exited();
    const promoted = await adminCall(pair.b, ca, 'POST', '/api/v1/server/promote');
    assert.equal(promoted.status, 200, promoted.body);
    await readyAs(b, 'primary', 2);
    const promotedAt = Date.now();
    await waitFor(
      'the agent to check in with the new primary',
      async () => ((await lastSeen(pair!.b, ca, envoyId)) > promotedAt ? true : undefined),
      60_000,
    );
    assert.match(agent.log(), /moving to another server/);

    // The old primary returns fenced; an agent that dials it is redirected to the new primary.
    const a2 = spawnPeer(pair.a);
    procs.push(a2);
    await readyAs(a2, 'fenced');
    await agent.stop();
    // As the agent held the list before the failover: the old primary first.
    writeFileSync(
      join(agent.stateDir, 'servers.json'),
      JSON.stringify([`127.0.0.1:${pair.a.grpcPort}`, addressB]),
    );
    const before = Date.now();
    const once = await runVigo(agent.stateDir, home.path, ['run', '--once', '--dry-run']);
    assert.equal(once.code, 0, once.stderr);
    assert.ok((await lastSeen(pair.b, ca, envoyId)) >= before);
    assert.match(once.stderr + once.stdout, /not the primary/);
  });
});
