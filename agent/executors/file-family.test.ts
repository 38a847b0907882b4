import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import { createFileFamilyExecutors, fileFamilyExecutors } from './file-family.ts';

describe('file family registry', () => {
  it('holds one executor per file-family type', () => {
    assert.deepEqual(fileFamilyExecutors.map((e) => e.type).sort(), [
      'blockinfile',
      'cron',
      'directory',
      'file',
      'file_line',
      'host',
      'ini',
      'json_file',
      'replace',
      'symlink',
      'sysctl',
    ]);
  });

  it('passes managedPaths to the directory executor so purge spares them', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'managed'), 'm');
    fs.writeFileSync(path.join(dir, 'stray'), 's');
    const executors = createFileFamilyExecutors({ managedPaths: () => new Set([path.join(dir, 'managed')]) });
    const directory = executors.find((e) => e.type === 'directory');
    assert.ok(directory);
    const ctx = {
      dryRun: false,
      run: runCommand,
      snapshotFile: async () => {},
      customExecutorDir: dir,
      signal: new AbortController().signal,
    };
    assert.equal((await directory.apply({ target_path: dir, purge: true }, ctx)).outcome, 'updated');
    assert.deepEqual(fs.readdirSync(dir), ['managed']);
  });
});
