/**
 * The blast-radius check (publish.blast_radius): after a publish (or an approval) activates a version, the
 * envoys that report runs on it are watched. Once at least `minEnvoys` of them have reported within
 * `window` of the activation, and fewer than `minConvergencePct` percent of them are converged (each by its
 * last run, as the convergence model judges it), the server rolls back to the version that was active
 * before, through the same rollback as `vigocli config rollback`, as the system actor.
 *
 * One version is watched at a time: the newest one activated by a publish. After a restart the watch
 * resumes on the active version while its window lasts (the envoys' earlier reports are not known again:
 * counting starts afresh). A rollback, manual or automatic,
 * ends the watch and the version it creates is never watched, so an automatic rollback cannot trigger
 * another; the next publish starts a new watch. Counting is incremental — one map update per run — so the
 * check costs nothing per run beyond a lookup, whatever the fleet size.
 */
import type { ConvergenceStatus } from '../convergence/index.ts';
import type { Logger } from '../core/index.ts';
import type { AutoRollbackFigures } from './versions.ts';

export interface BlastRadiusSettings {
  /** 0 turns the check off. */
  readonly minConvergencePct: number;
  readonly windowMs: number;
  readonly minEnvoys: number;
}

/** The version being watched, with what its reporters look like so far. */
export interface BlastRadiusWatch {
  readonly version: number;
  readonly previousVersion: number;
  readonly sinceMs: number;
  readonly reporting: number;
  readonly converged: number;
}

export interface BlastRadiusDeps {
  readonly settings: () => BlastRadiusSettings;
  /** An envoy's failure status after its newest run (undefined for an unknown envoy). */
  readonly statusOf: (envoyId: string) => ConvergenceStatus | undefined;
  /** Rolls back to `toVersion` with these figures (the publish service's rollback, as the system actor). */
  readonly rollback: (
    toVersion: number,
    message: string,
    figures: AutoRollbackFigures,
  ) => Promise<{ version: number }>;
  /** Told after an automatic rollback committed. */
  readonly onRolledBack: (
    facts: AutoRollbackFigures & { rolledBack: number; restored: number; version: number },
  ) => void;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface BlastRadiusGuard {
  /**
   * A publish or approval activated `version` (at `sinceMs`, now by default); `previousVersion` was active
   * before it.
   */
  arm(version: number, previousVersion: number, sinceMs?: number): void;
  /** Another activation (a rollback) ended the watch. */
  disarm(): void;
  /** A run was stored and the envoy's convergence moved with it. */
  observeRun(run: { envoyId: string; policyVersion: number; dryRun: boolean }): void;
  current(): BlastRadiusWatch | undefined;
  /** Resolves when a rollback this guard started has finished (for a drain, and for tests). */
  settled(): Promise<void>;
}

interface Watch {
  version: number;
  previousVersion: number;
  sinceMs: number;
  /** Each reporter's last known state: converged or not. */
  reporters: Map<string, boolean>;
  converged: number;
}

const percent = (part: number, whole: number): number => Math.round((part / whole) * 10_000) / 100;

export function createBlastRadiusGuard(deps: BlastRadiusDeps): BlastRadiusGuard {
  const now = deps.now ?? Date.now;
  let watch: Watch | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const trigger = (w: Watch, settings: BlastRadiusSettings): void => {
    const figures: AutoRollbackFigures = {
      reporting: w.reporters.size,
      converged: w.converged,
      convergedPct: percent(w.converged, w.reporters.size),
      minConvergencePct: settings.minConvergencePct,
      minEnvoys: settings.minEnvoys,
      windowMs: settings.windowMs,
    };
    const message =
      `automatic rollback (blast radius): ${figures.converged} of ${figures.reporting} envoys on version ` +
      `${w.version} converged (${figures.convergedPct}%), below ${settings.minConvergencePct}%`;
    deps.log.warn('blast radius exceeded: rolling back', {
      version: w.version,
      toVersion: w.previousVersion,
      ...figures,
    });
    inFlight = deps.rollback(w.previousVersion, message, figures).then(
      (result) =>
        deps.onRolledBack({
          ...figures,
          rolledBack: w.version,
          restored: w.previousVersion,
          version: result.version,
        }),
      (err: unknown) =>
        deps.log.error('automatic rollback failed; the version stays active', {
          version: w.version,
          toVersion: w.previousVersion,
          err,
        }),
    );
  };

  return {
    arm(version, previousVersion, sinceMs) {
      watch = { version, previousVersion, sinceMs: sinceMs ?? now(), reporters: new Map(), converged: 0 };
    },
    disarm() {
      watch = undefined;
    },
    observeRun(run) {
      const w = watch;
      if (w === undefined || run.dryRun || run.policyVersion !== w.version) return;
      const settings = deps.settings();
      if (settings.minConvergencePct <= 0) return;
      if (now() - w.sinceMs > settings.windowMs) {
        deps.log.info('blast radius window over: the version stays', {
          version: w.version,
          reporting: w.reporters.size,
          converged: w.converged,
        });
        watch = undefined;
        return;
      }
      const converged = deps.statusOf(run.envoyId) === 'converged';
      const before = w.reporters.get(run.envoyId);
      if (before === true) w.converged -= 1;
      w.reporters.set(run.envoyId, converged);
      if (converged) w.converged += 1;
      if (w.reporters.size < settings.minEnvoys) return;
      if (w.converged * 100 >= settings.minConvergencePct * w.reporters.size) return;
      // Ends the watch before the rollback starts: the version is never judged twice.
      watch = undefined;
      trigger(w, settings);
    },
    current() {
      const w = watch;
      return w === undefined
        ? undefined
        : {
            version: w.version,
            previousVersion: w.previousVersion,
            sinceMs: w.sinceMs,
            reporting: w.reporters.size,
            converged: w.converged,
          };
    },
    settled: () => inFlight,
  };
}
