/**
 * One live query while it runs: its targets and where each stands (waiting for a stream, asked, answered),
 * the counts that say when it is complete, and the answer built from them.
 */
import type { JsonValue } from '../audit/index.ts';
import type { EnvoyEntry } from '../fleet/index.ts';
import { liveQueryLimits } from './query-aggregate.ts';
import type { QueryAggregate } from './query-aggregate.ts';

export interface NotAnswered {
  envoyId: string;
  hostname: string;
  /** offline: no open stream; timeout: asked, no answer by the deadline; pending: still running. */
  reason: 'offline' | 'timeout' | 'pending';
  /** Poll mode: its next check-in reply asked it to open its stream. */
  askedToConnect: boolean;
}

export interface LiveQueryAnswer {
  queryId: string;
  /** The trait read; "" for a named query that runs a probe. */
  traitPath: string;
  /** The named query (queries.vgo) asked, or null for a trait path. */
  queryName: string | null;
  status: 'running' | 'finished';
  startedAt: string;
  finishedAt: string | null;
  deadlineSeconds: number;
  targeted: number;
  asked: number;
  answered: number;
  notAnsweredCount: number;
  notAnswered: NotAnswered[];
  errorCount: number;
  errors: { envoyId: string; hostname: string; error: string }[];
  values: { value: JsonValue; count: number }[];
  otherValues: number;
  rows: { envoyId: string; hostname: string; value: JsonValue }[];
}

export interface Target {
  readonly entry: EnvoyEntry;
  state: 'waiting' | 'asked' | 'answered';
  queryId: string | undefined;
  askedToConnect: boolean;
  /** Counted in Run.waitingToConnect. */
  connectPending: boolean;
  everAsked: boolean;
}

export interface Run {
  readonly id: string;
  readonly traitPath: string;
  /** The named query asked, or undefined for a trait path. */
  readonly queryName: string | undefined;
  /** The W3C traceparent sent with every LiveQuery of this run, or "". */
  readonly traceparent: string;
  readonly startedAtMs: number;
  readonly deadlineSeconds: number;
  readonly mode: 'held' | 'poll';
  readonly targets: Map<string, Target>;
  readonly aggregate: QueryAggregate;
  asked: number;
  answered: number;
  awaitingAnswer: number;
  waitingToConnect: number;
  timer: NodeJS.Timeout | undefined;
  resolve(answer: LiveQueryAnswer): void;
}

/** Every envoy it waits for answered: the asked ones, and in poll mode those asked to connect. */
export function isComplete(run: Run): boolean {
  return run.awaitingAnswer === 0 && (run.mode === 'held' || run.waitingToConnect === 0);
}

export function newTarget(entry: EnvoyEntry): Target {
  return {
    entry,
    state: 'waiting',
    queryId: undefined,
    askedToConnect: false,
    connectPending: false,
    everAsked: false,
  };
}

export function answerOf(run: Run, status: LiveQueryAnswer['status'], atMs: number): LiveQueryAnswer {
  const notAnswered: NotAnswered[] = [];
  let notAnsweredCount = 0;
  for (const target of run.targets.values()) {
    if (target.state === 'answered') continue;
    notAnsweredCount += 1;
    if (notAnswered.length >= liveQueryLimits.notAnsweredListed) continue;
    notAnswered.push({
      envoyId: target.entry.id,
      hostname: target.entry.hostname,
      reason: status === 'running' ? 'pending' : target.state === 'asked' ? 'timeout' : 'offline',
      askedToConnect: target.askedToConnect,
    });
  }
  const { aggregate } = run;
  return {
    queryId: run.id,
    traitPath: run.traitPath,
    queryName: run.queryName ?? null,
    status,
    startedAt: new Date(run.startedAtMs).toISOString(),
    finishedAt: status === 'finished' ? new Date(atMs).toISOString() : null,
    deadlineSeconds: run.deadlineSeconds,
    targeted: run.targets.size,
    asked: run.asked,
    answered: run.answered,
    notAnsweredCount,
    notAnswered,
    errorCount: aggregate.errorCount,
    errors: aggregate.errors().map((e) => ({ envoyId: e.envoyId, hostname: e.hostname, error: e.error })),
    values: aggregate.values().map((v) => ({ value: JSON.parse(v.text) as JsonValue, count: v.count })),
    otherValues: aggregate.otherValues,
    rows: aggregate.rows().map((r) => ({
      envoyId: r.envoyId,
      hostname: r.hostname,
      value: JSON.parse(r.text) as JsonValue,
    })),
  };
}
