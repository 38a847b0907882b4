/**
 * Fleet aggregates per framework, kept in memory and moved by each envoy's change: an envoy's previous
 * status is subtracted and its new one added, so no read walks the fleet.
 */
import type { ControlState, EnvoyCompliance } from './model.ts';
import { coveragePct } from './model.ts';

export type StateCounts = Record<ControlState, number>;

const zero = (): StateCounts => ({ enforced: 0, failing: 0, waived: 0, pending: 0 });

interface FrameworkTally {
  envoys: number;
  pairs: StateCounts;
  controls: Map<string, StateCounts>;
  failingEnvoys: Set<string>;
}

export interface FrameworkSummary {
  readonly framework: string;
  /** Envoys that claim at least one control of it. */
  readonly envoys: number;
  /** Distinct controls claimed on some envoy. */
  readonly controls: number;
  /** Envoy × control pairs, by state. */
  readonly claimed: number;
  readonly enforced: number;
  readonly failing: number;
  readonly waived: number;
  readonly pending: number;
  readonly coveragePct: number;
  /** Envoys with at least one failing control. */
  readonly failingEnvoys: number;
}

export interface ControlSummary extends StateCounts {
  readonly control: string;
  readonly envoys: number;
}

export class ComplianceTally {
  private readonly frameworks = new Map<string, FrameworkTally>();
  private readonly waiverEnvoys = new Map<string, number>();

  move(before: EnvoyCompliance | undefined, after: EnvoyCompliance | undefined): void {
    if (before !== undefined) this.apply(before, -1);
    if (after !== undefined) this.apply(after, 1);
  }

  private apply(status: EnvoyCompliance, sign: 1 | -1): void {
    for (const id of status.activeWaivers) {
      const n = (this.waiverEnvoys.get(id) ?? 0) + sign;
      if (n === 0) this.waiverEnvoys.delete(id);
      else this.waiverEnvoys.set(id, n);
    }
    for (const f of status.frameworks) {
      let t = this.frameworks.get(f.framework);
      if (t === undefined) {
        t = { envoys: 0, pairs: zero(), controls: new Map(), failingEnvoys: new Set() };
        this.frameworks.set(f.framework, t);
      }
      t.envoys += sign;
      t.pairs.enforced += sign * f.enforced;
      t.pairs.failing += sign * f.failing;
      t.pairs.waived += sign * f.waived;
      t.pairs.pending += sign * f.pending;
      if (f.failing > 0) {
        if (sign === 1) t.failingEnvoys.add(status.envoyId);
        else t.failingEnvoys.delete(status.envoyId);
      }
      for (const c of f.controls) {
        let counts = t.controls.get(c.control);
        if (counts === undefined) t.controls.set(c.control, (counts = zero()));
        counts[c.state] += sign;
        if (counts.enforced + counts.failing + counts.waived + counts.pending === 0)
          t.controls.delete(c.control);
      }
      if (t.envoys === 0) this.frameworks.delete(f.framework);
    }
  }

  summaries(): FrameworkSummary[] {
    return [...this.frameworks.keys()].sort().map((f) => this.summary(f)!);
  }

  summary(framework: string): FrameworkSummary | undefined {
    const t = this.frameworks.get(framework);
    if (t === undefined) return undefined;
    const { enforced, failing, waived, pending } = t.pairs;
    const claimed = enforced + failing + waived + pending;
    return {
      framework,
      envoys: t.envoys,
      controls: t.controls.size,
      claimed,
      enforced,
      failing,
      waived,
      pending,
      coveragePct: coveragePct(claimed, enforced, waived),
      failingEnvoys: t.failingEnvoys.size,
    };
  }

  controls(framework: string): ControlSummary[] {
    const t = this.frameworks.get(framework);
    if (t === undefined) return [];
    return [...t.controls.keys()].sort().map((control) => {
      const c = t.controls.get(control)!;
      return { control, envoys: c.enforced + c.failing + c.waived + c.pending, ...c };
    });
  }

  failingEnvoys(framework: string): ReadonlySet<string> {
    return this.frameworks.get(framework)?.failingEnvoys ?? new Set();
  }

  /** Envoys an active waiver currently covers. */
  waiverEnvoyCount(waiverId: string): number {
    return this.waiverEnvoys.get(waiverId) ?? 0;
  }
}
