/**
 * Signed audit checkpoints with a real vigosrv, its SQLite file and the real bin/vigocli: periodic ones land
 * in the configured file and at a real local HTTP receiver (a failing receiver is counted, not fatal); a
 * checkpoint taken on demand verifies while the chain is untouched, and `verify --checkpoint` exits 1 for a
 * forged signature, a truncation and a rewrite behind the checkpoint — both done as a capable attacker
 * would, recomputing every hash and the recorded head so that plain `verify` still says ok. Re-anchoring
 * a damaged head goes through `vigocli audit reanchor`.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { AuditCheckpoint } from '../server/audit/index.ts';
import { auditGenesisHash, checkpointSignatureProblem, computeAuditHash } from '../server/audit/index.ts';
import { publicKeyFromRaw } from '../protocol/index.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, spawnServer, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';
import type { CliRun } from './helpers/vigocli.ts';

const temp = makeTempDir('vigo-checkpoints-');
const home = makeTempDir('vigo-checkpoints-home-');
const anchorDir = join(temp.path, 'anchor');
const periodicFile = join(anchorDir, 'periodic.jsonl');
const dbFile = join(temp.path, 'data', 'db', 'vigo.db');

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
let receiverStatus = 200;
let receiver: Server;
let receiverPort = 0;
let server: ReadyServer;

before(async () => {
  mkdirSync(anchorDir);
  mkdirSync(join(temp.path, 'data'));
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = receiverStatus;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  receiverPort = port;
  server = await startServer({
    dataDir: join(temp.path, 'data'),
    env: {
      VIGO_AUDIT_CHECKPOINT_INTERVAL: '200ms',
      VIGO_AUDIT_CHECKPOINT_FILE: periodicFile,
      VIGO_AUDIT_CHECKPOINT_WEBHOOK: `http://127.0.0.1:${port}/checkpoints?tenant=a`,
    },
  });
});

after(async () => {
  await server?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
  temp.remove();
  home.remove();
});

function adminHeaders(): Record<string, string> {
  const token = readFileSync(join(temp.path, 'data', 'local-admin.token'), 'utf8').trim();
  return { authorization: `Bearer ${token}` };
}

function vigocli(...args: string[]): Promise<CliRun> {
  return runVigocli(
    ['--server', server.apiUrl, '--data-dir', join(temp.path, 'data'), ...args],
    cleanCliEnv(home.path),
    home.path,
  );
}

async function ok(run: Promise<CliRun>): Promise<CliRun> {
  const done = await run;
  assert.equal(done.code, 0, `${done.stdout}\n${done.stderr}`);
  return done;
}

async function refused(run: Promise<CliRun>, code: string, message: RegExp): Promise<void> {
  const done = await run;
  assert.equal(done.code, 1, `${done.stdout}\n${done.stderr}`);
  assert.match(done.stderr, new RegExp(`vigocli: ${code.replace('.', '\\.')}: `));
  assert.match(done.stderr, message);
}

function lines(file: string): AuditCheckpoint[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditCheckpoint);
}

async function auditedAction(name: string): Promise<void> {
  await ok(vigocli('webusers', 'create', '--username', name, '--role', 'viewer'));
}

/** A capable attacker: edit the database, then recompute every hash from `fromSeq` and the recorded head. */
function attack(edit: (db: Database.Database) => void, fromSeq: number): void {
  const db = new Database(dbFile);
  try {
    db.pragma('busy_timeout = 5000');
    db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete');
    db.transaction(() => {
      edit(db);
      type Row = { seq: number; at: number; actor: string; action: string; target: string; details: string };
      const rows = db
        .prepare<[], Row>('SELECT seq, at, actor, action, target, details FROM audit_log ORDER BY seq')
        .all();
      let prevHash = auditGenesisHash;
      for (const row of rows) {
        const hash = computeAuditHash(prevHash, { ...row, details: JSON.parse(row.details) as unknown });
        if (row.seq >= fromSeq)
          db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?').run(
            prevHash,
            hash,
            row.seq,
          );
        prevHash = hash;
      }
      const seq = rows.at(-1)?.seq ?? 0;
      db.prepare("UPDATE meta SET value = ? WHERE key = 'audit.head'").run(
        JSON.stringify({ seq, hash: prevHash }),
      );
    })();
    // and puts the guards back, leaving the schema as it was
    db.exec(`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be deleted'); END`);
  } finally {
    db.close();
  }
}

