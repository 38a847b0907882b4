/**
 * Signed checkpoints: they verify only under the key that signed them and only unaltered, and a chain
 * checked against one exposes what verify alone cannot see — a rewrite that recomputed every hash and the
 * recorded head, or a truncation with the head moved back — while an untouched, grown chain still passes.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isVigoError, silentLogger } from '../core/index.ts';
import { runMigrations } from '../store/index.ts';
import type { Db } from '../store/index.ts';
import {
  appendAudit,
  auditGenesisHash,
  canonicalJson,
  checkpointKeyId,
  checkpointSignatureProblem,
  computeAuditHash,
  createAuditCheckpoint,
  parseAuditCheckpoint,
  parseAuditCheckpoints,
  verifyAudit,
} from './index.ts';
import type { AuditCheckpoint } from './index.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');

function chain(length: number): Db {
  const db = new Database(':memory:');
  runMigrations(db, { log: silentLogger });
  db.transaction(() => {
    for (let i = 1; i <= length; i++)
      appendAudit(db, { actor: 'user:ann', action: 'auth.login', target: `user:${i}`, details: { i } });
  })();
  return db;
}

interface Row {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  details: string;
}

/** What an attacker with the database file can do: rewrite from `fromSeq` on, recomputing every hash and the head. */
function rewriteFrom(db: Db, fromSeq: number, edit: (row: Row) => Row): void {
  db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete');
  const rows = db
    .prepare<[], Row>('SELECT seq, at, actor, action, target, details FROM audit_log ORDER BY seq')
    .all();
  let prevHash = auditGenesisHash;
  for (const original of rows) {
    const row = original.seq >= fromSeq ? edit(original) : original;
    const details: unknown = JSON.parse(row.details);
    const hash = computeAuditHash(prevHash, { ...row, details });
    db.prepare('UPDATE audit_log SET target = ?, details = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(
      row.target,
      canonicalJson(details),
      prevHash,
      hash,
      row.seq,
    );
    prevHash = hash;
  }
  db.prepare("UPDATE meta SET value = ? WHERE key = 'audit.head'").run(
    JSON.stringify({ seq: rows.length, hash: prevHash }),
  );
}

function anchorOf(checkpoint: AuditCheckpoint): { seq: number; hash: string } {
  return { seq: checkpoint.seq, hash: checkpoint.headHash };
}

