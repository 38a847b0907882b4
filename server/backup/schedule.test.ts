/**
 * The backup service and its schedule with the real backup thread: one backup at a time, scheduled
 * backups land in the directory with private modes, and the oldest beyond `keep` are deleted.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { pruneBackups, startBackupSchedule } from './schedule.ts';
import type { BackupService } from './service.ts';
import { createBackupService } from './service.ts';

const root = fs.mkdtempSync(path.join(tmpdir(), 'vigo-backup-schedule-'));
const dataDir = path.join(root, 'data');
let service: BackupService;

before(() => {
  const store = openStore({
    file: path.join(dataDir, 'db', 'vigo.db'),
    log: silentLogger,
    busyTimeoutMs: 1000,
  });
  store.close();
  service = createBackupService({
    dataDir,
    sources: {
      dbFile: path.join(dataDir, 'db', 'vigo.db'),
      busyTimeoutMs: 1000,
      tlsDir: path.join(dataDir, 'tls'),
      secretsDir: path.join(dataDir, 'secrets'),
      serverYaml: undefined,
      auditCheckpointFile: path.join(dataDir, 'audit-checkpoints.jsonl'),
      serverVersion: '0.0.0-test',
    },
  });
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('backup service', () => {
  it('runs one backup at a time: a second is refused with backup.in_progress until the first is released', async () => {
    const slot = service.begin();
    assert.throws(() => service.begin(), { code: 'backup.in_progress' });
    const output = path.join(root, 'one.tar.gz');
    const result = await slot.create(output, undefined);
    assert.throws(() => service.begin(), { code: 'backup.in_progress' }, 'held until released');
    slot.release();
    assert.equal(result.bytes, fs.statSync(output).size);
    assert.equal(fs.statSync(output).mode & 0o777, 0o600);
    assert.ok(result.manifest.members.some((m) => m.path === 'db/vigo.db'));
    assert.deepEqual(fs.readdirSync(service.scratchDir), [], 'the work directory is removed');
    service.begin().release();
  });

  it('fails cleanly, leaving no file, when the output cannot be written', async () => {
    const slot = service.begin();
    try {
      await assert.rejects(slot.create(path.join(root, 'no-such-dir', 'x.tar.gz'), undefined), {
        code: 'backup.failed',
      });
    } finally {
      slot.release();
    }
    assert.deepEqual(fs.readdirSync(service.scratchDir), []);
  });
});

describe('scheduled backups', () => {
  it('writes a backup every interval and keeps only the newest `keep`', async () => {
    const dir = path.join(root, 'scheduled');
    const written: string[] = [];
    const failures: string[] = [];
    const schedule = startBackupSchedule({
      service,
      log: silentLogger,
      settings: () => ({ intervalMs: 20, dir, keep: 2, recipient: '' }),
      onSuccess: (result) => written.push(path.basename(result.file)),
      onFailure: (message) => failures.push(message),
    });
    try {
      const deadline = Date.now() + 60_000;
      while (written.length < 3 && Date.now() < deadline) await sleep(20);
      assert.ok(
        written.length >= 3,
        `backups written: ${written.join(', ')}; failures: ${failures.join('; ')}`,
      );
    } finally {
      await schedule.stop();
    }
    const left = fs.readdirSync(dir).sort();
    assert.equal(left.length, 2, left.join(', '));
    assert.deepEqual(left, [...written].sort().slice(-2), 'the two newest are kept');
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    for (const name of left) assert.equal(fs.statSync(path.join(dir, name)).mode & 0o777, 0o600);
  });

  it('pruning touches only backup files', () => {
    const dir = path.join(root, 'mixed');
    fs.mkdirSync(dir);
    for (const name of [
      'vigo-backup-20260101T000000000Z.tar.gz',
      'vigo-backup-20260102T000000000Z.tar.gz.age',
      'vigo-backup-20260103T000000000Z.tar.gz',
      'notes.txt',
      'vigo-backup-20260104T000000000Z.tar.gz.partial',
    ])
      fs.writeFileSync(path.join(dir, name), '');
    assert.deepEqual(pruneBackups(dir, 1), [
      'vigo-backup-20260101T000000000Z.tar.gz',
      'vigo-backup-20260102T000000000Z.tar.gz.age',
    ]);
    assert.deepEqual(fs.readdirSync(dir).sort(), [
      'notes.txt',
      'vigo-backup-20260103T000000000Z.tar.gz',
      'vigo-backup-20260104T000000000Z.tar.gz.partial',
    ]);
  });
});