describe('periodic audit checkpoints', () => {
  it('go to the file and the webhook, signed with the server key', async () => {
    await waitFor('two checkpoints in the file and at the receiver', () =>
      received.length >= 2 && lines(periodicFile).length >= 2 ? true : undefined,
    );
    const verified = await server.request('/api/v1/audit/verify', { headers: adminHeaders() });
    const key = publicKeyFromRaw(
      Buffer.from(
        verified.json<{ checkpointKey: { publicKey: string } }>().checkpointKey.publicKey,
        'base64',
      ),
    );
    const fromFile = lines(periodicFile);
    const posted = received.slice(0, 2).map((r) => JSON.parse(r.body) as AuditCheckpoint);
    for (const checkpoint of [...fromFile, ...posted])
      assert.equal(checkpointSignatureProblem(checkpoint, key), undefined);
    assert.deepEqual(posted, fromFile.slice(0, 2), 'the same checkpoints reach both destinations');
    assert.equal(received[0]?.headers['content-type'], 'application/json');
    assert.match(String(received[0]?.headers['user-agent']), /^vigosrv\//);
  });

  it('survive a failing receiver: counted, logged, and the server carries on', async () => {
    receiverStatus = 500;
    try {
      await waitFor('a failed webhook delivery in /metrics', async () => {
        const reply = await server.request('/metrics', { headers: adminHeaders() });
        return /vigo_audit_checkpoints_total\{destination="webhook",outcome="failed"\} [1-9]/.test(reply.body)
          ? true
          : undefined;
      });
      // Logged without the query string, which may carry a receiver's credentials.
      await server.waitForLog(
        'the failure logged',
        (l) =>
          l.msg === 'audit checkpoint could not be exported' &&
          l['to'] === `http://127.0.0.1:${receiverPort}/checkpoints`,
      );
      assert.equal((await server.request('/healthz')).status, 200);
    } finally {
      receiverStatus = 200;
    }
  });

  it('refuse to start with a checkpoint file in a directory that does not exist (exit 78)', async () => {
    const dir = makeTempDir('vigo-checkpoints-bad-');
    try {
      const proc = spawnServer({
        dataDir: dir.path,
        env: { VIGO_AUDIT_CHECKPOINT_FILE: join(dir.path, 'nowhere', 'cp.jsonl') },
      });
      assert.equal(await proc.exited(), 78, proc.stderr());
      assert.match(
        proc.stderr(),
        /audit\.checkpoint_file .*nowhere\/cp\.jsonl: the directory .*nowhere does not exist/,
      );
    } finally {
      dir.remove();
    }
  });
});

describe('vigocli audit checkpoint and verify --checkpoint', () => {
  const taken = join(anchorDir, 'taken.jsonl');

  it('an untouched chain holds its checkpoints, also after it has grown', async () => {
    await auditedAction('cp-one');
    const appended = await ok(vigocli('audit', 'checkpoint', '--output', taken));
    assert.match(
      appended.stdout,
      /^Checkpoint of seq \d+ \(head [0-9a-f]{64}\) signed by key [0-9a-f]{16} appended to /,
    );
    await auditedAction('cp-two');
    const printed = await ok(vigocli('audit', 'checkpoint'));
    writeFileSync(taken, printed.stdout, { flag: 'a' });
    const verified = await ok(vigocli('audit', 'verify', '--checkpoint', taken));
    assert.match(verified.stdout, /^Audit chain intact: \d+ entries verified; head [0-9a-f]{64}\.$/m);
    assert.match(verified.stdout, /It holds all 2 checkpoint\(s\) in .*taken\.jsonl/);
    await ok(vigocli('audit', 'verify', '--checkpoint', periodicFile));
  });

  it('a forged or foreign signature fails, and a pinned key is used when given', async () => {
    const [first] = lines(taken);
    assert.ok(first);
    const signature = Buffer.from(first.signature, 'base64');
    signature[0] = (signature[0] ?? 0) ^ 0xff;
    const forged = join(anchorDir, 'forged.jsonl');
    writeFileSync(forged, `${JSON.stringify({ ...first, signature: signature.toString('base64') })}\n`);
    await refused(
      vigocli('audit', 'verify', '--checkpoint', forged),
      'cli.audit_checkpoint_invalid',
      /signature does not verify/,
    );
    const moved = join(anchorDir, 'moved.jsonl');
    writeFileSync(moved, `${JSON.stringify({ ...first, seq: first.seq - 1 })}\n`);
    await refused(
      vigocli('audit', 'verify', '--checkpoint', moved),
      'cli.audit_checkpoint_invalid',
      /signature does not verify/,
    );

    const foreignKey = join(anchorDir, 'foreign.pem');
    writeFileSync(
      foreignKey,
      generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
    );
    await refused(
      vigocli('audit', 'verify', '--checkpoint', taken, '--key', foreignKey),
      'cli.audit_checkpoint_invalid',
      /names signing key/,
    );
    const bundleKey = join(anchorDir, 'bundle.pem');
    const pem = readFileSync(join(temp.path, 'data', 'tls', 'bundle-signing.key'), 'utf8');
    writeFileSync(bundleKey, createPublicKey(pem).export({ type: 'spki', format: 'pem' }));
    const pinned = await ok(vigocli('audit', 'verify', '--checkpoint', taken, '--key', bundleKey));
    assert.match(pinned.stdout, /from .*bundle\.pem\)/);
  });

  it('a truncation behind a checkpoint fails, though plain verify is fooled', async () => {
    const before = join(anchorDir, 'before-truncation.jsonl');
    await ok(vigocli('audit', 'checkpoint', '--output', before));
    const { seq } = lines(before)[0] ?? { seq: 0 };
    attack((db) => db.prepare('DELETE FROM audit_log WHERE seq > ?').run(seq - 2), seq + 1);
    await ok(vigocli('audit', 'verify'));
    await refused(
      vigocli('audit', 'verify', '--checkpoint', before),
      'cli.audit_chain_broken',
      new RegExp(`truncated: the chain ends at seq ${seq - 2}, but a checkpoint recorded seq ${seq}`),
    );
  });

  it('a rewrite behind a checkpoint fails, though every hash and the head were recomputed', async () => {
    await auditedAction('cp-three');
    const before = join(anchorDir, 'before-rewrite.jsonl');
    await ok(vigocli('audit', 'checkpoint', '--output', before));
    const { seq } = lines(before)[0] ?? { seq: 0 };
    attack(
      (db) => db.prepare("UPDATE audit_log SET target = 'user:nobody' WHERE seq = ?").run(seq - 1),
      seq - 1,
    );
    await ok(vigocli('audit', 'verify'));
    await refused(
      vigocli('audit', 'verify', '--checkpoint', before),
      'cli.audit_chain_broken',
      new RegExp(`broken at seq ${seq}: rewritten: entry ${seq} now has hash`),
    );
    // The server went on signing the rewritten chain; the older lines of its own file still expose it.
    await refused(
      vigocli('audit', 'verify', '--checkpoint', periodicFile),
      'cli.audit_chain_broken',
      /rewritten|truncated/,
    );
  });
});

