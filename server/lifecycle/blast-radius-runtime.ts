/**
 * Puts the blast-radius check (publish/blast-radius.ts) around the publish service: a publish or approval
 * that activates a version starts watching it, a rollback ends the watch, and every stored run is shown to
 * the check. Its rollbacks go through the same service (audited as the system actor, with the
 * config.rolled_back event) and add the config.auto_rolled_back event with the figures.
 */
import type { RunRecord } from '../checkin/index.ts';
import type { Logger } from '../core/index.ts';
import { systemCtx } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import type { FleetIndex } from '../fleet/index.ts';
import type { BlastRadiusGuard, PublishService } from '../publish/index.ts';
import { createBlastRadiusGuard, historyLimits } from '../publish/index.ts';
import type { ConfigView } from './start.ts';

export interface BlastRadiusRuntimeDeps {
  readonly publish: PublishService;
  readonly fleet: FleetIndex;
  readonly bus: EventBus;
  readonly view: ConfigView;
  readonly log: Logger;
  readonly onRunCommitted: (listener: (run: RunRecord) => void) => void;
}

export interface BlastRadiusRuntime {
  /** The publish service to serve: activations arm the check, rollbacks disarm it. */
  readonly publish: PublishService;
  readonly guard: BlastRadiusGuard;
}

export function createBlastRadiusRuntime(deps: BlastRadiusRuntimeDeps): BlastRadiusRuntime {
  const { publish: inner, view, bus } = deps;
  const log = deps.log.child({ component: 'blast-radius' });
  const guard = createBlastRadiusGuard({
    settings: () => ({
      minConvergencePct: view.current['publish.blast_radius.min_convergence_pct'],
      windowMs: view.current['publish.blast_radius.window'],
      minEnvoys: view.current['publish.blast_radius.min_envoys'],
    }),
    statusOf: (id) => deps.fleet.get(id)?.convergence.status,
    rollback: (toVersion, message, figures) => inner.rollback(systemCtx(log), toVersion, message, figures),
    onRolledBack: (facts) =>
      bus.publish('config.auto_rolled_back', { ...facts, by: 'system' }, `config:${facts.version}`),
    log,
  });
  deps.onRunCommitted((run) => guard.observeRun(run));

  /** The version a publish replaced: the newest one below it that it superseded. */
  const arm = (version: number, sinceMs?: number): void => {
    const previous = inner
      .history(historyLimits.maxLimit, version)
      .find((row) => row.status === 'superseded');
    if (previous === undefined) guard.disarm();
    else guard.arm(version, previous.version, sinceMs);
  };

  // A version published (or approved) shortly before a restart, or by the start-up publish, is watched for
  // the rest of its window; one restored by a rollback never is.
  const active = inner.status().active;
  const activatedAtMs = active === undefined ? 0 : (active.approvedAtMs ?? active.createdAtMs);
  if (
    active !== undefined &&
    !(active.source ?? '').startsWith('rollback:') &&
    Date.now() - activatedAtMs <= view.current['publish.blast_radius.window']
  )
    arm(active.version, activatedAtMs);

  const publish: PublishService = {
    ...inner,
    async publish(ctx, source, options) {
      const result = await inner.publish(ctx, source, options);
      if (result.outcome === 'activated') arm(result.version);
      return result;
    },
    async approve(ctx, version) {
      const result = await inner.approve(ctx, version);
      arm(result.version);
      return result;
    },
    status: () => ({ ...inner.status(), watching: guard.current() }),
    async rollback(ctx, toVersion, message, automatic) {
      guard.disarm();
      return inner.rollback(ctx, toVersion, message, automatic);
    },
  };
  return { publish, guard };
}
