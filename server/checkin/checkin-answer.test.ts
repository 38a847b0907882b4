/** What a CheckIn reply says about connecting: the fleet's mode, and open_stream while the server wants it. */
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { generateKeyPairSync } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { CheckInPayloadSchema, ConnectionMode } from '../../protocol/index.ts';
import { FleetIndex } from '../fleet/index.ts';
import type { EnvoyEntry } from '../fleet/index.ts';
import { answerCheckIn } from './checkin-answer.ts';
import type { CheckInContext } from './checkin-answer.ts';
import { createEmptyPolicy } from './policy.ts';
import { storeWithEnvoy } from './test-fixtures.ts';

const fixture = storeWithEnvoy();
after(() => fixture.cleanup());
const index = FleetIndex.load(fixture.store.db);
const policy = createEmptyPolicy({
  version: 1,
  signingKey: generateKeyPairSync('ed25519').privateKey,
  maxAgeMs: () => 86_400_000,
  observeOnly: () => false,
});

function context(overrides: Partial<CheckInContext> = {}): CheckInContext {
  return {
    index,
    policy,
    intervalMs: 300_000,
    observeOnly: false,
    connection: 'held',
    streamIdleReleaseMs: 60_000,
    nowMs: Date.now(),
    ...overrides,
  };
}

function entry(): EnvoyEntry {
  const found = index.get(fixture.envoyId);
  assert.ok(found);
  return found;
}

const payload = create(CheckInPayloadSchema, { agentVersion: '1.0', hostname: 'web-1.example.com' });

describe('answerCheckIn: connecting', () => {
  it('tells every agent the fleet connection mode', () => {
    assert.equal(answerCheckIn(entry(), payload, context()).response.connection, ConnectionMode.HELD);
    const poll = answerCheckIn(entry(), payload, context({ connection: 'poll' })).response;
    assert.equal(poll.connection, ConnectionMode.POLL);
    assert.equal(poll.openStream, false);
    assert.equal(poll.streamIdleReleaseMs, 0, 'nothing to release when no stream is asked for');
  });

  it('says open_stream, with the idle release, from requestStream until a stream says Hello', () => {
    assert.equal(index.requestStream(fixture.envoyId), 'requested');
    const asked = context({ connection: 'poll', streamIdleReleaseMs: 45_000 });
    for (let i = 0; i < 2; i += 1) {
      const reply = answerCheckIn(entry(), payload, asked).response;
      assert.equal(reply.openStream, true, 'every reply says it until the stream arrives');
      assert.equal(reply.streamIdleReleaseMs, 45_000);
    }
    // What agent-stream.ts does when the envoy's Hello takes effect.
    entry().streamOpen = true;
    entry().streamRequested = false;
    assert.equal(answerCheckIn(entry(), payload, asked).response.openStream, false);
    assert.equal(index.requestStream(fixture.envoyId), 'open', 'work for an open stream goes on it');
    assert.equal(entry().streamRequested, false);
  });

  it('never asks an unknown or revoked envoy for its stream', () => {
    assert.equal(index.requestStream('00000000-0000-4000-8000-000000000000'), 'unknown');
    entry().streamOpen = false;
    entry().status = 'revoked';
    try {
      assert.equal(index.requestStream(fixture.envoyId), 'revoked');
      assert.equal(entry().streamRequested, false);
    } finally {
      entry().status = 'active';
    }
  });
});
