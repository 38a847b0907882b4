/**
 * A load generator process, started by bench/checkin.ts with an IPC channel: it speaks for a slice of the
 * seeded envoys, over a few shared mTLS HTTP/2 connections or over one connection per envoy
 * (loadgen-envoys.ts), and runs the workloads its parent asks for, reporting counts and a latency
 * histogram per phase.
 *
 *   (forked by bench/checkin.ts; not meant to be run by hand)
 */
import { LoadgenFleet, PhaseStats } from './loadgen-calls.ts';
import { EnvoyConnections } from './loadgen-envoys.ts';
import type { LoadgenMessage, ParentMessage, PhaseReport, Workload } from './loadgen-protocol.ts';

interface RunningPhase {
  stats: PhaseStats;
  stopping: boolean;
  tasks: Set<Promise<void>>;
}

let fleet: LoadgenFleet | undefined;
let envoys: EnvoyConnections | undefined;
let phase: RunningPhase | undefined;

function send(message: LoadgenMessage): void {
  process.send?.(message);
}

function track(running: RunningPhase, task: Promise<void>): void {
  running.tasks.add(task);
  void task.finally(() => running.tasks.delete(task));
}

/** Envoys 0 … count − 1 in turn, from 0, for ever. */
function cycle(count: number): () => number {
  let cursor = -1;
  return () => (cursor = (cursor + 1) % count);
}

function closedLoop(
  running: RunningPhase,
  concurrency: number,
  envoyCount: number,
  op: (envoy: number) => Promise<void>,
  calls = Number.POSITIVE_INFINITY,
  untilMs = Number.POSITIVE_INFINITY,
): void {
  if (envoyCount < concurrency * 2) {
    // Fewer envoys than that would put two calls of one envoy in flight, and the later timestamp could
    // arrive first and make the other a replay.
    throw new Error(`${envoyCount} envoys cannot sustain ${concurrency} calls in flight; seed more`);
  }
  const next = cycle(envoyCount);
  let started = 0;
  const worker = async (): Promise<void> => {
    while (!running.stopping && started < calls && performance.now() < untilMs) {
      started += 1;
      await op(next());
    }
  };
  for (let i = 0; i < concurrency; i++) track(running, worker());
}

/** Starts `op` at `ratePerSecond`, on schedule whatever the latency, with at most `maxInFlight` waiting. */
function openLoop(
  running: RunningPhase,
  ratePerSecond: number,
  maxInFlight: number,
  op: (scheduledMs: number) => Promise<void>,
): void {
  const startMs = performance.now();
  let started = 0;
  let inFlight = 0;
  const tick = (): void => {
    if (running.stopping) return;
    // Call k is due at startMs + k / rate, so by now calls 0 … floor(elapsed × rate) are.
    const due = Math.floor(((performance.now() - startMs) * ratePerSecond) / 1000) + 1;
    for (; started < due; started++) {
      if (inFlight >= maxInFlight) {
        running.stats.dropped += 1;
        continue;
      }
      inFlight += 1;
      const call = op(startMs + (started * 1000) / ratePerSecond);
      track(
        running,
        call.finally(() => (inFlight -= 1)),
      );
    }
    setTimeout(tick, 1);
  };
  tick();
}

function perEnvoy(): EnvoyConnections {
  if (envoys === undefined) throw new Error('this load generator has no per-envoy certificates');
  return envoys;
}

