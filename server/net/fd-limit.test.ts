import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  descriptorsNeeded,
  heldConnectionsPerProcess,
  heldFleetLimitProblem,
  openFileLimits,
  parseOpenFileLimits,
} from './fd-limit.ts';

describe('open-file limits', () => {
  it('reads soft and hard limits from /proc/<pid>/limits', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max processes             95452                95452                processes \n' +
      'Max open files            1024                 524288               files     \n';
    assert.deepEqual(parseOpenFileLimits(text), { soft: 1024, hard: 524288 });
    assert.deepEqual(parseOpenFileLimits('Max open files  unlimited  unlimited  files'), {
      soft: Infinity,
      hard: Infinity,
    });
    assert.equal(parseOpenFileLimits('nothing here'), undefined);
  });

  it(
    'finds that node already raised its soft limit to the hard limit',
    { skip: process.platform !== 'linux' },
    () => {
      const limits = openFileLimits();
      assert.ok(limits !== undefined);
      assert.equal(limits.soft, limits.hard);
    },
  );

  it('refuses held mode only when the fleet cannot possibly connect: one per envoy and 1024 besides', () => {
    assert.equal(heldFleetLimitProblem({ soft: 2024, hard: 2024 }, 1000), undefined);
    const problem = heldFleetLimitProblem({ soft: 2023, hard: 4096 }, 1000);
    assert.ok(problem !== undefined);
    assert.match(problem, /1000 envoys are enrolled/);
    assert.match(problem, /only 2023 files \(hard limit 4096\)/);
    assert.match(problem, /at least 6096/);
    assert.match(problem, /LimitNOFILE=/);
    assert.match(problem, /checkin\.connection: poll/);
    assert.equal(heldFleetLimitProblem(undefined, 1_000_000), undefined, 'no limit known, nothing refused');
    assert.equal(heldFleetLimitProblem({ soft: Infinity, hard: Infinity }, 1_000_000), undefined);
  });

  it('with check-in processes, tests each one against the share it holds while another restarts', () => {
    assert.equal(heldConnectionsPerProcess(9000, 1), 9000);
    assert.equal(
      heldConnectionsPerProcess(9000, 2),
      9000,
      'one of two must hold everything while the other restarts',
    );
    assert.equal(heldConnectionsPerProcess(9000, 4), 3000);
    assert.equal(heldConnectionsPerProcess(9001, 4), 3001);
    assert.equal(heldFleetLimitProblem({ soft: 4024, hard: 4024 }, 9000, 4), undefined);
    const problem = heldFleetLimitProblem({ soft: 4023, hard: 4023 }, 9000, 4);
    assert.ok(problem !== undefined);
    assert.match(problem, /3000 of them on each of its 4 check-in processes/);
    assert.match(problem, /at least 10096/);
    assert.ok(heldFleetLimitProblem({ soft: 4024, hard: 4024 }, 9000, 2) !== undefined);
  });

  it('asks for two descriptors per envoy and headroom', () => {
    assert.equal(descriptorsNeeded(0), 4096);
    assert.equal(descriptorsNeeded(100_000), 204_096);
  });
});
