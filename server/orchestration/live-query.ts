/**
 * Live queries: one trait read now by every targeted envoy that is online, aggregated.
 *
 * A query resolves its targets, is audited, then sends a LiveQuery (its own query id per envoy) on every
 * open stream. An envoy whose stream is not open is not answered for, unless its stream opens while the
 * query runs: then it is asked at once. In poll mode such envoys (those not stale) are also asked to open
 * their stream at their next check-in, and the query waits for them until its deadline. The query ends
 * when every envoy it waits for has answered, or at its deadline, whichever comes first.
 *
 * Results are matched by their query id and the envoy that sent them; one for an id that is unknown,
 * expired or not that envoy's is ignored and counted. At most `maxInFlight` queries run at once
 * (`query.busy` beyond that); finished answers are kept for a few minutes for `get`.
 */
import { create } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { AgentStreamResponseSchema, LiveQuerySchema } from '../../protocol/index.ts';
import type { AgentStreamResponse, QueryResult } from '../../protocol/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { JsonValue } from '../audit/index.ts';
import type { Ctx, Logger } from '../core/index.ts';
import { VigoError, actorName, traceDetails } from '../core/index.ts';
import type { EnvoyEntry, FleetIndex } from '../fleet/index.ts';
import type { CompiledQuery } from '../policy/index.ts';
import type { Store } from '../store/index.ts';
import { QueryAggregate, canonicalValue, liveQueryLimits, whatToAsk } from './query-aggregate.ts';
import { RecentAnswers } from './recent-answers.ts';
import { answerOf, isComplete, newTarget } from './query-run.ts';
import type { LiveQueryAnswer, Run, Target } from './query-run.ts';
import { resolveTargets } from './targets.ts';

export const liveQueryCapacity = {
  maxInFlight: 16,
  keepFinishedMs: 5 * 60_000,
  keepFinishedCount: 64,
  keepFinishedText: 64 * 1024 * 1024,
} as const;

/** What the queries need of the agent streams (server/checkin's AgentStreams). */
export interface StreamLink {
  send(envoyId: string, message: AgentStreamResponse): boolean;
  isOpen(envoyId: string): boolean;
  attach(work: {
    opened?(entry: EnvoyEntry): void;
    closed?(entry: EnvoyEntry): void;
    queryResult?(entry: EnvoyEntry, result: QueryResult): void;
  }): () => void;
}

export interface LiveQueryDeps {
  readonly fleet: FleetIndex;
  readonly traitsByHash: (hash: string) => unknown;
  readonly streams: StreamLink;
  readonly store: Store;
  /** checkin.connection, read when a query starts. */
  readonly connection: () => 'held' | 'poll';
  readonly log: Logger;
  readonly registry?: Registry;
  /** Announces a query's start and end (the event bus); `queryId` is the event's subject. */
  readonly publish?: (
    type: 'query.started' | 'query.finished',
    data: Record<string, JsonValue>,
    queryId: string,
  ) => void;
  readonly nowMs?: () => number;
  readonly maxInFlight?: number;
  /** The named queries of the active configuration (none without). */
  readonly namedQueries?: () => Readonly<Record<string, CompiledQuery>>;
}

export interface LiveQueryInput {
  readonly targets: readonly string[];
  readonly where?: readonly string[];
  /** Exactly one of traitPath and name. */
  readonly traitPath?: string;
  /** A named query of the active configuration (queries.vgo). */
  readonly name?: string;
  readonly deadlineSeconds?: number;
  readonly rawLimit?: number;
}

export interface LiveQueries {
  /** Runs a query to its end (all answered or the deadline) and returns the answer. */
  run(ctx: Ctx, input: LiveQueryInput): Promise<LiveQueryAnswer>;
  /** The answer's JSON text: so far for a running query, final for one finished recently; else query.not_found. */
  get(queryId: string): string;
  running(): number;
  /** The named queries (queries.vgo) of the active configuration that `run` accepts by name. */
  named(): Readonly<Record<string, CompiledQuery>>;
  /** Ends every running query now with what it has (the server is stopping); refuses new ones. */
  close(): void;
}

function wholeIn(value: number, min: number, max: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new VigoError('query.invalid', `${field} is a whole number from ${min} to ${max}; got ${value}`, {
      field,
    });
  return value;
}

const shortList = (items: readonly string[] | undefined, max: number): string[] =>
  (items ?? []).slice(0, max).map((item) => item.slice(0, 128));

