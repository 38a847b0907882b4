/**
 * The standby's side of the link to its primary: each batch's pages go through the replica's journal into
 * its image, its files are checked against the manifest and written, and only then is it acknowledged. A
 * batch whose result does not hash to the primary's digest (a gap) is answered with a refusal and the
 * standby's fresh page hashes, from which the primary sends everything that differs.
 */
import type { Logger } from '../core/index.ts';
import type { ManifestEntry, RootDirs } from './files.ts';
import { entryKey, parseManifest, removeUnlisted, writeEntry } from './files.ts';
import type { Replica } from './replica.ts';
import { sendHashes } from './ship.ts';
import type { FrameChannel } from './wire.ts';
import { intField, protocolError, textField } from './wire.ts';

/** Files of one batch held until its commit, at most this many bytes in all. */
const maxBatchFileBytes = 256 * 1024 * 1024;

export interface AppliedBatch {
  readonly seq: number;
  readonly epoch: number;
  readonly takenAtMs: number;
  readonly pages: number;
  readonly files: number;
}

export async function followBatches(options: {
  channel: FrameChannel;
  replica: Replica;
  dirs: RootDirs;
  pageSize: number;
  timeoutMs: number;
  log: Logger;
  onApplied: (batch: AppliedBatch) => void;
}): Promise<never> {
  const { channel, replica, dirs } = options;
  let manifest = new Map<string, ManifestEntry>();
  for (;;) {
    const batch = await channel.next(options.timeoutMs, ['batch']);
    const seq = intField(batch.header, 'seq');
    const header = {
      pageSize: intField(batch.header, 'pageSize', 65536),
      pageCount: intField(batch.header, 'pageCount', 0xfffffffe),
      sha256: textField(batch.header, 'sha256', 64),
      epoch: intField(batch.header, 'epoch'),
      takenAtMs: intField(batch.header, 'takenAtMs'),
    };
    const pageTotal = intField(batch.header, 'pages', header.pageCount);
    const fileTotal = intField(batch.header, 'files', 10_000);
    const writer = replica.beginBatch(header);
    try {
      let pages = 0;
      while (pages < pageTotal) {
        const frame = await channel.next(options.timeoutMs, ['pages']);
        pages += writer.addPages(frame.body);
        if (pages > pageTotal) throw protocolError('more pages than the batch announced');
      }
      const files: { root: string; path: string; data: Buffer }[] = [];
      let fileBytes = 0;
      for (let i = 0; i < fileTotal; i += 1) {
        const frame = await channel.next(options.timeoutMs, ['file']);
        fileBytes += frame.body.length;
        if (fileBytes > maxBatchFileBytes)
          throw protocolError(`a batch's files exceed ${maxBatchFileBytes} bytes`);
        files.push({
          root: textField(frame.header, 'root', 16),
          path: textField(frame.header, 'path', 1024),
          data: frame.body,
        });
      }
      const commit = await channel.next(options.timeoutMs, ['commit']);
      if (intField(commit.header, 'seq') !== seq) throw protocolError('commit for another batch');
      let listed: ManifestEntry[] | undefined;
      if (commit.header['manifest'] === true) {
        let raw: unknown;
        try {
          raw = JSON.parse(commit.body.toString('utf8'));
        } catch {
          throw protocolError('the file manifest is not JSON');
        }
        listed = parseManifest(raw);
        manifest = new Map(listed.map((entry) => [entryKey(entry), entry]));
      }
      // Every file is checked before any is written: a batch is applied whole or not at all.
      const checked = files.map((file) => {
        const entry = manifest.get(`${file.root}:${file.path}`);
        if (entry === undefined) throw protocolError(`file ${file.root}/${file.path} is not in the manifest`);
        return { entry, data: file.data };
      });
      try {
        writer.commit();
      } catch (err) {
        await channel.send('ack', { seq, ok: false, reason: (err as Error).message });
        await sendHashes(channel, replica.pageHashes(header.pageSize).hashes);
        continue;
      }
      for (const { entry, data } of checked) writeEntry(dirs, entry, data);
      if (listed !== undefined) removeUnlisted(dirs, listed);
      await channel.send('ack', { seq, ok: true, sha256: header.sha256 });
      options.onApplied({
        seq,
        epoch: header.epoch,
        takenAtMs: header.takenAtMs,
        pages,
        files: files.length,
      });
    } catch (err) {
      writer.abandon();
      throw err;
    }
  }
}
