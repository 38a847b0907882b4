import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { signEnvelope } from '../../protocol/index.ts';
import { FleetIndex } from '../fleet/index.ts';
import { storeWithEnvoy } from './test-fixtures.ts';
import { EnvelopeRejection, verifyEnvelope } from './verify.ts';

const fixture = storeWithEnvoy();
after(() => fixture.cleanup());
const peer = fixture.certFingerprintHex;
const body = new Uint8Array([1, 2, 3]);

function rejects(code: string, run: () => unknown): void {
  assert.throws(run, (err: unknown) => err instanceof EnvelopeRejection && err.code === code);
}

describe('verifyEnvelope', () => {
  const index = FleetIndex.load(fixture.store.db);
  const context = (nowMs: number) => ({ index, clockSkewMs: 60_000, nowMs });

  it('accepts a fresh, signed envelope and records its timestamp', () => {
    const now = Date.now();
    const envelope = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now, body);
    const entry = verifyEnvelope('CheckIn', envelope, peer, context(now));
    assert.equal(entry.id, fixture.envoyId);
    assert.equal(entry.lastTsMs, now);
  });

  it('refuses a replayed envelope and one older than the last accepted', () => {
    const now = Date.now() + 10;
    const envelope = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now, body);
    verifyEnvelope('CheckIn', envelope, peer, context(now));
    rejects('checkin.replayed', () => verifyEnvelope('CheckIn', envelope, peer, context(now)));
    const older = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now - 5, body);
    rejects('checkin.replayed', () => verifyEnvelope('CheckIn', older, peer, context(now)));
  });

  it('refuses timestamps outside the skew window', () => {
    const now = Date.now() + 1000;
    const future = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now + 120_000, body);
    rejects('checkin.clock_skew', () => verifyEnvelope('CheckIn', future, peer, context(now)));
  });

  it('refuses a signature by another key, for another RPC, or over other bytes', () => {
    const now = Date.now() + 2000;
    const { privateKey: other } = generateKeyPairSync('ed25519');
    const wrongKey = signEnvelope(other, 'CheckIn', fixture.envoyId, now, body);
    rejects('checkin.bad_signature', () => verifyEnvelope('CheckIn', wrongKey, peer, context(now)));
    const otherRpc = signEnvelope(fixture.privateKey, 'ReportResults', fixture.envoyId, now, body);
    rejects('checkin.bad_signature', () => verifyEnvelope('CheckIn', otherRpc, peer, context(now)));
    const tampered = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now, body);
    tampered.body = new Uint8Array([1, 2, 4]);
    rejects('checkin.bad_signature', () => verifyEnvelope('CheckIn', tampered, peer, context(now)));
  });

  it('refuses unknown envoys, a foreign certificate, a missing certificate and a missing envelope', () => {
    const now = Date.now() + 3000;
    const unknown = signEnvelope(
      fixture.privateKey,
      'CheckIn',
      '00000000-0000-4000-8000-000000000000',
      now,
      body,
    );
    rejects('checkin.unknown_envoy', () => verifyEnvelope('CheckIn', unknown, peer, context(now)));
    const envelope = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now, body);
    rejects('checkin.identity_mismatch', () =>
      verifyEnvelope('CheckIn', envelope, 'cd'.repeat(32), context(now)),
    );
    rejects('checkin.identity_mismatch', () => verifyEnvelope('CheckIn', envelope, undefined, context(now)));
    rejects('checkin.envelope_invalid', () => verifyEnvelope('CheckIn', undefined, peer, context(now)));
  });

  it('refuses a revoked envoy even with a valid signature', () => {
    const now = Date.now() + 4000;
    const entry = index.get(fixture.envoyId)!;
    entry.status = 'revoked';
    try {
      const envelope = signEnvelope(fixture.privateKey, 'CheckIn', fixture.envoyId, now, body);
      rejects('checkin.revoked', () => verifyEnvelope('CheckIn', envelope, peer, context(now)));
    } finally {
      entry.status = 'active';
    }
  });
});
