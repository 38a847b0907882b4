/**
 * What one run has learned so far: each resource's outcome, from which follow blocked dependents
 * and notifications. Only outcomes recorded earlier in the run count, which is correct because the
 * bundle's array order puts dependencies and notifiers first (parseBundleDocument checks this).
 */
import type { BundleResource } from './bundle-document.ts';

export type ResourceOutcome = 'none' | 'created' | 'updated' | 'deleted' | 'skipped' | 'blocked' | 'failed';

const changes: ReadonlySet<ResourceOutcome> = new Set(['created', 'updated', 'deleted']);

export class RunState {
  private readonly outcomes = new Map<string, ResourceOutcome>();
  /** target id → ids of the resources that notify it. */
  private readonly notifiers = new Map<string, string[]>();

  constructor(resources: readonly BundleResource[]) {
    for (const r of resources)
      for (const target of r.notify)
        this.notifiers.set(target, [...(this.notifiers.get(target) ?? []), r.id]);
  }

  record(id: string, outcome: ResourceOutcome): void {
    this.outcomes.set(id, outcome);
  }

  /**
   * Why `r` must not run, if a dependency failed or was blocked. A skipped dependency does not block:
   * `when:` false means "not wanted on this host", not "broken", and a dependent with its own
   * condition would otherwise never be applied where the dependency is not needed.
   */
  blockedBy(r: BundleResource): string | undefined {
    for (const dep of r.depends_on) {
      const outcome = this.outcomes.get(dep);
      if (outcome === 'failed') return `depends on ${dep} which failed`;
      if (outcome === 'blocked') return `depends on ${dep} which was blocked`;
    }
    return undefined;
  }

  /** A resource that lists `id` in `notify` changed (or, in observe mode, would change) in this run. */
  notified(id: string): boolean {
    return (this.notifiers.get(id) ?? []).some((source) => changes.has(this.outcomes.get(source) ?? 'none'));
  }
}
