/**
 * One agent cycle: collect traits, check in (sending full traits only when asked), take a new signed
 * bundle or keep the cached one, converge, queue the run durably and drain the queue. When the server
 * cannot be reached the agent converges from its cached bundle — verified, and never once expired —
 * and the results wait on disk until the server acknowledges them. The connection follows each reply's
 * mode (connection.ts): held keeps the channel and the stream, poll closes the channel after the cycle.
 *
 * A cycle's convergence holds the host-wide work lock (tasks/work-lock.ts): a task the server pushes
 * waits for it, and a cycle waits for a running task. A runner that holds streams also runs those tasks
 * (tasks/) and answers live queries.
 */
import type { Logger } from '../../server/core/index.ts';
import { applyBundle, createFileSnapshotStore, createProbes } from '../engine/index.ts';
import type { BundleDocument, RunRecord } from '../engine/index.ts';
import { createFileFamilyExecutors } from '../executors/file-family.ts';
import { systemFamilyExecutors } from '../executors/system-family.ts';
import { unixFamilyExecutors } from '../executors/unix-family.ts';
import type { Executor } from '../executors/types.ts';
import { createXplatFamilyExecutors } from '../executors/xplat-family.ts';
import { runCommand } from '../system/run-command.ts';
import {
  LiveQueries,
  TaskResultStore,
  TaskRunner,
  WorkLock,
  createBuiltinTasks,
  createStreamWork,
} from '../tasks/index.ts';
import type { ConvergePass, TaskPolicy, TraitsReport } from '../tasks/index.ts';
import { createTraitCollector, traitsPayload } from '../traits/index.ts';
import type { TraitSettings, TraitSource, TraitsPayload } from '../traits/index.ts';
import { BundleCache } from './bundle-cache.ts';
import { failoverFor, readServers, writeServers } from './server-list.ts';
import { AgentConnection } from './connection.ts';
import type { AgentConnectionOptions } from './connection.ts';
import { ResultsQueue } from './results-queue.ts';
import type { CheckInInput, ServerLink } from './server-link.ts';
import type { LastRunStatus, LoadedIdentity, StatePaths } from './state-dir.ts';
import { writeStatus } from './state-dir.ts';

export interface CycleResult {
  /** The server's check-in interval, or undefined when it was not reached. */
  intervalMs: number | undefined;
  reachable: boolean;
  run: RunRecord | undefined;
  /** Why nothing was applied, when nothing was. */
  blockedReason: string | null;
}

export interface AgentRunnerOptions {
  paths: StatePaths;
  loaded: LoadedIdentity;
  log: Logger;
  signal: AbortSignal;
  customExecutorDir?: string;
  /** Replaces the trait collector (tests on machines without the usual /proc files). */
  traits?: TraitSource;
  /** agent.yaml `traits:` (certificates to watch, cloud metadata); defaults when absent. */
  traitSettings?: TraitSettings;
  /** Whether the agent holds its AgentStream between cycles (the daemon); default false. */
  holdStreams?: boolean;
  /** The server asked for a check-in now (ForcePush on the stream). */
  onForcePush?: (reason: string, traceparent: string) => void;
  streamTimings?: AgentConnectionOptions['streamTimings'];
  /** Shared by convergence and tasks; one is made when none is given. */
  workLock?: WorkLock;
  /** Which pushed tasks this host runs (agent.yaml `tasks`); with holdStreams, tasks run only when set. */
  taskPolicy?: TaskPolicy & { readonly configFile?: string };
  /** Between SIGTERM and SIGKILL when a command task times out. */
  taskKillGraceMs?: number;
}

const reportBatchRuns = 50;

function executorsFor(document: BundleDocument, stateDir: string): ReadonlyMap<string, Executor> {
  const managed = new Set<string>();
  for (const r of document.resources) {
    const target = r.params['target_path'];
    if (typeof target === 'string') managed.add(target);
  }
  const all = [
    ...createFileFamilyExecutors({ managedPaths: () => managed }),
    ...systemFamilyExecutors,
    ...createXplatFamilyExecutors({ stateDir }),
    ...unixFamilyExecutors,
  ];
  return new Map(all.map((e) => [e.type, e]));
}

/** Past half its lifetime a bundle is refreshed: the agent reports no version so the server sends one. */
function refreshDue(document: BundleDocument, nowMs: number): boolean {
  if (document.expires_at_ms === 0) return false;
  return nowMs >= document.issued_at_ms + (document.expires_at_ms - document.issued_at_ms) / 2;
}

/** The daemon's first background trait scan (security_scan) waits this long after it starts. */
const backgroundTraitDelayMs = 5 * 60_000;

