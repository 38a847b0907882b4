/**
 * Turns a run's figures into the printed table (each figure with its target and PASS/MISS) and the one
 * JSON line the README quotes: the per-envoy section (report-per-envoy.ts) first, then the shared
 * connections, then memory.
 */
import type { BootFigures, PhaseFigures } from './phases.ts';
import { perEnvoyHeader, perEnvoyJson, perEnvoyProblems, perEnvoyRows } from './report-per-envoy.ts';
import type { PerEnvoyRun } from './report-per-envoy.ts';
import { cores, fixed, latency, mib, phaseProblems, round, row } from './report-rows.ts';
import type { Row } from './report-rows.ts';

/** FleetIndex memory per envoy with every key parsed (bench/checkin/index-memory.ts). */
export interface IndexMemory {
  envoys: number;
  /** What V8 accounts for: heap, external and array buffers. */
  heapBytesPerEnvoy: number;
  /** Resident set, including OpenSSL's key structures V8 does not see. */
  rssBytesPerEnvoy: number;
}

export interface RunFigures {
  envoys: number;
  /** Processes terminating agent connections: check-in processes (checkin.workers), or 1 for the server alone. */
  checkinProcesses: number;
  loadAverageAtStart: number[];
  emptyBoot: BootFigures;
  indexMemory: IndexMemory;
  seedKeysMs: number;
  /** Issuing a client certificate per envoy (per-envoy mode). */
  certsMintMs: number | undefined;
  perEnvoy: PerEnvoyRun | undefined;
  shared: SharedRun | undefined;
}

/** The shared-connection phases (shared.ts) and the boot they ran on. */
export interface SharedRun {
  envoys: number;
  loadgens: number;
  connections: number;
  concurrency: number;
  resultsPerRun: number;
  cadenceIntervalSeconds: number;
  boot: BootFigures;
  /** Server RSS once every envoy has checked in (every key parsed). */
  rssAllSeenBytes: number;
  firstCheckins: PhaseFigures;
  saturation: PhaseFigures;
  cadence: PhaseFigures;
  echo: PhaseFigures;
  echoResponseBytes: number;
  results: PhaseFigures;
  storedResults: number;
  serverExitCode: number | null;
}

const targetEnvoys = 100_000;

function derived(
  run: SharedRun,
  emptyBoot: BootFigures,
): {
  ratio: number;
  rssBytesPerEnvoy: number;
  rssBytesPerEnvoyAllSeen: number;
  cadenceTarget: number;
} {
  return {
    ratio: run.saturation.callsPerSecond / run.echo.callsPerSecond,
    rssBytesPerEnvoy: (run.boot.rssBytes - emptyBoot.rssBytes) / run.envoys,
    rssBytesPerEnvoyAllSeen: (run.rssAllSeenBytes - emptyBoot.rssBytes) / run.envoys,
    cadenceTarget: run.envoys / run.cadenceIntervalSeconds,
  };
}

function checkinRows(run: SharedRun, emptyBoot: BootFigures): Row[] {
  const { saturation: sat, echo, cadence, firstCheckins: first } = run;
  const { ratio, cadenceTarget } = derived(run, emptyBoot);
  const atScale = run.envoys === targetEnvoys ? '' : ' (target is for 100,000 envoys)';
  return [
    row('no-change check-ins/s, saturated', fixed(sat.callsPerSecond)),
    row('echo ceiling calls/s, same load', fixed(echo.callsPerSecond)),
    row('ratio to the echo ceiling', fixed(ratio, 2), '>= 0.6', ratio >= 0.6),
    row(
      'server CPU µs per no-change check-in (saturated)',
      fixed(sat.serverCpuUsPerCall),
      '<= 150',
      sat.serverCpuUsPerCall <= 150,
    ),
    row('  of which the serving process (the single-threaded part)', fixed(sat.servingCpuUsPerCall)),
    row(
      '  check-ins/s it allows with a core for each check-in process',
      fixed(1e6 / sat.servingCpuUsPerCall),
    ),
    row('echo server CPU µs per call', fixed(echo.serverCpuUsPerCall)),
    row('latency p50 / p99, saturated', latency(sat)),
    row(
      `cadence check-ins/s (every envoy each ${run.cadenceIntervalSeconds} s)`,
      `${fixed(cadence.callsPerSecond)} of ${fixed(cadenceTarget)}`,
    ),
    row(
      'cadence latency p50 / p99',
      latency(cadence),
      `p99 <= 50 ms${atScale}`,
      cadence.p99Ms <= 50 && cadence.errorCount === 0 && cadence.dropped === 0,
    ),
    row('server CPU µs per check-in at cadence', fixed(cadence.serverCpuUsPerCall)),
    row(
      'longest event-loop stall of the serving process, cadence / saturated',
      `${fixed(cadence.maxStallMs, 1)} / ${fixed(sat.maxStallMs, 1)} ms`,
    ),
    row(
      'boot: FleetIndex rebuilt (server log)',
      `${fixed(run.boot.indexMs)} ms for ${fixed(run.boot.indexEnvoys)}`,
      `< 3000 ms${atScale}`,
      run.boot.indexMs < 3000,
    ),
    row('boot: spawn to ready', `${fixed(run.boot.readyMs)} ms`),
    row(
      'first check-in of every envoy after boot',
      `${fixed(first.callsPerSecond)}/s, ${fixed(first.measuredSeconds, 1)} s`,
    ),
    row('server CPU µs per first check-in (key parsed)', fixed(first.serverCpuUsPerCall)),
  ];
}

