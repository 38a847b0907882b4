import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConvergenceStatus } from '../convergence/index.ts';
import { createLogger } from '../core/index.ts';
import { createBlastRadiusGuard } from './blast-radius.ts';
import type { BlastRadiusSettings } from './blast-radius.ts';
import type { AutoRollbackFigures } from './versions.ts';

function setup(settings: BlastRadiusSettings) {
  let nowMs = 1_000;
  const statuses = new Map<string, ConvergenceStatus>();
  const rollbacks: { toVersion: number; figures: AutoRollbackFigures }[] = [];
  const done: number[] = [];
  const guard = createBlastRadiusGuard({
    settings: () => settings,
    statusOf: (id) => statuses.get(id),
    rollback: (toVersion, _message, figures) => {
      rollbacks.push({ toVersion, figures });
      return Promise.resolve({ version: 99 });
    },
    onRolledBack: (facts) => done.push(facts.version),
    log: createLogger({ level: 'error', sink: { write: () => {} } }),
    now: () => nowMs,
  });
  const run = (envoyId: string, status: ConvergenceStatus, policyVersion = 5, dryRun = false): void => {
    statuses.set(envoyId, status);
    guard.observeRun({ envoyId, policyVersion, dryRun });
  };
  return { guard, run, rollbacks, done, advance: (ms: number) => (nowMs += ms) };
}

const settings: BlastRadiusSettings = { minConvergencePct: 75, windowMs: 60_000, minEnvoys: 3 };

describe('blast-radius guard', () => {
  it('rolls back once enough reporters are below the threshold, with the figures, and only once', async () => {
    const t = setup(settings);
    t.guard.arm(5, 4);
    t.run('a', 'failed');
    t.run('b', 'failed');
    assert.equal(t.rollbacks.length, 0, 'fewer than min_envoys reported');
    t.run('c', 'converged', 4);
    t.run('c', 'converged', 5, true);
    assert.equal(t.guard.current()?.reporting, 2, 'other versions and dry runs do not count');
    t.run('c', 'converged');
    assert.deepEqual(t.rollbacks, [
      {
        toVersion: 4,
        figures: {
          reporting: 3,
          converged: 1,
          convergedPct: 33.33,
          minConvergencePct: 75,
          minEnvoys: 3,
          windowMs: 60_000,
        },
      },
    ]);
    await t.guard.settled();
    assert.deepEqual(t.done, [99]);
    assert.equal(t.guard.current(), undefined);
    t.run('d', 'failed');
    assert.equal(t.rollbacks.length, 1, 'the watch ended with the rollback');
  });

  it('follows an envoy that recovers, and keeps a version that stays converged enough', () => {
    const t = setup(settings);
    t.guard.arm(5, 4);
    t.run('a', 'converged');
    t.run('b', 'converged');
    t.run('c', 'converged');
    t.run('d', 'failed');
    assert.equal(t.rollbacks.length, 0, '3 of 4 is 75%, not below');
    t.run('d', 'converged');
    t.run('d', 'failed');
    assert.deepEqual([t.guard.current()?.reporting, t.guard.current()?.converged], [4, 3]);
    t.run('c', 'degraded');
    assert.equal(t.rollbacks.length, 1, '2 of 4 converged');
  });

  it('stops watching after the window, when off, and when disarmed', () => {
    const late = setup(settings);
    late.guard.arm(5, 4);
    late.advance(60_001);
    for (const id of ['a', 'b', 'c']) late.run(id, 'failed');
    assert.equal(late.rollbacks.length, 0);
    assert.equal(late.guard.current(), undefined);

    const off = setup({ ...settings, minConvergencePct: 0 });
    off.guard.arm(5, 4);
    for (const id of ['a', 'b', 'c']) off.run(id, 'failed');
    assert.equal(off.rollbacks.length, 0);

    const disarmed = setup(settings);
    disarmed.guard.arm(5, 4);
    disarmed.guard.disarm();
    for (const id of ['a', 'b', 'c']) disarmed.run(id, 'failed');
    assert.equal(disarmed.rollbacks.length, 0);
  });
});