function start(workload: Workload): void {
  if (phase !== undefined) throw new Error('a phase is already running');
  const agents = fleet!;
  const running: RunningPhase = { stats: new PhaseStats(), stopping: false, tasks: new Set() };
  const { stats } = running;
  const all = agents.ids.length;
  switch (workload.kind) {
    case 'checkins':
      closedLoop(
        running,
        workload.concurrency,
        all,
        (envoy) => agents.checkIn(stats, workload.target, envoy),
        workload.once === true ? all : Number.POSITIVE_INFINITY,
      );
      break;
    case 'cadence': {
      const next = cycle(all);
      openLoop(running, all / workload.intervalSeconds, workload.maxInFlight, (scheduledMs) =>
        agents.checkIn(stats, 'vigosrv', next(), scheduledMs),
      );
      break;
    }
    case 'results':
      closedLoop(running, workload.concurrency, all, (envoy) =>
        agents.reportRun(stats, envoy, workload.resultsPerRun),
      );
      break;
    case 'poll': {
      const connections = perEnvoy();
      const count = Math.min(workload.envoys ?? all, all);
      closedLoop(
        running,
        workload.concurrency,
        count,
        (envoy) => connections.poll(stats, workload.target, envoy, workload.resume),
        workload.once === true ? count : Number.POSITIVE_INFINITY,
        performance.now() + (workload.maxSeconds ?? Number.POSITIVE_INFINITY) * 1000,
      );
      break;
    }
    case 'poll-cadence': {
      const connections = perEnvoy();
      const next = cycle(Math.min(workload.envoys, all));
      openLoop(running, workload.ratePerSecond, workload.maxInFlight, (scheduledMs) =>
        connections.poll(stats, 'vigosrv', next(), workload.resume, scheduledMs),
      );
      break;
    }
    case 'held-checkins': {
      const connections = perEnvoy();
      const held = connections.heldEnvoys();
      closedLoop(
        running,
        Math.min(workload.concurrency, Math.floor(held.length / 2)),
        held.length,
        (at) => connections.heldCheckIn(stats, held[at]!, performance.now()),
        held.length,
      );
      break;
    }
    case 'held-cadence': {
      const connections = perEnvoy();
      const held = connections.heldEnvoys();
      if (held.length === 0) throw new Error('no envoy holds a connection');
      const next = cycle(held.length);
      openLoop(running, held.length / workload.intervalSeconds, workload.maxInFlight, (scheduledMs) =>
        connections.heldCheckIn(stats, held[next()]!, scheduledMs),
      );
      break;
    }
  }
  phase = running;
}

async function settle(running: RunningPhase): Promise<void> {
  while (running.tasks.size > 0) await Promise.allSettled([...running.tasks]);
}

/** Ends the phase: at once (`stop`), or when its workload has finished by itself (`finish`). */
async function stop(how: 'stop' | 'finish'): Promise<PhaseReport> {
  const running = phase;
  if (running === undefined) throw new Error('no phase is running');
  if (how === 'finish') await settle(running);
  const measured = running.stats.close();
  running.stopping = true;
  await settle(running);
  phase = undefined;
  const { stats } = running;
  return {
    ...measured,
    errors: stats.errors,
    bundles: stats.bundles,
    ackedResultsTotal: stats.ackedResultsTotal,
    unresolvedRuns: stats.unresolvedRuns,
    dropped: stats.dropped,
  };
}

async function handle(message: ParentMessage): Promise<void> {
  switch (message.type) {
    case 'init': {
      const keysStart = performance.now();
      const { init } = message;
      fleet = new LoadgenFleet(init);
      if (init.identity.kind === 'per-envoy') {
        envoys = new EnvoyConnections(fleet, { caFile: init.caFile, ...init.identity });
      }
      send({ type: 'ready', envoys: fleet.ids.length, keysMs: performance.now() - keysStart });
      return;
    }
    case 'connect':
      if (envoys !== undefined) envoys.setPort(message.target, message.port);
      else await fleet!.connect(message.target, message.port);
      send({ type: 'connected', target: message.target });
      return;
    case 'probe': {
      const { template, noChangeReply } =
        envoys !== undefined ? await envoys.probe() : await fleet!.probe(fleet!.sharedCall('vigosrv'));
      send({
        type: 'probed',
        policyVersion: Number(template.policyVersion),
        merkleRoot: template.stateFingerprint,
        noChangeReply,
      });
      return;
    }
    case 'hold': {
      const holdStart = performance.now();
      const outcome = await perEnvoy().hold(message.envoys, message.concurrency);
      send({ type: 'holding', ...outcome, ms: performance.now() - holdStart });
      return;
    }
    case 'release':
      send({ type: 'released', held: perEnvoy().release(message.keep) });
      return;
    case 'start':
      start(message.workload);
      send({ type: 'started' });
      return;
    case 'mark':
      phase?.stats.mark();
      send({ type: 'marked' });
      return;
    case 'stop':
    case 'finish':
      send({ type: 'stopped', report: await stop(message.type) });
      return;
    case 'exit':
      envoys?.close();
      fleet?.close();
      process.disconnect?.();
      return;
  }
}

process.on('message', (message: ParentMessage) => {
  handle(message).catch((err: unknown) => {
    send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  });
});
// The parent's death closes the channel: stop at once rather than keep loading a server nobody measures.
process.on('disconnect', () => process.exit(0));
