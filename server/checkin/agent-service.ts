/**
 * The VigoAgent gRPC service. Each handler verifies its envelope first (verify.ts), then runs from
 * memory: CheckIn answers from the FleetIndex and the bundle cache, ReportResults waits for group
 * commit, ResolveSecrets answers only for markers in the caller's own bundle.
 */
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  ReportResultsResponseSchema,
  ResolveSecretsResponseSchema,
  VigoAgent,
  agentRpcs,
  decodePayload,
} from '../../protocol/index.ts';
import { addService } from '../../protocol/index.ts';
import type {
  AgentRpc,
  CheckInRequest,
  CheckInResponse,
  PayloadOf,
  ReportResultsRequest,
  ReportResultsResponse,
  ResolveSecretsRequest,
  ResolveSecretsResponse,
  ServiceImplementation,
  SignedEnvelope,
} from '../../protocol/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Logger } from '../core/index.ts';
import type { EnvoyEntry, FleetIndex } from '../fleet/index.ts';
import type { Store } from '../store/index.ts';
import { createAgentStreams } from './agent-stream.ts';
import type { AgentStreams } from './agent-stream.ts';
import { answerCheckIn } from './checkin-answer.ts';
import type { CheckinMetrics } from './metrics.ts';
import { rejection } from './rejection.ts';
import type { Rejection } from './rejection.ts';
import { resolveSecretsProblem } from './payload-limits.ts';
import { isBundleRenderFailure } from './policy.ts';
import type { PolicySource } from './policy.ts';
import { QueueFullError } from './results-committer.ts';
import type { ResultsCommitter } from './results-committer.ts';
import { sortRunReports } from './run-reports.ts';
import type { SortedRuns } from './run-reports.ts';
import { EnvelopeRejection, callPeer, verifyEnvelope } from './verify.ts';
import type { CallPeer } from './verify.ts';
import { WatermarkNotDurableError, createWatermarkCommitter } from './watermark-committer.ts';

/** How long a verified request waits for others to share its watermark transaction. */
const watermarkBatchDelayMs = 5;

export interface AgentServiceDeps {
  index: FleetIndex;
  store: Store;
  log: Logger;
  metrics: CheckinMetrics;
  results: ResultsCommitter;
  policy: () => PolicySource;
  intervalMs: () => number;
  clockSkewMs: () => number;
  observeOnly: () => boolean;
  connection: () => 'held' | 'poll';
  streamIdleReleaseMs: () => number;
  /** Every server agents may check in with, this one first; none without standby peers. */
  servers?: () => readonly string[];
  secrets: SecretResolver;
  now?: () => number;
}

/** What ResolveSecrets needs from the secrets provider and the served policy. */
export interface SecretResolver {
  /** Secret paths the envoy's current bundle references. */
  allowedFor(entry: EnvoyEntry): ReadonlySet<string>;
  /** Values for `refs`; `denied` are refs not in `allowed`, `missing` are allowed refs the provider lacks. */
  resolve(
    allowed: ReadonlySet<string>,
    refs: readonly string[],
  ): { values: Map<string, Buffer>; denied: string[]; missing: string[] };
}

/** How a handler answers: grpc-js's unary callback, or a check-in process's relay. */
export type UnaryReply<T> = (err: Partial<grpc.StatusObject> | null, value?: T) => void;

/** The unary RPCs, apart from the transport: the request, who sent it, and where the answer goes. */
export interface AgentHandlers {
  checkIn(request: CheckInRequest, peer: CallPeer, reply: UnaryReply<CheckInResponse>): void;
  reportResults(
    request: ReportResultsRequest,
    peer: CallPeer,
    reply: UnaryReply<ReportResultsResponse>,
  ): void;
  resolveSecrets(
    request: ResolveSecretsRequest,
    peer: CallPeer,
    reply: UnaryReply<ResolveSecretsResponse>,
  ): void;
}

/**
 * What the server keeps of the registered service: its AgentStreams (for work, metrics and the drain),
 * and the handlers and refusal that calls relayed from check-in processes go through.
 */
export interface AgentService {
  readonly streams: AgentStreams;
  readonly handlers: AgentHandlers;
  refuseUndecodable(typeName: string, reason: string): Rejection;
}

