/**
 * Framework compliance of one envoy, as a pure function of the active snapshot's claims and waivers, the
 * last outcome of each claiming resource and the time (docs/compliance.md has the exact definitions).
 */
import type { CompiledSnapshot, CompiledWaiver } from '../policy/index.ts';
import { compileGlob } from '../policy/index.ts';

export type ResourceOutcome = 'none' | 'created' | 'updated' | 'deleted' | 'skipped' | 'blocked' | 'failed';
export const resourceOutcomes: readonly ResourceOutcome[] = [
  'none',
  'created',
  'updated',
  'deleted',
  'skipped',
  'blocked',
  'failed',
];

export const controlStates = ['enforced', 'failing', 'waived', 'pending'] as const;
export type ControlState = (typeof controlStates)[number];

export interface StoredOutcome {
  readonly outcome: ResourceOutcome;
  readonly runId: string;
  readonly runStartedAtMs: number;
}

/** One envoy's claiming resources' last outcomes, keyed by `configcrate \0 resource id`. */
export type OutcomeMap = ReadonlyMap<string, StoredOutcome>;

export function outcomeKey(configcrate: string, resourceId: string): string {
  return `${configcrate}\0${resourceId}`;
}

export interface ClaimingResource {
  readonly configcrate: string;
  readonly resourceId: string;
  /** Undefined until a run reported it. */
  readonly outcome: ResourceOutcome | undefined;
  readonly runId: string | undefined;
}

export interface ControlStatus {
  readonly control: string;
  readonly state: ControlState;
  readonly resources: readonly ClaimingResource[];
  /** Ids of the active waivers that cover it (the state is `waived` when there is one). */
  readonly waivers: readonly string[];
}

export interface FrameworkStatus {
  readonly framework: string;
  /** Sorted by control id. */
  readonly controls: readonly ControlStatus[];
  readonly claimed: number;
  readonly enforced: number;
  readonly failing: number;
  readonly waived: number;
  readonly pending: number;
  /** (enforced + waived) / claimed × 100, one decimal. */
  readonly coveragePct: number;
}

export interface EnvoyCompliance {
  readonly envoyId: string;
  readonly hostname: string;
  /** The match entry that serves it, or null (no claims without one). */
  readonly entryId: string | null;
  /** Sorted by framework. */
  readonly frameworks: readonly FrameworkStatus[];
  /** Ids of the active waivers that match this envoy's hostname, whatever they waive. */
  readonly activeWaivers: readonly string[];
  readonly computedAtMs: number;
}

const applied: ReadonlySet<ResourceOutcome> = new Set(['none', 'created', 'updated', 'deleted']);
const broken: ReadonlySet<ResourceOutcome> = new Set(['failed', 'blocked']);

/** A waiver's globs compiled once per snapshot. */
export interface WaiverMatcher {
  readonly waiver: CompiledWaiver;
  matches(hostname: string): boolean;
}

export function compileWaivers(waivers: readonly CompiledWaiver[]): WaiverMatcher[] {
  return waivers.map((waiver) => {
    const globs = waiver.match.map((g) => compileGlob(g)).filter((g): g is RegExp => typeof g !== 'string');
    return { waiver, matches: (hostname) => globs.some((g) => g.test(hostname)) };
  });
}

/**
 * The state of one control from its claiming resources: `failing` when any last outcome is failed or
 * blocked; `enforced` when every one was reported, none failed and at least one was applied (not only
 * skipped); `pending` otherwise. An active waiver makes it `waived` whatever the outcomes.
 */
export function controlState(resources: readonly ClaimingResource[], waived: boolean): ControlState {
  if (waived) return 'waived';
  let anyApplied = false;
  let allReported = true;
  for (const r of resources) {
    if (r.outcome === undefined) allReported = false;
    else if (broken.has(r.outcome)) return 'failing';
    else if (applied.has(r.outcome)) anyApplied = true;
  }
  return allReported && anyApplied ? 'enforced' : 'pending';
}

export function coveragePct(claimed: number, enforced: number, waived: number): number {
  return claimed === 0 ? 0 : Math.round(((enforced + waived) / claimed) * 1000) / 10;
}

interface Draft {
  resources: ClaimingResource[];
}

/** Everything one envoy's compliance needs. */
export interface EnvoyInput {
  readonly envoyId: string;
  readonly hostname: string;
  readonly outcomes: OutcomeMap;
}

export function evaluateEnvoy(
  snapshot: CompiledSnapshot | undefined,
  waivers: readonly WaiverMatcher[],
  input: EnvoyInput,
  nowMs: number,
): EnvoyCompliance {
  const active = waivers.filter((w) => w.waiver.expiresAtMs > nowMs && w.matches(input.hostname));
  const base = {
    envoyId: input.envoyId,
    hostname: input.hostname,
    activeWaivers: active.map((w) => w.waiver.id),
    computedAtMs: nowMs,
  };
  const entry = snapshot?.matchEntry(input.hostname);
  if (snapshot === undefined || entry === undefined) return { ...base, entryId: null, frameworks: [] };
  const claims = snapshot.compliance.claims ?? {};
  const drafts = new Map<string, Map<string, Draft>>();
  for (const crate of entry.configcrates) {
    if (!Object.hasOwn(claims, crate.name)) continue;
    const ids = snapshot.instances.get(crate.instance)?.resources.map((r) => r.id) ?? [];
    const resources = ids.map((resourceId): ClaimingResource => {
      const stored = input.outcomes.get(outcomeKey(crate.name, resourceId));
      return { configcrate: crate.name, resourceId, outcome: stored?.outcome, runId: stored?.runId };
    });
    // A configcrate held back by a role's case: guard never reports; it claims nothing on this envoy.
    if (crate.when !== null && resources.every((r) => r.outcome === undefined)) continue;
    for (const [framework, controls] of Object.entries(claims[crate.name]!)) {
      const byControl = drafts.get(framework) ?? new Map<string, Draft>();
      drafts.set(framework, byControl);
      for (const control of controls) {
        const draft = byControl.get(control) ?? { resources: [] };
        draft.resources.push(...resources);
        byControl.set(control, draft);
      }
    }
  }
  const frameworks = [...drafts.keys()].sort().map((framework): FrameworkStatus => {
    const byControl = drafts.get(framework)!;
    const counts = { enforced: 0, failing: 0, waived: 0, pending: 0 };
    const controls = [...byControl.keys()].sort().map((control): ControlStatus => {
      const resources = byControl.get(control)!.resources;
      const covering = active
        .filter((w) => w.waiver.framework === framework && w.waiver.control === control)
        .map((w) => w.waiver.id);
      const state = controlState(resources, covering.length > 0);
      counts[state] += 1;
      return { control, state, resources, waivers: covering };
    });
    return {
      framework,
      controls,
      claimed: controls.length,
      ...counts,
      coveragePct: coveragePct(controls.length, counts.enforced, counts.waived),
    };
  });
  return { ...base, entryId: entry.id, frameworks };
}
