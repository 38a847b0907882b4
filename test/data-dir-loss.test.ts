/**
 * Losing part of a data directory, with real vigosrv processes: on a server with an enrolled envoy, a
 * published configuration and a stored secret, a missing tls/ (or only ca.key, or only bundle-signing.key)
 * is exit 79 naming the files and the way back, with nothing created in tls/; a 0-byte database is exit
 * 74 with the file untouched; a lost vault or master key is exit 79. A fresh data directory, and one whose
 * database holds nothing that depends on the PKI, still start.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ServerProcess } from './helpers/server-process.ts';
import { makeTempDir, spawnServer, startServer } from './helpers/server-process.ts';

const fixture = makeTempDir('vigo-loss-fixture-');
const fixtureData = join(fixture.path, 'data');
const scratch: { remove(): void }[] = [];

after(() => {
  fixture.remove();
  for (const dir of scratch) dir.remove();
});

async function adminCall(server: Awaited<ReturnType<typeof startServer>>, path: string, body: unknown) {
  const token = readFileSync(join(server.dataDir, 'local-admin.token'), 'utf8').trim();
  const reply = await server.request(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(reply.status === 200 || reply.status === 201, `${path}: ${reply.status} ${reply.body}`);
}

/** An established server: one envoy, one published configuration, one secret; stopped cleanly. */
before(async () => {
  mkdirSync(fixtureData);
  const server = await startServer({ dataDir: fixtureData });
  try {
    await enrollAgent(server, await createEnrollToken(server, ['web-*']), 'web-1');
    await adminCall(server, '/api/v1/config/publish', {
      message: 'first',
      files: [
        {
          path: 'configcrates/motd.vgo',
          content:
            'name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /tmp/vigo-motd\n    content: "hi\\n"\n',
        },
        { path: 'roles.vgo', content: 'roles:\n  base:\n    configcrates: [motd]\n' },
        { path: 'envoys.vgo', content: 'envoys:\n  - match: "web-*"\n    roles: [base]\n' },
      ],
    });
    await adminCall(server, '/api/v1/secrets', { path: 'db/password', value: 's3cret' });
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

/** A copy of the established data dir, changed by `damage`. */
function damagedCopy(damage: (dataDir: string) => void): string {
  const dir = makeTempDir('vigo-loss-');
  scratch.push(dir);
  const dataDir = join(dir.path, 'data');
  cpSync(fixtureData, dataDir, { recursive: true });
  damage(dataDir);
  return dataDir;
}

function listing(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'base64')]));
}

/** The start must fail with `exitCode`; a server that comes up instead is stopped and the test fails. */
async function refusedStart(dataDir: string, exitCode: number): Promise<ServerProcess> {
  const proc = spawnServer({ dataDir });
  const outcome = await waitFor(
    'vigosrv to exit or become ready',
    () => {
      if (proc.exitCode() !== undefined) return 'exited';
      return proc.logs.some((line) => line.msg === 'ready') ? 'ready' : undefined;
    },
    30_000,
  );
  if (outcome === 'ready') {
    proc.child.kill('SIGTERM');
    await proc.exited();
    assert.fail(`vigosrv started instead of refusing with exit ${exitCode}`);
  }
  assert.equal(proc.exitCode(), exitCode, proc.stderr());
  return proc;
}

