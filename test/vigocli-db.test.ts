/**
 * `vigocli db …` (the real bin/vigocli) against a real vigosrv: statistics, checks and pruning run on the
 * server's maintenance thread, answer as documented, and are audited.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';
import type { CliRun } from './helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-clidb-srv-');
const home = makeTempDir('vigo-clidb-home-');
let server: ReadyServer;
const day = 86_400_000;

function vigocli(args: string[]): Promise<CliRun> {
  return runVigocli(
    ['--server', server.apiUrl, '--data-dir', serverDir.path, ...args],
    cleanCliEnv(home.path, { XDG_CONFIG_HOME: join(home.path, 'config') }),
    home.path,
  );
}

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`);
  return run;
}

/** Writes old runs beside the running server (WAL: a second connection may write). */
function seedOldRuns(): void {
  const db = new Database(join(serverDir.path, 'db', 'vigo.db'), { timeout: 5000 });
  try {
    const now = Date.now();
    db.transaction(() => {
      db.prepare(
        "INSERT INTO envoys (id, hostname, public_key, enrolled_at) VALUES ('e-db', 'db-host.example.com', randomblob(32), ?)",
      ).run(now - 90 * day);
      const run = db.prepare(
        `INSERT INTO runs (id, envoy_id, policy_version, started_at, finished_at, received_at, status)
         VALUES (?, 'e-db', 1, ?, ?, ?, 'converged')`,
      );
      for (let d = 0; d < 20; d++) {
        const at = now - d * day - 60_000;
        run.run(`db-run-${d}`, at, at, at);
      }
    })();
  } finally {
    db.close();
  }
}

before(async () => {
  server = await startServer({ dataDir: serverDir.path });
});
after(async () => {
  await server?.stop();
  serverDir.remove();
  home.remove();
});

describe('vigocli db', () => {
  it('stats counts rows per table on the server', async () => {
    const run = ok(await vigocli(['db', 'stats', '-o', 'json']));
    const stats = JSON.parse(run.stdout) as { pageSize: number; tables: { name: string; rows: number }[] };
    assert.ok(stats.pageSize > 0);
    const audit = stats.tables.find((t) => t.name === 'audit_log');
    assert.ok(audit !== undefined && audit.rows > 0, 'the audit log has the start-up entries');
    assert.ok(stats.tables.some((t) => t.name === 'runs'));
    const human = ok(await vigocli(['db', 'stats']));
    assert.match(human.stdout, /^Database: /);
    assert.match(human.stdout, /TABLE\s+ROWS\s+SIZE/);
  });

  it('integrity, analyze and checkpoint succeed on a healthy database', async () => {
    assert.match(ok(await vigocli(['db', 'integrity'])).stdout, /^ok: /);
    assert.match(ok(await vigocli(['db', 'analyze'])).stdout, /statistics refreshed/);
    assert.match(ok(await vigocli(['db', 'checkpoint'])).stdout, /Checkpoint/);
  });

  it('prune deletes what is older than asked, after confirmation, and is audited', async () => {
    seedOldRuns();
    const unconfirmed = await vigocli(['db', 'prune', '--older-than', '10d']);
    assert.equal(unconfirmed.code, 2, 'no terminal to confirm on: --yes is required');
    const tooYoung = await vigocli(['db', 'prune', '--older-than', '10m', '--yes']);
    assert.equal(tooYoung.code, 1);
    assert.match(tooYoung.stderr, /db\.prune_invalid/);
    const unknown = await vigocli(['db', 'prune', '--older-than', '10d', '--history', 'audit', '--yes']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown history audit/);

    const run = ok(
      await vigocli(['db', 'prune', '--older-than', '10d', '--history', 'runs', '--yes', '-o', 'json']),
    );
    const answer = JSON.parse(run.stdout) as { deleted: Record<string, number> };
    assert.equal(answer.deleted['runs'], 10, 'runs 10 to 19 days old; the newest is kept either way');
    assert.equal(answer.deleted['tasks'], 0);

    const audit = await server.request('/api/v1/audit?action=db.pruned', {
      headers: { authorization: `Bearer ${localAdminToken()}` },
    });
    assert.equal(audit.status, 200, audit.body);
    assert.match(audit.body, /"db\.pruned"/);
  });

  it('vacuum rebuilds the file on the server, reports the sizes and is audited', async () => {
    const run = ok(await vigocli(['db', 'vacuum', '-o', 'json']));
    const answer = JSON.parse(run.stdout) as { ran: boolean; beforeBytes: number; afterBytes: number };
    assert.equal(answer.ran, true);
    assert.ok(answer.beforeBytes > 0 && answer.afterBytes > 0);
    assert.match(ok(await vigocli(['db', 'vacuum'])).stdout, /^Vacuumed in .* before, .* after/);
    const audit = await server.request('/api/v1/audit?action=db.vacuum', {
      headers: { authorization: `Bearer ${localAdminToken()}` },
    });
    assert.equal(audit.status, 200, audit.body);
    assert.match(audit.body, /"db\.vacuum"/);
    assert.match(ok(await vigocli(['db', 'integrity'])).stdout, /^ok: /);
  });
});

function localAdminToken(): string {
  return readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
}
