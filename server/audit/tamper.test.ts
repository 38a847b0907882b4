/**
 * Property tests: for random chains, an untouched chain verifies and every kind of tampering done directly in
 * SQL (edit, delete, forged insert, reorder) is caught at the right entry; damage at the end of the chain
 * makes appends refuse (instead of linking past it) until a re-anchoring records it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { isVigoError, silentLogger } from '../core/index.ts';
import type { VigoError } from '../core/index.ts';
import { runMigrations } from '../store/index.ts';
import type { Db } from '../store/index.ts';
import {
  appendAudit,
  auditGenesisHash,
  canonicalJson,
  computeAuditHash,
  reanchorAudit,
  verifyAudit,
} from './index.ts';
import type { AuditEntry } from './index.ts';

const runs = { numRuns: 100 };

const entryArb: fc.Arbitrary<AuditEntry> = fc.record({
  actor: fc.string({ maxLength: 10 }).map((name) => `user:${name}`),
  action: fc.stringMatching(/^[a-z][a-z0-9_.-]{0,10}$/),
  target: fc.string({ maxLength: 10 }),
  details: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  at: fc.integer({ min: 0, max: 2 ** 43 }),
});
const chainArb = (minLength: number): fc.Arbitrary<AuditEntry[]> =>
  fc.array(entryArb, { minLength, maxLength: 10 });
const hexArb = fc.stringMatching(/^[0-9a-f]{64}$/);

interface Row {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  details: string;
  prev_hash: string;
  hash: string;
}
const contentColumns = ['at', 'actor', 'action', 'target', 'details', 'prev_hash', 'hash'] as const;

/** A migrated in-memory database holding the chain, with audit_log stripped of the constraints and
 * triggers that would stop the tampering (an attacker with the file can do the same). */
function tamperableChain(entries: readonly AuditEntry[]): Db {
  const db = new Database(':memory:');
  runMigrations(db, { log: silentLogger });
  db.transaction(() => {
    for (const entry of entries) appendAudit(db, entry);
  })();
  db.exec(
    'CREATE TABLE loose AS SELECT * FROM audit_log; DROP TABLE audit_log; ALTER TABLE loose RENAME TO audit_log;',
  );
  return db;
}

function rowAt(db: Db, seq: number): Row {
  const row = db.prepare<[number], Row>('SELECT * FROM audit_log WHERE seq = ?').get(seq);
  assert.ok(row, `row ${seq} exists`);
  return row;
}

function setColumns(db: Db, seq: number, values: Partial<Row>): void {
  const columns = Object.keys(values);
  db.prepare(`UPDATE audit_log SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE seq = @where`).run({
    ...values,
    where: seq,
  });
}

function assertBroken(db: Db, brokenSeq: number, reason?: RegExp): void {
  const result = verifyAudit(db);
  assert.equal(result.ok, false, 'tampering was not detected');
  if (result.ok) return;
  assert.equal(result.brokenSeq, brokenSeq, result.reason);
  if (reason) assert.match(result.reason, reason);
}

type Field = 'seq' | 'details-spacing' | (typeof contentColumns)[number];

function editedValue(
  field: Field,
  row: Row,
  chainLength: number,
  text: string,
  num: number,
  hex: string,
): Partial<Row> {
  switch (field) {
    case 'seq':
      return { seq: chainLength + 2 + (Math.abs(num) % 5) };
    case 'at':
      return { at: row.at + (num === 0 ? 1 : num) };
    case 'actor':
    case 'action':
    case 'target':
      return { [field]: row[field] + text };
    case 'details':
      return { details: canonicalJson({ tampered: text, was: row.details }) };
    case 'details-spacing':
      return { details: ` ${row.details}` };
    case 'prev_hash':
    case 'hash':
      return { [field]: hex === row[field] ? hex.replace(/^./, hex.startsWith('0') ? '1' : '0') : hex };
  }
}

