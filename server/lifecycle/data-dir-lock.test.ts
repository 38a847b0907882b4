import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DataDirLockedError, acquireDataDirLock } from './data-dir-lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigo-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('data dir lock', () => {
  it('refuses a second holder and frees the lock on release', () => {
    const file = join(dir, 'a.lock');
    const first = acquireDataDirLock(file);
    assert.throws(
      () => acquireDataDirLock(file),
      (err: unknown) => {
        assert.ok(err instanceof DataDirLockedError);
        assert.equal(err.holderPid, process.pid);
        assert.match(err.message, /in use by another vigosrv/);
        return true;
      },
    );
    first.release();
    acquireDataDirLock(file).release();
  });

  it('is released by the kernel when the holder is killed with SIGKILL', async () => {
    const file = join(dir, 'b.lock');
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import('${join(import.meta.dirname, 'data-dir-lock.ts')}').then((m) => { m.acquireDataDirLock(${JSON.stringify(file)}); process.stdout.write('locked\\n'); setInterval(() => {}, 1000); })`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (chunk: Buffer) =>
        chunk.toString().includes('locked') ? resolve() : undefined,
      );
      holder.on('exit', (code) => reject(new Error(`holder exited early with ${code}`)));
    });
    assert.throws(() => acquireDataDirLock(file), DataDirLockedError);
    const exited = new Promise((resolve) => holder.on('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    acquireDataDirLock(file).release();
  });
});
