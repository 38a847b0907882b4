/**
 * Framework compliance of the fleet, kept in memory. Each envoy's status is computed again when one of its
 * runs is stored (inside the results batch: outcomes are written in its transaction, statuses move after
 * it commits), when a configuration is activated (every envoy, in time slices), and when a waiver expires.
 * Reads never touch the database; the outcomes table is read once, at boot.
 */
import type { Reachability } from '../convergence/index.ts';
import type { DriftLevel } from '../convergence/index.ts';
import type { Logger } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import type { CompiledSnapshot, CompiledWaiver } from '../policy/index.ts';
import type { Db } from '../store/index.ts';
import type { EnvoyCompliance, ResourceOutcome, StoredOutcome, WaiverMatcher } from './model.ts';
import { compileWaivers, evaluateEnvoy, outcomeKey, resourceOutcomes } from './model.ts';
import { riskScore } from './risk.ts';
import type { RiskScore } from './risk.ts';
import { loadOutcomes, prepareExpiryLedger, prepareOutcomeWriter } from './store.ts';
import { ComplianceTally } from './tally.ts';

/** What compliance needs to know of an envoy (an EnvoyEntry of the FleetIndex). */
export interface ComplianceHost {
  readonly id: string;
  readonly hostname: string;
  readonly status: 'active' | 'revoked';
  readonly convergence: { readonly drift: DriftLevel };
}

export interface ComplianceDeps {
  readonly db: Db;
  readonly log: Logger;
  readonly bus?: EventBus;
  readonly host: (envoyId: string) => ComplianceHost | undefined;
  readonly hosts: () => Iterable<ComplianceHost>;
  readonly reachability: (host: ComplianceHost) => Reachability;
  readonly now?: () => number;
  /** Longest a slice of a full recompute keeps the event loop (default 10 ms). */
  readonly sliceMs?: number;
}

/** A run as the results committer stores it (the fields compliance reads). */
export interface ComplianceRun {
  readonly runId: string;
  readonly envoyId: string;
  readonly startedAtMs: number;
  readonly dryRun: boolean;
  readonly results: readonly { resourceId: string; configcrate: string; outcome: ResourceOutcome }[];
}

export interface EnvoyReport extends EnvoyCompliance {
  readonly risk: RiskScore;
}

export interface WaiverView extends CompiledWaiver {
  readonly expired: boolean;
  /** Envoys it covers now (0 once expired). */
  readonly envoys: number;
}

export interface ComplianceService {
  /** Inside the results batch transaction: the run was stored for the first time. */
  stage(run: ComplianceRun): void;
  commit(): void;
  rollback(): void;
  /** A configuration became active: every envoy is evaluated again, in slices. */
  activate(snapshot: CompiledSnapshot | undefined): void;
  /** Evaluates one envoy again now (enrolled); a revoked or unknown envoy leaves the aggregates. */
  refresh(envoyId: string): void;
  /** Resolves when the last full recompute has finished. */
  settled(): Promise<void>;
  readonly tally: ComplianceTally;
  envoy(envoyId: string): EnvoyReport | undefined;
  /** An envoy's last evaluation, without the risk score. */
  status(envoyId: string): EnvoyCompliance | undefined;
  /** Every evaluated envoy (for exports), in no particular order. */
  statuses(): Iterable<EnvoyCompliance>;
  waivers(): WaiverView[];
  snapshot(): CompiledSnapshot | undefined;
  close(): void;
}

const outcomeSet: ReadonlySet<string> = new Set(resourceOutcomes);
/** setTimeout's longest delay; a later expiry is checked again at this distance. */
const maxTimerMs = 2 ** 31 - 1;

function waiversOf(snapshot: CompiledSnapshot | undefined): CompiledWaiver[] {
  const w = (snapshot?.compliance as { waivers?: unknown } | undefined)?.waivers;
  return Array.isArray(w) ? (w as CompiledWaiver[]) : [];
}

function claimsOf(snapshot: CompiledSnapshot | undefined): Record<string, unknown> {
  const c = (snapshot?.compliance as { claims?: unknown } | undefined)?.claims;
  return c !== null && typeof c === 'object' ? (c as Record<string, unknown>) : {};
}

