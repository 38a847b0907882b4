import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createConvergenceTally } from './tally.ts';
import type { FleetConvergence } from './tally.ts';
import { createConvergenceThresholdWatch } from './threshold.ts';

/** A fleet count with `converged` converged, `failed` failed and `noData` envoys without runs. */
function fleet(converged: number, failed: number, noData = 0): FleetConvergence {
  const tally = createConvergenceTally();
  for (let i = 0; i < converged; i++) tally.add('converged', 'none', 'online');
  for (let i = 0; i < failed; i++) tally.add('failed', 'none', 'online');
  for (let i = 0; i < noData; i++) tally.add('no_data', 'none', 'offline');
  return tally.finish(0);
}

describe('convergence threshold', () => {
  it('announces a drop below the threshold once, and again only after a recovery', () => {
    let threshold = 90;
    const watch = createConvergenceThresholdWatch(() => threshold);
    assert.equal(watch.observe(fleet(9, 1)), undefined, '90 % is not below 90 %');
    assert.deepEqual(watch.observe(fleet(8, 2, 5)), {
      thresholdPercent: 90,
      convergedPercent: 80,
      converged: 8,
      reporting: 10,
    });
    assert.equal(watch.observe(fleet(7, 3)), undefined, 'still below: already announced');
    assert.equal(watch.observe(fleet(10, 0)), undefined, 'recovered');
    assert.equal(watch.observe(fleet(1, 2))?.convergedPercent, 33.3);
    threshold = 0;
    assert.equal(watch.observe(fleet(0, 5)), undefined, '0 turns it off');
    threshold = 50;
    assert.equal(watch.observe(fleet(0, 0, 4)), undefined, 'no envoy reported: no share');
    assert.equal(watch.observe(fleet(0, 1))?.thresholdPercent, 50, 'turning it on again re-arms it');
  });
});
