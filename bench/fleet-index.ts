/**
 * FleetIndex boot figures: seeds N envoys straight into a temp SQLite database, then measures how long
 * the index takes to rebuild from it and how much heap each envoy costs (before and after every envoy's
 * ed25519 key has been parsed by a first check-in). Prints figures; asserts nothing.
 *   node --expose-gc --import tsx bench/fleet-index.ts [N]
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawFromPublicKey } from '../protocol/index.ts';
import { silentLogger } from '../server/core/index.ts';
import { FleetIndex } from '../server/fleet/index.ts';
import { openStore } from '../server/store/index.ts';

const count = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
const heapUsed = (): number => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed + process.memoryUsage().external + process.memoryUsage().arrayBuffers;
};

const dir = mkdtempSync(join(tmpdir(), 'vigo-bench-fleet-'));
try {
  const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 5000 });
  const seedStart = performance.now();
  const keys = Array.from({ length: 64 }, () => rawFromPublicKey(generateKeyPairSync('ed25519').publicKey));
  const insert = store.db.prepare(
    `INSERT INTO envoys (id, hostname, public_key, cert_fingerprint, status, enrolled_at, last_seen_at, last_ts_ms,
                         policy_version, state_fingerprint, interval_ms, agent_version)
     VALUES (?, ?, ?, ?, 'active', ?, ?, ?, 3, ?, 60000, '0.1.0')`,
  );
  const now = Date.now();
  for (let i = 0; i < count; i += 5000) {
    store.tx(() => {
      for (let j = i; j < Math.min(count, i + 5000); j++) {
        insert.run(
          randomUUID(),
          `host-${j}.dc1.example.com`,
          keys[j % keys.length],
          'ab'.repeat(32),
          now,
          now,
          now,
          'cd'.repeat(32),
        );
      }
    });
  }
  console.log(`seeded ${count} envoys in ${Math.round(performance.now() - seedStart)} ms`);

  const before = heapUsed();
  const loadStart = performance.now();
  const index = FleetIndex.load(store.db);
  const loadMs = performance.now() - loadStart;
  const afterLoad = heapUsed();
  for (const entry of index.values()) void entry.publicKey;
  const afterKeys = heapUsed();
  console.log(`FleetIndex rebuilt from SQLite: ${index.size} envoys in ${Math.round(loadMs)} ms`);
  console.log(`bytes per envoy at boot:               ${Math.round((afterLoad - before) / count)}`);
  console.log(`bytes per envoy with parsed ed25519 key: ${Math.round((afterKeys - before) / count)}`);
  console.log(
    `process RSS: ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MiB${gc ? '' : ' (run with --expose-gc for exact heap figures)'}`,
  );
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