describe('audit chain under tampering', () => {
  it('an untouched chain verifies', () => {
    fc.assert(
      fc.property(chainArb(0), (entries) => {
        const db = new Database(':memory:');
        runMigrations(db, { log: silentLogger });
        const records = db.transaction(() => entries.map((entry) => appendAudit(db, entry)))();
        assert.deepEqual(verifyAudit(db), {
          ok: true,
          count: entries.length,
          headHash: records.at(-1)?.hash ?? auditGenesisHash,
        });
        db.close();
      }),
      runs,
    );
  });

  it('editing any field of any entry is detected at that entry', () => {
    const fieldArb = fc.constantFrom<Field>('seq', 'details-spacing', ...contentColumns);
    fc.assert(
      fc.property(
        chainArb(1),
        fc.nat(),
        fieldArb,
        fc.string({ minLength: 1, maxLength: 6 }),
        fc.integer(),
        hexArb,
        (entries, pick, field, text, num, hex) => {
          const db = tamperableChain(entries);
          const seq = (pick % entries.length) + 1;
          setColumns(db, seq, editedValue(field, rowAt(db, seq), entries.length, text, num, hex));
          assertBroken(db, seq);
          db.close();
        },
      ),
      runs,
    );
  });

  it('deleting any entry, the last one included, is detected', () => {
    fc.assert(
      fc.property(chainArb(1), fc.nat(), (entries, pick) => {
        const db = tamperableChain(entries);
        const seq = (pick % entries.length) + 1;
        db.prepare('DELETE FROM audit_log WHERE seq = ?').run(seq);
        assertBroken(db, seq, seq === entries.length ? /^truncated/ : /^gap/);
        db.close();
      }),
      runs,
    );
  });

  it('inserting a forged entry anywhere is detected, even one correctly linked and hashed', () => {
    fc.assert(
      fc.property(
        chainArb(1),
        fc.nat(),
        entryArb,
        fc.boolean(),
        hexArb,
        (entries, pick, forged, linked, hex) => {
          const db = tamperableChain(entries);
          const seq = (pick % (entries.length + 1)) + 1;
          const prevHash = seq === 1 ? auditGenesisHash : rowAt(db, seq - 1).hash;
          const details = forged.details ?? {};
          const content = {
            seq,
            at: forged.at ?? 0,
            actor: forged.actor,
            action: forged.action,
            target: forged.target,
          };
          const hash = linked ? computeAuditHash(prevHash, { ...content, details }) : hex;
          db.prepare('UPDATE audit_log SET seq = seq + 1 WHERE seq >= ?').run(seq);
          db.prepare(
            'INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          ).run(
            seq,
            content.at,
            content.actor,
            content.action,
            content.target,
            canonicalJson(details),
            prevHash,
            hash,
          );
          // A well-forged entry verifies itself; the entry it displaced (or the recorded head) gives it away.
          assertBroken(db, linked ? Math.min(seq + 1, entries.length + 1) : seq);
          db.close();
        },
      ),
      runs,
    );
  });

  it('swapping two entries is detected and reported as reordering', () => {
    fc.assert(
      fc.property(chainArb(2), fc.nat(), fc.nat(), (entries, pickA, pickB) => {
        const db = tamperableChain(entries);
        const first = (pickA % entries.length) + 1;
        const second = ((first - 1 + 1 + (pickB % (entries.length - 1))) % entries.length) + 1;
        const [a, b] = [rowAt(db, first), rowAt(db, second)];
        const content = (row: Row): Partial<Row> =>
          Object.fromEntries(contentColumns.map((c) => [c, row[c]]));
        setColumns(db, first, content(b));
        setColumns(db, second, content(a));
        assertBroken(db, Math.min(first, second), /^reordered/);
        db.close();
      }),
      runs,
    );
  });

  it('a missing or rewritten head record is detected', () => {
    fc.assert(
      fc.property(chainArb(1), hexArb, fc.boolean(), (entries, hex, remove) => {
        const db = tamperableChain(entries);
        if (remove) db.prepare("DELETE FROM meta WHERE key = 'audit.head'").run();
        else
          db.prepare("UPDATE meta SET value = ? WHERE key = 'audit.head'").run(
            JSON.stringify({ seq: entries.length, hash: hex }),
          );
        assertBroken(db, entries.length, remove ? /missing/ : /head mismatch/);
        db.close();
      }),
      runs,
    );
  });
});

/** The kinds of damage at the end of the chain that an append used to paper over. */
type EndTamper = 'delete-newest' | 'append-forged' | 'delete-head' | 'replace-newest';

