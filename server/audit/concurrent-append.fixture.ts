/**
 * Test helper run as a separate process by chain-processes.test.ts: waits for a line on stdin (so every
 * process starts appending at the same moment), then appends `count` entries as `actor`, one transaction each.
 *   node --import tsx server/audit/concurrent-append.fixture.ts <db file> <count> <actor> [wait-on-refusal]
 * With `wait-on-refusal`, an append refused with audit.chain_broken prints "refused" and waits for another
 * line on stdin (sent once the chain is re-anchored) before it tries again; any other error ends the process.
 */
import { createInterface } from 'node:readline';
import { isVigoError, silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { appendAudit } from './index.ts';

const [file, countText, actor, mode] = process.argv.slice(2);
if (!file || !countText || !actor)
  throw new Error('usage: concurrent-append.fixture.ts <db file> <count> <actor> [wait-on-refusal]');

const store = openStore({ file, log: silentLogger, busyTimeoutMs: 20_000 });
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('ready\n');
await lines.next();
for (let i = 0; i < Number(countText); i++) {
  try {
    store.tx((db) =>
      appendAudit(db, { actor, action: 'test.concurrent', target: `${actor}#${i}`, details: { i } }),
    );
  } catch (err) {
    if (mode !== 'wait-on-refusal' || !isVigoError(err) || err.code !== 'audit.chain_broken') throw err;
    process.stdout.write('refused\n');
    await lines.next();
    i -= 1;
  }
}
store.close();
process.stdin.destroy();
