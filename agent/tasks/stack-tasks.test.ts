/**
 * Named tasks from the stacks, as the agent runs them: parsed from the bundle, dispatched by name over a
 * real loopback AgentStream, run with their parameters in the environment (never in the command text),
 * and refused when the parameters do not fit the definition the agent holds or the host disables them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import { TaskStatus } from '../../protocol/index.ts';
import { waitFor } from '../../test/helpers/deadline.ts';
import { parseBundleDocument } from '../engine/index.ts';
import { startAgentStreamServer, taskResultsOf } from '../runtime/agent-stream-server.fixture.ts';
import type { AgentStreamServer, OpenedStream } from '../runtime/agent-stream-server.fixture.ts';
import { parseStackTasks } from './stack-tasks.ts';
import type { StackTask } from './stack-tasks.ts';
import { agentUnderTest } from './stream-tasks.fixture.ts';
import type { AgentSetup, AgentUnderTest } from './stream-tasks.fixture.ts';

/** As the server puts it in a bundle (docs/bundle-format.md "tasks"). */
const bundleTasks = {
  'show-param': {
    description: 'prints its parameters',
    command: null,
    script:
      'printf "%s|%s|%s|%s" "$VIGO_PARAM_SERVICE" "$VIGO_PARAM_LINES" "$VIGO_PARAM_MODE" "$VIGO_PARAM_NOTE"\n',
    params: {
      lines: { type: 'integer', default: 20, min: 1, max: 1000 },
      mode: { type: 'enum', values: ['graceful', 'hard'] },
      note: { type: 'string', default: '' },
      service: { type: 'string', default: 'nginx', format: 'name' },
    },
    timeout_seconds: 60,
    nice: 0,
    roles: [],
  },
};

function parsed(): ReadonlyMap<string, StackTask> {
  const result = parseStackTasks(bundleTasks);
  assert.ok('tasks' in result, JSON.stringify(result));
  return result.tasks;
}

let server: AgentStreamServer;
const agents: AgentUnderTest[] = [];
before(async () => {
  server = await startAgentStreamServer('stack-tasks.example.com');
});
after(() => server.close());
afterEach(() => {
  for (const a of agents.splice(0)) {
    a.stop();
    fs.rmSync(a.dir, { recursive: true, force: true });
  }
});

async function connected(setup: AgentSetup): Promise<OpenedStream> {
  const agent = agentUnderTest(server, { stackTasks: parsed, ...setup });
  agents.push(agent);
  const count = server.opened.length;
  agent.connect();
  const stream = await waitFor('the stream', () => server.opened[count]);
  await waitFor('its Hello', () => stream.received[0]);
  return stream;
}

function run(stream: OpenedStream, params: Record<string, string>, dryRun = false) {
  const taskId = randomUUID();
  stream.push({
    case: 'taskDispatch',
    value: { taskId, action: { case: 'taskName', value: 'show-param' }, params, timeoutSeconds: 30, dryRun },
  });
  return waitFor(`the result of ${taskId}`, () => taskResultsOf(stream).find((r) => r.taskId === taskId));
}

describe('named tasks from the stacks on the agent', () => {
  it('run the definition in the bundle with each parameter in the environment, defaults filled in', async () => {
    const stream = await connected({});
    const result = await run(stream, { mode: 'hard', service: 'x;$(touch /tmp/vigo-pwned)' });
    // The value reached the task verbatim as data: it was refused for not being a name, not run.
    assert.equal(result.status, TaskStatus.REJECTED, result.message);
    assert.match(result.message, /parameter service is not a name/);
    const ok = await run(stream, { mode: 'hard', lines: '5', note: "a'b;$(echo injected)`id`" });
    assert.equal(ok.status, TaskStatus.SUCCEEDED, ok.message);
    assert.equal(Buffer.from(ok.stdout).toString(), "nginx|5|hard|a'b;$(echo injected)`id`");
  });

  it('refuse parameters the definition does not allow, and run none of them', async () => {
    const stream = await connected({});
    for (const [params, why] of [
      [{}, /needs the parameter mode/],
      [{ mode: 'soft' }, /parameter mode is not one of its values/],
      [{ mode: 'hard', lines: '0' }, /parameter lines is below 1/],
      [{ mode: 'hard', colour: 'red' }, /has no parameter "colour"/],
    ] as const) {
      const result = await run(stream, params);
      assert.equal(result.status, TaskStatus.REJECTED);
      assert.match(result.message, why);
    }
  });

  it('are refused on a host with tasks.stacks: false, and as a dry run', async () => {
    const disabled = await connected({ policy: { stacks: false } });
    const refused = await run(disabled, { mode: 'hard' });
    assert.equal(refused.status, TaskStatus.REJECTED);
    assert.match(refused.message, /tasks\.stacks: false/);
    const stream = await connected({});
    const dry = await run(stream, { mode: 'hard' }, true);
    assert.equal(dry.status, TaskStatus.REJECTED);
    assert.match(dry.message, /cannot be dry-run/);
  });

  it('come from the bundle document, which refuses a malformed tasks member', () => {
    const base = {
      format_version: 1,
      policy_version: 1,
      entry_id: 'e',
      merkle_root: 'a'.repeat(64),
      traits_hash: null,
      issued_at_ms: 1,
      expires_at_ms: 2,
      secrets_epoch: 0,
      observe_only: false,
      secret_paths: [],
      resources: [],
    };
    assert.deepEqual([...parseBundleDocument({ ...base, tasks: bundleTasks }).tasks.keys()], ['show-param']);
    assert.equal(parseBundleDocument(base).tasks.size, 0);
    assert.throws(
      () => parseBundleDocument({ ...base, tasks: { broken: { command: 'x', params: {}, nice: 0 } } }),
      /tasks: tasks\.broken\.timeout_seconds/,
    );
  });
});
