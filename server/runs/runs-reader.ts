/**
 * Reads of run history for the API, the web UI and the CLI: newest first, paged by start time, always
 * bounded, each query on an index (runs_envoy_started, runs_failed_started, runs_started_at,
 * runs_full_by_resources). Agents write runs through the results committer (run-writer.ts); nothing
 * here is on the check-in path.
 */
import { VigoError } from '../core/index.ts';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/index.ts';

export const runListLimits = { defaultLimit: 50, maxLimit: 500 } as const;
export const runStatuses = ['converged', 'changed', 'failed', 'partial'] as const;
export type RunStatus = (typeof runStatuses)[number];

export interface RunView {
  id: string;
  envoyId: string;
  hostname: string | null;
  policyVersion: number;
  startedAt: string;
  finishedAt: string;
  receivedAt: string;
  dryRun: boolean;
  status: string;
  resources: { total: number; changed: number; failed: number };
  /** Every resource was already as desired; stored without per-resource outcomes. */
  heartbeat: boolean;
}

export interface ResourceOutcomeView {
  resourceId: string;
  resourceType: string;
  configcrate: string | null;
  outcome: string;
  message: string | null;
  durationMs: number | null;
}

export interface RunDetail extends RunView {
  /** Each resource's outcome; empty for a heartbeat, whose resources all had outcome `none`. */
  results: ResourceOutcomeView[];
  /** SHA-256 (hex) of the set of resources the run checked; null for runs stored before it was kept. */
  resourcesDigest: string | null;
  /**
   * For a heartbeat: the newest earlier run of the envoy that checked the same resources (same digest)
   * and was stored with its outcomes, where they are listed. Null when none is kept (or not a heartbeat).
   */
  resourcesListedIn: { runId: string; startedAt: string } | null;
}

export interface RunPage {
  items: RunView[];
  /** Pass as `before` for the next page; null on the last page. */
  nextBefore: number | null;
}

export interface ListRunsOptions {
  envoyId?: string;
  status?: RunStatus;
  /** Only runs with at least one failed resource (status failed or partial). */
  failed?: boolean;
  /** Only runs started before this time (epoch ms). */
  before?: number;
  limit?: number;
}

interface RunRow {
  id: string;
  envoy_id: string;
  hostname: string | null;
  policy_version: number;
  started_at: number;
  finished_at: number;
  received_at: number;
  dry_run: number;
  status: string;
  resources_total: number;
  resources_changed: number;
  resources_failed: number;
  heartbeat: number;
}

interface DetailRow extends RunRow {
  resources_digest: Buffer | null;
}

interface ResultRow {
  resource_id: string;
  resource_type: string;
  configcrate: string | null;
  outcome: string;
  message: string | null;
  duration_ms: number | null;
}

function runView(row: RunRow): RunView {
  return {
    id: row.id,
    envoyId: row.envoy_id,
    hostname: row.hostname,
    policyVersion: row.policy_version,
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: new Date(row.finished_at).toISOString(),
    receivedAt: new Date(row.received_at).toISOString(),
    dryRun: row.dry_run === 1,
    status: row.status,
    resources: { total: row.resources_total, changed: row.resources_changed, failed: row.resources_failed },
    heartbeat: row.heartbeat === 1,
  };
}

function resultView(r: ResultRow): ResourceOutcomeView {
  return {
    resourceId: r.resource_id,
    resourceType: r.resource_type,
    configcrate: r.configcrate,
    outcome: r.outcome,
    message: r.message,
    durationMs: r.duration_ms,
  };
}

const columns = `r.id, r.envoy_id, e.hostname, r.policy_version, r.started_at, r.finished_at, r.received_at,
  r.dry_run, r.status, r.resources_total, r.resources_changed, r.resources_failed, r.heartbeat`;
const from = 'FROM runs r LEFT JOIN envoys e ON e.id = r.envoy_id';

