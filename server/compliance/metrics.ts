/**
 * Compliance gauges for /metrics, read at scrape time from the fleet tallies the service keeps in memory
 * (no database, no walk of the fleet). Vigo's per-envoy `vigo_compliance_status{envoy,status}` has samples
 * only with `metrics.compliance_per_envoy: true` (it walks the in-memory fleet index once per scrape);
 * without it the family is declared and empty, so dashboards and rules that name it stay valid.
 */
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { ConvergenceStatus, DriftLevel, Reachability } from '../convergence/index.ts';
import { controlStates } from './model.ts';
import type { ComplianceService } from './service.ts';

/** Vigo's statuses for vigo_compliance_status: the failure axis, the drift axis when not none, and offline. */
export const envoyStatusLabels = [
  'converged',
  'degraded',
  'failed',
  'no data',
  'changed',
  'diverged',
  'offline',
];

export interface PerEnvoyHost {
  readonly id: string;
  readonly hostname: string;
  readonly status: 'active' | 'revoked';
  readonly convergence: { readonly status: ConvergenceStatus; readonly drift: DriftLevel };
}

export interface ComplianceMetricsOptions {
  readonly registry: Registry;
  readonly service: ComplianceService;
  /** `metrics.compliance_per_envoy` (read at start-up). */
  readonly perEnvoy: boolean;
  readonly hosts: () => Iterable<PerEnvoyHost>;
  readonly reachability: (host: PerEnvoyHost) => Reachability;
}

export function registerComplianceMetrics(options: ComplianceMetricsOptions): void {
  const { service } = options;
  new Gauge({
    name: 'vigo_compliance_coverage_pct',
    help: 'Framework coverage in percent: (enforced + waived) / claimed envoy × control pairs.',
    labelNames: ['framework'],
    registers: [options.registry],
    collect() {
      this.reset();
      for (const f of service.tally.summaries()) this.set({ framework: f.framework }, f.coveragePct);
    },
  });
  new Gauge({
    name: 'vigo_compliance_controls',
    help: 'Claimed envoy × control pairs of a framework by state (enforced, failing, waived, pending).',
    labelNames: ['framework', 'state'],
    registers: [options.registry],
    collect() {
      this.reset();
      for (const f of service.tally.summaries())
        for (const state of controlStates) this.set({ framework: f.framework, state }, f[state]);
    },
  });
  new Gauge({
    name: 'vigo_compliance_status',
    help: "1 for each of an envoy's current statuses: converged, degraded, failed or no data; changed or diverged; offline. Empty unless metrics.compliance_per_envoy is true.",
    labelNames: ['envoy', 'status'],
    registers: [options.registry],
    collect() {
      this.reset();
      if (!options.perEnvoy) return;
      for (const host of options.hosts()) {
        if (host.status === 'revoked') continue;
        const failure = host.convergence.status === 'no_data' ? 'no data' : host.convergence.status;
        this.set({ envoy: host.hostname, status: failure }, 1);
        if (host.convergence.drift !== 'none')
          this.set({ envoy: host.hostname, status: host.convergence.drift }, 1);
        if (options.reachability(host) === 'offline')
          this.set({ envoy: host.hostname, status: 'offline' }, 1);
      }
    },
  });
}
