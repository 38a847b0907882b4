/**
 * The primary's side of one standby's link: it learns which pages the standby holds (their hashes), then at
 * each cycle sends the pages of the latest image that differ, the files whose digest differs, and a commit
 * naming the image's SHA-256; the standby acknowledges each batch before the next is sent. Lag is measured
 * on the primary's clock: from the start of the read transaction the image came from to the acknowledgement.
 */
import type { Logger } from '../core/index.ts';
import type { ManifestEntry, RootDirs } from './files.ts';
import { entryKey, readEntry } from './files.ts';
import type { DatabaseImage } from './snapshot.ts';
import type { FrameChannel } from './wire.ts';
import { intField, maxBodyBytes, protocolError, textField } from './wire.ts';

export interface Cycle {
  readonly image: DatabaseImage;
  readonly manifest: readonly ManifestEntry[];
  readonly manifestSha: string;
}

export interface StandbyLinkStatus {
  readonly peer: string;
  readonly connectedAtMs: number;
  batches: number;
  pagesSent: number;
  bytesSent: number;
  /** Snapshot-to-acknowledgement time of the last batch, and the largest seen on this link. */
  lastLagMs: number | undefined;
  maxLagMs: number;
  /** The snapshot time of the last image the standby acknowledged. */
  ackedTakenAtMs: number | undefined;
}

const maxHashFramePages = Math.floor(maxBodyBytes / 16);
/** See maxStandbyPages in node.ts. */
const maxPagesAfterRefusal = 1 << 24;

/** Reads the standby's page hashes: `hashes` frames of `{from, total}` until `total` pages are known. */
export async function receiveHashes(
  channel: FrameChannel,
  timeoutMs: number,
  maxPages: number,
): Promise<Buffer> {
  let hashes: Buffer | undefined;
  let received = 0;
  for (;;) {
    const frame = await channel.next(timeoutMs, ['hashes']);
    const total = intField(frame.header, 'total', maxPages);
    const from = intField(frame.header, 'from', maxPages);
    hashes ??= Buffer.alloc(total * 16);
    if (total * 16 !== hashes.length || from !== received || frame.body.length % 16 !== 0)
      throw protocolError('page hashes arrived out of order or with a changing total');
    if (received + frame.body.length / 16 > total) throw protocolError('more page hashes than announced');
    frame.body.copy(hashes, received * 16);
    received += frame.body.length / 16;
    if (received === total) return hashes;
  }
}

export async function sendHashes(channel: FrameChannel, hashes: Buffer): Promise<void> {
  const total = hashes.length / 16;
  let from = 0;
  do {
    const count = Math.min(maxHashFramePages, total - from);
    await channel.send('hashes', { from, total }, hashes.subarray(from * 16, (from + count) * 16));
    from += count;
  } while (from < total);
}

export class StandbySession {
  readonly status: StandbyLinkStatus;
  private seq = 0;
  private files = new Map<string, string>();
  private manifestSha = '';

  constructor(
    private readonly channel: FrameChannel,
    peer: string,
    private baseline: Buffer,
    private readonly epoch: () => number,
    private readonly dirs: RootDirs,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {
    this.status = {
      peer,
      connectedAtMs: Date.now(),
      batches: 0,
      pagesSent: 0,
      bytesSent: 0,
      lastLagMs: undefined,
      maxLagMs: 0,
      ackedTakenAtMs: undefined,
    };
  }

  /** Ships one cycle and waits for its acknowledgement; a refused batch resets the baseline it diffs against. */
  async ship(cycle: Cycle): Promise<void> {
    const { image } = cycle;
    this.seq += 1;
    const changed: number[] = [];
    const known = this.baseline.length / 16;
    for (let i = 0; i < image.pageCount; i += 1)
      if (i >= known || image.hashes.compare(this.baseline, i * 16, i * 16 + 16, i * 16, i * 16 + 16) !== 0)
        changed.push(i);
    const files = cycle.manifest.filter((entry) => this.files.get(entryKey(entry)) !== entry.sha256);
    await this.channel.send('batch', {
      seq: this.seq,
      epoch: this.epoch(),
      pageSize: image.pageSize,
      pageCount: image.pageCount,
      sha256: image.sha256,
      takenAtMs: image.takenAtMs,
      pages: changed.length,
      files: files.length,
    });
    const record = 4 + image.pageSize;
    const perFrame = Math.max(1, Math.floor(maxBodyBytes / record));
    for (let at = 0; at < changed.length; at += perFrame) {
      const slice = changed.slice(at, at + perFrame);
      const body = Buffer.alloc(slice.length * record);
      slice.forEach((index, k) => {
        body.writeUInt32BE(index, k * record);
        image.image.copy(body, k * record + 4, index * image.pageSize, (index + 1) * image.pageSize);
      });
      await this.channel.send('pages', { count: slice.length }, body);
      this.status.bytesSent += body.length;
    }
    const unsent = new Set<string>();
    for (const entry of files) {
      const data = await readEntry(this.dirs, entry).catch(() => undefined);
      // A file removed or rewritten since the manifest was built is shipped at the next cycle.
      if (data === undefined || data.length !== entry.size) {
        unsent.add(entryKey(entry));
        continue;
      }
      await this.channel.send('file', { root: entry.root, path: entry.path }, data);
      this.status.bytesSent += data.length;
    }
    const sendManifest = cycle.manifestSha !== this.manifestSha;
    await this.channel.send(
      'commit',
      { seq: this.seq, manifestSha: cycle.manifestSha, manifest: sendManifest },
      sendManifest ? Buffer.from(JSON.stringify(cycle.manifest)) : undefined,
    );
    const ack = await this.channel.next(this.timeoutMs, ['ack']);
    if (intField(ack.header, 'seq') !== this.seq) throw protocolError('acknowledgement for another batch');
    if (ack.header['ok'] !== true) {
      this.log.warn('standby refused a batch; comparing every page again', {
        peer: this.status.peer,
        reason: textField(ack.header, 'reason', 2000),
      });
      this.baseline = await receiveHashes(this.channel, this.timeoutMs, maxPagesAfterRefusal);
      this.files.clear();
      this.manifestSha = '';
      return;
    }
    this.baseline = image.hashes;
    if (sendManifest) {
      this.files = new Map(cycle.manifest.map((entry) => [entryKey(entry), entry.sha256]));
      this.manifestSha = cycle.manifestSha;
    } else for (const entry of files) this.files.set(entryKey(entry), entry.sha256);
    for (const key of unsent) this.files.delete(key);
    const lagMs = Date.now() - image.takenAtMs;
    this.status.batches += 1;
    this.status.pagesSent += changed.length;
    this.status.lastLagMs = lagMs;
    this.status.maxLagMs = Math.max(this.status.maxLagMs, lagMs);
    this.status.ackedTakenAtMs = image.takenAtMs;
  }
}
