/**
 * The measured parts of a run: booting vigosrv (boot time, RSS) and driving one workload through every
 * load generator with a warm-up, a measured window bracketed by readings of the server's own CPU time,
 * and a drain of the calls still in flight.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { ReadyServer } from '../../test/helpers/server-process.ts';
import { startServer } from '../../test/helpers/server-process.ts';
import type { LoadgenProcess } from './children.ts';
import { LatencyHistogram } from './histogram.ts';
import type { PhaseReport, Workload } from './loadgen-protocol.ts';
import { checkinWorkers } from '../../server/lifecycle/agent-port.ts';
import { machineBusyUs, oneProcessCpuUs, processCpuUs, processRssBytes } from './proc-stats.ts';
import { StallProbe } from './stall-probe.ts';

export interface BootFigures {
  /** Spawn to the "ready" log line. */
  readyMs: number;
  /** The server's own "fleet index loaded" durationMs. */
  indexMs: number;
  indexEnvoys: number;
  rssBytes: number;
}

export interface BootOptions {
  dataDir: string;
  cadenceIntervalSeconds: number;
  /** Write a V8 CPU profile of the server into this directory when it exits. */
  cpuProfDir?: string | undefined;
  /** Where the profiling wrapper is written (needed with `cpuProfDir`). */
  scratchDir: string;
  /** checkin.workers for the server (1, the default: none; 0: one per core). */
  workers: number;
}

/**
 * Node refuses --cpu-prof in NODE_OPTIONS and bin/vigosrv starts node through `/usr/bin/env node`, so a
 * `node` first on PATH that execs the real one with the flags profiles the server with its pid intact.
 */
function profilingPath(scratchDir: string, cpuProfDir: string): string {
  const binDir = join(scratchDir, 'profiling-bin');
  mkdirSync(binDir, { recursive: true });
  writeFileSync(
    join(binDir, 'node'),
    `#!/bin/sh\nexec '${process.execPath}' --cpu-prof --cpu-prof-dir='${resolve(cpuProfDir)}' "$@"\n`,
    { mode: 0o755 },
  );
  return `${binDir}${delimiter}${process.env['PATH'] ?? ''}`;
}

/** The check-in processes checkin.workers = `workers` runs on this machine (1: the server alone). */
export const checkinProcesses = checkinWorkers;

export async function bootServer(options: BootOptions): Promise<{ server: ReadyServer; boot: BootFigures }> {
  const env: Record<string, string> = {
    VIGO_CHECKIN_INTERVAL: `${options.cadenceIntervalSeconds}s`,
    // Between phases some envoys sit idle for minutes, which no envoy on a cadence does; without this the
    // stale sweep would log thousands of "envoy became stale" lines into the results phase.
    VIGO_CHECKIN_STALE_FACTOR: '100',
    // In held mode vigosrv refuses to start when the enrolled fleet needs more descriptors than it may open
    // (100,000 envoys against this machine's 20,000). The benchmark holds only as many connections as the
    // limit allows and drives the rest over shared or short-lived ones, which is what poll mode declares.
    VIGO_CHECKIN_CONNECTION: 'poll',
  };
  env['VIGO_CHECKIN_WORKERS'] = String(options.workers);
  if (options.cpuProfDir !== undefined) env['PATH'] = profilingPath(options.scratchDir, options.cpuProfDir);
  const startMs = performance.now();
  const server = await startServer({ dataDir: options.dataDir, env });
  const loaded = await server.waitForLog('"fleet index loaded"', (l) => l.msg === 'fleet index loaded');
  // With check-in processes, the server is ready for agents once they are.
  if (checkinProcesses(options.workers) > 1) {
    await server.waitForLog('"check-in processes ready"', (l) => l.msg === 'check-in processes ready');
  }
  const readyMs = performance.now() - startMs;
  StallProbe.watch(server);
  return {
    server,
    boot: {
      readyMs,
      indexMs: loaded['durationMs'] as number,
      indexEnvoys: loaded['envoys'] as number,
      rssBytes: processRssBytes(server.child.pid!),
    },
  };
}

export interface PhaseFigures {
  calls: number;
  /** Results for the results workload, else calls. */
  items: number;
  callsPerSecond: number;
  itemsPerSecond: number;
  measuredSeconds: number;
  /** The target server's CPU time in the window per successful call, µs. */
  serverCpuUsPerCall: number;
  /**
   * The server process's own CPU time per call, without its check-in processes (equal to
   * serverCpuUsPerCall with checkin.workers=1): the single-threaded part, which bounds check-ins/s however
   * many cores the check-in processes get.
   */
  servingCpuUsPerCall: number;
  /** Share of one core the target server used in the window. */
  serverCores: number;
  /** Share of one core each load generator used on average in the window. */
  loadgenCores: number;
  /** Cores used in the window by every other process on the machine (the noise of a shared machine). */
  otherCores: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: Record<string, number>;
  errorCount: number;
  bundles: number;
  ackedResultsTotal: number;
  unresolvedRuns: number;
  dropped: number;
  /** Per-envoy connections opened in the window, and how many offered / resumed a TLS session. */
  connections: number;
  sessionsOffered: number;
  sessionsResumed: number;
  /**
   * The serving process's longest event-loop stall in the window (its nodejs_eventloop_lag_max_seconds,
   * read from /metrics before and after), ms; NaN for a process without one (the echo server).
   */
  maxStallMs: number;
}