function memoryRows(run: RunFigures): Row[] {
  const { rssBytesPerEnvoy: indexRss, heapBytesPerEnvoy: indexHeap } = run.indexMemory;
  return [
    row('bytes per envoy in the FleetIndex, keys parsed (RSS)', fixed(indexRss), '<= 3072', indexRss <= 3072),
    row('  of which V8 heap + external', fixed(indexHeap)),
  ];
}

function resultsRows(run: SharedRun, emptyBoot: BootFigures): Row[] {
  const { results } = run;
  const d = derived(run, emptyBoot);
  return [
    row('bytes per envoy, server RSS at boot - RSS empty', fixed(d.rssBytesPerEnvoy)),
    row('bytes per envoy, RSS all seen - RSS empty', fixed(d.rssBytesPerEnvoyAllSeen)),
    row(
      'server RSS: empty / booted / every envoy seen',
      `${mib(emptyBoot.rssBytes)} / ${mib(run.boot.rssBytes)} / ${mib(run.rssAllSeenBytes)}`,
    ),
    row(
      `results ingest, durable results/s (runs of ${run.resultsPerRun})`,
      fixed(results.itemsPerSecond),
      '>= 5000',
      results.itemsPerSecond >= 5000,
    ),
    row(
      'results acknowledged = rows in run_results',
      `${fixed(results.ackedResultsTotal)} = ${fixed(run.storedResults)}`,
      'equal',
      results.ackedResultsTotal === run.storedResults && results.unresolvedRuns === 0,
    ),
    row('results latency p50 / p99', latency(results)),
  ];
}

function sharedProblems(run: SharedRun): string[] {
  const phases = {
    'first check-ins': run.firstCheckins,
    cadence: run.cadence,
    saturation: run.saturation,
    echo: run.echo,
    results: run.results,
  };
  const lines = Object.entries(phases).flatMap(([name, phase]) => phaseProblems(`shared ${name}`, phase));
  if (run.echo.loadgenCores > 0.9) {
    lines.push(
      'echo: the ceiling was set by the load generators, not the echo server: the ratio is an upper bound ' +
        '(more --loadgens raise the ceiling but share the 2 cores with the server)',
    );
  }
  if (run.serverExitCode !== 0)
    lines.push(`vigosrv exited with ${run.serverExitCode} on SIGTERM (expected 0)`);
  return lines;
}

function formatTable(table: (Row | string)[]): string[] {
  const rows = table.filter((r): r is Row => typeof r !== 'string');
  const width = Math.max(...rows.map((r) => r.figure.length));
  const valueWidth = Math.max(...rows.map((r) => r.value.length));
  const targetWidth = Math.max(...rows.map((r) => r.target.length)) + 2;
  return table.map((r) => {
    if (typeof r === 'string') return r;
    const status = r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS';
    return `${r.figure.padEnd(width)}  ${r.value.padStart(valueWidth)}  ${r.target.padEnd(targetWidth)}${status}`.trimEnd();
  });
}

function sharedHeader(run: SharedRun): string[] {
  return [
    `shared connections: ${run.loadgens} load generator(s) × ${run.connections} mTLS connections × ` +
      `${run.concurrency} in flight speak for all envoys; echo reply ${run.echoResponseBytes} bytes; share of a core:`,
    `  first check-ins: ${cores(run.firstCheckins)}`,
    `  cadence:         ${cores(run.cadence)}`,
    `  saturation:      ${cores(run.saturation)}`,
    `  echo:            ${cores(run.echo)}`,
    `  results:         ${cores(run.results)}`,
  ];
}

