import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigoError } from '../core/index.ts';
import { batchSizeOf, failureAllowance, parseAmount, planBatches, tooManyFailures } from './rolling.ts';

const refused = (fn: () => unknown, field: string): void =>
  assert.throws(
    fn,
    (err) => isVigoError(err) && err.code === 'task.invalid' && err.message.startsWith(field),
  );

describe('parseAmount', () => {
  it('reads counts and percentages, as numbers or strings', () => {
    assert.deepEqual(parseAmount('batchSize', 5, 1), { kind: 'count', value: 5 });
    assert.deepEqual(parseAmount('batchSize', '5', 1), { kind: 'count', value: 5 });
    assert.deepEqual(parseAmount('batchSize', ' 25% ', 1), { kind: 'percent', value: 25 });
    assert.deepEqual(parseAmount('maxFailures', '0', 0), { kind: 'count', value: 0 });
  });

  it('refuses what is neither', () => {
    refused(() => parseAmount('batchSize', 0, 1), 'batchSize');
    refused(() => parseAmount('batchSize', '0', 1), 'batchSize');
    refused(() => parseAmount('batchSize', 1.5, 1), 'batchSize');
    refused(() => parseAmount('batchSize', '0%', 1), 'batchSize');
    refused(() => parseAmount('batchSize', '101%', 1), 'batchSize');
    refused(() => parseAmount('batchSize', 'ten', 1), 'batchSize');
    refused(() => parseAmount('maxFailures', -1, 0), 'maxFailures');
    refused(() => parseAmount('maxFailures', true, 0), 'maxFailures');
    refused(() => parseAmount('maxFailures', { n: 1 }, 0), 'maxFailures');
  });
});

describe('planBatches', () => {
  it('puts every target in one batch without a batch size', () => {
    assert.deepEqual(planBatches(7, {}), [7]);
    assert.deepEqual(planBatches(0, {}), []);
  });

  it('splits by a count, the last batch taking the rest', () => {
    assert.deepEqual(planBatches(7, { batchSize: { kind: 'count', value: 3 } }), [3, 3, 1]);
    assert.deepEqual(planBatches(2, { batchSize: { kind: 'count', value: 5 } }), [2]);
  });

  it('splits by a percentage of all targets, rounded up, at least one', () => {
    assert.deepEqual(planBatches(10, { batchSize: { kind: 'percent', value: 25 } }), [3, 3, 3, 1]);
    assert.deepEqual(planBatches(3, { batchSize: { kind: 'percent', value: 10 } }), [1, 1, 1]);
    assert.equal(batchSizeOf({ kind: 'percent', value: 100 }, 9), 9);
  });

  it('sends a canary batch first, then the rest in batches', () => {
    assert.deepEqual(planBatches(10, { canary: 1, batchSize: { kind: 'count', value: 4 } }), [1, 4, 4, 1]);
    assert.deepEqual(planBatches(10, { canary: 2 }), [2, 8]);
    assert.deepEqual(planBatches(2, { canary: 5 }), [2]);
  });
});

describe('max failures', () => {
  it('allows N or P% of all targets (rounded down) and aborts beyond', () => {
    assert.equal(failureAllowance(undefined, 10), undefined);
    assert.equal(failureAllowance({ kind: 'count', value: 2 }, 10), 2);
    assert.equal(failureAllowance({ kind: 'percent', value: 25 }, 10), 2);
    assert.equal(failureAllowance({ kind: 'percent', value: 10 }, 5), 0);
    assert.equal(tooManyFailures(2, 2), false);
    assert.equal(tooManyFailures(3, 2), true);
    assert.equal(tooManyFailures(1, 0), true);
    assert.equal(tooManyFailures(1000, undefined), false);
  });
});
