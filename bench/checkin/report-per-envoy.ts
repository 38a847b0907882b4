/**
 * The per-envoy section of the bench:checkin report: rows, what limited each figure, problems, and the
 * JSON fields. Fleet sizes come from the searches in per-envoy.ts: a poll fleet at cadence T is the
 * highest sustained poll rate × T; a held fleet is the most held connections that sustained check-ins
 * at T.
 */
import type { CadenceStep, PerEnvoyFigures } from './per-envoy.ts';
import type { BootFigures, PhaseFigures } from './phases.ts';
import { cores, fixed, latency, phaseProblems, round, row } from './report-rows.ts';
import type { Row } from './report-rows.ts';

export interface PerEnvoyRun extends PerEnvoyFigures {
  envoys: number;
  boot: BootFigures;
  emptyBootRssBytes: number;
  cadenceIntervalsSeconds: number[];
  p99TargetMs: number;
  serverExitCode: number | null;
}

/** The largest fleet a search sustained at `intervalSeconds`, and how sure that is. */
interface Fleet {
  intervalSeconds: number;
  /** Largest passing fleet, 0 when none passed. */
  envoys: number;
  /** The step that passed (its latency), if any. */
  passed: CadenceStep | undefined;
  /** The smallest failing step above it, if any: what stopped the fleet growing. */
  failed: CadenceStep | undefined;
  /** The passing fleet was as large as the search could go (seeded envoys, descriptors). */
  capped: boolean;
  /** This cadence's fleet per fleet of the searched cadence (a poll fleet is a rate × the cadence). */
  scale: number;
}

const pct = (share: number): string => `${fixed(share * 100)}%`;

function fleetOf(
  steps: CadenceStep[],
  stepIntervalSeconds: number,
  intervalSeconds: number,
  cap: number,
): Fleet {
  const scale = intervalSeconds / stepIntervalSeconds;
  const passes = steps.filter((s) => s.pass);
  const passed = passes.reduce<CadenceStep | undefined>(
    (a, s) => (a && a.envoys >= s.envoys ? a : s),
    undefined,
  );
  const above = steps.filter((s) => !s.pass && s.envoys > (passed?.envoys ?? 0));
  const failed = above.reduce<CadenceStep | undefined>(
    (a, s) => (a && a.envoys <= s.envoys ? a : s),
    undefined,
  );
  const envoys = Math.round((passed?.envoys ?? 0) * scale);
  return {
    intervalSeconds,
    envoys,
    passed,
    failed,
    capped: passed !== undefined && passed.envoys >= cap,
    scale,
  };
}

function pollFleets(run: PerEnvoyRun): Fleet[] {
  const searched = run.pollSearch[0]?.intervalSeconds ?? 60;
  return run.cadenceIntervalsSeconds.map((t) => fleetOf(run.pollSearch, searched, t, run.envoys));
}

function heldFleets(run: PerEnvoyRun): Fleet[] {
  return run.held.searches.map((s) =>
    fleetOf(s.steps, s.intervalSeconds, s.intervalSeconds, run.held.requested),
  );
}

/** What held a phase's throughput back, judged from the cores each process used. */
export function limitOf(f: PhaseFigures, loadgens: number): string {
  const loadgenTotal = f.loadgenCores * loadgens;
  const use = `server ${pct(f.serverCores)}, load generators ${pct(loadgenTotal)}, others ${pct(f.otherCores)}`;
  if (f.serverCores >= 0.9) return `server CPU: one event loop at ${pct(f.serverCores)} of a core (${use})`;
  if (f.serverCores + loadgenTotal + f.otherCores >= 1.8) return `both cores busy (${use})`;
  if (f.loadgenCores >= 0.9) return `load generator CPU (${use})`;
  return `not CPU (${use}): latency`;
}

