/**
 * Check-in metrics, registered on the server's Prometheus registry. Every label set a counter can take is
 * created at zero, so rates and absence alerts work before the first event.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { agentRpcs, envelopeRejections } from '../../protocol/index.ts';
import type { AgentRpc } from '../../protocol/index.ts';
import { createCheckinRate } from './checkin-rate.ts';
import type { CheckinRate } from './checkin-rate.ts';

/** How a CheckIn ended: a no-change reply, a bundle, or a refusal (see vigo_agent_rejections_total). */
export const checkinStatuses = ['no_change', 'bundle', 'refused'] as const;
export type CheckinStatus = (typeof checkinStatuses)[number];
export const stateTransitions = ['offline', 'online'] as const;

/** Seconds: an answer from memory, up to one that waits for its watermark batch to commit. */
export const checkinDurationBucketsSeconds = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/** Codes any RPC can be refused with; the RPC-specific ones follow. */
const sharedRejections: readonly string[] = [
  ...Object.keys(envelopeRejections),
  'server.unavailable',
  'checkin.bundle_unavailable',
];
const rpcRejections: Readonly<Record<AgentRpc, readonly string[]>> = {
  CheckIn: [],
  ReportResults: ['results.queue_full'],
  ResolveSecrets: ['secrets.not_entitled', 'secrets.not_found'],
  AgentStream: ['stream.pending_limit', 'stream.hello_required'],
};

export interface CheckinMetrics {
  checkins: Counter<'status'>;
  /** The same outcomes per minute over the last hour, in memory (the dashboard's chart). */
  checkinsPerMinute: CheckinRate;
  /** Time from receiving a CheckIn to answering it (refusals included). */
  checkinDuration: Histogram;
  rejections: Counter<'rpc' | 'code'>;
  resultsAccepted: Counter;
  stateTransitions: Counter<'transition'>;
  /** Where the number of open AgentStreams comes from (read at every scrape). */
  countOpenStreams(read: () => number): void;
}

export function createCheckinMetrics(registry: Registry): CheckinMetrics {
  let readOpenStreams: () => number = () => 0;
  new Gauge({
    name: 'vigo_agent_streams_open',
    help: 'AgentStreams open that have said Hello (at most one per envoy).',
    registers: [registry],
    collect() {
      this.set(readOpenStreams());
    },
  });
  const checkins = new Counter({
    name: 'vigo_checkins_total',
    help: 'Agent check-ins by how they ended: no_change, bundle, or refused.',
    labelNames: ['status'],
    registers: [registry],
  });
  const rejections = new Counter({
    name: 'vigo_agent_rejections_total',
    help: 'Agent requests refused, by RPC and stable error code.',
    labelNames: ['rpc', 'code'],
    registers: [registry],
  });
  const transitions = new Counter({
    name: 'vigo_envoy_state_transitions_total',
    help: 'Envoy reachability transitions: offline (became stale) or online (seen again).',
    labelNames: ['transition'],
    registers: [registry],
  });
  for (const status of checkinStatuses) checkins.inc({ status }, 0);
  for (const transition of stateTransitions) transitions.inc({ transition }, 0);
  for (const rpc of agentRpcs)
    for (const code of [...sharedRejections, ...rpcRejections[rpc]]) rejections.inc({ rpc, code }, 0);
  return {
    countOpenStreams: (read) => {
      readOpenStreams = read;
    },
    checkins,
    checkinsPerMinute: createCheckinRate(),
    checkinDuration: new Histogram({
      name: 'vigo_checkin_duration_seconds',
      help: 'Time from receiving a CheckIn to answering it, refusals included.',
      buckets: checkinDurationBucketsSeconds,
      registers: [registry],
    }),
    rejections,
    resultsAccepted: new Counter({
      name: 'vigo_results_accepted_total',
      help: 'Resource results written durably from agent run reports.',
      registers: [registry],
    }),
    stateTransitions: transitions,
  };
}
