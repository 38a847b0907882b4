/**
 * Pushed tasks end to end on the agent's side: a TaskDispatch from a loopback gRPC server through the
 * real StreamKeeper to a TaskResult back, with the result store, the policy and the work lock.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { TaskStatus } from '../../protocol/index.ts';
import type { TaskDispatchSchema } from '../../protocol/index.ts';
import type { TaskResult } from '../../protocol/index.ts';
import { waitFor } from '../../test/helpers/deadline.ts';
import { startAgentStreamServer, taskResultsOf } from '../runtime/agent-stream-server.fixture.ts';
import type { AgentStreamServer, OpenedStream } from '../runtime/agent-stream-server.fixture.ts';
import { silentLogger } from '../../server/core/index.ts';
import { StreamKeeper } from '../runtime/stream-keeper.ts';
import type { StreamWork } from '../runtime/stream-keeper.ts';
import { agentUnderTest } from './stream-tasks.fixture.ts';
import type { AgentSetup, AgentUnderTest } from './stream-tasks.fixture.ts';

let server: AgentStreamServer;
const agents: AgentUnderTest[] = [];

before(async () => {
  server = await startAgentStreamServer('tasks.example.com');
});
after(() => server.close());
afterEach(() => {
  for (const a of agents.splice(0)) {
    a.stop();
    fs.rmSync(a.dir, { recursive: true, force: true });
  }
});

function start(setup: AgentSetup = {}): AgentUnderTest {
  const agent = agentUnderTest(server, setup);
  agents.push(agent);
  return agent;
}

async function connected(agent: AgentUnderTest, releaseAfterMs?: number): Promise<OpenedStream> {
  const count = server.opened.length;
  agent.connect(releaseAfterMs);
  const stream = await waitFor('the stream', () => server.opened[count]);
  await waitFor('its Hello', () => stream.received[0]);
  return stream;
}

type DispatchFields = Omit<MessageInitShape<typeof TaskDispatchSchema>, '$typeName'>;

function dispatch(stream: OpenedStream, fields: DispatchFields = {}): string {
  const taskId = fields.taskId ?? randomUUID();
  stream.push({ case: 'taskDispatch', value: { ...fields, taskId } });
  return taskId;
}

function disconnect(agent: AgentUnderTest): void {
  agent.keeper?.stop();
  agent.keeper = undefined;
}

function resultFor(stream: OpenedStream, taskId: string, nth = 1): Promise<TaskResult> {
  return waitFor(
    `result ${nth} of ${taskId}`,
    () => taskResultsOf(stream).filter((r) => r.taskId === taskId)[nth - 1],
  );
}

const command = (text: string) => ({ action: { case: 'command' as const, value: text } });
const named = (name: string) => ({ action: { case: 'taskName' as const, value: name } });

describe('TaskRunner on AgentStream', () => {
  it('runs a dispatched command and answers with its TaskResult, traceparent echoed', async () => {
    const agent = start();
    const stream = await connected(agent);
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const id = dispatch(stream, { ...command('echo hi; echo oops >&2; exit 4'), traceparent });
    const result = await resultFor(stream, id);
    assert.equal(result.status, TaskStatus.FAILED);
    assert.equal(result.exitCode, 4);
    assert.equal(Buffer.from(result.stdout).toString(), 'hi\n');
    assert.equal(Buffer.from(result.stderr).toString(), 'oops\n');
    assert.equal(result.traceparent, traceparent);
    assert.ok(result.startedAtMs > 0n && result.finishedAtMs >= result.startedAtMs);
    const ok = await resultFor(stream, dispatch(stream, command('true')));
    assert.equal(ok.status, TaskStatus.SUCCEEDED);
    assert.equal(ok.message, '');
  });

  it('answers a task_id it already ran from its store, also after a restart, and never runs it again', async () => {
    let agent = start();
    const counter = path.join(agent.dir, 'counter');
    let stream = await connected(agent);
    const task = { ...command(`echo ran >> ${counter}; wc -l < ${counter}`), taskId: randomUUID() };
    dispatch(stream, task);
    const first = await resultFor(stream, task.taskId);
    dispatch(stream, task);
    const second = await resultFor(stream, task.taskId, 2);
    assert.deepEqual(second, first);
    agent = agent.restart();
    agents.push(agent);
    stream = await connected(agent);
    dispatch(stream, task);
    const third = await resultFor(stream, task.taskId);
    assert.deepEqual(third, first);
    assert.equal(fs.readFileSync(counter, 'utf8'), 'ran\n', 'the command ran once');
  });

  it('does not start a task twice while it runs', async () => {
    const agent = start();
    const counter = path.join(agent.dir, 'counter');
    const gate = path.join(agent.dir, 'gate');
    const stream = await connected(agent);
    const task = {
      ...command(`echo ran >> ${counter}; while [ ! -e ${gate} ]; do sleep 0.02; done`),
      taskId: randomUUID(),
    };
    dispatch(stream, task);
    await waitFor('the task to run', () => (fs.existsSync(counter) ? true : undefined));
    dispatch(stream, task);
    // A later task's result proves the repeated dispatch was handled (tasks answer in order).
    fs.writeFileSync(gate, '');
    const after = dispatch(stream, command('true'));
    await resultFor(stream, after);
    assert.equal(taskResultsOf(stream).filter((r) => r.taskId === task.taskId).length, 1);
    assert.equal(fs.readFileSync(counter, 'utf8'), 'ran\n');
  });

  it('sends a result that finished while no stream was open right after the next Hello, also after a restart', async () => {
    let agent = start();
    const gate = path.join(agent.dir, 'gate');
    const started = path.join(agent.dir, 'started');
    const stream = await connected(agent);
    const id = dispatch(
      stream,
      command(`touch ${started}; while [ ! -e ${gate} ]; do sleep 0.02; done; echo done`),
    );
    await waitFor('the task to start', () => (fs.existsSync(started) ? true : undefined));
    disconnect(agent);
    await waitFor('the stream to end', () => (stream.ended ? true : undefined));
    fs.writeFileSync(gate, '');
    await waitFor('the task to finish', () => (agent.store.stateOf(id) === 'finished' ? true : undefined));
    assert.equal(taskResultsOf(stream).length, 0);

    const again = await connected(agent);
    const sent = await resultFor(again, id);
    assert.equal(again.received[0]?.case, 'hello');
    assert.equal(again.received[1]?.case, 'taskResult');
    assert.equal(Buffer.from(sent.stdout).toString(), 'done\n');

    // Once sent it is not sent again on the next stream; an unsent one survives a restart.
    const third = await connected(agent);
    const later = dispatch(third, command('echo later'));
    await resultFor(third, later);
    assert.equal(taskResultsOf(third).filter((r) => r.taskId === id).length, 0);

    disconnect(agent);
    const offline = agent.store;
    const unsentId = randomUUID();
    offline.finish({
      taskId: unsentId,
      status: 'succeeded',
      exitCode: 0,
      stdout: Buffer.from('x'),
      stderr: Buffer.alloc(0),
      truncated: false,
      startedAtMs: 1,
      finishedAtMs: 2,
      message: '',
      results: [],
      traceparent: '',
    });
    agent = agent.restart();
    agents.push(agent);
    const afterRestart = await connected(agent);
    assert.equal((await resultFor(afterRestart, unsentId)).status, TaskStatus.SUCCEEDED);
  });

  it('rejects what the host refuses, with the reason, and runs none of it', async () => {
    const agent = start({ policy: { adhoc: false, allow: new Set(['vigo.traits']) } });
    const marker = path.join(agent.dir, 'ran');
    const stream = await connected(agent);
    const adhoc = await resultFor(stream, dispatch(stream, command(`touch ${marker}`)));
    assert.equal(adhoc.status, TaskStatus.REJECTED);
    assert.equal(adhoc.exitCode, -1);
    assert.equal(adhoc.startedAtMs, 0n);
    assert.match(adhoc.message, /ad-hoc command tasks are disabled on this host \(tasks\.adhoc: false/);
    const unknown = await resultFor(stream, dispatch(stream, named('stacks.deploy')));
    assert.equal(unknown.status, TaskStatus.REJECTED);
    assert.equal(
      unknown.message,
      'unknown task "stacks.deploy"; this agent knows vigo.converge, vigo.traits',
    );
    const notAllowed = await resultFor(stream, dispatch(stream, named('vigo.converge')));
    assert.equal(notAllowed.status, TaskStatus.REJECTED);
    assert.match(notAllowed.message, /not allowed on this host/);
    const params = await resultFor(stream, dispatch(stream, { ...named('vigo.traits'), params: { x: '1' } }));
    assert.match(params.message, /does not take the param "x"/);
    assert.equal(fs.existsSync(marker), false);
  });

  it('refuses a command the agent guardrail matches, forced or not, and runs none of it', async () => {
    const guarded = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-guarded-'));
    try {
      const agent = start({ protectedPaths: [guarded] });
      const marker = path.join(agent.dir, 'ran');
      const stream = await connected(agent);
      const plain = await resultFor(stream, dispatch(stream, command(`touch ${marker}; rm -rf ${guarded}`)));
      assert.equal(plain.status, TaskStatus.REJECTED);
      assert.equal(plain.startedAtMs, 0n);
      assert.match(plain.message, /^task\.agent_refused: the agent guardrail "delete-agent-files"/);
      const forced = await resultFor(
        stream,
        dispatch(stream, { ...command(`touch ${marker}; sudo systemctl stop vigo-envoy`), force: true }),
      );
      assert.equal(forced.status, TaskStatus.REJECTED);
      assert.match(forced.message, /^task\.agent_refused: the agent guardrail "stop-agent-service"/);
      assert.match(forced.message, /tasks\.allow_forced: false in \/etc\/vigo\/agent\.yaml/);
      assert.equal(fs.existsSync(marker), false, 'no part of a refused command ran');
      assert.equal(fs.existsSync(guarded), true);
    } finally {
      fs.rmSync(guarded, { recursive: true, force: true });
    }
  });

  it('runs a forced command the guardrail matches only where tasks.allow_forced is true', async () => {
    const guarded = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-guarded-'));
    try {
      const agent = start({ protectedPaths: [guarded], policy: { allowForced: true } });
      const stream = await connected(agent);
      const unforced = await resultFor(stream, dispatch(stream, command(`rm -f ${guarded}/old.log`)));
      assert.equal(unforced.status, TaskStatus.REJECTED, 'without force the guardrail still applies');
      fs.writeFileSync(path.join(guarded, 'old.log'), 'x');
      const forced = await resultFor(
        stream,
        dispatch(stream, { ...command(`rm -f ${guarded}/old.log`), force: true }),
      );
      assert.equal(forced.status, TaskStatus.SUCCEEDED, forced.message);
      assert.equal(fs.existsSync(path.join(guarded, 'old.log')), false);
    } finally {
      fs.rmSync(guarded, { recursive: true, force: true });
    }
  });

  it('rejects a dry-run command task and invalid dispatches; one without a UUID gets no answer', async () => {
    const agent = start();
    const marker = path.join(agent.dir, 'ran');
    const stream = await connected(agent);
    const dry = await resultFor(stream, dispatch(stream, { ...command(`touch ${marker}`), dryRun: true }));
    assert.equal(dry.status, TaskStatus.REJECTED);
    assert.match(dry.message, /cannot be dry-run/);
    const cases: [Parameters<typeof dispatch>[1], RegExp][] = [
      [command('x'.repeat(64 * 1024 + 1)), /command is 65537 bytes; the limit is 65536/],
      [{ ...command(`touch ${marker}`), nice: 20 }, /nice 20 is outside -20\.\.19/],
      [named('n'.repeat(257)), /task_name is 257 bytes/],
      [
        {
          ...named('vigo.traits'),
          params: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`k${i}`, ''])),
        },
        /params holds 257 entries/,
      ],
      [
        { ...named('vigo.traits'), params: { k: 'v'.repeat(64 * 1024 + 1) } },
        /params value of "k" is 65537 bytes/,
      ],
      [{ action: { case: undefined } }, /neither command nor task_name/],
      [{ ...command(`touch ${marker}`), traceparent: 't'.repeat(129) }, /traceparent is 129 bytes/],
    ];
    for (const [fields, message] of cases) {
      const result = await resultFor(stream, dispatch(stream, fields));
      assert.equal(result.status, TaskStatus.REJECTED);
      assert.match(result.message, message);
    }
    dispatch(stream, { ...command(`touch ${marker}`), taskId: 'not-a-uuid' });
    const next = dispatch(stream, command('true'));
    await resultFor(stream, next);
    assert.equal(taskResultsOf(stream).filter((r) => r.taskId === 'not-a-uuid').length, 0);
    assert.equal(fs.existsSync(marker), false);
  });

  it('queues at most maxQueued tasks behind the running one and answers the next "agent busy"', async () => {
    const agent = start({ maxQueued: 2 });
    const gate = path.join(agent.dir, 'gate');
    const started = path.join(agent.dir, 'started');
    const stream = await connected(agent);
    const running = dispatch(
      stream,
      command(`touch ${started}; while [ ! -e ${gate} ]; do sleep 0.02; done`),
    );
    await waitFor('the first task to run', () => (fs.existsSync(started) ? true : undefined));
    const queued = [dispatch(stream, command('echo 1')), dispatch(stream, command('echo 2'))];
    await waitFor('two queued', () => (agent.runner.queued === 2 ? true : undefined));
    const busy = await resultFor(stream, dispatch(stream, command('echo 3')));
    assert.equal(busy.status, TaskStatus.REJECTED);
    assert.equal(busy.message, 'agent busy: 2 tasks queued');
    fs.writeFileSync(gate, '');
    for (const id of [running, ...queued])
      assert.equal((await resultFor(stream, id)).status, TaskStatus.SUCCEEDED);
    const order = taskResultsOf(stream)
      .map((r) => r.taskId)
      .filter((id) => [running, ...queued].includes(id));
    assert.deepEqual(order, [running, ...queued], 'tasks run in arrival order');
  });

  it('keeps a stream it would release open while a task runs, until the result has gone out', async () => {
    const agent = start();
    const gate = path.join(agent.dir, 'gate');
    const started = path.join(agent.dir, 'started');
    let busyChecks = 0;
    const { work } = agent;
    const counting: StreamWork = {
      opened: (send) => work.opened(send),
      closed: (send) => work.closed(send),
      taskDispatch: (d) => work.taskDispatch(d),
      liveQuery: (q, send) => work.liveQuery(q, send),
      get busy() {
        busyChecks += 1;
        return work.busy;
      },
    };
    let released = 0;
    const count = server.opened.length;
    const keeper = new StreamKeeper(
      {
        link: server.link,
        log: silentLogger,
        timings: { heartbeatMs: 60_000, reopenInitialMs: 20, reopenMaxMs: 100 },
        policyVersion: () => 0,
        onForcePush: () => undefined,
        onReleased: () => (released += 1),
        work: counting,
      },
      // Long enough that the task is dispatched before the stream's first idle check on a loaded machine
      // (with 100 ms a slow dispatch found the stream already released), short enough for two checks.
      500,
    );
    try {
      const stream = await waitFor('the stream', () => server.opened[count]);
      await waitFor('its Hello', () => stream.received[0]);
      const id = dispatch(
        stream,
        command(`touch ${started}; while [ ! -e ${gate} ]; do sleep 0.02; done; echo out`),
      );
      await waitFor('the task to run', () => (fs.existsSync(started) ? true : undefined));
      // The idle time ran out at least twice while the task ran, and the stream stayed.
      await waitFor('two idle checks', () => (busyChecks >= 2 ? true : undefined));
      assert.equal(released, 0);
      assert.equal(stream.ended, false);
      fs.writeFileSync(gate, '');
      const result = await resultFor(stream, id);
      assert.equal(Buffer.from(result.stdout).toString(), 'out\n');
      await waitFor('the release once the result is out', () => (released === 1 ? true : undefined));
      await waitFor('the server to see the stream end', () => (stream.ended ? true : undefined));
    } finally {
      keeper.stop();
    }
  });
});
