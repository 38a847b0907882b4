import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { appendAudit, listAudit, reanchorAudit, verifyAudit } from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'vigo-'));
after(() => rmSync(root, { recursive: true, force: true }));

const fixture = join(import.meta.dirname, 'concurrent-append.fixture.ts');
// `--import tsx` resolves from the working directory, so the children run from the repository root.
const repoRoot = join(import.meta.dirname, '..', '..');

function startAppender(
  file: string,
  count: number,
  actor: string,
  mode?: 'wait-on-refusal',
): ChildProcessWithoutNullStreams {
  const args = [
    '--import',
    'tsx',
    fixture,
    file,
    String(count),
    actor,
    ...(mode === undefined ? [] : [mode]),
  ];
  return spawn(process.execPath, args, { cwd: repoRoot });
}

/** Every stdout line of a child as it arrives, and a way to wait for one. */
function stdoutLines(child: ChildProcessWithoutNullStreams): { waitFor(line: string): Promise<void> } {
  const seen: string[] = [];
  const waiting: { line: string; resolve: () => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    seen.push(line);
    for (const w of waiting.filter((w) => w.line === line)) w.resolve();
  });
  return {
    waitFor: (line) =>
      new Promise((resolve, reject) => {
        if (seen.includes(line)) return resolve();
        waiting.push({ line, resolve });
        child.once('exit', (code) =>
          reject(new Error(`appender exited (${code}) before printing "${line}"`)),
        );
      }),
  };
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

  it('refuses in every process while the head is damaged, and goes on as one chain after a re-anchoring', async () => {
    const file = join(root, 'reanchored.db');
    const store = openStore({ file, log: silentLogger, busyTimeoutMs: 1000 });
    try {
      store.tx((db) => {
        for (let i = 0; i < 5; i++)
          appendAudit(db, { actor: 'setup', action: 'test.setup', target: String(i) });
      });
      store.db.prepare("DELETE FROM meta WHERE key = 'audit.head'").run();
      const perProcess = 50;
      const children = ['proc:c', 'proc:d'].map((actor) =>
        startAppender(file, perProcess, actor, 'wait-on-refusal'),
      );
      const output = children.map(stdoutLines);
      const exits = children.map(async (child) => (await once(child, 'exit'))[0] as number | null);
      await Promise.all(output.map((lines) => lines.waitFor('ready')));
      for (const child of children) child.stdin.write('go\n');
      await Promise.all(output.map((lines) => lines.waitFor('refused')));
      assert.equal(
        store.db.prepare('SELECT count(*) FROM audit_log').pluck().get(),
        5,
        'a refused append landed',
      );

      store.tx((db) => reanchorAudit(db, { actor: 'local-admin', reason: 'head row lost' }));
      for (const child of children) child.stdin.write('again\n');
      assert.deepEqual(await Promise.all(exits), [0, 0]);

      const result = verifyAudit(store.db);
      assert.equal(result.ok, true, JSON.stringify(result));
      assert.equal(result.count, 5 + 1 + 2 * perProcess);
      assert.deepEqual(
        result.reanchored?.map((note) => [note.seq, note.actor]),
        [[6, 'local-admin']],
      );
    } finally {
      store.close();
    }
  });
});
