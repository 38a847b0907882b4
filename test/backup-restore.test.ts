/**
 * Backup and restore with the real programs: `vigocli backup create` against a vigosrv whose agents (the
 * reference `vigo daemon`) keep checking in, `vigosrv restore` into a new data dir, and a server started on
 * it and the same addresses, where the same agents check in again with no re-enrollment (same CA, same
 * keys) and the audit chain verifies. Damaged archives and a wrong key are refused with nothing written;
 * scheduled backups appear in backup.dir and are pruned beyond backup.keep.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken } from './helpers/agent-client.ts';
import { startAgentDaemon, streamsOpen } from './helpers/agent-daemon.ts';
import type { AgentDaemon } from './helpers/agent-daemon.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { freeLoopbackPort, makeTempDir, startServer, vigosrvBin } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';
import type { CliRun } from './helpers/vigocli.ts';

const work = makeTempDir('vigo-backup-e2e-');
const original = join(work.path, 'original');
const restored = join(work.path, 'restored', 'data');
const home = join(work.path, 'home');
let ports: { grpc: number; api: number };
let server: ReadyServer | undefined;
let agents: AgentDaemon[] = [];
let backupFile: string;

function start(dataDir: string): Promise<ReadyServer> {
  // The server runs in its data dir.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return startServer({
    dataDir,
    grpcListen: `127.0.0.1:${ports.grpc}`,
    apiListen: `127.0.0.1:${ports.api}`,
    env: { VIGO_CHECKIN_INTERVAL: '1s' },
  });
}

function adminToken(dataDir: string): string {
  return readFileSync(join(dataDir, 'local-admin.token'), 'utf8').trim();
}

function vigocli(on: ReadyServer, args: string[]): Promise<CliRun> {
  return runVigocli(
    ['--server', on.apiUrl, '--data-dir', on.dataDir, ...args],
    cleanCliEnv(home, { XDG_CONFIG_HOME: join(home, 'config') }),
    work.path,
  );
}

function vigosrvRestore(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      vigosrvBin,
      ['restore', ...args],
      { env: cleanCliEnv(home), timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr }),
    );
  });
}

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`);
  return run;
}

async function lastSeenMs(on: ReadyServer, envoyId: string): Promise<number> {
  const reply = await on.request(`/api/v1/envoys/${envoyId}`, {
    headers: { authorization: `Bearer ${adminToken(on.dataDir)}` },
  });
  assert.equal(reply.status, 200, reply.body);
  const seen = reply.json<{ lastSeenAt: string | null }>().lastSeenAt;
  return seen === null ? 0 : Date.parse(seen);
}

/**
 * A refused restore: exit 65, one of `codes` on stderr, and neither the target nor a staging dir beside it.
 * (A flipped bit in compressed data is caught by the member's SHA-256 or by gzip, by where it lands.)
 */
async function refusedRestore(
  archive: string,
  codes: string | string[],
  extra: string[] = [],
): Promise<void> {
  const parent = join(work.path, `refused-${Math.random().toString(36).slice(2)}`);
  const run = await vigosrvRestore([archive, '--data-dir', join(parent, 'data'), ...extra]);
  assert.equal(run.code, 65, `${run.stdout}\n${run.stderr}`);
  const alternatives = (Array.isArray(codes) ? codes : [codes]).map((c) => c.replace('.', '\\.'));
  assert.match(run.stderr, new RegExp(`vigosrv restore: (${alternatives.join('|')}):`));
  assert.deepEqual(existsSync(parent) ? readdirSync(parent) : [], [], 'nothing was written');
}

before(async () => {
  ports = { grpc: await freeLoopbackPort(), api: await freeLoopbackPort() };
  mkdirSync(home);
  server = await start(original);
  const enrollToken = await createEnrollToken(server, ['backup-e2e-*']);
  for (const hostname of ['backup-e2e-1', 'backup-e2e-2'])
    agents.push(await startAgentDaemon(server, { hostname, enrollToken, home }));
  const running = server;
  await waitFor(
    'both agents to hold their streams',
    async () => ((await streamsOpen(running, adminToken(original))) === 2 ? true : undefined),
    60_000,
  );
});

after(async () => {
  for (const agent of agents) await agent.stop();
  agents = [];
  if (server !== undefined && server.exitCode() === undefined) await server.stop();
  work.remove();
});