describe('audit checkpoints', () => {
  it('are signed over the head and verify only unaltered and under their own key', () => {
    const db = chain(5);
    const checkpoint = createAuditCheckpoint(db, privateKey, Date.UTC(2026, 0, 2));
    assert.equal(checkpoint.seq, 5);
    const verified = verifyAudit(db);
    assert.ok(verified.ok);
    assert.equal(checkpoint.headHash, verified.headHash);
    assert.equal(checkpoint.at, '2026-01-02T00:00:00.000Z');
    assert.equal(checkpoint.keyId, checkpointKeyId(publicKey));
    assert.equal(checkpointSignatureProblem(checkpoint, publicKey), undefined);
    for (const altered of [
      { ...checkpoint, seq: 4 },
      { ...checkpoint, headHash: auditGenesisHash },
      { ...checkpoint, at: '2026-01-03T00:00:00.000Z' },
    ])
      assert.match(checkpointSignatureProblem(altered, publicKey) ?? '', /does not verify/);
    assert.match(checkpointSignatureProblem(checkpoint, other.publicKey) ?? '', /names signing key/);
    const forgedKeyId = { ...checkpoint, keyId: checkpointKeyId(other.publicKey) };
    assert.match(checkpointSignatureProblem(forgedKeyId, other.publicKey) ?? '', /does not verify/);
    db.close();
  });

  it('an empty chain checkpoints seq 0 at the genesis hash', () => {
    const db = chain(0);
    const checkpoint = createAuditCheckpoint(db, privateKey);
    assert.deepEqual([checkpoint.seq, checkpoint.headHash], [0, auditGenesisHash]);
    assert.equal(verifyAudit(db, { anchors: [anchorOf(checkpoint)] }).ok, true);
    db.close();
  });

  it('are refused for a chain whose head does not match its newest entry', () => {
    const db = chain(3);
    db.prepare("DELETE FROM meta WHERE key = 'audit.head'").run();
    assert.throws(
      () => createAuditCheckpoint(db, privateKey),
      (err) => isVigoError(err) && err.code === 'audit.chain_broken',
    );
    db.close();
  });

  it('expose a rewrite behind them that recomputed every hash and the recorded head', () => {
    for (const fromSeq of [1, 3, 5]) {
      const db = chain(5);
      const checkpoint = createAuditCheckpoint(db, privateKey);
      db.transaction(() => appendAudit(db, { actor: 'user:bob', action: 'auth.login', target: 'later' }))();
      rewriteFrom(db, fromSeq, (row) => ({ ...row, target: `${row.target}-forged` }));
      assert.equal(verifyAudit(db).ok, true, 'the rewrite is invisible without an anchor');
      const result = verifyAudit(db, { anchors: [anchorOf(checkpoint)] });
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.brokenSeq, 5);
        assert.match(result.reason, /^rewritten: entry 5/);
      }
      db.close();
    }
  });

  it('expose a truncation behind them, even with the head moved back', () => {
    const db = chain(5);
    const checkpoint = createAuditCheckpoint(db, privateKey);
    db.exec('DROP TRIGGER audit_log_no_delete');
    db.prepare('DELETE FROM audit_log WHERE seq > 3').run();
    const three = db.prepare<[], string>('SELECT hash FROM audit_log WHERE seq = 3').pluck().get();
    db.prepare("UPDATE meta SET value = ? WHERE key = 'audit.head'").run(
      JSON.stringify({ seq: 3, hash: three }),
    );
    assert.equal(verifyAudit(db).ok, true, 'the truncation is invisible without an anchor');
    const result = verifyAudit(db, { anchors: [anchorOf(checkpoint)] });
    assert.deepEqual(result.ok ? undefined : [result.brokenSeq, result.reason.split(':')[0]], [
      4,
      'truncated',
    ]);
    db.close();
  });

  it('hold for an untouched chain that has grown since', () => {
    const db = chain(4);
    const checkpoints = [createAuditCheckpoint(db, privateKey)];
    db.transaction(() => appendAudit(db, { actor: 'user:bob', action: 'auth.login', target: 'later' }))();
    checkpoints.push(createAuditCheckpoint(db, privateKey));
    const result = verifyAudit(db, { anchors: checkpoints.map(anchorOf) });
    assert.deepEqual([result.ok, result.count, result.anchorsChecked], [true, 5, 2]);
    db.close();
  });

  it('parse strictly, from one document or one per line, naming the bad line', () => {
    const db = chain(2);
    const a = createAuditCheckpoint(db, privateKey);
    const b = createAuditCheckpoint(db, privateKey);
    assert.deepEqual(parseAuditCheckpoints(`${JSON.stringify(a)}\n\n${JSON.stringify(b)}\n`, 'cp.jsonl'), [
      a,
      b,
    ]);
    assert.deepEqual(parseAuditCheckpoints(JSON.stringify(a, null, 2), 'cp.json'), [a]);
    const bad = (text: string, pattern: RegExp): void =>
      assert.throws(
        () => parseAuditCheckpoints(text, 'cp.jsonl'),
        (err) => isVigoError(err) && err.code === 'audit.checkpoint_invalid' && pattern.test(err.message),
        text,
      );
    bad('', /holds no checkpoint/);
    bad(`${JSON.stringify(a)}\nnot json`, /^cp\.jsonl:2: not JSON/);
    bad(JSON.stringify({ ...a, extra: 1 }), /unknown field "extra"/);
    bad(JSON.stringify({ ...a, seq: -1 }), /seq must be/);
    bad(JSON.stringify({ ...a, headHash: 'ABC' }), /headHash/);
    bad(JSON.stringify({ ...a, signature: 'c2hvcnQ=' }), /base64 of 64 bytes/);
    bad(JSON.stringify({ ...a, format: 'other' }), /format must be/);
    const { signature: _signature, ...unsigned } = a;
    assert.throws(() => parseAuditCheckpoint(unsigned), /field "signature" is missing/);
    db.close();
  });
});
