/** Each CheckIn feeds the envoy's observed cadence, in memory, from the gaps between its check-ins. */
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { generateKeyPairSync } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { CheckInPayloadSchema } from '../../protocol/index.ts';
import { FleetIndex } from '../fleet/index.ts';
import { answerCheckIn } from './checkin-answer.ts';
import { createEmptyPolicy } from './policy.ts';
import { storeWithEnvoy } from './test-fixtures.ts';

const fixture = storeWithEnvoy();
after(() => fixture.cleanup());

describe('answerCheckIn: observed cadence', () => {
  it('averages the gaps between check-ins, leaving out outages', () => {
    const index = FleetIndex.load(fixture.store.db);
    const policy = createEmptyPolicy({
      version: 1,
      signingKey: generateKeyPairSync('ed25519').privateKey,
      maxAgeMs: () => 86_400_000,
      observeOnly: () => false,
    });
    const entry = index.get(fixture.envoyId)!;
    const payload = create(CheckInPayloadSchema, { agentVersion: '1.0', hostname: 'web-1.example.com' });
    const checkInAt = (nowMs: number): void => {
      answerCheckIn(entry, payload, {
        index,
        policy,
        intervalMs: 60_000,
        observeOnly: false,
        connection: 'held',
        streamIdleReleaseMs: 60_000,
        nowMs,
      });
    };
    entry.lastSeenAtMs = 1_000; // as loaded from the database: not a check-in of this process
    checkInAt(5_000_000);
    assert.equal(entry.observedCadenceMs, 0, 'the first check-in after a start has no gap');
    checkInAt(5_090_000);
    assert.equal(entry.observedCadenceMs, 90_000);
    checkInAt(5_220_000);
    assert.equal(entry.observedCadenceMs, 100_000);
    checkInAt(9_000_000);
    assert.equal(entry.observedCadenceMs, 100_000, 'a gap of an hour is an outage, not the cadence');
    assert.equal(entry.lastCheckInAtMs, 9_000_000);
  });
});
