import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { observeCheckInGap, effectiveCadenceMs } from './cadence.ts';
import {
  applyRun,
  divergedAfterRuns,
  initialConvergence,
  reachabilityOf,
  runFailureStatus,
} from './state.ts';
import type { ConvergenceState, ConvergenceStatus, DriftLevel, RunSummary } from './state.ts';

let clock = 1_000;
let nextRun = 0;

function run(
  counts: Partial<Omit<RunSummary, 'runId' | 'startedAtMs'>> & { startedAtMs?: number },
): RunSummary {
  nextRun += 1;
  return {
    runId: `run-${nextRun}`,
    startedAtMs: counts.startedAtMs ?? nextRun * 100,
    dryRun: counts.dryRun ?? false,
    unchanged: counts.unchanged ?? 0,
    changed: counts.changed ?? 0,
    failed: counts.failed ?? 0,
    blocked: counts.blocked ?? 0,
    skipped: counts.skipped ?? 0,
  };
}

const ok = (): RunSummary => run({ unchanged: 4 });
const changed = (): RunSummary => run({ unchanged: 3, changed: 1 });
const degraded = (): RunSummary => run({ unchanged: 3, failed: 1 });
const failed = (): RunSummary => run({ unchanged: 1, failed: 3 });
const blocked = (): RunSummary => run({ unchanged: 3, blocked: 1 });

/** Feeds `runs` in order; returns the [status, drift] after each. */
function walk(
  runs: RunSummary[],
  from: ConvergenceState = initialConvergence,
): [ConvergenceStatus, DriftLevel][] {
  const seen: [ConvergenceStatus, DriftLevel][] = [];
  let state = from;
  for (const r of runs) {
    clock += 10;
    state = applyRun(state, r, clock).state;
    seen.push([state.status, state.drift]);
  }
  return seen;
}

describe('convergence failure axis', () => {
  it('classifies a run by the share of applied resources that failed', () => {
    assert.equal(runFailureStatus(run({})), 'converged', 'an empty run has nothing failing');
    assert.equal(runFailureStatus(run({ unchanged: 5, changed: 5 })), 'converged');
    assert.equal(runFailureStatus(run({ unchanged: 2, failed: 1 })), 'degraded', '1 of 3');
    assert.equal(runFailureStatus(run({ unchanged: 1, failed: 1 })), 'failed', '1 of 2 is half');
    assert.equal(runFailureStatus(run({ failed: 1 })), 'failed', 'all failed');
    assert.equal(
      runFailureStatus(run({ unchanged: 1, failed: 1, skipped: 10, blocked: 10 })),
      'failed',
      'skipped and blocked resources were not applied, so they do not dilute the failures',
    );
    assert.equal(
      runFailureStatus(run({ unchanged: 2, blocked: 3 })),
      'converged',
      'blocked is drift, not failure',
    );
  });

  it('moves between every pair of failure states, starting from no_data', () => {
    const cases: [string, RunSummary[], ConvergenceStatus[]][] = [
      ['no_data → converged', [ok()], ['converged']],
      ['no_data → degraded', [degraded()], ['degraded']],
      ['no_data → failed', [failed()], ['failed']],
      ['converged → degraded → converged', [ok(), degraded(), ok()], ['converged', 'degraded', 'converged']],
      ['converged → failed → converged', [ok(), failed(), ok()], ['converged', 'failed', 'converged']],
      [
        'degraded → failed → degraded',
        [degraded(), failed(), degraded()],
        ['degraded', 'failed', 'degraded'],
      ],
    ];
    for (const [name, runs, expected] of cases) {
      assert.deepEqual(
        walk(runs).map(([s]) => s),
        expected,
        name,
      );
    }
  });

  it('reports a transition only when status or drift changes, and keeps since while they stay', () => {
    const first = applyRun(initialConvergence, ok(), 50);
    assert.deepEqual(first.transition?.from, { status: 'no_data', drift: 'none' });
    assert.deepEqual(first.transition?.to, { status: 'converged', drift: 'none' });
    assert.equal(first.state.sinceMs, 50);
    const again = applyRun(first.state, ok(), 60);
    assert.equal(again.counted, true);
    assert.equal(again.transition, undefined);
    assert.equal(again.state.sinceMs, 50);
    assert.equal(again.state.lastRunId, `run-${nextRun}`);
    const broke = applyRun(again.state, failed(), 70);
    assert.equal(broke.transition?.to.status, 'failed');
    assert.equal(broke.transition?.runId, broke.state.lastRunId);
    assert.equal(broke.state.sinceMs, 70);
  });
});

