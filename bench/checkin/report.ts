/**
 * Turns a run's figures into the printed table (each figure with its target and PASS/MISS) and the one
 * JSON line the README quotes.
 */
import type { BootFigures, PhaseFigures } from './phases.ts';

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
  loadgens: number;
  connections: number;
  concurrency: number;
  resultsPerRun: number;
  cadenceIntervalSeconds: number;
  loadAverageAtStart: number[];
  emptyBoot: BootFigures;
  boot: BootFigures;
  indexMemory: IndexMemory;
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

interface Row {
  figure: string;
  value: string;
  target: string;
  pass?: boolean | undefined;
}

const targetEnvoys = 100_000;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const fixed = (value: number, digits = 0): string =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
const latency = (phase: PhaseFigures): string => `${fixed(phase.p50Ms, 1)} / ${fixed(phase.p99Ms, 1)} ms`;
const row = (figure: string, value: string, target = '', pass?: boolean): Row => ({
  figure,
  value,
  target,
  pass,
});

function derived(run: RunFigures): {
  ratio: number;
  rssBytesPerEnvoy: number;
  rssBytesPerEnvoyAllSeen: number;
  cadenceTarget: number;
} {
  return {
    ratio: run.saturation.callsPerSecond / run.echo.callsPerSecond,
    rssBytesPerEnvoy: (run.boot.rssBytes - run.emptyBoot.rssBytes) / run.envoys,
    rssBytesPerEnvoyAllSeen: (run.rssAllSeenBytes - run.emptyBoot.rssBytes) / run.envoys,
    cadenceTarget: run.envoys / run.cadenceIntervalSeconds,
  };
}

