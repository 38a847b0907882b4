/**
 * The admin bootstrap secret never reaches the JSON log (vigosrv's stderr) or a non-terminal standard
 * output: it is in <data-dir>/admin-bootstrap.secret (mode 0600), which the log line names. It works once,
 * and the file is gone at the next start once an admin exists.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ReadyServer } from './helpers/server-process.ts';
import { waitFor } from './helpers/deadline.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const dataDir = makeTempDir('vigo-bootstrap-secret-');
let server: ReadyServer | undefined;

after(async () => {
  await server?.stop();
  dataDir.remove();
});

describe('admin bootstrap secret', () => {
  it('is written to a private file and never to the log or a piped stdout; the file goes once an admin exists', async () => {
    server = await startServer({ dataDir: dataDir.path });
    const line = await server.waitForLog('the admin bootstrap notice', (l) =>
      l.msg.startsWith('admin bootstrap secret'),
    );
    const file = join(dataDir.path, 'admin-bootstrap.secret');
    assert.equal(line['file'], file);
    assert.equal(line['secret'], undefined);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const secret = readFileSync(file, 'utf8').trim();
    assert.match(secret, /^vgbs_[A-Za-z0-9_-]{20,}$/);
    await server.waitForLog('the server ready', (l) => l.msg === 'ready');
    // The banner is on stdout, a pipe of its own: it may arrive after the "ready" log line on stderr.
    const ready = server;
    await waitFor('the banner naming the secret file', () =>
      /admin-bootstrap\.secret/.test(ready.stdout()) ? true : undefined,
    );
    assert.equal(server.stderr().includes(secret), false, 'the JSON log holds the secret');
    assert.equal(server.stdout().includes(secret), false, 'a piped stdout holds the secret');

    const claimed = await server.request('/api/v1/auth/bootstrap', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret, username: 'ada', password: 'a long enough passphrase' }),
    });
    assert.equal(claimed.status, 201, claimed.body);
    assert.equal(server.stderr().includes(secret), false, 'the claim logged the secret');
    assert.equal(await server.stop(), 0);

    server = await startServer({ dataDir: dataDir.path });
    assert.equal(existsSync(file), false, 'the used secret file is removed at the next start');
    assert.equal(
      server.logs.some((l) => l.msg.startsWith('admin bootstrap secret')),
      false,
      'no new secret once an admin exists',
    );
    assert.equal(server.stdout().includes('first admin'), false);
  });
});
