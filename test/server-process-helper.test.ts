/**
 * The test helper that starts vigosrv: a server that never becomes ready is killed when startServer gives
 * up on it, since its caller never gets a handle to stop it with (it would otherwise run on, holding
 * ports and CPU, for the rest of the suite).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { waitFor } from './helpers/deadline.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-never-ready-');
after(() => temp.remove());

function processesNaming(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', text], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('startServer', () => {
  it('kills a server that never logs "ready" before it reports the failure', async () => {
    await assert.rejects(
      startServer({
        dataDir: temp.path,
        // Stands for a vigosrv that hangs at start: its command line still names the data dir.
        wrapper: ['/bin/bash', '-c', 'exec -a "never-ready $*" sleep 600', 'bash'],
        readyTimeoutMs: 300,
      }),
      /timed out after 300 ms waiting for vigosrv to log "ready"/,
    );
    await waitFor('the hung server to be gone', () =>
      processesNaming(temp.path).length === 0 ? true : undefined,
    );
  });
});
