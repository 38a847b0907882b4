/**
 * The host-wide work lock: a convergence pass and a task never overlap, whichever came first, and the
 * built-in named tasks run their pass under the lock the task already holds.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { TaskStatus, ResourceOutcome } from '../../protocol/index.ts';
import { waitFor } from '../../test/helpers/deadline.ts';
import { startAgentStreamServer, taskResultsOf } from '../runtime/agent-stream-server.fixture.ts';
import type { AgentStreamServer, OpenedStream } from '../runtime/agent-stream-server.fixture.ts';
import type { ConvergePass } from './builtin-tasks.ts';
import { agentUnderTest } from './stream-tasks.fixture.ts';
import type { AgentSetup, AgentUnderTest } from './stream-tasks.fixture.ts';
import { WorkLock } from './work-lock.ts';

let server: AgentStreamServer;
const agents: AgentUnderTest[] = [];
before(async () => {
  server = await startAgentStreamServer('lock.example.com');
});
after(() => server.close());
afterEach(() => {
  for (const a of agents.splice(0)) {
    a.stop();
    fs.rmSync(a.dir, { recursive: true, force: true });
  }
});

async function started(setup: AgentSetup = {}): Promise<{ agent: AgentUnderTest; stream: OpenedStream }> {
  const agent = agentUnderTest(server, setup);
  agents.push(agent);
  const count = server.opened.length;
  agent.connect();
  const stream = await waitFor('the stream', () => server.opened[count]);
  await waitFor('its Hello', () => stream.received[0]);
  return { agent, stream };
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const resultOf = (stream: OpenedStream, id: string) =>
  waitFor(`the result of ${id}`, () => taskResultsOf(stream).find((r) => r.taskId === id));

describe('WorkLock', () => {
  it('lets callers in one at a time, in the order they came', async () => {
    const lock = new WorkLock();
    const events: string[] = [];
    const first = gate();
    const runs = [
      lock.run(async () => {
        events.push('a start');
        await first.promise;
        events.push('a end');
      }),
      lock.run(async () => {
        events.push('b');
      }),
      lock.run(async () => {
        events.push('c');
        throw new Error('c fails');
      }),
      lock.run(async () => {
        events.push('d');
      }),
    ];
    assert.equal(lock.waiting, 3);
    first.open();
    const settled = await Promise.allSettled(runs);
    assert.deepEqual(events, ['a start', 'a end', 'b', 'c', 'd']);
    assert.equal(settled[2]?.status, 'rejected');
    assert.equal(lock.held, false);
  });
});

describe('tasks and convergence under one lock', () => {
  it('a task dispatched during a convergence pass waits for it', async () => {
    const { agent, stream } = await started();
    const marker = path.join(agent.dir, 'task-ran');
    const pass = gate();
    const events: string[] = [];
    const convergence = agent.lock.run(async () => {
      events.push('convergence start');
      await pass.promise;
      events.push(`convergence end, task ran: ${fs.existsSync(marker)}`);
    });
    const id = randomUUID();
    stream.push({
      case: 'taskDispatch',
      value: { taskId: id, action: { case: 'command', value: `touch ${marker}` } },
    });
    await waitFor('the task to queue behind the pass', () => (agent.runner.queued === 1 ? true : undefined));
    assert.equal(fs.existsSync(marker), false);
    pass.open();
    await convergence;
    assert.equal((await resultOf(stream, id)).status, TaskStatus.SUCCEEDED);
    assert.deepEqual(events, ['convergence start', 'convergence end, task ran: false']);
    assert.equal(fs.existsSync(marker), true);
  });

  it('a convergence pass asked for during a task waits for the task and its result', async () => {
    const { agent, stream } = await started();
    const go = path.join(agent.dir, 'go');
    const running = path.join(agent.dir, 'running');
    const id = randomUUID();
    stream.push({
      case: 'taskDispatch',
      value: {
        taskId: id,
        action: { case: 'command', value: `touch ${running}; while [ ! -e ${go} ]; do sleep 0.02; done` },
      },
    });
    await waitFor('the task to run', () => (fs.existsSync(running) ? true : undefined));
    let sawResult: boolean | undefined;
    const convergence = agent.lock.run(async () => {
      sawResult =
        taskResultsOf(stream).some((r) => r.taskId === id) || agent.store.stateOf(id) === 'finished';
    });
    assert.equal(agent.lock.waiting, 1);
    assert.equal(sawResult, undefined, 'the pass has not started');
    fs.writeFileSync(go, '');
    await convergence;
    assert.equal(sawResult, true);
  });

  it('vigo.converge runs a pass under the task and reports its resources; a failed one fails the task', async () => {
    const pass = gate();
    let outcome: ConvergePass = {
      policyVersion: 12,
      blockedReason: null,
      results: [
        {
          resourceId: 'file:/etc/motd',
          resourceType: 'file',
          configcrate: 'base',
          outcome: 'updated',
          message: 'content',
          durationMs: 3,
        },
      ],
    };
    const dryRuns: boolean[] = [];
    const { agent, stream } = await started({
      hooks: {
        converge: async (dryRun) => {
          dryRuns.push(dryRun);
          await pass.promise;
          return outcome;
        },
      },
    });
    const id = randomUUID();
    stream.push({
      case: 'taskDispatch',
      value: { taskId: id, action: { case: 'taskName', value: 'vigo.converge' } },
    });
    await waitFor('the pass to start', () => (dryRuns.length === 1 ? true : undefined));
    assert.equal(agent.lock.held, true);
    pass.open();
    const result = await resultOf(stream, id);
    assert.equal(result.status, TaskStatus.SUCCEEDED);
    assert.equal(result.exitCode, 0);
    assert.equal(result.results.length, 1);
    assert.equal(result.results[0]?.resourceId, 'file:/etc/motd');
    assert.equal(result.results[0]?.outcome, ResourceOutcome.UPDATED);

    outcome = {
      ...outcome,
      results: [{ ...outcome.results[0]!, outcome: 'failed', message: 'permission denied' }],
    };
    const failedId = randomUUID();
    stream.push({
      case: 'taskDispatch',
      value: { taskId: failedId, dryRun: true, action: { case: 'taskName', value: 'vigo.converge' } },
    });
    const failed = await resultOf(stream, failedId);
    assert.equal(failed.status, TaskStatus.FAILED);
    assert.match(failed.message, /observed policy version 12: 1 failed/);
    assert.deepEqual(dryRuns, [false, true]);
  });

  it('vigo.traits reports a failed collector or check-in as a failed task', async () => {
    let report = {
      traitsHash: 'h',
      collectorErrors: [] as { collector: string; message: string }[],
      checkInError: undefined as string | undefined,
    };
    const { stream } = await started({ hooks: { reportTraits: async () => report } });
    const ok = randomUUID();
    stream.push({
      case: 'taskDispatch',
      value: { taskId: ok, action: { case: 'taskName', value: 'vigo.traits' } },
    });
    assert.equal((await resultOf(stream, ok)).status, TaskStatus.SUCCEEDED);
    report = {
      ...report,
      collectorErrors: [{ collector: 'packages', message: 'timed out' }],
      checkInError: 'UNAVAILABLE',
    };
    const bad = randomUUID();
    stream.push({
      case: 'taskDispatch',
      value: { taskId: bad, action: { case: 'taskName', value: 'vigo.traits' } },
    });
    const failed = await resultOf(stream, bad);
    assert.equal(failed.status, TaskStatus.FAILED);
    assert.equal(failed.message, 'trait collector packages: timed out; check-in failed: UNAVAILABLE');
  });

  it('in a --dry-run agent, named tasks only observe and command tasks are refused', async () => {
    const dryRuns: boolean[] = [];
    const { agent, stream } = await started({
      policy: { observeOnly: true },
      hooks: {
        converge: async (dryRun) => {
          dryRuns.push(dryRun);
          return { policyVersion: 1, blockedReason: null, results: [] };
        },
      },
    });
    const marker = path.join(agent.dir, 'ran');
    const converge = randomUUID();
    stream.push({
      case: 'taskDispatch',
      value: { taskId: converge, action: { case: 'taskName', value: 'vigo.converge' } },
    });
    assert.equal((await resultOf(stream, converge)).status, TaskStatus.SUCCEEDED);
    assert.deepEqual(dryRuns, [true]);
    const cmd = randomUUID();
    stream.push({
      case: 'taskDispatch',
      value: { taskId: cmd, action: { case: 'command', value: `touch ${marker}` } },
    });
    const refused = await resultOf(stream, cmd);
    assert.equal(refused.status, TaskStatus.REJECTED);
    assert.match(refused.message, /--dry-run/);
    assert.equal(fs.existsSync(marker), false);
  });
});
