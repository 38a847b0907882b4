/**
 * The config version an envoy is listed with follows what it was served: over real mTLS check-ins against
 * a real vigosrv, a check-in answered with a bundle moves the envoy's version at once (the API shows it
 * before any further check-in), a publish followed by a check-in moves it again, and the version reaches
 * the envoys row through the write-behind flusher (read back after the server drained).
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnvelopeClock, signRequest } from '../protocol/index.ts';
import type { CheckInResponse } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-served-version-');
let server: ReadyServer | undefined;
let agent: EnrolledAgent;
const clock = createEnvelopeClock();

after(async () => {
  await server?.stop();
  temp.remove();
});

function running(): ReadyServer {
  assert.ok(server, 'the server is running');
  return server;
}

before(async () => {
  server = await startServer({ dataDir: temp.path });
  agent = await enrollAgent(server, await createEnrollToken(server, ['web-*']), 'web-1');
});

async function admin(path: string, body?: unknown): Promise<unknown> {
  const token = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
  const reply = await running().request(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(reply.status === 200 || reply.status === 201, `${path}: ${reply.status} ${reply.body}`);
  return JSON.parse(reply.body) as unknown;
}

function checkIn(policyVersion: bigint): Promise<CheckInResponse> {
  const client = agentClient(running(), agent);
  return client.methods
    .checkIn(
      signRequest('CheckIn', agent.signingKey, agent.envoyId, Number(clock()), {
        agentVersion: 'test',
        hostname: agent.hostname,
        policyVersion,
      }),
    )
    .finally(() => client.close());
}

async function listedVersion(): Promise<number> {
  const envoy = (await admin(`/api/v1/envoys/${agent.envoyId}`)) as { policyVersion: number };
  return envoy.policyVersion;
}

const motdStack = (text: string) => [
  {
    path: 'configcrates/motd.vgo',
    content: `name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /tmp/vigo-demo/motd\n    content: "${text}\\n"\n`,
  },
  { path: 'roles.vgo', content: 'roles:\n  base:\n    configcrates: [motd]\n' },
  { path: 'envoys.vgo', content: 'envoys:\n  - match: "web-*"\n    roles: [base]\n' },
];

describe('the served config version', () => {
  it('is the envoy version as soon as a bundle is served', async () => {
    assert.equal(await listedVersion(), 0, 'enrolled, never served');
    const first = await checkIn(0n);
    assert.equal(first.outcome.case, 'bundle');
    assert.ok(first.policyVersion > 0n);
    assert.equal(await listedVersion(), Number(first.policyVersion), 'listed with what it was just served');
  });

  it('moves with the next bundle after a publish, without a no-change check-in in between', async () => {
    const before = await listedVersion();
    const published = (await admin('/api/v1/config/publish', {
      message: 'motd',
      files: motdStack('hi'),
    })) as {
      version: number;
    };
    assert.ok(published.version > before);
    assert.equal(await listedVersion(), before, 'a publish alone serves nothing');
    const reply = await checkIn(BigInt(before));
    assert.equal(reply.outcome.case, 'bundle');
    assert.equal(Number(reply.policyVersion), published.version);
    assert.equal(await listedVersion(), published.version);
  });

  it('reaches the envoys row through the flusher', async () => {
    const shown = await listedVersion();
    assert.equal(await running().stop(), 0, 'drains cleanly');
    server = undefined;
    const db = new Database(join(temp.path, 'db', 'vigo.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT policy_version FROM envoys WHERE id = ?').get(agent.envoyId) as {
        policy_version: number;
      };
      assert.equal(row.policy_version, shown);
    } finally {
      db.close();
    }
  });
});
