/**
 * The named tasks this agent knows. Each does something the agent does anyway, on demand:
 *
 *   vigo.converge  a convergence pass now over the bundle the agent holds (after a check-in), its
 *                  per-resource outcomes in the TaskResult; dry_run makes it an observe pass.
 *   vigo.traits    collects every trait afresh (no cache) and checks in with them, so the server's
 *                  trait filters and templates see this host as it is now; dry_run collects only.
 *
 * Neither takes params.
 */
import type { ResourceResult } from '../engine/index.ts';

export interface NamedTaskOutcome {
  readonly status: 'succeeded' | 'failed';
  readonly message: string;
  readonly results: readonly ResourceResult[];
}

export interface NamedTask {
  readonly name: string;
  /** The params it accepts; a dispatch with any other is rejected. */
  readonly params: readonly string[];
  run(input: {
    readonly params: ReadonlyMap<string, string>;
    readonly dryRun: boolean;
  }): Promise<NamedTaskOutcome>;
}

/** What a convergence pass reports back to vigo.converge. */
export interface ConvergePass {
  readonly results: readonly ResourceResult[];
  readonly policyVersion: number;
  /** Why nothing was applied (no bundle, expired bundle), or null. */
  readonly blockedReason: string | null;
}

/** What a fresh trait collection and check-in report back to vigo.traits. */
export interface TraitsReport {
  readonly traitsHash: string;
  readonly collectorErrors: readonly { readonly collector: string; readonly message: string }[];
  /** The check-in that carried them failed (undefined when it went through or was not attempted). */
  readonly checkInError: string | undefined;
}

export const builtinTaskNames = ['vigo.converge', 'vigo.traits'] as const;
export type BuiltinTaskName = (typeof builtinTaskNames)[number];

export interface BuiltinTaskHooks {
  /** One convergence pass; the caller already holds the work lock. */
  converge(dryRun: boolean): Promise<ConvergePass>;
  /** Collect every trait afresh and check in with them (not when `collectOnly`). */
  reportTraits(collectOnly: boolean): Promise<TraitsReport>;
}

function countsText(results: readonly ResourceResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  return [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(', ') || 'no resources';
}

export function createBuiltinTasks(hooks: BuiltinTaskHooks): ReadonlyMap<BuiltinTaskName, NamedTask> {
  const converge: NamedTask = {
    name: 'vigo.converge',
    params: [],
    async run({ dryRun }) {
      const pass = await hooks.converge(dryRun);
      if (pass.blockedReason !== null) return { status: 'failed', message: pass.blockedReason, results: [] };
      const failed = pass.results.some((r) => r.outcome === 'failed');
      const summary = `${dryRun ? 'observed' : 'converged'} policy version ${pass.policyVersion}: ${countsText(pass.results)}`;
      return {
        status: failed ? 'failed' : 'succeeded',
        message: failed ? summary : '',
        results: pass.results,
      };
    },
  };
  const traits: NamedTask = {
    name: 'vigo.traits',
    params: [],
    async run({ dryRun }) {
      const report = await hooks.reportTraits(dryRun);
      const problems = [
        ...report.collectorErrors.map((e) => `trait collector ${e.collector}: ${e.message}`),
        ...(report.checkInError === undefined ? [] : [`check-in failed: ${report.checkInError}`]),
      ];
      if (problems.length > 0) return { status: 'failed', message: problems.join('; '), results: [] };
      return { status: 'succeeded', message: '', results: [] };
    },
  };
  return new Map<BuiltinTaskName, NamedTask>([
    ['vigo.converge', converge],
    ['vigo.traits', traits],
  ]);
}