function tamperEnd(db: Db, kind: EndTamper, entries: number, pick: number, forged: AuditEntry): void {
  switch (kind) {
    case 'delete-newest':
      db.prepare('DELETE FROM audit_log WHERE seq > ?').run(entries - 1 - (pick % entries));
      return;
    case 'delete-head':
      db.prepare("DELETE FROM meta WHERE key = 'audit.head'").run();
      return;
    case 'append-forged':
    case 'replace-newest': {
      const seq = kind === 'append-forged' ? entries + 1 : entries;
      const prevHash = seq === 1 ? auditGenesisHash : rowAt(db, seq - 1).hash;
      const content = {
        seq,
        at: forged.at ?? 0,
        actor: forged.actor,
        action: forged.action,
        target: forged.target,
      };
      const details = forged.details ?? {};
      const hash = computeAuditHash(prevHash, { ...content, details });
      if (kind === 'replace-newest') db.prepare('DELETE FROM audit_log WHERE seq = ?').run(seq);
      db.prepare(
        'INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(
        seq,
        content.at,
        content.actor,
        content.action,
        content.target,
        canonicalJson(details),
        prevHash,
        hash,
      );
      return;
    }
  }
}

function refusedAppend(db: Db): VigoError {
  let caught: unknown;
  try {
    db.transaction(() => appendAudit(db, { actor: 'user:ann', action: 'auth.login', target: 'user:ann' }))();
  } catch (err) {
    caught = err;
  }
  assert.ok(isVigoError(caught), `the append was not refused: ${String(caught)}`);
  assert.equal(caught.code, 'audit.chain_broken', caught.message);
  return caught;
}

describe('appends after tampering at the end of the chain', () => {
  const kindArb = fc.constantFrom<EndTamper>(
    'delete-newest',
    'append-forged',
    'delete-head',
    'replace-newest',
  );

  it('are refused, so verify keeps reporting the damage however often one is tried', () => {
    fc.assert(
      fc.property(chainArb(1), kindArb, fc.nat(), entryArb, (entries, kind, pick, forged) => {
        const db = tamperableChain(entries);
        tamperEnd(db, kind, entries.length, pick, forged);
        const before = verifyAudit(db);
        assert.equal(before.ok, false, `${kind} went unnoticed`);
        const rows = db.prepare('SELECT count(*) FROM audit_log').pluck().get();
        for (let i = 0; i < 3; i++) refusedAppend(db);
        assert.deepEqual(verifyAudit(db), before, 'a refused append changed the chain');
        assert.equal(db.prepare('SELECT count(*) FROM audit_log').pluck().get(), rows);
        db.close();
      }),
      runs,
    );
  });

  it('continue after a re-anchoring, which records the damage and stays visible to verify', () => {
    fc.assert(
      fc.property(chainArb(1), kindArb, fc.nat(), entryArb, (entries, kind, pick, forged) => {
        const db = tamperableChain(entries);
        tamperEnd(db, kind, entries.length, pick, forged);
        const problem = refusedAppend(db).details['problem'];
        const anchor = db.transaction(() =>
          reanchorAudit(db, { actor: 'local-admin', reason: 'restored from backup' }),
        )();
        assert.equal(anchor.details['problem'], problem);
        const after = db.transaction(() =>
          appendAudit(db, { actor: 'user:ann', action: 'auth.login', target: 'user:ann' }),
        )();
        assert.equal(after.seq, anchor.seq + 1);
        const result = verifyAudit(db);
        assert.equal(result.ok, true, JSON.stringify(result));
        assert.deepEqual(
          result.reanchored?.map((note) => [note.seq, note.actor, note.reason, note.problem]),
          [[anchor.seq, 'local-admin', 'restored from backup', problem]],
        );
        db.close();
      }),
      runs,
    );
  });

  it('an intact chain cannot be re-anchored, and a reason is required', () => {
    const db = tamperableChain([{ actor: 'user:ann', action: 'auth.login', target: 'x' }]);
    assert.throws(
      () => db.transaction(() => reanchorAudit(db, { actor: 'local-admin', reason: 'why not' }))(),
      (err) => isVigoError(err) && err.code === 'audit.not_broken',
    );
    db.prepare("DELETE FROM meta WHERE key = 'audit.head'").run();
    assert.throws(
      () => db.transaction(() => reanchorAudit(db, { actor: 'local-admin', reason: '  ' }))(),
      (err) => isVigoError(err) && err.code === 'request.invalid',
    );
    db.close();
  });
});
