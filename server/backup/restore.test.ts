/**
 * Backup archives end to end without a server: collect a real data dir (a migrated SQLite database, tls/,
 * secrets/), write the archive, restore it; and every refusal restore owes a hostile or damaged archive,
 * each leaving the target and its parent exactly as they were.
 */
import assert from 'node:assert/strict';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { collect } from './collect.ts';
import type { RestoreKey } from './encryption.ts';
import { restoreBackup } from './restore.ts';
import type { TarLimits } from './tar.ts';
import { blockBytes, endOfArchive, fileHeader, padding } from './tar.ts';
import { writeArchive } from './write-archive.ts';

const root = fs.mkdtempSync(path.join(tmpdir(), 'vigo-backup-unit-'));
const source = path.join(root, 'source');
const archives = path.join(root, 'archives');
let plainArchive: string;
let newestSchemaVersion: number;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function sourceData(): void {
  const log = createLogger({ level: { value: 'error' }, fields: {} });
  const store = openStore({ file: path.join(source, 'db', 'vigo.db'), log, busyTimeoutMs: 1000 });
  store.db
    .prepare(
      "INSERT INTO envoys (id, hostname, public_key, enrolled_at) VALUES ('e-1', 'web-1.example.com', randomblob(32), 1)",
    )
    .run();
  newestSchemaVersion = store.db
    .prepare('SELECT max(version) FROM schema_migrations')
    .pluck()
    .get() as number;
  store.close();
  fs.mkdirSync(path.join(source, 'tls'), { mode: 0o700 });
  fs.writeFileSync(path.join(source, 'tls', 'ca.key'), 'private CA key\n', { mode: 0o600 });
  fs.writeFileSync(path.join(source, 'tls', 'ca.crt'), 'CA certificate\n');
  fs.mkdirSync(path.join(source, 'secrets'), { mode: 0o700 });
  fs.writeFileSync(path.join(source, 'secrets', 'master.key'), Buffer.alloc(32, 7), { mode: 0o600 });
  fs.writeFileSync(path.join(source, 'server.yaml'), 'log:\n  level: info\n');
}

async function makeArchive(name: string, key?: Parameters<typeof writeArchive>[3]): Promise<string> {
  const work = path.join(root, `work-${name}`);
  const manifest = collect(
    {
      dbFile: path.join(source, 'db', 'vigo.db'),
      busyTimeoutMs: 1000,
      tlsDir: path.join(source, 'tls'),
      secretsDir: path.join(source, 'secrets'),
      serverYaml: path.join(source, 'server.yaml'),
      auditCheckpointFile: path.join(source, 'audit-checkpoints.jsonl'),
      serverVersion: '0.0.0-test',
    },
    work,
    new Date(),
  );
  const output = path.join(archives, name);
  await writeArchive(manifest, work, output, key);
  fs.rmSync(work, { recursive: true, force: true });
  return output;
}

/** A fresh parent directory for a restore target, to check that a refusal leaves it empty. */
function freshParent(): string {
  return fs.mkdtempSync(path.join(root, 'target-'));
}

async function refused(
  archive: string,
  code: string | string[],
  options: { key?: RestoreKey; limits?: TarLimits } = {},
): Promise<void> {
  const parent = freshParent();
  await assert.rejects(
    restoreBackup({
      archive,
      dataDir: path.join(parent, 'data'),
      key: options.key,
      force: false,
      newestSchemaVersion,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    }),
    (err: Error & { code?: string }) => {
      assert.ok((Array.isArray(code) ? code : [code]).includes(err.code ?? ''), err.message);
      return true;
    },
  );
  assert.deepEqual(fs.readdirSync(parent), [], 'nothing was written beside the target either');
}

/** Unpacks a plain archive's tar into [name, bytes] pairs (test-side, trusting our own archive). */
function tarMembers(archive: string): [string, Buffer][] {
  const tar = gunzipSync(fs.readFileSync(archive));
  const members: [string, Buffer][] = [];
  let at = 0;
  while (at + blockBytes <= tar.length) {
    const header = tar.subarray(at, at + blockBytes);
    if (header.every((b) => b === 0)) break;
    const name = header.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    const size = parseInt(header.toString('ascii', 124, 135), 8);
    members.push([name, Buffer.from(tar.subarray(at + blockBytes, at + blockBytes + size))]);
    at += blockBytes + size + padding(size).length;
  }
  return members;
}

/** Packs members into a .tar.gz the way an attacker could, with `typeflag` overrides per name. */
function packArchive(
  name: string,
  members: [string, Buffer][],
  typeflags: Record<string, string> = {},
): string {
  const parts: Buffer[] = [];
  for (const [member, body] of members) {
    const header = fileHeader(member, body.length, 0);
    const flag = typeflags[member];
    if (flag !== undefined) {
      const last = header.subarray(header.length - blockBytes);
      last.write(flag, 156, 'ascii');
      last.write('        ', 148, 'ascii');
      let sum = 0;
      for (const byte of last) sum += byte;
      last.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    }
    parts.push(header, body, padding(body.length));
  }
  parts.push(endOfArchive);
  const file = path.join(archives, name);
  fs.writeFileSync(file, gzipSync(Buffer.concat(parts)));
  return file;
}

