/**
 * Applies a bundle: resources in array order (already topological), each through its executor
 * (check → act only on drift → verify), with dependency blocking, `when:` conditions, notifications,
 * revert, and secrets resolved for this run only. A resource's failure never stops the run; only
 * its dependents are blocked.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { VigoError } from '../../server/core/index.ts';
import { evaluateWhen, parseWhen } from '../../server/policy/when/index.ts';
import type { AgentProbes } from '../../server/policy/when/index.ts';
import type { CommandRunner, Executor, ExecutorContext } from '../executors/types.ts';
import type { BundleDocument, BundleResource } from './bundle-document.ts';
import type { FileSnapshotStore } from './file-snapshots.ts';
import { RunState } from './run-state.ts';
import type { ResourceOutcome } from './run-state.ts';
import {
  collectMarkerPaths,
  createScrubber,
  substituteMarkers,
  substituteMarkersInWhen,
} from './secret-values.ts';

export type { ResourceOutcome } from './run-state.ts';

export interface ResourceResult {
  readonly resourceId: string;
  readonly resourceType: string;
  readonly configcrate: string;
  readonly outcome: ResourceOutcome;
  /** For a person; secret values replaced by "[secret]", at most 4 KiB. */
  readonly message: string;
  readonly durationMs: number;
}

export interface RunRecord {
  readonly runId: string;
  readonly policyVersion: number;
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  /** Observe mode (the bundle's observe_only or the agent's --dry-run): changes are would-be changes. */
  readonly dryRun: boolean;
  /** One per bundle resource, in apply order. */
  readonly results: readonly ResourceResult[];
}

export interface ApplyOptions {
  /** A document that passed parseBundleDocument. */
  readonly bundle: BundleDocument;
  /** Executors by resource type. */
  readonly executors: ReadonlyMap<string, Executor>;
  readonly dryRun: boolean;
  readonly traits: Record<string, unknown>;
  readonly probes: AgentProbes;
  /** ResolveSecrets: called at most once per run, with every path the bundle uses. */
  resolveSecrets(paths: string[]): Promise<Map<string, string>>;
  readonly run: CommandRunner;
  readonly snapshots: FileSnapshotStore;
  readonly customExecutorDir: string;
  /** Aborted on agent shutdown: the running executor stops early, the rest are not attempted. */
  readonly signal: AbortSignal;
  readonly now?: () => number;
  /** Defaults to a fresh UUID. */
  readonly runId?: string;
  /** Called after each resource, for streaming progress; an exception thrown here is ignored. */
  readonly onResult?: (result: ResourceResult) => void;
}

/** agent.proto ResourceResult.message limit. */
export const maxMessageBytes = 4096;
const maxDurationMs = 2 ** 32 - 1;
const executorOutcomes: ReadonlySet<string> = new Set([
  'none',
  'created',
  'updated',
  'deleted',
  'skipped',
  'failed',
]);

interface Verdict {
  readonly outcome: ResourceOutcome;
  readonly message: string;
}

interface Secrets {
  readonly values: ReadonlyMap<string, string>;
  /** Why ResolveSecrets gave nothing, when it threw. */
  readonly failure: string | undefined;
}