export function formatReport(run: RunFigures): string {
  const { shared, perEnvoy } = run;
  const table: (Row | string)[] = [
    run.checkinProcesses > 1
      ? `vigosrv with checkin.workers = ${run.checkinProcesses}: check-in processes terminate agent connections, the server process answers; CPU and RSS are theirs and the server's together`
      : 'vigosrv with checkin.workers = 1: the server process terminates agent connections itself',
  ];
  if (perEnvoy !== undefined) {
    table.push(
      '',
      '— per-envoy connections (each envoy its own mTLS connection and certificate, as real agents) —',
    );
    table.push(...perEnvoyRows(perEnvoy));
  }
  if (shared !== undefined) {
    table.push(
      '',
      '— shared connections (a few connections speak for every envoy: the protocol cost alone) —',
    );
    table.push(...checkinRows(shared, run.emptyBoot), ...resultsRows(shared, run.emptyBoot));
  }
  table.push('', '— memory —', ...memoryRows(run));
  const notes = [
    ...(perEnvoy === undefined ? [] : perEnvoyProblems(perEnvoy)),
    ...(shared === undefined ? [] : sharedProblems(shared)),
  ];
  const seeding =
    `seeded ${run.envoys.toLocaleString('en-US')} envoys: ed25519 keys ${fixed(run.seedKeysMs / 1000, 1)} s` +
    (run.certsMintMs === undefined
      ? ''
      : `, a client certificate each ${fixed(run.certsMintMs / 1000, 1)} s`);
  return [
    `check-in benchmark: ${run.envoys.toLocaleString('en-US')} envoys; ${seeding}`,
    `load average at start ${run.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`,
    ...(perEnvoy === undefined ? [] : perEnvoyHeader(perEnvoy)),
    ...(shared === undefined ? [] : sharedHeader(shared)),
    'the machine is shared with other work: figures are noisy ("others" is what the rest of the machine used)',
    'bytes per envoy are judged on the FleetIndex alone (fresh process, keys parsed, after GC); the server RSS ' +
      'deltas also hold garbage, caches and buffers',
    ...formatTable(table),
    ...(notes.length > 0 ? ['', 'problems:', ...notes.map((n) => `  ${n}`)] : []),
  ].join('\n');
}

function sharedJson(run: SharedRun, emptyBoot: BootFigures): Record<string, unknown> {
  const d = derived(run, emptyBoot);
  return {
    loadgens: run.loadgens,
    connections: run.connections,
    concurrency: run.concurrency,
    checkinsPerSecond: round(run.saturation.callsPerSecond),
    echoCallsPerSecond: round(run.echo.callsPerSecond),
    ratioToEcho: round(d.ratio, 2),
    serverCpuUsPerCheckin: round(run.saturation.serverCpuUsPerCall),
    servingCpuUsPerCheckin: round(run.saturation.servingCpuUsPerCall),
    saturatedP50Ms: round(run.saturation.p50Ms, 1),
    saturatedP99Ms: round(run.saturation.p99Ms, 1),
    cadencePerSecond: round(run.cadence.callsPerSecond),
    cadenceP50Ms: round(run.cadence.p50Ms, 1),
    cadenceP99Ms: round(run.cadence.p99Ms, 1),
    cadenceServerCpuUsPerCheckin: round(run.cadence.serverCpuUsPerCall),
    cadenceMaxStallMs: round(run.cadence.maxStallMs, 1),
    saturatedMaxStallMs: round(run.saturation.maxStallMs, 1),
    bootIndexMs: run.boot.indexMs,
    bootReadyMs: round(run.boot.readyMs),
    rssBytesPerEnvoy: round(d.rssBytesPerEnvoy),
    serverRssMiB: round(run.boot.rssBytes / 1024 / 1024),
    serverRssAllSeenMiB: round(run.rssAllSeenBytes / 1024 / 1024),
    firstCheckinsPerSecond: round(run.firstCheckins.callsPerSecond),
    firstCheckinServerCpuUs: round(run.firstCheckins.serverCpuUsPerCall),
    resultsPerSecond: round(run.results.itemsPerSecond),
    resultsVerified: run.results.ackedResultsTotal === run.storedResults,
    otherCoresSaturated: round(run.saturation.otherCores, 2),
    otherCoresEcho: round(run.echo.otherCores, 2),
  };
}

export function jsonLine(run: RunFigures): string {
  return JSON.stringify({
    bench: 'checkin',
    envoys: run.envoys,
    loadAverage: run.loadAverageAtStart.map((l) => round(l, 2)),
    indexBytesPerEnvoy: round(run.indexMemory.rssBytesPerEnvoy),
    indexHeapBytesPerEnvoy: round(run.indexMemory.heapBytesPerEnvoy),
    certsMintMs: run.certsMintMs === undefined ? undefined : round(run.certsMintMs),
    perEnvoy: run.perEnvoy === undefined ? undefined : perEnvoyJson(run.perEnvoy),
    shared: run.shared === undefined ? undefined : sharedJson(run.shared, run.emptyBoot),
  });
}