export function createAgentRunner(options: AgentRunnerOptions) {
  const { paths, loaded, log, signal } = options;
  const cache = new BundleCache(paths.bundleFile, loaded.identity.bundlePublicKey);
  const lock = options.workLock ?? new WorkLock();
  const traitSource =
    options.traits ??
    createTraitCollector({
      cacheFile: paths.traitsCacheFile,
      // Only the daemon lives long enough to finish a background scan (security_scan).
      startBackground: options.holdStreams === true,
      backgroundDelayMs: backgroundTraitDelayMs,
      ...(options.traitSettings === undefined ? {} : { env: { settings: options.traitSettings } }),
    });
  const tasks =
    options.holdStreams === true && options.taskPolicy !== undefined
      ? new TaskRunner({
          store: new TaskResultStore(paths.tasksDir),
          lock,
          policy: options.taskPolicy,
          configFile: options.taskPolicy.configFile,
          protectedPaths: [paths.root],
          stackTasks: () => {
            const held = cache.read(Date.now());
            return held.state === 'valid' ? held.document.tasks : new Map();
          },
          namedTasks: createBuiltinTasks({
            converge: (dryRun) => convergePass(dryRun),
            reportTraits: (collectOnly) => reportTraits(collectOnly),
          }),
          log,
          signal,
          killGraceMs: options.taskKillGraceMs,
        })
      : undefined;
  const work =
    tasks === undefined
      ? undefined
      : createStreamWork(
          tasks,
          new LiveQueries({
            traits: traitSource,
            log,
            stackQueries: () => {
              const held = cache.read(Date.now());
              return held.state === 'valid' ? held.document.queries : new Map();
            },
          }),
        );
  let pushTrace: string | undefined;
  const connection = new AgentConnection({
    loaded,
    log,
    holdStreams: options.holdStreams ?? false,
    policyVersion: () => {
      const held = cache.read(Date.now());
      return held.state === 'valid' ? held.document.policy_version : 0;
    },
    onForcePush: (reason, traceparent) => {
      // The check-in a push asks for carries its trace, so the server can follow the push to its effect.
      if (traceparent !== '') pushTrace = traceparent;
      options.onForcePush?.(reason, traceparent);
    },
    streamTimings: options.streamTimings,
    work,
    servers: readServers(paths.root),
    onServers: (servers) => {
      try {
        writeServers(paths.root, servers);
      } catch (err) {
        log.warn('cannot keep the server list', { error: (err as Error).message });
      }
    },
  });
  // The channel of the running cycle; resolveSecrets (during apply) and reporting use it.
  let link: ServerLink | undefined;
  const currentLink = (): ServerLink => {
    if (link === undefined) throw new Error('the server is called only within a cycle');
    return link;
  };
  const queue = new ResultsQueue(paths.queueDir);
  const snapshots = createFileSnapshotStore(paths.snapshotDir);
  const probes = createProbes();
  let secrets: { epoch: number; values: Map<string, string> } = { epoch: -1, values: new Map() };

  const resolveSecrets = async (wanted: string[]): Promise<Map<string, string>> => {
    if (wanted.every((p) => secrets.values.has(p))) return secrets.values;
    const resolved = await currentLink().resolveSecrets(wanted);
    secrets = { epoch: resolved.epoch, values: resolved.values };
    return resolved.values;
  };

  const checkInHere = async (input: CheckInInput, traitsJson: string) => {
    const first = await currentLink().checkIn(input);
    if (!first.sendTraits) return first;
    log.debug('server asked for full traits');
    return currentLink().checkIn({ ...input, traitsJson });
  };

  /** Checks in, moving to the next server while one is unreachable or redirects (each tried once). */
  const checkIn = async (input: CheckInInput, traitsJson: string) => {
    for (let tried = 1; ; tried += 1) {
      try {
        return await checkInHere(input, traitsJson);
      } catch (err) {
        const move = failoverFor(err);
        if (move === undefined || tried >= connection.serverCount + (move.kind === 'redirect' ? 1 : 0))
          throw err;
        log.warn(move.kind === 'redirect' ? 'server is not the primary' : 'server unreachable', {
          server: connection.address,
          error: (err as Error).message,
        });
        link = connection.failover(move.kind === 'redirect' ? move.primary : undefined);
      }
    }
  };

  const drainQueue = async (): Promise<void> => {
    for (;;) {
      const runs = queue.oldest(reportBatchRuns);
      if (runs.length === 0) return;
      const ack = await currentLink().reportResults(runs);
      const done = new Set([...ack.acceptedRunIds, ...ack.rejectedRunIds]);
      for (const id of ack.rejectedRunIds)
        log.warn('server rejected a run report; dropping it', { runId: id });
      queue.remove(done);
      if (done.size === 0) return;
    }
  };

  /** A cycle under the work lock: never beside a task. */
  const cycle = (dryRun: boolean): Promise<CycleResult> => lock.run(() => unlockedCycle(dryRun));

  /** vigo.converge: the task already holds the work lock. */
  const convergePass = async (dryRun: boolean): Promise<ConvergePass> => {
    const result = await unlockedCycle(dryRun);
    return {
      results: result.run?.results ?? [],
      policyVersion: result.run?.policyVersion ?? 0,
      blockedReason: result.blockedReason,
    };
  };

  /** vigo.traits: every collector afresh, then a check-in that carries them. */
  const reportTraits = async (collectOnly: boolean): Promise<TraitsReport> => {
    const { traits, errors } = await traitSource.collect({ refreshStable: true });
    const payload = traitsPayload(traits);
    const collectorErrors = errors.map((e) => ({ collector: e.collector, message: e.message }));
    if (collectOnly) return { traitsHash: payload.hash, collectorErrors, checkInError: undefined };
    link = connection.beginCycle();
    try {
      await exchange(payload, Date.now());
      return { traitsHash: payload.hash, collectorErrors, checkInError: undefined };
    } catch (err) {
      return { traitsHash: payload.hash, collectorErrors, checkInError: (err as Error).message };
    } finally {
      link = undefined;
      connection.endCycle();
    }
  };

  const unlockedCycle = async (dryRun: boolean): Promise<CycleResult> => {
    link = connection.beginCycle();
    try {
      return await converge(dryRun);
    } finally {
      link = undefined;
      connection.endCycle();
    }
  };

  /**
   * Checks in with `payload` (full traits only when asked) and takes what the reply says: connection
   * mode, interval, observe mode, secrets epoch, and a new bundle into the cache. Throws when the server
   * cannot be reached.
   */
  const exchange = async (payload: TraitsPayload, nowMs: number) => {
    const cached = cache.read(nowMs);
    const held = cached.state === 'valid' ? cached.document : undefined;
    // A bundle past half its lifetime is reported as none held, so the server sends a fresh one.
    const kept = held && !refreshDue(held, nowMs) ? held : undefined;
    const response = await checkIn(
      {
        hostname: loaded.identity.hostname,
        policyVersion: kept?.policy_version ?? 0,
        stateFingerprint: kept?.merkle_root ?? '',
        traitsHash: payload.hash,
        secretsEpoch: kept?.secrets_epoch ?? 0,
        ...(pushTrace === undefined ? {} : { traceparent: pushTrace }),
      },
      payload.json,
    );
    pushTrace = undefined;
    connection.followReply(response);
    if (Number(response.secretsEpoch) !== secrets.epoch) secrets = { epoch: -1, values: new Map() };
    let fresh: BundleDocument | undefined;
    if (response.outcome.case === 'bundle') {
      fresh = cache.accept(response.outcome.value, Date.now());
      log.info('new policy bundle', {
        policyVersion: fresh.policy_version,
        resources: fresh.resources.length,
      });
    }
    return {
      fresh,
      intervalMs: response.intervalMs > 0 ? response.intervalMs : undefined,
      observe: response.observeOnly,
    };
  };

  const converge = async (dryRun: boolean): Promise<CycleResult> => {
    const nowMs = Date.now();
    const { traits, errors } = await traitSource.collect();
    for (const e of errors)
      log.warn('trait collector failed', { collector: e.collector, message: e.message });
    const payload = traitsPayload(traits);
    const cached = cache.read(nowMs);
    const held = cached.state === 'valid' ? cached.document : undefined;
    let document = held;
    let bundleSource: LastRunStatus['bundleSource'] = 'cache';
    let intervalMs: number | undefined;
    let observe = false;
    let reachable = false;
    try {
      const reply = await exchange(payload, nowMs);
      reachable = true;
      intervalMs = reply.intervalMs;
      observe = reply.observe;
      if (reply.fresh !== undefined) {
        document = reply.fresh;
        bundleSource = 'server';
      } else if (held) bundleSource = 'server';
    } catch (err) {
      log.warn('server unreachable; converging from the cached bundle', { message: (err as Error).message });
    }

    let blockedReason: string | null = null;
    let run: RunRecord | undefined;
    if (document === undefined) {
      blockedReason =
        cached.state === 'expired'
          ? `the cached bundle expired at ${new Date(cached.document.expires_at_ms).toISOString()}; nothing is enforced until the server sends a new one`
          : cached.state === 'invalid'
            ? `${cached.reason}; it is not applied`
            : 'no policy bundle yet: the server has not been reached since enrollment';
      log.error('not converging', { reason: blockedReason });
    } else {
      run = await applyBundle({
        bundle: document,
        executors: executorsFor(document, paths.root),
        dryRun: dryRun || observe,
        traits,
        probes,
        resolveSecrets,
        run: (file, args, opts) => runCommand(file, args, { ...opts, signal }),
        snapshots,
        customExecutorDir: options.customExecutorDir ?? paths.executorsDir,
        signal,
      });
      queue.add(run);
    }
    const counts: Record<string, number> = {};
    for (const r of run?.results ?? []) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
    writeStatus(paths, {
      runId: run?.runId ?? '',
      policyVersion: run?.policyVersion ?? 0,
      startedAtMs: run?.startedAtMs ?? nowMs,
      finishedAtMs: run?.finishedAtMs ?? Date.now(),
      dryRun: run?.dryRun ?? dryRun,
      counts,
      bundleSource,
      blockedReason,
    });
    if (reachable) {
      try {
        await drainQueue();
      } catch (err) {
        log.warn('results not delivered yet; they stay queued', {
          queued: queue.size(),
          message: (err as Error).message,
        });
      }
    }
    return { intervalMs, reachable, run, blockedReason };
  };

  return {
    cycle,
    queuedRuns: () => queue.size(),
    connection,
    close: () => {
      traitSource.close?.();
      connection.close();
    },
  };
}

export type AgentRunner = ReturnType<typeof createAgentRunner>;
