/**
 * The per-envoy phases of bench:checkin: every simulated envoy connects with its own client certificate,
 * as real agents do, so the server pays a TLS handshake per connection and holds a connection per held
 * agent. Phases, in order:
 *
 * - first polls: every seeded envoy connects (full TLS 1.3 mTLS handshake), checks in once and closes,
 *   as a polling fleet does after a server restart (new ticket keys: no session resumes); then the
 *   server's RSS per enrolled envoy. --first-poll-seconds bounds it on a machine too busy for 100,000.
 * - poll, full handshake / poll, resumed: closed loops of connect + check-in + close, without and with
 *   the TLS session the envoy's previous connection got; server CPU per check-in all-in.
 * - echo: the same full-handshake polls against a bare grpc-js mTLS server (the ceiling).
 * - poll cadence search: the highest poll rate (resuming, as agents do) with p99 <= 50 ms, as fleets at
 *   the 60 s and 15 s cadences.
 * - held: as many envoys as the server's descriptors allow each open their own connection and keep it;
 *   RSS per held connection, then check-ins on those connections at each cadence, stepping the fleet
 *   down until p99 <= 50 ms holds.
 */
import { readFileSync } from 'node:fs';
import { parseOpenFileLimits } from '../../server/net/index.ts';
import { startEchoServer } from './children.ts';
import type { LoadgenProcess } from './children.ts';
import type { PhaseFigures } from './phases.ts';
import { runPhase } from './phases.ts';
import { openDescriptors, processRssBytes, waitForDescriptors } from './proc-stats.ts';

export interface PerEnvoyOptions {
  envoys: number;
  /** Connections being opened at once per load generator in the closed-loop poll phases. */
  pollConcurrency: number;
  /** Envoys per load generator the closed-loop poll phases and the poll cadence take in turn. */
  pollEnvoys: number;
  warmupSeconds: number;
  seconds: number;
  /** Measured seconds of each cadence step of the fleet searches. */
  stepSeconds: number;
  /** The first polls stop after this long even if not every envoy has polled; undefined = all poll. */
  firstPollSeconds: number | undefined;
  /** Held connections asked for; the server's descriptor limit may lower it. */
  held: number;
  /** Most cadence steps per fleet search. */
  searchSteps: number;
  cadenceIntervalsSeconds: number[];
  p99TargetMs: number;
  tlsDir: string;
}

/** One cadence step of a fleet search. */
export interface CadenceStep {
  envoys: number;
  intervalSeconds: number;
  figures: PhaseFigures;
  pass: boolean;
  /** Why it failed (empty when it passed). */
  why: string;
}

export interface HeldFigures {
  /** Held connections asked for, and the ceiling the server's descriptor limit sets. */
  requested: number;
  serverFdLimit: number;
  held: number;
  /** Descriptors the server opened meanwhile: its side of the held connections. */
  serverDescriptors: number;
  failed: number;
  errors: Record<string, number>;
  openSeconds: number;
  rssBeforeBytes: number;
  /** Right after the connections opened, before any call on them. */
  rssOpenBytes: number;
  /** After one check-in on every held connection: idle between check-ins, as a held agent is. */
  rssAfterCheckinsBytes: number;
  /** That one check-in per held connection, closed loop. */
  heldCheckins: PhaseFigures;
  searches: { intervalSeconds: number; steps: CadenceStep[] }[];
}

export interface PerEnvoyFigures {
  loadgens: number;
  pollConcurrency: number;
  pollEnvoys: number;
  firstPolls: PhaseFigures;
  /** Server RSS once every envoy (`firstPolls.calls` of them when time-bounded) has polled once and every connection is closed. */
  rssAfterFirstPollsBytes: number;
  pollFull: PhaseFigures;
  pollResumed: PhaseFigures;
  echoFull: PhaseFigures;
  /** The poll rate search, at the interval it ran; fleets at other cadences are rate × interval. */
  pollSearch: CadenceStep[];
  held: HeldFigures;
}

const descriptorHeadroom = 1000;
/** Descriptors a server at rest may open or close by itself (log rotation, SQLite journal files). */
const descriptorSlack = 8;
// The server lets one address hold at most 256 connections in their TLS handshake: stay below it.
const handshakesInFlight = 200;
const heldConnectConcurrency = 32;
const heldMaxInFlight = 5000;
/** Each open-loop step reaches at least this share of its schedule, or it did not sustain the rate. */
const rateShareSustained = 0.95;

