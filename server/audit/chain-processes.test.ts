import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { listAudit, verifyAudit } from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'vigo-'));
after(() => rmSync(root, { recursive: true, force: true }));

const fixture = join(import.meta.dirname, 'concurrent-append.fixture.ts');
// `--import tsx` resolves from the working directory, so the children run from the repository root.
const repoRoot = join(import.meta.dirname, '..', '..');

function startAppender(file: string, count: number, actor: string): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', fixture, file, String(count), actor], { cwd: repoRoot });
}

async function readyLine(child: ChildProcessWithoutNullStreams): Promise<void> {
  let seen = '';
  for await (const chunk of child.stdout) {
    seen += String(chunk);
    if (seen.includes('ready\n')) return;
  }
  throw new Error(`appender exited before it was ready: ${seen}`);
}

describe('audit chain with several writer processes', () => {
  it('stays one gap-free, verifiable chain', async () => {
    const file = join(root, 'shared.db');
    openStore({ file, log: silentLogger, busyTimeoutMs: 1000 }).close();
    const perProcess = 300;
    const children = ['proc:a', 'proc:b'].map((actor) => startAppender(file, perProcess, actor));
    const stderr = children.map((child) => {
      const parts: string[] = [];
      child.stderr.on('data', (chunk) => parts.push(String(chunk)));
      return parts;
    });
    await Promise.all(children.map(readyLine));
    for (const child of children) child.stdin.write('go\n');
    const codes = await Promise.all(
      children.map(async (child) => (await once(child, 'exit'))[0] as number | null),
    );
    assert.deepEqual(codes, [0, 0], stderr.map((parts) => parts.join('')).join('\n'));

    const store = openStore({ file, log: silentLogger, busyTimeoutMs: 1000 });
    try {
      const result = verifyAudit(store.db);
      assert.equal(result.ok, true, JSON.stringify(result));
      assert.equal(result.count, 2 * perProcess);
      for (const actor of ['proc:a', 'proc:b']) {
        assert.equal(listAudit(store.db, { limit: 1000, actor }).length, perProcess);
      }
    } finally {
      store.close();
    }
  });
});