describe('backup and restore', () => {
  it('backs up while agents check in; restored into a new data dir, the same agents check in again', async () => {
    const first = server!;
    backupFile = join(work.path, 'backup.tar.gz');
    const seenBefore = await lastSeenMs(first, agents[0]!.envoyId);
    const created = ok(await vigocli(first, ['backup', 'create', '--output', backupFile, '-o', 'json']));
    const answer = JSON.parse(created.stdout) as {
      file: string;
      bytes: number;
      members: number;
      encrypted: boolean;
    };
    assert.equal(answer.file, backupFile);
    assert.equal(answer.encrypted, false);
    assert.equal(statSync(backupFile).mode & 0o777, 0o600);
    assert.equal(statSync(backupFile).size, answer.bytes);
    await waitFor(
      'a check-in while and after the backup ran',
      async () => ((await lastSeenMs(first, agents[0]!.envoyId)) > seenBefore ? true : undefined),
      30_000,
    );
    const audit = await first.request('/api/v1/audit?action=backup.created', {
      headers: { authorization: `Bearer ${adminToken(original)}` },
    });
    assert.match(audit.body, /"backup\.created"/);

    await first.stop();
    server = undefined;
    const restoredRun = ok(await vigosrvRestore([backupFile, '--data-dir', restored]));
    assert.match(restoredRun.stdout, /restored \d+ files into/);
    assert.deepEqual(
      readFileSync(join(restored, 'tls', 'ca.key')),
      readFileSync(join(original, 'tls', 'ca.key')),
    );

    const restartedAt = Date.now();
    const second = await start(restored);
    server = second;
    await waitFor(
      'both agents to hold their streams on the restored server',
      async () => ((await streamsOpen(second, adminToken(restored))) === 2 ? true : undefined),
      90_000,
    );
    for (const agent of agents) {
      await waitFor(
        `${agent.hostname} to check in on the restored server`,
        async () => ((await lastSeenMs(second, agent.envoyId)) >= restartedAt ? true : undefined),
        60_000,
      );
      assert.doesNotMatch(agent.log(), /enroll/i, 'the agent never enrolled again');
    }
    const verify = ok(await vigocli(second, ['audit', 'verify']));
    assert.match(verify.stdout + verify.stderr, /ok|intact|verified/i);
  });

  it('refuses a flipped byte, a truncated archive and a non-empty target, writing nothing', async () => {
    const bytes = readFileSync(backupFile);
    const flipped = Buffer.from(bytes);
    const at = Math.floor(bytes.length / 3);
    flipped[at] = (flipped[at] as number) ^ 0x01;
    writeFileSync(join(work.path, 'flipped.tar.gz'), flipped);
    await refusedRestore(join(work.path, 'flipped.tar.gz'), [
      'backup.archive_invalid',
      'backup.checksum_mismatch',
    ]);
    writeFileSync(join(work.path, 'cut.tar.gz'), bytes.subarray(0, Math.floor(bytes.length * 0.8)));
    await refusedRestore(join(work.path, 'cut.tar.gz'), 'backup.archive_invalid');

    const before = readdirSync(restored).sort();
    const intoRunning = await vigosrvRestore([backupFile, '--data-dir', restored, '--force']);
    assert.equal(intoRunning.code, 77, 'the running server holds the restored dir');
    const notEmpty = await vigosrvRestore([backupFile, '--data-dir', join(work.path, 'original')]);
    assert.equal(notEmpty.code, 65);
    assert.match(notEmpty.stderr, /backup\.target_not_empty/);
    assert.deepEqual(readdirSync(restored).sort(), before);
  });

  it('encrypts on the client to an age recipient or a passphrase; the wrong identity is refused, the right keys restore', async () => {
    const identity = await generateX25519Identity();
    const encrypted = join(work.path, 'backup.tar.gz.age');
    ok(
      await vigocli(server!, [
        'backup',
        'create',
        '--output',
        encrypted,
        '--recipient',
        await identityToRecipient(identity),
      ]),
    );
    assert.equal(readFileSync(encrypted).subarray(0, 21).toString(), 'age-encryption.org/v1');
    const right = join(work.path, 'right.key');
    const wrong = join(work.path, 'wrong.key');
    writeFileSync(right, `# created for the test\n${identity}\n`, { mode: 0o600 });
    writeFileSync(wrong, `${await generateX25519Identity()}\n`, { mode: 0o600 });
    await refusedRestore(encrypted, 'backup.decrypt_failed', ['--identity', wrong]);
    await refusedRestore(encrypted, 'backup.decrypt_failed');
    const target = join(work.path, 'from-encrypted', 'data');
    ok(await vigosrvRestore([encrypted, '--data-dir', target, '--identity', right]));
    assert.ok(existsSync(join(target, 'db', 'vigo.db')));

    const passphrase = join(work.path, 'passphrase.txt');
    writeFileSync(passphrase, 'correct horse battery staple\n', { mode: 0o600 });
    const withPassphrase = join(work.path, 'passphrase.tar.gz.age');
    ok(
      await vigocli(server!, [
        'backup',
        'create',
        '--output',
        withPassphrase,
        '--passphrase-file',
        passphrase,
      ]),
    );
    const fromPassphrase = join(work.path, 'from-passphrase', 'data');
    ok(await vigosrvRestore([withPassphrase, '--data-dir', fromPassphrase, '--passphrase-file', passphrase]));
    assert.ok(existsSync(join(fromPassphrase, 'db', 'vigo.db')));
  });

  it('writes scheduled backups into backup.dir and keeps backup.keep of them', async () => {
    const dir = join(work.path, 'scheduled');
    mkdirSync(join(work.path, 'scheduled-server'), { mode: 0o700 });
    const scheduled = await startServer({
      dataDir: join(work.path, 'scheduled-server'),
      env: { VIGO_BACKUP_SCHEDULE: '1s', VIGO_BACKUP_KEEP: '2', VIGO_BACKUP_DIR: dir },
    });
    try {
      const token = adminToken(scheduled.dataDir);
      await waitFor(
        'three scheduled backups',
        async () => {
          const audit = await scheduled.request('/api/v1/audit?action=backup.created', {
            headers: { authorization: `Bearer ${token}` },
          });
          return (audit.body.match(/"backup\.created"/g) ?? []).length >= 3 ? true : undefined;
        },
        120_000,
        200,
      );
      const metrics = await scheduled.request('/metrics', { headers: { authorization: `Bearer ${token}` } });
      const last = Number(/^vigo_backup_last_success_timestamp_seconds (\S+)$/m.exec(metrics.body)?.[1]);
      assert.ok(last > 0, metrics.body);
      assert.match(metrics.body, /^vigo_backup_failures_total 0$/m);
    } finally {
      await scheduled.stop();
    }
    const kept = readdirSync(dir).filter((name) => /^vigo-backup-.*\.tar\.gz$/.test(name));
    assert.equal(kept.length, 2, readdirSync(dir).join(', '));
  });
});
