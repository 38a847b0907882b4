import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { IdentityFixture } from './identity.fixture.ts';
import { errorCode, identityFixture } from './identity.fixture.ts';
import { csrfMatches, sessionLimits } from './sessions.ts';
import type { UserView } from './users.ts';

let f: IdentityFixture;
let root: UserView;
let ann: UserView;
beforeEach(async () => {
  f = identityFixture();
  root = await f.user('root', 'admin');
  ann = await f.user('ann', 'operator');
});
afterEach(() => f.cleanup());

const minute = 60_000;
const lastSeen = (sessionId: string): unknown =>
  f.store.db
    .prepare('SELECT last_seen_at FROM sessions WHERE id_hash = ?')
    .pluck()
    .get(createHash('sha256').update(sessionId).digest('hex'));

describe('sessions', () => {
  it('authenticates a new session as its user, with the CSRF token, storing only the id’s hash', () => {
    const s = f.service.createSession(ann.id, { ip: '192.0.2.1', userAgent: 'Firefox\u0000\n/1' });
    assert.match(s.sessionId, /^[A-Za-z0-9_-]{43}$/);
    assert.match(s.csrfToken, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(s.sessionId, s.csrfToken);
    assert.equal(s.expiresAt, new Date(f.clock.nowMs + sessionLimits.defaultMaxAgeMs).toISOString());
    assert.deepEqual(f.service.authenticateSession(s.sessionId), {
      actor: { kind: 'user', userId: ann.id, username: 'ann', role: 'operator' },
      csrfToken: s.csrfToken,
      expiresAt: s.expiresAt,
    });
    assert.ok(!f.allStoredText().includes(s.sessionId));
    const row = f.store.db.prepare('SELECT ip, user_agent FROM sessions').get();
    assert.deepEqual(row, { ip: '192.0.2.1', user_agent: 'Firefox/1' });
  });

  it('ends a session left idle for the idle timeout, read afresh on every call', () => {
    const s = f.service.createSession(ann.id, {});
    f.clock.nowMs += 15 * minute - 1;
    assert.ok(f.service.authenticateSession(s.sessionId), 'just inside the idle timeout');
    // That call slid the session: another almost-15 minutes later it is still alive.
    f.clock.nowMs += 15 * minute - 1;
    assert.ok(f.service.authenticateSession(s.sessionId));
    f.clock.nowMs += 15 * minute;
    assert.equal(f.service.authenticateSession(s.sessionId), undefined);
    assert.equal(f.count('SELECT count(*) FROM sessions'), 0, 'the dead session is removed');

    const t = f.service.createSession(ann.id, {});
    f.clock.nowMs += 10 * minute;
    f.idle.ms = 5 * minute;
    assert.equal(f.service.idleTimeoutMs(), 5 * minute);
    assert.equal(f.service.authenticateSession(t.sessionId), undefined, 'a shorter timeout applies at once');
  });

  it('keeps an idle session when the idle timeout is off, but never past its absolute age', () => {
    f.idle.ms = 0;
    const s = f.service.createSession(ann.id, {});
    f.clock.nowMs += sessionLimits.defaultMaxAgeMs - 1;
    assert.ok(f.service.authenticateSession(s.sessionId));
    f.clock.nowMs += 1;
    assert.equal(f.service.authenticateSession(s.sessionId), undefined);
  });

  it('writes last_seen_at at most every 30 s (a tenth of a short idle timeout)', () => {
    const s = f.service.createSession(ann.id, {});
    const start = f.clock.nowMs;
    f.clock.nowMs += 29_999;
    f.service.authenticateSession(s.sessionId);
    assert.equal(lastSeen(s.sessionId), start);
    f.clock.nowMs += 1;
    f.service.authenticateSession(s.sessionId);
    assert.equal(lastSeen(s.sessionId), start + 30_000);

    f.idle.ms = minute;
    f.clock.nowMs += 6_000;
    f.service.authenticateSession(s.sessionId);
    assert.equal(lastSeen(s.sessionId), start + 36_000);
  });

  it('ends a user’s sessions when their role, password or enabled state changes', async () => {
    const a = f.service.createSession(ann.id, {});
    const other = f.service.createSession(root.id, {});
    await f.service.updateUser(f.adminCtx, ann.id, { role: 'viewer' });
    assert.equal(f.service.authenticateSession(a.sessionId), undefined);
    assert.ok(f.service.authenticateSession(other.sessionId), 'other users keep theirs');
    assert.equal(f.audit('user.updated').at(-1)?.details.sessionsEnded, 1);

    const b = f.service.createSession(ann.id, {});
    assert.equal(f.service.authenticateSession(b.sessionId)?.actor.role, 'viewer');
    await f.service.updateUser(f.adminCtx, ann.id, { password: 'a brand new passphrase' });
    assert.equal(f.service.authenticateSession(b.sessionId), undefined);

    const c = f.service.createSession(ann.id, {});
    await f.service.updateUser(f.adminCtx, ann.id, { displayName: 'Ann' });
    assert.ok(f.service.authenticateSession(c.sessionId), 'a display name change keeps sessions');
    await f.service.updateUser(f.adminCtx, ann.id, { disabled: true });
    assert.equal(f.service.authenticateSession(c.sessionId), undefined);
    assert.equal(await errorCode(() => f.service.createSession(ann.id, {})), 'identity.user_disabled');
    assert.equal(
      await errorCode(() => f.service.createSession('usr_000000000000000000000000', {})),
      'identity.user_not_found',
    );
  });

  it('ends sessions on logout, for one user, and when pruned', () => {
    const a1 = f.service.createSession(ann.id, {});
    const a2 = f.service.createSession(ann.id, {});
    const r = f.service.createSession(root.id, {});
    assert.equal(f.service.destroySession(a1.sessionId), true);
    assert.equal(f.service.destroySession(a1.sessionId), false);
    assert.equal(f.service.destroySession('not a session id'), false);
    assert.equal(f.service.authenticateSession(a1.sessionId), undefined);
    assert.ok(f.service.authenticateSession(a2.sessionId));
    assert.equal(f.service.destroyUserSessions(ann.id), 1);
    assert.equal(f.service.authenticateSession(a2.sessionId), undefined);

    f.clock.nowMs += 10 * minute;
    const fresh = f.service.createSession(ann.id, {});
    f.clock.nowMs += 6 * minute;
    assert.equal(f.service.pruneExpiredSessions(), 1, 'only root’s session, idle for 16 minutes');
    assert.equal(f.count('SELECT count(*) FROM sessions WHERE user_id = ?', root.id), 0);
    assert.equal(f.service.authenticateSession(r.sessionId), undefined);
    assert.ok(f.service.authenticateSession(fresh.sessionId));
    f.clock.nowMs += sessionLimits.defaultMaxAgeMs;
    f.idle.ms = 0;
    assert.equal(f.service.pruneExpiredSessions(), 1, 'past its absolute age, even with no idle timeout');
  });

  it('keeps at most 50 sessions per user, ending the least recently seen', () => {
    const first = f.service.createSession(ann.id, {});
    for (let i = 0; i < sessionLimits.maxSessionsPerUser; i += 1) {
      f.clock.nowMs += 1;
      f.service.createSession(ann.id, {});
    }
    assert.equal(
      f.count('SELECT count(*) FROM sessions WHERE user_id = ?', ann.id),
      sessionLimits.maxSessionsPerUser,
    );
    assert.equal(f.service.authenticateSession(first.sessionId), undefined);
  });

  it('refuses malformed session ids without throwing', () => {
    for (const id of [
      '',
      'x',
      'A'.repeat(43),
      'A'.repeat(44),
      '../../etc/passwd',
      undefined as unknown as string,
    ]) {
      assert.equal(f.service.authenticateSession(id), undefined);
    }
  });

  it('uses a configured absolute session age', async () => {
    f.cleanup();
    f = identityFixture({ sessionMaxAgeMs: 2 * minute, sessionIdleTimeoutMs: () => 0 });
    const user = await f.user('ann', 'viewer');
    const s = f.service.createSession(user.id, {});
    f.clock.nowMs += 2 * minute - 1;
    assert.ok(f.service.authenticateSession(s.sessionId));
    f.clock.nowMs += 1;
    assert.equal(f.service.authenticateSession(s.sessionId), undefined);
  });
});

describe('csrfMatches', () => {
  it('accepts only the exact token', () => {
    const token = 'Q2hlY2sgdGhpcyB0b2tlbiBmb3IgZXF1YWxpdHkgb25seQ';
    assert.equal(csrfMatches(token, token), true);
    assert.equal(csrfMatches(token, `${token}x`), false);
    assert.equal(csrfMatches(token, token.slice(1)), false);
    assert.equal(csrfMatches(token, ''), false);
    assert.equal(csrfMatches(token, undefined), false);
    assert.equal(csrfMatches('', ''), false);
    assert.equal(f.service.csrfMatches(token, token.toLowerCase()), false);
  });
});