function fleetValue(fleet: Fleet, unit: string): string {
  if (fleet.passed === undefined) {
    return `none passed (tried ${fixed((fleet.failed?.envoys ?? 0) * fleet.scale)} ${unit})`;
  }
  const size = `${fleet.capped ? '>= ' : ''}${fixed(fleet.envoys)}`;
  const { p99Ms, maxStallMs } = fleet.passed.figures;
  return `${size}, p99 ${fixed(p99Ms, 1)} ms, longest stall ${fixed(maxStallMs, 1)} ms`;
}

function fleetLimit(kind: string, fleet: Fleet, run: PerEnvoyRun, cap: string): string {
  const name = `${kind} fleet every ${fleet.intervalSeconds} s`;
  if (fleet.capped) return `${name}: ${cap} (no larger fleet was tried)`;
  const failed = fleet.failed;
  if (failed === undefined) return `${name}: the search ran out of steps`;
  const rate = `${fixed(failed.envoys / failed.intervalSeconds)} polls/s`;
  const size = `${fixed(failed.envoys * fleet.scale)}${kind === 'poll' ? ` (${rate})` : ''}`;
  const stall = `longest serving stall ${fixed(failed.figures.maxStallMs, 1)} ms`;
  return `${name}: ${size} missed (${failed.why}); ${limitOf(failed.figures, run.loadgens)}; ${stall}`;
}

function resumedValue(f: PhaseFigures): string {
  if (f.connections === 0) return 'n/a';
  const text = `${fixed(f.sessionsResumed)} of ${fixed(f.connections)}`;
  if (f.sessionsOffered === 0) return `${text} (no session to offer)`;
  if (f.sessionsResumed === 0) return `${text}: the server resumed none`;
  return text;
}

/** The first poll of every envoy, or of as many as polled in the time allowed (--first-poll-seconds). */
function firstPollRows(run: PerEnvoyRun): Row[] {
  const first = run.firstPolls;
  const polled = first.calls;
  const all = polled >= run.envoys;
  const perEnrolled = (run.rssAfterFirstPollsBytes - run.emptyBootRssBytes) / run.envoys;
  const perPolled = (run.rssAfterFirstPollsBytes - run.boot.rssBytes) / Math.max(1, polled);
  return [
    all
      ? row(
          `first poll of every envoy after boot (${fixed(run.envoys)})`,
          `${fixed(first.callsPerSecond)}/s, ${fixed(first.measuredSeconds, 1)} s`,
        )
      : row(
          `first polls after boot, time-bounded (${fixed(polled)} of ${fixed(run.envoys)})`,
          `${fixed(first.callsPerSecond)}/s, ${fixed(first.measuredSeconds, 1)} s; all: ~${fixed(run.envoys / first.callsPerSecond)} s`,
        ),
    row('server CPU µs per first poll (handshake, key parsed)', fixed(first.serverCpuUsPerCall)),
    row(
      `server RSS per enrolled envoy, polling (${all ? 'all' : fixed(polled)} polled; - RSS empty)`,
      fixed(perEnrolled),
    ),
    row('  of which each polled envoy added (- RSS at boot)', fixed(perPolled)),
  ];
}

