import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcrypt';
import { listAudit } from '../audit/index.ts';
import type { EnrollFixture } from './enroll.fixture.ts';
import { enrollFixture } from './enroll.fixture.ts';
import { parseEnrollToken } from './token-secret.ts';

let fx: EnrollFixture;
before(async () => {
  fx = await enrollFixture();
});
after(() => fx.cleanup());

function storedRow(id: string): Record<string, unknown> {
  return fx.store.db.prepare('SELECT * FROM enrollment_tokens WHERE id = ?').get(id) as Record<
    string,
    unknown
  >;
}

describe('enrollment token administration', () => {
  it('creates a token, stores only a bcrypt hash of its secret and audits the creation', async () => {
    const hourMs = 3_600_000;
    const created = await fx.service.createToken(fx.adminCtx, {
      hostnameGlobs: ['Web-*', 'db-[0-9]', 'web-*'],
      uses: 3,
      expiresIn: '2h',
      description: 'rack 4',
    });
    const parts = parseEnrollToken(created.token);
    assert.ok(parts, 'token has the vget_<id>_<secret> form');
    assert.equal(parts.id, created.id);
    assert.deepEqual(created.hostnameGlobs, ['web-*', 'db-[0-9]'], 'lower-cased and deduplicated');
    assert.equal(created.usesAllowed, 3);
    assert.equal(created.status, 'active');
    assert.equal(created.expiresAt, new Date(fx.clock.nowMs + 2 * hourMs).toISOString());

    const row = storedRow(created.id);
    assert.equal(JSON.stringify(row).includes(parts.secret), false, 'the secret is not stored');
    assert.equal(row['created_by'], 'local-admin');
    const hash = row['secret_hash'] as string;
    assert.match(hash, /^\$2b\$04\$/);
    assert.equal(await bcrypt.compare(parts.secret, hash), true);

    const [entry] = listAudit(fx.store.db, { limit: 10, action: 'enroll_token.created' });
    assert.ok(entry);
    assert.equal(entry.target, `enroll-token:${created.id}`);
    assert.equal(entry.actor, 'local-admin');
    assert.equal(JSON.stringify(entry).includes(parts.secret), false, 'the audit entry holds no secret');
    assert.equal(JSON.stringify(entry).includes(hash), false, 'nor the hash');
  });

  it('uses bcrypt cost 10 by default', async () => {
    const prod = await enrollFixture({ bcryptCost: undefined });
    try {
      const created = await prod.service.createToken(prod.adminCtx, { hostnameGlobs: ['*'] });
      const hash = prod.store.db.prepare('SELECT secret_hash FROM enrollment_tokens').pluck().get() as string;
      assert.match(hash, /^\$2b\$10\$/);
      assert.equal(created.usesAllowed, 1, 'one use by default');
      assert.equal(
        Date.parse(created.expiresAt) - Date.parse(created.createdAt),
        24 * 3_600_000,
        '24h by default',
      );
    } finally {
      prod.cleanup();
    }
  });

  it('lists tokens with their status, newest first, without secrets or hashes', async () => {
    const a = await fx.service.createToken(fx.adminCtx, { hostnameGlobs: ['a-*'], expiresIn: '1m' });
    fx.clock.nowMs += 1;
    const b = await fx.service.createToken(fx.adminCtx, { hostnameGlobs: ['b-*'] });
    fx.clock.nowMs += 2 * 60_000;
    const listing = fx.service.listTokens(fx.adminCtx, {});
    const text = JSON.stringify(listing);
    assert.equal(text.includes('$2b$'), false);
    assert.equal(text.includes(parseEnrollToken(a.token)!.secret), false);
    assert.equal(text.includes('vget_'), false);
    assert.equal(listing.tokens[0]?.id, b.id);
    assert.equal(listing.tokens.find((t) => t.id === a.id)?.status, 'expired');
    assert.equal(listing.tokens.find((t) => t.id === b.id)?.status, 'active');
    const page = fx.service.listTokens(fx.adminCtx, { limit: 1 });
    assert.equal(page.tokens.length, 1);
    assert.equal(page.truncated, true);
    assert.throws(() => fx.service.listTokens(fx.adminCtx, { limit: 0 }), { code: 'request.invalid' });
  });

  it('revokes a token once, audits it, and treats a repeat as a no-op', async () => {
    const created = await fx.service.createToken(fx.adminCtx, { hostnameGlobs: ['r-*'] });
    const auditBefore = fx.counts().audit;
    const revoked = fx.service.revokeToken(fx.adminCtx, created.id);
    assert.equal(revoked.status, 'revoked');
    assert.ok(revoked.revokedAt);
    assert.equal(fx.counts().audit, auditBefore + 1);
    const again = fx.service.revokeToken(fx.adminCtx, created.id);
    assert.equal(again.revokedAt, revoked.revokedAt);
    assert.equal(fx.counts().audit, auditBefore + 1, 'no second audit entry');
    const [entry] = listAudit(fx.store.db, { limit: 1000, action: 'enroll_token.revoked' }).slice(-1);
    assert.equal(entry?.target, `enroll-token:${created.id}`);
    assert.throws(() => fx.service.revokeToken(fx.adminCtx, '0123456789abcdef'), {
      code: 'enroll.token_not_found',
    });
    assert.throws(() => fx.service.revokeToken(fx.adminCtx, 'nope'), { code: 'enroll.token_not_found' });
  });

  it('refuses bad creation input naming the field, and stores nothing', async () => {
    const before = fx.store.db.prepare('SELECT count(*) FROM enrollment_tokens').pluck().get();
    const cases: [object, string, string | undefined][] = [
      [{ hostnameGlobs: [] }, 'request.invalid', 'hostnameGlobs'],
      [{ hostnameGlobs: ['web_*'] }, 'enroll.glob_invalid', undefined],
      [{ hostnameGlobs: ['*'], uses: 0 }, 'request.invalid', 'uses'],
      [{ hostnameGlobs: ['*'], uses: 100_001 }, 'request.invalid', 'uses'],
      [{ hostnameGlobs: ['*'], uses: 1.5 }, 'request.invalid', 'uses'],
      [{ hostnameGlobs: ['*'], expiresIn: 'tomorrow' }, 'request.invalid', 'expiresIn'],
      [{ hostnameGlobs: ['*'], expiresIn: '0s' }, 'request.invalid', 'expiresIn'],
      [{ hostnameGlobs: ['*'], expiresIn: '91d' }, 'request.invalid', 'expiresIn'],
      [{ hostnameGlobs: ['*'], description: 'x'.repeat(257) }, 'request.invalid', 'description'],
    ];
    for (const [input, code, field] of cases) {
      await assert.rejects(
        fx.service.createToken(fx.adminCtx, input as { hostnameGlobs: string[] }),
        (err: { code: string; details: Record<string, unknown> }) => {
          assert.equal(err.code, code, JSON.stringify(input));
          if (field !== undefined) assert.equal(err.details['field'], field);
          return true;
        },
      );
    }
    assert.equal(fx.store.db.prepare('SELECT count(*) FROM enrollment_tokens').pluck().get(), before);
    const max = await fx.service.createToken(fx.adminCtx, {
      hostnameGlobs: ['*'],
      uses: 100_000,
      expiresIn: '90d',
    });
    assert.equal(max.usesAllowed, 100_000);
  });
});
