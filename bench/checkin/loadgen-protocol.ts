/**
 * The messages between the benchmark (parent) and its load generator processes, over Node's IPC channel
 * with the 'advanced' serialization (structured clone).
 */
import type { HistogramData } from './histogram.ts';

export interface LoadgenInit {
  keysFile: string;
  caFile: string;
  /** This generator drives envoys [first, first + count) of the keys file. */
  first: number;
  count: number;
  identity: LoadgenIdentityFiles;
}

export type LoadgenIdentityFiles =
  /** Every envoy is bound to one client certificate: `connections` shared connections per target. */
  | { kind: 'shared'; clientKeyFile: string; clientCertFile: string; connections: number }
  /** Each envoy has its own certificate (envoy-certs.ts) and opens its own connection. */
  | { kind: 'per-envoy'; certsFile: string; keyFile: string };

export type Target = 'vigosrv' | 'echo';

export type Workload =
  /**
   * Closed loop: `concurrency` check-ins in flight at all times, each envoy in turn, all no-change; with
   * `once`, every envoy of the slice checks in exactly once and the phase then ends by itself.
   */
  | { kind: 'checkins'; target: Target; concurrency: number; once?: boolean }
  /**
   * Open loop: each envoy of the slice checks in once per `intervalSeconds`, spread evenly, started on
   * schedule whatever the latency.
   */
  | { kind: 'cadence'; intervalSeconds: number; maxInFlight: number }
  /** Closed loop of ReportResults, one run of `resultsPerRun` results each, resent until acknowledged. */
  | { kind: 'results'; concurrency: number; resultsPerRun: number }
  /**
   * Per-envoy poll, closed loop: `concurrency` envoys at a time each connect over their own mTLS
   * connection, check in once and close; with `resume` they offer the TLS session of their previous
   * connection. The envoys taken in turn are the first `envoys` of the slice (all when undefined); with
   * `once`, each of them polls exactly once and the phase then ends by itself, or after `maxSeconds`
   * (no poll starts later) if that comes first.
   */
  | {
      kind: 'poll';
      target: Target;
      concurrency: number;
      resume: boolean;
      envoys?: number;
      once?: boolean;
      maxSeconds?: number;
    }
  /** Per-envoy poll, open loop: `ratePerSecond` polls, the first `envoys` of the slice in turn. */
  | { kind: 'poll-cadence'; envoys: number; ratePerSecond: number; resume: boolean; maxInFlight: number }
  /** Closed loop: each held envoy checks in once over its own open connection, `concurrency` at a time. */
  | { kind: 'held-checkins'; concurrency: number }
  /** Each held envoy checks in over its own open connection once per `intervalSeconds`, open loop. */
  | { kind: 'held-cadence'; intervalSeconds: number; maxInFlight: number };

export type ParentMessage =
  | { type: 'init'; init: LoadgenInit }
  /** Shared mode: opens the shared connections; per-envoy mode: records where `target` listens. */
  | { type: 'connect'; target: Target; port: number }
  | { type: 'probe' }
  /** Per-envoy: the first `envoys` of the slice each open their own connection to vigosrv and keep it. */
  | { type: 'hold'; envoys: number; concurrency: number }
  /** Per-envoy: closes held connections beyond the first `keep`. */
  | { type: 'release'; keep: number }
  | { type: 'start'; workload: Workload }
  /** Starts the measured window (everything before it is warm-up). */
  | { type: 'mark' }
  /** Ends the measured window, stops starting calls and reports once every call in flight has finished. */
  | { type: 'stop' }
  /** Reports when a self-ending workload (`once`) has finished; the measured window ends then. */
  | { type: 'finish' }
  | { type: 'exit' };

export interface PhaseReport {
  /** Successful calls completed in the measured window. */
  calls: number;
  /** Results acknowledged in the measured window (results workload); otherwise equal to `calls`. */
  items: number;
  elapsedMs: number;
  /** Failed calls by status (and vigo error code), whole phase. */
  errors: Record<string, number>;
  /** Check-ins answered with a bundle although the agent was current (should stay 0). */
  bundles: number;
  histogram: HistogramData;
  /** This generator's own CPU time in the measured window, µs. */
  cpuUs: number;
  /** Results acknowledged in the whole phase, warm-up and drain included: what must be in run_results. */
  ackedResultsTotal: number;
  /** Runs never acknowledged even after retries (their results may or may not be stored). */
  unresolvedRuns: number;
  /** Cadence: scheduled check-ins not started because `maxInFlight` calls were already waiting. */
  dropped: number;
  /** Per-envoy connections opened in the measured window. */
  connections: number;
  /** Of those, how many offered a TLS session from a previous connection, and how many were resumed. */
  sessionsOffered: number;
  sessionsResumed: number;
}

export type LoadgenMessage =
  | { type: 'ready'; envoys: number; keysMs: number }
  | { type: 'connected'; target: Target }
  /** `noChangeReply`: the serialized CheckInResponse vigosrv gave a current agent. */
  | { type: 'probed'; policyVersion: number; merkleRoot: string; noChangeReply: Uint8Array }
  | { type: 'holding'; held: number; failed: number; errors: Record<string, number>; ms: number }
  | { type: 'released'; held: number }
  | { type: 'started' }
  | { type: 'marked' }
  | { type: 'stopped'; report: PhaseReport }
  | { type: 'failed'; message: string };