function withManifest(
  members: [string, Buffer][],
  edit: (manifest: Record<string, unknown>) => void,
): [string, Buffer][] {
  const [first, ...rest] = members;
  const manifest = JSON.parse((first as [string, Buffer])[1].toString('utf8')) as Record<string, unknown>;
  edit(manifest);
  return [['manifest.json', Buffer.from(JSON.stringify(manifest))], ...rest];
}

before(async () => {
  fs.mkdirSync(archives);
  sourceData();
  plainArchive = await makeArchive('plain.tar.gz');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('backup archive', () => {
  it('holds a manifest first, then every member with its size and SHA-256, readable by tar', () => {
    const members = tarMembers(plainArchive);
    assert.equal(members[0]?.[0], 'manifest.json');
    const manifest = JSON.parse(members[0][1].toString('utf8')) as {
      format: string;
      schemaVersion: number;
      members: { path: string; size: number; sha256: string }[];
    };
    assert.equal(manifest.format, 'vigo-backup');
    assert.equal(manifest.schemaVersion, newestSchemaVersion);
    const names = members.slice(1).map(([name]) => name);
    assert.deepEqual(
      names,
      manifest.members.map((m) => m.path),
    );
    for (const expected of ['db/vigo.db', 'tls/ca.key', 'secrets/master.key', 'config/server.yaml'])
      assert.ok(names.includes(expected), `${expected} is in the archive`);
    for (const [name, body] of members.slice(1)) {
      const listed = manifest.members.find((m) => m.path === name);
      assert.equal(listed?.sha256, sha256(body));
      assert.equal(listed?.size, body.length);
    }
    assert.equal(fs.statSync(plainArchive).mode & 0o777, 0o600);
  });

  it('restores into a new data dir: the same files, the database with its rows, private modes', async () => {
    const target = path.join(freshParent(), 'data');
    const result = await restoreBackup({
      archive: plainArchive,
      dataDir: target,
      key: undefined,
      force: false,
      newestSchemaVersion,
    });
    assert.equal(result.dataDir, target);
    assert.deepEqual(
      fs.readFileSync(path.join(target, 'tls', 'ca.key')),
      fs.readFileSync(path.join(source, 'tls', 'ca.key')),
    );
    assert.deepEqual(
      fs.readFileSync(path.join(target, 'secrets', 'master.key')),
      fs.readFileSync(path.join(source, 'secrets', 'master.key')),
    );
    assert.equal(fs.statSync(target).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(target, 'tls', 'ca.key')).mode & 0o777, 0o600);
    const db = new Database(path.join(target, 'db', 'vigo.db'), { readonly: true });
    assert.equal(db.prepare('SELECT hostname FROM envoys').pluck().get(), 'web-1.example.com');
    db.close();
  });

  it('refuses a non-empty target unless forced; forced, the old dir is moved aside, not deleted', async () => {
    const parent = freshParent();
    const target = path.join(parent, 'data');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep-me'), 'x');
    const attempt = restoreBackup({
      archive: plainArchive,
      dataDir: target,
      key: undefined,
      force: false,
      newestSchemaVersion,
    });
    await assert.rejects(attempt, { code: 'backup.target_not_empty' });
    assert.deepEqual(fs.readdirSync(parent), ['data']);
    assert.deepEqual(fs.readdirSync(target), ['keep-me']);
    const forced = await restoreBackup({
      archive: plainArchive,
      dataDir: target,
      key: undefined,
      force: true,
      newestSchemaVersion,
    });
    assert.ok(forced.previousMovedTo !== undefined);
    assert.equal(fs.readFileSync(path.join(forced.previousMovedTo, 'keep-me'), 'utf8'), 'x');
    assert.ok(fs.existsSync(path.join(target, 'db', 'vigo.db')));
  });

  it('refuses a flipped byte and a truncated archive, writing nothing', async () => {
    const bytes = fs.readFileSync(plainArchive);
    const flipped = Buffer.from(bytes);
    const at = Math.floor(flipped.length / 2);
    flipped[at] = (flipped[at] as number) ^ 0xff;
    fs.writeFileSync(path.join(archives, 'flipped.tar.gz'), flipped);
    // gzip's CRC or the member's SHA-256 catches it, by where the flipped bit lands.
    await refused(path.join(archives, 'flipped.tar.gz'), [
      'backup.archive_invalid',
      'backup.checksum_mismatch',
    ]);
    for (const keep of [bytes.length - 4, Math.floor(bytes.length / 2), 20]) {
      fs.writeFileSync(path.join(archives, 'cut.tar.gz'), bytes.subarray(0, keep));
      await refused(path.join(archives, 'cut.tar.gz'), 'backup.archive_invalid');
    }
    fs.writeFileSync(path.join(archives, 'garbage'), 'not an archive');
    await refused(path.join(archives, 'garbage'), 'backup.archive_invalid');
  });

  it('refuses a member whose bytes differ from the manifest, in a well-formed archive', async () => {
    const members = tarMembers(plainArchive).map(([name, body]): [string, Buffer] =>
      name === 'tls/ca.key' ? [name, Buffer.from('attacker CA key\n')] : [name, body],
    );
    await refused(packArchive('tampered.tar.gz', members), 'backup.checksum_mismatch');
    const extra: [string, Buffer][] = [...tarMembers(plainArchive), ['tls/extra.key', Buffer.from('x')]];
    await refused(packArchive('extra.tar.gz', extra), 'backup.archive_invalid');
    const missing = tarMembers(plainArchive).filter(([name]) => name !== 'secrets/master.key');
    await refused(packArchive('missing.tar.gz', missing), 'backup.archive_invalid');
  });

  it('refuses path traversal, absolute paths and links, in the manifest or in a header', async () => {
    const evil = Buffer.from('owned\n');
    for (const name of ['../evil', '/etc/evil', 'tls/../../evil']) {
      const members = withManifest(tarMembers(plainArchive), (m) => {
        (m['members'] as unknown[]).push({ path: name, size: evil.length, sha256: sha256(evil) });
      });
      await refused(
        packArchive('traversal-manifest.tar.gz', [...members, [name, evil]]),
        'backup.member_unsafe',
      );
      await refused(
        packArchive('traversal-header.tar.gz', [...tarMembers(plainArchive).slice(0, 2), [name, evil]]),
        'backup.member_unsafe',
      );
    }
    const link = packArchive(
      'link.tar.gz',
      [...tarMembers(plainArchive).slice(0, 2), ['tls/link', Buffer.alloc(0)]],
      {
        'tls/link': '2',
      },
    );
    await refused(link, 'backup.member_unsafe');
  });

  it('bounds the member count and a member size before reading them', async () => {
    const count = tarMembers(plainArchive).length - 1;
    await refused(plainArchive, 'backup.too_large', {
      limits: { maxMembers: count - 1, maxMemberBytes: 1 << 30, maxTotalBytes: 1 << 30 },
    });
    await refused(plainArchive, 'backup.too_large', {
      limits: { maxMembers: 1000, maxMemberBytes: 1024, maxTotalBytes: 1 << 30 },
    });
    await refused(plainArchive, 'backup.too_large', {
      limits: { maxMembers: 1000, maxMemberBytes: 1 << 30, maxTotalBytes: 4096 },
    });
  });

  it('round-trips encrypted to an age recipient; another identity or no key is refused', async () => {
    const identity = await generateX25519Identity();
    const archive = await makeArchive('recipient.tar.gz.age', {
      kind: 'recipient',
      recipient: await identityToRecipient(identity),
    });
    assert.equal(fs.readFileSync(archive).subarray(0, 21).toString(), 'age-encryption.org/v1');
    const target = path.join(freshParent(), 'data');
    await restoreBackup({
      archive,
      dataDir: target,
      key: { kind: 'identity', identity },
      force: false,
      newestSchemaVersion,
    });
    assert.ok(fs.existsSync(path.join(target, 'secrets', 'master.key')));
    await refused(archive, 'backup.decrypt_failed', {
      key: { kind: 'identity', identity: await generateX25519Identity() },
    });
    await refused(archive, 'backup.decrypt_failed');
    const bytes = fs.readFileSync(archive);
    fs.writeFileSync(path.join(archives, 'cut.age'), bytes.subarray(0, bytes.length - 100));
    await refused(path.join(archives, 'cut.age'), 'backup.archive_invalid', {
      key: { kind: 'identity', identity },
    });
  });

  it('round-trips encrypted with a passphrase; a wrong passphrase is refused', async () => {
    // A lower scrypt cost than age's default keeps the test quick; the file records it, decryption reads it.
    const archive = await makeArchive('pass.tar.gz.age', {
      kind: 'passphrase',
      passphrase: 'correct horse',
      scryptLogN: 12,
    });
    const target = path.join(freshParent(), 'data');
    await restoreBackup({
      archive,
      dataDir: target,
      key: { kind: 'passphrase', passphrase: 'correct horse' },
      force: false,
      newestSchemaVersion,
    });
    assert.ok(fs.existsSync(path.join(target, 'db', 'vigo.db')));
    await refused(archive, 'backup.decrypt_failed', {
      key: { kind: 'passphrase', passphrase: 'wrong horse' },
    });
  });

  it('refuses a database newer than this build knows', async () => {
    const parent = freshParent();
    await assert.rejects(
      restoreBackup({
        archive: plainArchive,
        dataDir: path.join(parent, 'data'),
        key: undefined,
        force: false,
        newestSchemaVersion: newestSchemaVersion - 1,
      }),
      { code: 'backup.invalid' },
    );
    assert.deepEqual(fs.readdirSync(parent), []);
  });
});