export function registerAgentService(
  server: grpc.Server,
  deps: AgentServiceDeps,
  maxMessageBytes: number,
): AgentService {
  const now = deps.now ?? Date.now;
  const watermarks = createWatermarkCommitter({
    store: deps.store,
    log: deps.log,
    maxDelayMs: watermarkBatchDelayMs,
  });

  const verify = (rpc: AgentRpc, envelope: SignedEnvelope | undefined, peer: CallPeer): EnvoyEntry => {
    return verifyEnvelope(rpc, envelope, peer.fingerprint, {
      index: deps.index,
      clockSkewMs: deps.clockSkewMs(),
      nowMs: now(),
      verifiedGeneration: peer.verifiedGeneration,
    });
  };

  const decode = <R extends AgentRpc>(rpc: R, envelope: SignedEnvelope | undefined): PayloadOf<R> => {
    try {
      return decodePayload(rpc, envelope?.body ?? new Uint8Array());
    } catch (err) {
      throw new EnvelopeRejection(
        'checkin.payload_invalid',
        err instanceof Error ? err.message : String(err),
      );
    }
  };

  const fail = (rpc: AgentRpc, err: unknown): Rejection => {
    if (err instanceof EnvelopeRejection) {
      deps.metrics.rejections.inc({ rpc, code: err.code });
      return rejection(err.code, err.message);
    }
    if (err instanceof WatermarkNotDurableError) {
      deps.metrics.rejections.inc({ rpc, code: 'server.unavailable' });
      return rejection('server.unavailable', err.message);
    }
    if (isBundleRenderFailure(err)) {
      // The stacks, not the agent or the server, are at fault: logged (once) where the bundle was built.
      deps.metrics.rejections.inc({ rpc, code: 'checkin.bundle_unavailable' });
      return rejection(
        'checkin.bundle_unavailable',
        `this envoy's bundle cannot be built from the published stacks (${err.message}); ` +
          'keep enforcing the cached bundle until an operator publishes a fix',
      );
    }
    deps.log.error('agent rpc failed', { rpc, err });
    return { code: grpc.status.INTERNAL, details: 'internal error', metadata: new grpc.Metadata() };
  };

  const streams = createAgentStreams({
    index: deps.index,
    now,
    verify: (rpc, envelope, call) => verify(rpc, envelope, callPeer(call)),
    decode,
    durable: (entry) => watermarks.durable(entry),
    fail,
    onRefused: (code) => deps.metrics.rejections.inc({ rpc: 'AgentStream', code }),
    onWorkError: (err) => deps.log.error('handling a message from an agent stream failed', { err }),
  });

  // The refusal stands even when it cannot be audited (a damaged audit chain refuses appends): answering
  // anything else would hand the envoy an INTERNAL error instead of the code it acts on.
  const auditDenied = (entry: EnvoyEntry, denied: readonly string[]): void => {
    try {
      deps.store.tx((db) =>
        appendAudit(db, {
          actor: `envoy:${entry.id}`,
          action: 'secrets.denied',
          target: `envoy:${entry.id}`,
          details: { refs: denied.slice(0, 32), reason: 'not in the envoy bundle' },
        }),
      );
    } catch (err) {
      deps.log.error('a refused secrets request could not be audited', { envoyId: entry.id, err });
    }
  };

  const handlers: AgentHandlers = {
    checkIn: (request, peer, callback) => {
      const startedAt = performance.now();
      const answer: typeof callback = (err, value) => {
        deps.metrics.checkinDuration.observe((performance.now() - startedAt) / 1000);
        if (err !== null) {
          deps.metrics.checkins.inc({ status: 'refused' });
          deps.metrics.checkinsPerMinute.record('refused', now());
        }
        callback(err, value);
      };
      try {
        const entry = verify('CheckIn', request.envelope, peer);
        const durable = watermarks.durable(entry);
        const reply = answerCheckIn(entry, decode('CheckIn', request.envelope), {
          index: deps.index,
          policy: deps.policy(),
          intervalMs: deps.intervalMs(),
          observeOnly: deps.observeOnly(),
          connection: deps.connection(),
          streamIdleReleaseMs: deps.streamIdleReleaseMs(),
          servers: deps.servers?.(),
          nowMs: now(),
        });
        durable.then(
          () => {
            deps.metrics.checkins.inc({ status: reply.outcome });
            deps.metrics.checkinsPerMinute.record(reply.outcome, now());
            answer(null, reply.response);
          },
          (err: unknown) => answer(fail('CheckIn', err)),
        );
      } catch (err) {
        answer(fail('CheckIn', err));
      }
    },

    reportResults: (request, peer, callback) => {
      let sorted: SortedRuns;
      let durable: Promise<void>;
      try {
        const entry = verify('ReportResults', request.envelope, peer);
        durable = watermarks.durable(entry);
        sorted = sortRunReports(entry.id, decode('ReportResults', request.envelope));
        if (sorted.rejected.length > 0) {
          deps.log.warn('run reports rejected: they break the ReportResults schema', {
            envoyId: entry.id,
            rejected: sorted.rejected.length,
            firstProblem: sorted.firstProblem,
          });
        }
      } catch (err) {
        callback(fail('ReportResults', err));
        return;
      }
      const stored =
        sorted.records.length === 0 ? Promise.resolve<string[]>([]) : deps.results.submit(sorted.records);
      Promise.all([stored, durable]).then(
        ([accepted]) => {
          deps.metrics.resultsAccepted.inc(sorted.records.reduce((n, r) => n + r.results.length, 0));
          const response = create(ReportResultsResponseSchema, {
            acceptedRunIds: accepted,
            rejectedRunIds: sorted.rejected,
          });
          callback(null, response);
        },
        (err: unknown) => {
          if (err instanceof QueueFullError) {
            deps.metrics.rejections.inc({ rpc: 'ReportResults', code: 'results.queue_full' });
            callback(rejection('results.queue_full', err.message, err.retryAfterMs));
          } else callback(fail('ReportResults', err));
        },
      );
    },

    resolveSecrets: (request, peer, callback) => {
      try {
        const entry = verify('ResolveSecrets', request.envelope, peer);
        const durable = watermarks.durable(entry);
        const payload = decode('ResolveSecrets', request.envelope);
        const problem = resolveSecretsProblem(payload);
        if (problem !== undefined) throw new EnvelopeRejection('checkin.payload_invalid', problem);
        const policy = deps.policy();
        const result = deps.secrets.resolve(deps.secrets.allowedFor(entry), payload.refs);
        if (result.denied.length > 0) {
          // All or nothing: one reference outside the envoy's own bundle refuses the whole call.
          auditDenied(entry, result.denied);
          deps.metrics.rejections.inc({ rpc: 'ResolveSecrets', code: 'secrets.not_entitled' });
          callback(
            rejection(
              'secrets.not_entitled',
              `${result.denied.length} requested secret(s) are not referenced by this envoy's bundle ` +
                `(first: ${result.denied[0] ?? ''}); check in for the current bundle and retry`,
            ),
          );
          return;
        }
        if (result.missing.length > 0) {
          deps.metrics.rejections.inc({ rpc: 'ResolveSecrets', code: 'secrets.not_found' });
          callback(
            rejection(
              'secrets.not_found',
              `secret(s) ${result.missing.slice(0, 8).join(', ')} are no longer in the vault`,
            ),
          );
          return;
        }
        const response = create(ResolveSecretsResponseSchema, {
          values: Object.fromEntries(result.values),
          secretsEpoch: BigInt(policy.secretsEpoch),
        });
        durable.then(
          () => callback(null, response),
          (err: unknown) => callback(fail('ResolveSecrets', err)),
        );
      } catch (err) {
        callback(fail('ResolveSecrets', err));
      }
    },
  };

  const implementation: ServiceImplementation<typeof VigoAgent.method> = {
    checkIn: (call, callback) => handlers.checkIn(call.request, callPeer(call), callback),
    reportResults: (call, callback) => handlers.reportResults(call.request, callPeer(call), callback),
    resolveSecrets: (call, callback) => handlers.resolveSecrets(call.request, callPeer(call), callback),
    agentStream: (call) => streams.handle(call),
  };

  const refuseUndecodable = (typeName: string, reason: string): Rejection => {
    const rpc = agentRpcs.find((name) => typeName === `vigo.agent.v1.${name}Request`) ?? 'unknown';
    deps.metrics.rejections.inc({ rpc, code: 'checkin.payload_invalid' });
    return rejection('checkin.payload_invalid', `the request is not a valid ${typeName}: ${reason}`);
  };
  addService(server, VigoAgent, implementation, { maxMessageBytes, refuseUndecodable });
  return { streams, handlers, refuseUndecodable };
}