export interface PhasePlan {
  /** What every load generator runs, or what load generator `i` runs. */
  workload: Workload | ((loadgen: number) => Workload);
  /** The process whose CPU time is charged to the calls (vigosrv or the echo server). */
  serverPid: number;
  warmupSeconds: number;
  /** Length of the measured window; undefined = until the workload ends by itself (`once`). */
  seconds: number | undefined;
}

interface Window {
  maxStallMs: number;
  serverCpuUs: number;
  servingCpuUs: number;
  machineBusyUs: number;
  ms: number;
}

function combine(reports: PhaseReport[], window: Window): PhaseFigures {
  const { serverCpuUs, servingCpuUs, ms: windowMs } = window;
  const histogram = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let callsPerSecond = 0;
  let itemsPerSecond = 0;
  let loadgenCpuUs = 0;
  for (const report of reports) {
    histogram.merge(report.histogram);
    for (const [key, count] of Object.entries(report.errors)) errors[key] = (errors[key] ?? 0) + count;
    callsPerSecond += (report.calls * 1000) / report.elapsedMs;
    itemsPerSecond += (report.items * 1000) / report.elapsedMs;
    loadgenCpuUs += report.cpuUs;
  }
  const sum = (pick: (r: PhaseReport) => number): number => reports.reduce((n, r) => n + pick(r), 0);
  const calls = sum((r) => r.calls);
  return {
    calls,
    items: sum((r) => r.items),
    callsPerSecond,
    itemsPerSecond,
    measuredSeconds: windowMs / 1000,
    serverCpuUsPerCall: calls === 0 ? Number.NaN : serverCpuUs / calls,
    servingCpuUsPerCall: calls === 0 ? Number.NaN : servingCpuUs / calls,
    serverCores: serverCpuUs / (windowMs * 1000),
    loadgenCores: loadgenCpuUs / (windowMs * 1000) / reports.length,
    otherCores: Math.max(0, window.machineBusyUs - serverCpuUs - loadgenCpuUs) / (windowMs * 1000),
    p50Ms: histogram.percentileUs(0.5) / 1000,
    p99Ms: histogram.percentileUs(0.99) / 1000,
    maxMs: histogram.toData().maxUs / 1000,
    errors,
    errorCount: Object.values(errors).reduce((n, c) => n + c, 0),
    bundles: sum((r) => r.bundles),
    ackedResultsTotal: sum((r) => r.ackedResultsTotal),
    unresolvedRuns: sum((r) => r.unresolvedRuns),
    dropped: sum((r) => r.dropped),
    connections: sum((r) => r.connections),
    sessionsOffered: sum((r) => r.sessionsOffered),
    sessionsResumed: sum((r) => r.sessionsResumed),
    maxStallMs: window.maxStallMs,
  };
}

/** Runs one workload on every load generator: warm-up, measured window, drain. */
export async function runPhase(loadgens: LoadgenProcess[], plan: PhasePlan): Promise<PhaseFigures> {
  const { workload } = plan;
  await Promise.all(
    loadgens.map((l, i) =>
      l.ask({ type: 'start', workload: typeof workload === 'function' ? workload(i) : workload }, 'started'),
    ),
  );
  if (plan.warmupSeconds > 0) await delay(plan.warmupSeconds * 1000);
  const stall = StallProbe.of(plan.serverPid);
  // A scrape resets the server's stall maximum: the reading after the window covers the window alone.
  await stall?.maxStallMs();
  const cpuBefore = processCpuUs(plan.serverPid);
  const servingBefore = oneProcessCpuUs(plan.serverPid);
  const busyBefore = machineBusyUs();
  const windowStart = performance.now();
  await Promise.all(loadgens.map((l) => l.ask({ type: 'mark' }, 'marked')));
  let finished: Promise<{ report: PhaseReport }[]> | undefined;
  if (plan.seconds === undefined) {
    finished = Promise.all(loadgens.map((l) => l.ask({ type: 'finish' }, 'stopped')));
    await finished;
  } else await delay(plan.seconds * 1000);
  const windowMs = performance.now() - windowStart;
  const window = {
    serverCpuUs: processCpuUs(plan.serverPid) - cpuBefore,
    servingCpuUs: oneProcessCpuUs(plan.serverPid) - servingBefore,
    machineBusyUs: machineBusyUs() - busyBefore,
    ms: windowMs,
    // Read after the CPU times: the scrape's own cost stays out of them.
    maxStallMs: (await stall?.maxStallMs()) ?? Number.NaN,
  };
  const stopped = await (finished ?? Promise.all(loadgens.map((l) => l.ask({ type: 'stop' }, 'stopped'))));
  return combine(
    stopped.map((s) => s.report),
    window,
  );
}
