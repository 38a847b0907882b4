import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isVigoError, silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import {
  appendAudit,
  auditGenesisHash,
  auditHead,
  auditHeadMetaKey,
  listAudit,
  maxAuditDetailsBytes,
  verifyAudit,
} from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'vigo-'));
const opened: Store[] = [];
after(() => {
  for (const store of opened) store.close();
  rmSync(root, { recursive: true, force: true });
});
let counter = 0;

function storeAt(file: string): Store {
  const store = openStore({ file, log: silentLogger, busyTimeoutMs: 5000 });
  opened.push(store);
  return store;
}

function freshStore(): Store {
  counter += 1;
  return storeAt(join(root, `audit-${counter}.db`));
}

function auditCount(store: Store): unknown {
  return store.db.prepare('SELECT count(*) FROM audit_log').pluck().get();
}

function isInvalidEntry(err: unknown): boolean {
  return isVigoError(err) && err.code === 'audit.invalid_entry';
}

const addUser = (id: string) => (db: Store['db']) =>
  db
    .prepare("INSERT INTO users (id, username, role, created_at, updated_at) VALUES (?, ?, 'viewer', 1, 1)")
    .run(id, id);

describe('appendAudit', () => {
  it('links entries from the genesis hash with the documented formula', () => {
    const store = freshStore();
    const first = store.tx((db) =>
      appendAudit(db, {
        actor: 'user:ann',
        action: 'user.created',
        target: 'bob',
        details: { role: 'viewer', b: [1] },
        at: 1000,
      }),
    );
    const second = store.tx((db) =>
      appendAudit(db, { actor: 'system', action: 'server.start', target: 'vigosrv' }),
    );

    const expected = createHash('sha256')
      .update(
        `${'0'.repeat(64)}\n{"action":"user.created","actor":"user:ann","at":1000,"details":{"b":[1],"role":"viewer"},"seq":1,"target":"bob"}`,
      )
      .digest('hex');
    assert.equal(first.seq, 1);
    assert.equal(first.prevHash, auditGenesisHash);
    assert.equal(first.hash, expected);
    assert.equal(second.seq, 2);
    assert.equal(second.prevHash, first.hash);
    assert.deepEqual(second.details, {});
    assert.ok(Math.abs(second.at - Date.now()) < 60_000);
    assert.deepEqual(auditHead(store.db), { seq: 2, hash: second.hash });
    const head = store.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(auditHeadMetaKey);
    assert.deepEqual(JSON.parse(String(head)), { seq: 2, hash: second.hash });
    assert.deepEqual(verifyAudit(store.db), { ok: true, count: 2, headHash: second.hash });
  });

  it('refuses to append outside a transaction', () => {
    const store = freshStore();
    assert.throws(
      () => appendAudit(store.db, { actor: 'system', action: 'server.start', target: 'vigosrv' }),
      (err: unknown) => isInvalidEntry(err) && /outside a transaction/.test((err as Error).message),
    );
    assert.equal(auditCount(store), 0);
  });

  it('leaves neither the entry nor the change when the change fails in the same transaction', () => {
    const store = freshStore();
    assert.throws(() =>
      store.tx((db) => {
        appendAudit(db, { actor: 'user:ann', action: 'user.created', target: 'dup' });
        addUser('dup')(db);
        addUser('dup')(db);
      }),
    );
    assert.equal(auditCount(store), 0);
    assert.equal(store.db.prepare('SELECT count(*) FROM users').pluck().get(), 0);
    assert.equal(auditHead(store.db), undefined);
    assert.deepEqual(verifyAudit(store.db), { ok: true, count: 0, headHash: auditGenesisHash });
  });

  it('rolls the caller’s change back when the entry is bad', () => {
    const store = freshStore();
    const bad: { details?: Record<string, unknown>; action?: string; actor?: string; at?: number }[] = [
      { action: 'User Created' },
      { action: '' },
      { actor: '' },
      { actor: '   ' },
      { at: -1 },
      { at: 1.5 },
      { details: { when: new Date(0) } },
      { details: { missing: undefined } },
      { details: { n: Number.NaN } },
      { details: { big: 1n } },
      { details: { f: () => 1 } },
      { details: { blob: 'x'.repeat(maxAuditDetailsBytes) } },
    ];
    for (const change of bad) {
      assert.throws(
        () =>
          store.tx((db) => {
            addUser('carol')(db);
            appendAudit(db, { actor: 'user:ann', action: 'user.created', target: 'carol', ...change });
          }),
        isInvalidEntry,
        JSON.stringify(change, (_k, v: unknown) => (typeof v === 'bigint' ? 'bigint' : v)),
      );
    }
    assert.equal(store.db.prepare('SELECT count(*) FROM users').pluck().get(), 0);
    assert.equal(auditCount(store), 0);
  });

  it('explains which detail is wrong', () => {
    const store = freshStore();
    assert.throws(
      () =>
        store.tx((db) =>
          appendAudit(db, {
            actor: 'system',
            action: 'x.y',
            target: 't',
            details: { nested: { bad: Number.NaN } },
          }),
        ),
      (err: unknown) => isInvalidEntry(err) && (err as Error).message.includes('$.nested.bad is NaN'),
    );
  });

  it('is refused by the database when application code tries to rewrite history', () => {
    const store = freshStore();
    store.tx((db) => appendAudit(db, { actor: 'system', action: 'a.b', target: 't' }));
    assert.throws(() => store.db.prepare("UPDATE audit_log SET actor = 'mallory'").run(), /append-only/);
    assert.throws(() => store.db.prepare('DELETE FROM audit_log').run(), /append-only/);
  });

  it('keeps one linear chain across connections to the same file', () => {
    const a = freshStore();
    const b = storeAt(a.db.name);
    for (let i = 0; i < 10; i++) {
      (i % 2 === 0 ? a : b).tx((db) =>
        appendAudit(db, { actor: `conn:${i % 2}`, action: 'step', target: `${i}` }),
      );
    }
    const result = verifyAudit(b.db);
    assert.equal(result.ok, true);
    assert.equal(result.count, 10);
  });
});

