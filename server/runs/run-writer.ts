/**
 * How a reported run is stored. A run with any change, failure, skip or block keeps one run_results row per
 * resource. A run in which every resource was already in its desired state (every outcome `none`) is a
 * heartbeat: the runs row alone, with its counts, times and the digest of the resource set it checked.
 * Such runs are most of a converged fleet's traffic, and their per-resource rows ("is up to date") say
 * nothing the digest and the counts do not.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../store/index.ts';

export type StoredOutcome = 'none' | 'created' | 'updated' | 'deleted' | 'skipped' | 'blocked' | 'failed';

export interface StoredResult {
  readonly resourceId: string;
  readonly resourceType: string;
  readonly configcrate: string;
  readonly outcome: StoredOutcome;
  readonly message: string;
  readonly durationMs: number;
}

export interface StoredRun {
  readonly runId: string;
  readonly envoyId: string;
  readonly policyVersion: number;
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  readonly dryRun: boolean;
  readonly traceId: string;
  readonly results: readonly StoredResult[];
}

/** Domain prefix of the resource-set digest; a new encoding gets a new prefix. */
const digestDomain = 'vigo/run-resources/v1\n';

/**
 * SHA-256 of the set of resources a run checked: one line per resource, `["configcrate","type","id"]` as
 * JSON plus a newline, sorted by their UTF-8 bytes, after the domain line. Outcomes, messages and order
 * are not part of it, so every run over the same resources has the same digest.
 */
export function resourceSetDigest(
  results: readonly Pick<StoredResult, 'configcrate' | 'resourceType' | 'resourceId'>[],
): Buffer {
  const lines = results
    .map((r) => Buffer.from(`${JSON.stringify([r.configcrate, r.resourceType, r.resourceId])}\n`))
    .sort((a, b) => Buffer.compare(a, b));
  const hash = createHash('sha256').update(digestDomain);
  for (const line of lines) hash.update(line);
  return hash.digest();
}

/** A heartbeat: at least one resource, and every one already as desired. */
export function isHeartbeat(run: Pick<StoredRun, 'results'>): boolean {
  return run.results.length > 0 && run.results.every((r) => r.outcome === 'none');
}

export function runStatus(run: Pick<StoredRun, 'results'>): 'converged' | 'changed' | 'failed' | 'partial' {
  const failed = run.results.filter((r) => r.outcome === 'failed' || r.outcome === 'blocked').length;
  if (failed > 0) return failed === run.results.length ? 'failed' : 'partial';
  return run.results.some((r) => r.outcome !== 'none' && r.outcome !== 'skipped') ? 'changed' : 'converged';
}

/** Stores one run inside the caller's transaction; false when its run id was stored before. */
export type RunWriter = (run: StoredRun, receivedAtMs: number) => boolean;

export function prepareRunWriter(db: Db): RunWriter {
  const insertRun = db.prepare(
    `INSERT OR IGNORE INTO runs (id, envoy_id, policy_version, started_at, finished_at, received_at, dry_run, status,
                                 resources_total, resources_changed, resources_failed, trace_id, heartbeat,
                                 resources_digest)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertResult = db.prepare(
    `INSERT INTO run_results (run_id, seq, resource_id, resource_type, configcrate, outcome, message, duration_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return (run, receivedAtMs) => {
    const changed = run.results.filter((r) => ['created', 'updated', 'deleted'].includes(r.outcome)).length;
    const failed = run.results.filter((r) => r.outcome === 'failed' || r.outcome === 'blocked').length;
    const heartbeat = isHeartbeat(run);
    const inserted = insertRun.run(
      run.runId,
      run.envoyId,
      run.policyVersion,
      run.startedAtMs,
      run.finishedAtMs,
      receivedAtMs,
      run.dryRun ? 1 : 0,
      runStatus(run),
      run.results.length,
      changed,
      failed,
      run.traceId === '' ? null : run.traceId,
      heartbeat ? 1 : 0,
      resourceSetDigest(run.results),
    );
    if (inserted.changes === 0) return false;
    if (heartbeat) return true;
    run.results.forEach((r, seq) =>
      insertResult.run(
        run.runId,
        seq,
        r.resourceId,
        r.resourceType,
        r.configcrate === '' ? null : r.configcrate,
        r.outcome,
        r.message === '' ? null : r.message,
        r.durationMs,
      ),
    );
    return true;
  };
}
