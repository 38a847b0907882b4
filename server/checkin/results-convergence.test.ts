/**
 * The results committer moves envoys' convergence state in the same transaction as their runs: the state
 * row, the history row and the run are durable together, memory changes only after the commit, and a
 * failed batch changes nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createConvergenceTracker, initialConvergence, loadConvergenceStates } from '../convergence/index.ts';
import type { ConvergenceHolder, ConvergenceTransitionEvent } from '../convergence/index.ts';
import { createConvergenceHistoryReader } from '../convergence/index.ts';
import { silentLogger } from '../core/index.ts';
import { createResultsCommitter } from './results-committer.ts';
import type { RunOutcome, RunRecord } from './results-committer.ts';
import { storeWithEnvoy } from './test-fixtures.ts';

const fixture = storeWithEnvoy();
after(() => fixture.cleanup());

let startedAt = 10_000;
function run(outcomes: RunOutcome[], envoyId = fixture.envoyId): RunRecord {
  startedAt += 1_000;
  return {
    runId: randomUUID(),
    envoyId,
    policyVersion: 1,
    startedAtMs: startedAt,
    finishedAtMs: startedAt + 10,
    dryRun: false,
    traceId: '',
    results: outcomes.map((outcome, i) => ({
      resourceId: `file:/tmp/f${i}`,
      resourceType: 'file',
      configcrate: 'motd',
      outcome,
      message: '',
      durationMs: 1,
    })),
  };
}

describe('results committer with the convergence tracker', () => {
  const holder: ConvergenceHolder = {
    id: fixture.envoyId,
    hostname: 'web-1.example.com',
    convergence: initialConvergence,
  };
  const events: ConvergenceTransitionEvent[] = [];
  const tracker = createConvergenceTracker({
    db: fixture.store.db,
    holder: (id) => (id === holder.id ? holder : undefined),
    onTransition: (e) => events.push(e),
  });
  const committer = createResultsCommitter({
    store: fixture.store,
    log: silentLogger,
    maxQueuedResults: 1000,
    maxDelayMs: 5,
    convergence: tracker,
  });
  const history = createConvergenceHistoryReader(fixture.store.db);
  const stateRow = (): unknown =>
    fixture.store.db
      .prepare('SELECT status, drift, changed_streak FROM convergence_state WHERE envoy_id = ?')
      .get(fixture.envoyId);

  it('writes state and a history row with the run, and changes memory once durable', async () => {
    const failing = run(['failed', 'failed', 'none']);
    const pending = committer.submit([failing]);
    assert.equal(holder.convergence.status, 'no_data', 'nothing changes before the batch commits');
    await pending;
    assert.equal(holder.convergence.status, 'failed');
    assert.deepEqual(stateRow(), { status: 'failed', drift: 'none', changed_streak: 0 });
    const page = history.page(fixture.envoyId, 10);
    assert.equal(page.items.length, 1);
    assert.equal(page.items[0]?.fromStatus, 'no_data');
    assert.equal(page.items[0]?.status, 'failed');
    assert.equal(page.items[0]?.runId, failing.runId);
    assert.equal(page.items[0]?.cause, 'run');
    assert.equal(page.items[0]?.reachability, null, 'a run does not move reachability');
    assert.deepEqual(
      events.map((e) => e.transition.to.status),
      ['failed'],
    );
  });

  it('chains several runs of one envoy in one batch, and does not count a redelivered run twice', async () => {
    const first = run(['updated', 'none']);
    const second = run(['updated', 'none']);
    await committer.submit([first, second]);
    assert.deepEqual(stateRow(), { status: 'converged', drift: 'changed', changed_streak: 2 });
    await committer.submit([second]);
    assert.equal(holder.convergence.changedStreak, 2, 'the redelivery was already durable');
    await committer.submit([run(['created'])]);
    assert.deepEqual(stateRow(), { status: 'converged', drift: 'diverged', changed_streak: 3 });
    const statuses = history.page(fixture.envoyId, 10).items.map((i) => `${i.status}/${i.drift}`);
    assert.deepEqual(statuses, ['converged/diverged', 'converged/changed', 'failed/none']);
  });

  it('pages history newest first', () => {
    const firstPage = history.page(fixture.envoyId, 2);
    assert.equal(firstPage.items.length, 2);
    assert.notEqual(firstPage.nextBefore, null);
    const rest = history.page(fixture.envoyId, 2, firstPage.nextBefore ?? undefined);
    assert.deepEqual(
      rest.items.map((i) => i.status),
      ['failed'],
    );
    assert.equal(rest.nextBefore, null);
  });

  it('changes nothing when the batch fails', async () => {
    const before = holder.convergence;
    const historyBefore = history.page(fixture.envoyId, 100).items.length;
    // The second run names an envoy that does not exist: its foreign key fails the whole batch.
    await assert.rejects(committer.submit([run(['failed']), run(['none'], randomUUID())]));
    assert.equal(holder.convergence, before);
    assert.deepEqual(stateRow(), { status: 'converged', drift: 'diverged', changed_streak: 3 });
    assert.equal(history.page(fixture.envoyId, 100).items.length, historyBefore);
    // The next batch starts from the durable state, not from what the failed one staged.
    await committer.submit([run(['none'])]);
    assert.deepEqual(stateRow(), { status: 'converged', drift: 'none', changed_streak: 0 });
  });

  it('loads the stored states back (as at boot)', () => {
    const fresh: ConvergenceHolder = { id: fixture.envoyId, hostname: 'x', convergence: initialConvergence };
    const loaded = loadConvergenceStates(fixture.store.db, (id) => (id === fresh.id ? fresh : undefined));
    assert.equal(loaded, 1);
    assert.deepEqual(fresh.convergence, holder.convergence);
  });
});
