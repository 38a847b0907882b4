/**
 * What a backup collects: the stacks of the active config version (its directory, left out links), the
 * database whatever its size, and a refusal of a stacks directory past its bounds.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import type { CollectSources } from './collect.ts';
import { collect } from './collect.ts';

const root = fs.mkdtempSync(path.join(tmpdir(), 'vigo-backup-collect-'));
const dataDir = path.join(root, 'data');
const stacksDir = path.join(root, 'stacks');
const sources: CollectSources = {
  dbFile: path.join(dataDir, 'db', 'vigo.db'),
  busyTimeoutMs: 1000,
  tlsDir: path.join(dataDir, 'tls'),
  secretsDir: path.join(dataDir, 'secrets'),
  serverYaml: undefined,
  auditCheckpointFile: path.join(dataDir, 'audit-checkpoints.jsonl'),
  serverVersion: '0.0.0-test',
};
let work = 0;
const workDir = (): string => path.join(root, `work-${++work}`);

before(() => {
  fs.mkdirSync(path.join(stacksDir, 'web'), { recursive: true });
  fs.writeFileSync(path.join(stacksDir, 'web', 'stack.yaml'), 'name: web\n');
  fs.symlinkSync('/etc/passwd', path.join(stacksDir, 'web', 'passwd'));
  const store = openStore({ file: sources.dbFile, log: silentLogger, busyTimeoutMs: 1000 });
  store.db.prepare("INSERT INTO config_snapshots (hash, body, created_at) VALUES ('h1', x'00', 1)").run();
  store.db
    .prepare(
      `INSERT INTO config_versions (version, snapshot_hash, created_at, created_by, status, source)
       VALUES (7, 'h1', 1, 'test', 'active', ?)`,
    )
    .run(`dir:${stacksDir}`);
  store.db.exec('CREATE TABLE filler (body BLOB)');
  const fill = store.db.prepare('INSERT INTO filler (body) VALUES (randomblob(100000))');
  for (let i = 0; i < 20; i++) fill.run();
  store.close();
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('collect', () => {
  it('takes the active version stacks from its directory, leaving out links, and records the version', () => {
    const manifest = collect(sources, workDir(), new Date());
    assert.equal(manifest.configVersion, 7);
    assert.equal(manifest.stacksFrom, 'dir');
    const paths = manifest.members.map((m) => m.path);
    assert.ok(paths.includes('stacks/web/stack.yaml'), paths.join(', '));
    assert.ok(!paths.includes('stacks/web/passwd'), 'a symbolic link is not followed');
  });

  it('bounds the stacks directory, not the database', () => {
    const small = { maxFiles: 10, maxBytes: 1000 };
    const database = fs.statSync(sources.dbFile).size;
    assert.ok(database > small.maxBytes);
    fs.rmSync(stacksDir, { recursive: true });
    fs.mkdirSync(stacksDir);
    const manifest = collect({ ...sources, dirLimits: small }, workDir(), new Date());
    assert.ok(manifest.members.some((m) => m.path === 'db/vigo.db' && m.size > small.maxBytes));
    for (let i = 0; i < 11; i++) fs.writeFileSync(path.join(stacksDir, `s${i}.yaml`), 'x\n');
    assert.throws(() => collect({ ...sources, dirLimits: small }, workDir(), new Date()), {
      code: 'backup.too_large',
    });
  });
});
