import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger, isVigoError, silentLogger } from '../core/index.ts';
import { openVault } from './index.ts';
import type { Vault } from './index.ts';
import { generateMasterKey, writeMasterKeyFile } from './master-key.ts';

const root = mkdtempSync(join(tmpdir(), 'vigo-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;

const fixture = join(import.meta.dirname, 'rotate-crash.fixture.ts');
// `--import tsx` resolves from the working directory, so the child runs from the repository root.
const repoRoot = join(import.meta.dirname, '..', '..');

const values: Record<string, string> = {
  'vigo/db/password': 'db-Xy7!plain',
  'vigo/api/token': 'tok-9f8e7d6c',
  'vigo/ssh/key': '-----BEGIN KEY-----\nline\n-----END KEY-----\n',
};

function seededVault(): { dir: string; vault: Vault } {
  const dir = join(root, `vault-${++dirCount}`);
  const vault = openVault({ dir, log: silentLogger });
  for (const [path, value] of Object.entries(values)) vault.set(path, value);
  return { dir, vault };
}

function assertAllValues(vault: Vault): void {
  for (const [path, value] of Object.entries(values)) assert.equal(vault.get(path), value, path);
}

function ciphertexts(dir: string): Map<string, string> {
  const doc = JSON.parse(readFileSync(join(dir, 'vault.json'), 'utf8')) as {
    secrets: { path: string; ciphertext: string; nonce: string }[];
  };
  return new Map(doc.secrets.map((s) => [s.path, `${s.nonce}:${s.ciphertext}`]));
}

function assertSettled(dir: string): void {
  assert.deepEqual(readdirSync(dir).sort(), ['master.key', 'vault.json']);
  assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
}

describe('master key rotation', () => {
  it('keeps every value, re-encrypts every secret and retires the old key', () => {
    const { dir, vault } = seededVault();
    const oldKey = readFileSync(join(dir, 'master.key'));
    const before = ciphertexts(dir);
    const rotation = vault.rotateMasterKey();
    assert.equal(rotation.secrets, Object.keys(values).length);
    assert.notEqual(rotation.keyId, rotation.previousKeyId);
    assert.equal(vault.keyId, rotation.keyId);
    assertAllValues(vault);
    const afterRotation = ciphertexts(dir);
    for (const [path, sealed] of before) assert.notEqual(afterRotation.get(path), sealed, path);
    assert.notDeepEqual(readFileSync(join(dir, 'master.key')), oldKey);
    assertSettled(dir);
    assertAllValues(openVault({ dir, log: silentLogger }));

    writeFileSync(join(dir, 'master.key'), oldKey);
    assert.throws(
      () => openVault({ dir, log: silentLogger }),
      (err) => isVigoError(err) && err.code === 'secrets.master_key_invalid',
    );
  });

  it('works on a vault that holds no secret yet', () => {
    const dir = join(root, `vault-${++dirCount}`);
    const vault = openVault({ dir, log: silentLogger });
    const rotation = vault.rotateMasterKey();
    assert.equal(rotation.secrets, 0);
    assert.equal(openVault({ dir, log: silentLogger }).keyId, rotation.keyId);
    assertSettled(dir);
  });
});

describe('a crash during rotation', () => {
  it('before the vault is rewritten: the vault opens with the old key and the staged key is discarded', () => {
    const { dir, vault } = seededVault();
    writeMasterKeyFile(join(dir, 'master.key.next'), generateMasterKey());
    writeFileSync(join(dir, 'vault.json.4242.0123456789ab.tmp'), '{"partial');
    const reopened = openVault({ dir, log: silentLogger });
    assert.equal(reopened.keyId, vault.keyId);
    assertAllValues(reopened);
    assertSettled(dir);
  });

  it('after the vault is rewritten but before the new key is promoted: the rotation is completed', () => {
    const { dir, vault } = seededVault();
    const oldKey = readFileSync(join(dir, 'master.key'));
    const rotation = vault.rotateMasterKey();
    // Put back the files as they were between the vault write and the final rename.
    renameSync(join(dir, 'master.key'), join(dir, 'master.key.next'));
    writeFileSync(join(dir, 'master.key'), oldKey, { mode: 0o600 });
    const lines: string[] = [];
    const log = createLogger({ level: 'info', sink: { write: (line) => lines.push(line) } });
    const reopened = openVault({ dir, log });
    assert.equal(reopened.keyId, rotation.keyId);
    assertAllValues(reopened);
    assertSettled(dir);
    assert.ok(lines.some((line) => line.includes('completed an interrupted master key rotation')));
  });

  it('at every file-system step (SIGKILL): the vault reopens with every value under the old or new key', async () => {
    const { dir } = seededVault();
    const outcomes = new Set<string>();
    for (let killAt = 1; ; killAt++) {
      const keyBefore = openVault({ dir, log: silentLogger }).keyId;
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, String(killAt)], {
        cwd: repoRoot,
      });
      const output: string[] = [];
      child.stdout.on('data', (chunk) => output.push(String(chunk)));
      child.stderr.on('data', (chunk) => output.push(String(chunk)));
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      const reopened = openVault({ dir, log: silentLogger });
      assertAllValues(reopened);
      assertSettled(dir);
      if (signal === null) {
        assert.equal(code, 0, output.join(''));
        assert.match(output.join(''), /^done \d+\n$/);
        break;
      }
      assert.equal(signal, 'SIGKILL', output.join(''));
      outcomes.add(reopened.keyId === keyBefore ? 'old key' : 'new key');
      assert.ok(killAt < 100, 'the rotation never finished');
    }
    assert.deepEqual([...outcomes].sort(), ['new key', 'old key']);
  });
});
