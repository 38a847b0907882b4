import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VigoError } from '../core/index.ts';
import { BodyBudget } from './body-budget.ts';

function refusal(fn: () => void): VigoError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof VigoError);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('BodyBudget', () => {
  it('holds bodies per client, refuses a second one past the client share (429), frees on release', () => {
    const budget = new BodyBudget({ perClientBytes: 100, totalBytes: 1000 });
    const first = budget.open('a');
    first.take(80);
    const second = budget.open('a');
    second.take(20);
    const refused = refusal(() => second.take(1));
    assert.equal(refused.code, 'request.busy');
    assert.equal(refused.kind, 'exhausted');
    assert.equal(refused.details['retryAfterSeconds'], 1);
    assert.equal(budget.held('a'), 100, 'a refused take takes nothing');
    budget.open('b').take(100);
    assert.equal(budget.held('b'), 100, 'another client has its own share');
    first.release();
    first.release();
    second.take(70);
    assert.equal(budget.held('a'), 90);
    second.release();
    assert.equal(budget.held('a'), 0);
  });

  it('refuses past the total for everyone (503), and lets a lone body use its whole route cap', () => {
    const budget = new BodyBudget({ perClientBytes: 100, totalBytes: 150 });
    const lone = budget.open('a');
    lone.take(500);
    assert.equal(budget.held(), 500, 'alone on the server and for its client: not limited by the budget');
    lone.release();
    budget.open('a').take(90);
    budget.open('b').take(50);
    const refused = refusal(() => budget.open('c').take(20));
    assert.equal(refused.code, 'server.busy');
    assert.equal(refused.kind, 'unavailable');
  });
});
