import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Resolves once `file` exists (a standby waiting for the primary's first batch). Stops waiting, with an
 * error, when `giveUp` says the file can no longer come.
 */
export async function waitForFile(file: string, giveUp: () => boolean, pollMs = 200): Promise<void> {
  while (!existsSync(file)) {
    if (giveUp()) throw new Error(`${file} is missing and this server follows no primary that could send it`);
    await delay(pollMs);
  }
}
