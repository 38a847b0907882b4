import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Replica } from './replica.ts';

const pageSize = 512;

function page(fill: number): Buffer {
  return Buffer.alloc(pageSize, fill);
}

function pagesBody(pages: { index: number; data: Buffer }[]): Buffer {
  return Buffer.concat(
    pages.map(({ index, data }) => {
      const head = Buffer.alloc(4);
      head.writeUInt32BE(index);
      return Buffer.concat([head, data]);
    }),
  );
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('replica image', () => {
  let dir: string;
  let replica: Replica;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigo-replica-'));
    replica = new Replica(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const apply = (pageCount: number, pages: { index: number; data: Buffer }[], expected: Buffer): void => {
    const writer = replica.beginBatch({ pageSize, pageCount, sha256: sha(expected), epoch: 1, takenAtMs: 1 });
    writer.addPages(pagesBody(pages));
    writer.commit();
  };

  it('applies changed pages, truncates to the page count and records the verified digest', () => {
    apply(
      3,
      [0, 1, 2].map((i) => ({ index: i, data: page(i + 1) })),
      Buffer.concat([page(1), page(2), page(3)]),
    );
    apply(2, [{ index: 1, data: page(9) }], Buffer.concat([page(1), page(9)]));
    assert.deepEqual(readFileSync(replica.imageFile), Buffer.concat([page(1), page(9)]));
    assert.equal(replica.verified()?.pageCount, 2);
    const hashes = replica.pageHashes(pageSize);
    assert.equal(hashes.pageCount, 2);
    assert.deepEqual(
      hashes.hashes.subarray(16, 32),
      createHash('sha256').update(page(9)).digest().subarray(0, 16),
    );
  });

  it('refuses a batch that leaves a gap: the result does not hash to the digest sent', () => {
    apply(
      2,
      [0, 1].map((i) => ({ index: i, data: page(i + 1) })),
      Buffer.concat([page(1), page(2)]),
    );
    // The primary changed pages 0 and 1 but page 1 never arrived.
    assert.throws(
      () => apply(2, [{ index: 0, data: page(7) }], Buffer.concat([page(7), page(8)])),
      (err: Error & { code?: string }) => err.code === 'replication.protocol' && /gap/.test(err.message),
    );
    assert.equal(replica.verified(), undefined, 'an image that does not match its digest is never promoted');
  });

  it('refuses a torn page frame and a page beyond the image', () => {
    const writer = replica.beginBatch({
      pageSize,
      pageCount: 1,
      sha256: sha(page(1)),
      epoch: 1,
      takenAtMs: 1,
    });
    assert.throws(() => writer.addPages(pagesBody([{ index: 0, data: page(1) }]).subarray(0, 100)), /torn/);
    assert.throws(() => writer.addPages(pagesBody([{ index: 5, data: page(1) }])), /beyond/);
    writer.abandon();
  });

  it('discards a journal cut short by a crash and replays a complete one', () => {
    apply(1, [{ index: 0, data: page(1) }], page(1));
    const journal = join(dir, 'replication', 'replica.journal');

    // A crash after the journal was fsync'd but before the image was patched: replayed at recovery.
    const complete = replica.beginBatch({
      pageSize,
      pageCount: 1,
      sha256: sha(page(2)),
      epoch: 1,
      takenAtMs: 2,
    });
    complete.addPages(pagesBody([{ index: 0, data: page(2) }]));
    const applyNow = replica.apply.bind(replica);
    replica.apply = () => undefined;
    complete.commit();
    replica.apply = applyNow;
    assert.equal(existsSync(journal), true);
    assert.equal(replica.recover(), 'replayed');
    assert.deepEqual(readFileSync(replica.imageFile), page(2));

    // A crash while the journal was being written: torn, discarded, the image untouched.
    const torn = replica.beginBatch({ pageSize, pageCount: 1, sha256: sha(page(3)), epoch: 1, takenAtMs: 3 });
    torn.addPages(pagesBody([{ index: 0, data: page(3) }]));
    replica.apply = () => undefined;
    torn.commit();
    replica.apply = applyNow;
    truncateSync(journal, 200);
    assert.equal(replica.recover(), 'discarded');
    assert.equal(existsSync(journal), false);
    assert.deepEqual(readFileSync(replica.imageFile), page(2));
    assert.equal(replica.verified()?.takenAtMs, 2);
  });
});
