/**
 * The publish pipeline: validate → compile → (approve) → activate, plus history, rollback and freeze.
 * Every state change and its audit entry share one transaction; the in-memory activation (one pointer
 * swap in check-in) happens only after that transaction commits, so the fleet is never served a
 * version the database does not record as active.
 */
import type { Logger } from '../core/index.ts';
import { VigoError, actorName } from '../core/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { FleetIndex } from '../fleet/index.ts';
import type { CompiledSnapshot } from '../policy/index.ts';
import type { Store } from '../store/index.ts';
import { createStacksCompiler } from './compile-stacks.ts';
import { createSnapshotCache } from './snapshot-cache.ts';
import type { ValidatorPool } from './validator-pool.ts';
import type { ValidatorOptions } from './validator-protocol.ts';
import * as versions from './versions.ts';
import { historyLimits } from './service-types.ts';
import type { PublishService } from './service-types.ts';
import type { VersionRow } from './versions.ts';

export interface PublishServiceDeps {
  store: Store;
  log: Logger;
  fleet: FleetIndex;
  /** Where every validation and compilation runs (a worker thread with its own limits). */
  validator: ValidatorPool;
  validatorOptions: () => ValidatorOptions;
  approvalRequired: () => boolean;
  /**
   * Swaps what check-in serves; called after the activating transaction has committed. No snapshot means
   * the empty configuration a fresh server starts with (reachable again by rollback).
   */
  activate: (version: number, snapshot: CompiledSnapshot | undefined) => void;
  /** Private directory where uploaded stacks are written for validation, then removed. */
  scratchDir: string;
  now?: () => number;
}

