/**
 * Event sink metrics (server.yaml `integrations:`): deliveries by outcome, each target's pending queue and
 * how long its requests take. Every configured target's series exist from start at 0, so absence alerts
 * and rate() work before the first event. The queue depth is read from memory at scrape time.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** delivered: the receiver took it; retried: a try failed and another is scheduled; dead: given up or dropped. */
export const integrationOutcomes = ['delivered', 'retried', 'dead'] as const;
export type IntegrationOutcome = (typeof integrationOutcomes)[number];

/** Seconds: a loopback receiver to a slow SMTP server at its timeout. */
export const integrationLatencyBucketsSeconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface IntegrationMetrics {
  count(target: string, outcome: IntegrationOutcome, deliveries: number): void;
  observeRequest(target: string, seconds: number): void;
}

export function createIntegrationMetrics(
  registry: Registry,
  targets: readonly string[],
  queueDepth: (target: string) => number,
): IntegrationMetrics {
  const deliveries = new Counter({
    name: 'vigo_integration_deliveries_total',
    help: 'Event deliveries to integration targets by outcome: delivered, retried (a failed try, another follows), dead (given up, refused or dropped from a full queue).',
    labelNames: ['target', 'outcome'],
    registers: [registry],
  });
  new Gauge({
    name: 'vigo_integration_queue_depth',
    help: 'Deliveries waiting in the durable queue of each integration target.',
    labelNames: ['target'],
    registers: [registry],
    collect() {
      for (const target of targets) this.set({ target }, queueDepth(target));
    },
  });
  const latency = new Histogram({
    name: 'vigo_integration_request_duration_seconds',
    help: 'Time one delivery request (one event, or one batch for batching sinks) to an integration target took, failed ones included.',
    labelNames: ['target'],
    buckets: integrationLatencyBucketsSeconds,
    registers: [registry],
  });
  for (const target of targets) {
    for (const outcome of integrationOutcomes) deliveries.inc({ target, outcome }, 0);
    latency.zero({ target });
  }
  return {
    count: (target, outcome, n) => {
      if (n > 0) deliveries.inc({ target, outcome }, n);
    },
    observeRequest: (target, seconds) => latency.observe({ target }, seconds),
  };
}
