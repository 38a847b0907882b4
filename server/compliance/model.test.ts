import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { controlState, coveragePct } from './model.ts';
import type { ClaimingResource, ResourceOutcome } from './model.ts';
import { riskScore } from './risk.ts';

const claiming = (...outcomes: (ResourceOutcome | undefined)[]): ClaimingResource[] =>
  outcomes.map((outcome, i) => ({ configcrate: 'c', resourceId: `c/r${i}`, outcome, runId: outcome && 'r' }));

describe('control state', () => {
  it('is failing when any claiming resource failed or was blocked', () => {
    assert.equal(controlState(claiming('none', 'failed'), false), 'failing');
    assert.equal(controlState(claiming('created', 'blocked'), false), 'failing');
  });
  it('is enforced when every resource reported and one applied, pending otherwise', () => {
    assert.equal(controlState(claiming('none', 'updated', 'skipped'), false), 'enforced');
    assert.equal(controlState(claiming('none', undefined), false), 'pending');
    assert.equal(controlState(claiming('skipped', 'skipped'), false), 'pending');
    assert.equal(controlState([], false), 'pending');
  });
  it('is waived under an active waiver whatever the outcomes', () => {
    assert.equal(controlState(claiming('failed'), true), 'waived');
  });
  it('counts coverage as enforced plus waived over claimed', () => {
    assert.equal(coveragePct(3, 1, 1), 66.7);
    assert.equal(coveragePct(0, 0, 0), 0);
  });
});

describe('risk score', () => {
  it('adds capped terms and reaches 100 at worst', () => {
    const worst = riskScore({
      claimed: 4,
      failing: 4,
      drift: 'diverged',
      reachability: 'offline',
      activeWaivers: 9,
      pendingSecurityUpdates: 50,
    });
    assert.deepEqual(worst.terms, { failing: 50, drift: 15, staleness: 20, waivers: 10, securityUpdates: 5 });
    assert.equal(worst.score, 100);
    const calm = riskScore({
      claimed: 0,
      failing: 0,
      drift: 'none',
      reachability: 'online',
      activeWaivers: 0,
      pendingSecurityUpdates: undefined,
    });
    assert.equal(calm.score, 0);
    assert.match(calm.formula, /50 × failing\/claimed/);
  });
  it('reads one stale envoy with a changed run and one waiver', () => {
    const r = riskScore({
      claimed: 10,
      failing: 1,
      drift: 'changed',
      reachability: 'stale',
      activeWaivers: 1,
      pendingSecurityUpdates: undefined,
    });
    assert.equal(r.score, 5 + 8 + 10 + 2);
  });
});
