/**
 * A server whose stdout and stderr are /dev/full (every write fails with ENOSPC, as on a full disk), or
 * whose stderr pipe was closed by its reader (EPIPE), keeps serving: /healthz, enrollment and a signed
 * check-in answer, and SIGTERM still drains to exit 0.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import { httpsRequest } from './helpers/https-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import {
  freeLoopbackPort,
  makeTempDir,
  readyServer,
  spawnServer,
  startServer,
} from './helpers/server-process.ts';

const temp = makeTempDir('vigo-devfull-');
const pipeTemp = makeTempDir('vigo-epipe-');
const full = openSync('/dev/full', 'w');
let server: ReadyServer | undefined;
let pipeServer: ReadyServer | undefined;
after(async () => {
  await server?.stop();
  await pipeServer?.stop();
  closeSync(full);
  temp.remove();
  pipeTemp.remove();
});

/** Starts vigosrv with stdout and stderr on /dev/full; its logs are unreadable, so readiness is polled. */
async function startOnDevFull(): Promise<ReadyServer> {
  const [apiPort, grpcPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const proc = spawnServer({
    dataDir: temp.path,
    apiListen: `127.0.0.1:${apiPort}`,
    grpcListen: `127.0.0.1:${grpcPort}`,
    stdio: ['ignore', full, full],
  });
  const apiUrl = `https://127.0.0.1:${apiPort}`;
  const caFile = join(temp.path, 'tls', 'ca.crt');
  const ca = await waitFor(
    'vigosrv to answer /healthz with its stderr on /dev/full',
    async () => {
      if (proc.exitCode() !== undefined) throw new Error(`vigosrv exited with ${proc.exitCode()}`);
      try {
        const pem = readFileSync(caFile, 'utf8');
        const res = await httpsRequest(`${apiUrl}/healthz`, { ca: pem });
        return res.status === 200 ? pem : undefined;
      } catch {
        return undefined;
      }
    },
    30_000,
  );
  return readyServer(proc, { apiPort, grpcPort, ca });
}

describe('log writes that fail', () => {
  it('do not stop the server from answering, checking in and draining cleanly', async () => {
    server = await startOnDevFull();
    // Every request logs; an unknown route and a refused login log at warn level.
    assert.equal((await server.request('/no/such/route')).status, 404);
    const login = await server.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'nobody', password: 'wrong password here' }),
    });
    assert.equal(login.status, 401);
    const token = await createEnrollToken(server, ['full-*.example.com']);
    const agent = await enrollAgent(server, token, 'full-1.example.com');
    const client = agentClient(server, agent);
    try {
      const reply = await client.methods.checkIn(
        signRequest('CheckIn', agent.signingKey, agent.envoyId, Date.now(), {
          agentVersion: 'test',
          hostname: agent.hostname,
        }),
      );
      assert.ok(reply.serverTimeMs > 0n, 'the check-in was answered');
    } finally {
      client.close();
    }
    assert.equal((await server.request('/healthz')).status, 200);
    assert.equal(server.exitCode(), undefined, 'the server is still running');
    assert.equal(await server.stop(), 0, 'the drain ends with exit 0');
  });
});

describe('a log pipe whose reader went away', () => {
  it('costs the log lines, not the server', async () => {
    pipeServer = await startServer({ dataDir: pipeTemp.path });
    pipeServer.child.stderr?.destroy();
    for (let i = 0; i < 5; i += 1) {
      const login = await pipeServer.request('/api/v1/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'nobody', password: 'wrong password here' }),
      });
      assert.equal(login.status, 401);
    }
    assert.equal((await pipeServer.request('/healthz')).status, 200);
    assert.equal(await pipeServer.stop(), 0);
  });
});
