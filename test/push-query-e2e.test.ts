/**
 * Force-push and live queries end to end with the reference agent: a real vigosrv and a real `vigo daemon`
 * holding its stream. `vigocli push` makes the agent check in at once (long before its 5-minute interval),
 * and `vigocli traits livequery` returns the trait as the agent reads it on this host.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LiveQueryAnswer, PushAnswer } from '../server/orchestration/index.ts';
import { createEnrollToken } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, repoRoot, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';
import type { CliRun } from './helpers/vigocli.ts';

const vigoBin = join(repoRoot, 'bin', 'vigo');
const serverDir = makeTempDir('vigo-pq-e2e-srv-');
const work = makeTempDir('vigo-pq-e2e-work-');
const stateDir = join(work.path, 'state');
const hostname = 'pq-e2e-1';
let server: ReadyServer;
let daemon: ChildProcess | undefined;
let daemonLog = '';
let envoyId = '';

function vigo(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      vigoBin,
      [...args, '--state-dir', stateDir, '--log-level', 'warn'],
      { env: cleanCliEnv(work.path), timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr }),
    );
  });
}

function vigocli(args: string[]): Promise<CliRun> {
  return runVigocli(
    ['--server', server.apiUrl, '--data-dir', serverDir.path, ...args],
    cleanCliEnv(work.path),
    work.path,
  );
}

function ok(run: CliRun, what: string): CliRun {
  assert.equal(
    run.code,
    0,
    `${what}: exit ${run.code}\n${run.stdout}\n${run.stderr}\n--- agent ---\n${daemonLog}`,
  );
  return run;
}

async function envoy(): Promise<{ forcePush: boolean; lastSeenAt: string | null }> {
  const token = readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
  const reply = await server.request(`/api/v1/envoys/${envoyId}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(reply.status, 200, reply.body);
  return reply.json();
}

async function streamsOpen(): Promise<number> {
  const token = readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
  const metrics = (await server.request('/metrics', { headers: { authorization: `Bearer ${token}` } })).body;
  return Number(/^vigo_agent_streams_open (\d+)/m.exec(metrics)?.[1] ?? 0);
}

before(async () => {
  server = await startServer({ dataDir: serverDir.path });
  const token = await createEnrollToken(server, ['pq-e2e-*'], 1);
  const enrolled = await vigo([
    'enroll',
    '--server',
    `127.0.0.1:${server.apiPort}`,
    '--token',
    token,
    '--ca',
    join(serverDir.path, 'tls', 'ca.crt'),
    '--hostname',
    hostname,
  ]);
  assert.equal(enrolled.code, 0, enrolled.stderr);
  const status = JSON.parse((await vigo(['status', '--json'])).stdout) as { envoyId: string };
  envoyId = status.envoyId;
  daemon = spawn(vigoBin, ['daemon', '--state-dir', stateDir, '--log-level', 'info'], {
    env: cleanCliEnv(work.path),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  daemon.stdout?.on('data', (chunk: Buffer) => (daemonLog += chunk.toString()));
  daemon.stderr?.on('data', (chunk: Buffer) => (daemonLog += chunk.toString()));
  await waitFor(
    'the agent to check in and hold its stream',
    async () => ((await streamsOpen()) === 1 && (await envoy()).lastSeenAt !== null ? true : undefined),
    60_000,
  );
});

after(async () => {
  if (daemon !== undefined && daemon.exitCode === null) {
    const exited = new Promise((resolve) => daemon?.once('exit', resolve));
    daemon.kill('SIGTERM');
    await exited;
  }
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('force-push and live queries with the reference agent', () => {
  it('vigocli push makes the agent check in now, not at its interval', async () => {
    const run = ok(await vigocli(['push', hostname, '--reason', 'e2e', '--json']), 'vigocli push');
    const answer = JSON.parse(run.stdout) as PushAnswer;
    assert.deepEqual(
      answer.pushedNow.map((e) => e.envoyId),
      [envoyId],
    );
    // The flag is cleared only by the check-in that takes the full bundle; the interval is 5 minutes.
    await waitFor('the forced check-in', async () => ((await envoy()).forcePush ? undefined : true), 30_000);
    assert.match(daemonLog, /the server asked for a check-in now.*"reason":"e2e"/);
  });

  it('a live query of os returns what the agent reads on this host', async () => {
    const traits = JSON.parse(ok(await vigo(['traits']), 'vigo traits').stdout) as { os: unknown };
    const run = ok(
      await vigocli(['traits', 'livequery', envoyId, 'os', '--json']),
      'vigocli traits livequery',
    );
    const answer = JSON.parse(run.stdout) as LiveQueryAnswer;
    assert.deepEqual([answer.asked, answer.answered, answer.errorCount], [1, 1, 0], run.stdout);
    assert.deepEqual(answer.values, [{ value: traits.os, count: 1 }]);
    const version = ok(
      await vigocli(['traits', 'livequery', hostname, 'os.version']),
      'livequery os.version',
    );
    const expected = `1      ${JSON.stringify((traits.os as { version: string }).version)}`;
    assert.ok(version.stdout.split('\n').includes(expected), `${expected} in\n${version.stdout}`);
  });
});
