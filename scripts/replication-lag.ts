/**
 * Replication lag against database size, under a write cadence: a database of `--rows` rows of ~400 bytes
 * (about the size of an envoy's row plus its latest run), a writer that updates 1% of them every second as
 * check-in flushes do, and the primary's cycle — consistent image on its own thread, page diff against the
 * standby's last image, journal, patch and verify on the standby's copy — run back to back. Prints, per cycle,
 * the pages shipped and the lag (image start to verified copy), then the median and worst.
 *
 *   node --import tsx scripts/replication-lag.ts [--rows 100000] [--cycles 10]
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Replica } from '../server/replication/replica.ts';
import { startSnapshotter } from '../server/replication/snapshot.ts';

const { values } = parseArgs({ options: { rows: { type: 'string' }, cycles: { type: 'string' } } });
const rows = Number(values.rows ?? 100_000);
const cycles = Number(values.cycles ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'vigo-repl-lag-'));
const file = join(dir, 'primary.db');
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.exec('CREATE TABLE envoys (id INTEGER PRIMARY KEY, hostname TEXT, last_seen INTEGER, doc BLOB)');
const insert = db.prepare('INSERT INTO envoys (hostname, last_seen, doc) VALUES (?, ?, randomblob(360))');
db.transaction(() => {
  for (let i = 0; i < rows; i += 1) insert.run(`host-${i}.example`, Date.now());
})();
const touch = db.prepare('UPDATE envoys SET last_seen = ? WHERE id = ?');
const writer = setInterval(() => {
  db.transaction(() => {
    for (let i = 0; i < rows / 100; i += 1) touch.run(Date.now(), 1 + Math.floor(Math.random() * rows));
  })();
}, 1000);

const snapshotter = startSnapshotter({ file, busyTimeoutMs: 5000 });
const replica = new Replica(join(dir, 'standby'));
let baseline: Buffer = Buffer.alloc(0);
const lags: number[] = [];
for (let cycle = 0; cycle <= cycles; cycle += 1) {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const image = await snapshotter.take(true);
  if (image === 'unchanged') continue;
  const writerBatch = replica.beginBatch({
    pageSize: image.pageSize,
    pageCount: image.pageCount,
    sha256: image.sha256,
    epoch: 1,
    takenAtMs: image.takenAtMs,
  });
  let pages = 0;
  const record = 4 + image.pageSize;
  const body = Buffer.alloc(record);
  for (let i = 0; i < image.pageCount; i += 1) {
    if (
      i * 16 < baseline.length &&
      image.hashes.compare(baseline, i * 16, i * 16 + 16, i * 16, i * 16 + 16) === 0
    )
      continue;
    body.writeUInt32BE(i, 0);
    image.image.copy(body, 4, i * image.pageSize, (i + 1) * image.pageSize);
    writerBatch.addPages(body);
    pages += 1;
  }
  writerBatch.commit();
  baseline = image.hashes;
  const lagMs = Date.now() - image.takenAtMs;
  // The first cycle is the initial copy, not steady state.
  if (cycle > 0) lags.push(lagMs);
  process.stdout.write(
    `${cycle === 0 ? 'initial' : `cycle ${cycle}`}: ${(image.image.length / 1048576).toFixed(1)} MiB, ${pages} of ${image.pageCount} pages shipped, lag ${lagMs} ms\n`,
  );
}
clearInterval(writer);
await snapshotter.stop();
db.close();
rmSync(dir, { recursive: true, force: true });
lags.sort((x, y) => x - y);
process.stdout.write(
  `rows ${rows}: lag median ${lags[Math.floor(lags.length / 2)]} ms, worst ${lags.at(-1)} ms over ${lags.length} cycles\n`,
);
