/** For the task tests: a TaskRunner and live queries behind a real StreamKeeper on a loopback gRPC stream. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../server/core/index.ts';
import type { StreamKeeper as Keeper } from '../runtime/stream-keeper.ts';
import { StreamKeeper } from '../runtime/stream-keeper.ts';
import type { AgentStreamServer } from '../runtime/agent-stream-server.fixture.ts';
import { createTraitCollector } from '../traits/index.ts';
import type { TraitSource } from '../traits/index.ts';
import { createBuiltinTasks } from './builtin-tasks.ts';
import type { BuiltinTaskHooks } from './builtin-tasks.ts';
import { LiveQueries } from './live-query.ts';
import { TaskResultStore } from './result-store.ts';
import type { StackTask } from './stack-tasks.ts';
import { createStreamWork } from './stream-work.ts';
import { TaskRunner } from './task-runner.ts';
import type { TaskPolicy } from './task-runner.ts';
import { WorkLock } from './work-lock.ts';

export interface AgentUnderTest {
  readonly dir: string;
  readonly store: TaskResultStore;
  readonly lock: WorkLock;
  readonly runner: TaskRunner;
  readonly work: ReturnType<typeof createStreamWork>;
  keeper: Keeper | undefined;
  /** Opens a stream (held unless `releaseAfterMs`). */
  connect(releaseAfterMs?: number, onReleased?: () => void): Keeper;
  /** The same state dir, as a restarted agent sees it. */
  restart(): AgentUnderTest;
  stop(): void;
}

export interface AgentSetup {
  readonly policy?: Partial<TaskPolicy>;
  readonly hooks?: Partial<BuiltinTaskHooks>;
  readonly maxQueued?: number;
  readonly traits?: TraitSource;
  readonly dir?: string;
  /** Paths the command guard protects besides the fixed ones. */
  readonly protectedPaths?: readonly string[];
  /** The named tasks of the stacks in the bundle the agent holds. */
  readonly stackTasks?: () => ReadonlyMap<string, StackTask>;
}

const unusedHooks: BuiltinTaskHooks = {
  converge: () => Promise.reject(new Error('no convergence in this test')),
  reportTraits: () => Promise.reject(new Error('no traits in this test')),
};

export function agentUnderTest(server: AgentStreamServer, setup: AgentSetup = {}): AgentUnderTest {
  const dir = setup.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-tasks-'));
  const controller = new AbortController();
  const store = new TaskResultStore(path.join(dir, 'tasks'));
  const lock = new WorkLock();
  const runner = new TaskRunner({
    store,
    lock,
    policy: { adhoc: true, allow: new Set(['vigo.converge', 'vigo.traits']), ...setup.policy },
    namedTasks: createBuiltinTasks({ ...unusedHooks, ...setup.hooks }),
    ...(setup.stackTasks === undefined ? {} : { stackTasks: setup.stackTasks }),
    log: silentLogger,
    signal: controller.signal,
    maxQueued: setup.maxQueued,
    killGraceMs: 500,
    configFile: '/etc/vigo/agent.yaml',
    protectedPaths: setup.protectedPaths ?? [],
  });
  const traits = setup.traits ?? createTraitCollector({ collectors: [] });
  const work = createStreamWork(runner, new LiveQueries({ traits, log: silentLogger }));
  const agent: AgentUnderTest = {
    dir,
    store,
    lock,
    runner,
    work,
    keeper: undefined,
    connect(releaseAfterMs, onReleased) {
      agent.keeper?.stop();
      agent.keeper = new StreamKeeper(
        {
          link: server.link,
          log: silentLogger,
          timings: { heartbeatMs: 60_000, reopenInitialMs: 20, reopenMaxMs: 100 },
          policyVersion: () => 3,
          onForcePush: () => undefined,
          onReleased: onReleased ?? (() => undefined),
          work,
        },
        releaseAfterMs,
      );
      return agent.keeper;
    },
    restart() {
      agent.stop();
      return agentUnderTest(server, { ...setup, dir });
    },
    stop() {
      agent.keeper?.stop();
      agent.keeper = undefined;
      controller.abort();
    },
  };
  return agent;
}