export function createComplianceService(deps: ComplianceDeps): ComplianceService {
  const now = deps.now ?? Date.now;
  const sliceMs = deps.sliceMs ?? 10;
  const outcomes = loadOutcomes(deps.db);
  const writer = prepareOutcomeWriter(deps.db);
  const ledger = prepareExpiryLedger(deps.db);
  const tally = new ComplianceTally();
  const statuses = new Map<string, EnvoyCompliance>();
  let snapshot: CompiledSnapshot | undefined;
  let matchers: WaiverMatcher[] = [];
  let claimedCrates: Record<string, unknown> = {};
  const staged = new Map<string, Map<string, StoredOutcome>>();
  let generation = 0;
  let recompute: Promise<void> = Promise.resolve();
  let expiryTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const evaluate = (envoyId: string, atMs: number): void => {
    const host = deps.host(envoyId);
    const before = statuses.get(envoyId);
    if (host === undefined || host.status === 'revoked') {
      tally.move(before, undefined);
      statuses.delete(envoyId);
      return;
    }
    const after = evaluateEnvoy(
      snapshot,
      matchers,
      { envoyId, hostname: host.hostname, outcomes: outcomes.get(envoyId) ?? new Map() },
      atMs,
    );
    tally.move(before, after);
    statuses.set(envoyId, after);
  };

  const recomputeAll = (): Promise<void> => {
    const mine = ++generation;
    const ids = [...deps.hosts()].map((h) => h.id);
    // Envoys that left the index (deleted) leave the aggregates too.
    for (const id of statuses.keys()) if (deps.host(id) === undefined) evaluate(id, now());
    let next = 0;
    return new Promise<void>((resolve) => {
      const slice = (): void => {
        if (mine !== generation || closed) return resolve();
        const until = performance.now() + sliceMs;
        const atMs = now();
        while (next < ids.length && performance.now() < until) evaluate(ids[next++]!, atMs);
        if (next < ids.length) setImmediate(slice);
        else resolve();
      };
      slice();
    });
  };

  const announceExpiries = (): boolean => {
    let any = false;
    const atMs = now();
    for (const w of waiversOf(snapshot)) {
      if (w.expiresAtMs > atMs) continue;
      if (!ledger.announce(w, atMs)) continue;
      any = true;
      deps.log.info('compliance waiver expired', {
        waiverId: w.id,
        framework: w.framework,
        control: w.control,
      });
      deps.bus?.publish('compliance.waiver_expired', {
        waiverId: w.id,
        framework: w.framework,
        control: w.control,
        match: w.match,
        owner: w.owner,
        reason: w.reason,
        expires: w.expires,
        source: w.source,
      });
    }
    return any;
  };

  const scheduleExpiry = (): void => {
    if (expiryTimer !== undefined) clearTimeout(expiryTimer);
    expiryTimer = undefined;
    if (closed) return;
    const atMs = now();
    const next = Math.min(
      ...waiversOf(snapshot).map((w) => (w.expiresAtMs > atMs ? w.expiresAtMs : Infinity)),
    );
    if (!Number.isFinite(next)) return;
    expiryTimer = setTimeout(onExpiryTimer, Math.min(maxTimerMs, Math.max(0, next - atMs) + 1));
    expiryTimer.unref();
  };

  function onExpiryTimer(): void {
    expiryTimer = undefined;
    announceExpiries();
    recompute = recomputeAll();
    scheduleExpiry();
  }

  return {
    tally,
    stage(run) {
      if (run.dryRun) return;
      for (const r of run.results) {
        if (r.configcrate === '' || !Object.hasOwn(claimedCrates, r.configcrate)) continue;
        if (!outcomeSet.has(r.outcome)) continue;
        const key = outcomeKey(r.configcrate, r.resourceId);
        const envoyStaged = staged.get(run.envoyId) ?? new Map<string, StoredOutcome>();
        const known = envoyStaged.get(key) ?? outcomes.get(run.envoyId)?.get(key);
        // A late delivery from an agent's offline queue does not replace a newer outcome.
        if (known !== undefined && known.runStartedAtMs > run.startedAtMs) continue;
        writer.write(run.envoyId, r.configcrate, r.resourceId, r.outcome, run.runId, run.startedAtMs);
        envoyStaged.set(key, { outcome: r.outcome, runId: run.runId, runStartedAtMs: run.startedAtMs });
        staged.set(run.envoyId, envoyStaged);
      }
    },
    commit() {
      const atMs = now();
      for (const [envoyId, changes] of staged) {
        let map = outcomes.get(envoyId);
        if (map === undefined) outcomes.set(envoyId, (map = new Map<string, StoredOutcome>()));
        for (const [key, value] of changes) map.set(key, value);
        evaluate(envoyId, atMs);
      }
      staged.clear();
    },
    rollback() {
      staged.clear();
    },
    activate(next) {
      snapshot = next;
      matchers = compileWaivers(waiversOf(next));
      claimedCrates = claimsOf(next);
      announceExpiries();
      recompute = recomputeAll();
      scheduleExpiry();
    },
    refresh(envoyId) {
      evaluate(envoyId, now());
    },
    settled: () => recompute,
    envoy(envoyId) {
      const host = deps.host(envoyId);
      // Not evaluated yet (a recompute still under way at boot): evaluate it now rather than answer nothing.
      if (host !== undefined && host.status === 'active' && !statuses.has(envoyId)) evaluate(envoyId, now());
      const status = statuses.get(envoyId);
      if (status === undefined || host === undefined) return undefined;
      let claimed = 0;
      let failing = 0;
      for (const f of status.frameworks) {
        claimed += f.claimed;
        failing += f.failing;
      }
      const risk = riskScore({
        claimed,
        failing,
        drift: host.convergence.drift,
        reachability: deps.reachability(host),
        activeWaivers: status.activeWaivers.length,
        pendingSecurityUpdates: undefined,
      });
      return { ...status, risk };
    },
    status: (envoyId) => statuses.get(envoyId),
    statuses: () => statuses.values(),
    waivers() {
      const atMs = now();
      return waiversOf(snapshot).map((w) => ({
        ...w,
        expired: w.expiresAtMs <= atMs,
        envoys: w.expiresAtMs <= atMs ? 0 : tally.waiverEnvoyCount(w.id),
      }));
    },
    snapshot: () => snapshot,
    close() {
      closed = true;
      if (expiryTimer !== undefined) clearTimeout(expiryTimer);
      expiryTimer = undefined;
    },
  };
}
