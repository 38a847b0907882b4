/**
 * log.access and log.format against the real vigosrv: with the access log on, every HTTPS request gets
 * one record with its method, route template, status, body bytes, duration and principal, and no bearer
 * token, enrollment token, query string or body ever reaches the log; with log.format text every record
 * on stderr is one human line, access records included. Off by default.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { LogLine, ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, readyServer, spawnServer, startServer } from './helpers/server-process.ts';

const jsonDir = makeTempDir('vigo-access-json-');
const textDir = makeTempDir('vigo-access-text-');
let json: ReadyServer;
let text: ReadyServer | undefined;
after(async () => {
  await json?.stop();
  await text?.stop();
  jsonDir.remove();
  textDir.remove();
});
before(async () => {
  json = await startServer({ dataDir: jsonDir.path, env: { VIGO_LOG_ACCESS: 'on' } });
});

const adminToken = (server: ReadyServer): string =>
  readFileSync(join(server.dataDir, 'local-admin.token'), 'utf8').trim();

function accessRecord(server: ReadyServer, requestId: string): Promise<LogLine> {
  return server.waitForLog(
    `the access record of ${requestId}`,
    (l) => l.msg === 'http access' && l['requestId'] === requestId,
  );
}

describe('the access log (log.access: on)', () => {
  it('records an API request by route template, with status, body bytes, duration and principal', async () => {
    const token = adminToken(json);
    const reply = await json.request('/api/v1/runs?limit=3', {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'acc-runs' },
    });
    assert.equal(reply.status, 200);
    const record = await accessRecord(json, 'acc-runs');
    assert.equal(record.level, 'info');
    assert.equal(record['method'], 'GET');
    assert.equal(record['route'], '/api/v1/runs');
    assert.equal(record['status'], 200);
    assert.equal(record['bytes'], Buffer.byteLength(reply.body));
    assert.equal(typeof record['durationMs'], 'number');
    assert.equal(record['principal'], 'local-admin');
    assert.equal(record['path'], undefined, 'a matched route is logged by its template only');
  });

  it('names the route template, not the path, and the anonymous caller of a refused request', async () => {
    const reply = await json.request('/api/v1/runs/some-run-id', { headers: { 'x-request-id': 'acc-anon' } });
    assert.equal(reply.status, 401);
    const record = await accessRecord(json, 'acc-anon');
    assert.deepEqual(
      [record['route'], record['status'], record['principal']],
      ['/api/v1/runs/{id}', 401, 'anonymous'],
    );
    assert.doesNotMatch(JSON.stringify(record), /some-run-id/);
  });

  it('never writes a bearer token, an enrollment token, a query secret or a body', async () => {
    const token = adminToken(json);
    const enrollToken = await createEnrollToken(json, ['web-*'], 2);
    await enrollAgent(json, enrollToken, 'web-01');
    await json.request('/api/v1/runs?limit=1&secret=hunter2-query', {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'acc-query' },
    });
    const unmatched = await json.request(`/no/such/${enrollToken}/x`, {
      headers: { authorization: 'Bearer vgot_notarealtoken', 'x-request-id': 'acc-unmatched' },
    });
    assert.equal(unmatched.status, 404);
    const record = await accessRecord(json, 'acc-unmatched');
    assert.equal(record['route'], null);
    assert.equal(record['path'], '/no/such/[redacted]/x');
    await accessRecord(json, 'acc-query');
    await waitFor('the enrollment to be logged', () =>
      json.logs.find(
        (l) => l.msg === 'http access' && l['route'] === '/api/v1/enroll' && l['status'] === 200,
      ),
    );
    const stderr = json.stderr();
    for (const secret of [
      token,
      enrollToken,
      'vgot_notarealtoken',
      'hunter2-query',
      'BEGIN CERTIFICATE REQUEST',
    ])
      assert.ok(!stderr.includes(secret), `the log holds ${secret.slice(0, 12)}…`);
    assert.doesNotMatch(stderr, /authorization/i);
  });
});

describe('log.format: text', () => {
  it('writes every record as one line: time, level, message, key=value fields', async () => {
    const proc = spawnServer({
      dataDir: textDir.path,
      args: ['--log-format', 'text'],
      env: { VIGO_LOG_ACCESS: 'on' },
    });
    const ready = await waitFor(
      'a text "ready" line',
      () => {
        if (proc.exitCode() !== undefined) throw new Error(`vigosrv exited: ${proc.stderr()}`);
        return / INFO {2}ready .*\n/.exec(proc.stderr())?.[0];
      },
      30_000,
    );
    const field = (name: string): string => new RegExp(` ${name}=(\\S+)`).exec(ready)?.[1] ?? '';
    text = readyServer(proc, {
      apiPort: Number(field('apiPort')),
      grpcPort: Number(field('grpcPort')),
      ca: readFileSync(field('caFile'), 'utf8'),
    });
    assert.equal((await text.request('/healthz', { headers: { 'x-request-id': 'txt-1' } })).status, 200);
    const access = await waitFor(
      'a text access line',
      () => / INFO {2}http access .*requestId=txt-1.*\n/.exec(proc.stderr())?.[0],
    );
    assert.match(access, / method=GET /);
    assert.match(access, / route=\/healthz /);
    assert.match(access, / status=200 /);
    assert.match(access, / principal=anonymous /);
    const lines = proc
      .stderr()
      .split('\n')
      .filter((l) => l !== '');
    for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\S+Z (DEBUG|INFO |WARN |ERROR) \S/, line);
    assert.equal(text.logs.length, 0, 'no JSON record among them');
  });

  it('is off by default: a server without log.access writes no access records', async () => {
    const plain = makeTempDir('vigo-access-off-');
    const server = await startServer({ dataDir: plain.path });
    try {
      await server.request('/healthz', { headers: { 'x-request-id': 'off-1' } });
      await server.request('/readyz');
      assert.equal(server.logs.filter((l) => l.msg === 'http access').length, 0);
    } finally {
      await server.stop();
      plain.remove();
    }
  });
});