export function perEnvoyRows(run: PerEnvoyRun): Row[] {
  const { pollFull: full, pollResumed: resumed, echoFull: echo, held } = run;
  const ratio = full.callsPerSecond / echo.callsPerSecond;
  const heldCount = Math.max(1, held.held);
  const rows: Row[] = [
    row('poll, full handshake: check-ins/s, saturated', fixed(full.callsPerSecond)),
    row('poll, full handshake: server CPU µs per check-in, all-in', fixed(full.serverCpuUsPerCall)),
    row('poll, full handshake: latency p50 / p99 (connect included)', latency(full)),
    row('poll, resumed: connections resumed', resumedValue(resumed)),
    row('poll, resumed: check-ins/s, saturated', fixed(resumed.callsPerSecond)),
    row('poll, resumed: server CPU µs per check-in, all-in', fixed(resumed.serverCpuUsPerCall)),
    row('poll, resumed: latency p50 / p99 (connect included)', latency(resumed)),
    row('echo ceiling, poll full handshake: calls/s', fixed(echo.callsPerSecond)),
    row('echo server CPU µs per call, full handshake', fixed(echo.serverCpuUsPerCall)),
    row('ratio to the echo ceiling (calls/s)', fixed(ratio, 2), '>= 0.6', ratio >= 0.6),
    row(
      '  by server CPU per call (echo / vigosrv)',
      fixed(echo.serverCpuUsPerCall / full.serverCpuUsPerCall, 2),
    ),
    ...firstPollRows(run),
    row(
      'held connections (server descriptors opened; its limit)',
      `${fixed(held.held)} of ${fixed(held.requested)} (${fixed(held.serverDescriptors)}; ${fixed(held.serverFdLimit)})`,
    ),
    row('held: all opened in', `${fixed(held.openSeconds, 1)} s`),
    row(
      'held: server RSS per connection, idle',
      fixed((held.rssOpenBytes - held.rssBeforeBytes) / heldCount),
    ),
    row(
      'held: server RSS per connection after one check-in each',
      fixed((held.rssAfterCheckinsBytes - held.rssBeforeBytes) / heldCount),
    ),
    row(
      'held: server CPU µs per check-in on its own connection',
      fixed(held.heldCheckins.serverCpuUsPerCall),
    ),
  ];
  for (const fleet of pollFleets(run)) {
    rows.push(
      row(
        `largest poll fleet, every ${fleet.intervalSeconds} s (resuming)`,
        fleetValue(fleet, 'envoys'),
        `p99 <= ${run.p99TargetMs} ms`,
      ),
    );
  }
  for (const fleet of heldFleets(run)) {
    rows.push(
      row(
        `largest held fleet, every ${fleet.intervalSeconds} s`,
        fleetValue(fleet, 'envoys'),
        `p99 <= ${run.p99TargetMs} ms`,
      ),
    );
    if (fleet.passed !== undefined) {
      rows.push(
        row(
          `  server CPU µs per held check-in at that cadence`,
          fixed(fleet.passed.figures.serverCpuUsPerCall),
        ),
      );
    }
  }
  return rows;
}

export function perEnvoyHeader(run: PerEnvoyRun): string[] {
  const steps = [...run.pollSearch, ...run.held.searches.flatMap((s) => s.steps)];
  return [
    `per-envoy connections: ${run.loadgens} load generator(s); closed-loop polls keep ${run.pollConcurrency} ` +
      `connections opening per load generator over ${run.pollEnvoys} envoys each; share of a core:`,
    `  first polls:    ${cores(run.firstPolls)}`,
    `  poll full:      ${cores(run.pollFull)}`,
    `  poll resumed:   ${cores(run.pollResumed)}`,
    `  echo full:      ${cores(run.echoFull)}`,
    `  held check-ins: ${cores(run.held.heldCheckins)}`,
    ...steps.map(
      (s) =>
        `  ${s.intervalSeconds} s cadence, ${fixed(s.envoys)} envoys (${s.pass ? 'pass' : 'miss'}): ${cores(s.figures)}`,
    ),
    'poll fleets: the searched rate of polls (envoys offering fresh session tickets) × the cadence; the server ' +
      'keeps nothing per envoy between polls but its index entry, and every seeded envoy is in the index',
    'what limited each figure:',
    `  poll, full handshake: ${limitOf(run.pollFull, run.loadgens)}`,
    `  poll, resumed: ${limitOf(run.pollResumed, run.loadgens)}`,
    `  echo: ${limitOf(run.echoFull, run.loadgens)}`,
    `  first polls: ${limitOf(run.firstPolls, run.loadgens)}`,
    ...pollFleets(run).map((f) => `  ${fleetLimit('poll', f, run, 'every seeded envoy')}`),
    ...heldFleets(run).map(
      (f) =>
        `  ${fleetLimit('held', f, run, `descriptors: the server may open ${fixed(run.held.serverFdLimit)} files, ${fixed(run.held.requested)} held connections asked for`)}`,
    ),
  ];
}