interface RunEnv {
  readonly options: ApplyOptions;
  readonly state: RunState;
  readonly secrets: Secrets;
  readonly ctx: ExecutorContext;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function assertNotExpired(bundle: BundleDocument, nowMs: number): void {
  if (bundle.expires_at_ms > nowMs) return;
  throw new VigoError(
    'agent.bundle_expired',
    `the bundle for policy version ${bundle.policy_version} expired at ${new Date(bundle.expires_at_ms).toISOString()} ` +
      `(agent clock: ${new Date(nowMs).toISOString()}); nothing was applied. The agent needs a fresh bundle: ` +
      `check that it can reach the server and that its clock is right`,
    { policyVersion: bundle.policy_version, expiresAtMs: bundle.expires_at_ms, nowMs },
  );
}

async function loadSecrets(options: ApplyOptions): Promise<Secrets> {
  const paths = new Set(options.bundle.secret_paths);
  for (const r of options.bundle.resources) collectMarkerPaths([r.params, r.on_revert, r.when], paths);
  if (paths.size === 0) return { values: new Map(), failure: undefined };
  try {
    const resolved = await options.resolveSecrets([...paths].sort());
    const values = new Map<string, string>();
    for (const [k, v] of resolved) if (typeof v === 'string') values.set(k, v);
    return { values, failure: undefined };
  } catch (err) {
    return { values: new Map(), failure: errorText(err) };
  }
}

function unavailable(missing: readonly string[], secrets: Secrets): Verdict {
  const why =
    secrets.failure === undefined
      ? 'the server did not return it'
      : `ResolveSecrets failed: ${secrets.failure}`;
  return { outcome: 'failed', message: `secret ${missing.join(', ')} unavailable (${why})` };
}

/** Undefined = go ahead; otherwise why the resource is skipped (or failed, when the condition is broken). */
function gate(r: BundleResource, env: RunEnv): Verdict | undefined {
  let changedOnly = false;
  if (r.when !== null) {
    const text = substituteMarkersInWhen(r.when, env.secrets.values);
    if (!text.ok) return unavailable(text.missing, env.secrets);
    try {
      const expr = parseWhen(text.value, { file: 'bundle', line: 1, col: 1 });
      changedOnly = expr.isChangedOnly;
      if (!changedOnly) {
        const wanted = evaluateWhen(expr, {
          vars: {},
          traits: env.options.traits,
          probes: env.options.probes,
        });
        if (!wanted) return { outcome: 'skipped', message: `when: ${r.when} is false` };
      }
    } catch (err) {
      return { outcome: 'failed', message: `when: ${r.when} could not be evaluated: ${errorText(err)}` };
    }
  }
  if ((r.only_when_notified || changedOnly) && !env.state.notified(r.id))
    return { outcome: 'skipped', message: 'not notified' };
  return undefined;
}

/**
 * The fields to hand the executor. `on_revert` is laid over `params` (it is checked at publish as a
 * partial of the type, like a `case:` override). A notified running service is restarted: the
 * executor contract has no "notified" flag, and state "restarted" is exactly that request.
 */
function fieldsFor(r: BundleResource, notified: boolean): Record<string, unknown> {
  const fields = r.revert && r.on_revert !== null ? { ...r.params, ...r.on_revert } : { ...r.params };
  if (notified && r.type === 'service' && fields.state === 'running') fields.state = 'restarted';
  return fields;
}

async function execute(executor: Executor, fields: Record<string, unknown>, env: RunEnv): Promise<Verdict> {
  try {
    const result = await executor.apply(fields, env.ctx);
    if (!executorOutcomes.has(result.outcome) || typeof result.message !== 'string')
      return { outcome: 'failed', message: `the ${executor.type} executor returned an invalid result` };
    return { outcome: result.outcome, message: result.message };
  } catch (err) {
    return {
      outcome: 'failed',
      message: `the ${executor.type} executor failed unexpectedly: ${errorText(err)}`,
    };
  }
}

async function applyOne(r: BundleResource, env: RunEnv): Promise<Verdict> {
  if (env.options.signal.aborted)
    return { outcome: 'blocked', message: 'not attempted: the agent is shutting down' };
  const blocked = env.state.blockedBy(r);
  if (blocked !== undefined) return { outcome: 'blocked', message: blocked };
  if (r.revert && r.on_revert === null)
    return { outcome: 'failed', message: 'revert: true without on_revert fields: nothing to revert' };
  const gated = gate(r, env);
  if (gated !== undefined) return gated;
  const executor = env.options.executors.get(r.type);
  if (executor === undefined)
    return { outcome: 'failed', message: `no executor for type ${r.type} on this agent` };
  const fields = substituteMarkers(fieldsFor(r, env.state.notified(r.id)), env.secrets.values);
  if (!fields.ok) return unavailable(fields.missing, env.secrets);
  return execute(executor, fields.value, env);
}

/**
 * Observe mode changes nothing, so a directory an earlier resource "would create" is still missing
 * when a later resource puts a file in it. The run remembers those directories, with their parents
 * (a directory is created with its missing parents), so the later resource reports a would-be
 * change instead of a failure.
 */
function plannedDirectories(): {
  record(r: BundleResource, outcome: ResourceOutcome): void;
  has(dir: string): boolean;
} {
  const dirs = new Set<string>();
  return {
    record: (r, outcome) => {
      const target = r.params['target_path'];
      if (r.type !== 'directory' || outcome !== 'created' || typeof target !== 'string') return;
      for (let dir = path.resolve(target); !dirs.has(dir); dir = path.dirname(dir)) {
        dirs.add(dir);
        if (path.dirname(dir) === dir) break;
      }
    },
    has: (dir) => dirs.has(path.resolve(dir)),
  };
}

/** Cuts at a UTF-8 character boundary so the report stays within the protocol's limit. */
export function limitMessage(message: string): string {
  if (Buffer.byteLength(message, 'utf8') <= maxMessageBytes) return message;
  const head = Buffer.from(message, 'utf8')
    .subarray(0, maxMessageBytes - 3)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
  return `${head}…`;
}

function report(onResult: ApplyOptions['onResult'], result: ResourceResult): void {
  try {
    onResult?.(result);
  } catch {
    // Progress streaming is best effort; a broken listener must not stop a run half-way.
  }
}

/**
 * Applies `bundle` and returns the run record. Throws VigoError `agent.bundle_expired` (nothing
 * applied) for an expired bundle; every per-resource problem becomes that resource's outcome instead.
 */
export async function applyBundle(options: ApplyOptions): Promise<RunRecord> {
  const now = options.now ?? Date.now;
  const startedAtMs = now();
  assertNotExpired(options.bundle, startedAtMs);
  const dryRun = options.dryRun || options.bundle.observe_only;
  const secrets = await loadSecrets(options);
  const scrub = createScrubber(secrets.values);
  const planned = plannedDirectories();
  const ctx: ExecutorContext = {
    dryRun,
    run: options.run,
    customExecutorDir: options.customExecutorDir,
    signal: options.signal,
    // Observe mode changes nothing, so there is nothing to preserve (and the store is not touched).
    snapshotFile: async (file) => {
      if (!dryRun) await options.snapshots.snapshot(file);
    },
    wouldCreateDir: (dir) => dryRun && planned.has(dir),
  };
  const env: RunEnv = { options, state: new RunState(options.bundle.resources), secrets, ctx };
  const results: ResourceResult[] = [];
  for (const r of options.bundle.resources) {
    const beganMs = now();
    const verdict = await applyOne(r, env);
    env.state.record(r.id, verdict.outcome);
    if (dryRun) planned.record(r, verdict.outcome);
    const result: ResourceResult = {
      resourceId: r.id,
      resourceType: r.type,
      configcrate: r.configcrate,
      outcome: verdict.outcome,
      message: limitMessage(scrub(verdict.message)),
      durationMs: Math.min(maxDurationMs, Math.max(0, Math.round(now() - beganMs))),
    };
    results.push(result);
    report(options.onResult, result);
  }
  return {
    runId: options.runId ?? randomUUID(),
    policyVersion: options.bundle.policy_version,
    startedAtMs,
    finishedAtMs: Math.max(startedAtMs, now()),
    dryRun,
    results,
  };
}
