/**
 * Request bodies against the real vigosrv: a caller without the right credential is refused before its
 * body is read (counted in bytes the server read from its connections, vigo_https_received_bytes_total),
 * a too-large chunked body is cut off at the route's cap, and a client that hangs up mid-body is not an
 * error in the log.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { upload } from './helpers/upload.ts';

const temp = makeTempDir('vigo-bodies-');
let server: ReadyServer;
let admin: Record<string, string>;
const mib = 1024 * 1024;
const uploadCap = 64 * mib;
/** What a refused upload may cost the server: its headers, a few TLS records, and the linger after the answer. */
const refusedBudgetBytes = 1 * mib;

after(async () => {
  await server?.stop();
  temp.remove();
});
before(async () => {
  server = await startServer({ dataDir: temp.path, args: ['--log-level', 'debug'] });
  admin = { authorization: `Bearer ${readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim()}` };
});

async function receivedBytes(): Promise<number> {
  const metrics = await server.request('/metrics', { headers: admin });
  const found = /^vigo_https_received_bytes_total (\d+)$/m.exec(metrics.body)?.[1];
  assert.ok(found !== undefined, 'the metric vigo_https_received_bytes_total is exported');
  return Number(found);
}

/** Bytes the server read from its connections while `action` ran (the two metric reads included). */
async function serverRead<T>(action: () => Promise<T>): Promise<{ result: T; bytes: number }> {
  const before = await receivedBytes();
  const result = await action();
  return { result, bytes: (await receivedBytes()) - before };
}

describe('a stack upload without the right credential', () => {
  it('is answered 401 for nobody, after the server read a bounded number of bytes of 64 MiB', async () => {
    const { result, bytes } = await serverRead(() =>
      upload(server, '/api/v1/config/validate', { totalBytes: uploadCap }),
    );
    assert.equal(result.status, 401);
    assert.equal(result.code, 'auth.required');
    assert.equal(result.headers['connection'], 'close');
    assert.ok(bytes < refusedBudgetBytes, `the server read ${bytes} bytes of a refused 64 MiB upload`);
  });

  it('is answered 403 for a viewer, without reading the body', async () => {
    const user = await server.request('/api/v1/users', {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'uploading-viewer', role: 'viewer' }),
    });
    assert.equal(user.status, 201, user.body);
    const token = await server.request('/api/v1/tokens', {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'upload', user: 'uploading-viewer' }),
    });
    const viewer = { authorization: `Bearer ${token.json<{ token: string }>().token}` };
    const { result, bytes } = await serverRead(() =>
      upload(server, '/api/v1/config/publish', { headers: viewer, totalBytes: uploadCap }),
    );
    assert.equal(result.status, 403);
    assert.equal(result.code, 'auth.forbidden');
    assert.ok(bytes < refusedBudgetBytes, `the server read ${bytes} bytes of a forbidden upload`);
  });

  it('costs a bounded number of bytes however many arrive at once', async () => {
    const concurrent = 16;
    const { result, bytes } = await serverRead(() =>
      Promise.all(
        Array.from({ length: concurrent }, () =>
          upload(server, '/api/v1/config/validate', { totalBytes: uploadCap }),
        ),
      ),
    );
    assert.deepEqual(new Set(result.map((r) => r.status)), new Set([401]));
    assert.ok(
      bytes < concurrent * refusedBudgetBytes,
      `the server read ${bytes} bytes of ${concurrent} refused uploads`,
    );
  });
});

describe('a refused client that is slow to read its answer', () => {
  it('is not reset before it reads the 401, though it sent more than the server lingers for', async () => {
    const lingerCapBytes = 256 * 1024;
    const before = await receivedBytes();
    const socket = connect({
      host: '127.0.0.1',
      port: server.apiPort,
      ca: server.ca,
      servername: 'localhost',
    });
    const seen = { data: '', ended: false, error: undefined as string | undefined };
    socket.on('error', (err: NodeJS.ErrnoException) => (seen.error ??= err.code ?? err.message));
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    // Not reading until the server has refused the upload and read past its linger cap: a client
    // descheduled under load, or one that writes before it looks for an answer.
    socket.pause();
    socket.write(
      'POST /api/v1/config/validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n' +
        `content-length: ${uploadCap}\r\n\r\n`,
    );
    socket.write(Buffer.alloc(4 * mib, 0x20));
    await waitFor('the server to read past its linger cap', async () =>
      (await receivedBytes()) - before > lingerCapBytes ? true : undefined,
    );
    socket.on('data', (part: Buffer) => (seen.data += part.toString('latin1')));
    socket.on('end', () => (seen.ended = true));
    socket.resume();
    await waitFor('the answer and the end of the connection', () =>
      seen.ended || seen.error !== undefined ? true : undefined,
    );
    socket.destroy();
    assert.equal(
      seen.error,
      undefined,
      `the connection failed before the answer was read: ${seen.data.slice(0, 40)}`,
    );
    assert.match(seen.data, /^HTTP\/1\.1 401 /);
    assert.match(seen.data, /"code":"auth\.required"/);
  });
});

describe('a body above its route cap', () => {
  it('is cut off with 413 request.too_large when it streams chunked, even from an admin', async () => {
    const result = await upload(server, '/api/v1/config/validate', {
      headers: admin,
      totalBytes: uploadCap + mib,
    });
    assert.equal(result.status, 413);
    assert.equal(result.code, 'request.too_large');
  });

  it('is refused with 413 from its Content-Length alone, before it is read', async () => {
    const { result, bytes } = await serverRead(() =>
      upload(server, '/api/v1/config/validate', {
        headers: admin,
        totalBytes: uploadCap + mib,
        declareLength: true,
      }),
    );
    assert.equal(result.status, 413);
    assert.equal(result.code, 'request.too_large');
    assert.ok(bytes < refusedBudgetBytes, `the server read ${bytes} bytes of a body it refused unread`);
  });

  it('is refused on a public route at 64 KiB', async () => {
    const result = await upload(server, '/api/v1/auth/login', { totalBytes: mib });
    assert.equal(result.status, 413);
    assert.equal(result.code, 'request.too_large');
  });
});

describe('a client that hangs up mid-body', () => {
  it('is logged at debug level, not as an error', async () => {
    const marker = `abort-${Date.now()}`;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(
        { host: '127.0.0.1', port: server.apiPort, ca: server.ca, servername: 'localhost' },
        () => {
          socket.write(
            `POST /api/v1/enroll/tokens HTTP/1.1\r\nhost: localhost\r\nx-request-id: ${marker}\r\n` +
              `authorization: ${admin['authorization']}\r\ncontent-type: application/json\r\n` +
              'content-length: 100000\r\n\r\n{"hostnameGlobs":',
            () => {
              socket.destroy();
              resolve();
            },
          );
        },
      );
      socket.on('error', reject);
    });
    const line = await server.waitForLog('the abort to be logged', (l) => l['requestId'] === marker);
    assert.equal(line.level, 'debug', JSON.stringify(line));
    assert.match(line.msg, /closed the connection/);
    assert.deepEqual(
      server.logs.filter((l) => l['requestId'] === marker && (l.level === 'error' || l.level === 'warn')),
      [],
    );
    await waitFor('the server to keep answering', async () =>
      (await server.request('/healthz')).status === 200 ? true : undefined,
    );
  });
});
