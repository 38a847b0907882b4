/**
 * Wires the publish pipeline to check-in: the active configuration is loaded from the database at boot,
 * and every activation (publish, approval, rollback) swaps the one pointer check-in reads. Optionally
 * publishes the configured stacks directory at start-up (`publish.at_start`).
 */
import path from 'node:path';
import type { ResolvedPaths } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import { isVigoError, systemCtx } from '../core/index.ts';
import type { PolicySource } from '../checkin/index.ts';
import { createEmptyPolicy, ensureActiveVersion, withTraitNeeds } from '../checkin/index.ts';
import type { FleetIndex } from '../fleet/index.ts';
import type { Pki } from '../pki/index.ts';
import type { CompiledQuery, CompiledSnapshot, CompiledWorkflow } from '../policy/index.ts';
import type { NamedTasks } from '../orchestration/index.ts';
import { createPublishService, createSnapshotPolicy, createValidatorPool } from '../publish/index.ts';
import type { PublishService } from '../publish/index.ts';
import type { Store } from '../store/index.ts';
import type { PublishMetrics } from '../metrics/index.ts';
import type { ConfigView } from './start.ts';

/** What no resource may manage: this server's files and the agent's, and both service units. */
export function guardrailTargets(paths: ResolvedPaths): {
  protectedPaths: string[];
  protectedServices: string[];
} {
  const packageRoot = path.resolve(import.meta.dirname, '..', '..');
  return {
    protectedPaths: [
      paths.dataDir,
      packageRoot,
      '/srv/vigo',
      '/var/lib/vigo',
      '/usr/local/lib/vigo',
      '/usr/local/bin/vigo',
      '/etc/vigo-envoy',
      '/etc/systemd/system/vigosrv.service',
      '/etc/systemd/system/vigo-envoy.service',
    ],
    protectedServices: ['vigosrv', 'vigo-envoy'],
  };
}

export interface PolicyRuntime {
  readonly publish: PublishService;
  current(): PolicySource;
  /** The named tasks (tasks.vgo) of the active configuration. */
  readonly namedTasks: NamedTasks;
  /** The workflows (workflows.vgo) of the active configuration. */
  workflows(): Readonly<Record<string, CompiledWorkflow>>;
  /** The active configuration version. */
  activeVersion(): number;
  /** The named queries (queries.vgo) of the active configuration, by name. */
  namedQueries(): Readonly<Record<string, CompiledQuery>>;
  /** Secret paths the envoy's current bundle references. */
  secretPathsFor: (envoy: Parameters<PolicySource['bundleFor']>[0]) => ReadonlySet<string>;
  /** Publishes `paths.stacksDir` when it differs from the active configuration; logs and keeps serving otherwise. */
  publishAtStart(): Promise<void>;
  /**
   * Without a start-up publish: validates the active version's kept upload again in the background, so
   * the validator is warm for the next publish, and warns when the active stacks no longer validate.
   */
  revalidateAtStart(): Promise<void>;
  /** Refuses validations still queued or running and stops the validator worker (drain). */
  close(): Promise<void>;
}

export interface PolicyRuntimeDeps {
  store: Store;
  fleet: FleetIndex;
  pki: Pki;
  paths: ResolvedPaths;
  view: ConfigView;
  log: Logger;
  /** Every path the secrets provider holds, for `secret.unresolved` (paths only, never values). */
  secretPaths: () => readonly string[];
  secretsEpoch: () => number;
  /** Times and counts publishes (the start-up publish included) and follows the active version. */
  metrics?: PublishMetrics;
  /** Told about every activated configuration (at boot too), after check-in serves it. */
  onActivate?: (version: number, snapshot: CompiledSnapshot | undefined) => void;
}

const noSecrets: ReadonlySet<string> = new Set();

