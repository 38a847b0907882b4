import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { bundleKeyId } from '../../protocol/index.ts';
import { listAudit } from '../audit/index.ts';
import { VigoError } from '../core/index.ts';
import { envoyIdFromCert } from '../pki/index.ts';
import type { EnrollInput } from './enroll.ts';
import type { EnrollFixture } from './enroll.fixture.ts';
import { agentKeys, enrollFixture, enrollInput, enrollRequest } from './enroll.fixture.ts';

let fx: EnrollFixture;
before(async () => {
  // Refusals here come from one address; the limiter has its own test below.
  fx = await enrollFixture({ failureLimit: { maxFailures: 1000, windowMs: 60_000 } });
});
after(() => fx.cleanup());

async function newToken(globs: string[], uses = 1, expiresIn = '1h'): Promise<string> {
  return (await fx.service.createToken(fx.adminCtx, { hostnameGlobs: globs, uses, expiresIn })).token;
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Runs a refused enrollment and checks its code and that nothing was stored. */
async function assertRefused(input: EnrollInput, code: string, sourceIp?: string): Promise<void> {
  const before = fx.counts();
  const enrolledBefore = fx.enrolled.length;
  await assert.rejects(fx.service.enroll(enrollRequest(input, sourceIp)), { code });
  assert.deepEqual(fx.counts(), before, `${code}: nothing stored`);
  assert.equal(fx.enrolled.length, enrolledBefore, `${code}: no onEnrolled call`);
}

describe('enrollment', () => {
  it('enrolls a host: certificate for a new envoy id, server facts, token use, audit, callback', async () => {
    const token = await newToken(['web-*'], 2);
    const keys = await agentKeys('web-01');
    const before = fx.counts();
    const result = await fx.service.enroll(
      enrollRequest({ token, hostname: 'WEB-01', publicKey: keys.publicKey, csr: keys.csr }),
    );
    assert.match(result.envoyId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(result.hostname, 'web-01');
    assert.equal(result.reenrolled, false);
    assert.equal(result.grpcAddress, 'vigo.test:1530');
    assert.equal(result.caCertPem, fx.pki.caCertPem);
    assert.equal(result.bundlePublicKey, fx.pki.bundlePublicKeyRaw.toString('base64'));
    assert.equal(result.bundleKeyId, bundleKeyId(fx.pki.bundlePublicKeyRaw));

    const cert = new X509Certificate(result.clientCertPem);
    const ca = new X509Certificate(fx.pki.caCertPem);
    assert.equal(cert.checkIssued(ca), true);
    assert.equal(cert.verify(ca.publicKey), true, 'signed by the CA');
    assert.equal(envoyIdFromCert(result.clientCertPem), result.envoyId);

    assert.deepEqual(fx.counts(), {
      envoys: before.envoys + 1,
      audit: before.audit + 1,
      uses: before.uses + 1,
    });
    const row = fx.store.db.prepare('SELECT * FROM envoys WHERE id = ?').get(result.envoyId) as Record<
      string,
      unknown
    >;
    assert.equal(row['hostname'], 'web-01');
    assert.deepEqual(row['public_key'], keys.publicKeyRaw);
    assert.equal(row['cert_fingerprint'], sha256Hex(cert.raw));
    assert.equal(row['status'], 'active');

    const [entry] = listAudit(fx.store.db, { limit: 1000, action: 'envoy.enrolled' }).slice(-1);
    assert.equal(entry?.target, `envoy:${result.envoyId}`);
    assert.equal(entry?.details['hostname'], 'web-01');
    assert.equal(entry?.details['keyFingerprint'], sha256Hex(keys.publicKeyRaw));
    assert.equal(entry?.details['sourceIp'], '192.0.2.1');
    assert.equal(JSON.stringify(entry).includes(token.slice(22)), false, 'no token secret in the audit log');

    const enrolled = fx.enrolled.at(-1);
    assert.equal(enrolled?.id, result.envoyId);
    assert.equal(enrolled?.reenrolled, false);
    assert.deepEqual(enrolled?.publicKeyRaw, keys.publicKeyRaw);
    assert.equal(enrolled?.certFingerprint, sha256Hex(cert.raw));
  });

  it('re-enrolling an active hostname keeps the envoy id and replaces key and certificate', async () => {
    const token = await newToken(['cache-*'], 2);
    const first = await fx.service.enroll(enrollRequest(await enrollInput(token, 'cache-1')));
    const keys = await agentKeys('cache-1');
    const second = await fx.service.enroll(
      enrollRequest({ token, hostname: 'cache-1', publicKey: keys.publicKey, csr: keys.csr }),
    );
    assert.equal(second.envoyId, first.envoyId);
    assert.equal(second.reenrolled, true);
    assert.notEqual(second.clientCertPem, first.clientCertPem);
    const rows = fx.store.db.prepare("SELECT * FROM envoys WHERE hostname = 'cache-1'").all() as Record<
      string,
      unknown
    >[];
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0]?.['public_key'], keys.publicKeyRaw);
    const [entry] = listAudit(fx.store.db, { limit: 1000, action: 'envoy.reenrolled' }).slice(-1);
    assert.equal(entry?.target, `envoy:${first.envoyId}`);
    assert.equal(entry?.details['newKeyFingerprint'], sha256Hex(keys.publicKeyRaw));
    assert.notEqual(entry?.details['oldKeyFingerprint'], entry?.details['newKeyFingerprint']);
    assert.equal(fx.enrolled.at(-1)?.reenrolled, true);
  });

  it('re-enrolling a hostname whose envoy was revoked creates a new envoy id', async () => {
    const token = await newToken(['mail-*'], 2);
    const first = await fx.service.enroll(enrollRequest(await enrollInput(token, 'mail-1')));
    fx.store.db
      .prepare("UPDATE envoys SET status = 'revoked', revoked_at = ? WHERE id = ?")
      .run(fx.clock.nowMs, first.envoyId);
    const second = await fx.service.enroll(enrollRequest(await enrollInput(token, 'mail-1')));
    assert.notEqual(second.envoyId, first.envoyId);
    assert.equal(second.reenrolled, false);
    const statuses = fx.store.db
      .prepare("SELECT id, status FROM envoys WHERE hostname = 'mail-1' ORDER BY enrolled_at")
      .all();
    assert.deepEqual(statuses, [
      { id: first.envoyId, status: 'revoked' },
      { id: second.envoyId, status: 'active' },
    ]);
  });

  it('refuses wrong, malformed and unknown tokens with enroll.token_invalid', async () => {
    const token = await newToken(['*']);
    const input = await enrollInput(token, 'host-a');
    const wrongSecret = `${token.slice(0, 22)}${'A'.repeat(43)}`;
    await assertRefused({ ...input, token: wrongSecret }, 'enroll.token_invalid');
    await assertRefused(
      { ...input, token: 'vget_0123456789abcdef_' + 'A'.repeat(43) },
      'enroll.token_invalid',
    );
    await assertRefused({ ...input, token: 'not-a-token' }, 'enroll.token_invalid');
    await assertRefused({ ...input, token: `${token}x` }, 'enroll.token_invalid');
  });

  it('refuses expired, used-up and revoked tokens, each with its own code', async () => {
    const expiring = await newToken(['*'], 1, '1m');
    fx.clock.nowMs += 60_000;
    await assertRefused(await enrollInput(expiring, 'host-b'), 'enroll.token_expired');

    const once = await newToken(['*'], 1);
    await fx.service.enroll(enrollRequest(await enrollInput(once, 'host-c')));
    await assertRefused(await enrollInput(once, 'host-d'), 'enroll.token_used_up');

    const revoked = await fx.service.createToken(fx.adminCtx, { hostnameGlobs: ['*'] });
    fx.service.revokeToken(fx.adminCtx, revoked.id);
    await assertRefused(await enrollInput(revoked.token, 'host-e'), 'enroll.token_revoked');
  });

  it('refuses hostnames outside the token globs and invalid hostnames', async () => {
    const token = await newToken(['web-*', 'db-[0-9]']);
    await assertRefused(await enrollInput(token, 'mail-1'), 'enroll.hostname_not_allowed');
    await assertRefused(await enrollInput(token, 'db-x'), 'enroll.hostname_not_allowed');
    await assertRefused(
      { ...(await enrollInput(token, 'web-1')), hostname: 'web_1' },
      'enroll.hostname_invalid',
    );
    await assertRefused(
      { ...(await enrollInput(token, 'web-1')), hostname: 'web-1.' },
      'enroll.hostname_invalid',
    );
  });

  it('refuses malformed agent keys and CSRs', async () => {
    const token = await newToken(['*']);
    const input = await enrollInput(token, 'host-k');
    const raw = Buffer.from(input.publicKey, 'base64');
    await assertRefused(
      { ...input, publicKey: raw.subarray(0, 31).toString('base64') },
      'enroll.key_invalid',
    );
    await assertRefused(
      { ...input, publicKey: Buffer.concat([raw, raw]).toString('base64') },
      'enroll.key_invalid',
    );
    await assertRefused({ ...input, publicKey: 'not base64!' }, 'enroll.key_invalid');
    await assertRefused({ ...input, publicKey: raw.toString('hex') }, 'enroll.key_invalid');
    await assertRefused({ ...input, publicKey: '' }, 'enroll.key_invalid');
    await assertRefused({ ...input, csr: 'garbage' }, 'pki.csr_invalid');
    await assertRefused({ ...input, csr: fx.pki.caCertPem }, 'pki.csr_invalid');
    const tampered = input.csr.replace(
      /^(-----BEGIN CERTIFICATE REQUEST-----\n)(.)/,
      (_m, head: string, c: string) => `${head}${c === 'M' ? 'N' : 'M'}`,
    );
    await assertRefused({ ...input, csr: tampered }, 'pki.csr_invalid');
    const ok = await fx.service.enroll(enrollRequest(input));
    assert.ok(ok.envoyId, 'the same token still works after refusals');
  });

  it('keeps one active envoy per hostname when enrollments of a new hostname race', async () => {
    const token = await newToken(['twin-*'], 10);
    const inputs = await Promise.all([1, 2, 3, 4].map(() => enrollInput(token, 'twin-1')));
    const results = await Promise.allSettled(inputs.map((input) => fx.service.enroll(enrollRequest(input))));
    const won = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    assert.ok(won.length >= 1);
    assert.equal(new Set(won.map((r) => r.envoyId)).size, 1, 'every success names the same envoy');
    for (const r of results) {
      if (r.status === 'rejected') assert.equal((r.reason as { code: string }).code, 'enroll.conflict');
    }
    const rows = fx.store.db.prepare("SELECT count(*) FROM envoys WHERE hostname = 'twin-1'").pluck().get();
    assert.equal(rows, 1);
  });

  it('lets exactly one of several racing enrollments take the last use', async () => {
    const token = await newToken(['race-*'], 1);
    const inputs = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => enrollInput(token, `race-${n}`)));
    const before = fx.counts();
    const results = await Promise.allSettled(
      inputs.map((input) => fx.service.enroll(enrollRequest(input, '192.0.2.50'))),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(won.length, 1);
    for (const failure of lost)
      assert.equal((failure.reason as { code: string }).code, 'enroll.token_used_up');
    assert.deepEqual(fx.counts(), {
      envoys: before.envoys + 1,
      audit: before.audit + 1,
      uses: before.uses + 1,
    });
  });
});

