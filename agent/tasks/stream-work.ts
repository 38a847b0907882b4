/**
 * Joins the task runner and live queries to the agent's stream: TaskResult and QueryResult messages built
 * from their plain-data outcomes, and "busy" while either has an answer still to send.
 */
import { TaskStatus } from '../../protocol/index.ts';
import type { PayloadInit } from '../../protocol/index.ts';
import { outcomeCodes } from '../runtime/server-link.ts';
import type { StreamSend, StreamWork } from '../runtime/stream-keeper.ts';
import type { LiveQueries } from './live-query.ts';
import type { ResultSender, TaskRunner } from './task-runner.ts';
import type { TaskOutcome, TaskStatusName } from './types.ts';

const statusCodes: Record<TaskStatusName, TaskStatus> = {
  succeeded: TaskStatus.SUCCEEDED,
  failed: TaskStatus.FAILED,
  timed_out: TaskStatus.TIMED_OUT,
  rejected: TaskStatus.REJECTED,
};

export function taskResultPayload(outcome: TaskOutcome): PayloadInit<'AgentStream'> {
  return {
    kind: {
      case: 'taskResult',
      value: {
        taskId: outcome.taskId,
        status: statusCodes[outcome.status],
        exitCode: outcome.exitCode,
        stdout: outcome.stdout,
        stderr: outcome.stderr,
        truncated: outcome.truncated,
        startedAtMs: BigInt(outcome.startedAtMs),
        finishedAtMs: BigInt(outcome.finishedAtMs),
        message: outcome.message,
        results: outcome.results.map((r) => ({
          resourceId: r.resourceId,
          resourceType: r.resourceType,
          configcrate: r.configcrate,
          outcome: outcomeCodes[r.outcome],
          message: r.message,
          durationMs: Math.min(Math.max(0, Math.round(r.durationMs)), 0xffffffff),
        })),
        traceparent: outcome.traceparent,
      },
    },
  };
}

export function createStreamWork(tasks: TaskRunner, queries: LiveQueries): StreamWork {
  const senders = new Map<StreamSend, ResultSender>();
  return {
    opened(send) {
      const sender: ResultSender = (outcome) => send(taskResultPayload(outcome));
      senders.set(send, sender);
      tasks.attach(sender);
    },
    closed(send) {
      const sender = senders.get(send);
      senders.delete(send);
      if (sender !== undefined) tasks.detach(sender);
    },
    taskDispatch: (dispatch) => tasks.dispatch(dispatch),
    liveQuery(query, send) {
      queries.answer(query, (answer) => {
        try {
          send({ kind: { case: 'queryResult', value: answer } });
        } catch {
          // The stream it came on has ended; the server has given up on the query with it.
        }
      });
    },
    get busy() {
      return tasks.busy || queries.running > 0;
    },
  };
}
