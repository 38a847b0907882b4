/**
 * Runs the tasks the server dispatches on AgentStream and sends their results.
 *
 * - Every dispatch is checked first (dispatch-check.ts) and against this host's policy (tasks.adhoc,
 *   tasks.allow), and a command against the agent guardrail (command-guard.ts); a refused one is answered
 *   REJECTED and never run.
 * - At-least-once delivery: a task_id in the result store is answered from it, never run again; one that
 *   is queued or running is not started twice.
 * - Tasks take the host-wide work lock (work-lock.ts), so they run one at a time, in arrival order, never
 *   beside a convergence pass. At most `maxQueued` wait; beyond that a dispatch is answered
 *   "agent busy" (not stored: the same task_id may be dispatched again later and then run).
 * - A result goes out on the stream that is open when it is ready; with none open it waits in the store
 *   and goes out right after the next stream's Hello.
 */
import type { Logger } from '../../server/core/index.ts';
import { protocolLimits } from '../../protocol/index.ts';
import type { TaskDispatch } from '../../protocol/index.ts';
import type { NamedTask, NamedTaskOutcome } from './builtin-tasks.ts';
import type { ErrorCode } from '../../server/core/index.ts';
import { scanCommand } from './command-guard.ts';
import { commandTaskCwd, runCommandTask } from './command-task.ts';
import { checkDispatch, clipText } from './dispatch-check.ts';
import { fitResults } from './result-budget.ts';
import { stackTaskEnvironment } from './stack-tasks.ts';
import type { StackTask } from './stack-tasks.ts';
import type { TaskResultStore } from './result-store.ts';
import type { TaskOutcome, TaskRequest } from './types.ts';
import type { WorkLock } from './work-lock.ts';

/** Which tasks this host runs (agent.yaml `tasks`). */
export interface TaskPolicy {
  /** Whether ad-hoc command tasks run. */
  readonly adhoc: boolean;
  /** Named tasks that run; any other known one is refused. */
  readonly allow: ReadonlySet<string>;
  /** The agent runs with --dry-run: named tasks only observe, command tasks are refused. */
  readonly observeOnly?: boolean;
  /** Whether named tasks from the published stacks (carried in this host's bundle) run; default true. */
  readonly stacks?: boolean;
  /** Whether a command forced past the server's guardrail also skips the agent's own; default false. */
  readonly allowForced?: boolean;
}

/** Sends one result on the open stream; throws when it cannot. */
export type ResultSender = (outcome: TaskOutcome) => void;

export interface TaskRunnerOptions {
  readonly store: TaskResultStore;
  readonly lock: WorkLock;
  readonly policy: TaskPolicy;
  readonly namedTasks: ReadonlyMap<string, NamedTask>;
  /** The named tasks of the stacks in the bundle this host holds now (none without a valid bundle). */
  readonly stackTasks?: () => ReadonlyMap<string, StackTask>;
  readonly log: Logger;
  /** Aborts when the agent stops: a running command is killed and reported. */
  readonly signal: AbortSignal;
  readonly maxQueued?: number;
  readonly killGraceMs?: number;
  /** Where the agent's config lives, named in refusals. */
  readonly configFile?: string;
  /** The agent's own files (state dir, config file) that the command guard protects besides the fixed ones. */
  readonly protectedPaths?: readonly string[];
}

export const defaultMaxQueuedTasks = 64;

/** Starts the message of a TaskResult the agent guardrail refused, so scripts can match it. */
export const agentRefusedCode: ErrorCode = 'task.agent_refused';

interface TimedOut {
  readonly status: 'timed_out';
  readonly message: string;
  readonly results: readonly [];
}
const defaultKillGraceMs = 5_000;

export class TaskRunner {
  readonly #options: TaskRunnerOptions;
  /** Accepted task_ids that have not finished: queued or running. */
  readonly #inFlight = new Set<string>();
  #queued = 0;
  #sender: ResultSender | undefined;

