import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { buildManifest, parseManifest, removeUnlisted, writeEntry } from './files.ts';
import type { RootDirs } from './files.ts';

const entry = (path: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  root: 'secrets',
  path,
  mode: 0o600,
  size: 1,
  sha256: 'a'.repeat(64),
  ...extra,
});

describe('replicated files', () => {
  let dir: string;
  let dirs: RootDirs;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigo-files-'));
    dirs = { tls: join(dir, 'tls'), secrets: join(dir, 'secrets'), stacks: join(dir, 'stacks') };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses manifest paths that leave their root, unknown roots and bad fields', () => {
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/./b', 'a\\b', 'a\0b', ''])
      assert.throws(() => parseManifest([entry(bad)]), /leaves its root|characters/, bad);
    assert.throws(() => parseManifest([entry('x', { root: 'db' })]), /unknown root/);
    assert.throws(() => parseManifest([entry('x', { mode: 0o4777 })]), /mode/);
    assert.throws(() => parseManifest([entry('x', { size: -1 })]), /size/);
    assert.throws(() => parseManifest([entry('x', { sha256: 'zz' })]), /sha256/);
    assert.throws(() => parseManifest({}), /list/);
    assert.equal(parseManifest([entry('stack/a.yaml')]).length, 1);
  });

  it('writes a file only when it matches its entry, and removes what the manifest no longer lists', async () => {
    mkdirSync(dirs.secrets, { recursive: true });
    writeFileSync(join(dirs.secrets, 'old.bin'), 'stale');
    mkdirSync(join(dirs.stacks, 'web'), { recursive: true });
    writeFileSync(join(dirs.stacks, 'web', 'a.yaml'), 'x: 1\n');
    const { entries } = await buildManifest(dirs);
    const stackEntry = entries.find((e) => e.path === 'web/a.yaml')!;
    assert.throws(() => writeEntry(dirs, stackEntry, Buffer.from('x: 2\n')), /does not match/);
    writeEntry(dirs, stackEntry, Buffer.from('x: 1\n'));
    assert.equal(readFileSync(join(dirs.stacks, 'web', 'a.yaml'), 'utf8'), 'x: 1\n');
    assert.equal(removeUnlisted(dirs, [stackEntry]), 1);
    assert.equal(existsSync(join(dirs.secrets, 'old.bin')), false);
  });
});