describe('missing PKI material on a server with a fleet', () => {
  it('tls/ removed: exit 79 naming every file and the restore path; tls/ is not re-created', async () => {
    const dataDir = damagedCopy((d) => rmSync(join(d, 'tls'), { recursive: true }));
    const proc = await refusedStart(dataDir, 79);
    const tls = join(dataDir, 'tls');
    assert.match(
      proc.stderr(),
      new RegExp(`PKI material is missing: ${tls}/ca\\.crt, ${tls}/ca\\.key, ${tls}/bundle-signing\\.key\\.`),
    );
    assert.match(
      proc.stderr(),
      /the database .*vigo\.db records 1 enrolled envoy and 1 published configuration version/,
    );
    assert.match(
      proc.stderr(),
      new RegExp(`Restore them from a backup of ${tls} \\(taken together with the database\\)`),
    );
    assert.equal(existsSync(tls), false, 'tls/ was re-created');
  });

  for (const file of ['ca.key', 'bundle-signing.key']) {
    it(`only ${file} removed: exit 79 naming it; nothing in tls/ changes`, async () => {
      const dataDir = damagedCopy((d) => rmSync(join(d, 'tls', file)));
      const before = listing(join(dataDir, 'tls'));
      const proc = await refusedStart(dataDir, 79);
      assert.match(
        proc.stderr(),
        new RegExp(`PKI material is missing: ${join(dataDir, 'tls', file)}\\. It cannot be re-created`),
      );
      assert.deepEqual(listing(join(dataDir, 'tls')), before);
    });
  }

  it('a published configuration alone is enough to keep the PKI from being re-created', async () => {
    const dataDir = damagedCopy((d) => {
      const db = new Database(join(d, 'db', 'vigo.db'));
      db.prepare('DELETE FROM envoys').run();
      db.close();
      rmSync(join(d, 'tls'), { recursive: true });
    });
    const proc = await refusedStart(dataDir, 79);
    assert.match(proc.stderr(), /records 1 published configuration version, and every envoy trusts/);
    assert.equal(existsSync(join(dataDir, 'tls')), false);
  });

  it('a data dir with nothing depending on its PKI may start over, as a fresh one does', async () => {
    const dir = makeTempDir('vigo-loss-fresh-');
    scratch.push(dir);
    const first = await startServer({ dataDir: dir.path });
    const oldCa = first.ca;
    assert.equal(await first.stop(), 0);
    rmSync(join(dir.path, 'tls'), { recursive: true });
    const second = await startServer({ dataDir: dir.path });
    assert.notEqual(second.ca, oldCa, 'a new CA');
    assert.equal(await second.stop(), 0);
  });
});

describe('an emptied or missing database', () => {
  it('0 bytes beside the PKI: exit 74 naming the file, which is left untouched', async () => {
    const dataDir = damagedCopy((d) => {
      for (const name of readdirSync(join(d, 'db'))) rmSync(join(d, 'db', name));
      writeFileSync(join(d, 'db', 'vigo.db'), '');
    });
    const dbFile = join(dataDir, 'db', 'vigo.db');
    const mtime = statSync(dbFile).mtimeMs;
    const proc = await refusedStart(dataDir, 74);
    assert.match(
      proc.stderr(),
      new RegExp(`the database ${dbFile} is empty \\(0 bytes\\) but .*tls holds this server's CA`),
    );
    assert.match(proc.stderr(), /Restore it .* from a backup/);
    assert.deepEqual([statSync(dbFile).size, statSync(dbFile).mtimeMs], [0, mtime]);
    assert.deepEqual(readdirSync(join(dataDir, 'db')), ['vigo.db'], 'nothing was created beside it');
  });

  it('0 bytes with a write-ahead log beside it: exit 74, the log is kept', async () => {
    const dir = makeTempDir('vigo-loss-wal-');
    scratch.push(dir);
    mkdirSync(join(dir.path, 'db'), { recursive: true });
    writeFileSync(join(dir.path, 'db', 'vigo.db'), '');
    writeFileSync(join(dir.path, 'db', 'vigo.db-wal'), Buffer.alloc(4096, 1));
    const proc = await refusedStart(dir.path, 74);
    assert.match(proc.stderr(), /its write-ahead log .*vigo\.db-wal still holds 4096 bytes/);
    assert.equal(statSync(join(dir.path, 'db', 'vigo.db-wal')).size, 4096);
  });

  it('missing beside the PKI: a new database is created, with a warning', async () => {
    const dataDir = damagedCopy((d) => rmSync(join(d, 'db'), { recursive: true }));
    const server = await startServer({ dataDir });
    try {
      await server.waitForLog(
        'the warning',
        (l) => l.level === 'warn' && /^no database: creating a new, empty one/.test(l.msg),
      );
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});

describe('a lost secrets vault', () => {
  it('master.key removed while the vault holds secrets: exit 79 naming it, no new key', async () => {
    const dataDir = damagedCopy((d) => rmSync(join(d, 'secrets', 'master.key')));
    const proc = await refusedStart(dataDir, 79);
    assert.match(proc.stderr(), /master\.key is missing while the vault holds secrets; restore master\.key/);
    assert.equal(existsSync(join(dataDir, 'secrets', 'master.key')), false);
  });

  it('secrets/ removed after a secret was stored: exit 79 naming vault.json; nothing is created', async () => {
    const dataDir = damagedCopy((d) => rmSync(join(d, 'secrets'), { recursive: true }));
    const proc = await refusedStart(dataDir, 79);
    assert.match(
      proc.stderr(),
      /the secrets vault .*secrets\/vault\.json is missing, but the audit log records 1 secret change/,
    );
    assert.equal(existsSync(join(dataDir, 'secrets')), false);
  });
});