export function createPolicyRuntime(deps: PolicyRuntimeDeps): PolicyRuntime {
  const { store, fleet, pki, view } = deps;
  const log = deps.log.child({ component: 'publish' });
  const traitsRow = store.db.prepare('SELECT json FROM traits WHERE hash = ?').pluck();
  let current: PolicySource;
  let secretPathsFor: PolicyRuntime['secretPathsFor'] = () => noSecrets;
  let activeSnapshot: CompiledSnapshot | undefined;
  let activeVersion = 0;

  const activate = (version: number, snapshot: CompiledSnapshot | undefined): void => {
    activeSnapshot = snapshot;
    activeVersion = version;
    const common = {
      version,
      signingKey: pki.bundleSigningKey,
      maxAgeMs: () => view.current['checkin.bundle_max_age'],
      observeOnly: () => view.current['checkin.observe_only'],
    };
    if (snapshot === undefined) {
      current = createEmptyPolicy(common);
      secretPathsFor = () => noSecrets;
      return;
    }
    const policy = createSnapshotPolicy({
      ...common,
      snapshot,
      secretsEpoch: deps.secretsEpoch,
      traitsJson: (hash) => fleet.pendingTraitsJson(hash) ?? (traitsRow.get(hash) as string | undefined),
      onBundleFailure: ({ entryId, traitsHash, error }) =>
        log.warn('bundle render failed', {
          version,
          entryId,
          traitsHash,
          code: error.code,
          limit: error.details['limit'] ?? null,
          message: error.message,
        }),
    });
    current = withTraitNeeds(policy, (envoy) => snapshot.matchEntry(envoy.hostname)?.usesTraits === true);
    secretPathsFor = (envoy) => policy.secretPathsFor(envoy);
  };

  const validator = createValidatorPool({
    log,
    limits: () => ({
      timeoutMs: view.current['publish.validate_timeout'],
      maxHeapMb: view.current['publish.validate_max_heap_mb'],
      maxQueued: view.current['publish.validate_queue'],
    }),
  });
  const inner = createPublishService({
    store,
    log,
    fleet,
    validator,
    validatorOptions: () => {
      const guarded = guardrailTargets(deps.paths);
      const urlCheck = view.current['publish.url_check.enabled']
        ? {
            checkUrls: {
              timeoutMs: view.current['publish.url_check.timeout'],
              concurrency: view.current['publish.url_check.concurrency'],
              budgetMs: view.current['publish.url_check.budget'],
            },
          }
        : {};
      return {
        protectedPaths: [...guarded.protectedPaths, ...view.current['publish.protected_paths']],
        protectedServices: guarded.protectedServices,
        dataDir: deps.paths.dataDir,
        knownSecrets: deps.secretPaths(),
        ...urlCheck,
      };
    },
    approvalRequired: () => view.current['publish.approval'] === 'required',
    activate: (version, snapshot) => {
      activate(version, snapshot);
      deps.metrics?.activated(version, Date.now());
      deps.onActivate?.(version, snapshot);
    },
    scratchDir: path.join(deps.paths.dataDir, 'tmp'),
  });
  const publish = deps.metrics?.wrap(inner) ?? inner;

  ensureActiveVersion(store, Date.now());
  const loaded = publish.loadActive();
  activate(loaded.version, loaded.snapshot);
  deps.onActivate?.(loaded.version, loaded.snapshot);
  const activeRow = publish.status().active;
  deps.metrics?.activated(loaded.version, activeRow?.approvedAtMs ?? activeRow?.createdAtMs ?? Date.now());
  log.info('active config loaded', {
    version: loaded.version,
    entries: loaded.snapshot?.entries.length ?? 0,
  });

  return {
    publish,
    close: () => validator.close(),
    current: () => current,
    namedTasks: {
      find: (name) =>
        activeSnapshot !== undefined && Object.hasOwn(activeSnapshot.tasks, name)
          ? activeSnapshot.tasks[name]
          : undefined,
      carries: (hostname, name) => activeSnapshot?.matchEntry(hostname)?.tasks?.includes(name) === true,
    },
    workflows: () => activeSnapshot?.workflows ?? {},
    activeVersion: () => activeVersion,
    namedQueries: () => activeSnapshot?.queries ?? {},
    secretPathsFor: (envoy) => secretPathsFor(envoy),
    async revalidateAtStart() {
      const started = performance.now();
      try {
        const report = await publish.revalidateActive();
        if (report === undefined) return;
        const errors = report.diagnostics.filter((d) => d.severity === 'error');
        log.info('active stacks validated again at start', {
          version: report.version,
          ok: report.ok,
          errors: errors.length,
          ms: Math.round(performance.now() - started),
        });
        const first = errors[0];
        if (first !== undefined)
          log.warn('the active configuration no longer validates with this server; it is still served', {
            version: report.version,
            errors: errors.length,
            first: `${first.file}:${first.line}:${first.col} ${first.code}: ${first.message}`,
          });
      } catch (err) {
        if (!isVigoError(err)) throw err;
        log.warn('could not validate the active stacks again at start', {
          code: err.code,
          message: err.message,
        });
      }
    },

    async publishAtStart() {
      const dir = deps.paths.stacksDir;
      try {
        const result = await publish.publish(
          systemCtx(log),
          { kind: 'dir', dir },
          { message: `published at start-up from ${dir}` },
        );
        for (const d of result.diagnostics)
          log.warn('stacks diagnostic', { file: d.file, line: d.line, code: d.code, message: d.message });
        log.info('start-up publish', {
          dir,
          outcome: result.outcome,
          version: 'version' in result ? result.version : null,
        });
      } catch (err) {
        if (!isVigoError(err)) throw err;
        const details = err.details as {
          diagnostics?: {
            file: string;
            line: number;
            col: number;
            code: string;
            message: string;
            severity: string;
          }[];
        };
        for (const d of details.diagnostics ?? [])
          if (d.severity === 'error')
            log.error('stacks error', {
              file: `${d.file}:${d.line}:${d.col}`,
              code: d.code,
              message: d.message,
            });
        log.error('start-up publish refused; still serving the active configuration', {
          dir,
          code: err.code,
          message: err.message,
        });
      }
    },
  };
}