describe('listAudit', () => {
  it('pages in seq order and filters by action and actor', () => {
    const store = freshStore();
    store.tx((db) => {
      for (let i = 1; i <= 7; i++) {
        appendAudit(db, {
          actor: i % 2 ? 'user:ann' : 'system',
          action: i <= 4 ? 'a.one' : 'a.two',
          target: `t${i}`,
        });
      }
    });
    const page1 = listAudit(store.db, { limit: 3 });
    assert.deepEqual(
      page1.map((r) => r.seq),
      [1, 2, 3],
    );
    const page2 = listAudit(store.db, { limit: 3, afterSeq: page1.at(-1)?.seq });
    assert.deepEqual(
      page2.map((r) => r.seq),
      [4, 5, 6],
    );
    assert.deepEqual(
      listAudit(store.db, { limit: 10, action: 'a.two' }).map((r) => r.seq),
      [5, 6, 7],
    );
    assert.deepEqual(
      listAudit(store.db, { limit: 10, actor: 'user:ann', action: 'a.one' }).map((r) => r.target),
      ['t1', 't3'],
    );
    assert.deepEqual(listAudit(store.db, { limit: 10, afterSeq: 7 }), []);
    const [record] = listAudit(store.db, { limit: 1, afterSeq: 4 });
    assert.equal(record?.prevHash, page2[0]?.hash);
  });

  it('refuses unbounded or malformed paging', () => {
    const store = freshStore();
    for (const options of [{ limit: 0 }, { limit: 1001 }, { limit: 1.5 }, { limit: 5, afterSeq: -1 }]) {
      assert.throws(
        () => listAudit(store.db, options),
        (err: unknown) => isVigoError(err) && err.code === 'request.invalid',
      );
    }
  });
});
