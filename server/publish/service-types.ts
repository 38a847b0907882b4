/** What the publish service offers and answers (service.ts implements it). */
import type { Ctx } from '../core/index.ts';
import type { Diagnostic, EntryDiff } from '../policy/index.ts';
import type { PublishImpact } from './impact.ts';
import type { StackSource } from './stack-source.ts';
import type { AutoRollbackFigures, AutoRollbackRecord, FreezeState, VersionRow } from './versions.ts';
import type { CompiledSnapshot } from '../policy/index.ts';
import type { BlastRadiusWatch } from './blast-radius.ts';

export interface ValidateReport {
  ok: boolean;
  diagnostics: Diagnostic[];
  snapshotHash: string | null;
  entries: number;
}

export type PublishResult =
  | {
      outcome: 'dry_run';
      snapshotHash: string;
      unchanged: boolean;
      diagnostics: Diagnostic[];
      impact: PublishImpact;
    }
  | { outcome: 'unchanged'; version: number; snapshotHash: string; diagnostics: Diagnostic[] }
  | {
      outcome: 'pending';
      version: number;
      snapshotHash: string;
      diagnostics: Diagnostic[];
      impact: PublishImpact;
    }
  | {
      outcome: 'activated';
      version: number;
      snapshotHash: string;
      diagnostics: Diagnostic[];
      impact: PublishImpact;
    };

export interface PublishStatus {
  active: VersionRow | undefined;
  pending: VersionRow | undefined;
  frozen: FreezeState | undefined;
  /** The last rollback the blast-radius check made, if any. */
  autoRollback: AutoRollbackRecord | undefined;
  /** The version the blast-radius check is watching now (set by the running server). */
  watching?: BlastRadiusWatch | undefined;
}

export interface VersionDetail {
  version: VersionRow;
  entries: number;
  /** Compared with the version just before it, when there is one. */
  diff: EntryDiff[];
  comparedWith: number | null;
}

/** What serving `version` instead of `against` changes, for the fleet as it is now. */
export interface VersionDiff {
  version: number;
  /** The version compared with; null for the empty configuration before the first version. */
  against: number | null;
  /** Entries of `version`. */
  entries: number;
  impact: PublishImpact;
}

export const historyLimits = { defaultLimit: 50, maxLimit: 500 } as const;

export interface PublishService {
  validate(source: StackSource): Promise<ValidateReport>;
  /**
   * Validates the upload the active version was published from again (config_sources), which warms the
   * validator worker for the next publish; undefined when the active version kept no upload.
   */
  revalidateActive(): Promise<(ValidateReport & { version: number }) | undefined>;
  publish(
    ctx: Ctx,
    source: StackSource,
    options: { message?: string; dryRun?: boolean },
  ): Promise<PublishResult>;
  approve(ctx: Ctx, version: number): Promise<{ version: number }>;
  reject(ctx: Ctx, version: number, reason: string): { version: number };
  /**
   * Serves `toVersion`'s snapshot again as a new version. `automatic` is set by the blast-radius check:
   * its figures go into the audit entry and are kept as the last automatic rollback, in the same transaction.
   */
  rollback(
    ctx: Ctx,
    toVersion: number,
    message?: string,
    automatic?: AutoRollbackFigures,
  ): Promise<{ version: number; restored: number }>;
  freeze(ctx: Ctx, untilMs: number, reason: string): FreezeState;
  unfreeze(ctx: Ctx): { wasFrozen: boolean };
  history(limit?: number, beforeVersion?: number): VersionRow[];
  show(version: number): Promise<VersionDetail>;
  /**
   * Field-level diff from version `against` (default: the version before `version`) to `version`, with
   * the envoys whose configuration it changes; computed in the validator worker from the stored snapshots.
   */
  diff(version: number, against?: number): Promise<VersionDiff>;
  status(): PublishStatus;
  /** Loads the active version's snapshot (none for the empty configuration) and activates it. */
  loadActive(): { version: number; snapshot: CompiledSnapshot | undefined };
}