export function createLiveQueries(deps: LiveQueryDeps): LiveQueries {
  const now = deps.nowMs ?? Date.now;
  const maxInFlight = deps.maxInFlight ?? liveQueryCapacity.maxInFlight;
  const runs = new Map<string, Run>();
  /** Every per-envoy query id of a running query that has not been answered yet. */
  const byEnvoyQueryId = new Map<string, { run: Run; envoyId: string }>();
  /** Running queries per envoy that has not answered them. */
  const runsByEnvoy = new Map<string, Set<Run>>();
  const recent = new RecentAnswers({
    keepMs: liveQueryCapacity.keepFinishedMs,
    maxCount: liveQueryCapacity.keepFinishedCount,
    maxText: liveQueryCapacity.keepFinishedText,
  });
  const registers = deps.registry === undefined ? [] : [deps.registry];
  const ignored = new Counter({
    name: 'vigo_live_query_results_ignored_total',
    help: 'QueryResults ignored: an unknown or expired query id, or one that was not asked of that envoy.',
    registers,
  });
  const finishedTotal = new Counter({
    name: 'vigo_live_queries_total',
    help: 'Live queries finished.',
    registers,
  });
  new Gauge({
    name: 'vigo_live_queries_running',
    help: 'Live queries waiting for answers.',
    registers,
    collect() {
      this.set(runs.size);
    },
  });
  let closed = false;

  const forget = (run: Run, envoyId: string): void => {
    const set = runsByEnvoy.get(envoyId);
    set?.delete(run);
    if (set?.size === 0) runsByEnvoy.delete(envoyId);
  };

  const ask = (run: Run, target: Target): boolean => {
    const queryId = (target.queryId ??= randomUUID());
    const message = create(AgentStreamResponseSchema, {
      kind: {
        case: 'liveQuery',
        value: create(LiveQuerySchema, {
          queryId,
          // A named query travels by name alone: the agent runs the definition in its own bundle.
          traitPath: run.queryName === undefined ? run.traitPath : '',
          queryName: run.queryName ?? '',
          traceparent: run.traceparent,
        }),
      },
    });
    if (!deps.streams.send(target.entry.id, message)) return false;
    byEnvoyQueryId.set(queryId, { run, envoyId: target.entry.id });
    if (target.connectPending) {
      target.connectPending = false;
      run.waitingToConnect -= 1;
    }
    target.state = 'asked';
    run.awaitingAnswer += 1;
    if (!target.everAsked) run.asked += 1;
    target.everAsked = true;
    return true;
  };

  const finish = (run: Run): void => {
    if (!runs.delete(run.id)) return;
    clearTimeout(run.timer);
    for (const target of run.targets.values()) {
      if (target.queryId !== undefined) byEnvoyQueryId.delete(target.queryId);
      forget(run, target.entry.id);
    }
    const atMs = now();
    const answer = answerOf(run, 'finished', atMs);
    recent.put(run.id, JSON.stringify(answer), atMs);
    finishedTotal.inc();
    deps.publish?.(
      'query.finished',
      {
        queryId: run.id,
        traitPath: run.traitPath,
        targeted: answer.targeted,
        answered: answer.answered,
        notAnswered: answer.notAnsweredCount,
        errors: answer.errorCount,
        durationMs: atMs - run.startedAtMs,
      },
      run.id,
    );
    run.resolve(answer);
  };

  const accept = (entry: EnvoyEntry, result: QueryResult): void => {
    const owner = byEnvoyQueryId.get(result.queryId);
    const target = owner?.envoyId === entry.id ? owner.run.targets.get(entry.id) : undefined;
    if (owner === undefined || target === undefined || target.state === 'answered') {
      ignored.inc();
      deps.log.debug('live query result ignored: unknown or expired query id', {
        envoyId: entry.id,
        queryId: result.queryId,
      });
      return;
    }
    const { run } = owner;
    byEnvoyQueryId.delete(result.queryId);
    if (target.state === 'asked') run.awaitingAnswer -= 1;
    if (target.connectPending) {
      target.connectPending = false;
      run.waitingToConnect -= 1;
    }
    target.state = 'answered';
    run.answered += 1;
    forget(run, entry.id);
    const who = { envoyId: entry.id, hostname: entry.hostname };
    if (result.error !== '') run.aggregate.addError(who, result.error);
    else {
      const value = canonicalValue(result.valueJson);
      if ('text' in value) run.aggregate.addValue(who, value.text);
      else run.aggregate.addError(who, value.problem);
    }
    if (isComplete(run)) finish(run);
  };

  deps.streams.attach({
    queryResult: accept,
    opened: (entry) => {
      for (const run of runsByEnvoy.get(entry.id) ?? []) {
        const target = run.targets.get(entry.id);
        if (target?.state === 'waiting') ask(run, target);
      }
    },
    closed: (entry) => {
      for (const run of [...(runsByEnvoy.get(entry.id) ?? [])]) {
        const target = run.targets.get(entry.id);
        if (target?.state !== 'asked') continue;
        // Asked again if its stream comes back while the query runs.
        target.state = 'waiting';
        run.awaitingAnswer -= 1;
        if (isComplete(run)) finish(run);
      }
    },
  });

  const start = (ctx: Ctx, input: LiveQueryInput): Promise<LiveQueryAnswer> => {
    if (closed) throw new VigoError('unavailable', 'the server is stopping; no live query can start');
    const { traitPath, queryName } = whatToAsk(input, deps.namedQueries?.() ?? {});
    const deadlineSeconds = wholeIn(
      input.deadlineSeconds ?? liveQueryLimits.deadlineDefaultSeconds,
      liveQueryLimits.deadlineMinSeconds,
      liveQueryLimits.deadlineMaxSeconds,
      'deadlineSeconds',
    );
    const rawLimit = wholeIn(
      input.rawLimit ?? liveQueryLimits.rawLimitDefault,
      0,
      liveQueryLimits.rawLimitMax,
      'rawLimit',
    );
    const entries = resolveTargets(
      { fleet: deps.fleet, traitsByHash: deps.traitsByHash },
      { targets: input.targets, where: input.where ?? [] },
    );
    if (runs.size >= maxInFlight) {
      const startedAtMs = now();
      const soonestEndMs = Math.min(
        ...[...runs.values()].map((r) => r.startedAtMs + r.deadlineSeconds * 1000 - startedAtMs),
      );
      throw new VigoError(
        'query.busy',
        `${runs.size} live queries are running, the most the server runs at once; try again when one ends`,
        { retryAfterSeconds: Math.max(1, Math.ceil(soonestEndMs / 1000)) },
      );
    }
    const id = randomUUID();
    deps.store.tx((db) =>
      appendAudit(db, {
        actor: actorName(ctx.actor),
        action: 'query.started',
        target: `query:${id}`,
        details: {
          ...(queryName === undefined ? { traitPath } : { queryName }),
          targets: shortList(input.targets, 20),
          targetCount: input.targets.length,
          where: shortList(input.where, 16),
          targeted: entries.length,
          deadlineSeconds,
          ...traceDetails(ctx.traceparent),
        },
      }),
    );
    let resolve: (answer: LiveQueryAnswer) => void = () => undefined;
    const done = new Promise<LiveQueryAnswer>((r) => (resolve = r));
    const run: Run = {
      id,
      traitPath,
      queryName,
      traceparent: traceDetails(ctx.traceparent).traceparent ?? '',
      startedAtMs: now(),
      deadlineSeconds,
      mode: deps.connection(),
      targets: new Map(),
      aggregate: new QueryAggregate(rawLimit),
      asked: 0,
      answered: 0,
      awaitingAnswer: 0,
      waitingToConnect: 0,
      timer: undefined,
      resolve,
    };
    runs.set(id, run);
    deps.publish?.(
      'query.started',
      {
        queryId: id,
        ...(queryName === undefined ? { traitPath } : { queryName }),
        targeted: entries.length,
        by: actorName(ctx.actor),
        ...traceDetails(ctx.traceparent),
      },
      id,
    );
    for (const entry of entries) {
      const target = newTarget(entry);
      run.targets.set(entry.id, target);
      let set = runsByEnvoy.get(entry.id);
      if (set === undefined) runsByEnvoy.set(entry.id, (set = new Set()));
      set.add(run);
      if (deps.streams.isOpen(entry.id) && ask(run, target)) continue;
      if (run.mode === 'poll' && !entry.stale && deps.fleet.requestStream(entry.id) === 'requested') {
        target.askedToConnect = true;
        target.connectPending = true;
        run.waitingToConnect += 1;
      }
    }
    if (isComplete(run)) finish(run);
    else {
      run.timer = setTimeout(() => finish(run), deadlineSeconds * 1000);
    }
    return done;
  };

  return {
    run: async (ctx, input) => start(ctx, input),
    named: () => deps.namedQueries?.() ?? {},
    get: (queryId) => {
      const run = runs.get(queryId);
      if (run !== undefined) return JSON.stringify(answerOf(run, 'running', now()));
      const text = recent.get(queryId, now());
      if (text === undefined)
        throw new VigoError(
          'query.not_found',
          `no live query ${JSON.stringify(queryId.slice(0, 64))} is running or finished in the last ` +
            `${liveQueryCapacity.keepFinishedMs / 60_000} minutes`,
        );
      return text;
    },
    running: () => runs.size,
    close: () => {
      closed = true;
      for (const run of [...runs.values()]) finish(run);
    },
  };
}