describe('convergence drift axis', () => {
  it(`counts consecutive runs with changes: changed, then diverged at ${divergedAfterRuns}`, () => {
    const drift = walk([changed(), changed(), changed(), changed(), ok(), changed()]).map(([, d]) => d);
    assert.deepEqual(drift, ['changed', 'changed', 'diverged', 'diverged', 'none', 'changed']);
  });

  it('a run without changes resets the streak, even one that failed', () => {
    const states = walk([changed(), changed(), run({ failed: 2 }), changed()]);
    assert.deepEqual(states, [
      ['converged', 'changed'],
      ['converged', 'changed'],
      ['failed', 'none'],
      ['converged', 'changed'],
    ]);
  });

  it('a blocked resource means diverged at once, and clears with the next unblocked run', () => {
    assert.deepEqual(walk([ok(), blocked(), ok()]), [
      ['converged', 'none'],
      ['converged', 'diverged'],
      ['converged', 'none'],
    ]);
    assert.deepEqual(walk([blocked(), changed()]).at(-1), ['converged', 'changed']);
    const streak = walk([changed(), changed(), run({ changed: 1, blocked: 1 }), changed()]);
    assert.deepEqual(
      streak.map(([, d]) => d),
      ['changed', 'changed', 'diverged', 'diverged'],
      'a blocked run with changes still extends the streak',
    );
  });

  it('moves on both axes in one run', () => {
    const step = applyRun(
      applyRun(initialConvergence, changed(), 1).state,
      run({ changed: 1, failed: 5 }),
      2,
    );
    assert.deepEqual(step.transition?.from, { status: 'converged', drift: 'changed' });
    assert.deepEqual(step.transition?.to, { status: 'failed', drift: 'changed' });
    assert.equal(step.state.changedStreak, 2);
  });
});

describe('runs that do not count', () => {
  it('ignores dry runs', () => {
    const base = applyRun(initialConvergence, ok(), 1).state;
    const step = applyRun(base, run({ dryRun: true, failed: 9 }), 2);
    assert.equal(step.counted, false);
    assert.equal(step.state, base);
    assert.equal(step.transition, undefined);
    assert.equal(applyRun(initialConvergence, run({ dryRun: true }), 1).state, initialConvergence);
  });

  it('ignores a run that started before the last one counted (a late delivery)', () => {
    const newer = applyRun(initialConvergence, run({ unchanged: 1, startedAtMs: 5_000 }), 1).state;
    const late = applyRun(newer, run({ failed: 3, startedAtMs: 4_999 }), 2);
    assert.equal(late.counted, false);
    assert.equal(late.state.status, 'converged');
    const sameStart = applyRun(newer, run({ failed: 3, startedAtMs: 5_000 }), 3);
    assert.equal(sameStart.counted, true, 'a run starting at the same millisecond is not older');
  });
});

describe('reachability', () => {
  const cadence = 60_000;
  it('is offline before the first check-in, online within the stale factor, then stale, then offline', () => {
    assert.equal(reachabilityOf(0, cadence, 2.5, 1_000_000), 'offline');
    const seen = 1_000_000;
    assert.equal(reachabilityOf(seen, cadence, 2.5, seen), 'online');
    assert.equal(reachabilityOf(seen, cadence, 2.5, seen + 150_000), 'online', 'exactly 2.5 cadences');
    assert.equal(reachabilityOf(seen, cadence, 2.5, seen + 150_001), 'stale');
    assert.equal(reachabilityOf(seen, cadence, 2.5, seen + 600_000), 'stale', 'exactly 10 cadences');
    assert.equal(reachabilityOf(seen, cadence, 2.5, seen + 600_001), 'offline');
    assert.equal(reachabilityOf(seen, cadence, 20, seen + 700_000), 'online', 'offline never before stale');
  });

  it('measures against the observed cadence, never below the configured interval', () => {
    let average = 0;
    average = observeCheckInGap(average, 90_000, 60_000);
    assert.equal(average, 90_000, 'the first gap seeds the average');
    average = observeCheckInGap(average, 130_000, 60_000);
    assert.equal(average, 100_000);
    assert.equal(observeCheckInGap(average, 10_000_000, 60_000), average, 'an outage is not a cadence');
    assert.equal(observeCheckInGap(average, 0, 60_000), average);
    assert.equal(observeCheckInGap(average, Number.NaN, 60_000), average);
    assert.equal(effectiveCadenceMs(average, 60_000), 100_000);
    assert.equal(effectiveCadenceMs(1_000, 60_000), 60_000, 'forced check-ins do not shorten it');
    assert.equal(observeCheckInGap(0, 300_000, 60_000), 0, 'a first gap that is an outage seeds nothing');
  });
});
