/**
 * What one load generator does per call, as a real agent would: sign a fresh envelope with the envoy's
 * own key and a strictly increasing timestamp (ts_ms = max(now, last + 1)), send it over one of a few
 * shared mTLS connections (or, through loadgen-envoys.ts, over the envoy's own), and account for the
 * answer.
 */
import { toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { createHash, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  CheckInResponseSchema,
  ResourceOutcome,
  VigoAgent,
  errorCodeOf,
  retryAfterMsOf,
  signRequest,
} from '../../protocol/index.ts';
import { createServiceClient } from '../../protocol/index.ts';
import type { CheckInResponse, RequestOf, ServiceClient } from '../../protocol/index.ts';
import { LatencyHistogram } from './histogram.ts';
import type { LoadgenInit, PhaseReport, Target } from './loadgen-protocol.ts';
import { hostnameOf, readEnvoySlice } from './seed.ts';

type AgentClient = ServiceClient<typeof VigoAgent.method>;

const callDeadlineMs = 60_000;
const maxReportAttempts = 50;
const traitsJson = Buffer.from(JSON.stringify({ os: { family: 'debian', release: '12' }, bench: true }));
const traitsHash = createHash('sha256').update(traitsJson).digest('hex');

/** Counters of one phase; calls completing outside the measured window count only as errors or acks. */
export class PhaseStats {
  measuring = false;
  calls = 0;
  items = 0;
  bundles = 0;
  ackedResultsTotal = 0;
  unresolvedRuns = 0;
  dropped = 0;
  /** Per-envoy connections opened in the measured window, and how many of them offered / resumed a TLS session. */
  connections = 0;
  sessionsOffered = 0;
  sessionsResumed = 0;
  readonly errors: Record<string, number> = {};
  readonly histogram = new LatencyHistogram();
  #markMs = 0;
  #markCpu: NodeJS.CpuUsage | undefined;

  mark(): void {
    this.measuring = true;
    this.calls = 0;
    this.items = 0;
    this.connections = 0;
    this.sessionsOffered = 0;
    this.sessionsResumed = 0;
    this.histogram.reset();
    this.#markMs = performance.now();
    this.#markCpu = process.cpuUsage();
  }

  succeeded(startedMs: number, items: number): void {
    if (!this.measuring) return;
    this.calls += 1;
    this.items += items;
    this.histogram.record((performance.now() - startedMs) * 1000);
  }

  failed(err: unknown): void {
    const e = err as { code?: unknown; details?: unknown; metadata?: unknown; message?: unknown };
    const status = typeof e.code === 'number' ? (grpc.status[e.code] ?? String(e.code)) : 'ERROR';
    // Transport statuses carry per-call details (timings, addresses): the status alone groups them.
    const code = errorCodeOf(e) ?? (typeof e.code === 'number' ? '' : String(e.message).slice(0, 80));
    const key = code === '' ? status : `${status} ${code}`;
    this.errors[key] = (this.errors[key] ?? 0) + 1;
  }

  /** Counts a per-envoy connection opened (in the measured window only, as calls are). */
  connected(offered: boolean, resumed: boolean): void {
    if (!this.measuring) return;
    this.connections += 1;
    if (offered) this.sessionsOffered += 1;
    if (resumed) this.sessionsResumed += 1;
  }

  /** Closes the measured window; the report is sent after the calls still in flight have finished. */
  close(): Omit<PhaseReport, 'errors' | 'bundles' | 'ackedResultsTotal' | 'unresolvedRuns' | 'dropped'> {
    this.measuring = false;
    const cpu = process.cpuUsage(this.#markCpu);
    return {
      calls: this.calls,
      items: this.items,
      connections: this.connections,
      sessionsOffered: this.sessionsOffered,
      sessionsResumed: this.sessionsResumed,
      elapsedMs: performance.now() - this.#markMs,
      histogram: this.histogram.toData(),
      cpuUs: cpu.user + cpu.system,
    };
  }
}

export interface CheckInTemplate {
  policyVersion: bigint;
  stateFingerprint: string;
  /** The secrets_epoch of the bundle held: no-change needs it to match the server's. */
  secretsEpoch: bigint;
}

/** Sends one CheckIn request and resolves with the answer, over whatever connection the caller chose. */
export type CheckInCall = (request: RequestOf<'CheckIn'>) => Promise<CheckInResponse>;

export class LoadgenFleet {
  readonly first: number;
  readonly ids: string[];
  readonly keys: KeyObject[];
  readonly #lastTsMs: Float64Array;
  readonly #clients = new Map<Target, AgentClient[]>();
  readonly #init: LoadgenInit;
  #cursor = -1;
  #clientCursor = 0;
  template: CheckInTemplate = { policyVersion: 0n, stateFingerprint: '', secretsEpoch: 0n };

  constructor(init: LoadgenInit) {
    this.first = init.first;
    this.#init = init;
    ({ ids: this.ids, keys: this.keys } = readEnvoySlice(init.keysFile, init.first, init.count));
    this.#lastTsMs = new Float64Array(init.count);
  }

  /** Opens the target's shared connections and waits until each is ready. */
  async connect(target: Target, port: number): Promise<void> {
    const { identity } = this.#init;
    if (identity.kind !== 'shared') throw new Error('shared connections need the shared client certificate');
    const credentials = grpc.credentials.createSsl(
      readFileSync(this.#init.caFile),
      readFileSync(identity.clientKeyFile),
      readFileSync(identity.clientCertFile),
    );
    const clients = Array.from({ length: identity.connections }, () =>
      createServiceClient(VigoAgent, `127.0.0.1:${port}`, credentials, {
        channelOptions: {
          // Without a local pool grpc-js would share one subchannel (one TCP connection) between clients.
          'grpc.use_local_subchannel_pool': 1,
          // The server certificate names localhost too; TLS SNI may not carry an IP address (RFC 6066).
          'grpc.ssl_target_name_override': 'localhost',
        },
      }),
    );
    this.#clients.set(target, clients);
    await Promise.all(
      clients.map(
        (c) =>
          new Promise<void>((resolve, reject) =>
            c.client.waitForReady(Date.now() + 15_000, (err) => (err ? reject(err) : resolve())),
          ),
      ),
    );
  }

  close(): void {
    for (const clients of this.#clients.values()) for (const c of clients) c.close();
  }

  nextEnvoy(): number {
    this.#cursor = (this.#cursor + 1) % this.ids.length;
    return this.#cursor;
  }

  #nextTsMs(envoy: number): number {
    const ts = Math.max(Date.now(), this.#lastTsMs[envoy]! + 1);
    this.#lastTsMs[envoy] = ts;
    return ts;
  }

  #client(target: Target): AgentClient {
    const clients = this.#clients.get(target);
    if (clients === undefined) throw new Error(`not connected to ${target}`);
    this.#clientCursor = (this.#clientCursor + 1) % clients.length;
    return clients[this.#clientCursor]!;
  }

  /** A check-in call over the shared connections to `target`. */
  sharedCall(target: Target): CheckInCall {
    return (request) =>
      this.#client(target).methods.checkIn(request, { deadline: Date.now() + callDeadlineMs });
  }

  /**
   * The first check-ins of this slice: one sends traits and learns the policy version and Merkle root
   * served, the next is no-change and its reply's bytes are what the echo server will answer. `call`
   * carries them (the first envoy's own connection, or the shared ones).
   */
  async probe(call: CheckInCall): Promise<{ template: CheckInTemplate; noChangeReply: Uint8Array }> {
    const response = await call(
      signRequest('CheckIn', this.keys[0]!, this.ids[0]!, this.#nextTsMs(0), {
        agentVersion: '0.1.0',
        hostname: hostnameOf(this.first),
        traitsHash,
        traitsJson,
      }),
    );
    if (response.outcome.case !== 'bundle')
      throw new Error('the first check-in was not answered with a bundle');
    const document = JSON.parse(Buffer.from(response.outcome.value.payload).toString('utf8')) as {
      merkle_root: string;
      secrets_epoch: number;
    };
    this.template = {
      policyVersion: response.policyVersion,
      stateFingerprint: document.merkle_root,
      secretsEpoch: BigInt(document.secrets_epoch),
    };
    const noChange = await call(this.checkInRequest(0));
    if (noChange.outcome.case !== 'noChange') throw new Error('a current agent was not answered no-change');
    return { template: this.template, noChangeReply: toBinary(CheckInResponseSchema, noChange) };
  }

  /** A no-change CheckIn of `envoy`, signed now with its next timestamp. */
  checkInRequest(envoy: number): RequestOf<'CheckIn'> {
    return signRequest('CheckIn', this.keys[envoy]!, this.ids[envoy]!, this.#nextTsMs(envoy), {
      agentVersion: '0.1.0',
      hostname: hostnameOf(this.first + envoy),
      policyVersion: this.template.policyVersion,
      stateFingerprint: this.template.stateFingerprint,
      secretsEpoch: this.template.secretsEpoch,
      traitsHash,
    });
  }

  /** One no-change check-in; latency runs from `startedMs` (the scheduled time in open-loop runs). */
  async checkIn(stats: PhaseStats, target: Target, envoy: number, scheduledMs?: number): Promise<void> {
    const request = this.checkInRequest(envoy);
    const startedMs = scheduledMs ?? performance.now();
    try {
      const response = await this.#client(target).methods.checkIn(request, {
        deadline: Date.now() + callDeadlineMs,
      });
      if (target === 'vigosrv' && response.outcome.case !== 'noChange') stats.bundles += 1;
      stats.succeeded(startedMs, 1);
    } catch (err) {
      stats.failed(err);
    }
  }

  /** Reports one run of `resultsPerRun` results, resending (with a fresh envelope) until acknowledged. */
  async reportRun(stats: PhaseStats, envoy: number, resultsPerRun: number): Promise<void> {
    const runId = randomUUID();
    const finishedAtMs = BigInt(Date.now());
    const results = Array.from({ length: resultsPerRun }, (_, seq) => ({
      resourceId: `file:/etc/bench/${seq}.conf`,
      resourceType: 'file',
      configcrate: 'bench',
      outcome: seq === 0 ? ResourceOutcome.UPDATED : ResourceOutcome.NONE,
      durationMs: 1,
    }));
    for (let attempt = 1; attempt <= maxReportAttempts; attempt++) {
      const request = signRequest(
        'ReportResults',
        this.keys[envoy]!,
        this.ids[envoy]!,
        this.#nextTsMs(envoy),
        {
          runs: [
            {
              runId,
              policyVersion: this.template.policyVersion,
              startedAtMs: finishedAtMs - 1000n,
              finishedAtMs,
              results,
            },
          ],
        },
      );
      const startedMs = performance.now();
      try {
        const ack = await this.#client('vigosrv').methods.reportResults(request, {
          deadline: Date.now() + callDeadlineMs,
        });
        if (!ack.acceptedRunIds.includes(runId)) throw new Error(`run ${runId} was not acknowledged`);
        stats.ackedResultsTotal += resultsPerRun;
        stats.succeeded(startedMs, resultsPerRun);
        return;
      } catch (err) {
        stats.failed(err);
        const waitMs = retryAfterMsOf(err as { metadata?: unknown }) ?? 100;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
    stats.unresolvedRuns += 1;
  }
}
