/**
 * Turns convergence transitions into events: `envoy.converged`, `envoy.degraded` or `envoy.failed` when an
 * envoy's failure status changes, `drift.detected` when its drift becomes diverged. Typed structurally so
 * the bus does not depend on the convergence module; its ConvergenceTransitionEvent fits.
 */
import type { EventBus } from './bus.ts';

export interface ConvergenceTransitionLike {
  readonly envoyId: string;
  readonly hostname: string;
  readonly transition: {
    readonly from: { readonly status: string; readonly drift: string };
    readonly to: { readonly status: string; readonly drift: string };
    readonly runId: string;
    readonly atMs: number;
  };
}

const statusEvents = {
  converged: 'envoy.converged',
  degraded: 'envoy.degraded',
  failed: 'envoy.failed',
} as const;

const isReportedStatus = (status: string): status is keyof typeof statusEvents => status in statusEvents;

export function convergenceEventPublisher(bus: EventBus): (event: ConvergenceTransitionLike) => void {
  return ({ envoyId, hostname, transition }) => {
    const { from, to } = transition;
    const data = {
      envoyId,
      hostname,
      runId: transition.runId,
      at: new Date(transition.atMs).toISOString(),
      fromStatus: from.status,
      status: to.status,
      fromDrift: from.drift,
      drift: to.drift,
    };
    if (to.status !== from.status && isReportedStatus(to.status))
      bus.publish(statusEvents[to.status], data, envoyId);
    if (to.drift === 'diverged' && from.drift !== 'diverged') bus.publish('drift.detected', data, envoyId);
  };
}