describe('enrollment rate limiting', () => {
  it('answers rate_limited after too many failures from one address; successes do not count', async () => {
    const limited = await enrollFixture({ failureLimit: { maxFailures: 3, windowMs: 60_000 } });
    try {
      const token = (await limited.service.createToken(limited.adminCtx, { hostnameGlobs: ['*'], uses: 10 }))
        .token;
      const ip = '198.51.100.7';
      for (let i = 0; i < 4; i += 1) {
        await limited.service.enroll(enrollRequest(await enrollInput(token, `ok-${i}`), ip));
      }
      const bad = await enrollInput('vget_0123456789abcdef_' + 'A'.repeat(43), 'x-1');
      await assert.rejects(limited.service.enroll(enrollRequest(bad, ip)), { code: 'enroll.token_invalid' });
      await assert.rejects(limited.service.enroll(enrollRequest({ ...bad, hostname: '-' }, ip)), {
        code: 'enroll.hostname_invalid',
      });
      const badBody = {
        sourceIp: ip,
        log: enrollRequest(bad).log,
        readInput: async () => {
          throw new VigoError('request.invalid', 'unknown field "x"');
        },
      };
      await assert.rejects(limited.service.enroll(badBody), { code: 'request.invalid' });
      await assert.rejects(
        limited.service.enroll(enrollRequest(await enrollInput(token, 'ok-9'), ip)),
        (err: { code: string; details: Record<string, unknown> }) => {
          assert.equal(err.code, 'rate_limited');
          assert.ok((err.details['retryAfterSeconds'] as number) > 0);
          return true;
        },
      );
      await limited.service.enroll(enrollRequest(await enrollInput(token, 'ok-other'), '198.51.100.8'));
      limited.clock.nowMs += 60_000;
      await limited.service.enroll(enrollRequest(await enrollInput(token, 'ok-later'), ip));
    } finally {
      limited.cleanup();
    }
  });
});
