import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { healthCheckLimits, runHealthCheck } from './health-check.ts';

let status = 200;
const server = createServer((req, res) => {
  if (req.url === '/hang') return; // never answers
  res.writeHead(status).end('body');
});
let base = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

describe('health checks between batches', () => {
  it('passes a URL answering 2xx and fails one answering otherwise, or not at all', async () => {
    status = 204;
    assert.deepEqual(await runHealthCheck({ kind: 'url', url: `${base}/ok`, timeoutSeconds: 5 }), {
      ok: true,
      detail: `${base}/ok answered 204`,
    });
    status = 302;
    assert.equal((await runHealthCheck({ kind: 'url', url: `${base}/moved`, timeoutSeconds: 5 })).ok, false);
    status = 503;
    const failed = await runHealthCheck({ kind: 'url', url: `${base}/down`, timeoutSeconds: 5 });
    assert.deepEqual(failed, { ok: false, detail: `${base}/down answered 503` });
    const hung = await runHealthCheck({ kind: 'url', url: `${base}/hang`, timeoutSeconds: 1 });
    assert.deepEqual(hung, { ok: false, detail: `${base}/hang: no answer within 1 s` });
    const refused = await runHealthCheck({ kind: 'url', url: 'http://127.0.0.1:9/', timeoutSeconds: 5 });
    assert.equal(refused.ok, false);
  });

  it('passes a command exiting 0 and fails one exiting otherwise, with the tail of its output', async () => {
    const ok = await runHealthCheck({ kind: 'command', command: 'echo healthy', timeoutSeconds: 5 });
    assert.deepEqual(ok, { ok: true, detail: 'the command exited 0: healthy' });
    const bad = await runHealthCheck({
      kind: 'command',
      command: 'echo sick >&2; exit 4',
      timeoutSeconds: 5,
    });
    assert.deepEqual(bad, { ok: false, detail: 'the command exited 4: sick' });
  });

  it('kills a command that runs too long, with its children, and bounds its output', async () => {
    const slow = await runHealthCheck({
      kind: 'command',
      command: 'sleep 30 & sleep 30; wait',
      timeoutSeconds: 1,
    });
    assert.equal(slow.ok, false);
    assert.match(slow.detail, /ran longer than 1 s and was killed/);
    const loud = await runHealthCheck({
      kind: 'command',
      command: 'head -c 1000000 /dev/zero | tr "\\0" x; exit 1',
      timeoutSeconds: 10,
    });
    assert.equal(loud.ok, false);
    assert.ok(
      loud.detail.length <= healthCheckLimits.maxOutputBytes + 64,
      `${loud.detail.length} characters`,
    );
  });
});