export function perEnvoyProblems(run: PerEnvoyRun): string[] {
  const phases: Record<string, PhaseFigures> = {
    'first polls': run.firstPolls,
    'poll full': run.pollFull,
    'poll resumed': run.pollResumed,
    'echo full': run.echoFull,
    'held check-ins': run.held.heldCheckins,
  };
  const lines = Object.entries(phases).flatMap(([name, phase]) => phaseProblems(`per-envoy ${name}`, phase));
  if (
    run.pollResumed.sessionsOffered > 0 &&
    run.pollResumed.sessionsResumed < run.pollResumed.sessionsOffered
  ) {
    lines.push(
      `per-envoy poll resumed: ${run.pollResumed.sessionsOffered - run.pollResumed.sessionsResumed} of ` +
        `${run.pollResumed.sessionsOffered} offered sessions were not resumed (full handshake instead)`,
    );
  }
  if (run.held.failed > 0) {
    const why = Object.entries(run.held.errors).map(([k, c]) => `${c} × ${k}`);
    lines.push(`per-envoy held: ${run.held.failed} connections failed to open: ${why.join('; ')}`);
  }
  if (run.serverExitCode !== 0)
    lines.push(`vigosrv (per-envoy boot) exited with ${run.serverExitCode} on SIGTERM (expected 0)`);
  return lines;
}

function phaseJson(f: PhaseFigures): Record<string, number> {
  return {
    perSecond: round(f.callsPerSecond),
    serverCpuUs: round(f.serverCpuUsPerCall),
    p50Ms: round(f.p50Ms, 1),
    p99Ms: round(f.p99Ms, 1),
    maxStallMs: round(f.maxStallMs, 1),
    serverCores: round(f.serverCores, 2),
    loadgenCores: round(f.loadgenCores, 2),
    otherCores: round(f.otherCores, 2),
  };
}

export function perEnvoyJson(run: PerEnvoyRun): Record<string, unknown> {
  const heldCount = Math.max(1, run.held.held);
  const fleets = (list: Fleet[]) =>
    Object.fromEntries(
      list.map((f) => [`every${f.intervalSeconds}s`, { envoys: f.envoys, capped: f.capped }]),
    );
  return {
    loadgens: run.loadgens,
    pollFull: phaseJson(run.pollFull),
    pollResumed: {
      ...phaseJson(run.pollResumed),
      connections: run.pollResumed.connections,
      resumed: run.pollResumed.sessionsResumed,
    },
    echoFull: phaseJson(run.echoFull),
    ratioToEcho: round(run.pollFull.callsPerSecond / run.echoFull.callsPerSecond, 2),
    firstPolls: { ...phaseJson(run.firstPolls), seconds: round(run.firstPolls.measuredSeconds, 1) },
    firstPolled: run.firstPolls.calls,
    rssBytesPerEnrolledEnvoyPolling: round(
      (run.rssAfterFirstPollsBytes - run.emptyBootRssBytes) / run.envoys,
    ),
    rssBytesPerPolledEnvoy: round(
      (run.rssAfterFirstPollsBytes - run.boot.rssBytes) / Math.max(1, run.firstPolls.calls),
    ),
    held: {
      connections: run.held.held,
      serverDescriptors: run.held.serverDescriptors,
      requested: run.held.requested,
      serverFdLimit: run.held.serverFdLimit,
      rssBytesPerIdleConnection: round((run.held.rssOpenBytes - run.held.rssBeforeBytes) / heldCount),
      rssBytesPerConnectionAfterCheckin: round(
        (run.held.rssAfterCheckinsBytes - run.held.rssBeforeBytes) / heldCount,
      ),
      checkinServerCpuUs: round(run.held.heldCheckins.serverCpuUsPerCall),
    },
    pollFleets: fleets(pollFleets(run)),
    heldFleets: fleets(heldFleets(run)),
  };
}
