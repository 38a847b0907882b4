/**
 * The server's Prometheus metrics that belong to no single module: the fleet census, HTTP requests,
 * publishes and the server's own gauges (docs/metrics.md lists every metric the server exports).
 */
export { censusStates, checkinAgeBucketsSeconds, createFleetCensus } from './fleet-census.ts';
export type { CensusResult, CensusState, FleetCensus, FleetCensusOptions } from './fleet-census.ts';
export {
  createHttpMetrics,
  methodLabel,
  statusClass,
  statusClasses,
  unmatchedRoute,
} from './http-metrics.ts';
export type { HttpMetrics, StatusClass } from './http-metrics.ts';
export { createPublishMetrics, outcomeOfError, publishOutcomes } from './publish-metrics.ts';
export type { PublishMetrics, PublishOutcome } from './publish-metrics.ts';
export { registerServerGauges } from './server-gauges.ts';
export type { ServerGaugeSources } from './server-gauges.ts';
export { DistributionTally, SnapshotHistogram } from './snapshot-histogram.ts';
export type { DistributionSnapshot } from './snapshot-histogram.ts';
export {
  createIntegrationMetrics,
  integrationLatencyBucketsSeconds,
  integrationOutcomes,
} from './integration-metrics.ts';
export type { IntegrationMetrics, IntegrationOutcome } from './integration-metrics.ts';