export function createPublishService(deps: PublishServiceDeps): PublishService {
  const now = deps.now ?? Date.now;
  const {
    keep,
    load: loadSnapshot,
    loadNow: loadSnapshotNow,
  } = createSnapshotCache(deps.store, deps.validator);

  const servedHostnames = (): string[] => {
    const out: string[] = [];
    for (const envoy of deps.fleet.values()) if (envoy.status !== 'revoked') out.push(envoy.hostname);
    return out;
  };

  const stacks = createStacksCompiler({
    validator: deps.validator,
    validatorOptions: deps.validatorOptions,
    scratchDir: deps.scratchDir,
    now,
    storedSnapshot: loadSnapshot,
  });

  const assertNotFrozen = (action: string): void => {
    const frozen = versions.readFreeze(deps.store.db);
    if (frozen !== undefined && frozen.untilMs > now()) {
      throw new VigoError(
        'publish.frozen',
        `publishing is frozen until ${new Date(frozen.untilMs).toISOString()}` +
          `${frozen.reason ? ` (${frozen.reason})` : ''}; ${action} refused. Unfreeze with "vigocli config unfreeze".`,
        { frozenUntil: new Date(frozen.untilMs).toISOString() },
      );
    }
  };

  const requireVersion = (version: number): VersionRow => {
    const row = versions.getVersion(deps.store.db, version);
    if (row === undefined)
      throw new VigoError('publish.version_not_found', `config version ${version} does not exist`, {
        version,
      });
    return row;
  };

  /** Makes `version` the active one inside the caller's transaction; the previous one gets `previousStatus`. */
  const switchActive = (
    version: number,
    previousStatus: 'superseded' | 'rolled_back',
  ): number | undefined => {
    const previous = versions.activeVersion(deps.store.db);
    if (previous !== undefined) versions.setStatus(deps.store.db, previous.version, previousStatus);
    versions.setStatus(deps.store.db, version, 'active');
    return previous?.version;
  };

  const activateInMemory = (version: number, snapshot: CompiledSnapshot | undefined): void => {
    if (snapshot !== undefined) keep(snapshot);
    deps.activate(version, snapshot);
    deps.log.info('config activated', {
      version,
      snapshotHash: snapshot?.hash ?? null,
      entries: snapshot?.entryCount ?? 0,
    });
  };

  return {
    async validate(source) {
      const result = await stacks.check(source);
      return {
        ok: result.snapshot !== undefined,
        diagnostics: result.diagnostics,
        snapshotHash: result.snapshot?.hash ?? null,
        entries: result.snapshot?.entries ?? 0,
      };
    },

    async revalidateActive() {
      const kept = versions.activeSource(deps.store.db);
      if (kept === undefined) return undefined;
      const report = await this.validate({ kind: 'upload', body: kept.body, form: kept.form });
      return { ...report, version: kept.version };
    },

    async publish(ctx, source, given) {
      // An upload body says itself whether it is a dry run: known once the worker has parsed it.
      if (source.kind !== 'upload' && !given.dryRun) assertNotFrozen('publish');
      const activeHash = versions.activeVersion(deps.store.db)?.snapshotHash;
      const {
        snapshot: candidate,
        body: compiledBody,
        diagnostics,
        impact,
        request,
        upload,
      } = await stacks.compile(source, {
        activeHash,
        hostnames: servedHostnames(),
        dbFile: deps.store.db.name,
      });
      const options = { ...given, ...request };
      if (!options.dryRun) assertNotFrozen('publish');
      const currentRow = versions.activeVersion(deps.store.db);
      const unchanged = currentRow !== undefined && currentRow.snapshotHash === candidate.hash;
      if (options.dryRun)
        return { outcome: 'dry_run', snapshotHash: candidate.hash, unchanged, diagnostics, impact };
      if (unchanged && currentRow !== undefined)
        return {
          outcome: 'unchanged',
          version: currentRow.version,
          snapshotHash: candidate.hash,
          diagnostics,
        };
      const by = actorName(ctx.actor);
      const pending = deps.approvalRequired();
      const version = deps.store.tx((db) => {
        assertNotFrozen('publish');
        const waiting = versions.pendingVersion(db);
        if (waiting !== undefined)
          throw new VigoError(
            'publish.pending_exists',
            `version ${waiting.version} (by ${waiting.createdBy}) is waiting for approval; approve or reject it first`,
            { version: waiting.version },
          );
        const next = versions.nextVersion(db);
        const nowMs = now();
        // Without a body the candidate is a snapshot already stored (it equalled the active one).
        if (compiledBody !== undefined) versions.storeSnapshot(db, candidate.hash, compiledBody, nowMs);
        versions.insertVersion(db, {
          version: next,
          snapshotHash: candidate.hash,
          createdAtMs: nowMs,
          createdBy: by,
          status: 'pending',
          message: options.message ?? null,
          source: source.kind === 'dir' ? `dir:${source.dir}` : 'upload',
        });
        if (!pending) switchActive(next, 'superseded');
        if (upload !== undefined && source.kind === 'upload')
          versions.storeSource(db, candidate.hash, source.form, upload, nowMs);
        appendAudit(db, {
          actor: by,
          action: pending ? 'config.publish_requested' : 'config.published',
          target: `config:${next}`,
          details: {
            snapshotHash: candidate.hash,
            message: options.message ?? null,
            entries: candidate.entryCount,
            envoysChanging: impact.envoysChanging,
          },
        });
        return next;
      });
      if (pending) {
        // Kept so that its approval activates it without loading it again.
        keep(candidate);
        return { outcome: 'pending', version, snapshotHash: candidate.hash, diagnostics, impact };
      }
      activateInMemory(version, candidate);
      return { outcome: 'activated', version, snapshotHash: candidate.hash, diagnostics, impact };
    },

    async approve(ctx, version) {
      const by = actorName(ctx.actor);
      const approvable = (target: VersionRow): void => {
        if (target.status !== 'pending')
          throw new VigoError('publish.not_pending', `version ${version} is ${target.status}, not pending`, {
            version,
          });
        if (target.createdBy === by)
          throw new VigoError(
            'publish.self_approval',
            `version ${version} was requested by ${by}; a different admin must approve it`,
            { version },
          );
        assertNotFrozen('approval');
      };
      const requested = requireVersion(version);
      approvable(requested);
      // Loaded before the transaction (in the worker when not at hand), so the commit and the switch of
      // what check-in serves follow each other with nothing in between.
      const snapshot = await loadSnapshot(requested.snapshotHash);
      deps.store.tx((db) => {
        const target = requireVersion(version);
        approvable(target);
        versions.markApproved(db, version, by, now());
        switchActive(version, 'superseded');
        appendAudit(db, {
          actor: by,
          action: 'config.approved',
          target: `config:${version}`,
          details: { requestedBy: target.createdBy, approvedBy: by, snapshotHash: target.snapshotHash },
        });
      });
      activateInMemory(version, snapshot);
      return { version };
    },

    reject(ctx, version, reason) {
      const by = actorName(ctx.actor);
      deps.store.tx((db) => {
        const target = requireVersion(version);
        if (target.status !== 'pending')
          throw new VigoError('publish.not_pending', `version ${version} is ${target.status}, not pending`, {
            version,
          });
        versions.setStatus(db, version, 'rejected');
        appendAudit(db, {
          actor: by,
          action: 'config.rejected',
          target: `config:${version}`,
          details: { requestedBy: target.createdBy, reason },
        });
      });
      return { version };
    },

    async rollback(ctx, toVersion, message, automatic) {
      const by = actorName(ctx.actor);
      const restorable = (target: VersionRow): void => {
        if (target.status === 'active')
          throw new VigoError(
            'publish.rollback_invalid',
            `version ${toVersion} is already the active version`,
            {
              version: toVersion,
            },
          );
        if (target.status === 'pending' || target.status === 'rejected')
          throw new VigoError(
            'publish.rollback_invalid',
            `version ${toVersion} was never active (${target.status}); only a version that was served can be restored`,
            { version: toVersion },
          );
      };
      const requested = requireVersion(toVersion);
      restorable(requested);
      const snapshot = await loadSnapshot(requested.snapshotHash);
      const next = deps.store.tx((db) => {
        const target = requireVersion(toVersion);
        restorable(target);
        const created = versions.nextVersion(db);
        versions.insertVersion(db, {
          version: created,
          snapshotHash: target.snapshotHash,
          createdAtMs: now(),
          createdBy: by,
          status: 'pending',
          message: message ?? `rollback to version ${toVersion}`,
          source: `rollback:${toVersion}`,
        });
        const from = switchActive(created, 'rolled_back');
        appendAudit(db, {
          actor: by,
          action: 'config.rolled_back',
          target: `config:${created}`,
          details: {
            fromVersion: from ?? null,
            toVersion,
            snapshotHash: target.snapshotHash,
            ...(automatic === undefined ? {} : { automatic: { reason: 'blast_radius', ...automatic } }),
          },
        });
        if (automatic !== undefined && from !== undefined)
          versions.writeAutoRollback(db, {
            ...automatic,
            rolledBack: from,
            restored: toVersion,
            version: created,
            atMs: now(),
            reason: message ?? `rollback to version ${toVersion}`,
          });
        return created;
      });
      activateInMemory(next, snapshot);
      return { version: next, restored: toVersion };
    },

    freeze(ctx, untilMs, reason) {
      if (!Number.isFinite(untilMs) || untilMs <= now())
        throw new VigoError('request.invalid', 'until: the freeze must end in the future', {
          field: 'until',
        });
      const state = { untilMs, reason };
      deps.store.tx((db) => {
        versions.writeFreeze(db, state);
        appendAudit(db, {
          actor: actorName(ctx.actor),
          action: 'config.frozen',
          target: 'config',
          details: { until: new Date(untilMs).toISOString(), reason },
        });
      });
      return state;
    },

    unfreeze(ctx) {
      return deps.store.tx((db) => {
        const before = versions.readFreeze(db);
        versions.writeFreeze(db, undefined);
        appendAudit(db, {
          actor: actorName(ctx.actor),
          action: 'config.unfrozen',
          target: 'config',
          details: { wasFrozenUntil: before ? new Date(before.untilMs).toISOString() : null },
        });
        return { wasFrozen: before !== undefined && before.untilMs > now() };
      });
    },

    history(limit = historyLimits.defaultLimit, beforeVersion) {
      return versions.listVersions(deps.store.db, Math.min(limit, historyLimits.maxLimit), beforeVersion);
    },

    async show(version) {
      const row = requireVersion(version);
      const previous = versions.listVersions(deps.store.db, 1, version)[0];
      // A diff walks every entry of two snapshots: the worker does it.
      const { entries, diff } = await deps.validator.diff(
        previous?.snapshotHash,
        row.snapshotHash,
        deps.store.db.name,
      );
      return { version: row, entries, diff, comparedWith: previous?.version ?? null };
    },

    async diff(version, against) {
      const row = requireVersion(version);
      const base =
        against === undefined ? versions.listVersions(deps.store.db, 1, version)[0] : requireVersion(against);
      const outcome = await deps.validator.diff(
        base?.snapshotHash,
        row.snapshotHash,
        deps.store.db.name,
        servedHostnames(),
      );
      if (outcome.impact === undefined)
        throw new VigoError('internal', 'the diff came back without its impact');
      return {
        version: row.version,
        against: base?.version ?? null,
        entries: outcome.entries,
        impact: outcome.impact,
      };
    },

    status() {
      const frozen = versions.readFreeze(deps.store.db);
      return {
        active: versions.activeVersion(deps.store.db),
        pending: versions.pendingVersion(deps.store.db),
        frozen: frozen !== undefined && frozen.untilMs > now() ? frozen : undefined,
        autoRollback: versions.readAutoRollback(deps.store.db),
      };
    },

    loadActive() {
      const active = versions.activeVersion(deps.store.db);
      if (active === undefined) throw new VigoError('internal', 'no active config version');
      return { version: active.version, snapshot: loadSnapshotNow(active.snapshotHash) };
    },
  };
}
