/**
 * The open-file limit against the enrolled fleet, with the real vigosrv started under a lowered limit:
 * in held mode a limit the fleet cannot possibly connect within stops the server with its exit code and a
 * message that says what to raise; a limit that is only short of the recommendation, and poll mode, start
 * with a warning.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rawFromPublicKey } from '../protocol/index.ts';
import { exitCodes } from '../server/core/index.ts';
import type { ServerProcess } from './helpers/server-process.ts';
import { makeTempDir, spawnServer, startServer } from './helpers/server-process.ts';

const envoys = 600;
const dataDir = makeTempDir('vigo-nofile-');
const running: ServerProcess[] = [];

/** vigosrv under `ulimit -n limit` (soft and hard). */
function spawnLimited(limit: number, env: Record<string, string> = {}, args: string[] = []): ServerProcess {
  const server = spawnServer({
    dataDir: dataDir.path,
    env,
    args,
    wrapper: ['bash', '-c', `ulimit -n ${limit} && exec "$0" "$@"`],
  });
  running.push(server);
  return server;
}

before(async () => {
  const first = await startServer({ dataDir: dataDir.path });
  assert.equal(await first.stop(), exitCodes.ok);
  const db = new Database(join(dataDir.path, 'db', 'vigo.db'));
  try {
    const insert = db.prepare(
      `INSERT INTO envoys (id, hostname, public_key, cert_fingerprint, status, enrolled_at)
       VALUES (?, ?, ?, ?, 'active', ?)`,
    );
    db.transaction(() => {
      for (let i = 0; i < envoys; i += 1) {
        const raw = rawFromPublicKey(generateKeyPairSync('ed25519').publicKey);
        insert.run(randomUUID(), `node-${i}.example.com`, raw, 'ab'.repeat(32), Date.now());
      }
    })();
  } finally {
    db.close();
  }
});

after(async () => {
  for (const server of running) if (server.exitCode() === undefined) server.child.kill('SIGKILL');
  await Promise.all(running.map((server) => server.exited()));
  dataDir.remove();
});

describe('the open-file limit and the enrolled fleet', () => {
  it('stops a held-mode server whose limit cannot hold the fleet, saying what to raise', async () => {
    const server = spawnLimited(512);
    assert.equal(await server.exited(), exitCodes.openFileLimit, server.stderr().slice(-2000));
    const message = server.stderr();
    assert.match(message, /600 envoys are enrolled and checkin\.connection is "held"/);
    assert.match(message, /may open only 512 files \(hard limit 512\)/);
    assert.match(message, /LimitNOFILE=/);
    assert.match(message, /deploy\/vigosrv\.service/);
    assert.match(message, /checkin\.connection: poll/);
    const failed = server.logs.find((line) => line.msg === 'start-up failed');
    assert.equal(failed?.['exitCode'], exitCodes.openFileLimit);
  });

  it('starts a poll-mode server under the same limit, with a warning', async () => {
    const server = spawnLimited(512, { VIGO_CHECKIN_CONNECTION: 'poll' });
    const warned = await server.waitForLog('the low-limit warning', (line) =>
      line.msg.startsWith('the open-file limit is low'),
    );
    assert.equal(warned['envoys'], envoys);
    assert.equal(warned['soft'], 512);
    await server.waitForLog('ready', (line) => line.msg === 'ready', 30_000);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited(), exitCodes.ok);
  });

  it('refuses a reload that would switch such a server to held mode, and keeps polling', async () => {
    const configFile = join(dataDir.path, 'poll.yaml');
    writeFileSync(configFile, 'checkin:\n  connection: poll\n');
    const server = spawnLimited(512, {}, ['--config', configFile]);
    await server.waitForLog('ready', (line) => line.msg === 'ready', 30_000);
    writeFileSync(configFile, 'checkin:\n  connection: held\n');
    server.child.kill('SIGHUP');
    const refused = await server.waitForLog('the reload refusal', (line) =>
      line.msg.startsWith('config reload refused'),
    );
    assert.match(String(refused['error']), /600 envoys are enrolled and checkin\.connection is "held"/);
    assert.equal(
      server.logs.some((line) => line.msg === 'config reloaded'),
      false,
    );
    server.child.kill('SIGTERM');
    assert.equal(await server.exited(), exitCodes.ok);
  });

  it('starts a held-mode server whose limit holds the fleet but is short of the recommendation, with a warning', async () => {
    const server = spawnLimited(2048);
    await server.waitForLog('the low-limit warning', (line) =>
      line.msg.startsWith('the open-file limit is low'),
    );
    await server.waitForLog('ready', (line) => line.msg === 'ready', 30_000);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited(), exitCodes.ok);
  });
});
