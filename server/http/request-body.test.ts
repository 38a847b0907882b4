import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger, silentLogger, systemCtx } from '../core/index.ts';
import { createIdentityService } from '../identity/index.ts';
import { openStore } from '../store/index.ts';
import { createHttpApp } from './app.ts';
import { mintLocalAdminCredential, sessionCookieName } from './auth.ts';
import type { AnyRoute } from './route-table.ts';
import { route } from './route-table.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigo-bodies-'));
const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});
const identity = createIdentityService({
  store,
  log: silentLogger,
  bcryptRounds: 4,
  sessionIdleTimeoutMs: () => 60_000,
});
const localAdmin = mintLocalAdminCredential(join(dir, 'local-admin.token'));
const admin = { authorization: `Bearer ${readFileSync(join(dir, 'local-admin.token'), 'utf8').trim()}` };
const json = { 'content-type': 'application/json' };

const logLines: { level: string; msg: string }[] = [];
const textBody = { note: { type: 'string', maxLength: 1_000_000 } } as const;
const routes: AnyRoute[] = [
  route<typeof textBody>({
    method: 'POST',
    path: '/t/upload',
    summary: 'upload',
    tag: 't',
    access: 'config.publish',
    bodyCap: 'upload',
    body: textBody,
    handler: ({ c, body }) => c.json({ length: body.note.length }),
  }),
  route<typeof textBody>({
    method: 'POST',
    path: '/t/standard',
    summary: 'standard',
    tag: 't',
    access: 'fleet.write',
    body: textBody,
    handler: ({ c, body }) => c.json({ length: body.note.length }),
  }),
  route<typeof textBody>({
    method: 'POST',
    path: '/t/public',
    summary: 'public',
    tag: 't',
    access: 'public',
    body: textBody,
    handler: ({ c, body }) => c.json({ length: body.note.length }),
  }),
  route({
    method: 'POST',
    path: '/t/form',
    summary: 'form',
    tag: 't',
    access: 'fleet.write',
    handler: async ({ c }) => c.json({ fields: Object.keys(await c.req.parseBody()).sort() }),
  }),
];
const app = createHttpApp({
  log: createLogger({
    level: 'debug',
    sink: { write: (line) => logLines.push(JSON.parse(line) as { level: string; msg: string }) },
  }),
  maxBodyBytes: 4096,
  maxUploadBytes: () => 100_000,
  bodyBudget: { perClientBytes: 150_000, totalBytes: 250_000 },
  auth: { localAdmin, identity },
  routes,
});

/** A request body that counts what the server pulls from it: `total` bytes in `chunk`-byte pieces. */
function countedBody(total: number, chunk = 1024): { stream: ReadableStream<Uint8Array>; pulled(): number } {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= total) {
          controller.close();
          return;
        }
        const size = Math.min(chunk, total - sent);
        // A JSON document {"note":"aaa…"} spread over the chunks.
        const piece = new Uint8Array(size).fill(0x61);
        if (sent === 0) piece.set(new TextEncoder().encode('{"note":"').subarray(0, size));
        if (sent + size === total) piece.set(new TextEncoder().encode('"}').subarray(0, size), size - 2);
        sent += size;
        controller.enqueue(piece);
      },
      // No read-ahead: a chunk is produced only when the server asks for it.
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => sent };
}

async function post(
  path: string,
  headers: Record<string, string>,
  body: string | ReadableStream<Uint8Array>,
): Promise<Response> {
  return app.request(path, { method: 'POST', headers, body, duplex: 'half' });
}

async function codeOf(res: Response): Promise<string> {
  return ((await res.json()) as { code: string }).code;
}

async function tokenFor(username: string, role: 'viewer' | 'operator'): Promise<Record<string, string>> {
  const user = await identity.createUser(systemCtx(silentLogger), {
    username,
    role,
    password: 'correct horse battery',
  });
  const created = identity.createApiToken(systemCtx(silentLogger), { userId: user.id, name: 't' });
  return { authorization: `Bearer ${created.token}` };
}