describe('vigocli audit reanchor', () => {
  it('records a damaged head and lets audited actions continue; verify shows it from then on', async () => {
    const db = new Database(dbFile);
    try {
      db.prepare("DELETE FROM meta WHERE key = 'audit.head'").run();
    } finally {
      db.close();
    }
    const blocked = await vigocli('webusers', 'create', '--username', 'blocked', '--role', 'viewer');
    assert.equal(blocked.code, 1);
    assert.match(
      blocked.stderr,
      /audit\.chain_broken: "user\.created" was refused because it cannot be audited/,
    );
    const noReason = await vigocli('audit', 'reanchor', '--yes');
    assert.equal(noReason.code, 2);
    const anchored = await ok(
      vigocli('audit', 'reanchor', '--reason', 'meta row lost in a bad restore', '--yes'),
    );
    assert.match(
      anchored.stdout,
      /^Audit chain re-anchored at seq \d+; recorded: the recorded chain head .* is missing/,
    );
    await auditedAction('after-reanchor');
    const verified = await vigocli('audit', 'verify');
    assert.match(
      verified.stdout,
      /Re-anchored at seq \d+ on .* by local-admin: the recorded chain head .* is missing .*\(reason: meta row lost in a bad restore\)/,
    );
  });
});

describe('the audit routes refuse hostile bodies', () => {
  const post = (path: string, body: unknown) =>
    server.request(path, {
      method: 'POST',
      headers: { ...adminHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const codeOf = (reply: { body: string }): string => (JSON.parse(reply.body) as { code: string }).code;

  it('takes at most 5,000 well-formed SEQ:HASH anchors, and a reason of at most 500 characters', async () => {
    const anchor = `1:${'a'.repeat(64)}`;
    for (const body of [
      { anchors: ['not-an-anchor'] },
      { anchors: [`1:${'A'.repeat(64)}`] },
      { anchors: [`${'9'.repeat(17)}:${'a'.repeat(64)}`] },
      { anchors: Array.from({ length: 5001 }, () => anchor) },
      { anchors: [anchor], extra: true },
    ]) {
      const reply = await post('/api/v1/audit/verify', body);
      assert.equal(reply.status, 400, reply.body);
      assert.equal(codeOf(reply), 'request.invalid');
    }
    const tooLong = await post('/api/v1/audit/reanchor', { reason: 'r'.repeat(501) });
    assert.equal(tooLong.status, 400, tooLong.body);
    assert.equal(codeOf(tooLong), 'request.invalid');
  });
});