function say(text: string): void {
  process.stderr.write(`[bench:checkin] ${text}\n`);
}

export function line(name: string, f: PhaseFigures): string {
  const resumed =
    f.connections === 0
      ? ''
      : `, ${f.sessionsResumed} of ${f.connections} connections resumed (${f.sessionsOffered} offered a session)`;
  return (
    `${name}: ${Math.round(f.callsPerSecond)} calls/s, ${Math.round(f.serverCpuUsPerCall)} µs server CPU/call, ` +
    `p99 ${f.p99Ms.toFixed(1)} ms, ${f.errorCount} errors${resumed}; server ${Math.round(f.serverCores * 100)}%, ` +
    `load generators ${Math.round(f.loadgenCores * 100)}% each, others ${Math.round(f.otherCores * 100)}%`
  );
}

function judge(figures: PhaseFigures, ratePerSecond: number, p99TargetMs: number): string {
  const problems: string[] = [];
  if (figures.p99Ms > p99TargetMs) problems.push(`p99 ${figures.p99Ms.toFixed(1)} ms`);
  if (figures.errorCount > 0) problems.push(`${figures.errorCount} errors`);
  if (figures.dropped > 0) problems.push(`${figures.dropped} not started (too many in flight)`);
  if (figures.callsPerSecond < ratePerSecond * rateShareSustained) {
    problems.push(`${Math.round(figures.callsPerSecond)} of ${Math.round(ratePerSecond)} calls/s`);
  }
  return problems.join(', ');
}

/** Splits `total` envoys over the load generators as evenly as whole envoys allow. */
function shares(total: number, loadgens: number): number[] {
  const base = Math.floor(total / loadgens);
  return Array.from({ length: loadgens }, (_, i) => base + (i < total - base * loadgens ? 1 : 0));
}

/**
 * Steps a fleet size until the largest passing one is bracketed: up by 1.25× from a pass (until `cap`),
 * down by 0.7× from a fail. `step` runs one size and says whether it passed.
 */
async function search(
  start: number,
  cap: number,
  maxSteps: number,
  step: (envoys: number) => Promise<CadenceStep>,
): Promise<CadenceStep[]> {
  const steps: CadenceStep[] = [];
  let envoys = Math.max(1, Math.min(start, cap));
  for (let i = 0; i < maxSteps; i++) {
    const result = await step(envoys);
    steps.push(result);
    const passed = steps.filter((s) => s.pass).map((s) => s.envoys);
    const failed = steps.filter((s) => !s.pass).map((s) => s.envoys);
    const best = Math.max(0, ...passed);
    const worst = Math.min(Number.POSITIVE_INFINITY, ...failed);
    if (result.pass && envoys >= cap) break;
    const next = result.pass ? Math.min(cap, Math.round(envoys * 1.25)) : Math.round(envoys * 0.7);
    // Stop once the bracket is within a quarter of itself: finer than a shared machine's noise.
    if (next <= best || next >= worst || (worst - best) / worst < 0.25) break;
    envoys = next;
  }
  return steps;
}

