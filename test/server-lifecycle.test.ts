/**
 * The real vigosrv process: start-up, readiness, restart reuse of PKI, refusing bad config, a locked data
 * dir and a busy port with their exit codes, readiness notification, SIGHUP reload, graceful stop.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { exitCodes } from '../server/core/index.ts';
import { waitFor } from './helpers/deadline.ts';
import { makeTempDir, spawnServer, startServer } from './helpers/server-process.ts';

const temps: { remove(): void }[] = [];
function tempDir(): string {
  const dir = makeTempDir();
  temps.push(dir);
  return dir.path;
}
after(() => temps.forEach((t) => t.remove()));

function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const st = statSync(full);
        out[full] = `${st.size}:${st.mtimeMs}:${st.mode}`;
      }
    }
  };
  walk(dir);
  return out;
}

describe('vigosrv lifecycle', () => {
  it('becomes ready, answers /healthz, /readyz and system-info, and stops cleanly on SIGTERM', async () => {
    const dataDir = tempDir();
    const server = await startServer({ dataDir });
    const health = await server.request('/healthz');
    assert.equal(health.status, 200);
    const ready = await server.request('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json(), { status: 'ready' });
    assert.equal((await server.request('/api/v1/system-info')).status, 401, 'system info needs fleet.read');
    const adminToken = readFileSync(join(dataDir, 'local-admin.token'), 'utf8').trim();
    const info = await server.request('/api/v1/system-info', {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(info.status, 200);
    const body = info.json<{ version: string; bootId: string; mode: string; uptimeSeconds: number }>();
    assert.equal(body.mode, 'user');
    assert.match(body.bootId, /^[0-9a-f-]{36}$/);
    assert.ok(server.stdout().includes(dataDir), 'banner names the data dir');
    assert.ok(server.stdout().includes(join(dataDir, 'tls', 'ca.crt')), 'banner names the CA file');

    const missing = await server.request('/api/v1/nope', { headers: { 'x-request-id': 'req-123' } });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json(), {
      code: 'not_found',
      message: 'no route for GET /api/v1/nope',
      requestId: 'req-123',
    });

    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    for (const file of ['db/vigo.db', 'tls/ca.key', 'tls/server.key', 'tls/bundle-signing.key']) {
      assert.equal(statSync(join(dataDir, file)).mode & 0o777, 0o600, file);
    }
    assert.equal(await server.stop(), exitCodes.ok);
    assert.ok(server.logs.some((l) => l.msg === 'stopped'));
  });

  it('reuses the same CA, server key and bundle key on restart', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir });
    const files = ['tls/ca.crt', 'tls/ca.key', 'tls/server.crt', 'tls/bundle-signing.key'];
    const before = files.map((f) => readFileSync(join(dataDir, f), 'utf8'));
    assert.equal(await first.stop(), 0);
    const second = await startServer({ dataDir });
    const afterRestart = files.map((f) => readFileSync(join(dataDir, f), 'utf8'));
    assert.deepEqual(afterRestart, before);
    assert.equal((await second.request('/readyz')).status, 200);
    assert.equal(await second.stop(), 0);
  });

  it('exits with the config code and names the key and line for an unknown key', async () => {
    const dataDir = tempDir();
    const configFile = join(dataDir, 'server.yaml');
    writeFileSync(configFile, 'server:\n  grpc_listen: ":0"\n  api_lisen: ":0"\n');
    const proc = spawnServer({ dataDir, args: ['--config', configFile] });
    assert.equal(await proc.exited(), exitCodes.config);
    assert.match(proc.stderr(), /server\.yaml:3/);
    assert.match(proc.stderr(), /server\.api_lisen/);
    assert.match(proc.stderr(), /api_listen/, 'suggests the right key');
    assert.deepEqual(readdirSync(dataDir), ['server.yaml'], 'nothing is created');
  });

  it('exits with the config code for a value of the wrong type', async () => {
    const dataDir = tempDir();
    const configFile = join(dataDir, 'server.yaml');
    writeFileSync(configFile, 'checkin:\n  interval: 5\n');
    const proc = spawnServer({ dataDir, args: ['--config', configFile] });
    assert.equal(await proc.exited(), exitCodes.config);
    assert.match(proc.stderr(), /checkin\.interval/);
    assert.match(proc.stderr(), /server\.yaml:2/);
  });

  it('refuses a second server on the same data dir without touching it', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir });
    const before = snapshotTree(dataDir);
    const second = spawnServer({ dataDir });
    assert.equal(await second.exited(), exitCodes.dataDirLocked);
    assert.match(second.stderr(), /in use by another vigosrv \(pid \d+\)/);
    assert.deepEqual(snapshotTree(dataDir), before);
    assert.equal((await first.request('/readyz')).status, 200);
    assert.equal(await first.stop(), 0);
  });

  it('exits with the port-in-use code when the API port is taken', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as AddressInfo).port;
    try {
      const proc = spawnServer({ dataDir: tempDir(), args: ['--api-listen', `127.0.0.1:${port}`] });
      assert.equal(await proc.exited(), exitCodes.portInUse);
      assert.match(proc.stderr(), new RegExp(`127\\.0\\.0\\.1:${port}`));
    } finally {
      blocker.close();
    }
  });

  /** Starts a POST whose body has only half arrived, so the server holds it in flight. */
  async function halfSentEnrollment(server: Awaited<ReturnType<typeof startServer>>): Promise<{
    finish(): void;
    response: Promise<IncomingMessage & { text: string }>;
  }> {
    const body = JSON.stringify({
      token: `vget_${'0'.repeat(16)}_${'a'.repeat(43)}`,
      hostname: 'web-1',
      publicKey: 'AAAA',
      csr: 'x',
    });
    const req = request(`${server.apiUrl}/api/v1/enroll`, {
      method: 'POST',
      ca: server.ca,
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    });
    const response = new Promise<IncomingMessage & { text: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(Object.assign(res, { text })));
      });
      req.on('error', reject);
    });
    await new Promise<void>((resolve) => req.on('socket', (socket) => socket.once('secureConnect', resolve)));
    req.write(body.slice(0, 10));
    // One full round trip on another connection: by its end the half-sent request has reached the server.
    await server.request('/healthz');
    return { finish: () => req.end(body.slice(10)), response };
  }

  it('lets an in-flight request finish on SIGTERM, then exits 0', async () => {
    const server = await startServer({ dataDir: tempDir() });
    const pending = await halfSentEnrollment(server);
    server.child.kill('SIGTERM');
    const draining = await server.waitForLog('drain to start', (l) => l.msg === 'draining');
    assert.equal(draining['httpInFlight'], 1, 'the half-sent request is in flight when the drain starts');
    assert.equal(server.exitCode(), undefined, 'the server waits for it');
    pending.finish();
    const res = await pending.response;
    assert.equal(res.statusCode, 400, 'the request got its real answer');
    assert.match(res.text, /"code":"enroll\./);
    assert.equal(await server.exited(), exitCodes.ok);
  });

  it('stops at once on a second signal during the drain', async () => {
    const server = await startServer({ dataDir: tempDir() });
    const pending = await halfSentEnrollment(server);
    const outcome = pending.response.then(
      () => 'answered',
      () => 'cut off',
    );
    server.child.kill('SIGTERM');
    await server.waitForLog('drain to start', (l) => l.msg === 'draining');
    server.child.kill('SIGTERM');
    assert.equal(await server.exited(), exitCodes.forced);
    assert.equal(await outcome, 'cut off');
  });

  it('drains and exits 0 when SIGTERM arrives during start-up', async () => {
    const proc = spawnServer({ dataDir: tempDir() });
    await proc.waitForLog('start-up to be under way', (l) => l.msg === 'store opened');
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited(), exitCodes.ok, proc.stderr().slice(-2000));
    assert.ok(
      proc.logs.some((l) => l.msg === 'stopped'),
      'it drained rather than being killed',
    );
  });

  it('writes one newline to --notify-fd when ready', async () => {
    const dataDir = tempDir();
    const proc = spawnServer({
      dataDir,
      args: ['--notify-fd', '3'],
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    const notify = proc.child.stdio[3] as NodeJS.ReadableStream;
    let received = '';
    notify.on('data', (chunk: Buffer) => (received += chunk.toString()));
    await waitFor('readiness newline', () => (received === '\n' ? true : undefined));
    assert.ok(
      proc.logs.some((l) => l.msg === 'ready'),
      'notified only after ready',
    );
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited(), 0);
  });

  it('reloads server.yaml on SIGHUP only when it validates, auditing both outcomes', async () => {
    const dataDir = tempDir();
    const configFile = join(dataDir, 'server.yaml');
    writeFileSync(configFile, 'log:\n  level: info\n');
    const server = await startServer({ dataDir, args: ['--config', configFile] });

    writeFileSync(configFile, 'log:\n  level: loud\n');
    server.child.kill('SIGHUP');
    await server.waitForLog('reload refusal', (l) => l.msg.startsWith('config reload refused'));
    assert.equal((await server.request('/readyz')).status, 200, 'still serving after a bad reload');

    writeFileSync(configFile, 'log:\n  level: debug\n');
    server.child.kill('SIGHUP');
    await server.waitForLog('reload', (l) => l.msg === 'config reloaded');
    await server.request('/healthz');
    await server.waitForLog('debug access log after reload', (l) => l.msg === 'http request');
    assert.equal(await server.stop(), 0);

    const db = new Database(join(dataDir, 'db', 'vigo.db'), { readonly: true });
    const actions = db.prepare('SELECT action FROM audit_log ORDER BY seq').pluck().all();
    db.close();
    assert.deepEqual(actions, [
      'config.initialized',
      'admin_bootstrap.minted',
      'server.start',
      'server.config_reload_failed',
      'server.config_reloaded',
      'server.stop',
    ]);
  });
});
