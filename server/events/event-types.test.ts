import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigoError } from '../core/index.ts';
import { createBootTag, formatEventId, parseEventId } from './event-id.ts';
import { eventTypes, isEventType, parseEventTypes } from './event-types.ts';

function invalid(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseEventTypes(text),
    (err) => isVigoError(err) && err.code === 'request.invalid' && pattern.test(err.message),
    text,
  );
}

describe('parseEventTypes', () => {
  it('reads a comma-separated list in canonical order without duplicates', () => {
    assert.equal(parseEventTypes(undefined), undefined);
    assert.deepEqual(parseEventTypes(' config.published , envoy.stale,envoy.stale'), [
      'envoy.stale',
      'config.published',
    ]);
  });

  it('expands a family', () => {
    assert.deepEqual(parseEventTypes('envoy.*'), [
      'envoy.enrolled',
      'envoy.revoked',
      'envoy.stale',
      'envoy.online',
      'envoy.push_requested',
      'envoy.converged',
      'envoy.degraded',
      'envoy.failed',
    ]);
  });

  it('names an unknown type, suggests the nearest and lists the valid ones', () => {
    invalid('envoy.stael', /unknown event type "envoy\.stael" \(did you mean "envoy\.stale"\?\)/);
    invalid('envoy.stale,nope', /"nope".*valid types are .*config\.published.*(token\.revoked|\(\d+ more\))/);
    invalid('nothing.*', /unknown event type "nothing\.\*"/);
    invalid('x'.repeat(5000), /unknown event type "x{64}"/);
  });

  it('refuses empty items instead of reading them as "all"', () => {
    invalid('', /empty event type/);
    invalid('envoy.stale,,run.reported', /empty event type/);
  });

  it('declares every type once', () => {
    assert.equal(new Set(eventTypes).size, eventTypes.length);
    assert.ok(eventTypes.every((type) => isEventType(type)));
    assert.equal(isEventType('envoy.offline'), false);
  });
});

describe('event ids', () => {
  it('round-trip and refuse anything else', () => {
    const tag = createBootTag(Date.parse('2025-01-01T00:00:00Z'));
    assert.deepEqual(parseEventId(formatEventId(tag, 42)), { bootTag: tag, seq: 42 });
    assert.deepEqual(parseEventId(`${tag}-0`), { bootTag: tag, seq: 0 });
    for (const bad of [
      '',
      '42',
      `${tag}-`,
      `${tag}-01`,
      `${tag}--1`,
      `${tag}-1.5`,
      `${tag}-99999999999999999`,
      `A-1`,
    ]) {
      assert.equal(parseEventId(bad), undefined, bad);
    }
  });

  it('differ between two boots in the same millisecond', () => {
    const tags = new Set(Array.from({ length: 50 }, () => createBootTag(1_700_000_000_000)));
    assert.ok(tags.size >= 49, 'random part makes same-millisecond boots distinct');
  });
});