export function serverFdLimit(pid: number): number {
  const limits = parseOpenFileLimits(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return limits?.soft ?? Number.POSITIVE_INFINITY;
}

async function pollPhases(loadgens: LoadgenProcess[], options: PerEnvoyOptions, serverPid: number) {
  const { pollConcurrency: concurrency, warmupSeconds, seconds } = options;
  const bound = options.firstPollSeconds === undefined ? '' : ` (at most ${options.firstPollSeconds} s)`;
  say(
    `first poll of each of the ${options.envoys} envoys${bound}: own connection, full handshake, ` +
      `${concurrency} connecting per load generator`,
  );
  const descriptorsBefore = openDescriptors(serverPid);
  const firstPolls = await runPhase(loadgens, {
    workload: {
      kind: 'poll',
      target: 'vigosrv',
      concurrency,
      resume: false,
      once: true,
      maxSeconds: options.firstPollSeconds,
    },
    serverPid,
    warmupSeconds: 0,
    seconds: undefined,
  });
  // The memory of a polling fleet is measured with every connection closed on the server's side too.
  await waitForDescriptors(serverPid, (open) => open <= descriptorsBefore + descriptorSlack);
  const rssAfterFirstPollsBytes = processRssBytes(serverPid);
  say(line('first polls', firstPolls));
  const closedLoop = { serverPid, warmupSeconds, seconds };
  const envoys = options.pollEnvoys;
  const pollFull = await runPhase(loadgens, {
    workload: { kind: 'poll', target: 'vigosrv', concurrency, resume: false, envoys },
    ...closedLoop,
  });
  say(line('poll, full handshake', pollFull));
  const pollResumed = await runPhase(loadgens, {
    workload: { kind: 'poll', target: 'vigosrv', concurrency, resume: true, envoys },
    ...closedLoop,
  });
  say(line('poll, resumed', pollResumed));
  return { firstPolls, rssAfterFirstPollsBytes, pollFull, pollResumed };
}

async function echoPhase(
  loadgens: LoadgenProcess[],
  options: PerEnvoyOptions,
  noChangeReply: Uint8Array,
): Promise<PhaseFigures> {
  const echo = await startEchoServer(options.tlsDir, noChangeReply);
  try {
    await Promise.all(
      loadgens.map((l) => l.ask({ type: 'connect', target: 'echo', port: echo.port }, 'connected')),
    );
    const figures = await runPhase(loadgens, {
      workload: {
        kind: 'poll',
        target: 'echo',
        concurrency: options.pollConcurrency,
        resume: false,
        envoys: options.pollEnvoys,
      },
      serverPid: echo.pid,
      warmupSeconds: options.warmupSeconds,
      seconds: options.seconds,
    });
    say(line('echo, poll full handshake', figures));
    return figures;
  } finally {
    await echo.stop();
  }
}

/** The highest poll rate the server sustains, as a fleet polling every `intervalSeconds`. */
async function pollSearch(
  loadgens: LoadgenProcess[],
  options: PerEnvoyOptions,
  serverPid: number,
  closedLoopRate: number,
): Promise<CadenceStep[]> {
  const intervalSeconds = Math.max(...options.cadenceIntervalsSeconds);
  const maxInFlight = Math.floor(handshakesInFlight / loadgens.length);
  const cap = options.envoys;
  return search(
    Math.round(closedLoopRate * 0.8 * intervalSeconds),
    cap,
    options.searchSteps,
    async (envoys) => {
      const rate = envoys / intervalSeconds;
      const figures = await runPhase(loadgens, {
        workload: {
          kind: 'poll-cadence',
          // Which envoy polls does not change the server's work (it keeps nothing per envoy between polls
          // but its index entry): the poll working set takes the fleet's polls in turn, so every envoy
          // offers a session ticket from seconds ago, as a fleet on any cadence shorter than the ticket
          // lifetime does.
          envoys: options.pollEnvoys,
          ratePerSecond: rate / loadgens.length,
          resume: true,
          maxInFlight,
        },
        serverPid,
        warmupSeconds: options.warmupSeconds,
        seconds: options.stepSeconds,
      });
      const why = judge(figures, rate, options.p99TargetMs);
      say(
        `${line(`poll cadence, ${envoys} envoys every ${intervalSeconds} s`, figures)}${why ? ` — MISS: ${why}` : ''}`,
      );
      return { envoys, intervalSeconds, figures, pass: why === '', why };
    },
  );
}

async function heldPhases(
  loadgens: LoadgenProcess[],
  options: PerEnvoyOptions,
  serverPid: number,
): Promise<HeldFigures> {
  const fdLimit = serverFdLimit(serverPid);
  const requested = Math.min(options.held, options.envoys, fdLimit - descriptorHeadroom);
  say(
    `held: ${requested} envoys open their own connection and keep it (server descriptor limit ${fdLimit}: ` +
      `ceiling ${fdLimit - descriptorHeadroom} held connections)`,
  );
  const rssBeforeBytes = processRssBytes(serverPid);
  const descriptorsBefore = openDescriptors(serverPid);
  const openStart = performance.now();
  const perLoadgen = shares(requested, loadgens.length);
  const outcomes = await Promise.all(
    loadgens.map((l, i) =>
      l.ask({ type: 'hold', envoys: perLoadgen[i]!, concurrency: heldConnectConcurrency }, 'holding'),
    ),
  );
  const openSeconds = (performance.now() - openStart) / 1000;
  const held = outcomes.reduce((n, o) => n + o.held, 0);
  const serverDescriptors =
    (await waitForDescriptors(serverPid, (open) => open >= descriptorsBefore + held)) - descriptorsBefore;
  const rssOpenBytes = processRssBytes(serverPid);
  const errors: Record<string, number> = {};
  for (const o of outcomes) for (const [k, c] of Object.entries(o.errors)) errors[k] = (errors[k] ?? 0) + c;
  say(
    `held ${held} of ${requested} in ${openSeconds.toFixed(1)} s; server RSS +${Math.round((rssOpenBytes - rssBeforeBytes) / Math.max(1, held))} bytes each`,
  );
  const heldCheckins = await runPhase(loadgens, {
    workload: { kind: 'held-checkins', concurrency: options.pollConcurrency },
    serverPid,
    warmupSeconds: 0,
    seconds: undefined,
  });
  const rssAfterCheckinsBytes = processRssBytes(serverPid);
  say(line('one check-in on each held connection', heldCheckins));

  const searches: HeldFigures['searches'] = [];
  let fleet = held;
  for (const intervalSeconds of options.cadenceIntervalsSeconds) {
    const steps = await search(fleet, fleet, options.searchSteps, async (envoys) => {
      const keep = shares(envoys, loadgens.length);
      const left = await Promise.all(
        loadgens.map((l, i) => l.ask({ type: 'release', keep: keep[i]! }, 'released')),
      );
      // Closing thousands of connections keeps the server busy for seconds: a step measured meanwhile
      // would charge that to the check-ins of the fleet that stays.
      const stillHeld = left.reduce((n, r) => n + r.held, 0);
      await waitForDescriptors(serverPid, (open) => open <= descriptorsBefore + stillHeld + descriptorSlack);
      const figures = await runPhase(loadgens, {
        workload: { kind: 'held-cadence', intervalSeconds, maxInFlight: heldMaxInFlight },
        serverPid,
        warmupSeconds: options.warmupSeconds,
        seconds: options.stepSeconds,
      });
      const why = judge(figures, envoys / intervalSeconds, options.p99TargetMs);
      say(
        `${line(`held cadence, ${envoys} envoys every ${intervalSeconds} s`, figures)}${why ? ` — MISS: ${why}` : ''}`,
      );
      return { envoys, intervalSeconds, figures, pass: why === '', why };
    });
    searches.push({ intervalSeconds, steps });
    // A shorter cadence is never easier: its search starts from the largest fleet the last one sustained.
    fleet = Math.max(1, ...steps.filter((s) => s.pass).map((s) => s.envoys));
    if (!steps.some((s) => s.pass)) fleet = Math.min(...steps.map((s) => s.envoys));
  }
  await Promise.all(loadgens.map((l) => l.ask({ type: 'release', keep: 0 }, 'released')));
  return {
    requested,
    serverFdLimit: fdLimit,
    held,
    serverDescriptors,
    failed: outcomes.reduce((n, o) => n + o.failed, 0),
    errors,
    openSeconds,
    rssBeforeBytes,
    rssOpenBytes,
    rssAfterCheckinsBytes,
    heldCheckins,
    searches,
  };
}

/** Runs every per-envoy phase with `loadgens` (per-envoy identity, vigosrv port already set). */
export async function drivePerEnvoy(
  loadgens: LoadgenProcess[],
  options: PerEnvoyOptions,
  serverPid: number,
  noChangeReply: Uint8Array,
): Promise<PerEnvoyFigures> {
  const polls = await pollPhases(loadgens, options, serverPid);
  const echoFull = await echoPhase(loadgens, options, noChangeReply);
  const searchSteps = await pollSearch(loadgens, options, serverPid, polls.pollResumed.callsPerSecond);
  const held = await heldPhases(loadgens, options, serverPid);
  return {
    loadgens: loadgens.length,
    pollConcurrency: options.pollConcurrency,
    pollEnvoys: options.pollEnvoys,
    ...polls,
    echoFull,
    pollSearch: searchSteps,
    held,
  };
}
