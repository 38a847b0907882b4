/** Check-in counters, registered on the server's Prometheus registry. */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

export interface CheckinMetrics {
  checkins: Counter<'status'>;
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
  return {
    countOpenStreams: (read) => {
      readOpenStreams = read;
    },
    checkins: new Counter({
      name: 'vigo_checkins_total',
      help: 'Agent check-ins answered, by reply (no_change or bundle).',
      labelNames: ['status'],
      registers: [registry],
    }),
    rejections: new Counter({
      name: 'vigo_agent_rejections_total',
      help: 'Agent requests refused, by RPC and stable error code.',
      labelNames: ['rpc', 'code'],
      registers: [registry],
    }),
    resultsAccepted: new Counter({
      name: 'vigo_results_accepted_total',
      help: 'Resource results written durably from agent run reports.',
      registers: [registry],
    }),
    stateTransitions: new Counter({
      name: 'vigo_envoy_state_transitions_total',
      help: 'Envoy reachability transitions: offline (became stale) or online (seen again).',
      labelNames: ['transition'],
      registers: [registry],
    }),
  };
}