  constructor(options: TaskRunnerOptions) {
    this.#options = options;
  }

  /** Tasks waiting for the work lock. */
  get queued(): number {
    return this.#queued;
  }

  /** Tasks queued or running: their results have not gone out yet. */
  get busy(): boolean {
    return this.#inFlight.size > 0;
  }

  /** A stream said Hello: results go out on it, starting with those that waited. */
  attach(sender: ResultSender): void {
    this.#sender = sender;
    const { store } = this.#options;
    // One at a time from disk: a long outage's results are never all in memory at once.
    for (const id of store.unsentIds()) {
      const outcome = store.result(id);
      if (outcome !== undefined && !this.#send(outcome)) return;
    }
  }

  /** That stream ended. */
  detach(sender: ResultSender): void {
    if (this.#sender === sender) this.#sender = undefined;
  }

  dispatch(dispatch: TaskDispatch): void {
    const { log, store } = this.#options;
    const checked = checkDispatch(dispatch);
    if (!checked.ok) {
      if (!checked.answerable) {
        log.warn('ignored a task dispatch that cannot be answered', { reason: checked.message });
        return;
      }
      this.#reject(checked.taskId, checked.traceparent, checked.message);
      return;
    }
    const { task } = checked;
    const state = store.stateOf(task.taskId);
    if (state === 'finished') {
      const stored = store.result(task.taskId);
      if (stored !== undefined) {
        log.info('task already ran; answering with its stored result', { taskId: task.taskId });
        this.#send(stored);
        return;
      }
    }
    if (this.#inFlight.has(task.taskId) || state === 'running') {
      log.info('task is already queued or running; its result follows when it finishes', {
        taskId: task.taskId,
      });
      return;
    }
    const refusal = this.#refusal(task);
    if (refusal !== undefined) {
      this.#reject(task.taskId, task.traceparent, refusal);
      return;
    }
    const maxQueued = this.#options.maxQueued ?? defaultMaxQueuedTasks;
    if (this.#queued >= maxQueued) {
      this.#reject(task.taskId, task.traceparent, `agent busy: ${this.#queued} tasks queued`);
      return;
    }
    this.#inFlight.add(task.taskId);
    this.#queued += 1;
    log.info('task accepted', { taskId: task.taskId, kind: task.action.kind, queued: this.#queued });
    void this.#options.lock.run(async () => {
      this.#queued -= 1;
      const { outcome, finishing } = await this.#execute(task).catch((err: unknown) => ({
        outcome: this.#notRun(task, `not run: ${(err as Error).message}`),
        finishing: Promise.resolve(),
      }));
      this.#complete(outcome);
      // The lock is held until the work has really ended, even when its result went out earlier.
      await finishing;
    });
  }

  #complete(outcome: TaskOutcome): void {
    const { log, store } = this.#options;
    try {
      store.finish(outcome);
    } catch (err) {
      log.error('task result could not be stored; sending it all the same', {
        taskId: outcome.taskId,
        message: (err as Error).message,
      });
    }
    this.#inFlight.delete(outcome.taskId);
    log.info('task finished', { taskId: outcome.taskId, status: outcome.status, exitCode: outcome.exitCode });
    this.#send(outcome);
  }

  #notRun(task: TaskRequest, message: string): TaskOutcome {
    return {
      taskId: task.taskId,
      status: 'failed',
      exitCode: -1,
      stdout: Buffer.alloc(0),
      stderr: Buffer.alloc(0),
      truncated: false,
      startedAtMs: 0,
      finishedAtMs: Date.now(),
      message: clipText(message),
      results: [],
      traceparent: task.traceparent,
    };
  }

  /** Why this host refuses the task, or undefined when it runs it. */
  #refusal(task: TaskRequest): string | undefined {
    const { policy, namedTasks, configFile } = this.#options;
    const where = configFile === undefined ? '' : ` in ${configFile}`;
    const { action } = task;
    if (action.kind === 'command') {
      if (task.dryRun)
        return 'a command task cannot be dry-run: the agent cannot know what a command would change';
      if (!policy.adhoc) return `ad-hoc command tasks are disabled on this host (tasks.adhoc: false${where})`;
      if (policy.observeOnly === true)
        return 'the agent runs with --dry-run and changes nothing; command tasks are refused';
      return this.#guardRefusal(task, action.command, where);
    }
    const named = namedTasks.get(action.name);
    const fromStacks = named === undefined ? this.#stackTask(action.name) : undefined;
    if (fromStacks !== undefined) {
      if (policy.stacks === false)
        return `named tasks from the stacks are disabled on this host (tasks.stacks: false${where})`;
      if (task.dryRun)
        return `task ${action.name} runs a command, which cannot be dry-run: the agent cannot know what it would change`;
      if (policy.observeOnly === true)
        return 'the agent runs with --dry-run and changes nothing; tasks that run commands are refused';
      const bound = stackTaskEnvironment(fromStacks, action.params);
      return 'problem' in bound ? bound.problem : undefined;
    }
    if (named === undefined)
      return `unknown task ${JSON.stringify(clipText(action.name, 256))}; this agent knows ${[
        ...namedTasks.keys(),
        ...(this.#options.stackTasks?.().keys() ?? []),
      ].join(', ')}`;
    if (!policy.allow.has(action.name))
      return `task ${action.name} is not allowed on this host (not in tasks.allow${where})`;
    const unknown = [...action.params.keys()].filter((k) => !named.params.includes(k));
    if (unknown.length > 0)
      return `task ${action.name} does not take the param${unknown.length > 1 ? 's' : ''} ${unknown
        .slice(0, 8)
        .map((k) => JSON.stringify(clipText(k, 64)))
        .join(', ')}`;
    return undefined;
  }

  /** The agent guardrail's refusal of a command (code task.agent_refused), or undefined when it may run. */
  #guardRefusal(task: TaskRequest, command: string, where: string): string | undefined {
    if (task.force && this.#options.policy.allowForced === true) return undefined;
    const match = scanCommand(command, {
      protectedPaths: [
        ...(this.#options.protectedPaths ?? []),
        ...(this.#options.configFile === undefined ? [] : [this.#options.configFile]),
      ],
      protectedPids: [process.pid],
      cwd: commandTaskCwd,
    });
    if (match === undefined) return undefined;
    const forced = task.force
      ? ` The task was forced past the server's guardrail, which this host does not allow (tasks.allow_forced: false${where}).`
      : '';
    return (
      `${agentRefusedCode}: the agent guardrail "${match.rule}" (${match.description}) refuses this command: ` +
      `${clipText(match.detail, 256)}.${forced}`
    );
  }

  #stackTask(name: string): StackTask | undefined {
    return this.#options.stackTasks?.().get(name);
  }

  /** The task's outcome, and what must settle before the work lock is released. */
  async #execute(task: TaskRequest): Promise<{ outcome: TaskOutcome; finishing: Promise<unknown> }> {
    const { store, signal } = this.#options;
    const startedAtMs = Date.now();
    store.markRunning(task.taskId, startedAtMs, task.traceparent);
    const base = { taskId: task.taskId, traceparent: task.traceparent, startedAtMs };
    const { action } = task;
    if (action.kind === 'command') {
      const ran = await runCommandTask({
        command: action.command,
        timeoutMs: task.timeoutMs,
        nice: task.nice,
        taskId: task.taskId,
        signal,
        outputMaxBytes: protocolLimits.taskOutputMaxBytes,
        killGraceMs: this.#options.killGraceMs ?? defaultKillGraceMs,
      });
      return {
        outcome: { ...base, ...ran, message: clipText(ran.message), results: [], finishedAtMs: Date.now() },
        finishing: Promise.resolve(),
      };
    }
    const fromStacks = this.#options.namedTasks.has(action.name) ? undefined : this.#stackTask(action.name);
    if (fromStacks !== undefined) {
      const bound = stackTaskEnvironment(fromStacks, action.params);
      // Checked when the task was accepted; the bundle may have changed while it waited for the lock.
      if ('problem' in bound)
        return { outcome: this.#notRun(task, bound.problem), finishing: Promise.resolve() };
      const ran = await runCommandTask({
        command: fromStacks.text,
        timeoutMs: task.timeoutMs,
        nice: task.nice,
        taskId: task.taskId,
        signal,
        outputMaxBytes: protocolLimits.taskOutputMaxBytes,
        killGraceMs: this.#options.killGraceMs ?? defaultKillGraceMs,
        extraEnv: bound.env,
      });
      return {
        outcome: { ...base, ...ran, message: clipText(ran.message), results: [], finishedAtMs: Date.now() },
        finishing: Promise.resolve(),
      };
    }
    const named = this.#options.namedTasks.get(action.name);
    if (named === undefined) throw new Error(`task ${action.name} is not known`);
    const { ran, finishing } = await this.#runNamed(named, action.params, task);
    const fitted = fitResults(ran.results);
    const message = [ran.message, fitted.note].filter((m) => m !== undefined && m !== '').join('; ');
    return {
      outcome: {
        ...base,
        status: ran.status,
        exitCode: 0,
        stdout: Buffer.alloc(0),
        stderr: Buffer.alloc(0),
        truncated: false,
        message: clipText(message),
        results: fitted.results,
        finishedAtMs: Date.now(),
      },
      finishing,
    };
  }

  /**
   * A named task cannot be killed halfway (a convergence pass would stop between resources): past its
   * timeout it is reported TIMED_OUT at once, and the work lock stays held until it has really finished.
   */
  async #runNamed(
    named: NamedTask,
    params: ReadonlyMap<string, string>,
    task: TaskRequest,
  ): Promise<{ ran: NamedTaskOutcome | TimedOut; finishing: Promise<unknown> }> {
    const dryRun = task.dryRun || this.#options.policy.observeOnly === true;
    const settled = named.run({ params, dryRun }).then(
      (outcome) => outcome,
      (err: unknown): NamedTaskOutcome => ({
        status: 'failed',
        message: (err as Error).message,
        results: [],
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), task.timeoutMs);
    });
    const first = await Promise.race([settled, timeout]);
    clearTimeout(timer);
    if (first !== 'timeout') return { ran: first, finishing: Promise.resolve() };
    return {
      ran: {
        status: 'timed_out',
        message: `${named.name} did not finish within its timeout of ${task.timeoutMs / 1000} s; it is left to finish`,
        results: [],
      },
      finishing: settled,
    };
  }

  #reject(taskId: string, traceparent: string, message: string): void {
    this.#options.log.warn('task rejected', { taskId, reason: message });
    const nowMs = Date.now();
    this.#send({
      taskId,
      status: 'rejected',
      exitCode: -1,
      stdout: Buffer.alloc(0),
      stderr: Buffer.alloc(0),
      truncated: false,
      startedAtMs: 0,
      finishedAtMs: nowMs,
      message: clipText(message),
      results: [],
      traceparent,
    });
  }

  /** Sends on the open stream; false when there is none or it failed (the result then waits). */
  #send(outcome: TaskOutcome): boolean {
    const sender = this.#sender;
    if (sender === undefined) return false;
    try {
      sender(outcome);
    } catch (err) {
      this.#options.log.warn('task result not sent; it goes out on the next stream', {
        taskId: outcome.taskId,
        message: (err as Error).message,
      });
      return false;
    }
    if (outcome.status !== 'rejected') this.#options.store.markSent(outcome.taskId);
    return true;
  }
}
