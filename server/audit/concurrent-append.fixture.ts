/**
 * Test helper run as a separate process by chain-processes.test.ts: waits for a line on stdin (so every
 * process starts appending at the same moment), then appends `count` entries as `actor`, one transaction each.
 *   node --import tsx server/audit/concurrent-append.fixture.ts <db file> <count> <actor>
 */
import { once } from 'node:events';
import { silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { appendAudit } from './index.ts';

const [file, countText, actor] = process.argv.slice(2);
if (!file || !countText || !actor)
  throw new Error('usage: concurrent-append.fixture.ts <db file> <count> <actor>');

const store = openStore({ file, log: silentLogger, busyTimeoutMs: 20_000 });
process.stdout.write('ready\n');
await once(process.stdin, 'data');
for (let i = 0; i < Number(countText); i++) {
  store.tx((db) =>
    appendAudit(db, { actor, action: 'test.concurrent', target: `${actor}#${i}`, details: { i } }),
  );
}
store.close();
process.stdin.destroy();