function checkinRows(run: RunFigures): Row[] {
  const { saturation: sat, echo, cadence, firstCheckins: first } = run;
  const { ratio, cadenceTarget } = derived(run);
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

function capacityRows(run: RunFigures): Row[] {
  const { results } = run;
  const d = derived(run);
  const { rssBytesPerEnvoy: indexRss, heapBytesPerEnvoy: indexHeap } = run.indexMemory;
  return [
    row('bytes per envoy in the FleetIndex, keys parsed (RSS)', fixed(indexRss), '<= 3072', indexRss <= 3072),
    row('  of which V8 heap + external', fixed(indexHeap)),
    row('bytes per envoy, server RSS at boot - RSS empty', fixed(d.rssBytesPerEnvoy)),
    row('bytes per envoy, RSS all seen - RSS empty', fixed(d.rssBytesPerEnvoyAllSeen)),
    row(
      'server RSS: empty / booted / every envoy seen',
      `${mib(run.emptyBoot.rssBytes)} / ${mib(run.boot.rssBytes)} / ${mib(run.rssAllSeenBytes)}`,
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

function phaseProblems(name: string, phase: PhaseFigures): string[] {
  const lines = Object.entries(phase.errors).map(([key, count]) => `${name}: ${count} × ${key}`);
  if (phase.bundles > 0)
    lines.push(`${name}: ${phase.bundles} check-ins answered with a bundle, not no-change`);
  if (phase.dropped > 0)
    lines.push(`${name}: ${phase.dropped} scheduled check-ins not sent (too many in flight)`);
  if (phase.unresolvedRuns > 0) lines.push(`${name}: ${phase.unresolvedRuns} runs never acknowledged`);
  if (phase.loadgenCores > 0.9) {
    lines.push(
      `${name}: load generators at ${fixed(phase.loadgenCores * 100)}% of a core: the client may be the limit`,
    );
  }
  if (phase.otherCores > 0.25) {
    lines.push(
      `${name}: other processes used ${fixed(phase.otherCores, 2)} cores meanwhile: figures understated`,
    );
  }
  return lines;
}

function problems(run: RunFigures): string[] {
  const phases = {
    'first check-ins': run.firstCheckins,
    cadence: run.cadence,
    saturation: run.saturation,
    echo: run.echo,
    results: run.results,
  };
  const lines = Object.entries(phases).flatMap(([name, phase]) => phaseProblems(name, phase));
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

function cores(phase: PhaseFigures): string {
  return (
    `server ${fixed(phase.serverCores * 100)}%, load generators ${fixed(phase.loadgenCores * 100)}% each, ` +
    `others ${fixed(phase.otherCores * 100)}%`
  );
}

export function formatReport(run: RunFigures): string {
  const table = [...checkinRows(run), ...capacityRows(run)];
  const width = Math.max(...table.map((r) => r.figure.length));
  const valueWidth = Math.max(...table.map((r) => r.value.length));
  const targetWidth = Math.max(...table.map((r) => r.target.length)) + 2;
  const lines = table.map((r) => {
    const status = r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS';
    return `${r.figure.padEnd(width)}  ${r.value.padStart(valueWidth)}  ${r.target.padEnd(targetWidth)}${status}`;
  });
  const notes = problems(run);
  return [
    `check-in benchmark: ${run.envoys.toLocaleString('en-US')} envoys, ${run.loadgens} load generator(s) × ` +
      `${run.connections} mTLS connections × ${run.concurrency} in flight; echo reply ${run.echoResponseBytes} bytes`,
    `load average at start ${run.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}; share of a core:`,
    `  first check-ins: ${cores(run.firstCheckins)}`,
    `  cadence:         ${cores(run.cadence)}`,
    `  saturation:      ${cores(run.saturation)}`,
    `  echo:            ${cores(run.echo)}`,
    `  results:         ${cores(run.results)}`,
    'the machine is shared with other work: figures are noisy ("others" is what the rest of the machine used)',
    'bytes per envoy are judged on the FleetIndex alone (fresh process, keys parsed, after GC); the server RSS ' +
      'deltas also hold garbage, caches and buffers',
    '',
    ...lines,
    ...(notes.length > 0 ? ['', 'problems:', ...notes.map((n) => `  ${n}`)] : []),
  ].join('\n');
}

export function jsonLine(run: RunFigures): string {
  const d = derived(run);
  const round = (n: number, digits = 0): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : -1);
  return JSON.stringify({
    bench: 'checkin',
    envoys: run.envoys,
    loadgens: run.loadgens,
    connections: run.connections,
    concurrency: run.concurrency,
    checkinsPerSecond: round(run.saturation.callsPerSecond),
    echoCallsPerSecond: round(run.echo.callsPerSecond),
    ratioToEcho: round(d.ratio, 2),
    serverCpuUsPerCheckin: round(run.saturation.serverCpuUsPerCall),
    saturatedP50Ms: round(run.saturation.p50Ms, 1),
    saturatedP99Ms: round(run.saturation.p99Ms, 1),
    cadencePerSecond: round(run.cadence.callsPerSecond),
    cadenceP50Ms: round(run.cadence.p50Ms, 1),
    cadenceP99Ms: round(run.cadence.p99Ms, 1),
    cadenceServerCpuUsPerCheckin: round(run.cadence.serverCpuUsPerCall),
    bootIndexMs: run.boot.indexMs,
    bootReadyMs: round(run.boot.readyMs),
    indexBytesPerEnvoy: round(run.indexMemory.rssBytesPerEnvoy),
    indexHeapBytesPerEnvoy: round(run.indexMemory.heapBytesPerEnvoy),
    rssBytesPerEnvoy: round(d.rssBytesPerEnvoy),
    serverRssMiB: round(run.boot.rssBytes / 1024 / 1024),
    serverRssAllSeenMiB: round(run.rssAllSeenBytes / 1024 / 1024),
    firstCheckinsPerSecond: round(run.firstCheckins.callsPerSecond),
    firstCheckinServerCpuUs: round(run.firstCheckins.serverCpuUsPerCall),
    resultsPerSecond: round(run.results.itemsPerSecond),
    resultsVerified: run.results.ackedResultsTotal === run.storedResults,
    loadAverage: run.loadAverageAtStart.map((l) => round(l, 2)),
    otherCoresSaturated: round(run.saturation.otherCores, 2),
    otherCoresEcho: round(run.echo.otherCores, 2),
  });
}