describe('request bodies are read only after authentication and authorization', () => {
  it('refuses an anonymous chunked upload with 401 without pulling a byte of it', async () => {
    const body = countedBody(10_000_000);
    const res = await post('/t/upload', json, body.stream);
    assert.equal(res.status, 401);
    assert.equal(await codeOf(res), 'auth.required');
    assert.equal(body.pulled(), 0);
  });

  it("refuses a viewer's chunked upload with 403 without pulling a byte of it", async () => {
    const viewer = await tokenFor('vic', 'viewer');
    const body = countedBody(10_000_000);
    const res = await post('/t/upload', { ...json, ...viewer }, body.stream);
    assert.equal(res.status, 403);
    assert.equal(await codeOf(res), 'auth.forbidden');
    assert.equal(body.pulled(), 0);
  });

  it('reads an allowed body within its cap', async () => {
    const res = await post('/t/upload', { ...json, ...admin }, countedBody(90_000).stream);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { length: 90_000 - 11 });
  });
});

describe('per-route body caps', () => {
  it('refuses a declared Content-Length above the cap with 413 before reading', async () => {
    const res = await post('/t/standard', { ...json, ...admin, 'content-length': '5000' }, 'x'.repeat(5000));
    assert.equal(res.status, 413);
    assert.equal(await codeOf(res), 'request.too_large');
  });

  it('cuts a chunked body off at the cap with 413, for an admin too', async () => {
    for (const [path, cap] of [
      ['/t/upload', 100_000],
      ['/t/standard', 4096],
      ['/t/public', 4096],
    ] as const) {
      const body = countedBody(10_000_000);
      const res = await post(path, { ...json, ...admin }, body.stream);
      assert.equal(res.status, 413, path);
      const envelope = (await res.json()) as { code: string; message: string };
      assert.equal(envelope.code, 'request.too_large', path);
      assert.match(envelope.message, new RegExp(`at most ${cap} bytes`), path);
      assert.ok(body.pulled() <= cap + 2048, `${path}: pulled ${body.pulled()} bytes for a cap of ${cap}`);
    }
  });

  it('gives public routes the small cap: the lesser of 64 KiB and http.max_body_bytes', async () => {
    const res = await post('/t/public', json, countedBody(4000).stream);
    assert.equal(res.status, 200);
    const over = await post('/t/public', json, countedBody(5000).stream);
    assert.equal(over.status, 413);
  });
});

describe('the body budget', () => {
  it('refuses a second body that would take one client past its share (429), not its only one', async () => {
    let release = (): void => {};
    const held = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(`{"note":"${'a'.repeat(99_000)}`));
        release = () => {
          controller.enqueue(new TextEncoder().encode('"}'));
          controller.close();
        };
      },
    });
    const first = post('/t/upload', { ...json, ...admin }, held);
    // The first upload holds ~99 KB of the client's 150 KB; a second 90 KB one does not fit.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await post('/t/upload', { ...json, ...admin }, countedBody(90_000).stream);
    assert.equal(second.status, 429);
    assert.equal(await codeOf(second), 'request.busy');
    assert.equal(second.headers.get('retry-after'), '1');
    release();
    assert.equal((await first).status, 200);
    // Alone again, the same upload fits.
    assert.equal((await post('/t/upload', { ...json, ...admin }, countedBody(90_000).stream)).status, 200);
  });
});

describe('form posts from the web UI', () => {
  it('carry the CSRF token in the body, read within the cap after the session is authorized', async () => {
    const user = await identity.createUser(systemCtx(silentLogger), {
      username: 'fran',
      role: 'operator',
      password: 'correct horse battery',
    });
    const session = identity.createSession(user.id, { ip: '127.0.0.1' });
    const headers = {
      cookie: `${sessionCookieName}=${session.sessionId}`,
      'content-type': 'application/x-www-form-urlencoded',
    };
    const ok = await post('/t/form', headers, `_csrf=${encodeURIComponent(session.csrfToken)}&a=1`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { fields: ['_csrf', 'a'] });
    const wrong = await post('/t/form', headers, '_csrf=nope&a=1');
    assert.equal(wrong.status, 403);
    assert.equal(await codeOf(wrong), 'auth.csrf');
    const huge = await post('/t/form', headers, `_csrf=${'x'.repeat(10_000)}`);
    assert.equal(huge.status, 413);
  });
});

describe('a client that goes away mid-body', () => {
  it('is request.aborted, logged at debug level and not as an error', async () => {
    logLines.length = 0;
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"note":"abc'));
      },
      pull(controller) {
        controller.error(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      },
    });
    const res = await post('/t/standard', { ...json, ...admin }, broken);
    assert.equal(await codeOf(res), 'request.aborted');
    assert.deepEqual(
      logLines.filter((l) => l.level === 'error' || l.level === 'warn'),
      [],
    );
    assert.ok(logLines.some((l) => l.level === 'debug' && /closed the connection/.test(l.msg)));
  });
});
