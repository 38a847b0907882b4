/**
 * Test helper run as a separate process by rotation.test.ts: opens the vault in <dir>, then rotates its
 * master key and SIGKILLs itself just before the <n>th write or rename of the rotation, the calls that
 * change what is on disk, so the test can crash a rotation at every step in turn (an empty temp file, a
 * full one, a staged key, a rewritten vault…). Prints `done <calls>` if the rotation finishes first.
 *   node --import tsx server/secrets/rotate-crash.fixture.ts <dir> <n>
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { silentLogger } from '../core/index.ts';
import { openVault } from './index.ts';

const [dir, killAtText] = process.argv.slice(2);
if (!dir || !killAtText) throw new Error('usage: rotate-crash.fixture.ts <dir> <n>');
const killAt = Number(killAtText);

const vault = openVault({ dir, log: silentLogger });

let calls = 0;
const patchable = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const name of ['writeSync', 'renameSync']) {
  const original = patchable[name]!;
  patchable[name] = (...args: unknown[]): unknown => {
    if (++calls === killAt) process.kill(process.pid, 'SIGKILL');
    return original(...args);
  };
}
// Makes `import { renameSync } from 'node:fs'` in the vault modules see the patched functions.
syncBuiltinESMExports();

vault.rotateMasterKey();
process.stdout.write(`done ${calls}\n`);
