/**
 * The history pruner in a running vigosrv: runs past database.retention.runs are deleted by its own thread,
 * with their results, while each envoy's latest run and the audit log stay.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import type { ReadyServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-prune-e2e-');
let server: ReadyServer | undefined;
after(async () => {
  await server?.stop();
  temp.remove();
});

const day = 86_400_000;

function seedHistory(file: string): void {
  const db = new Database(file);
  try {
    const now = Date.now();
    db.transaction(() => {
      db.prepare(
        "INSERT INTO envoys (id, hostname, public_key, enrolled_at) VALUES ('e-1', 'old.example.com', randomblob(32), ?)",
      ).run(now - 100 * day);
      const run = db.prepare(
        `INSERT INTO runs (id, envoy_id, policy_version, started_at, finished_at, received_at, status)
         VALUES (?, 'e-1', 1, ?, ?, ?, 'converged')`,
      );
      const result = db.prepare(
        "INSERT INTO run_results (run_id, seq, resource_id, resource_type, outcome) VALUES (?, ?, ?, 'file', 'none')",
      );
      for (let d = 0; d < 40; d++) {
        const at = now - d * day - 60_000;
        run.run(`run-${d}`, at, at + 10, at + 20);
        for (let seq = 0; seq < 5; seq++) result.run(`run-${d}`, seq, `file:/etc/f${seq}`);
      }
    })();
  } finally {
    db.close();
  }
}

describe('history pruning in a running server', () => {
  it('deletes runs past retention with their results, keeping recent ones and the audit log', async () => {
    const first = await startServer({ dataDir: temp.path });
    assert.equal(await first.stop(), 0);
    const file = join(temp.path, 'db', 'vigo.db');
    seedHistory(file);
    const auditBefore = countRows(file, 'audit_log');

    server = await startServer({
      dataDir: temp.path,
      env: { VIGO_DATABASE_PRUNE_INTERVAL: '1s', VIGO_DATABASE_RETENTION_RUNS: '10d' },
    });
    const pass = await server.waitForLog(
      'a pruning pass that deleted runs',
      (line) => line.msg === 'history pruned' && (line['runs'] as number) > 0,
    );
    assert.equal(pass['runs'], 30);
    assert.equal(pass['tasks'], 0);
    assert.ok((pass['transactions'] as number) >= 1);
    assert.equal(await server.stop(), 0);
    server = undefined;

    assert.equal(countRows(file, 'runs'), 10);
    assert.equal(countRows(file, 'run_results'), 50, 'results went with their runs');
    assert.ok(countRows(file, 'audit_log') > auditBefore, 'the audit log only grew');
  });
});

function countRows(file: string, table: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  } finally {
    db.close();
  }
}
