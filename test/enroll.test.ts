/**
 * Enrollment against the real vigosrv: token administration with the local-admin credential, a host
 * enrolling with a real CSR and ed25519 key, every refusal's status and code, and per-address rate
 * limiting. Requests come from distinct loopback addresses (127.0.0.x) so each case has its own
 * failure budget.
 */
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rawFromPublicKey } from '../protocol/index.ts';
import { envoyIdFromCert, generateAgentKeyAndCsr } from '../server/pki/index.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

let server: ReadyServer;
let adminToken: string;
const temp = makeTempDir('vigo-enroll-');
let nextAddress = 10;

before(async () => {
  server = await startServer({ dataDir: temp.path, args: ['--data-dir', temp.path] });
  adminToken = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
});
after(async () => {
  await server?.stop();
  temp.remove();
});

/** A fresh loopback source address, so rate limiting in one case cannot leak into another. */
function freshAddress(): string {
  nextAddress += 1;
  return `127.0.0.${nextAddress}`;
}

function call(
  method: string,
  path: string,
  options: { body?: unknown; token?: string; from?: string; raw?: string; type?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (payload !== undefined) headers['content-type'] = options.type ?? 'application/json';
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.apiUrl}${path}`,
      { method, headers, ca: server.ca, agent: false, localAddress: options.from ?? '127.0.0.1' },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(text) as Record<string, unknown>,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function createToken(
  body: Record<string, unknown>,
): Promise<{ id: string; token: string; expiresAt: string }> {
  const reply = await call('POST', '/api/v1/enroll/tokens', { body, token: adminToken });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  return reply.body as { id: string; token: string; expiresAt: string };
}

async function enrollBody(token: string, hostname: string): Promise<Record<string, string>> {
  const { publicKey } = generateKeyPairSync('ed25519');
  const { csrPem } = await generateAgentKeyAndCsr(hostname);
  return { token, hostname, publicKey: rawFromPublicKey(publicKey).toString('base64'), csr: csrPem };
}

function assertError(reply: Reply, status: number, code: string, label = code): void {
  assert.equal(reply.status, status, `${label}: ${JSON.stringify(reply.body)}`);
  assert.equal(reply.body['code'], code, label);
  assert.equal(typeof reply.body['message'], 'string');
  assert.equal(typeof reply.body['requestId'], 'string');
}

describe('enrollment over REST against vigosrv', () => {
  it('refuses token administration without the local-admin credential', async () => {
    assertError(await call('GET', '/api/v1/enroll/tokens'), 401, 'auth.required');
    assertError(
      await call('POST', '/api/v1/enroll/tokens', { body: { hostnameGlobs: ['*'] } }),
      401,
      'auth.required',
    );
    assertError(
      await call('DELETE', '/api/v1/enroll/tokens/0123456789abcdef', { token: 'vgla_wrong' }),
      401,
      'auth.required',
    );
  });

  it('creates a token and enrolls a host with it', async () => {
    const created = await createToken({
      hostnameGlobs: ['web-*'],
      uses: 2,
      expiresIn: '1h',
      description: 'web tier',
    });
    assert.match(created.token, /^vget_[0-9a-f]{16}_/);
    const body = await enrollBody(created.token, 'web-01');
    const reply = await call('POST', '/api/v1/enroll', { body, from: freshAddress() });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const result = reply.body as Record<string, string>;
    assert.match(result['envoyId'] ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(result['caCertPem'], server.ca);
    assert.equal(result['grpcAddress']?.endsWith(`:${server.grpcPort}`), true);
    assert.equal(Buffer.from(result['bundlePublicKey'] ?? '', 'base64').length, 32);
    assert.match(result['bundleKeyId'] ?? '', /^[0-9a-f]{16}$/);

    const cert = new X509Certificate(result['clientCertPem'] ?? '');
    const ca = new X509Certificate(readFileSync(join(temp.path, 'tls', 'ca.crt')));
    assert.equal(cert.checkIssued(ca), true);
    assert.equal(cert.verify(ca.publicKey), true);
    assert.equal(envoyIdFromCert(result['clientCertPem'] ?? ''), result['envoyId']);

    const list = await call('GET', '/api/v1/enroll/tokens', { token: adminToken });
    assert.equal(list.status, 200);
    const tokens = list.body['tokens'] as { id: string; usesCount: number; status: string }[];
    const listed = tokens.find((t) => t.id === created.id);
    assert.equal(listed?.usesCount, 1);
    assert.equal(listed?.status, 'active');
    assert.equal(JSON.stringify(list.body).includes(created.token.slice(22)), false, 'no secret in the list');
    assert.equal(JSON.stringify(list.body).includes('$2b$'), false, 'no hash in the list');
  });

  it('answers each refusal with its status and code', async () => {
    const token = (await createToken({ hostnameGlobs: ['db-[0-9]'], uses: 1 })).token;
    const good = await enrollBody(token, 'db-1');
    const cases: [string, Record<string, unknown> | string, number, string][] = [
      [
        'wrong secret',
        { ...good, token: `${token.slice(0, 22)}${'A'.repeat(43)}` },
        401,
        'enroll.token_invalid',
      ],
      ['malformed token', { ...good, token: 'hello' }, 401, 'enroll.token_invalid'],
      ['glob mismatch', { ...good, hostname: 'web-1' }, 403, 'enroll.hostname_not_allowed'],
      ['bad hostname', { ...good, hostname: 'db_1' }, 400, 'enroll.hostname_invalid'],
      ['bad key', { ...good, publicKey: 'AAAA' }, 400, 'enroll.key_invalid'],
      ['bad csr', { ...good, csr: 'not a csr' }, 400, 'pki.csr_invalid'],
      ['unknown field', { ...good, extra: true }, 400, 'request.invalid'],
      ['wrong type', { ...good, hostname: 7 }, 400, 'request.invalid'],
      ['not an object', '[1,2]', 400, 'request.invalid'],
      ['not JSON', '{"token":', 400, 'request.invalid'],
    ];
    for (const [name, body, status, code] of cases) {
      const options = typeof body === 'string' ? { raw: body } : { body };
      const reply = await call('POST', '/api/v1/enroll', { ...options, from: freshAddress() });
      assertError(reply, status, code, name);
    }
    const form = await call('POST', '/api/v1/enroll', {
      raw: 'token=x',
      type: 'application/x-www-form-urlencoded',
      from: freshAddress(),
    });
    assertError(form, 400, 'request.invalid');

    const first = await call('POST', '/api/v1/enroll', { body: good, from: freshAddress() });
    assert.equal(first.status, 200, 'refusals consumed no use');
    assertError(
      await call('POST', '/api/v1/enroll', { body: await enrollBody(token, 'db-2'), from: freshAddress() }),
      401,
      'enroll.token_used_up',
    );

    const revoked = await createToken({ hostnameGlobs: ['*'] });
    const revoke = await call('DELETE', `/api/v1/enroll/tokens/${revoked.id}`, { token: adminToken });
    assert.equal(revoke.status, 200);
    assert.equal(revoke.body['status'], 'revoked');
    assertError(
      await call('POST', '/api/v1/enroll', {
        body: await enrollBody(revoked.token, 'any'),
        from: freshAddress(),
      }),
      401,
      'enroll.token_revoked',
    );
    assertError(
      await call('DELETE', '/api/v1/enroll/tokens/0123456789abcdef', { token: adminToken }),
      404,
      'enroll.token_not_found',
    );

    const expiring = await createToken({ hostnameGlobs: ['*'], expiresIn: '1s' });
    const expiresAtMs = Date.parse(expiring.expiresAt);
    // Server and test share the machine's clock: once it has passed expiresAt, the server must refuse.
    await waitFor('the token to expire', () => (Date.now() > expiresAtMs ? true : undefined), 10_000, 50);
    const expired = await call('POST', '/api/v1/enroll', {
      body: await enrollBody(expiring.token, 'late-1'),
      from: freshAddress(),
    });
    assertError(expired, 401, 'enroll.token_expired');
  });

  it('rate-limits failed attempts per address with 429 and Retry-After; successes do not count', async () => {
    const from = freshAddress();
    const token = (await createToken({ hostnameGlobs: ['rl-*'], uses: 5 })).token;
    for (let i = 0; i < 3; i += 1) {
      const ok = await call('POST', '/api/v1/enroll', { body: await enrollBody(token, `rl-${i}`), from });
      assert.equal(ok.status, 200);
    }
    const bad = await enrollBody(`${token.slice(0, 22)}${'B'.repeat(43)}`, 'rl-x');
    for (let i = 0; i < 10; i += 1) {
      assertError(await call('POST', '/api/v1/enroll', { body: bad, from }), 401, 'enroll.token_invalid');
    }
    const limited = await call('POST', '/api/v1/enroll', { body: await enrollBody(token, 'rl-9'), from });
    assertError(limited, 429, 'rate_limited');
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= 300, `Retry-After ${String(limited.headers['retry-after'])}`);
    const other = await call('POST', '/api/v1/enroll', {
      body: await enrollBody(token, 'rl-8'),
      from: freshAddress(),
    });
    assert.equal(other.status, 200, 'another address is not limited');
  });
});
