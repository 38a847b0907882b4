/**
 * A load generator process, started by bench/checkin.ts with an IPC channel: it speaks for a slice of the
 * seeded envoys over a few shared mTLS HTTP/2 connections and runs the workloads its parent asks for,
 * reporting counts and a latency histogram per phase.
 *
 *   (forked by bench/checkin.ts; not meant to be run by hand)
 */
import { LoadgenFleet, PhaseStats } from './loadgen-calls.ts';
import type { LoadgenMessage, ParentMessage, PhaseReport, Workload } from './loadgen-protocol.ts';

interface RunningPhase {
  stats: PhaseStats;
  stopping: boolean;
  tasks: Set<Promise<void>>;
}

let fleet: LoadgenFleet | undefined;
let phase: RunningPhase | undefined;

function send(message: LoadgenMessage): void {
  process.send?.(message);
}

function track(running: RunningPhase, task: Promise<void>): void {
  running.tasks.add(task);
  void task.finally(() => running.tasks.delete(task));
}

function closedLoop(
  running: RunningPhase,
  concurrency: number,
  op: (envoy: number) => Promise<void>,
  calls = Number.POSITIVE_INFINITY,
): void {
  const agents = fleet!;
  if (agents.ids.length < concurrency * 2) {
    // Fewer envoys than that would put two calls of one envoy in flight, and the later timestamp could
    // arrive first and make the other a replay.
    throw new Error(`${agents.ids.length} envoys cannot sustain ${concurrency} calls in flight; seed more`);
  }
  let started = 0;
  const worker = async (): Promise<void> => {
    while (!running.stopping && started < calls) {
      started += 1;
      await op(agents.nextEnvoy());
    }
  };
  for (let i = 0; i < concurrency; i++) track(running, worker());
}

function openLoop(running: RunningPhase, ratePerSecond: number, maxInFlight: number): void {
  const agents = fleet!;
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
      const scheduledMs = startMs + (started * 1000) / ratePerSecond;
      const call = agents.checkIn(running.stats, 'vigosrv', agents.nextEnvoy(), scheduledMs);
      track(
        running,
        call.finally(() => (inFlight -= 1)),
      );
    }
    setTimeout(tick, 1);
  };
  tick();
}

function start(workload: Workload): void {
  if (phase !== undefined) throw new Error('a phase is already running');
  const agents = fleet!;
  const running: RunningPhase = { stats: new PhaseStats(), stopping: false, tasks: new Set() };
  switch (workload.kind) {
    case 'checkins':
      closedLoop(
        running,
        workload.concurrency,
        (envoy) => agents.checkIn(running.stats, workload.target, envoy),
        workload.once === true ? agents.ids.length : Number.POSITIVE_INFINITY,
      );
      break;
    case 'cadence':
      openLoop(running, agents.ids.length / workload.intervalSeconds, workload.maxInFlight);
      break;
    case 'results':
      closedLoop(running, workload.concurrency, (envoy) =>
        agents.reportRun(running.stats, envoy, workload.resultsPerRun),
      );
      break;
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
      fleet = new LoadgenFleet(message.init);
      send({ type: 'ready', envoys: fleet.ids.length, keysMs: performance.now() - keysStart });
      return;
    }
    case 'connect':
      await fleet!.connect(message.target, message.port);
      send({ type: 'connected', target: message.target });
      return;
    case 'probe': {
      const { template, noChangeReply } = await fleet!.probe();
      send({
        type: 'probed',
        policyVersion: Number(template.policyVersion),
        merkleRoot: template.stateFingerprint,
        noChangeReply,
      });
      return;
    }
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
