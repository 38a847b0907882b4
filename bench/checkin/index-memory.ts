/**
 * Memory per envoy of a FleetIndex rebuilt from a seeded database, with every envoy's ed25519 key parsed
 * (the state after each envoy's first check-in), measured in a fresh process so nothing else's garbage
 * or freed memory blurs it. Two figures: what V8 sees (heap + external + array buffers, the method of
 * bench/fleet-index.ts) and the resident set, which also holds OpenSSL's key structures (about 1.3 KB
 * per parsed ed25519 KeyObject on Node 20 / OpenSSL 3) that V8 does not account for.
 *
 *   node --expose-gc --import tsx bench/checkin/index-memory.ts <vigo.db>
 * Prints one JSON line {"envoys", "heapBytesPerEnvoy", "rssBytesPerEnvoy"}.
 */
import Database from 'better-sqlite3';
import { FleetIndex } from '../../server/fleet/index.ts';

const dbFile = process.argv[2];
const gc = (globalThis as { gc?: () => void }).gc;
if (dbFile === undefined || gc === undefined) {
  process.stderr.write('usage: node --expose-gc --import tsx bench/checkin/index-memory.ts <vigo.db>\n');
  process.exit(2);
}

function measure(): { js: number; rss: number } {
  gc!();
  gc!();
  const usage = process.memoryUsage();
  return { js: usage.heapUsed + usage.external + usage.arrayBuffers, rss: usage.rss };
}

const db = new Database(dbFile, { readonly: true });
// No warm-up load: memory it freed would be reused by the measured one and hide from the RSS delta.
const before = measure();
const index = FleetIndex.load(db);
for (const entry of index.values()) void entry.publicKey;
const after = measure();
db.close();
process.stdout.write(
  `${JSON.stringify({
    envoys: index.size,
    heapBytesPerEnvoy: (after.js - before.js) / index.size,
    rssBytesPerEnvoy: (after.rss - before.rss) / index.size,
  })}\n`,
);