export interface RunsReader {
  list(options: ListRunsOptions): RunPage;
  /** One run with every resource outcome; `not_found` when there is no such run. */
  get(id: string): RunDetail;
  /** The newest run of an envoy with its outcomes: what each resource looked like last time. */
  latestFor(envoyId: string): RunDetail | undefined;
}

export function createRunsReader(db: Db): RunsReader {
  const statements = {
    latest: db.prepare<[string], DetailRow>(
      `SELECT ${columns}, r.resources_digest ${from} WHERE r.envoy_id = ? ORDER BY r.started_at DESC LIMIT 1`,
    ),
    one: db.prepare<[string], DetailRow>(`SELECT ${columns}, r.resources_digest ${from} WHERE r.id = ?`),
    // One seek in runs_full_by_resources (full runs only).
    listedIn: db.prepare<
      [{ envoyId: string; before: number; digest: Buffer }],
      { id: string; started_at: number }
    >(
      `SELECT id, started_at FROM runs
       WHERE envoy_id = @envoyId AND resources_digest = @digest AND heartbeat = 0 AND started_at < @before
       ORDER BY started_at DESC LIMIT 1`,
    ),
    results: db.prepare<[string], ResultRow>(
      `SELECT resource_id, resource_type, configcrate, outcome, message, duration_ms
       FROM run_results WHERE run_id = ? ORDER BY seq`,
    ),
  };

  // One statement per combination of filters, prepared on first use. Every one walks an index newest
  // first: runs_envoy_started for an envoy, runs_failed_started (partial, failed runs only) for
  // `failed`, runs_started_at otherwise.
  const listStatements = new Map<string, Statement<(string | number)[], RunRow>>();
  const listStatement = (
    byEnvoy: boolean,
    byStatus: boolean,
    failed: boolean,
  ): Statement<(string | number)[], RunRow> => {
    const key = `${byEnvoy}/${byStatus}/${failed}`;
    let statement = listStatements.get(key);
    if (statement === undefined) {
      const where = [
        ...(byEnvoy ? ['r.envoy_id = ?'] : []),
        ...(byStatus ? ['r.status = ?'] : []),
        ...(failed ? ['r.resources_failed > 0'] : []),
        'r.started_at < ?',
      ].join(' AND ');
      statement = db.prepare<(string | number)[], RunRow>(
        `SELECT ${columns} ${from} WHERE ${where} ORDER BY r.started_at DESC LIMIT ?`,
      );
      listStatements.set(key, statement);
    }
    return statement;
  };

  const listedIn = (row: DetailRow): RunDetail['resourcesListedIn'] => {
    if (row.heartbeat !== 1 || row.resources_digest === null) return null;
    const found = statements.listedIn.get({
      envoyId: row.envoy_id,
      before: row.started_at,
      digest: row.resources_digest,
    });
    return found === undefined
      ? null
      : { runId: found.id, startedAt: new Date(found.started_at).toISOString() };
  };

  const detail = (row: DetailRow): RunDetail => ({
    ...runView(row),
    results: row.heartbeat === 1 ? [] : statements.results.all(row.id).map(resultView),
    resourcesDigest: row.resources_digest === null ? null : row.resources_digest.toString('hex'),
    resourcesListedIn: listedIn(row),
  });

  return {
    list(options) {
      const limit = Math.min(options.limit ?? runListLimits.defaultLimit, runListLimits.maxLimit);
      const before = options.before ?? Number.MAX_SAFE_INTEGER;
      const { envoyId, status } = options;
      const rows = listStatement(envoyId !== undefined, status !== undefined, options.failed === true).all(
        ...(envoyId === undefined ? [] : [envoyId]),
        ...(status === undefined ? [] : [status]),
        before,
        limit,
      );
      const last = rows.at(-1);
      return { items: rows.map(runView), nextBefore: rows.length === limit && last ? last.started_at : null };
    },
    get(id) {
      const row = statements.one.get(id);
      if (row === undefined) throw new VigoError('not_found', `run ${id} does not exist`);
      return detail(row);
    },
    latestFor(envoyId) {
      const row = statements.latest.get(envoyId);
      return row === undefined ? undefined : detail(row);
    },
  };
}
