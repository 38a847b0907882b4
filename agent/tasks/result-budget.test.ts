import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResourceResult } from '../engine/index.ts';
import { fitResults } from './result-budget.ts';

function result(i: number, outcome: ResourceResult['outcome'], message: string): ResourceResult {
  return {
    resourceId: `file:/r${i}`,
    resourceType: 'file',
    configcrate: 'c',
    outcome,
    message,
    durationMs: 1,
  };
}

describe('fitResults', () => {
  it('keeps results that fit as they are', () => {
    const all = [result(1, 'updated', 'changed'), result(2, 'failed', 'denied')];
    assert.deepEqual(fitResults(all), { results: all, note: undefined });
  });

  it('drops messages of results that did not fail first, then trailing results, and says so', () => {
    const all = [
      result(1, 'failed', 'x'.repeat(100)),
      result(2, 'updated', 'y'.repeat(100)),
      result(3, 'none', 'z'.repeat(100)),
    ];
    const trimmed = fitResults(all, 400);
    assert.deepEqual(
      trimmed.results.map((r) => r.message.length),
      [100, 0, 0],
    );
    assert.equal(
      trimmed.note,
      'messages of results that did not fail left out: they do not fit in one stream message',
    );
    const cut = fitResults(all, 200);
    assert.equal(cut.results.length, 2);
    assert.equal(
      cut.note,
      '1 of 3 resource results left out; messages of results that did not fail left out: they do not fit in one stream message',
    );
  });

  it('never sends more than 10,000 results', () => {
    const all = Array.from({ length: 10_001 }, (_, i) => result(i, 'none', ''));
    const fitted = fitResults(all);
    assert.equal(fitted.results.length, 10_000);
    assert.match(fitted.note ?? '', /^1 of 10001 resource results left out/);
  });
});
