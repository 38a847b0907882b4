/**
 * The standby's copy of the primary's database: `replication/replica.db`, a page-for-page image, and
 * `replica.json`, the SHA-256 it had when last verified. A batch of changed pages is first written to a
 * redo journal (`replica.journal`, ending in its own SHA-256) and fsync'd; only then are the pages written
 * into the image, which must then hash to the digest the primary sent. A journal cut short (a crash while
 * it was written) is discarded, one that is complete is replayed: the image is never left half-patched.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../core/index.ts';
import { replicationDir } from './state.ts';
import { protocolError } from './wire.ts';

export interface ReplicaMeta {
  readonly sha256: string;
  readonly pageSize: number;
  readonly pageCount: number;
  /** The primary's epoch and the snapshot time of the image. */
  readonly epoch: number;
  readonly takenAtMs: number;
  readonly appliedAtMs: number;
}

export interface BatchHeader {
  readonly pageSize: number;
  readonly pageCount: number;
  readonly sha256: string;
  readonly epoch: number;
  readonly takenAtMs: number;
}

const journalMagic = Buffer.from('VIGOREPLJ1\n');
const maxPageCount = 0xfffffffe;
const pageSizes = new Set([512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);

export function checkBatchHeader(header: BatchHeader): void {
  if (!pageSizes.has(header.pageSize))
    throw protocolError(`page size ${header.pageSize} is not one SQLite uses`);
  if (header.pageCount < 1 || header.pageCount > maxPageCount)
    throw protocolError(`page count ${header.pageCount} is out of range`);
  if (!/^[0-9a-f]{64}$/.test(header.sha256)) throw protocolError('sha256 must be 64 hex digits');
}

export class Replica {
  readonly imageFile: string;
  private readonly metaFile: string;
  private readonly journalFile: string;

  constructor(dataDir: string) {
    const dir = replicationDir(dataDir);
    this.imageFile = join(dir, 'replica.db');
    this.metaFile = join(dir, 'replica.json');
    this.journalFile = join(dir, 'replica.journal');
  }

  meta(): ReplicaMeta | undefined {
    if (!existsSync(this.metaFile)) return undefined;
    try {
      return JSON.parse(readFileSync(this.metaFile, 'utf8')) as ReplicaMeta;
    } catch {
      return undefined;
    }
  }

  /** The image's page size and count, and the first 16 bytes of each page's SHA-256 (empty image: none). */
  pageHashes(pageSize: number): { pageCount: number; hashes: Buffer } {
    if (!existsSync(this.imageFile)) return { pageCount: 0, hashes: Buffer.alloc(0) };
    const image = readFileSync(this.imageFile);
    const pageCount = Math.floor(image.length / pageSize);
    const hashes = Buffer.alloc(pageCount * 16);
    for (let i = 0; i < pageCount; i += 1)
      createHash('sha256')
        .update(image.subarray(i * pageSize, (i + 1) * pageSize))
        .digest()
        .copy(hashes, i * 16, 0, 16);
    return { pageCount, hashes };
  }

  /** Starts a batch: the journal receives its header now and each page as it arrives. */
  beginBatch(header: BatchHeader): BatchWriter {
    checkBatchHeader(header);
    ensurePrivateDir(dirname(this.journalFile));
    return new BatchWriter(this, this.journalFile, header);
  }

  /** Replays a complete journal left by a crash, discards a torn one; returns what was done. */
  recover(): 'none' | 'replayed' | 'discarded' {
    if (!existsSync(this.journalFile)) return 'none';
    const journal = readFileSync(this.journalFile);
    const parsed = parseJournal(journal);
    if (parsed === undefined) {
      rmSync(this.journalFile, { force: true });
      return 'discarded';
    }
    this.apply(parsed.header, parsed.pages);
    return 'replayed';
  }

  /** Writes a journal's pages into the image, verifies the result, records it and drops the journal. */
  apply(header: BatchHeader, pages: readonly { index: number; data: Buffer }[]): void {
    const fd = openSync(this.imageFile, existsSync(this.imageFile) ? 'r+' : 'w+', 0o600);
    try {
      for (const page of pages) writeSync(fd, page.data, 0, page.data.length, page.index * header.pageSize);
      ftruncateSync(fd, header.pageCount * header.pageSize);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const actual = this.imageSha256();
    rmSync(this.journalFile, { force: true });
    if (actual !== header.sha256)
      throw protocolError(
        `the image hashes to ${actual.slice(0, 12)}… after the batch, not ${header.sha256.slice(0, 12)}… as sent: a page is missing (a gap) and the standby asks for a full comparison`,
      );
    const meta: ReplicaMeta = {
      sha256: actual,
      pageSize: header.pageSize,
      pageCount: header.pageCount,
      epoch: header.epoch,
      takenAtMs: header.takenAtMs,
      appliedAtMs: Date.now(),
    };
    writePrivateFile(this.metaFile, `${JSON.stringify(meta)}\n`);
  }

  imageSha256(): string {
    return createHash('sha256').update(readFileSync(this.imageFile)).digest('hex');
  }

  /**
   * The image, if it is the one last verified, else undefined. Promotion installs only a verified image.
   */
  verified(): ReplicaMeta | undefined {
    this.recover();
    const meta = this.meta();
    if (meta === undefined || !existsSync(this.imageFile)) return undefined;
    if (statSync(this.imageFile).size !== meta.pageCount * meta.pageSize) return undefined;
    return this.imageSha256() === meta.sha256 ? meta : undefined;
  }

  /** Makes the verified image the server's database file (the server is stopped: nothing has it open). */
  install(dbFile: string): void {
    mkdirSync(dirname(dbFile), { recursive: true, mode: 0o700 });
    const tmp = `${dbFile}.replica-tmp`;
    copyFileSync(this.imageFile, tmp);
    const fd = openSync(tmp, 'r+');
    fsyncSync(fd);
    closeSync(fd);
    // The old file's WAL belongs to the old contents: it must not be applied to the new ones.
    rmSync(`${dbFile}-wal`, { force: true });
    rmSync(`${dbFile}-shm`, { force: true });
    renameSync(tmp, dbFile);
  }
}

/** Streams one batch into the journal; `commit` makes it durable and applies it. */
export class BatchWriter {
  private readonly fd: number;
  private readonly hash = createHash('sha256');
  private readonly pages: { index: number; data: Buffer }[] = [];
  private closed = false;

  constructor(
    private readonly replica: Replica,
    private readonly file: string,
    private readonly header: BatchHeader,
  ) {
    this.fd = openSync(file, 'w', 0o600);
    const json = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(json.length);
    this.write(Buffer.concat([journalMagic, length, json]));
  }

  private write(bytes: Buffer): void {
    this.hash.update(bytes);
    writeSync(this.fd, bytes);
  }

  /** A page-set frame body: repeated `u32 page index | page bytes`. */
  addPages(body: Buffer): number {
    const record = 4 + this.header.pageSize;
    if (body.length % record !== 0) throw protocolError('a page frame is not a whole number of pages (torn)');
    for (let at = 0; at < body.length; at += record) {
      const index = body.readUInt32BE(at);
      if (index >= this.header.pageCount)
        throw protocolError(`page ${index} is beyond the image's ${this.header.pageCount} pages`);
      this.pages.push({ index, data: Buffer.from(body.subarray(at + 4, at + record)) });
    }
    this.write(body);
    return body.length / record;
  }

  commit(): void {
    writeSync(this.fd, this.hash.digest());
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
    this.replica.apply(this.header, this.pages);
  }

  abandon(): void {
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
    rmSync(this.file, { force: true });
  }
}

function parseJournal(
  journal: Buffer,
): { header: BatchHeader; pages: { index: number; data: Buffer }[] } | undefined {
  if (journal.length < journalMagic.length + 4 + 32) return undefined;
  if (!journal.subarray(0, journalMagic.length).equals(journalMagic)) return undefined;
  const content = journal.subarray(0, journal.length - 32);
  if (
    !createHash('sha256')
      .update(content)
      .digest()
      .equals(journal.subarray(journal.length - 32))
  )
    return undefined;
  const jsonLength = content.readUInt32BE(journalMagic.length);
  const start = journalMagic.length + 4;
  if (start + jsonLength > content.length) return undefined;
  let header: BatchHeader;
  try {
    header = JSON.parse(content.subarray(start, start + jsonLength).toString('utf8')) as BatchHeader;
    checkBatchHeader(header);
  } catch {
    return undefined;
  }
  const record = 4 + header.pageSize;
  const body = content.subarray(start + jsonLength);
  if (body.length % record !== 0) return undefined;
  const pages: { index: number; data: Buffer }[] = [];
  for (let at = 0; at < body.length; at += record)
    pages.push({ index: body.readUInt32BE(at), data: Buffer.from(body.subarray(at + 4, at + record)) });
  return { header, pages };
}
